"""Scaling a model server on its queue: the scrape of its metrics and a KEDA ScaledObject.

A HorizontalPodAutoscaler on a Pods metric (`tgi_queue_size`) needs a custom-metrics adapter, and
none scales a Deployment up from zero. KEDA does both: its `prometheus` trigger asks the in-cluster
Prometheus for the server's queue (scraped through the ServiceMonitor made here), and a `cron`
trigger holds replicas during declared active hours, which is what starts a server that has none
(a queue metric cannot: with no pods there is no queue). KEDA creates and drives the HPA itself.

Creates: a `metrics` Service and a ServiceMonitor (labelled for Triplane's Prometheus) for a
scraped server; a ScaledObject (keda.sh/v1alpha1) for an autoscaled one; `ModelAutoscaling` holds
them for one model server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes import apiextensions as k8s_apiextensions
from pulumi_kubernetes import core as k8s_core

from triplane.components.self_managed.addons import PROMETHEUS_URL, SCRAPE_LABELS
from triplane.components.self_managed.engines import Engine
from triplane.components.self_managed.server_names import ServerNames
from triplane.components.subcomponent import SubComponent

SCALE_UP_PERIOD_SECONDS = 120
"""One pod at a time: a new pod takes minutes to load the model, more would only queue for GPUs."""
SCALE_DOWN_PERIOD_SECONDS = 300
POLLING_SECONDS = 15


@dataclass(frozen=True)
class ActiveHours:
    """A KEDA cron trigger: `replicas` pods from `start` to `end` (cron expressions) in `timezone`."""

    timezone: str
    start: str
    end: str
    replicas: int = 1


@dataclass(frozen=True)
class QueueScaling:
    min_replicas: int
    max_replicas: int
    queue_target: int
    """Average waiting requests per pod."""
    scale_down_seconds: int = 600
    """Stabilization window for scaling down, and the cool-down before scaling to zero."""
    active_hours: ActiveHours | None = None
    prometheus_url: str = PROMETHEUS_URL


SCRAPE_INTERVAL = "15s"
"""How often Triplane's Prometheus scrapes a model server: the queue the autoscaler reads stays fresh."""


def queue_query(metric: str, namespace: str, service: str) -> str:
    """The waiting requests of every pod behind `service`, summed (KEDA divides by the replicas)."""
    return f'sum({metric}{{namespace="{namespace}",service="{service}"}})'


def scaled_object_spec(app: str, namespace: str, metric: str, scaling: QueueScaling) -> dict[str, Any]:
    """The ScaledObject's spec, in the CRD's own field names."""
    if scaling.min_replicas == 0 and scaling.active_hours is None:
        raise ValueError("min_replicas 0 needs active_hours: a queue metric cannot wake a deployment that has no pods")
    triggers: list[dict[str, Any]] = [
        {
            "type": "prometheus",
            "name": "queue",
            "metricType": "AverageValue",
            "metadata": {
                "serverAddress": scaling.prometheus_url,
                "query": queue_query(metric, namespace, f"{app}-metrics"),
                "threshold": str(scaling.queue_target),
                "activationThreshold": "0",
                "ignoreNullValues": "true",
            },
        }
    ]
    hours = scaling.active_hours
    if hours is not None:
        triggers.append(
            {
                "type": "cron",
                "name": "active-hours",
                "metadata": {
                    "timezone": hours.timezone,
                    "start": hours.start,
                    "end": hours.end,
                    "desiredReplicas": str(hours.replicas),
                },
            }
        )
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
        "minReplicaCount": scaling.min_replicas,
        "maxReplicaCount": scaling.max_replicas,
        "pollingInterval": POLLING_SECONDS,
        "cooldownPeriod": scaling.scale_down_seconds,
        "advanced": {
            "horizontalPodAutoscalerConfig": {
                "behavior": {
                    "scaleUp": {
                        "stabilizationWindowSeconds": 0,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": SCALE_UP_PERIOD_SECONDS}],
                    },
                    "scaleDown": {
                        "stabilizationWindowSeconds": scaling.scale_down_seconds,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": SCALE_DOWN_PERIOD_SECONDS}],
                    },
                }
            }
        },
        "triggers": triggers,
    }


