"""Every customer-managed key of the shipped stacks is made one way per cloud (`components.keys`)."""

from __future__ import annotations

import json

from triplane.components.keys import GCP_ROTATION_PERIOD, account_administration, aws_key_policy
from triplane.plan import Plan, PlannedResource


def of_type(plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type == type_]


def test_the_policy_helpers_put_the_one_administration_statement_first() -> None:
    policy = json.loads(aws_key_policy("111122223333", [{"Sid": "Use"}], partition="aws-us-gov"))
    assert policy["Statement"] == [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws-us-gov:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {"Sid": "Use"},
    ]


def test_every_aws_key_rotates_and_is_administered_by_one_statement(dev_plan: Plan, prod_plan: Plan) -> None:
    keys = of_type(dev_plan, "aws:kms/key:Key") + of_type(prod_plan, "aws:kms/key:Key")
    # the alert topics, the managed Prometheus workspaces and their chart functions' logs of dev and prod among them
    assert len(keys) == 18
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30, key.name
        statements = json.loads(key.inputs["policy"])["Statement"]
        account = statements[0]["Principal"]["AWS"].split(":")[4]
        assert statements[0] == account_administration(account), key.name
        assert [s for s in statements[1:] if s["Action"] == "kms:*"] == [], key.name
        assert key.protect == key.retain_on_delete == (key.name.startswith("prod-")), key.name


def test_aliases_name_their_key(dev_plan: Plan) -> None:
    aliases = {a.name: a.inputs for a in of_type(dev_plan, "aws:kms/alias:Alias")}
    assert aliases["dev-support-drafts-key-alias"] == {
        "name": "alias/dev-support-drafts-api-key",
        "targetKeyId": "dev-support-drafts-key-key-id",
    }


def test_every_gcp_key_is_an_encryption_key_rotated_every_90_days(prod_plan: Plan) -> None:
    rings = {r.name: r for r in of_type(prod_plan, "gcp:kms/keyRing:KeyRing")}
    keys = of_type(prod_plan, "gcp:kms/cryptoKey:CryptoKey")
    assert len(keys) == 4
    for key in keys:
        assert key.inputs["purpose"] == "ENCRYPT_DECRYPT" and key.inputs["rotationPeriod"] == GCP_ROTATION_PERIOD
        ring = rings[key.name.removesuffix("-key") + "-keyring"]
        assert key.inputs["keyRing"].endswith(f"/keyrings/{ring.inputs['name']}")
        assert key.protect and key.retain_on_delete and ring.protect and ring.retain_on_delete


def test_azure_keys_rotate_unless_aks_pins_the_version(prod_plan: Plan) -> None:
    keys = {k.name: k.inputs["properties"] for k in of_type(prod_plan, "azure-native:keyvault:Key")}
    openai, aks = keys["prod-hr-assistant-key"], keys["prod-gpu-azure-key"]
    assert (openai["kty"], openai["keySize"]) == ("RSA", 3072)
    assert openai["rotationPolicy"]["attributes"] == {"expiryTime": "P2Y"}
    assert [a["trigger"] for a in openai["rotationPolicy"]["lifetimeActions"]] == [
        {"timeAfterCreate": "P1Y"},
        {"timeBeforeExpiry": "P30D"},
    ]
    assert (aks["kty"], aks["keySize"]) == ("RSA", 2048) and "rotationPolicy" not in aks
