"""Managed Service for Prometheus on GKE: each model server is scraped by a PodMonitoring whose job is
the one the rules select (`<app>-metrics`), on its pods and metrics port, and admitted through its
network policies; each alert rule becomes a Cloud Monitoring PromQL policy whose query is the rule's
expression narrowed to the cluster, held as long as the rule's `for`, with its severity, notifying
the environment's channel; the dashboard draws a model server's row in PromQL on the same series."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_kubernetes import provider as k8s_provider

from tests.crd_support import SHARED, needs_shared
from triplane.components.gateway.install import AIGatewayInstallArgs
from triplane.components.gateway.install import pod_monitor as gateway_pod_monitor
from triplane.components.gcp_apis import enable_apis_for_stack
from triplane.components.observability.alerts import (
    KINDS,
    AlertKind,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    VertexModels,
    alert_tags,
    use_case_alerts,
)
from triplane.components.observability.gcp import (
    GcpAlertChannel,
    GcpAlertChannelArgs,
    GcpMonitoring,
    GcpMonitoringArgs,
    dashboard_json,
)
from triplane.components.observability.gcp_prometheus import (
    API_VERSION,
    COLLECTOR_NAMESPACE,
    GMP_GPU,
    GcpPodMonitors,
    GcpPodMonitorsArgs,
    GcpPrometheusAlerts,
    GcpPrometheusAlertsArgs,
    GkeScope,
    alert_policy,
    collector_ingress,
    gateway_pod_monitoring,
    pod_monitoring,
    server_selector,
)
from triplane.components.observability.prometheus import metrics_service, rule, rule_name, watched_series
from triplane.components.observability.signals import PANELS, TITLES
from triplane.components.self_managed.engines import ENGINES
from triplane.components.self_managed.server_names import ServerNames
from triplane.components.tagging import gcp_labels, k8s_labels, standard_tags
from triplane.gate import check_plan
from triplane.plan import Plan, run_program

PROJECT = "acme-serving"
SCOPE = GkeScope(project=PROJECT, location="europe-west4", cluster="prod-gpu-gke")
SCOPE_MATCHERS = 'project_id="acme-serving",location="europe-west4",cluster="prod-gpu-gke",'
TAGS = standard_tags(environment="prod", owner="platform-team", cost_center="cc-1")
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
POD_MONITORING = f"kubernetes:{API_VERSION}:PodMonitoring"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CRDS = Path(__file__).parent / "crds"

VLLM = ModelServer(cluster="gpu", namespace="fraud-signals", app="prod-fraud-signals", engine="vllm")
TGI = ModelServer(cluster="gpu", namespace="llm-code", app="prod-llm-code", engine="tgi")
ELSEWHERE = ModelServer(cluster="other", namespace="llm-x", app="prod-llm-x", engine="vllm")

# Thresholds no default uses, in the spec's units.
THRESHOLDS = {
    "error_rate_percent": 3.5,
    "latency_p95_seconds": 42.5,
    "first_token_p95_seconds": 2.25,
    "queue_depth": 6,
    "gpu_memory_percent": 91,
}


def _use_case(name: str, target: ModelServer) -> MonitoredUseCase:
    alerts = use_case_alerts(name, target.engine, "prod", THRESHOLDS, 30_000_000)
    return MonitoredUseCase(name, "self-managed", "confidential", target, alerts)


CHAT = _use_case("fraud-signals", VLLM)
CODE = _use_case("llm-code", TGI)
VERTEX = MonitoredUseCase(
    "search",
    "cloud-managed",
    "internal",
    VertexModels(PROJECT, "europe-west4", ("gemini-3.5-flash",)),
    use_case_alerts("search", "vertex", "prod", {}, None),
)
ROUTE = MonitoredUseCase(
    "summarise",
    "saas",
    "internal",
    GatewayRoute(cluster="gpu", model="summarise"),
    use_case_alerts("summarise", "gateway", "prod", {"throttles_per_5_minutes": 17}, 30_000_000),
)
USE_CASES = (CHAT, CODE, VERTEX, ROUTE)


def _selectors(expr: str) -> list[str]:
    return re.findall(r"\{([^{}]*)\}", expr)


# --- scraping --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_case", [CHAT, CODE], ids=["vllm", "tgi"])
def test_pod_monitoring_scrapes_the_servers_pods_on_their_metrics_port_as_the_rules_job(
    use_case: MonitoredUseCase,
) -> None:
    target = use_case.target
    assert isinstance(target, ModelServer)
    engine = ENGINES[target.engine]
    body = pod_monitoring(use_case, {"triplane.io/environment": "prod"})
    assert (body["apiVersion"], body["kind"]) == ("monitoring.googleapis.com/v1", "PodMonitoring")
    # GMP sets `job` to the PodMonitoring's name; the ServiceMonitor's job is its Service's: both `<app>-metrics`.
    assert body["metadata"]["name"] == metrics_service(target.app) == f"{target.app}-metrics"
    assert body["metadata"]["namespace"] == target.namespace
    assert body["metadata"]["labels"] == {
        "triplane.io/environment": "prod",
        **k8s_labels({"use-case": use_case.name, "pattern": "self-managed", "data-classification": "confidential"}),
    }
    # The labels the server's Deployment gives its pods.
    names = ServerNames.of(target.app, target.namespace, engine, {})
    assert names.app == target.app
    assert body["spec"]["selector"] == {"matchLabels": dict(names.selector)} == {"matchLabels": server_selector(target)}
    [endpoint] = body["spec"]["endpoints"]
    [keep] = endpoint.pop("metricRelabeling")
    assert endpoint == {
        "port": {"tgi": 9000, "vllm": 8000}[target.engine],
        "path": "/metrics",
        "scheme": "http",
        "interval": "30s",
    }
    # Only the series the alerts read are ingested (each billed per sample).
    assert keep["action"] == "keep" and keep["sourceLabels"] == ["__name__"]
    assert {n for n in watched_series() if re.fullmatch(keep["regex"], n)} == set(watched_series())
    assert not re.fullmatch(keep["regex"], "vllm:gpu_cache_usage_perc")
    assert endpoint["port"] == engine.metrics_port
    assert body["spec"]["targetLabels"] == {"metadata": ["pod"]}


def test_every_rule_of_a_server_selects_the_pod_monitorings_job() -> None:
    for use_case in (CHAT, CODE):
        target = use_case.target
        assert isinstance(target, ModelServer)
        job = pod_monitoring(use_case)["metadata"]["name"]
        for alert in use_case.alerts:
            expr = alert_policy("prod", use_case, alert, SCOPE)["conditions"][0]["condition_prometheus_query_language"]
            for series, selector in re.findall(r"([A-Za-z_:][A-Za-z0-9_:]*)\{([^{}]*)\}", expr["query"]):
                if not series.startswith("DCGM_FI"):
                    assert f'job="{job}"' in selector and f'namespace="{target.namespace}"' in selector


def test_the_collectors_reach_only_the_servers_metrics_port() -> None:
    spec = collector_ingress(CODE)
    assert spec["pod_selector"] == {"match_labels": server_selector(TGI)}
    assert spec["policy_types"] == ["Ingress"]
    [rule_] = spec["ingress"]
    assert rule_["ports"] == [{"protocol": "TCP", "port": 9000}]
    assert rule_["from"] == [
        {
            "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": COLLECTOR_NAMESPACE}},
            "pod_selector": {"match_labels": {"app.kubernetes.io/name": "collector"}},
        }
    ]
    assert COLLECTOR_NAMESPACE == "gmp-system"


def _validate(folder: Path) -> subprocess.CompletedProcess[str]:
    assert SHARED is not None
    return subprocess.run(
        [sys.executable, str(SHARED / "tools" / "validate-crs"), "--crds", str(CRDS), str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )


@needs_shared
def test_pod_monitorings_validate_against_the_gmp_crd(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    for use_case in (CHAT, CODE):
        body = pod_monitoring(use_case, k8s_labels(TAGS))
        (good / f"{use_case.name}.yaml").write_text(json.dumps(body))
    (good / "gateway.yaml").write_text(json.dumps(gateway_pod_monitoring("ai-gateway", k8s_labels(TAGS))))
    result = _validate(good)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 checked, 0 invalid, 0 of unknown kind" in result.stdout
    # The schema is strict: a field the CRD does not have (a ServiceMonitor's `honorLabels`) is refused.
    wrong = pod_monitoring(CHAT)
    wrong["spec"]["endpoints"][0]["honorLabels"] = True
    (bad / "wrong.yaml").write_text(json.dumps(wrong))
    assert _validate(bad).returncode == 1


def test_the_gateway_is_scraped_as_its_pod_monitor_scrapes_it() -> None:
    body = gateway_pod_monitoring("llm-gateway")
    operator = gateway_pod_monitor(
        AIGatewayInstallArgs(
            hostname="ai.internal.example.com",
            tls_certificate="",
            tls_private_key="",
            source_ranges=["10.0.0.0/16"],
            load_balancer_annotations={},
            namespace="llm-gateway",
        )
    )
    assert body["metadata"]["namespace"] == operator["metadata"]["namespace"] == "envoy-gateway-system"
    assert body["spec"]["selector"] == operator["spec"]["selector"]
    assert [(e["port"], e["path"], e["interval"]) for e in body["spec"]["endpoints"]] == [
        (e["port"], e["path"], e["interval"]) for e in operator["spec"]["podMetricsEndpoints"]
    ]


# --- alert policies --------------------------------------------------------------------------------------

HELD_SECONDS: dict[AlertKind, str] = {"queue": "600s", "gpu-memory": "600s", "no-ready-replicas": "300s"}
CRITICAL = {"error-rate", "no-ready-replicas"}


@pytest.mark.parametrize(
    ("use_case", "kind"),
    [(u, k) for u in (CHAT, CODE) for k in KINDS[u.target.engine]],  # type: ignore[union-attr]
)
def test_each_policy_is_its_rule_narrowed_to_the_cluster(use_case: MonitoredUseCase, kind: AlertKind) -> None:
    target = use_case.target
    assert isinstance(target, ModelServer)
    [alert] = [a for a in use_case.alerts if a.kind == kind]
    args = alert_policy("prod", use_case, alert, SCOPE)
    [condition] = args["conditions"]
    promql = condition["condition_prometheus_query_language"]
    in_cluster = rule(alert, target)
    assert promql["query"] == rule(alert, target, scope=SCOPE.matchers(), gpu=GMP_GPU)["expr"]
    # Every selector names this cluster, and nothing else changes but where the GPU's workload is.
    for selector in _selectors(promql["query"]):
        assert SCOPE_MATCHERS in selector, selector
    unscoped = promql["query"].replace(SCOPE_MATCHERS, "")
    if kind == "gpu-memory":
        unscoped = unscoped.replace("exported_namespace", "namespace").replace("exported_pod", "pod")
    assert unscoped == in_cluster["expr"]
    assert promql["duration"] == HELD_SECONDS.get(kind, "0s")
    assert ("for" in in_cluster) == (kind in HELD_SECONDS)
    assert promql["evaluation_interval"] == "30s"
    assert promql["alert_rule"] == in_cluster["alert"]
    assert promql["rule_group"] == rule_name(use_case.name)
    assert promql["labels"] == in_cluster["labels"]
    assert promql["disable_metric_validation"] is True
    assert args["severity"] == ("CRITICAL" if kind in CRITICAL else "WARNING")
    assert args["display_name"] == f"prod-{alert.name}"
    assert args["documentation"]["subject"] == f"prod-{alert.name}: {alert.summary}"
    assert args["combiner"] == "OR"


def test_thresholds_reach_the_query_in_the_specs_units() -> None:
    by_kind = {a.kind: a for a in CHAT.alerts}

    def query(kind: AlertKind) -> str:
        args = alert_policy("prod", CHAT, by_kind[kind], SCOPE)
        return str(args["conditions"][0]["condition_prometheus_query_language"]["query"])

    assert query("error-rate").endswith(" > 3.5")
    assert query("latency").endswith(" > 42.5")
    assert query("first-token").endswith(" > 2.25")
    assert query("queue").endswith(" > 6")
    assert query("token-burn").endswith(f" > {by_kind['token-burn'].threshold:.0f}")
    assert query("no-ready-replicas") == (
        f'absent(up{{{SCOPE_MATCHERS}namespace="fraud-signals",job="prod-fraud-signals-metrics"}} == 1)'
    )


@pytest.mark.parametrize("kind", KINDS["gateway"])
def test_a_gateway_routes_policy_is_its_rule_narrowed_to_the_cluster(kind: AlertKind) -> None:
    [alert] = [a for a in ROUTE.alerts if a.kind == kind]
    promql = alert_policy("prod", ROUTE, alert, SCOPE, gateway_namespace="llm-gateway")["conditions"][0][
        "condition_prometheus_query_language"
    ]
    in_cluster = rule(alert, ROUTE.target, gateway_namespace="llm-gateway")  # type: ignore[arg-type]
    for selector in _selectors(promql["query"]):
        assert SCOPE_MATCHERS in selector, selector
    assert promql["query"].replace(SCOPE_MATCHERS, "") == in_cluster["expr"]
    assert promql["duration"] == "0s"
    if kind == "throttling":
        assert "httproute/llm-gateway/" in promql["query"]


def test_gpu_memory_reads_the_workloads_labels_gke_managed_dcgm_series_carry() -> None:
    [alert] = [a for a in CHAT.alerts if a.kind == "gpu-memory"]
    query = alert_policy("prod", CHAT, alert, SCOPE)["conditions"][0]["condition_prometheus_query_language"]["query"]
    used = f'DCGM_FI_DEV_FB_USED{{{SCOPE_MATCHERS}exported_namespace="fraud-signals"}}'
    free = f'DCGM_FI_DEV_FB_FREE{{{SCOPE_MATCHERS}exported_namespace="fraud-signals"}}'
    assert query == f"100 * max by (exported_namespace, exported_pod) ({used} / ({used} + {free})) > 91"


# --- the components under mocks --------------------------------------------------------------------------


def _program(channels: Any = None) -> None:
    enable_apis_for_stack(PROJECT, "ts-gcp-apis")
    provider = k8s_provider.Provider("ts-gke-k8s", context="gke")
    GcpPodMonitors(
        "ts-gpu-pod-monitors", GcpPodMonitorsArgs(use_cases=USE_CASES, provider=provider, labels=k8s_labels(TAGS))
    )
    if channels is None:
        channel = GcpAlertChannel(
            "ts-alerts",
            GcpAlertChannelArgs(name_prefix="prod", project=PROJECT, emails=["oncall@acme.example"], tags=TAGS),
        )
        channels = pulumi.Output.all(*channel.channel_names)
    GcpPrometheusAlerts(
        "ts-gpu-alerts",
        GcpPrometheusAlertsArgs(name_prefix="prod", scope=SCOPE, channels=channels, use_cases=USE_CASES, tags=TAGS),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(_program, stack="ts")


def test_a_pod_monitoring_and_a_collector_policy_per_server_on_the_clusters_provider(plan: Plan) -> None:
    provider = plan.one("pulumi:providers:kubernetes", "ts-gke-k8s")
    monitors = {r.inputs["metadata"]["name"]: r for r in plan.by_type(POD_MONITORING)}
    assert sorted(monitors) == ["ai-gateway", "prod-fraud-signals-metrics", "prod-llm-code-metrics"]
    assert monitors["ai-gateway"].inputs["spec"] == gateway_pod_monitoring()["spec"]
    for use_case in (CHAT, CODE):
        body = pod_monitoring(use_case, k8s_labels(TAGS))
        planned = monitors[body["metadata"]["name"]]
        assert planned.inputs["spec"] == body["spec"]
        assert planned.inputs["metadata"] == body["metadata"]
        assert planned.provider_urn == provider.urn
    policies = {r.inputs["metadata"]["name"]: r for r in plan.by_type(NETWORK_POLICY)}
    assert sorted(policies) == ["prod-fraud-signals-gmp-collector", "prod-llm-code-gmp-collector"]
    code = policies["prod-llm-code-gmp-collector"]
    assert code.inputs["metadata"]["namespace"] == "llm-code"
    assert code.inputs["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 9000}]
    assert code.provider_urn == provider.urn


def test_one_policy_per_server_and_route_alert_notifying_the_channel(plan: Plan) -> None:
    policies = {p.inputs["displayName"]: p for p in plan.by_type(POLICY)}
    watched = (CHAT, CODE, ROUTE)
    assert sorted(policies) == sorted(f"prod-{a.name}" for u in watched for a in u.alerts)
    # Every kind, token burn included; none for the Vertex use case (GcpMonitoring's).
    assert len(policies) == len(KINDS["vllm"]) + len(KINDS["tgi"]) + len(KINDS["gateway"])
    channel_names = [c.name for c in plan.by_type("gcp:monitoring/notificationChannel:NotificationChannel")]
    assert len(channel_names) == 1
    by_name = {f"prod-{a.name}": (u, a) for u in watched for a in u.alerts}
    for name, policy in policies.items():
        use_case, alert = by_name[name]
        assert policy.inputs["notificationChannels"] == channel_names
        assert policy.inputs["project"] == PROJECT
        assert policy.inputs["userLabels"] == {**gcp_labels(TAGS), **gcp_labels(alert_tags(use_case, alert))}
        [condition] = policy.inputs["conditions"]
        promql = condition["conditionPrometheusQueryLanguage"]
        expected = alert_policy("prod", use_case, alert, SCOPE)["conditions"][0]["condition_prometheus_query_language"]
        assert promql["query"] == expected["query"]
        assert promql["duration"] == expected["duration"]
        assert policy.inputs["severity"] == ("CRITICAL" if alert.kind in CRITICAL else "WARNING")
    assert [v for v in check_plan(plan).violations if v.policy == "required-tags"] == []


def test_policies_notify_exactly_the_channels_they_are_given() -> None:
    given = [f"projects/{PROJECT}/notificationChannels/1234567890"]
    plan = run_program(lambda: _program(given), stack="ts")
    assert {tuple(p.inputs["notificationChannels"]) for p in plan.by_type(POLICY)} == {tuple(given)}


# --- the dashboard ---------------------------------------------------------------------------------------


def _rows(layout: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for tile in layout["mosaicLayout"]["tiles"]:
        widget = tile["widget"]
        if "xyChart" in widget:
            use_case, _, title = widget["title"].partition(": ")
            rows.setdefault(use_case, {})[title] = widget["xyChart"]
    return rows


def test_a_gke_server_gets_a_promql_row_in_its_engines_panel_order() -> None:
    layout = dashboard_json(PROJECT, (*USE_CASES, _use_case("elsewhere", ELSEWHERE)), servers={"gpu": SCOPE})
    rows = _rows(layout)
    assert list(rows) == ["fraud-signals", "llm-code", "search", "summarise"]  # a cluster not given draws no row
    assert list(rows["fraud-signals"]) == [TITLES[s] for s in PANELS["vllm"]]
    assert list(rows["llm-code"]) == [TITLES[s] for s in PANELS["tgi"]]
    for title, chart in [*rows["fraud-signals"].items(), *rows["llm-code"].items()]:
        for data_set in chart["dataSets"]:
            query = data_set["timeSeriesQuery"]["prometheusQuery"]
            for selector in _selectors(query):
                assert SCOPE_MATCHERS in selector, (title, query)
    chat = rows["fraud-signals"]
    [errors] = chat["Errors"]["dataSets"]
    [error_rule] = [a for a in CHAT.alerts if a.kind == "error-rate"]
    # The chart draws the alert's own expression (without its comparison) and its threshold.
    assert (
        errors["timeSeriesQuery"]["prometheusQuery"] + " > 3.5"
        == (
            alert_policy("prod", CHAT, error_rule, SCOPE)["conditions"][0]["condition_prometheus_query_language"][
                "query"
            ]
        )
    )
    assert chat["Errors"]["thresholds"][0]["value"] == 3.5
    [gpu] = chat["GPU memory"]["dataSets"]
    assert gpu["legendTemplate"] == "${exported_pod}"
    assert 'exported_namespace="fraud-signals"' in gpu["timeSeriesQuery"]["prometheusQuery"]
    assert chat["GPU memory"]["thresholds"][0]["value"] == 91
    tokens = chat["Tokens (input, output) vs volume"]
    assert [d["legendTemplate"] for d in tokens["dataSets"]] == ["input", "output"]
    assert {d["plotType"] for d in tokens["dataSets"]} == {"STACKED_BAR"}
    assert "vllm:prompt_tokens_total{" in tokens["dataSets"][0]["timeSeriesQuery"]["prometheusQuery"]
    [replicas] = chat["Ready replicas"]["dataSets"]
    assert replicas["timeSeriesQuery"]["prometheusQuery"] == (
        f'count(up{{{SCOPE_MATCHERS}namespace="fraud-signals",job="prod-fraud-signals-metrics"}} == 1) or vector(0)'
    )
    # The Vertex row is drawn as without servers.
    assert rows["search"] == _rows(dashboard_json(PROJECT, USE_CASES))["search"]


def test_a_gateway_route_on_gke_gets_a_promql_row_of_its_alerts_expressions() -> None:
    rows = _rows(dashboard_json(PROJECT, USE_CASES, servers={"gpu": SCOPE}))
    route = rows["summarise"]
    assert list(route) == [TITLES[s] for s in PANELS["gateway"]]
    for kind, title in (("error-rate", "Errors"), ("throttling", "Throttled"), ("latency", "Latency p95")):
        [alert] = [a for a in ROUTE.alerts if a.kind == kind]
        [line] = route[title]["dataSets"]
        condition = alert_policy("prod", ROUTE, alert, SCOPE)["conditions"][0]["condition_prometheus_query_language"]
        # The chart draws the alert's own expression, on this cluster, and the spec's threshold.
        assert line["timeSeriesQuery"]["prometheusQuery"] + f" > {alert.threshold:g}" == condition["query"]
        assert route[title]["thresholds"][0]["value"] == alert.threshold
    assert route["Throttled"]["thresholds"][0]["value"] == 17
    tokens = route["Tokens (input, output) vs volume"]["dataSets"]
    assert [d["legendTemplate"] for d in tokens] == ["input", "output"]
    assert 'gen_ai_token_type="output"' in tokens[1]["timeSeriesQuery"]["prometheusQuery"]
    assert 'gen_ai_original_model="summarise"' in tokens[1]["timeSeriesQuery"]["prometheusQuery"]
    assert SCOPE_MATCHERS in tokens[1]["timeSeriesQuery"]["prometheusQuery"]


def test_without_servers_the_dashboard_is_the_vertex_one() -> None:
    assert dashboard_json(PROJECT, USE_CASES) == dashboard_json(PROJECT, (VERTEX,))
    only_servers = GcpMonitoringArgs(name_prefix="prod", project=PROJECT, channels=[], use_cases=(CHAT,))

    def program() -> None:
        enable_apis_for_stack(PROJECT, "ts-gcp-apis")
        GcpMonitoring("ts-obs", only_servers)

    assert run_program(program, stack="ts").by_type(DASHBOARD) == []


def test_gcp_monitoring_draws_the_servers_of_the_clusters_it_is_given() -> None:
    def program() -> None:
        enable_apis_for_stack(PROJECT, "ts-gcp-apis")
        GcpMonitoring(
            "ts-obs",
            GcpMonitoringArgs(
                name_prefix="prod", project=PROJECT, channels=[], use_cases=USE_CASES, servers={"gpu": SCOPE}
            ),
        )

    plan = run_program(program, stack="ts")
    layout = json.loads(plan.one(DASHBOARD).inputs["dashboardJson"])
    assert list(_rows(layout)) == ["fraud-signals", "llm-code", "search", "summarise"]
    # Server alerts are GcpPrometheusAlerts': GcpMonitoring still alerts only on Vertex.
    assert {p.inputs["userLabels"]["use-case"] for p in plan.by_type(POLICY)} == {"search"}


def test_a_cluster_in_another_project_is_refused() -> None:
    args = GcpMonitoringArgs(
        name_prefix="prod",
        project=PROJECT,
        channels=[],
        use_cases=USE_CASES,
        servers={"gpu": GkeScope("other-project", "europe-west4", "prod-gpu-gke")},
    )
    with pytest.raises(ValueError, match="cluster gpu: its series are in project other-project"):
        run_program(lambda: GcpMonitoring("ts-obs", args), stack="ts")
