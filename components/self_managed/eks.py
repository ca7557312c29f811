"""EksCluster: a private EKS cluster for GPU model serving.

Creates: a KMS key (unless one is given) that encrypts Kubernetes secrets and the control-plane
log group; the log group (`/aws/eks/<cluster>/cluster`, retention set) receiving every control-plane
log type; the cluster role; the node role (worker, CNI and registry pull-only policies); the cluster
with a private API endpoint (a public one only when authorized networks are listed), API
authentication mode and secrets encryption; the deployer's way in (HTTPS from its private ranges in the
cluster security group) and its access entry with the cluster-admin access policy, which the
kubeconfig waits for; the managed add-ons (VPC CNI with network policy
enforcement on, kube-proxy, CoreDNS, Pod Identity agent, EBS CSI driver with its own role) and, when
model caches are shared across nodes, an encrypted EFS file system with mount targets and the EFS
CSI driver; a role for the cluster autoscaler (Pod Identity, resizing only this cluster's Auto Scaling
groups); a small system node group (encrypted root volumes, IMDSv2 only); and, unless the VPC
already has them, the interface and gateway endpoints private nodes need (ECR, S3, STS, EC2, EKS,
EKS auth, CloudWatch Logs, Elastic Load Balancing, Auto Scaling, EFS); interface endpoints come from
the VPC's shared `AwsInterfaceEndpoints` when one is given (one private-DNS endpoint per service).

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
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import efs as aws_efs
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_aws import vpc as aws_vpc
from pulumi_aws.get_caller_identity import get_caller_identity_output
from pulumi_aws.get_partition import get_partition_output

from components.keys import aws_key, log_key_policy
from components.naming import physical_name
from components.network.aws_endpoints import AwsInterfaceEndpoints, AwsInterfaceEndpointsArgs
from components.network.refs import AwsNetworkRef
from components.self_managed.nodes import SystemNodes, eks_launch_template
from components.self_managed.refs import EksClusterRef
from components.stateful import stateful_opts
from components.tagging import tagged

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


@dataclass
class EksClusterArgs:
    network: AwsNetworkRef
    version: str
    api_access: Literal["private", "authorized-networks"] = "private"
    api_authorized_cidrs: Sequence[str] = ()
    deployer_cidrs: Sequence[str] = ()
    """Private ranges a deploy runner inside the network (or a connected one) reaches the API from."""
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


def _role_trust(service: str) -> str:
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
        child = pulumi.ResourceOptions(parent=self)
        data = stateful_opts(self, args.protect_data)
        network = args.network
        region = network.region
        cluster_name = physical_name(name, kind="default")
        log_group_name = f"/aws/eks/{cluster_name}/cluster"
        identity = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))

        if args.kms_key is not None:
            key_arn: pulumi.Output[str] = pulumi.Output.from_input(args.kms_key)
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
            key_arn = key.arn
        log_group = aws_cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=key_arn,
            opts=data,
        )

        cluster_role = aws_iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=_role_trust("eks.amazonaws.com"),
            opts=child,
        )
        cluster_policy = aws_iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=cluster_role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        node_role = aws_iam.Role(
            f"{name}-node-role",
            assume_role_policy=_role_trust("ec2.amazonaws.com"),
            opts=child,
        )
        node_policies = [
            aws_iam.RolePolicyAttachment(
                f"{name}-node-{policy.lower().replace('_', '-')}",
                role=node_role.name,
                policy_arn=f"arn:aws:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in NODE_POLICIES
        ]

        public = args.api_access == "authorized-networks"
        vpc_config: aws_eks.ClusterVpcConfigArgsDict = {
            "subnet_ids": list(network.app_subnet_ids),
            "endpoint_private_access": True,
            "endpoint_public_access": public,
        }
        if public:
            vpc_config["public_access_cidrs"] = list(args.api_authorized_cidrs)
        cluster = aws_eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            version=args.version,
            role_arn=cluster_role.arn,
            vpc_config=vpc_config,
            # The deployer's access is the explicit entry below: a bootstrap entry for the creator would
            # collide with it, and vanish when someone else runs the next deploy.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False},
            encryption_config={"provider": {"key_arn": key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            # Add-ons are managed below, so their versions and settings are Triplane's.
            bootstrap_self_managed_addons=False,
            upgrade_policy={"support_type": "STANDARD"},
            deletion_protection=args.protect_data,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster_policy, log_group]),
        )
        cluster_sg = cluster.vpc_config.apply(lambda c: c.cluster_security_group_id or "")

        deployer_access = self._deployer(name, args, cluster, cluster_sg, identity.arn)
        self.deployer_access = deployer_access

        endpoints: list[pulumi.Resource] = []
        if args.service_endpoints:
            endpoints = self._endpoints(name, args, cluster_sg)

        def addon(addon_name: str, after: Sequence[pulumi.Resource], **extra: Any) -> aws_eks.Addon:
            return aws_eks.Addon(
                f"{name}-{addon_name}",
                cluster_name=cluster.name,
                addon_name=addon_name,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
                **extra,
            )

        # Daemon add-ons come first: nodes only turn Ready once the CNI runs on them.
        cni = addon("vpc-cni", [], configuration_values=json.dumps({"enableNetworkPolicy": "true"}))
        proxy = addon("kube-proxy", [])
        identity_agent = addon("eks-pod-identity-agent", [])
        node_prerequisites: list[pulumi.Resource] = [cni, proxy, identity_agent, *node_policies, *endpoints]

        system_template = eks_launch_template(
            f"{name}-system-lt",
            parent=self,
            name=f"{cluster_name}-system",
            volumes=[("/dev/xvda", args.system_nodes.disk_size_gb)],
            tags=args.tags,
        )
        system_nodes = aws_eks.NodeGroup(
            f"{name}-system",
            cluster_name=cluster.name,
            node_group_name=f"{cluster_name}-system",
            node_role_arn=node_role.arn,
            subnet_ids=list(network.app_subnet_ids),
            ami_type="AL2023_x86_64_STANDARD",
            capacity_type="ON_DEMAND",
            instance_types=[args.system_nodes.machine_type],
            scaling_config={
                "min_size": args.system_nodes.min_nodes,
                "max_size": args.system_nodes.max_nodes,
                "desired_size": args.system_nodes.min_nodes,
            },
            launch_template={"id": system_template.id, "version": system_template.latest_version.apply(str)},
            labels={"triplane.io/node-pool": "system"},
            update_config={"max_unavailable": 1},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=node_prerequisites, ignore_changes=["scalingConfig.desiredSize"]
            ),
        )

        addon("coredns", [system_nodes])
        ebs_role = self._pod_role(
            name,
            "ebs-csi",
            "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
            key_arn,
        )
        # The system nodes wait for the identity agent, so the CSI drivers that use pod identity do too.
        addon(
            "aws-ebs-csi-driver",
            [system_nodes],
            pod_identity_associations=[{"role_arn": ebs_role.arn, "service_account": "ebs-csi-controller-sa"}],
        )

        # EKS node groups only carry min/max bounds: the cluster autoscaler (deployed into the cluster by
        # the stack, as service account kube-system/cluster-autoscaler) moves them, with this role.
        autoscaler_role = aws_iam.Role(
            f"{name}-autoscaler-role",
            assume_role_policy=_role_trust("pods.eks.amazonaws.com"),
            opts=child,
        )
        aws_iam.RolePolicy(
            f"{name}-autoscaler-policy",
            role=autoscaler_role.id,
            policy=identity.account_id.apply(lambda account: autoscaler_policy(account, region, cluster_name)),
            opts=child,
        )
        aws_eks.PodIdentityAssociation(
            f"{name}-autoscaler-identity",
            cluster_name=cluster.name,
            namespace="kube-system",
            service_account="cluster-autoscaler",
            role_arn=autoscaler_role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[identity_agent]),
        )

        self.efs_file_system_id = None
        if args.shared_cache:
            self.efs_file_system_id = self._efs(name, args, cluster_sg, key_arn, data)
            efs_role = self._pod_role(
                name, "efs-csi", "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"
            )
            addon(
                "aws-efs-csi-driver",
                [system_nodes],
                pod_identity_associations=[{"role_arn": efs_role.arn, "service_account": "efs-csi-controller-sa"}],
            )

        self.kms_key_arn = key_arn
        self.pod_identity_agent = identity_agent
        """Pod Identity associations (the weights import's among them) take effect once it runs."""
        self.ref = EksClusterRef(
            name=cluster.name,
            version=args.version,
            node_role_arn=node_role.arn,
            subnet_ids=list(network.app_subnet_ids),
            depends_on=node_prerequisites,
        )
        # The provider built from this kubeconfig waits for the deployer's access (its ID is an input).
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority, deployer_access.id).apply(
                lambda values: kubeconfig(values[0], values[1], _ca_data(values[2]), region)
            )
        )
        self.register_outputs({"name": cluster.name, "kms_key_arn": key_arn})

    def _deployer(
        self,
        name: str,
        args: EksClusterArgs,
        cluster: aws_eks.Cluster,
        cluster_sg: pulumi.Output[str],
        caller_arn: pulumi.Output[str],
    ) -> aws_eks.AccessPolicyAssociation:
        """The deployer's path to the private endpoint and its Kubernetes access."""
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
        return aws_eks.AccessPolicyAssociation(
            f"{name}-deployer-admin",
            cluster_name=cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=pulumi.Output.concat(
                "arn:", partition, ":eks::aws:cluster-access-policy/", DEPLOYER_ACCESS_POLICY
            ),
            access_scope={"type": "cluster"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _endpoints(self, name: str, args: EksClusterArgs, cluster_sg: pulumi.Output[str]) -> list[pulumi.Resource]:
        network = args.network
        registry = args.interface_endpoints or AwsInterfaceEndpoints(
            f"{name}-endpoints",
            AwsInterfaceEndpointsArgs(network=network, tags=args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        registry.allow_security_group(f"{name}-nodes", cluster_sg, "EKS nodes and control plane")
        services = list(INTERFACE_ENDPOINTS) + (["elasticfilesystem"] if args.shared_cache else [])
        created: list[pulumi.Resource] = [registry.endpoint(service) for service in services]
        if network.private_route_table_ids:
            # Image layers come from S3: the gateway endpoint keeps those pulls inside the VPC.
            created.append(
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
        return created

    def _pod_role(
        self,
        name: str,
        role: str,
        managed_policy: str,
        kms_key_arn: pulumi.Input[str] | None = None,
    ) -> aws_iam.Role:
        """A role for one add-on's service account, assumed through EKS Pod Identity."""
        pod_role = aws_iam.Role(
            f"{name}-{role}-role",
            assume_role_policy=_role_trust("pods.eks.amazonaws.com"),
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
                policy=pulumi.Output.from_input(kms_key_arn).apply(_volume_key_policy),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return pod_role

    def _efs(
        self,
        name: str,
        args: EksClusterArgs,
        cluster_sg: pulumi.Output[str],
        key_arn: pulumi.Input[str],
        data: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
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
            opts=data,
        )
        for index, subnet in enumerate(args.network.app_subnet_ids):
            aws_efs.MountTarget(
                f"{name}-efs-{index}",
                file_system_id=file_system.id,
                subnet_id=subnet,
                security_groups=[group.id],
                opts=pulumi.ResourceOptions(parent=self),
            )
        return file_system.id


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


def _volume_key_policy(key_arn: str) -> str:
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
