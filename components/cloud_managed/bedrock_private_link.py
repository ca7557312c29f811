"""Bedrock over PrivateLink: interface VPC endpoints, their security group and endpoint policies.

Creates:
- a dedicated security group allowing TCP 443 only from the application CIDRs / security groups
  (no egress rules: an interface endpoint never initiates connections);
- one interface endpoint per Bedrock service (`bedrock-runtime` always; `bedrock`, `bedrock-agent`,
  `bedrock-agent-runtime` when asked) with private DNS, in the network's app subnets (two zones or more);
- an endpoint policy per service admitting only the listed principals to the listed models.

AWS allows one endpoint with private DNS per service and VPC, so a VPC shares one of these between
every use case in it: `access` holds one entry per use case and each becomes its own statements.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import vpc as aws_vpc
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.cloud_managed._common import (
    BEDROCK_INVOKE_ACTIONS,
    aws_principal,
    bedrock_model_resources,
    policy_json,
    routed_condition,
)
from triplane.components.naming import physical_name
from triplane.components.network.aws_ingress import https_from_applications
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.tagging import tagged

RUNTIME = "bedrock-runtime"
SERVICES = (RUNTIME, "bedrock", "bedrock-agent", "bedrock-agent-runtime")


@dataclass(frozen=True)
class BedrockAccess:
    """One use case's entry in the endpoint policies."""

    model_ids: Sequence[str]
    principals: Sequence[str] = ()
    """IAM role/user ARNs; empty admits this account's principals (IAM policies still decide)."""
    guardrail: bool = False
    """The use case applies a guardrail: callers may also call `ApplyGuardrail` on this account's guardrails."""
    roles: Sequence[str] = ()
    """Names of this account's IAM roles also admitted when `principals` are listed (the AI gateway's)."""


