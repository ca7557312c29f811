"""GpuNodePool: autoscaling GPU nodes on EKS, GKE or AKS, private and tainted for GPU work only.

Creates, depending on the cluster it is given:
- EKS: a launch template (encrypted gp3 volumes: Bottlerocket's OS volume and its data volume sized
  for the images, IMDSv2 only with a hop limit of 1 so pods cannot borrow the node's role, and the
  Bottlerocket settings of `BOTTLEROCKET_GPU_SETTINGS`) and a
  managed node group with the Bottlerocket NVIDIA AMI (`BOTTLEROCKET_x86_64_NVIDIA`: the driver and
  the NVIDIA device plugin are part of the OS, so no plugin image has to be pulled from nvcr.io,
  which ECR cannot cache), on-demand or spot, tainted `nvidia.com/gpu=present:NoSchedule`.
- GKE: a node pool with guest accelerators and GKE-managed driver installation, private nodes,
  Shielded VMs, the GKE metadata server, a least-privilege service account (GKE taints GPU
  nodes `nvidia.com/gpu=present:NoSchedule` itself).
- AKS: a user agent pool with a GPU VM size, no node public IPs, the `sku=gpu:NoSchedule` taint
  (AKS adds `kubernetes.azure.com/scalesetpriority=spot` to spot pools).

Every pool carries the labels `triplane.io/gpu-type`, `triplane.io/capacity-type` and
`triplane.io/node-pool`, which the model servers select on. A pool may shrink to zero nodes on all
three; it grows again only when a pending pod asks for a GPU, which for a model server at zero
replicas means its `autoscaling.active_hours` cron trigger (KEDA) has started one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_aws import eks as aws_eks
from pulumi_azure_native import containerservice as azure_containerservice
from pulumi_gcp import container as gcp_container

from triplane.components.naming import physical_name
from triplane.components.self_managed.nodes import eks_launch_template
from triplane.components.self_managed.refs import AksClusterRef, ClusterRef, EksClusterRef, GkeClusterRef
from triplane.components.self_managed.sizing import GPUS
from triplane.components.tagging import gcp_labels, tagged

GPU_TYPE_LABEL = "triplane.io/gpu-type"
CAPACITY_LABEL = "triplane.io/capacity-type"
POOL_LABEL = "triplane.io/node-pool"
EKS_GPU_AMI = "BOTTLEROCKET_x86_64_NVIDIA"
EKS_GPU_AMI_FAMILY = "bottlerocket"
"""Bottlerocket's NVIDIA variant runs the driver and the Kubernetes device plugin as part of the OS."""
BOTTLEROCKET_OS_VOLUME_GB = 8
"""At least the OS image's own size (2-4 GiB); images and pod storage live on the data volume."""
BOTTLEROCKET_GPU_SETTINGS = """\
[settings.kubelet-device-plugins.nvidia]
device-id-strategy = "uuid"

[settings.nvidia-container-runtime]
visible-devices-as-volume-mounts = true
visible-devices-envvar-when-unprivileged = false
"""
"""The GPU nodes' Bottlerocket settings (https://bottlerocket.dev/en/os/latest/api/settings/): the built-in
device plugin names GPUs by UUID (its default is the index), as the kubelet's pod-resources API then
reports them and dcgm-exporter maps them to pods; the NVIDIA runtime takes device requests as volume
mounts only (its defaults, stated), which the GPU metrics exporter uses and no unprivileged pod's
environment variable can bypass."""


