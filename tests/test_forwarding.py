"""What a cluster's Prometheus forwards to its cloud's managed Prometheus, and as whom.

The managed Prometheus evaluates the alerting rules and feeds the dashboards, so it must receive every
series they read and, billing per sample, nothing else; the forwarder must be the workload identity its
cloud trusts. These tests read the rules `prometheus.rule` and the panels `prometheus.panel` render, and
the Helm values the shipped plans carry.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import planned
from triplane.components.observability.alerts import KINDS, Alert, GatewayRoute, ModelServer
from triplane.components.observability.forwarding import PrometheusForwarding, forwarding_only
from triplane.components.observability.prometheus import panel, rule, watched_series
from triplane.components.observability.signals import PANELS
from triplane.plan import Plan
from triplane.stackfile import load_stack
from triplane.stacks.egress import cloud_entries

RELEASE = "kubernetes:helm.sh/v3:Release"
SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\{")
FUNCTIONS = {"sum", "rate", "increase", "histogram_quantile", "max", "count", "absent", "vector", "by"}


TARGETS = (
    ModelServer(cluster="gpu", namespace="chat", app="chat", engine="tgi"),
    ModelServer(cluster="gpu", namespace="code", app="code", engine="vllm"),
    GatewayRoute(cluster="gpu", model="drafts"),
)


def rendered_rules() -> list[dict[str, Any]]:
    """Every alert kind of every source that a cluster's Prometheus scrapes, rendered."""
    found = []
    for target in TARGETS:
        source = target.engine if isinstance(target, ModelServer) else "gateway"
        for kind in KINDS[source]:
            found.append(rule(Alert("uc", kind, 1.0, "tier default"), target))
    return found


def rendered_panels() -> list[str]:
    """The PromQL of every panel of every source that a cluster's Prometheus scrapes."""
    found = []
    for target in TARGETS:
        source = target.engine if isinstance(target, ModelServer) else "gateway"
        found += [line.query for signal in PANELS[source] for line in panel(signal, target)]
    return found


def read_series(queries: list[str]) -> set[str]:
    return {name for query in queries for name in SELECTOR.findall(query) if name not in FUNCTIONS}


def test_every_series_a_rule_or_panel_reads_is_forwarded() -> None:
    rules = rendered_rules()
    assert len(rules) == 6 + 7 + 5  # TGI has no time to first token; the gateway no queue, GPU or replicas
    by_rules = read_series([r["expr"] for r in rules])
    by_panels = read_series(rendered_panels())
    assert by_rules | by_panels == set(watched_series())
    assert {"tgi_request_count", "vllm:num_requests_waiting", "DCGM_FI_DEV_FB_USED", "up"} <= by_rules
    # GPU utilisation is drawn, never alerted on.
    assert by_panels - by_rules == {"DCGM_FI_DEV_GPU_UTIL"}


def test_forwarding_keeps_exactly_the_alerts_series() -> None:
    given = PrometheusForwarding(remote_write=[{"url": "https://a/write"}, {"url": "https://b/write"}])
    kept = forwarding_only(given, ("up", "vllm:num_requests_waiting"))
    assert [e["url"] for e in kept.remote_write] == ["https://a/write", "https://b/write"]
    for entry in kept.remote_write:
        [keep] = entry["writeRelabelConfigs"]
        assert keep["action"] == "keep" and keep["sourceLabels"] == ["__name__"]
        # Prometheus anchors a relabelling regex at both ends.
        matches = {
            n
            for n in ("up", "vllm:num_requests_waiting", "upstream", "vllm:num_requests")
            if re.fullmatch(keep["regex"], n)
        }
        assert matches == {"up", "vllm:num_requests_waiting"}
    assert "writeRelabelConfigs" not in given.remote_write[0]  # the given forwarding is left as it was


@pytest.fixture(scope="module")
def prod() -> Plan:
    return planned("prod")


def prometheus_values(plan: Plan, cluster: str) -> dict[str, Any]:
    [release] = [r for r in plan.by_type(RELEASE) if r.name == f"prod-{cluster}-addons-prometheus-operator"]
    values: dict[str, Any] = release.inputs["values"]
    return values


def test_the_eks_and_aks_prometheus_forward_the_alerts_series_as_their_workload_identity(prod: Plan) -> None:
    aws = prometheus_values(prod, "gpu-aws")["prometheus"]
    [entry] = aws["prometheusSpec"]["remoteWrite"]
    assert re.fullmatch(
        r"https://aps-workspaces\.us-east-1\.amazonaws\.com/workspaces/[^/]+/api/v1/remote_write", entry["url"]
    ), entry["url"]
    assert entry["sigv4"] == {"region": "us-east-1"}
    assert entry["writeRelabelConfigs"][0]["regex"].split("|") == [re.escape(n) for n in watched_series()]
    assert aws["serviceAccount"]["name"] == "triplane-prometheus"  # what the Pod Identity association names

    azure = prometheus_values(prod, "gpu-azure")["prometheus"]
    [entry] = azure["prometheusSpec"]["remoteWrite"]
    assert "/dataCollectionRules/" in entry["url"] and entry["url"].endswith(
        "/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24"
    )
    identity = entry["azureAd"]["workloadIdentity"]
    assert azure["serviceAccount"]["annotations"] == {"azure.workload.identity/client-id": identity["clientId"]}
    assert azure["prometheusSpec"]["podMetadata"]["labels"] == {"azure.workload.identity/use": "true"}
    assert entry["writeRelabelConfigs"] == aws["prometheusSpec"]["remoteWrite"][0]["writeRelabelConfigs"]


def test_gke_forwards_nothing_its_collectors_scrape_the_servers(prod: Plan) -> None:
    gcp = prometheus_values(prod, "gpu-gcp")["prometheus"]
    assert "remoteWrite" not in gcp["prometheusSpec"] and not gcp["serviceAccount"].get("annotations")
    [monitor] = prod.by_type("kubernetes:monitoring.googleapis.com/v1:PodMonitoring")
    assert monitor.inputs["metadata"]["name"] == "prod-fraud-signals-metrics"  # the rules' scrape job


def test_the_aks_forwarder_signs_in_to_entra_through_the_firewall() -> None:
    environment = load_stack("prod").environment()
    entries = [e for e in cloud_entries(environment, "azure") if e.owner == "monitoring"]
    assert [e.host for e in entries] == ["login.microsoftonline.com"]
