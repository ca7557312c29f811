"""EksCluster: a private EKS cluster for GPU model serving.

Made of parts: `EksControlPlane` (a KMS key, unless one is given, that encrypts
Kubernetes secrets and the control-plane log group; the log group, `/aws/eks/<cluster>/cluster`,
retention set, receiving every control-plane log type; the cluster role; the cluster with a private
API endpoint, a public one only when authorized networks are listed, API authentication mode and
secrets encryption; `EksDeployerAccess`: HTTPS from the deployer's private ranges in the cluster
security group and its access entry with the cluster-admin access policy, which the kubeconfig waits
for); `EksNodeRole` (worker, CNI and registry pull-only policies); `EksEndpoints`, unless the VPC
already has them (the interface and gateway endpoints private nodes need: ECR, S3, STS, EC2, EKS, EKS
auth, CloudWatch Logs, Elastic Load Balancing, Auto Scaling, EFS; interface endpoints come from the
VPC's shared `AwsInterfaceEndpoints` when one is given, one private-DNS endpoint per service);
`EksSystemNodes` (a small system node group, encrypted root volumes, IMDSv2 only, after the VPC CNI
with network policy enforcement on, kube-proxy and the Pod Identity agent; then CoreDNS);
`EksCache` (the EBS CSI driver with its own role and, when model caches are shared across nodes, an
encrypted EFS file system with mount targets and the EFS CSI driver); and `EksAutoscalerRole` (the
cluster autoscaler's role, through Pod Identity, resizing only this cluster's Auto Scaling groups).
Modules: `eks_control_plane`, `eks_nodes`, `eks_cache`.

Node root volumes use the account's EBS key: a customer key there would have to trust the Auto
Scaling service-linked role, which new accounts do not have yet. Model caches (PVCs) use the
cluster's key through the `triplane-gp3` storage class.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.naming import physical_name
from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.self_managed.eks_cache import EksCache
from triplane.components.self_managed.eks_control_plane import EksControlPlane, role_trust
from triplane.components.self_managed.eks_nodes import EksEndpoints, EksNodeRole, EksSystemNodes
from triplane.components.self_managed.nodes import SystemNodes
from triplane.components.self_managed.refs import EksClusterRef
from triplane.components.subcomponent import SubComponent
from triplane.components.tagging import tagged


@dataclass
class EksClusterArgs:
    network: AwsNetworkRef
    version: str
    api_access: Literal["private", "authorized-networks"] = "private"
    api_authorized_cidrs: Sequence[str] = ()
    deployer_cidrs: Sequence[str] = ()
    """Private ranges a deploy runner inside the network (or a connected one) reaches the API from."""
    deployer_security_group: pulumi.Input[str] | None = None
    """The security group of Triplane's deploy runner in this VPC, admitted to the API on 443."""
    deployer_principal: str | None = None
    """IAM role or user ARN that deploys; the caller's role (not its session) by default."""
    system_nodes: SystemNodes = field(default_factory=lambda: SystemNodes.default("aws"))
    service_endpoints: bool = True
    """Create the VPC endpoints private nodes need (a VPC without a NAT path has none)."""
    interface_endpoints: AwsInterfaceEndpoints | None = None
    """The VPC's shared interface endpoints (one private-DNS endpoint per service and VPC); else its own."""
    shared_cache: bool = False
    """Create an EFS file system for ReadWriteMany model caches."""
    kms_key: str | None = None
    log_retention_days: int = 365
    tags: dict[str, str] = field(default_factory=dict)
    protect_data: bool = False


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that gets a token from the AWS CLI (no long-lived credentials in it)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