def scale_on_queue(
    name: str,
    app: str,
    namespace: str,
    labels: Mapping[str, str],
    metric: str,
    scaling: QueueScaling,
    opts: pulumi.ResourceOptions,
) -> k8s_apiextensions.CustomResource:
    """The ScaledObject of a model server's Deployment `app`; `opts` must depend on KEDA's release."""
    return k8s_apiextensions.CustomResource(
        f"{name}-scaledobject",
        api_version="keda.sh/v1alpha1",
        kind="ScaledObject",
        metadata={"name": app, "namespace": namespace, "labels": dict(labels)},
        spec=scaled_object_spec(app, namespace, metric, scaling),
        opts=opts,
    )


def scrape_metrics(
    name: str,
    app: str,
    namespace: str,
    selector: Mapping[str, str],
    labels: Mapping[str, str],
    metrics_port: int,
    service_opts: pulumi.ResourceOptions,
    monitor_opts: pulumi.ResourceOptions,
) -> k8s_apiextensions.CustomResource:
    """A `<app>-metrics` Service on the metrics port and the ServiceMonitor Prometheus selects it by.

    `monitor_opts` must depend on the Prometheus Operator's release (its CRD) where Triplane installs it.
    """
    metrics_labels = {**labels, "triplane.io/metrics": "true"}
    k8s_core.v1.Service(
        f"{name}-metrics",
        metadata={"name": f"{app}-metrics", "namespace": namespace, "labels": metrics_labels},
        spec={
            "type": "ClusterIP",
            "selector": dict(selector),
            "ports": [{"name": "metrics", "port": metrics_port, "target_port": metrics_port, "protocol": "TCP"}],
        },
        opts=service_opts,
    )
    return k8s_apiextensions.CustomResource(
        f"{name}-servicemonitor",
        api_version="monitoring.coreos.com/v1",
        kind="ServiceMonitor",
        metadata={"name": app, "namespace": namespace, "labels": {**labels, **SCRAPE_LABELS}},
        spec={
            "selector": {"matchLabels": {**selector, "triplane.io/metrics": "true"}},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": SCRAPE_INTERVAL, "scheme": "http"}],
        },
        opts=monitor_opts,
    )


class ModelAutoscaling(SubComponent):
    """The scrape of one model server's metrics and, when it autoscales, its ScaledObject.

    `crd_releases` maps an API group to the Helm release installing its CRD (absent where the
    cluster has it): each custom resource waits for its own.
    """

    def __init__(
        self,
        server: ServerNames,
        parent: pulumi.Resource,
        *,
        engine: Engine,
        scaling: QueueScaling | None,
        namespace: pulumi.Resource,
        deployment: pulumi.Resource,
        crd_releases: Mapping[str, pulumi.Resource],
    ) -> None:
        super().__init__("triplane:selfmanaged:ModelAutoscaling", f"{server.name}-autoscaling", parent)

        def crd_opts(group: str, after: pulumi.Resource) -> pulumi.ResourceOptions:
            release = crd_releases.get(group)
            return pulumi.ResourceOptions(parent=self, depends_on=[after] + ([release] if release is not None else []))

        scrape_metrics(
            server.name,
            server.app,
            server.namespace,
            server.selector,
            server.labels,
            engine.metrics_port,
            service_opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
            monitor_opts=crd_opts("monitoring.coreos.com", namespace),
        )
        if scaling is not None:
            scale_on_queue(
                server.name,
                server.app,
                server.namespace,
                server.labels,
                engine.queue_metric,
                scaling,
                opts=crd_opts("keda.sh", deployment),
            )
        self.register_outputs({})
