"""CacheStorageClasses: the storage classes model caches use on an EKS cluster Triplane creates.

EKS ships no usable default class (the in-tree gp2 class is gone from new clusters and unencrypted):
creates `triplane-gp3` (EBS gp3 through the EBS CSI driver, encrypted with the cluster's key) and,
when the cluster has an EFS file system, `triplane-efs` (ReadWriteMany through EFS access points
owned by the model servers' non-root user). GKE (`standard-rwo`, `standard-rwx`) and AKS
(`managed-csi-premium`, `azurefile-csi-premium`) bring their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_kubernetes import storage as k8s_storage

from triplane.components.self_managed.engines import NON_ROOT_UID

EBS_CLASS = "triplane-gp3"
EFS_CLASS = "triplane-efs"


@dataclass
class CacheStorageClassesArgs:
    kms_key_arn: pulumi.Input[str]
    efs_file_system_id: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class CacheStorageClasses(pulumi.ComponentResource):
    read_write_once: str
    read_write_many: str | None

    def __init__(self, name: str, args: CacheStorageClassesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:CacheStorageClasses", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        k8s_storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={"name": EBS_CLASS, "labels": dict(args.tags)},
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": args.kms_key_arn},
            reclaim_policy="Delete",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=child,
        )
        self.read_write_once = EBS_CLASS
        self.read_write_many = None
        if args.efs_file_system_id is not None:
            k8s_storage.v1.StorageClass(
                f"{name}-efs",
                metadata={"name": EFS_CLASS, "labels": dict(args.tags)},
                provisioner="efs.csi.aws.com",
                parameters={
                    "provisioningMode": "efs-ap",
                    "fileSystemId": args.efs_file_system_id,
                    "directoryPerms": "700",
                    "uid": str(NON_ROOT_UID),
                    "gid": str(NON_ROOT_UID),
                    "basePath": "/model-caches",
                },
                reclaim_policy="Delete",
                volume_binding_mode="Immediate",
                opts=child,
            )
            self.read_write_many = EFS_CLASS
        self.register_outputs({"read_write_once": self.read_write_once, "read_write_many": self.read_write_many})
