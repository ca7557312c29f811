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
    "envoy-gateway": ("gateway.networking.k8s.io", "gateway.envoyproxy.io"),
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
    "ai-gateway-crds-helm": "envoy-ai-gateway",
    "lws": "leaderworkerset",
}
"""Helm chart name -> the add-on whose CRDs it installs. `gateway-helm` ships the Gateway API CRDs with
Envoy Gateway's own; the AI gateway's CRDs come only from `ai-gateway-crds-helm` (its `ai-gateway-helm`
chart runs the controller and installs none). The Inference Extension's CRDs come from no chart here."""
CHART_GROUPS: dict[str, tuple[str, ...]] = {
    chart: ADD_ON_GROUPS[add_on] for chart, add_on in CHART_ADD_ONS.items()
}
"""Helm chart name -> the API groups whose CRDs a release of it installs (what the gate counts)."""
PROMETHEUS_CHARTS = frozenset({"kube-prometheus-stack", "prometheus"})
"""Charts that run a Prometheus server a scaler can query."""


__all__ = ["ADD_ON_GROUPS", "CHART_ADD_ONS", "CHART_GROUPS", "PROMETHEUS_CHARTS"]
