"""Google Cloud Managed Service for Prometheus: a GKE cluster's model servers scraped and alerted on.

Triplane's GKE clusters run managed collection (`gke.GkeCluster`: `monitoring_config.managed_prometheus`).
Upstream Prometheus cannot remote-write to it, so on GKE the managed collectors scrape the servers
themselves and Cloud Monitoring evaluates the same rules `prometheus.rule` renders:

- `GcpPodMonitors` creates, per model server, a `PodMonitoring` (monitoring.googleapis.com/v1, the
  CRD GKE installs with managed collection) named `<app>-metrics` in the server's namespace,
  selecting its pods by the labels its Deployment gives them, on its metrics port every 30 s; and a
  NetworkPolicy admitting the collectors (pods `app.kubernetes.io/name: collector` in `gmp-system`)
  to that port, beside the server's own policies, which admit only the `monitoring` namespace.
  Where the AI gateway runs on the cluster, one more scrapes its proxy pods as its PodMonitor does
  (`gateway.install.pod_monitor`: the external processor's GenAI metrics and Envoy's statistics).
- `GcpPrometheusAlerts` creates one Cloud Monitoring alert policy per alert rule, its condition
  the rule's PromQL (`condition_prometheus_query_language`) narrowed to the cluster, held for the
  rule's `for`, notifying the environment's channel (`gcp.GcpAlertChannel`).

What the managed collectors write (GoogleCloudPlatform/prometheus-engine v0.15-v0.19,
pkg/operator/apis/monitoring/v1/pod_config.go): every series of a PodMonitoring gets `project_id`,
`location` and `cluster` (forced, so no metric label overrides them), `namespace` (always), `job` =
the PodMonitoring's name, `instance` = `<pod>:<port>`, and the `targetLabels.metadata` asked for.
So the rules' selector `namespace` + `job="<app>-metrics"` picks the same series here as in the
cluster's own Prometheus (where the ServiceMonitor's job is its Service's name, `<app>-metrics`).
The collectors scrape without `honor_labels`, so where an exporter's own labels clash with target
labels Prometheus keeps them as `exported_<label>` ("label conflicts are resolved by renaming
conflicting labels in the scraped data to exported_<original-label>",
https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config). GKE's
managed dcgm-exporter is scraped by GKE's ClusterPodMonitoring `gke-managed-dcgm-exporter` in
`gke-managed-system` (https://cloud.google.com/kubernetes-engine/docs/how-to/dcgm-metrics), whose
targets carry the exporter pod's `namespace` and `pod`: the GPU's workload is then
`exported_namespace`/`exported_pod` (`GMP_GPU`).

Alert policies with a PromQL condition: the Monitoring API's `AlertPolicy.Condition.
PrometheusQueryLanguageCondition` (query, duration, evaluation interval, alert rule and rule group
names, labels; https://cloud.google.com/python/docs/reference/monitoring/latest/google.cloud.monitoring_v3.types.AlertPolicy.Condition.PrometheusQueryLanguageCondition).
The query runs over the project's metrics scope, which may hold several clusters: hence the cluster
matchers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_gcp import monitoring as gcp_monitoring
from pulumi_kubernetes import networking as k8s_networking

from triplane.components.gateway.install import (
    ENVOY_GATEWAY_NAMESPACE,
    ENVOY_METRICS_PORT,
    EXTPROC_METRICS_PORT,
    GATEWAY_NAME,
    GATEWAY_NAMESPACE,
    PROXY_LABELS,
)
from triplane.components.naming import physical_name
from triplane.components.observability.alerts import (
    Alert,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    alert_tags,
    owner_tags,
)
from triplane.components.observability.forwarding import keep_series
from triplane.components.observability.prometheus import (
    HELD,
    GpuLabels,
    metrics_service,
    rule,
    rule_name,
    watched_series,
)
from triplane.components.self_managed.addons import custom_resource
from triplane.components.self_managed.engines import ENGINES
from triplane.components.tagging import gcp_labels, k8s_labels, tagged

API_VERSION = "monitoring.googleapis.com/v1"
KIND = "PodMonitoring"
SCRAPE_INTERVAL = "30s"
EVALUATION_INTERVAL = "30s"
"""How often Cloud Monitoring evaluates a condition (a positive multiple of 30 s)."""
METRICS_PATH = "/metrics"
TARGET_METADATA = ("pod",)
"""Target labels beside the forced ones: the pod a series comes from (as the ServiceMonitor's carry)."""

COLLECTOR_NAMESPACE = "gmp-system"
COLLECTOR_SELECTOR = {"app.kubernetes.io/name": "collector"}
"""The managed collectors' pods (the DaemonSet `collector` in `gmp-system`; its PodMonitoring on
https://cloud.google.com/stackdriver/docs/managed-prometheus/exporters/prometheus selects them so)."""

GMP_GPU = GpuLabels(namespace="exported_namespace", pod="exported_pod")
"""Where the GPU's workload is on GKE's managed DCGM series (see the module docstring)."""

SEVERITY: Mapping[str, str] = {"critical": "CRITICAL", "warning": "WARNING"}
"""A rule's `severity` label as Cloud Monitoring's severity."""


@dataclass(frozen=True)
class GkeScope:
    """One GKE cluster's series in Managed Service for Prometheus."""

    project: str
    location: str
    """The cluster's location: its region (regional clusters) or zone."""
    cluster: str
    """The GKE cluster's name (`gke.GkeCluster`'s physical name)."""

    def matchers(self) -> dict[str, str]:
        """The labels the collectors force on every series of this cluster."""
        return {"project_id": self.project, "location": self.location, "cluster": self.cluster}


def server_selector(target: ModelServer) -> dict[str, str]:
    """The labels of the server's pods (`server_names.ServerNames.selector`)."""
    return {"app.kubernetes.io/name": ENGINES[target.engine].name, "app.kubernetes.io/instance": target.app}


def server_use_cases(use_cases: Sequence[MonitoredUseCase]) -> list[MonitoredUseCase]:
    """The use cases served by a model server (each gets its own PodMonitoring)."""
    return [use_case for use_case in use_cases if isinstance(use_case.target, ModelServer)]


def cluster_use_cases(use_cases: Sequence[MonitoredUseCase]) -> list[MonitoredUseCase]:
    """The use cases whose signals a cluster's collectors scrape: model servers and AI gateway routes."""
    return [use_case for use_case in use_cases if isinstance(use_case.target, ModelServer | GatewayRoute)]


def _server(use_case: MonitoredUseCase) -> ModelServer:
    if not isinstance(use_case.target, ModelServer):
        raise TypeError(f"use case {use_case.name} is not served by a model server")
    return use_case.target


def pod_monitoring(use_case: MonitoredUseCase, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The PodMonitoring scraping the use case's model server, in the CRD's field names."""
    target = _server(use_case)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": metrics_service(target.app),
            "namespace": target.namespace,
            "labels": {**(labels or {}), **k8s_labels(owner_tags(use_case))},
        },
        "spec": {
            "selector": {"matchLabels": server_selector(target)},
            "endpoints": [
                {
                    "port": ENGINES[target.engine].metrics_port,
                    "path": METRICS_PATH,
                    "scheme": "http",
                    "interval": SCRAPE_INTERVAL,
                    # Managed Service for Prometheus bills each sample: only the series the alerts read.
                    "metricRelabeling": [keep_series(watched_series())],
                }
            ],
            "targetLabels": {"metadata": list(TARGET_METADATA)},
        },
    }


GATEWAY_MONITOR = "ai-gateway"


def gateway_pod_monitoring(
    gateway_namespace: str = GATEWAY_NAMESPACE, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The PodMonitoring scraping the AI gateway's proxy pods, the endpoints its PodMonitor scrapes.

    The gateway's rules select its series by `namespace` and the GenAI or Envoy labels, never `job`."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": GATEWAY_MONITOR, "namespace": ENVOY_GATEWAY_NAMESPACE, "labels": dict(labels or {})},
        "spec": {
            "selector": {
                "matchLabels": {
                    **PROXY_LABELS,
                    "gateway.envoyproxy.io/owning-gateway-name": GATEWAY_NAME,
                    "gateway.envoyproxy.io/owning-gateway-namespace": gateway_namespace,
                }
            },
            "endpoints": [
                {
                    "port": port,
                    "path": path,
                    "scheme": "http",
                    "interval": SCRAPE_INTERVAL,
                    "metricRelabeling": [keep_series(watched_series())],  # Envoy's statistics run to thousands
                }
                for port, path in ((EXTPROC_METRICS_PORT, METRICS_PATH), (ENVOY_METRICS_PORT, "/stats/prometheus"))
            ],
            "targetLabels": {"metadata": list(TARGET_METADATA)},
        },
    }


def collector_ingress(use_case: MonitoredUseCase) -> k8s_networking.v1.NetworkPolicySpecArgsDict:
    """The NetworkPolicy spec admitting the managed collectors to the server's metrics port only."""
    target = _server(use_case)
    collectors = {
        "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": COLLECTOR_NAMESPACE}},
        "pod_selector": {"match_labels": dict(COLLECTOR_SELECTOR)},
    }
    # `from` is a Python keyword: the SDK's typed dict spells it `from_`, the engine takes the dict as is.
    ingress: Any = [{"from": [collectors], "ports": [{"protocol": "TCP", "port": ENGINES[target.engine].metrics_port}]}]
    return {"pod_selector": {"match_labels": server_selector(target)}, "policy_types": ["Ingress"], "ingress": ingress}