class EksCluster(pulumi.ComponentResource):
    ref: EksClusterRef
    kubeconfig: pulumi.Output[str]
    """Secret: server, CA and an `aws eks get-token` exec stanza."""
    kms_key_arn: pulumi.Output[str]
    deployer_access: aws_eks.AccessPolicyAssociation
    """The deployer's cluster-admin access policy; the kubeconfig waits for it."""
    efs_file_system_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:EksCluster", name, None, tagged(opts, args.tags))
        network = args.network
        region = network.region
        cluster_name = physical_name(name, kind="default")
        identity = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))

        control_plane = EksControlPlane(name, self, args, cluster_name, identity)
        cluster, cluster_sg = control_plane.cluster, control_plane.cluster_sg
        node_role = EksNodeRole(name, self)
        endpoints = EksEndpoints(name, self, args, cluster_sg).created if args.service_endpoints else []
        system = EksSystemNodes(name, self, args, cluster_name, cluster, node_role, endpoints)
        cache = EksCache(name, self, args, cluster, cluster_sg, control_plane.key_arn, system.nodes)

        EksAutoscalerRole(name, self, cluster, cluster_name, region, identity.account_id, system.identity_agent)

        self.deployer_access = control_plane.deployer_access
        self.efs_file_system_id = cache.efs_file_system_id
        self.kms_key_arn = control_plane.key_arn
        self.pod_identity_agent = system.identity_agent
        """Pod Identity associations (the weights import's among them) take effect once it runs."""
        self.ref = EksClusterRef(
            name=cluster.name,
            version=args.version,
            node_role_arn=node_role.role.arn,
            subnet_ids=list(network.app_subnet_ids),
            depends_on=system.prerequisites,
        )
        # The provider built from this kubeconfig waits for the deployer's access (its ID is an input).
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name, cluster.endpoint, cluster.certificate_authority, self.deployer_access.id
            ).apply(lambda values: kubeconfig(values[0], values[1], _ca_data(values[2]), region))
        )
        self.register_outputs({"name": cluster.name, "kms_key_arn": self.kms_key_arn})


class EksAutoscalerRole(SubComponent):
    """The cluster autoscaler's AWS identity (Pod Identity), resizing only this cluster's groups.

    EKS node groups only carry min/max bounds: the cluster autoscaler (deployed into the cluster by
    the stack, as service account kube-system/cluster-autoscaler) moves them, with this role.
    """

    def __init__(
        self,
        name: str,
        parent: pulumi.Resource,
        cluster: aws_eks.Cluster,
        cluster_name: str,
        region: str,
        account: pulumi.Output[str],
        identity_agent: pulumi.Resource,
    ) -> None:
        super().__init__("triplane:selfmanaged:EksAutoscalerRole", f"{name}-autoscaler-identity", parent)
        role = aws_iam.Role(
            f"{name}-autoscaler-role",
            assume_role_policy=role_trust("pods.eks.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws_iam.RolePolicy(
            f"{name}-autoscaler-policy",
            role=role.id,
            policy=account.apply(lambda account_id: autoscaler_policy(account_id, region, cluster_name)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws_eks.PodIdentityAssociation(
            f"{name}-autoscaler-identity",
            cluster_name=cluster.name,
            namespace="kube-system",
            service_account="cluster-autoscaler",
            role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[identity_agent]),
        )
        self.register_outputs({"arn": role.arn})


def autoscaler_policy(account: str, region: str, cluster_name: str) -> str:
    """Read the groups and instance types; resize and trim only this cluster's groups."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Discover",
                    "Effect": "Allow",
                    "Action": [
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeImages",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                    ],
                    "Resource": "*",
                },
                {
                    "Sid": "NodeGroups",
                    "Effect": "Allow",
                    "Action": "eks:DescribeNodegroup",
                    "Resource": f"arn:aws:eks:{region}:{account}:nodegroup/{cluster_name}/*/*",
                },
                {
                    "Sid": "ResizeOwnGroups",
                    "Effect": "Allow",
                    "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                    "Resource": f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/*",
                    "Condition": {
                        "StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
                    },
                },
            ],
        }
    )


def _ca_data(authority: Any) -> str:
    if authority is None:
        return ""
    if isinstance(authority, dict):
        return str(authority.get("data") or "")
    return str(getattr(authority, "data", "") or "")
