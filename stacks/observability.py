"""Alerts and dashboards for every use case, on the monitoring of the cloud its signals are born in.

`monitored` turns the spec into one `MonitoredUseCase` per observable use case: where its signals are
(its managed service's metrics, its model server's, or the AI gateway's), and its alerts with the
spec's thresholds or the tier's. `observe` then hands each cloud's use cases to that cloud's monitoring
component (a channel for `monitoring.notify`, an alert per threshold, a dashboard), and each cluster's
rules to the cluster's managed Prometheus (`managed_prometheus`, made with the cluster: AMP on EKS, an
Azure Monitor workspace on AKS, Managed Service for Prometheus on GKE), which notifies the same channel;
an existing cluster's own Prometheus evaluates them as PrometheusRules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from triplane.components.observability.alerts import (
    Alert,
    AzureOpenAIDeployments,
    BedrockModels,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    Source,
    Target,
    VertexModels,
    use_case_alerts,
)
from triplane.components.observability.forwarding import ManagedPrometheus, forwarding_only
from triplane.components.observability.prometheus import (
    PrometheusAlertRules,
    PrometheusAlertRulesArgs,
    rules,
    watched_series,
)
from triplane.components.tagging import k8s_labels
from triplane.stacks.clouds import SEAMS
from triplane.stacks.clouds.seam import ClusterComponent
from triplane.stacks.clusters import cluster_for, gpu_metrics_source
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.patterns.self_managed import server_app
from triplane.stacks.spec import Environment, KubernetesCluster
from triplane.stacks.spec.cloud_managed import AzureOpenAIUseCase, BedrockUseCase, VertexUseCase
from triplane.stacks.spec.monitoring import source_of
from triplane.stacks.spec.self_managed import SelfManagedUseCase
from triplane.stacks.spec.use_case import UseCaseBase


def alerts_of(environment: Environment) -> dict[str, tuple[Source, tuple[Alert, ...]]]:
    """Each observable use case's signal source and alerts, from the spec alone (a SaaS use case only
    behind the gateway): what `triplane cost` counts and `monitored` places."""
    found = {}
    for use_case in environment.use_cases:
        source = source_of(use_case, environment)
        if source is None:
            continue
        volume = use_case.volume
        found[use_case.name] = (
            source,
            use_case_alerts(
                use_case.name,
                source,
                environment.tier,
                use_case.alerts.model_dump(),
                volume.input_tokens_per_month + volume.output_tokens_per_month if volume is not None else None,
                always_serving=not isinstance(use_case, SelfManagedUseCase) or use_case.replicas.min > 0,
                gpu_metrics=not isinstance(use_case, SelfManagedUseCase) or _gpu_metrics(environment, use_case.cluster),
            ),
        )
    return found


def _gpu_metrics(environment: Environment, cluster: str) -> bool:
    """Whether the cluster's GPU metrics reach Triplane's Prometheus (False for a cluster this environment
    does not hold: a use-case stack's own file names none, its platform's does)."""
    spec = next((c for c in environment.kubernetes if c.name == cluster), None)
    return spec is not None and gpu_metrics_source(environment, spec) is not None


def monitored(environment: Environment, stack: str, endpoints: Mapping[str, Endpoint]) -> list[MonitoredUseCase]:
    """Every observable use case with where its signals are and its alerts. `endpoints` are the use
    cases' own (before the gateway), for the identities of resources created with them."""
    observed = alerts_of(environment)
    return [
        MonitoredUseCase(
            name=use_case.name,
            pattern=getattr(use_case, "pattern", ""),
            classification=use_case.data_classification,
            target=_target(environment, stack, use_case, endpoints.get(use_case.name)),
            alerts=observed[use_case.name][1],
        )
        for use_case in environment.use_cases
        if use_case.name in observed
    ]


def _target(environment: Environment, stack: str, use_case: UseCaseBase, endpoint: Endpoint | None) -> Target:
    clouds = environment.clouds
    if isinstance(use_case, BedrockUseCase):
        assert clouds.aws is not None
        return BedrockModels(region=clouds.aws.region, model_ids=tuple(m.id for m in use_case.models))
    if isinstance(use_case, AzureOpenAIUseCase):
        assert endpoint is not None and endpoint.identity is not None
        return AzureOpenAIDeployments(
            account_id=endpoint.identity, deployments=tuple(use_case.deployment_name(m) for m in use_case.models)
        )
    if isinstance(use_case, VertexUseCase):
        assert clouds.gcp is not None
        return VertexModels(
            project=clouds.gcp.project, region=clouds.gcp.region, models=tuple(m.id for m in use_case.models)
        )
    if isinstance(use_case, SelfManagedUseCase):
        return ModelServer(
            cluster=use_case.cluster,
            namespace=use_case.service_name,
            app=server_app(stack, use_case),
            engine=use_case.engine,
        )
    assert environment.gateway is not None
    return GatewayRoute(cluster=environment.gateway.cluster, model=use_case.name)


# --- building it -----------------------------------------------------------------------------------