@dataclass
class GpuNodePoolArgs:
    cluster: ClusterRef
    gpu_type: str
    """Catalog name, e.g. nvidia-l4 (see `sizing.GPUS`)."""
    machine_type: str
    gpus_per_node: int
    min_nodes: int = 0
    max_nodes: int = 1
    capacity_type: Literal["on-demand", "spot"] = "on-demand"
    disk_size_gb: int = 200
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra Kubernetes node labels."""
    tags: Mapping[str, str] = field(default_factory=dict)


def node_labels(pool: str, gpu_type: str, capacity_type: str) -> dict[str, str]:
    """The labels every GPU node gets; model servers use them as their node selector."""
    return {GPU_TYPE_LABEL: gpu_type, CAPACITY_LABEL: capacity_type, POOL_LABEL: pool}


def aks_pool_name(gpu_type: str, capacity_type: str, machine_type: str) -> str:
    """AKS pool names: at most 12 lowercase letters and digits, starting with a letter. A short hash of
    the VM size keeps the name unique when a larger pod moves the pool to a larger size."""
    short = re.sub(r"[^a-z0-9]", "", gpu_type.removeprefix("nvidia-"))[:5]
    size = hashlib.sha256(machine_type.encode()).hexdigest()[:4]
    return f"g{short}{'sp' if capacity_type == 'spot' else 'od'}{size}"


class GpuNodePool(pulumi.ComponentResource):
    pool_name: pulumi.Output[str]
    node_selector: dict[str, str]
    """Labels that select this pool's nodes."""

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:GpuNodePool", name, None, tagged(opts, args.tags))
        if args.min_nodes > args.max_nodes:
            raise ValueError(f"{name}: min_nodes {args.min_nodes} exceeds max_nodes {args.max_nodes}")
        if args.gpu_type not in GPUS:
            raise ValueError(f"{name}: unknown GPU type {args.gpu_type!r}")
        pool = physical_name(name, kind="k8s")
        # The machine is part of the cloud-side name: a larger pod moving the pool to a larger machine
        # replaces the group, and the new one must not collide with the old one's name.
        cloud_name = physical_name(name, args.machine_type, kind="k8s")
        self.node_selector = {GPU_TYPE_LABEL: args.gpu_type, CAPACITY_LABEL: args.capacity_type}
        labels = {**args.labels, **node_labels(pool, args.gpu_type, args.capacity_type)}
        cluster = args.cluster
        if isinstance(cluster, EksClusterRef):
            self.pool_name = self._eks(name, cloud_name, args, cluster, labels)
        elif isinstance(cluster, GkeClusterRef):
            self.pool_name = self._gke(name, pool, args, cluster, labels)
        else:
            self.pool_name = self._aks(name, args, cluster, labels)
        self.register_outputs({"pool_name": self.pool_name})

    def _eks(
        self, name: str, cloud_name: str, args: GpuNodePoolArgs, cluster: EksClusterRef, labels: dict[str, str]
    ) -> pulumi.Output[str]:
        tags = {**args.tags, "Name": cloud_name}
        template = eks_launch_template(
            f"{name}-lt",
            parent=self,
            name=cloud_name,
            description=f"GPU nodes ({args.gpu_type}) for Triplane model servers",
            # Bottlerocket boots from /dev/xvda and keeps images and pod storage on /dev/xvdb.
            volumes=[("/dev/xvda", BOTTLEROCKET_OS_VOLUME_GB), ("/dev/xvdb", args.disk_size_gb)],
            tags=tags,
            tag_nodes=True,
            user_data=BOTTLEROCKET_GPU_SETTINGS,
        )
        group = aws_eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=cluster.name,
            # The AMI family is part of the name too: moving a pool to another AMI type replaces the group.
            node_group_name=physical_name(cloud_name, EKS_GPU_AMI_FAMILY, kind="k8s"),
            node_role_arn=cluster.node_role_arn,
            subnet_ids=list(cluster.subnet_ids),
            ami_type=EKS_GPU_AMI,
            capacity_type="SPOT" if args.capacity_type == "spot" else "ON_DEMAND",
            instance_types=[args.machine_type],
            scaling_config={
                "min_size": args.min_nodes,
                "max_size": args.max_nodes,
                "desired_size": args.min_nodes,
            },
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels=labels,
            taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}],
            update_config={"max_unavailable": 1},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(cluster.depends_on),
                # The cluster autoscaler moves the desired size between min and max; a later run
                # must not reset it.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
        return group.node_group_name

    def _gke(
        self, name: str, pool: str, args: GpuNodePoolArgs, cluster: GkeClusterRef, labels: dict[str, str]
    ) -> pulumi.Output[str]:
        accelerator = GPUS[args.gpu_type].gke_accelerator
        if accelerator is None:
            raise ValueError(f"{name}: GKE offers no {args.gpu_type}")
        node_config: Any = {
            "machine_type": args.machine_type,
            "disk_size_gb": args.disk_size_gb,
            "disk_type": "pd-ssd" if args.machine_type.startswith("a3-") else "pd-balanced",
            "image_type": "COS_CONTAINERD",
            "guest_accelerators": [
                {
                    "type": accelerator,
                    "count": args.gpus_per_node,
                    "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"},
                }
            ],
            "service_account": cluster.node_service_account,
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "spot": args.capacity_type == "spot",
            "labels": labels,
            "resource_labels": gcp_labels(dict(args.tags)),
            "metadata": {"disable-legacy-endpoints": "true"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        }
        if cluster.boot_disk_kms_key is not None:
            node_config["boot_disk_kms_key"] = cluster.boot_disk_kms_key
        node_pool = gcp_container.NodePool(
            f"{name}-nodes",
            name=physical_name(pool, args.machine_type, kind="gke"),
            project=cluster.project,
            location=cluster.location,
            cluster=cluster.name,
            initial_node_count=args.min_nodes,
            autoscaling={
                "total_min_node_count": args.min_nodes,
                "total_max_node_count": args.max_nodes,
                "location_policy": "ANY",
            },
            management={"auto_repair": True, "auto_upgrade": True},
            network_config={"enable_private_nodes": True},
            upgrade_settings={"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0},
            node_config=node_config,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
        )
        return node_pool.name

    def _aks(
        self, name: str, args: GpuNodePoolArgs, cluster: AksClusterRef, labels: dict[str, str]
    ) -> pulumi.Output[str]:
        spot = args.capacity_type == "spot"
        pool_name = aks_pool_name(args.gpu_type, args.capacity_type, args.machine_type)
        extra: Any = {}
        if spot:
            extra = {
                "scale_set_priority": "Spot",
                "scale_set_eviction_policy": "Delete",
                "spot_max_price": -1,
            }
        agent_pool = azure_containerservice.AgentPool(
            f"{name}-nodes",
            resource_group_name=cluster.resource_group_name,
            resource_name_=cluster.name,
            agent_pool_name=pool_name,
            mode="User",
            os_type="Linux",
            os_sku="Ubuntu",
            vm_size=args.machine_type,
            os_disk_size_gb=args.disk_size_gb,
            os_disk_type="Managed",
            vnet_subnet_id=cluster.node_subnet_id,
            enable_node_public_ip=False,
            enable_auto_scaling=True,
            count=args.min_nodes,
            min_count=args.min_nodes,
            max_count=args.max_nodes,
            orchestrator_version=cluster.version,
            gpu_profile={"driver": "Install"},
            node_labels=labels,
            node_taints=["sku=gpu:NoSchedule"],
            upgrade_settings={"max_surge": "1"},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
            **extra,
        )
        return agent_pool.name
