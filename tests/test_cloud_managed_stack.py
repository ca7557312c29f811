"""The cloud-managed builder end to end: a throwaway prod environment with use cases on all three clouds."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tests.cloud_managed_support import RealisticMocks, statements
from triplane.plan import Plan, run_program
from triplane.stackfile import load_stack
from triplane.stacks import program
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID
from triplane.stacks.patterns import PATTERNS

ROLE = f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/chat-app"
AZURE_PRINCIPAL = "44444444-4444-4444-8444-444444444444"
GCP_MEMBER = "serviceAccount:search-api@acme-ml-prod.iam.gserviceaccount.com"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
TITAN = "anthropic.claude-3-haiku-20240307-v1:0"


def environment(tier: str = "prod", azure_version: str | None = "2024-08-06") -> dict[str, Any]:
    azure_model: dict[str, Any] = {"id": "gpt-4o", "sku": "GlobalStandard", "capacity": 20}
    if azure_version:
        azure_model["version"] = azure_version
    return {
        "owner": "ml-platform",
        "cost_center": "cc-1234",
        "tier": tier,
        "clouds": {
            "aws": {
                "region": "eu-central-1",
                "network": {"new": {"cidr": "10.20.0.0/16", "zones": ["eu-central-1a", "eu-central-1b"]}},
            },
            "azure": {
                "location": "westeurope", "resource_group": "rg-ml", "network": {"new": {"cidr": "10.30.0.0/16"}},
            },
            "gcp": {
                "project": "acme-ml-prod", "region": "europe-west4", "network": {"new": {"cidr": "10.40.0.0/16"}},
            },
        },
        "use_cases": [
            {
                "name": "chat", "pattern": "cloud-managed", "cloud": "aws", "data_classification": "confidential",
                "models": [{"id": HAIKU}], "allowed_principals": [ROLE],
                "bedrock": {
                    "extra_endpoints": ["bedrock"], "guardrail": {}, "logging": {"destinations": ["cloudwatch"]},
                },
            },
            {
                "name": "summaries", "pattern": "cloud-managed", "cloud": "aws", "data_classification": "internal",
                "models": [{"id": TITAN}],
                "bedrock": {"extra_endpoints": ["bedrock-agent", "bedrock-agent-runtime"],
                            "logging": {"destinations": ["s3"], "retention_days": 730}},
            },
            {
                "name": "hr", "pattern": "cloud-managed", "cloud": "azure", "data_classification": "confidential",
                "models": [azure_model], "allowed_principals": [AZURE_PRINCIPAL],
                "azure_openai": {"content_filter": {}},
            },
            {
                "name": "search", "pattern": "cloud-managed", "cloud": "gcp", "data_classification": "internal",
                "models": [{"id": "gemini-3.5-flash"}], "allowed_principals": [GCP_MEMBER],
            },
        ],
    }  # fmt: skip


@functools.cache
def stack_plan() -> Plan:
    return run_program(
        program.main,
        stack="prod",
        config={"triplane:environment": environment()},
        mocks=RealisticMocks(stack="prod", region="eu-central-1"),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return stack_plan()


def test_every_use_case_gets_its_private_endpoint(plan: Plan) -> None:
    endpoints = plan.outputs["endpoints"]
    assert endpoints["chat"]["url"] == "https://bedrock-runtime.eu-central-1.amazonaws.com"
    assert endpoints["summaries"]["url"] == endpoints["chat"]["url"]
    assert endpoints["hr"]["url"] == "https://prod-hr-openai.openai.azure.com/"
    assert endpoints["search"]["url"] == "https://europe-west4-aiplatform.googleapis.com"
    assert {name: e["auth"] for name, e in endpoints.items()} == {
        "chat": "aws-iam", "summaries": "aws-iam", "hr": "entra-id", "search": "google-iam"
    }  # fmt: skip
    assert {e["pattern"] for e in endpoints.values()} == {"cloud-managed"}
    # The managed policy the application's role gets attached.
    assert endpoints["chat"]["identity"] == f"arn:aws:iam::{AWS_ACCOUNT_ID}:policy/prod-chat-bedrock-invoke"
    assert endpoints["summaries"]["identity"] == f"arn:aws:iam::{AWS_ACCOUNT_ID}:policy/prod-summaries-bedrock-invoke"
    assert endpoints["chat"]["logs"] == endpoints["summaries"]["logs"]
    assert endpoints["search"]["identity"] == "prod-search-vertex@acme-ml-prod.iam.gserviceaccount.com"


def test_components_sit_under_their_use_cases_with_the_stack_providers(plan: Plan) -> None:
    for type_, name in (
        ("triplane:cloudmanaged:BedrockEndpoint", "prod-chat"),
        ("triplane:cloudmanaged:BedrockEndpoint", "prod-summaries"),
        ("triplane:cloudmanaged:AzureOpenAIEndpoint", "prod-hr"),
        ("triplane:cloudmanaged:VertexEndpoint", "prod-search"),
    ):
        assert plan.one(type_, name)
    endpoint = plan.one("aws:ec2/vpcEndpoint:VpcEndpoint", "-bedrock-runtime")
    assert endpoint.provider is not None and "::prod-aws::" in endpoint.provider
    account = plan.one("azure-native:cognitiveservices:Account")
    assert account.provider is not None and "::prod-azure::" in account.provider


def test_one_set_of_bedrock_endpoints_serves_both_use_cases(plan: Plan) -> None:
    endpoints = {r.inputs["serviceName"]: r for r in plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                 if "bedrock" in r.inputs["serviceName"]}  # fmt: skip
    assert sorted(endpoints) == [
        f"com.amazonaws.eu-central-1.{s}"
        for s in ("bedrock", "bedrock-agent", "bedrock-agent-runtime", "bedrock-runtime")
    ]
    runtime = {
        s["Sid"]: s for s in statements(endpoints["com.amazonaws.eu-central-1.bedrock-runtime"].inputs["policy"])
    }
    assert runtime["UseCase0Invoke"]["Principal"] == {"AWS": [ROLE]}
    assert runtime["UseCase0Invoke"]["Resource"] == [f"arn:aws:bedrock:eu-central-1::foundation-model/{HAIKU}"]
    assert runtime["UseCase1Invoke"]["Principal"] == {"AWS": f"arn:aws:iam::{AWS_ACCOUNT_ID}:root"}
    assert runtime["UseCase1Invoke"]["Resource"] == [f"arn:aws:bedrock:eu-central-1::foundation-model/{TITAN}"]
    assert "UseCase0ApplyGuardrail" in runtime and "UseCase1ApplyGuardrail" not in runtime
    subnets = endpoints["com.amazonaws.eu-central-1.bedrock-runtime"].inputs["subnetIds"]
    assert len(subnets) == 2


def test_invocation_logging_is_one_regional_setting_with_the_union(plan: Plan) -> None:
    (config,) = plan.by_type("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration")
    assert {"cloudwatchConfig", "s3Config"} <= set(config.inputs["loggingConfig"])
    assert (
        plan.one("aws:cloudwatch/logGroup:LogGroup", "prod-bedrock-logging-log-group").inputs["retentionInDays"] == 730
    )
    assert len(plan.by_type("triplane:cloudmanaged:BedrockInvocationLogging")) == 1


def test_principals_are_granted(plan: Plan) -> None:
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-grant-role-chat-app")
    assert attachment.inputs["role"] == "chat-app"
    assert (
        plan.one("azure-native:authorization:RoleAssignment", f"-grant-{AZURE_PRINCIPAL}").inputs["principalId"]
        == AZURE_PRINCIPAL
    )
    assert plan.one("gcp:serviceaccount/iAMMember:IAMMember").inputs["member"] == GCP_MEMBER


def test_prod_pins_azure_deployments(plan: Plan) -> None:
    deployment = plan.one("azure-native:cognitiveservices:Deployment")
    assert deployment.inputs["properties"]["versionUpgradeOption"] == "NoAutoUpgrade"
    assert deployment.inputs["properties"]["model"]["version"] == "2024-08-06"


def test_prod_protects_stateful_resources(plan: Plan) -> None:
    for type_ in (
        "aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup", "aws:s3/bucket:Bucket", "azure-native:keyvault:Vault",
        "azure-native:operationalinsights:Workspace", "gcp:kms/cryptoKey:CryptoKey",
        "gcp:logging/projectBucketConfig:ProjectBucketConfig",
    ):  # fmt: skip
        mine = [
            r
            for r in plan.by_type(type_)
            if "bedrock" in r.name or r.name.startswith(("prod-chat", "prod-hr", "prod-search"))
        ]
        assert mine, type_
        assert all(r.protect and r.retain_on_delete for r in mine), type_


def test_no_public_access_anywhere(plan: Plan) -> None:
    account = plan.one("azure-native:cognitiveservices:Account").inputs["properties"]
    assert (account["publicNetworkAccess"], account["disableLocalAuth"]) == ("Disabled", True)
    rules = [r for r in plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.name.startswith("prod-bedrock-privatelink-")]  # fmt: skip
    assert sorted(r.inputs["cidrIpv4"] for r in rules) == ["10.20.0.0/20", "10.20.16.0/20"]
    assert all(r.inputs["fromPort"] == r.inputs["toPort"] == 443 for r in rules)
    assert plan.one("gcp:dns/managedZone:ManagedZone", "prod-googleapis-zone").inputs["visibility"] == "private"


def test_prod_without_a_pinned_version_stops_with_the_field_path() -> None:
    with pytest.raises(Exception, match=r"use_cases\[2\]\.models\[0\]\.version: prod pins Azure OpenAI deployments"):
        run_program(program.main, stack="prod", config={"triplane:environment": environment(azure_version=None)})


@functools.cache
def shipped_prod_plan() -> Plan:
    """The shipped prod stack; use cases of patterns whose builder is not registered yet are left out."""
    stack = load_stack("prod")
    config = dict(stack.config)
    environment = dict(config["triplane:environment"])
    environment["use_cases"] = [u for u in environment["use_cases"] if u["pattern"] in PATTERNS]
    if not any(u["pattern"] == "self-managed" for u in environment["use_cases"]):
        environment["kubernetes"] = []
    config["triplane:environment"] = environment
    return run_program(program.main, stack="prod", config=config, secret_keys=stack.secret_keys)


def test_shipped_prod_stack_shows_all_three_endpoints() -> None:
    plan = shipped_prod_plan()
    endpoints = plan.outputs["endpoints"]
    assert endpoints["claims-triage"]["url"] == "https://bedrock-runtime.us-east-1.amazonaws.com"
    assert endpoints["hr-assistant"]["url"].endswith(".openai.azure.com/")
    assert endpoints["product-search"]["url"] == "https://europe-west4-aiplatform.googleapis.com"
    for name, type_ in (
        ("prod-claims-triage", "triplane:cloudmanaged:BedrockEndpoint"),
        ("prod-hr-assistant", "triplane:cloudmanaged:AzureOpenAIEndpoint"),
        ("prod-product-search", "triplane:cloudmanaged:VertexEndpoint"),
    ):
        component = plan.one(type_, name)
        assert component.parent is not None and component.parent.endswith("::triplane-prod")
    deployment = plan.one("azure-native:cognitiveservices:Deployment")
    assert deployment.inputs["properties"]["versionUpgradeOption"] == "NoAutoUpgrade"


def _existing_gcp(vertex: dict[str, Any] | None) -> dict[str, Any]:
    search: dict[str, Any] = {
        "name": "search", "pattern": "cloud-managed", "cloud": "gcp", "data_classification": "internal",
        "models": [{"id": "gemini-3.5-flash"}],
    }  # fmt: skip
    if vertex is not None:
        search["vertex"] = vertex
    return {
        "owner": "ml-platform",
        "cost_center": "cc-1234",
        "clouds": {
            "gcp": {
                "project": "acme-ml-prod",
                "region": "europe-west4",
                "network": {
                    "existing": {
                        "network": "projects/acme-ml-prod/global/networks/shared",
                        "subnetwork": "projects/acme-ml-prod/regions/europe-west4/subnetworks/apps",
                        "application_cidrs": ["10.60.0.0/20"],
                    }
                },
            }
        },
        "use_cases": [search],
    }


def test_existing_gcp_network_needs_a_psc_address() -> None:
    with pytest.raises(Exception, match=r"use_cases\[0\]\.vertex\.psc_address: the GCP network already exists"):
        run_program(program.main, stack="dev", config={"triplane:environment": _existing_gcp(None)})


def test_existing_gcp_network_uses_the_given_address() -> None:
    config = {"triplane:environment": _existing_gcp({"psc_address": "10.60.255.2"})}
    plan = run_program(program.main, stack="dev", config=config)
    address = plan.one("gcp:compute/globalAddress:GlobalAddress").inputs
    assert (address["address"], address["network"]) == ("10.60.255.2", "projects/acme-ml-prod/global/networks/shared")
    assert plan.outputs["endpoints"]["search"]["url"] == "https://europe-west4-aiplatform.googleapis.com"
    assert not plan.one("gcp:kms/cryptoKey:CryptoKey").protect  # dev tier: stateful resources stay deletable