def _seconds(seconds: int) -> str:
    return f"{seconds}s"


def alert_policy(
    name_prefix: str,
    use_case: MonitoredUseCase,
    alert: Alert,
    scope: GkeScope,
    *,
    gateway_namespace: str = GATEWAY_NAMESPACE,
) -> dict[str, Any]:
    """The `gcp.monitoring.AlertPolicy` arguments of one rule (without project, channels and labels).

    The query is `prometheus.rule`'s expression with the cluster's matchers in every selector; a
    condition that must hold (the rule's `for`) waits as long here. `gateway_namespace` is the AI
    gateway's, for a route's rule (`AIGatewayInstallArgs.namespace`)."""
    target = use_case.target
    if isinstance(target, ModelServer):
        where = f"namespace {target.namespace}"
    elif isinstance(target, GatewayRoute):
        where = f"AI gateway route of {target.model}"
    else:
        raise TypeError(f"use case {use_case.name} is neither served by a model server nor behind the AI gateway")
    body = rule(alert, target, gateway_namespace=gateway_namespace, scope=scope.matchers(), gpu=GMP_GPU)
    name = physical_name(name_prefix, alert.name, kind="gcp")
    summary = body["annotations"]["summary"]
    return {
        "display_name": name,
        "combiner": "OR",
        "severity": SEVERITY[body["labels"]["severity"]],
        "conditions": [
            {
                "display_name": f"{use_case.name}: {summary}",
                "condition_prometheus_query_language": {
                    "query": body["expr"],
                    "duration": _seconds(alert.window_seconds) if alert.kind in HELD else "0s",
                    "evaluation_interval": EVALUATION_INTERVAL,
                    "alert_rule": body["alert"],
                    "rule_group": rule_name(use_case.name),
                    "labels": dict(body["labels"]),
                    # The servers' series exist only once they are scraped: the policy is made before.
                    "disable_metric_validation": True,
                },
            }
        ],
        "documentation": {
            "content": f"{summary} (cluster {scope.cluster}, {where})",
            "mime_type": "text/markdown",
            "subject": f"{name}: {summary}",
        },
    }


