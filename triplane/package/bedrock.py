"""`BedrockPrivateEndpoint`: Triplane's `BedrockEndpoint` for a VPC the caller already has.

Builds the internal component from plain inputs: interface endpoints with private DNS in the given
subnets behind a dedicated security group, an endpoint policy and an IAM invoke policy limited to
the listed models, model invocation logging (CloudWatch and S3, KMS-encrypted) and, when asked, a
guardrail. Each allowed principal is granted the invoke policy.
"""

from typing import NotRequired, TypedDict

import pulumi

from triplane.components.cloud_managed._common import IAM_ARN
from triplane.components.cloud_managed.bedrock import BedrockEndpoint, BedrockEndpointArgs, BedrockGuardrailArgs
from triplane.components.cloud_managed.bedrock_logging import DESTINATIONS
from triplane.components.network.refs import AwsNetworkRef
from triplane.package.inputs import AWS_REGION, Inputs

BEDROCK_MODEL = r"[a-z0-9-]+(\.[a-z0-9-]+)+[\w.:-]*"


class BedrockPrivateEndpointArgs(TypedDict):
    """Where the endpoint goes, which models it serves and who may call them."""

    region: str
    """AWS region of the VPC (e.g. `eu-west-1`); endpoint service names and model ARNs are built for it."""
    vpc_id: pulumi.Input[str]
    """ID of the existing VPC that gets the Bedrock interface endpoints."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets for the endpoints, in at least two availability zones."""
    application_cidrs: list[str]
    """Private CIDR blocks the application calls from; the endpoints' security group admits HTTPS from these only."""
    models: list[str]
    """Bedrock model IDs (`anthropic.claude-3-haiku-20240307-v1:0`) or inference profiles (`eu.anthropic...`)."""
    allowed_principals: NotRequired[list[str]]
    (
        "IAM role or user ARNs that may invoke the models; each is granted the invoke policy. Empty admits "
        "this account's principals through the endpoint, and grants nobody."
    )
    allowed_security_group_ids: NotRequired[list[pulumi.Input[str]]]
    """Security groups whose members may also reach the endpoints over HTTPS."""
    kms_key: NotRequired[pulumi.Input[str]]
    """ARN of an existing KMS key for the logs and the guardrail; a customer-managed key is created when omitted."""
    guardrail: NotRequired[bool]
    """Create a guardrail (content and prompt-attack filters at HIGH, profanity filter) that every call must name."""
    logging_destinations: NotRequired[list[str]]
    """Where model invocations are logged: `cloudwatch`, `s3` or both (the default)."""
    protect_data: NotRequired[bool]
    """Protect the log bucket and keys from deletion (for production)."""
    tags: dict[str, str]
    (
        "Tags for every resource: `owner`, `cost-center`, `environment`, `use-case` and `data-classification` "
        "(public, internal or confidential); `pattern` and `managed-by` are added."
    )


class BedrockPrivateEndpoint(pulumi.ComponentResource):
    (
        "Private, least-privilege access to Amazon Bedrock models from an existing VPC: PrivateLink endpoints "
        "with private DNS, an invoke policy for the listed models only, and invocation logging."
    )

    url: pulumi.Output[str]
    """The Bedrock runtime URL the SDKs call; it resolves to the private endpoint inside the VPC."""
    invoke_policy_arn: pulumi.Output[str]
    """ARN of the IAM policy that allows invoking exactly the listed models."""
    guardrail_identifier: pulumi.Output[str] | None
    """`<guardrail ARN>:<version>` callers must pass, when `guardrail` is on."""
    logs: pulumi.Output[str] | None
    """Where invocations are recorded; absent only when `logging_destinations` is empty."""

    def __init__(
        self, name: str, args: BedrockPrivateEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("triplane:index:BedrockPrivateEndpoint", name, None, opts)
        given = Inputs("BedrockPrivateEndpoint", name, args)
        region = given.text("region", "region", pattern=AWS_REGION, hint="an AWS region such as eu-west-1")
        principals = given.strings("allowed_principals", "allowedPrincipals", pattern=IAM_ARN,
                                   hint="arn:aws:iam::<account>:role/<name>")
        destinations = (
            given.strings("logging_destinations", "loggingDestinations")
            if args.get("logging_destinations") is not None
            else list(DESTINATIONS)
        )
        if set(destinations) - set(DESTINATIONS):
            raise given.error("loggingDestinations", f"use cloudwatch, s3 or both, not {destinations}")
        network = AwsNetworkRef(
            region=region,
            vpc_id=args["vpc_id"],
            app_subnet_ids=given.inputs("subnet_ids", "subnetIds", minimum=2),
            application_cidrs=given.private_cidrs("application_cidrs", "applicationCidrs"),
        )
        endpoint = BedrockEndpoint(
            name,
            BedrockEndpointArgs(
                network=network,
                models=given.strings("models", "models", minimum=1, pattern=BEDROCK_MODEL,
                                     hint="a Bedrock model ID such as anthropic.claude-3-haiku-20240307-v1:0"),
                allowed_principals=principals,
                kms_key=args.get("kms_key"),
                tags=given.tags("cloud-managed"),
                protect_data=given.flag("protect_data", "protectData", False),
                guardrail=BedrockGuardrailArgs() if given.flag("guardrail", "guardrail", False) else None,
                allowed_security_group_ids=given.inputs("allowed_security_group_ids", "allowedSecurityGroupIds"),
                logging_destinations=destinations,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for principal in principals:
            endpoint.grant_invoke(principal)
        self.url = endpoint.url
        self.invoke_policy_arn = endpoint.invoke_policy_arn
        self.guardrail_identifier = endpoint.guardrail_identifier
        self.logs = endpoint.logs
        self.register_outputs({
            "url": self.url,
            "invoke_policy_arn": self.invoke_policy_arn,
            "guardrail_identifier": self.guardrail_identifier,
            "logs": self.logs,
        })
