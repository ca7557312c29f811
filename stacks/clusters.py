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
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_kubernetes import provider as k8s_provider

from triplane.components.images import DCGM_EXPORTER, NVIDIA_DEVICE_PLUGIN, Image, ImageSource, Mirror, Upstream
from triplane.components.observability.alerts import GatewayRoute, ModelServer, MonitoredUseCase
from triplane.components.observability.forwarding import PrometheusForwarding
from triplane.components.self_managed import sizing
from triplane.components.self_managed.addons import CRD_GROUPS, PROMETHEUS_URL, ClusterAddons, ClusterAddonsArgs
from triplane.components.self_managed.device_plugin import NvidiaDevicePlugin, NvidiaDevicePluginArgs
from triplane.components.self_managed.gpu_metrics import GpuMetricsExporter, GpuMetricsExporterArgs
from triplane.components.self_managed.gpu_metrics import Source as GpuMetricsSource
from triplane.components.self_managed.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from triplane.components.self_managed.nodes import SYSTEM_MACHINES, SystemNodes
from triplane.components.self_managed.refs import ClusterRef
from triplane.components.tagging import k8s_labels
from triplane.stacks.clouds import SEAMS
from triplane.stacks.clouds.seam import InCluster
from triplane.stacks.context import StackContext
from triplane.stacks.spec import Environment, KubernetesCluster
from triplane.stacks.spec.self_managed import SelfManagedUseCase, addons_needed, in_new_network

UPSTREAM = "upstream"
"""An existing cluster's `registry` when its nodes pull from the public registries themselves."""
GPU_METRICS: dict[str, GpuMetricsSource] = {"triplane": "exporter", "bottlerocket": "exporter", "gke": "gke-managed"}
"""Who installs a new cluster's device plugin -> how its GPU metrics reach Prometheus (see
`gpu_metrics`)."""


@dataclass(frozen=True)
class ClusterReference:
    """A new cluster's cloud facts a use case's weights import reads, from the platform's contract."""

    name: pulumi.Input[str]
    """The cloud's name of the cluster (EKS: the Pod Identity association's cluster)."""
    project: str | None = None
    """GKE: the cluster's project (Workload Identity members name it)."""
    oidc_issuer_url: pulumi.Input[str] | None = None
    """AKS: the issuer its workload identities federate with."""


@dataclass(frozen=True)
class PoolReference:
    """A GPU node pool of the platform stack, as a model server selects it."""

    node_selector: dict[str, str]


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
    reference: ClusterReference | None = None
    """What a use-case stack knows of a new cluster the platform stack created (None: built here)."""
    prometheus_workspace: pulumi.Input[str] | None = None
    """The cloud's managed Prometheus that keeps the cluster's series and evaluates its alerts
    (`ManagedPrometheus.workspace`); None: its own Prometheus evaluates them."""

    @property
    def creates_pools(self) -> bool:
        """Triplane created the cluster (here, or in the platform stack), so its GPU pools are Triplane's."""
        return self.spec.new is not None

    def opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers=[self.provider])

    @property
    def crd_releases(self) -> dict[str, pulumi.Resource]:
        """API group -> the release installing its CRD here (a group the cluster provides has none)."""
        releases = self.addons.releases if self.addons is not None else {}
        return {group: releases[addon] for group, addon in CRD_GROUPS.items() if addon in releases}


def use_cases_on(ctx: StackContext, cluster: str) -> list[SelfManagedUseCase]:
    """One use case per service (use cases sharing a service share its pods), in spec order."""
    return served_on(ctx.environment, cluster)


def served_on(environment: Environment, cluster: str) -> list[SelfManagedUseCase]:
    """`use_cases_on` from the spec alone."""
    seen: set[str] = set()
    found = []
    for use_case in environment.use_cases:
        if (
            isinstance(use_case, SelfManagedUseCase)
            and use_case.cluster == cluster
            and use_case.service_name not in seen
        ):
            seen.add(use_case.service_name)
            found.append(use_case)
    return found


