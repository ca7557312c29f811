"""Customer-managed keys, made one way per cloud.

Every key Triplane creates is protected with the data it encrypts (`components.stateful`), so
`protect_data` keeps a key from being deleted while anything it encrypted may still exist. Keys are
made inside a component and take its tags or labels from its tag transformation (`components.tagging`).

- AWS: a KMS key with yearly automatic rotation and a 30-day deletion window, whose policy starts
  with the one statement that lets the account's IAM administer it (a key policy without it locks
  the account out of the key); optionally an alias.
- Azure: a Key Vault RSA key; with `rotate`, a rotation policy (new version after a year, expiry
  after two, a notice 30 days before).
- Google Cloud: a key ring and an `ENCRYPT_DECRYPT` crypto key rotated every 90 days.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_aws import kms as aws_kms
from pulumi_azure_native import keyvault as azure_keyvault
from pulumi_gcp import kms as gcp_kms

from triplane.components.stateful import stateful_opts

AWS_DELETION_WINDOW_DAYS = 30
GCP_ROTATION_PERIOD = "7776000s"
"""90 days."""

# --------------------------------------------------------------------------------------------- AWS


def account_administration(account: str, partition: str = "aws") -> dict[str, Any]:
    """The key-policy statement that hands the key's administration to the account's IAM policies."""
    return {
        "Sid": "AccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def aws_key_policy(account: str, statements: Sequence[Mapping[str, Any]], *, partition: str = "aws") -> str:
    """A key policy: account administration first, then `statements` (who may use the key, and how)."""
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [account_administration(account, partition), *statements]}
    )


def log_key_policy(
    account: str, region: str, log_group_names: Sequence[str], *, logs_sid: str, partition: str = "aws"
) -> str:
    """The policy of a key for CloudWatch Logs log groups: the service may use it for the named groups only."""
    arns = [f"arn:{partition}:logs:{region}:{account}:log-group:{name}" for name in log_group_names]
    logs_use = {
        "Sid": logs_sid,
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        # Only the data-key calls carry an encryption context, so only they can be tied to these log
        # groups; the context key is a string, compared as one.
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:aws:logs:arn": arns[0] if len(arns) == 1 else arns}},
    }
    return aws_key_policy(account, [logs_use], partition=partition)


def aws_key(
    name: str,
    *,
    parent: pulumi.Resource,
    description: str,
    policy: pulumi.Input[str],
    protect: bool,
    alias: str | None = None,
) -> aws_kms.Key:
    """A KMS key named `name` under `parent`; with `alias`, also `alias/<alias>` (resource `<name>-alias`)."""
    key = aws_kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=AWS_DELETION_WINDOW_DAYS,
        policy=policy,
        opts=stateful_opts(parent, protect),
    )
    if alias is not None:
        aws_kms.Alias(
            f"{name}-alias",
            name=f"alias/{alias}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return key


# ------------------------------------------------------------------------------------------- Azure

AZURE_ROTATION_POLICY: dict[str, Any] = {
    "attributes": {"expiry_time": "P2Y"},
    "lifetime_actions": [
        {
            "action": {"type": azure_keyvault.KeyRotationPolicyActionType.ROTATE},
            "trigger": {"time_after_create": "P1Y"},
        },
        {
            "action": {"type": azure_keyvault.KeyRotationPolicyActionType.NOTIFY},
            "trigger": {"time_before_expiry": "P30D"},
        },
    ],
}


def azure_key(
    name: str,
    *,
    parent: pulumi.Resource,
    resource_group_name: pulumi.Input[str],
    vault_name: pulumi.Input[str],
    key_name: str,
    protect: bool,
    key_size: int = 3072,
    key_ops: Sequence[str] | None = None,
    rotate: bool = True,
) -> azure_keyvault.Key:
    """An RSA key `key_name` in the vault, as resource `name` under `parent`.

    Leave `rotate` on unless the key's user pins one key version (AKS KMS etcd encryption takes a
    versioned key ID, so a version that expires would lock the cluster out of its secrets).
    """
    properties: Any = {"kty": "RSA", "key_size": key_size}
    if key_ops is not None:
        properties["key_ops"] = list(key_ops)
    if rotate:
        properties["rotation_policy"] = AZURE_ROTATION_POLICY
    return azure_keyvault.Key(
        name,
        key_name=key_name,
        vault_name=vault_name,
        resource_group_name=resource_group_name,
        properties=properties,
        opts=stateful_opts(parent, protect),
    )


# -------------------------------------------------------------------------------------- Google Cloud


def gcp_key(
    name: str,
    *,
    parent: pulumi.Resource,
    project: pulumi.Input[str],
    location: pulumi.Input[str],
    ring_name: str,
    key_name: str,
    protect: bool,
) -> gcp_kms.CryptoKey:
    """Key ring `ring_name` (resource `<name>-keyring`) and crypto key `key_name` in it (`<name>-key`)."""
    data = stateful_opts(parent, protect)
    ring = gcp_kms.KeyRing(f"{name}-keyring", name=ring_name, project=project, location=location, opts=data)
    return gcp_kms.CryptoKey(
        f"{name}-key",
        name=key_name,
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=GCP_ROTATION_PERIOD,
        opts=data,
    )
