"""Kubernetes clusters and GPU node pools: built once each, shared by every use case on them.

A cluster under `kubernetes` is created (EKS, GKE or AKS, in that cloud's environment network) or
referenced (an existing kubeconfig context) the first time a use case names it. Its Kubernetes
provider is built here, from the new cluster's kubeconfig output (kept secret) or from the
existing context. GPU node pools are keyed by (cluster, GPU type, capacity type) and sized for all
the use cases that land on them: the largest pod decides the machine, the sum of their replicas the
node counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes import provider as k8s_provider

from components.image_cache.aws import EcrPullThroughCache, EcrPullThroughCacheArgs
from components.image_cache.azure import AcrCache, AcrCacheArgs
from components.image_cache.gcp import ArtifactRegistryCache, ArtifactRegistryCacheArgs
from components.images import NVIDIA_DEVICE_PLUGIN, ImageSource, Mirror, Upstream, cluster_autoscaler
from components.self_managed import sizing
from components.self_managed.addons import CRD_GROUPS, PROMETHEUS_URL, ClusterAddons, ClusterAddonsArgs
from components.self_managed.aks import AksCluster, AksClusterArgs
from components.self_managed.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.self_managed.device_plugin import NvidiaDevicePlugin, NvidiaDevicePluginArgs
from components.self_managed.eks import EksCluster, EksClusterArgs
from components.self_managed.gke import GkeCluster, GkeClusterArgs
from components.self_managed.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from components.self_managed.nodes import SYSTEM_MACHINES, SystemNodes
from components.self_managed.refs import ClusterRef
from components.self_managed.storage import CacheStorageClasses, CacheStorageClassesArgs
from components.tagging import k8s_labels
from stacks.cloud_apis import aws_interface_endpoints
from stacks.context import StackContext
from stacks.secrets import require_secret
from stacks.spec import KubernetesCluster
from stacks.spec.self_managed import SelfManagedUseCase, addons_needed

INTERNAL_LOAD_BALANCER: dict[str, dict[str, str]] = {
    "aws": {
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    },
    "azure": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
    "gcp": {"networking.gke.io/load-balancer-type": "Internal"},
}
CACHE_CLASSES: dict[str, tuple[str, str]] = {
    "gcp": ("standard-rwo", "standard-rwx"),
    "azure": ("managed-csi-premium", "azurefile-csi-premium"),
}
"""(ReadWriteOnce, ReadWriteMany) storage classes the cloud's clusters bring; EKS gets Triplane's."""
UPSTREAM = "upstream"
"""An existing cluster's `registry` when its nodes pull from the public registries themselves."""
DEVICE_PLUGIN_INSTALLED_BY = {"aws": "bottlerocket", "azure": "triplane", "gcp": "gke"}
"""Who runs the NVIDIA device plugin on a new cluster's GPU nodes: EKS GPU pools use Bottlerocket's NVIDIA
AMI, which has it built in; AKS GPU pools have only the driver; GKE installs the plugin with the driver
(`gpu_driver_version` on its pools)."""


@dataclass
class ClusterHandle:
    """What a model server needs from its cluster, whichever way the cluster came to be."""

    spec: KubernetesCluster
    cloud: str | None
    provider: k8s_provider.Provider
    ref: ClusterRef | None = None
    """None for an existing cluster: Triplane adds no node pools there."""
    component: pulumi.Resource | None = None
    read_write_once: str | None = None
    read_write_many: str | None = None
    load_balancer_annotations: dict[str, str] = field(default_factory=dict)
    gpu_node_selector: dict[str, str] = field(default_factory=dict)
    images: ImageSource = field(default_factory=Upstream)
    """Where this cluster's nodes pull every image Triplane deploys from."""
    addons: ClusterAddons | None = None
    """The add-ons Triplane installs here (none if the use cases need none or the cluster provides them)."""
    prometheus_url: str = PROMETHEUS_URL
    """The Prometheus KEDA queries: Triplane's, or the one an existing cluster names."""

    def opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers=[self.provider])

    @property
    def crd_releases(self) -> dict[str, pulumi.Resource]:
        """API group -> the release installing its CRD here (a group the cluster provides has none)."""
        releases = self.addons.releases if self.addons is not None else {}
        return {group: releases[addon] for group, addon in CRD_GROUPS.items() if addon in releases}


def use_cases_on(ctx: StackContext, cluster: str) -> list[SelfManagedUseCase]:
    """One use case per service (use cases sharing a service share its pods), in spec order."""
    seen: set[str] = set()
    found = []
    for use_case in ctx.environment.use_cases:
        if (
            isinstance(use_case, SelfManagedUseCase)
            and use_case.cluster == cluster
            and use_case.service_name not in seen
        ):
            seen.add(use_case.service_name)
            found.append(use_case)
    return found