def gpu_metrics_source(environment: Environment, spec: KubernetesCluster) -> GpuMetricsSource | None:
    """How the cluster's GPU metrics reach Triplane's Prometheus (None: they do not).

    They are part of the environment's `monitoring`, which reads them: without it, none. A cluster
    that brings its own GPU stack (usually the GPU Operator, exporter included) brings its GPU metrics
    too, scraped by its own monitoring; Triplane's exporter needs the GPU nodes named (it cannot start
    on a node without one). A new cluster whose cache cannot front the exporter's registry (EKS: ECR
    has no nvcr.io upstream) pulls it through the egress firewall of a network Triplane creates; in an
    existing network, whose way out is not Triplane's, it has none."""
    if environment.monitoring is None:
        return None
    existing = spec.existing
    if existing is not None:
        return "exporter" if "nvidia-device-plugin" not in existing.provides and existing.gpu_node_selector else None
    assert spec.new is not None
    seam = SEAMS[spec.new.cloud]
    source = GPU_METRICS.get(seam.device_plugin_installed_by)
    if source == "exporter" and DCGM_EXPORTER.host not in seam.cached_registries:
        return source if in_new_network(environment, spec) else None
    return source


def gpu_node_images(environment: Environment, spec: KubernetesCluster) -> tuple[Image, ...]:
    """The images `_build_cluster` puts on a new cluster's GPU nodes, from the spec alone (the egress
    allowlist needs them before anything is built): the device plugin where Triplane installs it, and
    the GPU metrics exporter where self-managed use cases run."""
    assert spec.new is not None
    images = [NVIDIA_DEVICE_PLUGIN] if SEAMS[spec.new.cloud].device_plugin_installed_by == "triplane" else []
    if gpu_metrics_source(environment, spec) == "exporter" and served_on(environment, spec.name):
        images.append(DCGM_EXPORTER)
    return tuple(images)


def cluster_for(ctx: StackContext, name: str) -> ClusterHandle:
    return ctx.shared(("cluster", name), lambda: _build_cluster(ctx, ctx.environment.cluster(name)))


def charted_clusters(ctx: StackContext, use_cases: Sequence[MonitoredUseCase], cloud: str) -> list[ClusterHandle]:
    """The clusters on `cloud` with a managed Prometheus (built here or the platform stack's) that hold a
    model server or gateway route of `use_cases`, once each, in the use cases' order: the clusters whose
    rows the cloud's dashboard draws."""
    found: dict[str, ClusterHandle] = {}
    for use_case in use_cases:
        target = use_case.target
        if not isinstance(target, ModelServer | GatewayRoute) or target.cluster in found:
            continue
        handle = cluster_for(ctx, target.cluster)
        if handle.cloud == cloud and handle.prometheus_workspace is not None:
            found[target.cluster] = handle
    return list(found.values())


def _needs_shared_cache(use_cases: list[SelfManagedUseCase]) -> bool:
    return any(u.cache.access_mode == "ReadWriteMany" and u.cache.storage_class is None for u in use_cases)


def existing_cluster_provider(ctx: StackContext, spec: KubernetesCluster) -> k8s_provider.Provider:
    """The Kubernetes provider of an existing cluster: its kubeconfig context on the deploying machine."""
    existing = spec.existing
    assert existing is not None
    return k8s_provider.Provider(
        f"{ctx.stack}-{spec.name}-k8s", context=existing.kubeconfig_context, kubeconfig=existing.kubeconfig_path
    )


