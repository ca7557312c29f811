"""The self-managed pattern: a use case's open model on a GPU node pool of a Kubernetes cluster.

The cluster and its GPU pools come from `stacks.clusters` (once per cluster, once per pool). Each
service gets one `TgiService`; use cases naming the same `shared_service` share it (the spec has
already checked they agree on everything but their clients), and its NetworkPolicy admits the
clients of all of them.
"""

from __future__ import annotations

import pulumi

from triplane.components.naming import physical_name
from triplane.components.references import EgressReference
from triplane.components.saas.egress_gcp import PROXY_PORT, GcpEgressProxy
from triplane.components.self_managed import sizing
from triplane.components.self_managed.autoscaling import ActiveHours, QueueScaling
from triplane.components.self_managed.device_plugin import GPU_TOLERATION_KEYS
from triplane.components.self_managed.model_server import (
    CacheVolume,
    ClientAccess,
    TgiService,
    TgiServiceArgs,
    TokenLimits,
)
from triplane.components.self_managed.weights import WeightsDownload
from triplane.components.self_managed.weights_import import (
    WeightsImport,
    model_directory,
)
from triplane.components.tagging import k8s_labels, standard_tags
from triplane.stacks.clouds import SEAMS
from triplane.stacks.clouds.azure import CLOUD as AZURE
from triplane.stacks.clouds.seam import WeightsJob
from triplane.stacks.clusters import ClusterHandle, cache_size_gb, cluster_for, node_pool_for, startup_seconds
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.egress import downloads_through_firewall, egress_for, imports_through_firewall
from triplane.stacks.secrets import require_secret
from triplane.stacks.spec.self_managed import VLLM_QUANTIZE, SelfManagedUseCase

PATTERN = "self-managed"


def sharing(ctx: StackContext, use_case: SelfManagedUseCase) -> list[SelfManagedUseCase]:
    """Every use case served by this use case's service (itself alone unless the service is shared)."""
    if use_case.shared_service is None:
        return [use_case]
    return [
        u
        for u in ctx.environment.use_cases
        if isinstance(u, SelfManagedUseCase) and u.shared_service == use_case.shared_service
    ]


def platform(use_case: SelfManagedUseCase, ctx: StackContext) -> None:
    """The cluster with its add-ons, the GPU pool (sized for every service on it) and the egress
    firewall a weights download or import goes through: in the order the server needs them."""
    handle = cluster_for(ctx, use_case.cluster)
    if handle.creates_pools:
        node_pool_for(ctx, handle, use_case)
    cloud = downloads_through_firewall(ctx.environment, use_case)
    if cloud is not None and use_case.weights.proxy is None:
        egress_for(ctx, cloud)
    if imports_through_firewall(ctx.environment, use_case):
        egress_for(ctx, AZURE)


def build(use_case: SelfManagedUseCase, ctx: StackContext) -> Endpoint:
    handle = cluster_for(ctx, use_case.cluster)
    server = ctx.shared(("model-server", use_case.service_name), lambda: _server(ctx, handle, use_case))
    app = server_app(ctx.stack, use_case)
    namespace = use_case.service_name
    url = (
        server.address.apply(lambda address: f"http://{address}")
        if use_case.exposure == "internal-load-balancer"
        else server.url
    )
    return Endpoint(
        pattern=PATTERN,
        url=url,
        auth="api-key" if use_case.api_key_secret else "network-policy",
        secret_ref=f"kubernetes://{namespace}/secrets/{app}-api-key" if use_case.api_key_secret else None,
        logs=f"kubernetes://{namespace}/deployments/{app}",
    )


def server_app(stack: str, use_case: SelfManagedUseCase) -> str:
    """The Kubernetes name of the server's objects (Deployment, Service), as `TgiService` names them."""
    return physical_name(f"{stack}-{use_case.service_name}", kind="k8s")


def _server(ctx: StackContext, handle: ClusterHandle, use_case: SelfManagedUseCase) -> TgiService:
    users = sharing(ctx, use_case)
    service = use_case.service_name
    tags = standard_tags(
        environment=ctx.stack,
        owner=ctx.environment.owner,
        cost_center=ctx.environment.cost_center,
        use_case=service,
        data_classification=use_case.data_classification,
        pattern=PATTERN,
    )
    cpu, memory = _resources(handle, use_case)
    node_selector = dict(handle.gpu_node_selector)
    if handle.creates_pools:
        pool, _ = node_pool_for(ctx, handle, use_case)
        node_selector.update(pool.node_selector)

    model = use_case.model
    quantize: str | None = model.quantize
    if quantize is not None and use_case.engine == "vllm":
        quantize = VLLM_QUANTIZE[quantize]
    tokens = use_case.tokens
    cache = use_case.cache
    access_mode = cache.access_mode
    storage_class = cache.storage_class or (
        handle.read_write_many if access_mode == "ReadWriteMany" else handle.read_write_once
    )
    clients = [u.allowed_clients for u in users]
    autoscaling = _queue_scaling(handle, use_case)
    return TgiService(
        f"{ctx.stack}-{service}",
        TgiServiceArgs(
            model_id=model.id,
            revision=model.revision,
            gpus=use_case.gpu.count,
            namespace=service,
            engine=use_case.engine,
            dtype=model.dtype,
            quantize=quantize,
            tokens=TokenLimits(
                max_input_tokens=tokens.max_input_tokens,
                max_total_tokens=tokens.max_total_tokens,
                max_batch_prefill_tokens=tokens.max_batch_prefill_tokens,
                max_batch_total_tokens=tokens.max_batch_total_tokens,
                max_concurrent_requests=tokens.max_concurrent_requests,
            ),
            replicas=use_case.replicas.min,
            autoscaling=autoscaling,
            cpu=cpu,
            memory_gib=memory,
            node_selector=node_selector,
            toleration_keys=GPU_TOLERATION_KEYS,
            cache=CacheVolume(
                size_gb=cache_size_gb(use_case),
                storage_class=storage_class,
                access_mode=access_mode,
                existing_claim=cache.existing_claim,
            ),
            download=_download(ctx, use_case),
            weights_import=_import(ctx, handle, use_case, tags),
            hf_token=require_secret(use_case.hf_token_secret) if use_case.hf_token_secret else None,
            api_key=require_secret(use_case.api_key_secret) if use_case.api_key_secret else None,
            access=ClientAccess(
                namespaces=sorted({ns for c in clients for ns in c.namespaces}),
                pod_labels=_common_labels([c.pod_labels for c in clients]),
                cidrs=sorted({cidr for c in clients for cidr in c.cidrs}),
                exposure=use_case.exposure,
                load_balancer_annotations=handle.load_balancer_annotations,
                gateway_namespace=_gateway_namespace(ctx, use_case),
            ),
            monitoring=use_case.monitoring,
            monitoring_namespace=use_case.monitoring_namespace,
            crd_releases=handle.crd_releases,
            image=handle.images.ref(use_case.server_image),
            startup_timeout_seconds=startup_seconds(use_case),
            tags=k8s_labels(tags),
            protect_data=ctx.protect_data,
        ),
        opts=handle.opts(),
    )


