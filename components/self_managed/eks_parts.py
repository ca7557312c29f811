"""The parts of an `EksCluster`: control plane, node identity, VPC endpoints, system nodes and cache.

Each is a `SubComponent`: its resources were the cluster component's own, and keep their URNs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import efs as aws_efs
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_aws import vpc as aws_vpc
from pulumi_aws.get_partition import get_partition_output

from components.keys import aws_key, log_key_policy
from components.network.aws_endpoints import AwsInterfaceEndpoints, AwsInterfaceEndpointsArgs
from components.self_managed.nodes import eks_launch_template
from components.stateful import stateful_opts
from components.subcomponent import SubComponent

if TYPE_CHECKING:
    from components.self_managed.eks import EksClusterArgs

CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
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
DEPLOYER_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"
"""Cluster roles, CRDs and kube-system daemons are cluster-scoped: the narrower admin policies cannot."""
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
)


def role_trust(service: str) -> str:
    """A trust policy letting `service` assume the role (and tag its session)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
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


class EksControlPlane(SubComponent):
    """The cluster itself: its key, control-plane logs, role, and the deployer's way in."""

    key_arn: pulumi.Output[str]
    cluster: aws_eks.Cluster
    cluster_sg: pulumi.Output[str]
    """The cluster security group EKS creates (nodes and control plane)."""
    deployer_access: aws_eks.AccessPolicyAssociation

    def __init__(
        self, name: str, parent: pulumi.Resource, args: EksClusterArgs, cluster_name: str, identity: Any
    ) -> None:
        super().__init__("triplane:selfmanaged:EksControlPlane", f"{name}-control-plane", parent)
        region = args.network.region
        log_group_name = f"/aws/eks/{cluster_name}/cluster"
        if args.kms_key is not None:
            self.key_arn = pulumi.Output.from_input(args.kms_key)
        else:
            key = aws_key(
                f"{name}-key",
                parent=self,
                description=f"Secrets and control-plane logs of EKS cluster {cluster_name}",
                policy=identity.account_id.apply(
                    lambda account: log_key_policy(account, region, [log_group_name], logs_sid="ControlPlaneLogs")
                ),
                protect=args.protect_data,
            )
            self.key_arn = key.arn
        log_group = aws_cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=self.key_arn,
            opts=stateful_opts(self, args.protect_data),
        )
        cluster_role = aws_iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=role_trust("eks.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        cluster_policy = aws_iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=cluster_role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=pulumi.ResourceOptions(parent=self),
        )
        public = args.api_access == "authorized-networks"
        vpc_config: aws_eks.ClusterVpcConfigArgsDict = {
            "subnet_ids": list(args.network.app_subnet_ids),
            "endpoint_private_access": True,
            "endpoint_public_access": public,
        }
        if public:
            vpc_config["public_access_cidrs"] = list(args.api_authorized_cidrs)
        self.cluster = aws_eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            version=args.version,
            role_arn=cluster_role.arn,
            vpc_config=vpc_config,
            # The deployer's access is the explicit entry below: a bootstrap entry for the creator would
            # collide with it, and vanish when someone else runs the next deploy.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False},
            encryption_config={"provider": {"key_arn": self.key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            # Add-ons are managed by the other parts, so their versions and settings are Triplane's.
            bootstrap_self_managed_addons=False,
            upgrade_policy={"support_type": "STANDARD"},
            deletion_protection=args.protect_data,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster_policy, log_group]),
        )
        self.cluster_sg = self.cluster.vpc_config.apply(lambda c: c.cluster_security_group_id or "")
        self.deployer_access = EksDeployerAccess(name, self, args, self.cluster, self.cluster_sg, identity.arn).admin
        self.register_outputs({"name": self.cluster.name})