CHANNEL = "alert-channel"
"""The shared-piece key of a cloud's alert channel: `(CHANNEL, cloud)`."""


SERVICE_CLOUD: Mapping[str, str] = {service: cloud for cloud, seam in SEAMS.items() for service in seam.managed_models}
"""Each managed service's cloud, whose native alerting watches it (model servers and the gateway are
watched by their cluster's Prometheus)."""


def prometheus_clusters(environment: Environment) -> dict[str, str]:
    """The new clusters whose model servers or gateway routes have alerts, by cloud: their cloud's
    managed Prometheus evaluates those alerts (an existing cluster's own Prometheus does)."""
    found: dict[str, str] = {}
    for name, (source, alerts) in alerts_of(environment).items():
        if source in SERVICE_CLOUD or not alerts:
            continue
        use_case = next(u for u in environment.use_cases if u.name == name)
        if isinstance(use_case, SelfManagedUseCase):
            cluster = use_case.cluster
        else:
            assert environment.gateway is not None  # a SaaS use case is observed only behind the gateway
            cluster = environment.gateway.cluster
        spec = environment.cluster(cluster)
        if spec.new is not None:
            found[cluster] = spec.new.cloud
    return found


def channel_clouds(environment: Environment) -> list[str]:
    """The clouds whose native alerts some use case needs, so whose channel the environment creates."""
    managed = {SERVICE_CLOUD[s] for s, _ in alerts_of(environment).values() if s in SERVICE_CLOUD}
    return sorted(managed | set(prometheus_clusters(environment).values()))


def channels(ctx: StackContext, alarm_stacks: Sequence[str]) -> None:
    """The platform's part: a channel per cloud with native alerts, mailing `monitoring.notify.email`.

    `alarm_stacks` are the stacks whose alerts notify it (a single stack's own, or the use-case stacks
    a platform serves): an SNS topic admits only their alarms, and the managed Prometheus of the
    environment's clusters on that cloud."""
    monitoring = ctx.environment.monitoring
    if monitoring is None:
        return
    emails = list(monitoring.notify.email)
    prometheus = set(prometheus_clusters(ctx.environment).values())
    for cloud in channel_clouds(ctx.environment):
        seam = SEAMS[cloud]
        ctx.shared(
            (CHANNEL, cloud),
            lambda seam=seam, cloud=cloud: seam.monitoring.channel(  # type: ignore[misc]
                ctx, emails, alarm_stacks, cloud in prometheus
            ),
        )


def managed_prometheus(
    ctx: StackContext, spec: KubernetesCluster, cluster: ClusterComponent
) -> ManagedPrometheus | None:
    """A new cluster's managed Prometheus, notifying its cloud's channel; None for a cluster with no
    alerts to evaluate. The channels exist by then (`channels` runs before the use cases' parts)."""
    cloud = prometheus_clusters(ctx.environment).get(spec.name)
    if cloud is None:
        return None
    channel = dict(ctx.built())[(CHANNEL, cloud)]
    managed = SEAMS[cloud].monitoring.prometheus(ctx, spec, cluster, channel)
    if managed.forwarding is None:
        return managed
    return replace(managed, forwarding=forwarding_only(managed.forwarding, watched_series()))


def observe(ctx: StackContext, endpoints: Mapping[str, Endpoint]) -> None:
    """The use cases' part: their alerts on each cloud's channel, a dashboard per cloud, and rules on each
    cluster's Prometheus. Nothing where the environment (or its platform) has no monitoring."""
    if ctx.environment.monitoring is None:
        return
    rows = monitored(ctx.environment, ctx.stack, endpoints)
    built = dict(ctx.built())
    by_cluster: dict[str, list[MonitoredUseCase]] = {}
    for row in rows:
        if isinstance(row.target, ModelServer | GatewayRoute):
            by_cluster.setdefault(row.target.cluster, []).append(row)
    handles = {cluster: cluster_for(ctx, cluster) for cluster in sorted(by_cluster)}
    managed = {h.cloud for h in handles.values() if h.prometheus_workspace is not None}
    for cloud, seam in SEAMS.items():
        channel = built.get((CHANNEL, cloud))
        draws_servers = seam.monitoring.charts_servers and cloud in managed
        watched = draws_servers or any(isinstance(row.target, seam.monitoring.target) for row in rows)
        if channel is not None and watched:
            seam.monitoring.alerts(ctx, channel, rows)  # a channel serving only other stacks' use cases: none
    for cluster, handle in handles.items():
        if handle.prometheus_workspace is not None:
            assert handle.cloud is not None
            seam = SEAMS[handle.cloud]
            seam.monitoring.cluster_alerts(ctx, handle, built[(CHANNEL, handle.cloud)], by_cluster[cluster])
            continue
        PrometheusAlertRules(
            f"{ctx.stack}-{cluster}-alert-rules",
            PrometheusAlertRulesArgs(
                rules=rules(by_cluster[cluster], labels=k8s_labels(ctx.tags())),
                provider=handle.provider,
                crd_releases=handle.crd_releases,
            ),
        )