@dataclass
class GcpPodMonitorsArgs:
    use_cases: Sequence[MonitoredUseCase]
    """The cluster's monitored use cases; their model servers (and the AI gateway, for a route) are scraped."""
    gateway_namespace: str = GATEWAY_NAMESPACE
    """The AI gateway's namespace (`AIGatewayInstallArgs.namespace`), whose proxies a route's signals come from."""
    provider: pulumi.ProviderResource | None = None
    """The cluster's Kubernetes provider (else the caller's `opts` carry it)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels (from `k8s_labels`) on every object."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist first (the servers' namespaces)."""


class GcpPodMonitors(pulumi.ComponentResource):
    """The managed collectors' scrape of one GKE cluster's model servers, and their way in."""

    def __init__(self, name: str, args: GcpPodMonitorsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.provider is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[args.provider]))
        super().__init__("triplane:observability:GcpPodMonitors", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        names = []
        for use_case in server_use_cases(args.use_cases):
            body = pod_monitoring(use_case, args.labels)
            meta = body["metadata"]
            custom_resource(f"{name}-{use_case.name}-podmonitoring", body, child)
            k8s_networking.v1.NetworkPolicy(
                f"{name}-{use_case.name}-collector-ingress",
                metadata={
                    "name": f"{_server(use_case).app}-gmp-collector",
                    "namespace": meta["namespace"],
                    "labels": dict(meta["labels"]),
                },
                spec=collector_ingress(use_case),
                opts=child,
            )
            names.append(f"{meta['namespace']}/{meta['name']}")
        if any(isinstance(u.target, GatewayRoute) for u in args.use_cases):
            body = gateway_pod_monitoring(args.gateway_namespace, args.labels)
            custom_resource(f"{name}-gateway-podmonitoring", body, child)
            names.append(f"{ENVOY_GATEWAY_NAMESPACE}/{GATEWAY_MONITOR}")
        self.register_outputs({"pod_monitorings": names})


@dataclass(frozen=True)
class GcpPrometheusAlertsArgs:
    name_prefix: str
    """The stack's prefix: policy names start with it."""
    scope: GkeScope
    """The cluster whose series the policies watch; the policies live in its project."""
    channels: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The channel (`GcpAlertChannel.channel_names`, or the platform stack's) every policy notifies."""
    use_cases: Sequence[MonitoredUseCase]
    """The cluster's monitored use cases; every alert of those served by a model server or behind the AI
    gateway gets a policy."""
    gateway_namespace: str = GATEWAY_NAMESPACE
    """The AI gateway's namespace (`AIGatewayInstallArgs.namespace`), whose routes are named after use cases."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """`tagging.standard_tags`: the labels of every policy (a policy's own `use-case`, `pattern`,
    `data-classification` and `alert` are its use case's)."""


class GcpPrometheusAlerts(pulumi.ComponentResource):
    """A Cloud Monitoring alert policy per alert rule of one GKE cluster's model servers and AI gateway routes."""

    policies: dict[str, gcp_monitoring.AlertPolicy]
    """By alert name (`<use case>-<kind>`)."""

    def __init__(self, name: str, args: GcpPrometheusAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:GcpPrometheusAlerts", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        self.policies = {}
        for use_case in cluster_use_cases(args.use_cases):
            for alert in use_case.alerts:
                self.policies[alert.name] = gcp_monitoring.AlertPolicy(
                    f"{name}-{alert.name}",
                    project=args.scope.project,
                    notification_channels=args.channels,
                    user_labels=gcp_labels(alert_tags(use_case, alert)),
                    opts=child,
                    **alert_policy(
                        args.name_prefix, use_case, alert, args.scope, gateway_namespace=args.gateway_namespace
                    ),
                )
        self.register_outputs({"policies": sorted(self.policies)})


__all__ = [
    "API_VERSION",
    "COLLECTOR_NAMESPACE",
    "GMP_GPU",
    "GcpPodMonitors",
    "GcpPodMonitorsArgs",
    "GcpPrometheusAlerts",
    "GcpPrometheusAlertsArgs",
    "GkeScope",
    "alert_policy",
    "cluster_use_cases",
    "collector_ingress",
    "gateway_pod_monitoring",
    "pod_monitoring",
    "server_selector",
    "server_use_cases",
]