@dataclass(frozen=True)
class BedrockPrivateLinkArgs:
    network: AwsNetworkRef
    access: Sequence[BedrockAccess]
    services: Sequence[str] = (RUNTIME,)
    allowed_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups allowed to reach the endpoints, besides `network.application_cidrs`."""
    tags: Mapping[str, str] = field(default_factory=dict)


class BedrockPrivateLink(pulumi.ComponentResource):
    """Private, policy-restricted network paths from a VPC to Amazon Bedrock."""

    security_group_id: pulumi.Output[str]
    endpoint_ids: dict[str, pulumi.Output[str]]
    runtime_url: pulumi.Output[str]
    """`https://bedrock-runtime.<region>.amazonaws.com`, known once the endpoint with private DNS exists."""

    def __init__(self, name: str, args: BedrockPrivateLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:cloudmanaged:BedrockPrivateLink", name, None, tagged(opts, args.tags))
        network = args.network
        region = network.region
        unknown = sorted(set(args.services) - set(SERVICES))
        if unknown:
            raise ValueError(f"{name}: unknown Bedrock endpoint services {unknown}; known: {list(SERVICES)}")
        if len(network.app_subnet_ids) < 2:
            raise ValueError(f"{name}: Bedrock endpoints need subnets in at least two availability zones")
        if not args.access:
            raise ValueError(f"{name}: no access entries; the endpoint policy would admit nobody")
        services = [RUNTIME, *sorted(set(args.services) - {RUNTIME})]
        account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        self.security_group = aws_ec2.SecurityGroup(
            f"{name}-sg",
            name=physical_name(name, "bedrock-endpoints"),
            description="HTTPS to the Bedrock interface endpoints from the application only",
            vpc_id=network.vpc_id,
            tags={"Name": physical_name(name, "bedrock-endpoints")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        https_from_applications(name, self.security_group, network, args.tags, parent=self)
        for index, group_id in enumerate(args.allowed_security_group_ids):
            aws_vpc.SecurityGroupIngressRule(
                f"{name}-https-sg-{index}",
                security_group_id=self.security_group.id,
                description="HTTPS from an application security group",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                referenced_security_group_id=group_id,
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.endpoints: dict[str, aws_ec2.VpcEndpoint] = {}
        for service in services:
            statements = account.apply(functools.partial(_statements_for, service, region, args.access))
            self.endpoints[service] = aws_ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=network.vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(network.app_subnet_ids),
                security_group_ids=[self.security_group.id],
                policy=policy_json(statements),
                tags={"Name": physical_name(name, service)},
                opts=pulumi.ResourceOptions(parent=self),
            )

        runtime = self.endpoints[RUNTIME]
        self.security_group_id = self.security_group.id
        self.endpoint_ids = {service: endpoint.id for service, endpoint in self.endpoints.items()}
        self.runtime_url = pulumi.Output.all(runtime.id, runtime.private_dns_enabled).apply(
            lambda _: f"https://{RUNTIME}.{region}.amazonaws.com"
        )
        self.register_outputs(
            {
                "security_group_id": self.security_group_id,
                "endpoint_ids": self.endpoint_ids,
                "runtime_url": self.runtime_url,
            }
        )


def _statements_for(service: str, region: str, access: Sequence[BedrockAccess], account: str) -> list[dict[str, Any]]:
    return _service_statements(service, region, account, access)


def _service_statements(
    service: str, region: str, account: str, access: Sequence[BedrockAccess]
) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for index, entry in enumerate(access):
        roles = [f"arn:aws:iam::{account}:role/{role}" for role in entry.roles] if entry.principals else []
        principal = aws_principal(account, [*entry.principals, *roles])
        for suffix, action, resource, condition in _service_grants(service, region, account, entry):
            statement: dict[str, Any] = {
                "Sid": f"UseCase{index}{suffix}",
                "Effect": "Allow",
                "Principal": principal,
                "Action": action,
                "Resource": resource,
            }
            if condition is not None:
                statement["Condition"] = condition
            statements.append(statement)
    return statements


def _service_grants(
    service: str, region: str, account: str, entry: BedrockAccess
) -> list[tuple[str, Any, Any, dict[str, Any] | None]]:
    """What one use case may do through the endpoint of `service`: (Sid suffix, action, resource,
    condition) rows, each kept only where its last field holds."""
    direct, profiles, routed = bedrock_model_resources(region, account, entry.model_ids)
    arn = f"arn:aws:bedrock:{region}:{account}"
    invoke = list(BEDROCK_INVOKE_ACTIONS)
    table: dict[str, list[tuple[str, Any, Any, dict[str, Any] | None, bool]]] = {
        RUNTIME: [
            ("Invoke", invoke, direct + profiles, None, True),
            ("InvokeRouted", invoke, routed, routed_condition(profiles) if routed else None, bool(routed)),
            ("ApplyGuardrail", "bedrock:ApplyGuardrail", f"{arn}:guardrail/*", None, entry.guardrail),
        ],
        # Control plane, read-only: which of the allowed models and profiles exist here.
        "bedrock": [
            ("List", ["bedrock:ListFoundationModels", "bedrock:ListInferenceProfiles"], "*", None, True),
            ("DescribeModels", "bedrock:GetFoundationModel", direct + routed, None, bool(direct or routed)),
            ("DescribeProfiles", "bedrock:GetInferenceProfile", profiles, None, bool(profiles)),
        ],
        # Agents and knowledge bases of this account and region, read-only.
        "bedrock-agent": [
            ("List", ["bedrock:ListAgents", "bedrock:ListKnowledgeBases"], "*", None, True),
            ("DescribeAgents", "bedrock:GetAgent", f"{arn}:agent/*", None, True),
            ("DescribeKnowledgeBases", "bedrock:GetKnowledgeBase", f"{arn}:knowledge-base/*", None, True),
        ],
        # RetrieveAndGenerate takes no resource-level permission; the knowledge base it reads is still
        # checked through Retrieve.
        "bedrock-agent-runtime": [
            ("InvokeAgents", "bedrock:InvokeAgent", f"{arn}:agent-alias/*", None, True),
            ("Retrieve", "bedrock:Retrieve", f"{arn}:knowledge-base/*", None, True),
            ("RetrieveAndGenerate", "bedrock:RetrieveAndGenerate", "*", None, True),
        ],
    }
    rows = table.get(service, [])
    return [(suffix, action, resource, condition) for suffix, action, resource, condition, keep in rows if keep]
