"""Where a SaaS provider's API key lives, per cloud, and the one workload identity that may read it.

- `AwsApiKeyStore`: a customer-managed KMS key (rotation on), a Secrets Manager secret encrypted with
  it, the key's value as a secret version, the workload IAM role (assumable by the allowed principals
  only), and a resource policy that lets that role read the secret and denies reading to everyone else.
- `AzureApiKeyStore`: a user-assigned managed identity, a Key Vault (RBAC authorization, purge
  protection, soft delete, public network access disabled, network ACLs deny), a private endpoint
  with its DNS zone group, the secret, "Key Vault Secrets User" on that secret for the identity only,
  and audit logs to Log Analytics. `AzureVaultDnsZone` is the `privatelink.vaultcore.azure.net` zone
  and its VNet link, created once per network and shared by every vault.
- `GcpApiKeyStore`: a workload service account, a KMS key ring and crypto key (rotation on), the
  Secret Manager service agent allowed to use that key, a secret with user-managed replication in the
  region encrypted with it, the value as a secret version, and the accessor role bound on the secret
  to the workload service account only.

The value always arrives as a secret Output and is only ever passed to the secret-version input.
With `external_rotation` the stored value is left alone by later runs (`ignore_changes`), so a key
rotated outside Pulumi causes no diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import iam as aws_iam
from pulumi_aws import secretsmanager as aws_secretsmanager
from pulumi_aws.get_caller_identity import get_caller_identity_output
from pulumi_aws.get_partition import get_partition_output
from pulumi_azure_native import authorization as azure_authorization
from pulumi_azure_native import keyvault as azure_keyvault
from pulumi_azure_native import managedidentity as azure_managedidentity
from pulumi_azure_native import monitor as azure_monitor
from pulumi_azure_native import network as azure_network
from pulumi_azure_native import privatedns as azure_privatedns
from pulumi_gcp import kms as gcp_kms
from pulumi_gcp import projects as gcp_projects
from pulumi_gcp import secretmanager as gcp_secretmanager
from pulumi_gcp import serviceaccount as gcp_serviceaccount

from triplane.components.keys import aws_key, aws_key_policy, gcp_key
from triplane.components.naming import physical_name
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
VAULT_DNS_ZONE = "privatelink.vaultcore.azure.net"


# --------------------------------------------------------------------------------------------- AWS


@dataclass
class AwsApiKeyStoreArgs:
    region: str
    api_key: pulumi.Input[str]
    """The key's value: a secret Output (`stacks.secrets.require_secret`)."""
    allowed_principals: Sequence[str]
    """IAM role/user ARNs that may assume the workload role."""
    external_rotation: bool = False
    kms_key: pulumi.Input[str] | None = None
    """An existing KMS key ARN; its policy must let the workload role decrypt via Secrets Manager."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    description: str = ""


class AwsApiKeyStore(pulumi.ComponentResource):
    secret_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AwsApiKeyStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:AwsApiKeyStore", name, None, tagged(opts, args.tags))
        if not args.allowed_principals:
            raise ValueError(f"{name}: allowed_principals is empty; name who may assume the workload role")
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = get_caller_identity_output(opts=invoke)
        partition = get_partition_output(opts=invoke).partition
        # The provider reads a secret version back after writing it, so whoever runs `pulumi up`
        # must stay able to read; an assumed-role session is matched by its role's ARN.
        deployer = aws_iam.get_session_context_output(arn=identity.arn, opts=invoke).issuer_arn

        role = aws_iam.Role(
            f"{name}-workload",
            name=physical_name(name, "workload", kind="iam_role"),
            description=f"Reads the API key of {name}; assumed by the use case's workload",
            assume_role_policy=json.dumps(_trust_policy(args.allowed_principals)),
            max_session_duration=3600,
            opts=child,
        )
        if args.kms_key is not None:
            key_arn: pulumi.Output[str] = pulumi.Output.from_input(args.kms_key)
        else:
            key = aws_key(
                f"{name}-key",
                parent=self,
                description=f"Encrypts the API key of {name} in Secrets Manager",
                policy=pulumi.Output.all(partition, identity.account_id, role.arn).apply(
                    lambda v: secret_key_policy(v[0], v[1], args.region, v[2])
                ),
                protect=args.protect_data,
                alias=physical_name(name, "api-key", kind="kms_alias"),
            )
            key_arn = key.arn
        secret = aws_secretsmanager.Secret(
            f"{name}-api-key",
            name=f"{physical_name(name, 'api-key')}",
            description=args.description or f"Provider API key of {name}",
            kms_key_id=key_arn,
            recovery_window_in_days=30,
            opts=stateful_opts(self, args.protect_data),
        )
        aws_secretsmanager.SecretVersion(
            f"{name}-api-key-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(args.api_key),
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["secret_string"] if args.external_rotation else None,
                additional_secret_outputs=["secret_string"],
            ),
        )
        aws_secretsmanager.SecretPolicy(
            f"{name}-api-key-policy",
            secret_arn=secret.arn,
            block_public_policy=True,
            policy=pulumi.Output.all(role.arn, deployer).apply(
                lambda v: json.dumps(secret_resource_policy(v[0], v[1]))
            ),
            opts=child,
        )
        aws_iam.RolePolicy(
            f"{name}-workload-read",
            role=role.id,
            policy=pulumi.Output.all(secret.arn, key_arn).apply(
                lambda v: json.dumps(secret_reader_policy(v[0], v[1], args.region))
            ),
            opts=child,
        )
        self.secret_arn = secret.arn
        self.role_arn = role.arn
        self.kms_key_arn = key_arn
        self.register_outputs({"secret_arn": secret.arn, "role_arn": role.arn, "kms_key_arn": key_arn})


def _trust_policy(principals: Sequence[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowedPrincipalsAssume",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(principals)},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def secret_key_policy(partition: str, account: str, region: str, role_arn: str) -> str:
    """Account administrators manage the key; the workload role may decrypt through Secrets Manager only."""
    workload_decrypts = {
        "Sid": "WorkloadDecryptViaSecretsManager",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
    }
    return aws_key_policy(account, [workload_decrypts], partition=partition)


def secret_resource_policy(role_arn: str, deployer_arn: str) -> dict[str, Any]:
    """The secret's own policy: `role_arn` reads it, and nobody but it and the deployer can."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WorkloadReads",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": "*",
            },
            {
                "Sid": "NobodyElseReads",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": sorted({role_arn, deployer_arn})}},
            },
        ],
    }


