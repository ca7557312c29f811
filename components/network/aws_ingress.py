"""Ingress to AWS endpoint security groups: HTTPS from the application networks, nothing else."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import vpc as aws_vpc

from triplane.components.network.refs import AwsNetworkRef


def https_from_applications(
    name: str, security_group: aws_ec2.SecurityGroup, network: AwsNetworkRef, tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> None:
    """Ingress on 443 to an endpoint security group from each application network, and nothing else."""
    for index, cidr in enumerate(network.application_cidrs):
        aws_vpc.SecurityGroupIngressRule(
            f"{name}-https-cidr-{index}",
            security_group_id=security_group.id,
            description=f"HTTPS from application network {cidr}",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=cidr,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
