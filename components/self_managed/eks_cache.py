"""Storage for the model caches of an `EksCluster`: the EBS CSI driver and, for shared caches, EFS.

Parts of the cluster component (`SubComponent`): their resources keep the URNs they had as its own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import efs as aws_efs
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_aws import vpc as aws_vpc

from triplane.components.self_managed.eks_control_plane import role_trust
from triplane.components.self_managed.eks_nodes import eks_addon
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import SubComponent

if TYPE_CHECKING:
    from triplane.components.self_managed.eks import EksClusterArgs


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