def _gateway_namespace(ctx: StackContext, use_case: SelfManagedUseCase) -> str | None:
    """The AI gateway's proxies' namespace, when the environment's gateway runs on this server's cluster."""
    gateway = ctx.environment.gateway
    if gateway is None or gateway.cluster != use_case.cluster:
        return None
    from triplane.components.gateway.install import ENVOY_GATEWAY_NAMESPACE  # loaded with a gateway only

    return ENVOY_GATEWAY_NAMESPACE


def _queue_scaling(handle: ClusterHandle, use_case: SelfManagedUseCase) -> QueueScaling | None:
    spec = use_case.autoscaling
    if spec is None:
        return None
    hours = spec.active_hours
    return QueueScaling(
        min_replicas=use_case.replicas.min,
        max_replicas=use_case.replicas.max,
        queue_target=spec.queue_size_target,
        scale_down_seconds=spec.scale_down_delay_seconds,
        active_hours=ActiveHours(hours.timezone, hours.start, hours.end, hours.replicas) if hours else None,
        prometheus_url=handle.prometheus_url,
    )


def _download(ctx: StackContext, use_case: SelfManagedUseCase) -> WeightsDownload | None:
    """The weights Job's way out: the stack's proxy (`weights.https_proxy`), the network's egress firewall
    where Triplane built the network, or the path the stack declared on an existing cluster; None when
    pre-filled."""
    if use_case.weights_source != "hub":
        return None
    download = WeightsDownload(timeout_seconds=download_seconds(use_case))
    proxy = use_case.weights.proxy
    if proxy is not None:
        # The stack's own proxy (the spec refuses one where Triplane's firewall is the path).
        address, port = proxy
        download.https_proxy = f"http://{address}:{port}"
        download.proxy_cidr, download.proxy_port = f"{address}/32", port
        return download
    cloud = downloads_through_firewall(ctx.environment, use_case)
    if cloud is not None:
        egress = egress_for(ctx, cloud)
        download.after = list(egress.ready)
        if isinstance(egress, GcpEgressProxy | EgressReference) and egress.proxy_address is not None:
            # Secure Web Proxy is an explicit proxy: the Job sends its HTTPS through it.
            download.https_proxy = pulumi.Output.concat("http://", egress.proxy_address, f":{PROXY_PORT}")
            download.proxy_cidr = pulumi.Output.concat(egress.proxy_address, "/32")
            download.proxy_port = PROXY_PORT
    return download


def _import(
    ctx: StackContext, handle: ClusterHandle, use_case: SelfManagedUseCase, tags: dict[str, str]
) -> WeightsImport | None:
    """The bucket import's identity and command, on the cluster's own cloud (the spec has checked it)."""
    bucket = use_case.weights.bucket
    if bucket is None or use_case.weights_source != "bucket":
        return None
    service = use_case.service_name
    job = WeightsJob(
        name=f"{ctx.stack}-{service}",
        app=physical_name(f"{ctx.stack}-{service}", kind="k8s"),
        model_path=model_directory(use_case.model.id, use_case.model.revision),
        tags=tags,
        timeout_seconds=download_seconds(use_case),
    )
    return SEAMS[bucket.cloud].weights_import(ctx, handle, use_case, job)


def download_seconds(use_case: SelfManagedUseCase) -> int:
    """10 minutes plus 30 s per GB of weights (about 35 MB/s), at least 20 minutes."""
    info = use_case.model.info
    weights = info.parameters_billion * sizing.BYTES_PER_PARAMETER[use_case.model.weight_format]
    return int(max(1200, 600 + 30 * weights))


def _common_labels(selectors: list[dict[str, str]]) -> dict[str, str]:
    """Sharing use cases may name different client pods: only the labels all of them require stay,
    so no client of any of them is shut out (the namespaces still narrow who gets in)."""
    if not selectors or any(not s for s in selectors):
        return {}
    common = dict(selectors[0])
    for selector in selectors[1:]:
        common = {k: v for k, v in common.items() if selector.get(k) == v}
    return common


def _resources(handle: ClusterHandle, use_case: SelfManagedUseCase) -> tuple[int, int]:
    if use_case.resources is not None:
        return use_case.resources.cpu, use_case.resources.memory_gib
    cloud = handle.cloud if handle.creates_pools else None
    return sizing.pod_resources(cloud, use_case.gpu.type, use_case.gpu.count)