def secret_reader_policy(secret_arn: str, key_arn: str, region: str) -> dict[str, Any]:
    """The reader's identity policy: this one secret, decrypted through Secrets Manager only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadApiKey",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": secret_arn,
            },
            {
                "Sid": "DecryptApiKey",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            },
        ],
    }


# ------------------------------------------------------------------------------------------- Azure


@dataclass
class AzureVaultDnsZoneArgs:
    network: AzureNetworkRef
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureVaultDnsZone(pulumi.ComponentResource):
    """`privatelink.vaultcore.azure.net`, linked to the VNet: one per network, shared by every vault."""

    zone_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureVaultDnsZoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:AzureVaultDnsZone", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        zone = azure_privatedns.PrivateZone(
            f"{name}-zone",
            resource_group_name=args.network.resource_group_name,
            private_zone_name=VAULT_DNS_ZONE,
            location="Global",
            opts=child,
        )
        azure_privatedns.VirtualNetworkLink(
            f"{name}-link",
            resource_group_name=args.network.resource_group_name,
            private_zone_name=zone.name,
            virtual_network_link_name=physical_name(name, "vnet-link"),
            virtual_network=azure_privatedns.SubResourceArgs(id=args.network.vnet_id),
            registration_enabled=False,
            location="Global",
            opts=child,
        )
        self.zone_id = zone.id
        self.register_outputs({"zone_id": zone.id})


@dataclass
class AzureApiKeyStoreArgs:
    network: AzureNetworkRef
    api_key: pulumi.Input[str]
    vault_name: str
    """3-24 characters, globally unique (`physical_name(..., kind="key_vault")`)."""
    private_dns_zone_id: pulumi.Input[str]
    """The shared `privatelink.vaultcore.azure.net` zone (`AzureVaultDnsZone`)."""
    allowed_principals: Sequence[str] = ()
    """Entra ID object IDs allowed to attach the workload identity to their compute."""
    external_rotation: bool = False
    log_workspace_id: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


class AzureApiKeyStore(pulumi.ComponentResource):
    secret_uri: pulumi.Output[str]
    vault_id: pulumi.Output[str]
    identity_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    client_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureApiKeyStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:AzureApiKeyStore", name, None, tagged(opts, args.tags))
        if not 3 <= len(args.vault_name) <= 24:
            raise ValueError(f"{name}: Key Vault name {args.vault_name!r} must have 3 to 24 characters")
        child = pulumi.ResourceOptions(parent=self)
        network = args.network
        client = azure_authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))

        identity = azure_managedidentity.UserAssignedIdentity(
            f"{name}-workload",
            resource_group_name=network.resource_group_name,
            location=network.location,
            resource_name_=physical_name(name, "workload"),
            opts=child,
        )
        vault = self._vault(name, args, client.tenant_id)
        # Written through the management plane, which the disabled public data plane does not block.
        secret = azure_keyvault.Secret(
            f"{name}-api-key",
            resource_group_name=network.resource_group_name,
            vault_name=vault.name,
            secret_name="api-key",
            properties=azure_keyvault.SecretPropertiesArgs(
                value=pulumi.Output.secret(args.api_key),
                content_type="text/plain",
            ),
            # A deleted secret stays soft-deleted under purge protection and blocks its name for 90 days.
            opts=stateful_opts(
                self, args.protect_data, ignore_changes=["properties.value"] if args.external_rotation else None
            ),
        )
        azure_authorization.RoleAssignment(
            f"{name}-secrets-user",
            scope=secret.id,
            role_definition_id=client.subscription_id.apply(lambda s: _role_definition(s, KEY_VAULT_SECRETS_USER)),
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            description=f"The workload of {name} reads its API key",
            opts=child,
        )
        for index, principal in enumerate(args.allowed_principals):
            azure_authorization.RoleAssignment(
                f"{name}-identity-operator-{index}",
                scope=identity.id,
                role_definition_id=client.subscription_id.apply(
                    lambda s: _role_definition(s, MANAGED_IDENTITY_OPERATOR)
                ),
                principal_id=principal,
                description=f"May attach the workload identity of {name} to its compute",
                opts=child,
            )
        self._private_access(name, args, vault)
        self.secret_uri = secret.properties.secret_uri
        self.vault_id = vault.id
        self.identity_id = identity.id
        self.principal_id = identity.principal_id
        self.client_id = identity.client_id
        self.register_outputs(
            {
                "secret_uri": self.secret_uri,
                "vault_id": vault.id,
                "identity_id": identity.id,
                "client_id": identity.client_id,
            }
        )

    def _vault(self, name: str, args: AzureApiKeyStoreArgs, tenant_id: pulumi.Output[str]) -> azure_keyvault.Vault:
        """The key's vault: RBAC only, purge protection, no public network access, no other use."""
        network = args.network
        vault = azure_keyvault.Vault(
            f"{name}-vault",
            resource_group_name=network.resource_group_name,
            location=network.location,
            vault_name=args.vault_name,
            properties=azure_keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=azure_keyvault.SkuArgs(
                    family=azure_keyvault.SkuFamily.A, name=azure_keyvault.SkuName.STANDARD
                ),
                enable_rbac_authorization=True,
                enable_purge_protection=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=90,
                public_network_access="Disabled",
                network_acls=azure_keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="None"),
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            opts=stateful_opts(self, args.protect_data),
        )
        return vault

    def _private_access(self, name: str, args: AzureApiKeyStoreArgs, vault: azure_keyvault.Vault) -> None:
        """The vault's private endpoint and DNS record, and its audit logs when a workspace is given."""
        network = args.network
        child = pulumi.ResourceOptions(parent=self)
        endpoint = azure_network.PrivateEndpoint(
            f"{name}-vault-pe",
            resource_group_name=network.resource_group_name,
            location=network.location,
            private_endpoint_name=physical_name(args.vault_name, "pe"),
            # A reference only: the input type would add subnet defaults that do not belong here.
            subnet={"id": network.endpoint_subnet_id},
            private_link_service_connections=[
                azure_network.PrivateLinkServiceConnectionArgs(
                    name="vault", private_link_service_id=vault.id, group_ids=["vault"]
                )
            ],
            opts=child,
        )
        azure_network.PrivateDnsZoneGroup(
            f"{name}-vault-dns",
            resource_group_name=network.resource_group_name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="vault",
            private_dns_zone_configs=[
                azure_network.PrivateDnsZoneConfigArgs(
                    name="vaultcore", private_dns_zone_id=args.private_dns_zone_id
                )
            ],
            opts=child,
        )
        if args.log_workspace_id is not None:
            azure_monitor.DiagnosticSetting(
                f"{name}-vault-diagnostics",
                name="audit-to-log-analytics",
                resource_uri=vault.id,
                workspace_id=args.log_workspace_id,
                log_analytics_destination_type="Dedicated",
                logs=[azure_monitor.DiagnosticsLogSettingsArgs(category_group="audit", enabled=True)],
                metrics=[azure_monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)],
                opts=child,
            )