def cluster_for(ctx: StackContext, name: str) -> ClusterHandle:
    return ctx.shared(("cluster", name), lambda: _build_cluster(ctx, ctx.environment.cluster(name)))


def _needs_shared_cache(use_cases: list[SelfManagedUseCase]) -> bool:
    return any(u.cache.access_mode == "ReadWriteMany" and u.cache.storage_class is None for u in use_cases)


def _build_cluster(ctx: StackContext, spec: KubernetesCluster) -> ClusterHandle:
    name = f"{ctx.stack}-{spec.name}"
    if spec.existing is not None:
        existing = spec.existing
        provider = k8s_provider.Provider(
            f"{name}-k8s",
            context=existing.kubeconfig_context,
            kubeconfig=existing.kubeconfig_path,
        )
        annotations = dict(INTERNAL_LOAD_BALANCER.get(existing.cloud or "", {}))
        annotations.update(existing.load_balancer_annotations)
        handle = ClusterHandle(
            spec=spec,
            cloud=existing.cloud,
            provider=provider,
            read_write_once=existing.storage_class,
            read_write_many=existing.storage_class,
            load_balancer_annotations=annotations,
            gpu_node_selector=dict(existing.gpu_node_selector),
            prometheus_url=existing.prometheus_url or PROMETHEUS_URL,
            images=Upstream() if existing.registry in (None, UPSTREAM) else Mirror(existing.registry),
        )
        in_cluster = pulumi.ResourceOptions(providers=[provider])
        labels = k8s_labels(ctx.tags())
        if "nvidia-device-plugin" not in existing.provides:
            # Without Triplane's pool label: the cluster's GPU node labels, or every node.
            _device_plugin(name, handle, labels, in_cluster, node_label=None)
        _addons(ctx, name, handle, set(existing.provides), labels, in_cluster)
        return handle

    from stacks.networks import network_for

    assert spec.new is not None
    new = spec.new
    cloud = new.cloud
    network = network_for(ctx, cloud)
    tags = ctx.tags()
    shared_cache = _needs_shared_cache(use_cases_on(ctx, spec.name))
    system = new.system_nodes
    system_nodes = SystemNodes(
        system.machine_type or SYSTEM_MACHINES[cloud], system.min, system.max, system.disk_size_gb
    )
    component: EksCluster | GkeCluster | AksCluster
    if cloud == "aws":
        component = EksCluster(
            name,
            EksClusterArgs(
                network=network,
                version=spec.version,
                api_access="authorized-networks" if new.api_access == "authorized-networks" else "private",
                api_authorized_cidrs=list(new.api_authorized_cidrs),
                deployer_cidrs=list(new.deployer.private_cidrs),
                deployer_principal=new.deployer.principal,
                system_nodes=system_nodes,
                service_endpoints=new.service_endpoints == "create",
                interface_endpoints=(
                    aws_interface_endpoints(ctx, network) if new.service_endpoints == "create" else None
                ),
                shared_cache=shared_cache,
                kms_key=new.kms_key,
                log_retention_days=new.log_retention_days,
                tags=tags,
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("aws"),
        )
    elif cloud == "gcp":
        component = GkeCluster(
            name,
            GkeClusterArgs(
                network=network,
                version=spec.version,
                api_access=new.api_access,
                api_authorized_cidrs=list(new.api_authorized_cidrs),
                deployer_cidrs=list(new.deployer.private_cidrs),
                deployer_principal=new.deployer.principal,
                system_nodes=system_nodes,
                shared_cache=shared_cache,
                kms_key=new.kms_key,
                tags=tags,
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("gcp"),
        )
    else:
        azure = ctx.environment.clouds.azure
        resource_group = azure.resource_group if azure is not None else ""
        key = (new.kms_key_vault, new.kms_key) if new.kms_key and new.kms_key_vault else None
        registry = _azure_cache(ctx, network)
        component = AksCluster(
            name,
            AksClusterArgs(
                network=network,
                version=spec.version,
                api_access="authorized-networks" if new.api_access == "authorized-networks" else "private",
                api_authorized_cidrs=list(new.api_authorized_cidrs),
                deployer_principal=new.deployer.principal,
                system_nodes=system_nodes,
                kms_key=key,
                vault_name=ctx.name(spec.name, resource_group, kind="key_vault"),
                log_retention_days=new.log_retention_days,
                registry_id=registry.registry_id,
                registry_ready=registry.ready,
                tags=tags,
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("azure"),
        )
    # The kubeconfig is derived from the cluster's endpoint and the deployer's access grant, so the
    # provider already waits for both; a depends_on on the whole component would also wait for the
    # in-cluster children below, which wait for this provider: a cycle.
    provider = k8s_provider.Provider(f"{name}-k8s", kubeconfig=component.kubeconfig)
    handle = ClusterHandle(
        spec=spec,
        cloud=cloud,
        provider=provider,
        ref=component.ref,
        component=component,
        load_balancer_annotations=dict(INTERNAL_LOAD_BALANCER[cloud]),
    )
    handle.images = _image_source(ctx, name, component, network)
    labels = k8s_labels(tags)
    in_cluster = pulumi.ResourceOptions(parent=component, providers=[provider])
    if DEVICE_PLUGIN_INSTALLED_BY[cloud] == "triplane":
        _device_plugin(name, handle, labels, in_cluster, node_label="triplane.io/gpu-type")
    _addons(ctx, name, handle, set(), labels, in_cluster)
    if isinstance(component, EksCluster):
        # GKE and AKS scale their pools themselves; EKS node groups need the cluster autoscaler.
        ClusterAutoscaler(
            f"{name}-autoscaler",
            ClusterAutoscalerArgs(
                cluster_name=component.ref.name,
                region=network.region,
                image=handle.images.ref(cluster_autoscaler(spec.version)),
                tags=labels,
            ),
            opts=in_cluster,
        )
        classes = CacheStorageClasses(
            f"{name}-storage",
            CacheStorageClassesArgs(
                kms_key_arn=component.kms_key_arn, efs_file_system_id=component.efs_file_system_id, tags=labels
            ),
            opts=in_cluster,
        )
        handle.read_write_once, handle.read_write_many = classes.read_write_once, classes.read_write_many
    else:
        handle.read_write_once, handle.read_write_many = CACHE_CLASSES[cloud]
    return handle


def _device_plugin(
    name: str, handle: ClusterHandle, labels: dict[str, str], opts: pulumi.ResourceOptions, node_label: str | None
) -> NvidiaDevicePlugin:
    return NvidiaDevicePlugin(
        f"{name}-nvidia",
        NvidiaDevicePluginArgs(
            node_label=node_label,
            node_selector=dict(handle.gpu_node_selector),
            image=handle.images.ref(NVIDIA_DEVICE_PLUGIN),
            tags=labels,
        ),
        opts=opts,
    )


def _addons(
    ctx: StackContext,
    name: str,
    handle: ClusterHandle,
    provided: set[str],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> None:
    """Install what the cluster's use cases need and it does not provide (nothing at all if none)."""
    install = addons_needed(use_cases_on(ctx, handle.spec.name)) - provided
    if install:
        handle.addons = ClusterAddons(
            f"{name}-addons", ClusterAddonsArgs(install=install, images=handle.images, tags=labels), opts=opts
        )


def _image_source(
    ctx: StackContext, name: str, component: EksCluster | GkeCluster | AksCluster, network: Any
) -> ImageSource:
    """The cloud's cache, with what this cluster's nodes need to pull through it."""
    if isinstance(component, EksCluster):
        ecr = _aws_cache(ctx, network.region)
        ecr.grant_pull(f"{name}-image-cache", component.ref.node_role_arn)
        return ecr.source()
    if isinstance(component, GkeCluster):
        artifact = _gcp_cache(ctx, network.project, network.region)
        member = pulumi.Output.from_input(component.ref.node_service_account).apply(
            lambda email: f"serviceAccount:{email}"
        )
        artifact.grant_read(f"{name}-image-cache", member)
        return artifact.source()
    return _azure_cache(ctx, network).source()


def _aws_cache(ctx: StackContext, region: str) -> EcrPullThroughCache:
    """The account's ECR pull-through cache in the environment's region, created once."""

    def build() -> EcrPullThroughCache:
        aws = ctx.environment.clouds.aws
        assert aws is not None
        return EcrPullThroughCache(
            f"{ctx.stack}-aws-images",
            EcrPullThroughCacheArgs(
                region=region,
                environment=ctx.stack,
                credentials={
                    "docker.io": require_secret(aws.image_cache.docker_hub_secret),
                    "ghcr.io": require_secret(aws.image_cache.ghcr_secret),
                },
                tags=ctx.tags(),
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("aws"),
        )

    return ctx.shared(("image-cache", "aws"), build)


def _azure_cache(ctx: StackContext, network: Any) -> AcrCache:
    def build() -> AcrCache:
        azure = ctx.environment.clouds.azure
        assert azure is not None
        return AcrCache(
            f"{ctx.stack}-azure-images",
            AcrCacheArgs(
                network=network,
                registry_name=ctx.name("images", azure.resource_group, kind="acr"),
                tags=ctx.tags(),
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("azure"),
        )

    return ctx.shared(("image-cache", "azure"), build)


def _gcp_cache(ctx: StackContext, project: str, region: str) -> ArtifactRegistryCache:
    def build() -> ArtifactRegistryCache:
        gcp = ctx.environment.clouds.gcp
        assert gcp is not None
        keys = {"docker.io": gcp.image_cache.docker_hub_secret, "ghcr.io": gcp.image_cache.ghcr_secret}
        return ArtifactRegistryCache(
            f"{ctx.stack}-gcp-images",
            ArtifactRegistryCacheArgs(
                project=project,
                region=region,
                environment=ctx.stack,
                credentials={host: require_secret(key) for host, key in keys.items() if key is not None},
                tags=ctx.tags(),
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("gcp"),
        )

    return ctx.shared(("image-cache", "gcp"), build)


@dataclass(frozen=True)
class PoolPlan:
    machine_type: str
    machine: sizing.Machine
    gpus_per_node: int
    min_nodes: int
    max_nodes: int
    disk_size_gb: int


def plan_pool(cloud: str, gpu_type: str, use_cases: list[SelfManagedUseCase]) -> PoolPlan:
    """Size one pool for the use cases on it (one per service).

    The largest pod picks the machine. Minimum nodes hold every service's minimum replicas; maximum
    nodes hold every maximum, plus one surge pod per service that rolls its updates.
    """
    largest = max(u.gpu.count for u in use_cases)
    found = sizing.machine_for(cloud, gpu_type, largest)
    if found is None:
        raise ValueError(f"{cloud} has no machine with {largest} x {gpu_type}")
    machine_type, machine = found
    min_gpus = sum(u.replicas.min * u.gpu.count for u in use_cases)
    max_gpus = sum(
        (u.replicas.max + (1 if u.cache.access_mode == "ReadWriteMany" else 0)) * u.gpu.count for u in use_cases
    )
    return PoolPlan(
        machine_type=machine_type,
        machine=machine,
        gpus_per_node=machine.gpus,
        min_nodes=sizing.nodes_needed(min_gpus, machine.gpus),
        max_nodes=max(1, sizing.nodes_needed(max_gpus, machine.gpus)),
        disk_size_gb=max(u.node_pool.disk_size_gb for u in use_cases),
    )


def node_pool_for(
    ctx: StackContext, handle: ClusterHandle, use_case: SelfManagedUseCase
) -> tuple[GpuNodePool, PoolPlan]:
    key = ("gpu-pool", handle.spec.name, use_case.gpu.type, use_case.node_pool.capacity_type)
    return ctx.shared(key, lambda: _build_pool(ctx, handle, use_case.gpu.type, use_case.node_pool.capacity_type))


def _build_pool(ctx: StackContext, handle: ClusterHandle, gpu_type: str, capacity: str) -> tuple[GpuNodePool, PoolPlan]:
    assert handle.ref is not None and handle.cloud is not None
    on_pool = [
        u
        for u in use_cases_on(ctx, handle.spec.name)
        if u.gpu.type == gpu_type and u.node_pool.capacity_type == capacity
    ]
    plan = plan_pool(handle.cloud, gpu_type, on_pool)
    short = gpu_type.removeprefix("nvidia-")
    pool = GpuNodePool(
        f"{ctx.stack}-{handle.spec.name}-{short}-{'spot' if capacity == 'spot' else 'od'}",
        GpuNodePoolArgs(
            cluster=handle.ref,
            gpu_type=gpu_type,
            machine_type=plan.machine_type,
            gpus_per_node=plan.gpus_per_node,
            min_nodes=plan.min_nodes,
            max_nodes=plan.max_nodes,
            capacity_type="spot" if capacity == "spot" else "on-demand",
            disk_size_gb=plan.disk_size_gb,
            tags=ctx.tags(),
        ),
        opts=pulumi.ResourceOptions(parent=handle.component, providers=[ctx.providers.for_cloud(handle.cloud)]),
    )
    return pool, plan


def cache_size_gb(use_case: SelfManagedUseCase) -> int:
    if use_case.cache.size_gb is not None:
        return use_case.cache.size_gb
    info = use_case.model.info
    weights = info.parameters_billion * sizing.BYTES_PER_PARAMETER[use_case.model.weight_format]
    return math.ceil(weights * 1.5 + 20)


def startup_seconds(use_case: SelfManagedUseCase) -> int:
    """Long enough to download and load the weights: 10 minutes plus 20 s per GB, 15 to 60 minutes."""
    if use_case.startup_timeout_minutes is not None:
        return use_case.startup_timeout_minutes * 60
    info = use_case.model.info
    weights = info.parameters_billion * sizing.BYTES_PER_PARAMETER[use_case.model.weight_format]
    return int(min(3600, max(900, 600 + 20 * weights)))
