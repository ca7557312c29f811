"""AwsInterfaceEndpoints: the one set of AWS service interface endpoints of a VPC.

AWS allows one endpoint with private DNS per service and VPC, and several components need the same
ones (SaaS workloads read their API key from Secrets Manager and call STS; EKS nodes need STS, ECR,
EC2...), so every component asks this registry, which creates each endpoint once.

Creates, on first request: a dedicated security group allowing TCP 443 only from the application
CIDRs (and from security groups added with `allow_security_group`), with no egress rules (an
endpoint never initiates connections); and per service an interface endpoint with private DNS in
the network's app subnets (one per zone). Secrets Manager and STS carry an endpoint policy that
keeps them to this account's secrets and roles; the other services keep the default policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import vpc as aws_vpc
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.cloud_managed._common import policy_json
from triplane.components.naming import physical_name
from triplane.components.network.aws_ingress import https_from_applications
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.tagging import tagged


def endpoint_policy(service: str, region: str, account: str) -> list[dict[str, Any]] | None:
    """The statements of `service`'s endpoint policy, or None for the default (full access) policy.

    Secrets Manager: only this account's principals, reading this account's secrets. STS: this
    account's principals assuming this account's roles; web-identity requests (IRSA, federation) carry
    no principal, so they are held to this account's roles alone.
    """
    this_account = {"StringEquals": {"aws:PrincipalAccount": account}}
    if service == "secretsmanager":
        return [
            {
                "Sid": "ThisAccountReadsItsSecrets",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": f"arn:aws:secretsmanager:{region}:{account}:secret:*",
                "Condition": this_account,
            }
        ]
    if service == "sts":
        roles = f"arn:aws:iam::{account}:role/*"
        return [
            {
                "Sid": "ThisAccountAssumesItsRoles",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Resource": roles,
                "Condition": this_account,
            },
            {
                "Sid": "WebIdentityToThisAccountsRoles",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
                "Resource": roles,
                "Condition": {"StringEquals": {"aws:ResourceAccount": account}},
            },
            {
                "Sid": "ThisAccountAsksWhoItIs",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "sts:GetCallerIdentity",
                "Resource": "*",
                "Condition": this_account,
            },
        ]
    return None


@dataclass(frozen=True)
class AwsInterfaceEndpointsArgs:
    network: AwsNetworkRef
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsInterfaceEndpoints(pulumi.ComponentResource):
    """A VPC's interface endpoints, each created once whoever asks for it."""

    def __init__(self, name: str, args: AwsInterfaceEndpointsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:network:AwsInterfaceEndpoints", name, None, tagged(opts, args.tags))
        network = args.network
        if not network.app_subnet_ids:
            raise ValueError(f"{name}: the network has no app subnets to place interface endpoints in")
        self._name = name
        self._args = args
        self._account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.endpoints: dict[str, aws_ec2.VpcEndpoint] = {}
        self._allowed_groups: set[str] = set()
        tags = dict(args.tags)
        self.security_group = aws_ec2.SecurityGroup(
            f"{name}-sg",
            name=physical_name(name, "sg"),
            description="HTTPS to the AWS service interface endpoints from the application network only",
            vpc_id=network.vpc_id,
            egress=[],
            tags={"Name": physical_name(name, "sg")},
            opts=pulumi.ResourceOptions(parent=self),
        )
        https_from_applications(name, self.security_group, network, tags, parent=self)
        self.security_group_id = self.security_group.id
        self.register_outputs({"security_group_id": self.security_group.id})

    def allow_security_group(self, key: str, group_id: pulumi.Input[str], description: str) -> None:
        """Also admit HTTPS from a security group (e.g. an EKS cluster's), once per `key`."""
        if key in self._allowed_groups:
            return
        self._allowed_groups.add(key)
        aws_vpc.SecurityGroupIngressRule(
            f"{self._name}-from-{key}",
            security_group_id=self.security_group.id,
            description=description,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=group_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def endpoint(self, service: str) -> aws_ec2.VpcEndpoint:
        """The VPC's interface endpoint for `service` (`sts`, `secretsmanager`, `ecr.api`, ...)."""
        if service not in self.endpoints:
            network = self._args.network
            region = network.region
            restricted = endpoint_policy(service, region, "0") is not None
            statements = self._account.apply(lambda account: endpoint_policy(service, region, account) or [])
            self.endpoints[service] = aws_ec2.VpcEndpoint(
                f"{self._name}-{service.replace('.', '-')}",
                vpc_id=network.vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(network.app_subnet_ids),
                security_group_ids=[self.security_group.id],
                policy=policy_json(statements) if restricted else None,
                tags={"Name": physical_name(self._name, service.replace(".", "-"))},
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self.endpoints[service]
