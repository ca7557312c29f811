"""The control plane of an `EksCluster`: its key, logs, role and cluster, and the deployer's way in.

Parts of the cluster component (`SubComponent`): their resources keep the URNs they had as its own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_aws import vpc as aws_vpc
from pulumi_aws.get_partition import get_partition_output

from triplane.components.keys import aws_key, log_key_policy
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import SubComponent

if TYPE_CHECKING:
    from triplane.components.self_managed.eks import EksClusterArgs

CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
DEPLOYER_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"
"""Cluster roles, CRDs and kube-system daemons are cluster-scoped: the narrower admin policies cannot."""

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
        self.cluster = self._cluster(name, args, cluster_name, cluster_role, [cluster_policy, log_group])
        self.cluster_sg = self.cluster.vpc_config.apply(lambda c: c.cluster_security_group_id or "")
        self.deployer_access = EksDeployerAccess(name, self, args, self.cluster, self.cluster_sg, identity.arn).admin
        self.register_outputs({"name": self.cluster.name})

    def _cluster(
        self,
        name: str,
        args: EksClusterArgs,
        cluster_name: str,
        cluster_role: aws_iam.Role,
        after: list[pulumi.Resource],
    ) -> aws_eks.Cluster:
        """The cluster: private API endpoint (public only for authorized networks), API authentication,
        secrets encrypted with the key, every control-plane log type, add-ons left to the other parts."""
        public = args.api_access == "authorized-networks"
        vpc_config: aws_eks.ClusterVpcConfigArgsDict = {
            "subnet_ids": list(args.network.app_subnet_ids),
            "endpoint_private_access": True,
            "endpoint_public_access": public,
        }
        if public:
            vpc_config["public_access_cidrs"] = list(args.api_authorized_cidrs)
        return aws_eks.Cluster(
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )


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
        if args.deployer_security_group is not None:
            aws_vpc.SecurityGroupIngressRule(
                f"{name}-api-from-deploy-runner",
                security_group_id=cluster_sg,
                referenced_security_group_id=args.deployer_security_group,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="Kubernetes API from Triplane's deploy runner",
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