def _role_definition(subscription: str, role: str) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}"


# -------------------------------------------------------------------------------------- Google Cloud


@dataclass
class GcpApiKeyStoreArgs:
    project: str
    region: str
    api_key: pulumi.Input[str]
    account_id: str
    """The workload service account's ID (6-30 characters)."""
    allowed_principals: Sequence[str] = ()
    """IAM members that may act as the workload service account."""
    external_rotation: bool = False
    kms_key: pulumi.Input[str] | None = None
    """An existing crypto key in `region` (`projects/.../cryptoKeys/...`); otherwise one is created."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


class GcpApiKeyStore(pulumi.ComponentResource):
    secret_name: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    kms_key_id: pulumi.Output[str]

    def __init__(self, name: str, args: GcpApiKeyStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:GcpApiKeyStore", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)

        account = gcp_serviceaccount.Account(
            f"{name}-workload",
            project=args.project,
            account_id=args.account_id,
            display_name=f"Workload of {name}"[:100],
            description="Reads this use case's provider API key and nothing else",
            opts=child,
        )
        for role, members in _impersonation(args.allowed_principals).items():
            gcp_serviceaccount.IAMBinding(
                f"{name}-workload-{role.rsplit('.', 1)[-1].lower()}",
                service_account_id=account.name,
                role=role,
                members=members,
                opts=child,
            )
        if args.kms_key is not None:
            key_id: pulumi.Output[str] = pulumi.Output.from_input(args.kms_key)
        else:
            key = gcp_key(
                name,
                parent=self,
                project=args.project,
                location=args.region,
                ring_name=physical_name(name, "saas", kind="gcp"),
                key_name="api-key",
                protect=args.protect_data,
            )
            key_id = key.id
        agent = gcp_projects.ServiceIdentity(
            f"{name}-secretmanager-agent", project=args.project, service="secretmanager.googleapis.com", opts=child
        )
        key_user = gcp_kms.CryptoKeyIAMMember(
            f"{name}-key-secretmanager",
            crypto_key_id=key_id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=agent.member,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[agent]),
        )
        secret = gcp_secretmanager.Secret(
            f"{name}-api-key",
            project=args.project,
            secret_id=physical_name(name, "api-key", kind="gcp"),
            replication=gcp_secretmanager.SecretReplicationArgs(
                user_managed=gcp_secretmanager.SecretReplicationUserManagedArgs(
                    replicas=[
                        gcp_secretmanager.SecretReplicationUserManagedReplicaArgs(
                            location=args.region,
                            customer_managed_encryption=(
                                gcp_secretmanager.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                                    kms_key_name=key_id
                                )
                            ),
                        )
                    ]
                )
            ),
            opts=stateful_opts(self, args.protect_data, depends_on=[key_user]),
        )
        gcp_secretmanager.SecretVersion(
            f"{name}-api-key-value",
            secret=secret.id,
            secret_data=pulumi.Output.secret(args.api_key),
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["secret_data"] if args.external_rotation else None,
                additional_secret_outputs=["secret_data"],
            ),
        )
        gcp_secretmanager.SecretIamBinding(
            f"{name}-api-key-accessor",
            project=args.project,
            secret_id=secret.secret_id,
            role="roles/secretmanager.secretAccessor",
            members=[account.member],
            opts=child,
        )
        self.secret_name = secret.id
        self.service_account_email = account.email
        self.kms_key_id = key_id
        self.register_outputs({"secret_name": secret.id, "service_account_email": account.email, "kms_key_id": key_id})


_FEDERATED = re.compile(r"^(principal|principalSet):|\.svc\.id\.goog\[")


def _impersonation(principals: Sequence[str]) -> dict[str, list[str]]:
    """GKE and federated identities act as the account through Workload Identity; others by impersonation."""
    roles: dict[str, list[str]] = {}
    for member in sorted(set(principals)):
        role = "roles/iam.workloadIdentityUser" if _FEDERATED.search(member) else "roles/iam.serviceAccountTokenCreator"
        roles.setdefault(role, []).append(member)
    return roles