def _build_cluster(ctx: StackContext, spec: KubernetesCluster) -> ClusterHandle:
    name = f"{ctx.stack}-{spec.name}"
    if spec.existing is not None:
        existing = spec.existing
        provider = existing_cluster_provider(ctx, spec)
        seam = SEAMS.get(existing.cloud or "")
        annotations = dict(seam.load_balancer_annotations) if seam is not None else {}
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
        gpu_metrics = gpu_metrics_source(ctx.environment, spec)
        if "nvidia-device-plugin" not in existing.provides:
            # Without Triplane's pool label: the cluster's GPU node labels, or every node.
            _device_plugin(name, handle, labels, in_cluster, node_label=None)
        _addons(ctx, name, handle, set(existing.provides), labels, in_cluster, gpu_metrics is not None)
        if gpu_metrics is not None:
            _gpu_metrics(name, handle, gpu_metrics, labels, in_cluster, node_label=None)
        return handle

    assert spec.new is not None
    new = spec.new
    cloud = new.cloud
    seam = SEAMS[cloud]
    tags = ctx.tags()
    shared_cache = _needs_shared_cache(use_cases_on(ctx, spec.name))
    system = new.system_nodes
    system_nodes = SystemNodes(
        system.machine_type or SYSTEM_MACHINES[cloud], system.min, system.max, system.disk_size_gb
    )
    component = seam.cluster(ctx, spec, system_nodes, shared_cache)
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
        load_balancer_annotations=dict(seam.load_balancer_annotations),
    )
    handle.images = seam.image_cache(ctx, name, component)
    labels = k8s_labels(tags)
    in_cluster = pulumi.ResourceOptions(parent=component, providers=[provider])
    if seam.device_plugin_installed_by == "triplane":
        _device_plugin(name, handle, labels, in_cluster, node_label="triplane.io/gpu-type")
    # GPU nodes exist where self-managed use cases run (a cluster of the AI gateway alone has none).
    gpu_metrics = gpu_metrics_source(ctx.environment, spec) if use_cases_on(ctx, spec.name) else None
    forwarding = None
    if ctx.environment.monitoring is not None:
        from triplane.stacks.observability import managed_prometheus  # loads only with monitoring

        managed = managed_prometheus(ctx, spec, component)
        if managed is not None:
            handle.prometheus_workspace, forwarding = managed.workspace, managed.forwarding
    _addons(ctx, name, handle, set(), labels, in_cluster, gpu_metrics is not None, forwarding)
    if gpu_metrics is not None:
        uncached = gpu_metrics == "exporter" and handle.images.upstream_hosts(DCGM_EXPORTER)
        pull_after = _firewall_routes(ctx, cloud) if uncached else []
        _gpu_metrics(name, handle, gpu_metrics, labels, in_cluster, "triplane.io/gpu-type", pull_after)
    handle.read_write_once, handle.read_write_many = seam.cluster_extras(
        ctx, component, InCluster(name=name, version=spec.version, images=handle.images, labels=labels, opts=in_cluster)
    )
    return handle


def _firewall_routes(ctx: StackContext, cloud: str) -> list[pulumi.Resource]:
    """The routes through the network's egress firewall (built here if nothing else needed it): what a
    pull from a registry the cluster's cache cannot front waits for."""
    from triplane.stacks.egress import egress_for  # egress reads this module's gpu_node_images

    return list(egress_for(ctx, cloud).ready)


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


def _gpu_metrics(
    name: str,
    handle: ClusterHandle,
    source: GpuMetricsSource,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    node_label: str | None,
    pull_after: Sequence[pulumi.Resource] = (),
) -> GpuMetricsExporter:
    # A service of the cluster's monitoring: it sits with the add-ons Triplane installs there (its
    # Prometheus among them), if any.
    if handle.addons is not None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=handle.addons))
    return GpuMetricsExporter(
        f"{name}-gpu-metrics",
        GpuMetricsExporterArgs(
            source=source,
            image=handle.images.ref(DCGM_EXPORTER) if source == "exporter" else None,
            node_label=node_label,
            node_selector=dict(handle.gpu_node_selector),
            monitor_after=handle.crd_releases.get("monitoring.coreos.com"),
            pull_after=pull_after,
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
    gpu_metrics: bool = False,
    forwarding: PrometheusForwarding | None = None,
) -> None:
    """Install what the cluster's use cases need and it does not provide (nothing at all if none); GPU
    metrics need a Prometheus to reach."""
    needed = addons_needed(use_cases_on(ctx, handle.spec.name)) | ({"prometheus-operator"} if gpu_metrics else set())
    install = needed - provided
    if install:
        handle.addons = ClusterAddons(
            f"{name}-addons",
            ClusterAddonsArgs(install=install, images=handle.images, tags=labels, forwarding=forwarding),
            opts=opts,
        )


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
