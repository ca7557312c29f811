"""Shared plans and helpers for the cloud-managed tests: each program runs once per test session."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import parliament
import pulumi

from triplane.components.cloud_managed import (
    AzureContentFilterArgs,
    AzureOpenAIDeployment,
    AzureOpenAIEndpoint,
    AzureOpenAIEndpointArgs,
    BedrockEndpoint,
    BedrockEndpointArgs,
    BedrockGuardrailArgs,
    DeniedTopic,
    GoogleApisPrivateAccess,
    GoogleApisPrivateAccessArgs,
    VertexEndpoint,
    VertexEndpointArgs,
    VertexProject,
    VertexProjectArgs,
    VpcServiceControlsArgs,
)
from triplane.components.gcp_apis import enable_apis_for_stack
from triplane.components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from triplane.mocks import CloudMocks
from triplane.plan import Plan, run_program
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID

APP_ROLE = f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/chat-app"
AZURE_PRINCIPAL = "33333333-3333-4333-8333-333333333333"
GCP_APP = "serviceAccount:app@acme-ml-prod.iam.gserviceaccount.com"
GCP_WORKLOAD_IDENTITY = "serviceAccount:acme-ml-prod.svc.id.goog[search/api]"
TAGS = {"owner": "ml-platform", "environment": "test", "use-case": "chat", "managed-by": "triplane"}

AWS_NETWORK = AwsNetworkRef(
    region="eu-west-1",
    vpc_id="vpc-0123456789abcdef0",
    app_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    application_cidrs=["10.20.0.0/20", "10.20.16.0/20"],
    zones=["eu-west-1a", "eu-west-1b"],
    cidr="10.20.0.0/16",
)
_SUBNETS = "/subscriptions/s/resourceGroups/rg-ml/providers/Microsoft.Network/virtualNetworks/vnet-ml/subnets"
AZURE_NETWORK = AzureNetworkRef(
    location="westeurope",
    resource_group_name="rg-ml",
    vnet_id="/subscriptions/s/resourceGroups/rg-ml/providers/Microsoft.Network/virtualNetworks/vnet-ml",
    vnet_name="vnet-ml",
    app_subnet_id=f"{_SUBNETS}/app",
    endpoint_subnet_id=f"{_SUBNETS}/endpoints",
    application_cidrs=["10.30.0.0/20"],
    cidr="10.30.0.0/16",
)
GCP_NETWORK = GcpNetworkRef(
    project="acme-ml-prod",
    region="europe-west4",
    network_id="projects/acme-ml-prod/global/networks/ml",
    subnetwork_id="projects/acme-ml-prod/regions/europe-west4/subnetworks/app",
    application_cidrs=["10.40.0.0/20"],
    cidr="10.40.0.0/16",
)

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET_PROFILE = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


class RealisticMocks(CloudMocks):
    """CloudMocks with ARNs in the services' real shape and region, for the IAM linter."""

    def __init__(self, stack: str = "test", region: str = AWS_NETWORK.region) -> None:
        super().__init__(stack=stack)
        self.region = region

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        region = self.region
        if args.typ == "aws:kms/key:Key":
            state["arn"] = f"arn:aws:kms:{region}:{AWS_ACCOUNT_ID}:key/{state['keyId']}"
        if args.typ == "aws:bedrock/guardrail:Guardrail":
            state["guardrailArn"] = f"arn:aws:bedrock:{region}:{AWS_ACCOUNT_ID}:guardrail/{state['guardrailId']}"
        if args.typ == "aws:iam/policy:Policy":
            state["arn"] = f"arn:aws:iam::{AWS_ACCOUNT_ID}:policy/{args.inputs.get('name', args.name)}"
        return resource_id, state


def _run(program: Callable[[], None]) -> Plan:
    return run_program(program, stack="test", mocks=RealisticMocks(stack="test"))


@functools.cache
def aws_plan() -> Plan:
    def program() -> None:
        chat = BedrockEndpoint(
            "test-chat",
            BedrockEndpointArgs(
                network=AWS_NETWORK,
                models=[HAIKU, SONNET_PROFILE],
                allowed_principals=[APP_ROLE],
                tags=TAGS,
                protect_data=True,
                guardrail=BedrockGuardrailArgs(
                    denied_topics=[DeniedTopic("Investment advice", "Recommendations on what to invest in.")],
                    blocked_words=["project-bluebird"],
                    pii_entities={"EMAIL": "ANONYMIZE", "US_SOCIAL_SECURITY_NUMBER": "BLOCK"},
                ),
                services=["bedrock-agent-runtime"],
                allowed_security_group_ids=["sg-0123456789abcdef0"],
            ),
        )
        chat.grant_invoke(APP_ROLE)
        pulumi.export("chat", {"url": chat.url, "logs": chat.logs, "guardrail": chat.guardrail_identifier})

    return _run(program)


@functools.cache
def azure_plan() -> Plan:
    def program() -> None:
        hr = AzureOpenAIEndpoint(
            "test-hr",
            AzureOpenAIEndpointArgs(
                network=AZURE_NETWORK,
                deployments=[
                    AzureOpenAIDeployment("gpt-4o", "gpt-4o", "2024-08-06", sku="GlobalStandard", capacity=50),
                    AzureOpenAIDeployment("mini", "gpt-4o-mini", "2024-07-18"),
                    AzureOpenAIDeployment("embed", "text-embedding-3-large", "1"),
                ],
                allowed_principals=[AZURE_PRINCIPAL],
                tags=TAGS,
                protect_data=True,
                content_filter=AzureContentFilterArgs(severity_threshold="Low"),
            ),
        )
        hr.grant_invoke(AZURE_PRINCIPAL)
        plain = AzureOpenAIEndpoint(
            "test-plain",
            AzureOpenAIEndpointArgs(
                network=AZURE_NETWORK,
                deployments=[AzureOpenAIDeployment("mini", "gpt-4o-mini")],
                customer_managed_key=False,
                version_upgrade_option="OnceNewDefaultVersionAvailable",
                log_workspace_id="/subscriptions/s/resourceGroups/rg-ml/providers/Microsoft.OperationalInsights/workspaces/central",
            ),
        )
        pulumi.export("hr", {"url": hr.url, "logs": hr.logs, "account": hr.account_id})
        pulumi.export("plain", {"url": plain.url, "logs": plain.logs})

    return _run(program)


