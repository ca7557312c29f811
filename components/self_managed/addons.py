"""ClusterAddons: the cluster services Triplane's custom resources and autoscalers rely on.

Installed once per cluster, only the add-ons its use cases need and the cluster does not already
provide, each as a Helm release with a pinned chart version from its project's repository, in its
own namespace (Pod Security `restricted` enforced):

- `prometheus-operator`: the kube-prometheus-stack chart 88.3.0, which ships prometheus-operator
  v0.93.0 and its CRDs (ServiceMonitor, PodMonitor, PrometheusRule, Prometheus, ...), and one
  Prometheus server that scrapes the ServiceMonitors and PodMonitors, and evaluates the
  PrometheusRules, labelled `triplane.io/scrape: "true"` in any namespace. Grafana, Alertmanager, node-exporter,
  kube-state-metrics, the default rules, the cluster-component monitors and the operator's
  admission webhook (and with it its certificate job) are off: nothing Triplane runs needs them.
  Namespace `monitoring`.
- `keda`: the keda chart 2.20.2, which ships KEDA 2.20.2 and its CRDs (ScaledObject,
  TriggerAuthentication, ...). KEDA serves the external metrics of the autoscalers it creates and
  is what wakes a Deployment from zero replicas. Namespace `keda`.

Every image comes from the cluster's `ImageSource`; every pod runs as a non-root user with all
capabilities dropped, no privilege escalation, a read-only root filesystem and the RuntimeDefault
seccomp profile. A custom resource of either group depends on the release that installs its CRD
(`releases[CRD_GROUPS[group]]`), so it is never created before its CRD.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes import apiextensions as k8s_apiextensions
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import helm as k8s_helm

from triplane.components import images
from triplane.components.images import ImageSource, Upstream
from triplane.components.observability.forwarding import PROMETHEUS_SERVICE_ACCOUNT, PrometheusForwarding
from triplane.policies.cluster_addons import ADD_ON_GROUPS


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    repository: str
    app_version: str
    """The release of the project the chart version ships (and whose CRDs it installs)."""


CHARTS: dict[str, Chart] = {
    "prometheus-operator": Chart(
        "kube-prometheus-stack", "88.3.0", "https://prometheus-community.github.io/helm-charts", "v0.93.0"
    ),
    "keda": Chart("keda", "2.20.2", "https://kedacore.github.io/charts", "2.20.2"),
}
"""The last chart versions that ship exactly the CRD versions Triplane renders against."""

IMAGES: dict[str, tuple[images.Image, ...]] = {
    "prometheus-operator": (images.PROMETHEUS_OPERATOR, images.PROMETHEUS_CONFIG_RELOADER, images.PROMETHEUS),
    "keda": (images.KEDA, images.KEDA_METRICS_SERVER, images.KEDA_WEBHOOKS),
}
"""Every image each add-on's nodes pull (all set through the chart values from the cluster's source)."""

CRD_GROUPS: dict[str, str] = {group: addon for addon in CHARTS for group in ADD_ON_GROUPS[addon]}
"""API group of a custom resource -> the add-on that installs its CRD (the groups the gate knows too)."""

NAMESPACES = {"prometheus-operator": "monitoring", "keda": "keda"}
MONITORING_NAMESPACE = NAMESPACES["prometheus-operator"]
RESTRICTED: Mapping[str, str] = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}
"""The labels of a namespace Triplane installs a chart into: the restricted Pod Security Standard."""
RELEASE_SETTINGS: Mapping[str, Any] = {
    "create_namespace": False,
    "skip_crds": False,
    "atomic": True,
    "cleanup_on_fail": True,
    "timeout": 900,
    "max_history": 5,
}
"""How Triplane installs a chart: into the namespace it made, CRDs included, rolled back whole if it
fails within 15 minutes, five revisions kept."""
FULLNAME = "triplane"
"""kube-prometheus-stack's `fullnameOverride`: fixes the Prometheus service's name."""
PROMETHEUS_URL = f"http://{FULLNAME}-prometheus.{MONITORING_NAMESPACE}.svc.cluster.local:9090"
SCRAPE_LABELS = {"triplane.io/scrape": "true"}
"""Labels a ServiceMonitor or PodMonitor carries for Triplane's Prometheus to select it."""
WEBHOOK_PORT = 10250
"""Private GKE control planes reach nodes on 443 and 10250 only: KEDA's metrics API server and
webhook listen there (inside their pods) instead of on 6443 and 9443."""

ADDON_UID = 65534
"""`nobody`: every add-on runs as one high, unprivileged UID (>= 10000, clear of host users); their
static binaries need no passwd entry and their volumes are writable through fsGroup."""

CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _pod_security(uid: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


@dataclass
class ClusterAddonsArgs:
    install: Collection[str]
    """Add-ons to install: keys of CHARTS."""
    images: ImageSource = field(default_factory=Upstream)
    tags: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels (from `k8s_labels`) put on the namespaces."""
    forwarding: PrometheusForwarding | None = None
    """Where the Prometheus forwards its samples: the cloud's managed Prometheus (None: it keeps them)."""


class ClusterAddons(pulumi.ComponentResource):
    """The add-on releases of one cluster, by add-on: what the custom resources of its CRDs wait for."""

    releases: dict[str, k8s_helm.v3.Release]

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:ClusterAddons", name, None, opts)
        unknown = set(args.install) - set(CHARTS)
        if unknown:
            raise ValueError(f"unknown add-ons {sorted(unknown)}; known: {sorted(CHARTS)}")
        values = {
            "prometheus-operator": lambda source: _prometheus_values(source, args.forwarding),
            "keda": _keda_values,
        }
        self.releases = {}
        for addon in sorted(args.install):
            chart = CHARTS[addon]
            namespace = k8s_core.v1.Namespace(
                f"{name}-{addon}-namespace",
                metadata={
                    "name": NAMESPACES[addon],
                    "labels": {**args.tags, **RESTRICTED},
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.releases[addon] = k8s_helm.v3.Release(
                f"{name}-{addon}",
                name=chart.name,
                chart=chart.name,
                version=chart.version,
                repository_opts={"repo": chart.repository},
                namespace=NAMESPACES[addon],
                values=values[addon](args.images),
                **RELEASE_SETTINGS,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[
                        namespace,
                        *(args.forwarding.depends_on if addon == "prometheus-operator" and args.forwarding else ()),
                    ],
                ),
            )
        self.register_outputs({"releases": sorted(self.releases)})


def _prometheus_values(source: ImageSource, forwarding: PrometheusForwarding | None = None) -> dict[str, Any]:
    selector = {"matchLabels": dict(SCRAPE_LABELS)}
    service_account: dict[str, Any] = {"create": True, "name": PROMETHEUS_SERVICE_ACCOUNT}
    spec: dict[str, Any] = {}
    if forwarding is not None:
        service_account["annotations"] = dict(forwarding.service_account_annotations)
        spec["remoteWrite"] = [dict(entry) for entry in forwarding.remote_write]
        if forwarding.pod_labels:
            spec["podMetadata"] = {"labels": dict(forwarding.pod_labels)}
    return {
        "fullnameOverride": FULLNAME,
        "crds": {"enabled": True},
        "defaultRules": {"create": False},
        "alertmanager": {"enabled": False},
        "grafana": {"enabled": False},
        "kubeStateMetrics": {"enabled": False},
        "nodeExporter": {"enabled": False},
        "kubernetesServiceMonitors": {"enabled": False},
        "prometheusOperator": {
            "image": images.chart_image(source, images.PROMETHEUS_OPERATOR, "sha"),
            "prometheusConfigReloader": {
                "image": images.chart_image(source, images.PROMETHEUS_CONFIG_RELOADER, "sha"),
            },
            # The admission webhook only validates PrometheusRules (Triplane's rules are tested against
            # the CRD); without it there is no certificate job, and so no TLS secret for the operator's
            # own endpoint.
            "admissionWebhooks": {"enabled": False},
            "tls": {"enabled": False},
            "serviceMonitor": {"selfMonitor": False},
            "securityContext": _pod_security(ADDON_UID),
            "containerSecurityContext": dict(CONTAINER_SECURITY),
            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        },
        "prometheus": {
            "serviceMonitor": {"selfMonitor": False},
            "serviceAccount": service_account,
            "prometheusSpec": {
                "image": images.chart_image(source, images.PROMETHEUS, "sha"),
                "version": images.PROMETHEUS.tag.removesuffix("-distroless"),
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "serviceMonitorSelector": selector,
                "serviceMonitorNamespaceSelector": {},
                "podMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelector": selector,
                "podMonitorNamespaceSelector": {},
                # Alerting rules: only Triplane's (`observability.prometheus`), by the same label.
                "ruleSelectorNilUsesHelmValues": False,
                "ruleSelector": selector,
                "ruleNamespaceSelector": {},
                # Autoscaling reads the last minutes only: a short retention keeps the volume small.
                "retention": "2d",
                "securityContext": _pod_security(ADDON_UID),
                "resources": {"requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
                **spec,
            },
        },
    }


def _keda_values(source: ImageSource) -> dict[str, Any]:
    components = ("operator", "metricServer", "webhooks")
    return {
        "image": {
            "keda": images.chart_image(source, images.KEDA),
            "metricsApiServer": images.chart_image(source, images.KEDA_METRICS_SERVER),
            "webhooks": images.chart_image(source, images.KEDA_WEBHOOKS),
            "pullPolicy": "IfNotPresent",
        },
        "crds": {"install": True},
        "service": {"portHttpsTarget": WEBHOOK_PORT},
        "webhooks": {"port": WEBHOOK_PORT},
        "podSecurityContext": {c: _pod_security(ADDON_UID) for c in components},
        "securityContext": {c: dict(CONTAINER_SECURITY) for c in components},
    }


def custom_resource(
    name: str, body: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None
) -> k8s_apiextensions.CustomResource:
    """A rendered custom resource (`apiVersion`, `kind`, `metadata`, `spec`) as a Pulumi resource."""
    return k8s_apiextensions.CustomResource(
        name,
        api_version=body["apiVersion"],
        kind=body["kind"],
        metadata=body["metadata"],
        spec=body["spec"],
        opts=opts,
    )


def crd_group(api_version: str) -> str:
    """`keda.sh/v1alpha1` -> `keda.sh`; a core `v1` has no group."""
    return api_version.rpartition("/")[0]


__all__ = [
    "CHARTS",
    "CRD_GROUPS",
    "IMAGES",
    "MONITORING_NAMESPACE",
    "PROMETHEUS_URL",
    "SCRAPE_LABELS",
    "Chart",
    "ClusterAddons",
    "ClusterAddonsArgs",
    "crd_group",
    "custom_resource",
]
