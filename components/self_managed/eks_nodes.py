"""The nodes' side of an `EksCluster`: their role, the VPC endpoints they reach AWS through, and the
system node group with the add-ons it needs.

Parts of the cluster component (`SubComponent`): their resources keep the URNs they had as its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam

from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints, AwsInterfaceEndpointsArgs
from triplane.components.self_managed.eks_control_plane import role_trust
from triplane.components.self_managed.nodes import eks_launch_template
from triplane.components.subcomponent import SubComponent

if TYPE_CHECKING:
    from triplane.components.self_managed.eks import EksClusterArgs

INTERFACE_ENDPOINTS = (
    "ec2",
    "ecr.api",
    "ecr.dkr",
    "sts",
    "eks",
    "eks-auth",
    "logs",
    "elasticloadbalancing",
    "autoscaling",
)
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
)


def eks_addon(
    name: str, addon_name: str, cluster: aws_eks.Cluster, parent: pulumi.Resource, after: Sequence[pulumi.Resource],
    **extra: Any,
) -> aws_eks.Addon:  # fmt: skip
    """A managed add-on whose versions and settings are Triplane's (conflicts overwritten)."""
    return aws_eks.Addon(
        f"{name}-{addon_name}",
        cluster_name=cluster.name,
        addon_name=addon_name,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after)),
        **extra,
    )


class EksNodeRole(SubComponent):
    """The role every node of the cluster runs as: worker, CNI and registry pull-only policies."""

    role: aws_iam.Role
    policies: list[pulumi.Resource]

    def __init__(self, name: str, parent: pulumi.Resource) -> None:
        super().__init__("triplane:selfmanaged:EksNodeRole", f"{name}-node-identity", parent)
        self.role = aws_iam.Role(
            f"{name}-node-role",
            assume_role_policy=role_trust("ec2.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policies = [
            aws_iam.RolePolicyAttachment(
                f"{name}-node-{policy.lower().replace('_', '-')}",
                role=self.role.name,
                policy_arn=f"arn:aws:iam::aws:policy/{policy}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for policy in NODE_POLICIES
        ]
        self.register_outputs({"arn": self.role.arn})


class EksEndpoints(SubComponent):
    """The VPC endpoints private nodes need: interface endpoints (the VPC's shared ones when given)
    and the S3 gateway endpoint image layers come through."""

    created: list[pulumi.Resource]
    """The endpoints the nodes wait for."""

    def __init__(
        self, name: str, parent: pulumi.Resource, args: EksClusterArgs, cluster_sg: pulumi.Output[str]
    ) -> None:
        super().__init__("triplane:selfmanaged:EksEndpoints", f"{name}-vpc-endpoints", parent)
        network = args.network
        registry = args.interface_endpoints or AwsInterfaceEndpoints(
            f"{name}-endpoints",
            AwsInterfaceEndpointsArgs(network=network, tags=args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        registry.allow_security_group(f"{name}-nodes", cluster_sg, "EKS nodes and control plane")
        services = list(INTERFACE_ENDPOINTS) + (["elasticfilesystem"] if args.shared_cache else [])
        self.created = [registry.endpoint(service) for service in services]
        if network.private_route_table_ids:
            # Image layers come from S3: the gateway endpoint keeps those pulls inside the VPC.
            self.created.append(
                aws_ec2.VpcEndpoint(
                    f"{name}-s3",
                    vpc_id=network.vpc_id,
                    service_name=f"com.amazonaws.{network.region}.s3",
                    vpc_endpoint_type="Gateway",
                    route_table_ids=list(network.private_route_table_ids),
                    tags={"Name": f"{name}-s3"},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        self.register_outputs({})


class EksSystemNodes(SubComponent):
    """The small system node group, the daemon add-ons its nodes need to turn Ready (VPC CNI with
    network policy enforcement, kube-proxy, Pod Identity agent), and CoreDNS, which runs on it."""

    nodes: aws_eks.NodeGroup
    identity_agent: aws_eks.Addon
    prerequisites: list[pulumi.Resource]
    """What any node group of the cluster waits for."""

    def __init__(
        self,
        name: str,
        parent: pulumi.Resource,
        args: EksClusterArgs,
        cluster_name: str,
        cluster: aws_eks.Cluster,
        node_role: EksNodeRole,
        endpoints: Sequence[pulumi.Resource],
    ) -> None:
        super().__init__("triplane:selfmanaged:EksSystemNodes", f"{name}-system-nodes", parent)
        # Daemon add-ons come first: nodes only turn Ready once the CNI runs on them.
        cni = eks_addon(
            name, "vpc-cni", cluster, self, [], configuration_values=json.dumps({"enableNetworkPolicy": "true"})
        )
        proxy = eks_addon(name, "kube-proxy", cluster, self, [])
        self.identity_agent = eks_addon(name, "eks-pod-identity-agent", cluster, self, [])
        self.prerequisites = [cni, proxy, self.identity_agent, *node_role.policies, *endpoints]
        system = args.system_nodes
        template = eks_launch_template(
            f"{name}-system-lt",
            parent=self,
            name=f"{cluster_name}-system",
            volumes=[("/dev/xvda", system.disk_size_gb)],
            tags=args.tags,
        )
        self.nodes = aws_eks.NodeGroup(
            f"{name}-system",
            cluster_name=cluster.name,
            node_group_name=f"{cluster_name}-system",
            node_role_arn=node_role.role.arn,
            subnet_ids=list(args.network.app_subnet_ids),
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            instance_types=[system.machine_type],
            scaling_config={
                "min_size": system.min_nodes,
                "max_size": system.max_nodes,
                "desired_size": system.min_nodes,
            },
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels={"triplane.io/node-pool": "system"},
            update_config={"max_unavailable": 1},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=self.prerequisites, ignore_changes=["scalingConfig.desiredSize"]
            ),
        )
        eks_addon(name, "coredns", cluster, self, [self.nodes])
        self.register_outputs({})