@functools.cache
def gcp_plan() -> Plan:
    def program() -> None:
        enable_apis_for_stack(GCP_NETWORK.project, "test-gcp-apis")
        search = VertexEndpoint(
            "test-search",
            VertexEndpointArgs(network=GCP_NETWORK, models=["gemini-3.5-flash"], tags=TAGS, protect_data=True),
        )
        search.grant_invoke(GCP_APP)
        search.grant_invoke(GCP_WORKLOAD_IDENTITY)
        pulumi.export("search", {"url": search.url, "logs": search.logs, "identity": search.service_account_email})

    return _run(program)


@functools.cache
def gcp_perimeter_plan() -> Plan:
    """Shared project settings with a VPC-SC perimeter, and the restricted Google APIs bundle."""

    def program() -> None:
        enable_apis_for_stack(GCP_NETWORK.project, "test-gcp-apis")
        project = VertexProject(
            "test-vertex-project",
            VertexProjectArgs(
                project=GCP_NETWORK.project,
                vpc_service_controls=VpcServiceControlsArgs(organization_id="123456789012"),
            ),
        )
        access = GoogleApisPrivateAccess(
            "test-googleapis", GoogleApisPrivateAccessArgs(network=GCP_NETWORK, target="vpc-sc", tags=TAGS)
        )
        for name in ("test-search", "test-docs"):
            VertexEndpoint(
                name,
                VertexEndpointArgs(
                    network=GCP_NETWORK,
                    models=["gemini-3.1-flash-lite"],
                    kms_key="projects/acme-ml-prod/locations/europe-west4/keyRings/ml/cryptoKeys/vertex",
                    psc_target="vpc-sc",
                    private_access=access,
                    project_settings=project,
                ),
            )

    return _run(program)


# --- IAM documents --------------------------------------------------------------------------------

POLICY_PROPERTIES = {
    "aws:iam/policy:Policy": ("policy", "identity"),
    "aws:iam/rolePolicy:RolePolicy": ("policy", "identity"),
    "aws:iam/role:Role": ("assumeRolePolicy", "trust"),
    "aws:kms/key:Key": ("policy", "key"),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy", "resource"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("policy", "resource"),
}


def policy_documents(plan: Plan) -> list[tuple[str, str, str]]:
    """(resource name, kind, JSON text) for every IAM policy document the cloud-managed components emit."""
    found = []
    for resource in plan.resources:
        if resource.type in POLICY_PROPERTIES and "triplane:cloudmanaged:" in resource.urn:
            prop, kind = POLICY_PROPERTIES[resource.type]
            text = resource.inputs.get(prop)
            if text is not None:
                found.append((resource.name, kind, text))
    return found


def statements(text: str) -> list[dict[str, Any]]:
    document = json.loads(text)
    assert document["Version"] == "2012-10-17"
    result: list[dict[str, Any]] = document["Statement"]
    return result


def _bedrock_model_resources(finding: Any) -> bool:
    # Two gaps in parliament's resource matching, both for Bedrock model ARNs:
    # - it wants one resource of EVERY type an action lists, where AWS needs one of them:
    #   InvokeModel lists eight (foundation-model, inference-profile, provisioned-model, ...), so
    #   a policy naming only the models it allows is reported although it is the least privilege;
    # - it refuses a `:` in a resource ID, and Bedrock model IDs end in `:<version>`
    #   (`anthropic.claude-3-5-haiku-20241022-v1:0`).
    return finding.issue == "RESOURCE_MISMATCH" and all(
        item["action"].startswith("bedrock:") and item["required_format"].startswith("arn:*:bedrock:")
        for item in finding.detail
    )


def _guardrail_condition(finding: Any) -> bool:
    # `bedrock:GuardrailIdentifier` is AWS's documented key for enforcing a guardrail on
    # InvokeModel (Bedrock user guide, "Enforce the use of specific guardrails in model inference
    # requests"); parliament's bundled action database predates it.
    return finding.issue == "UNKNOWN_CONDITION_FOR_ACTION" and "bedrock:GuardrailIdentifier" in str(finding.detail)


def _key_policy_resource(finding: Any) -> bool:
    # In a KMS key policy, `"Resource": "*"` means "this key" and is the only form the service takes.
    return finding.issue == "RESOURCE_STAR"


def _trust_policy_resource(finding: Any) -> bool:
    # A role trust policy may not contain `Resource` (IAM rejects it); parliament reads every
    # document as an identity policy.
    return finding.issue == "MALFORMED" and "neither Resource nor NotResource" in str(finding.detail)


EXEMPTIONS: dict[str, tuple[Callable[[Any], bool], ...]] = {
    "identity": (_bedrock_model_resources, _guardrail_condition),
    "resource": (_bedrock_model_resources,),
    "key": (_key_policy_resource,),
    "trust": (_trust_policy_resource,),
}


def lint(kind: str, text: str) -> list[Any]:
    """Parliament's findings for one document, less the reasoned exemptions for its kind."""
    findings = parliament.analyze_policy_string(text).findings
    return [f for f in findings if not any(exempt(f) for exempt in EXEMPTIONS[kind])]