class EksDeployerAccess(SubComponent):
    """The deployer's path to the private endpoint and its Kubernetes access."""

    admin: aws_eks.AccessPolicyAssociation
    """The deployer's cluster-admin access policy; the kubeconfig waits for it."""

    def __init__(
        self,
        name: str,
        parent: SubComponent,
        args: EksClusterArgs,
        cluster: aws_eks.Cluster,
        cluster_sg: pulumi.Output[str],
        caller_arn: pulumi.Output[str],
    ) -> None:
        super().__init__(
            "triplane:selfmanaged:EksDeployerAccess", f"{name}-deployer-access", parent, parent.former_parent
        )
        for index, cidr in enumerate(args.deployer_cidrs):
            aws_vpc.SecurityGroupIngressRule(
                f"{name}-api-from-deployer-{index}",
                security_group_id=cluster_sg,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="Kubernetes API from the deploy runner",
                opts=pulumi.ResourceOptions(parent=self),
            )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        if args.deployer_principal is not None:
            principal: pulumi.Output[str] = pulumi.Output.from_input(args.deployer_principal)
        else:
            # A role session's caller ARN is sts:...:assumed-role/<role>/<session>; entries take the role.
            principal = aws_iam.get_session_context_output(arn=caller_arn, opts=invoke).issuer_arn
        partition = get_partition_output(opts=invoke).partition
        entry = aws_eks.AccessEntry(
            f"{name}-deployer",
            cluster_name=cluster.name,
            principal_arn=principal,
            type="STANDARD",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.admin = aws_eks.AccessPolicyAssociation(
            f"{name}-deployer-admin",
            cluster_name=cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=pulumi.Output.concat(
                "arn:", partition, ":eks::aws:cluster-access-policy/", DEPLOYER_ACCESS_POLICY
            ),
            access_scope={"type": "cluster"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


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


class EksCache(SubComponent):
    """Storage for model caches: the EBS CSI driver (volumes under the cluster's key) and, when caches
    are shared across nodes, an encrypted EFS file system with its CSI driver."""

    efs_file_system_id: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        parent: pulumi.Resource,
        args: EksClusterArgs,
        cluster: aws_eks.Cluster,
        cluster_sg: pulumi.Output[str],
        key_arn: pulumi.Output[str],
        system_nodes: pulumi.Resource,
    ) -> None:
        super().__init__("triplane:selfmanaged:EksCache", f"{name}-cache", parent)
        ebs_role = self._pod_role(
            name, "ebs-csi", "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy", key_arn
        )
        # The system nodes wait for the identity agent, so the CSI drivers that use pod identity do too.
        eks_addon(
            name,
            "aws-ebs-csi-driver",
            cluster,
            self,
            [system_nodes],
            pod_identity_associations=[{"role_arn": ebs_role.arn, "service_account": "ebs-csi-controller-sa"}],
        )
        self.efs_file_system_id = None
        if args.shared_cache:
            self.efs_file_system_id = EksSharedFileSystem(name, self, args, cluster_sg, key_arn).file_system_id
            efs_role = self._pod_role(
                name, "efs-csi", "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
            )
            eks_addon(
                name,
                "aws-efs-csi-driver",
                cluster,
                self,
                [system_nodes],
                pod_identity_associations=[{"role_arn": efs_role.arn, "service_account": "efs-csi-controller-sa"}],
            )
        self.register_outputs({})

    def _pod_role(
        self, name: str, role: str, managed_policy: str, kms_key_arn: pulumi.Input[str] | None = None
    ) -> aws_iam.Role:
        """A role for one CSI driver's service account, assumed through EKS Pod Identity."""
        pod_role = aws_iam.Role(
            f"{name}-{role}-role",
            assume_role_policy=role_trust("pods.eks.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws_iam.RolePolicyAttachment(
            f"{name}-{role}-policy",
            role=pod_role.name,
            policy_arn=managed_policy,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if kms_key_arn is not None:
            aws_iam.RolePolicy(
                f"{name}-{role}-kms",
                role=pod_role.id,
                policy=pulumi.Output.from_input(kms_key_arn).apply(volume_key_policy),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return pod_role


class EksSharedFileSystem(SubComponent):
    """An encrypted EFS file system for ReadWriteMany model caches, reachable by NFS from the nodes
    only, with a mount target in each node subnet."""

    file_system_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        parent: SubComponent,
        args: EksClusterArgs,
        cluster_sg: pulumi.Output[str],
        key_arn: pulumi.Input[str],
    ) -> None:
        super().__init__("triplane:selfmanaged:EksSharedFileSystem", f"{name}-efs", parent, parent.former_parent)
        group = aws_ec2.SecurityGroup(
            f"{name}-efs-sg",
            vpc_id=args.network.vpc_id,
            description="NFS from EKS nodes to the model-cache file system",
            egress=[],
            tags={"Name": f"{name}-efs"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws_vpc.SecurityGroupIngressRule(
            f"{name}-efs-from-nodes",
            security_group_id=group.id,
            referenced_security_group_id=cluster_sg,
            ip_protocol="tcp",
            from_port=2049,
            to_port=2049,
            description="EKS nodes",
            opts=pulumi.ResourceOptions(parent=self),
        )
        file_system = aws_efs.FileSystem(
            f"{name}-efs",
            encrypted=True,
            kms_key_id=key_arn,
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            tags={"Name": f"{name}-model-cache"},
            opts=stateful_opts(self, args.protect_data),
        )
        for index, subnet in enumerate(args.network.app_subnet_ids):
            aws_efs.MountTarget(
                f"{name}-efs-{index}",
                file_system_id=file_system.id,
                subnet_id=subnet,
                security_groups=[group.id],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.file_system_id = file_system.id
        self.register_outputs({"id": file_system.id})


def volume_key_policy(key_arn: str) -> str:
    """What the EBS CSI driver needs to create volumes encrypted with the cluster's key."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                    "Resource": key_arn,
                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "Resource": key_arn,
                },
            ],
        }
    )
