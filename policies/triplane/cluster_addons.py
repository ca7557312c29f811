"""Cluster add-ons by name, and the Kubernetes API groups each one serves.

One vocabulary for the program (which add-ons it installs, which `provides` entries an existing
cluster may declare) and the gate (which release or declaration makes a custom resource's CRD
exist). It lives with the policies because a policy pack's environment has only the policies.
"""

from __future__ import annotations

ADD_ON_GROUPS: dict[str, tuple[str, ...]] = {
    "prometheus-operator": ("monitoring.coreos.com",),
    "keda": ("keda.sh", "eventing.keda.sh"),
    "gateway-api": ("gateway.networking.k8s.io",),
    "envoy-gateway": ("gateway.envoyproxy.io",),
    "envoy-ai-gateway": ("aigateway.envoyproxy.io",),
    "inference-extension": ("inference.networking.k8s.io", "inference.networking.x-k8s.io"),
    "leaderworkerset": ("leaderworkerset.x-k8s.io",),
}
"""An add-on (a `provides` entry, or the chart a Helm release installs) -> the API groups it serves."""
CHART_ADD_ONS: dict[str, str] = {
    "kube-prometheus-stack": "prometheus-operator",
    "prometheus-operator-crds": "prometheus-operator",
    "keda": "keda",
    "gateway-helm": "envoy-gateway",
    "ai-gateway-helm": "envoy-ai-gateway",
    "lws": "leaderworkerset",
}
"""Helm chart name -> the add-on it installs (its CRDs included)."""
PROMETHEUS_CHARTS = frozenset({"kube-prometheus-stack", "prometheus"})
"""Charts that run a Prometheus server a scaler can query."""


__all__ = ["ADD_ON_GROUPS", "CHART_ADD_ONS", "PROMETHEUS_CHARTS"]
