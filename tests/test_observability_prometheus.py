"""PrometheusRules: each alert watches its engine's (or the gateway's) real series, narrowed to this
use case's server or model, with the spec's threshold; each PrometheusRule names its use case; the
rules validate against the pinned CRD, wait for the release installing it, and are the rules Triplane's
Prometheus loads. A server that may scale to zero gets no alert for having no replica."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pytest
from pulumi_kubernetes import provider as k8s_provider

from tests.crd_support import SHARED, needs_shared, validate_crs
from triplane.components.observability.alerts import (
    KINDS,
    WINDOW_SECONDS,
    Alert,
    AlertKind,
    BedrockModels,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    Source,
    owner_tags,
    use_case_alerts,
)
from triplane.components.observability.prometheus import (
    ALERT_NAMES,
    PrometheusAlertRules,
    PrometheusAlertRulesArgs,
    gateway_expr,
    rule,
    rules,
    server_expr,
)
from triplane.components.self_managed.addons import (
    MONITORING_NAMESPACE,
    SCRAPE_LABELS,
    ClusterAddons,
    ClusterAddonsArgs,
)
from triplane.components.tagging import k8s_labels, standard_tags
from triplane.plan import Plan, run_program

RELEASE = "kubernetes:helm.sh/v3:Release"
RULE_TYPE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"

VLLM = ModelServer(cluster="gpu", namespace="llm-chat", app="chat-vllm", engine="vllm")
TGI = ModelServer(cluster="gpu", namespace="llm-code", app="code-tgi", engine="tgi")
OTHER = ModelServer(cluster="gpu", namespace="llm-other", app="other-vllm", engine="vllm")
ROUTE = GatewayRoute(cluster="gpu", model="summarise")

# Thresholds no default uses, in the spec's units, so a test sees the spec's value reach the expression.
SPEC = {
    "error-rate": 3.5,
    "throttling": 17,
    "latency": 42.5,
    "first-token": 2.25,
    "queue": 6,
    "gpu-memory": 91,
    "token-burn": 1_234_567,
    "no-ready-replicas": 0,
}


def _alert(use_case: str, kind: AlertKind) -> Alert:
    return Alert(use_case, kind, SPEC[kind], "spec")


def _promql_number(expr: str) -> float:
    """The threshold an expression compares against (`... > N`)."""
    match = re.search(r" > ([0-9.]+)$", expr)
    assert match, expr
    return float(match.group(1))


SERVER_SERIES = {
    "tgi": {
        "error-rate": ["tgi_request_failure{", "tgi_request_count{"],
        "latency": ["tgi_request_duration_bucket{"],
        "queue": ["tgi_queue_size{", "up{"],
        "gpu-memory": ["DCGM_FI_DEV_FB_USED{", "DCGM_FI_DEV_FB_FREE{"],
        "token-burn": ["tgi_request_input_length_sum{", "tgi_request_generated_tokens_sum{"],
        "no-ready-replicas": ["up{"],
    },
    "vllm": {
        "error-rate": ["http_requests_total{"],
        "latency": ["vllm:e2e_request_latency_seconds_bucket{"],
        "first-token": ["vllm:time_to_first_token_seconds_bucket{"],
        "queue": ["vllm:num_requests_waiting{", "up{"],
        "gpu-memory": ["DCGM_FI_DEV_FB_USED{", "DCGM_FI_DEV_FB_FREE{"],
        "token-burn": ["vllm:prompt_tokens_total{", "vllm:generation_tokens_total{"],
        "no-ready-replicas": ["up{"],
    },
}


def _selectors(expr: str) -> list[str]:
    return re.findall(r"\{([^{}]*)\}", expr)


@pytest.mark.parametrize(("engine", "kind"), [(engine, kind) for engine in ("tgi", "vllm") for kind in KINDS[engine]])
def test_server_alert_watches_its_engine_metric_of_this_server(engine: str, kind: AlertKind) -> None:
    target = TGI if engine == "tgi" else VLLM
    expr = server_expr(_alert("u", kind), target)
    assert set(SERVER_SERIES[engine]) == set(KINDS[engine])  # every kind KINDS lists is covered here
    for series in SERVER_SERIES[engine][kind]:
        assert series in expr, (series, expr)
    # Every series is narrowed to this server: its namespace, and (but for the GPUs) its scrape job, which
    # is its metrics Service's name (ServiceMonitor) and the PodMonitoring's (Google Cloud).
    for selector in _selectors(expr):
        assert f'namespace="{target.namespace}"' in selector, expr
        if "DCGM_FI" not in expr:
            assert f'job="{target.app}-metrics"' in selector, expr
        assert "service=" not in selector, expr
    assert OTHER.namespace not in expr and OTHER.app not in expr
    if kind == "no-ready-replicas":
        assert expr == f'absent(up{{namespace="{target.namespace}",job="{target.app}-metrics"}} == 1)'
    else:
        assert _promql_number(expr) == SPEC[kind]


def test_server_errors_are_the_engines_server_side_failures_in_percent() -> None:
    tgi = server_expr(_alert("u", "error-rate"), TGI)
    assert tgi.startswith('100 * sum(rate(tgi_request_failure{err!~"validation|template",')
    assert "/ sum(rate(tgi_request_count{" in tgi
    vllm = server_expr(_alert("u", "error-rate"), VLLM)
    assert re.search(r'sum\(rate\(http_requests_total\{[^}]*status="5xx"[^}]*\}\[5m\]\)\) / ', vllm)
    denominator = vllm.split(" / ", 1)[1]
    assert "status=" not in denominator and 'handler=~"/v1/.+"' in denominator


def test_latency_is_the_p95_in_seconds_and_queue_is_per_ready_replica() -> None:
    latency = server_expr(_alert("u", "latency"), VLLM)
    assert latency.startswith("histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{")
    assert latency.endswith("[5m]))) > 42.5")
    queue = server_expr(_alert("u", "queue"), TGI)
    assert queue == (
        'sum(tgi_queue_size{namespace="llm-code",job="code-tgi-metrics"}) / '
        'count(up{namespace="llm-code",job="code-tgi-metrics"} == 1) > 6'
    )


def test_gpu_memory_is_used_over_total_in_percent_for_the_servers_pods() -> None:
    expr = server_expr(_alert("u", "gpu-memory"), VLLM)
    used, free = 'DCGM_FI_DEV_FB_USED{namespace="llm-chat"}', 'DCGM_FI_DEV_FB_FREE{namespace="llm-chat"}'
    assert expr == f"100 * max by (namespace, pod) ({used} / ({used} + {free})) > 91"


def test_token_burn_adds_input_and_output_tokens_over_a_day() -> None:
    expr = server_expr(_alert("u", "token-burn"), VLLM)
    assert expr.count("[1d]") == 2 and expr.endswith(" > 1234567")
    assert "e+" not in expr  # a literal PromQL reads without an exponent


def test_a_kind_the_engine_does_not_back_is_refused() -> None:
    with pytest.raises(ValueError, match="'first-token' alerts have no tgi metric"):
        server_expr(_alert("u", "first-token"), TGI)
    with pytest.raises(ValueError, match="'queue' alerts have no gateway metric"):
        gateway_expr(_alert("u", "queue"), ROUTE, "u", "ai-gateway")


GATEWAY_SERIES = {
    "error-rate": "gen_ai_server_request_duration_seconds_count{",
    "throttling": "envoy_cluster_upstream_rq{",
    "latency": "gen_ai_server_request_duration_seconds_bucket{",
    "first-token": "gen_ai_server_time_to_first_token_seconds_bucket{",
    "token-burn": "gen_ai_client_token_usage_sum{",
}


@pytest.mark.parametrize("kind", KINDS["gateway"])
def test_gateway_alert_watches_the_routes_model(kind: AlertKind) -> None:
    assert set(GATEWAY_SERIES) == set(KINDS["gateway"])
    expr = rule(_alert("summarise", kind), ROUTE)["expr"]
    assert GATEWAY_SERIES[kind] in expr
    for selector in _selectors(expr):
        assert 'namespace="envoy-gateway-system"' in selector
        if kind == "throttling":
            assert 'envoy_cluster_name=~"httproute/ai-gateway/summarise/rule/[0-9]+"' in selector
            assert 'envoy_response_code="429"' in selector
        else:
            assert 'gen_ai_original_model="summarise"' in selector
    assert _promql_number(expr) == SPEC[kind]


def test_gateway_errors_tokens_and_throttles_read_the_right_labels() -> None:
    errors = rule(_alert("summarise", "error-rate"), ROUTE)["expr"]
    numerator, denominator = errors.split(" / ")
    assert 'error_type!=""' in numerator and "error_type" not in denominator
    tokens = rule(_alert("summarise", "token-burn"), ROUTE)["expr"]
    assert 'gen_ai_token_type=~"input|output"' in tokens and "[1d]" in tokens
    throttles = rule(_alert("summarise", "throttling"), ROUTE, gateway_namespace="gw-prod")["expr"]
    assert throttles == (
        'sum(increase(envoy_cluster_upstream_rq{namespace="envoy-gateway-system",'
        'envoy_cluster_name=~"httproute/gw-prod/summarise/rule/[0-9]+",envoy_response_code="429"}[5m])) > 17'
    )


@pytest.mark.parametrize("kind", sorted(set(KINDS["vllm"]) | set(KINDS["gateway"])))
def test_held_conditions_wait_their_window_and_the_others_compute_over_it(kind: AlertKind) -> None:
    target: ModelServer | GatewayRoute = VLLM if kind in KINDS["vllm"] else ROUTE
    body = rule(_alert("summarise", kind), target)
    window = {300: "5m", 600: "10m", 86_400: "1d"}[WINDOW_SECONDS[kind]]
    if kind in ("queue", "gpu-memory", "no-ready-replicas"):
        assert body["for"] == window
    else:
        assert "for" not in body
        assert f"[{window}]" in body["expr"]
    assert body["alert"] == ALERT_NAMES[kind] and re.fullmatch(r"Triplane[A-Z][A-Za-z]+", body["alert"])
    assert body["labels"]["use_case"] == "summarise" and body["labels"]["triplane_alert"] == kind
    assert body["labels"]["severity"] in ("critical", "warning")
    assert body["annotations"] == {"summary": _alert("summarise", kind).summary}


def _use_cases() -> list[MonitoredUseCase]:
    return [
        MonitoredUseCase(
            "chat", "self-managed", "internal", VLLM, use_case_alerts("chat", "vllm", "prod", {}, 30_000_000)
        ),
        MonitoredUseCase(
            "code", "self-managed", "internal", TGI, use_case_alerts("code", "tgi", "dev", {"queue_depth": 4}, None)
        ),
        MonitoredUseCase(
            "summarise",
            "saas",
            "public",
            ROUTE,
            use_case_alerts("summarise", "gateway", "staging", {}, 900_000_000),
        ),
        MonitoredUseCase(
            "bedrock",
            "cloud-managed",
            "internal",
            BedrockModels("eu-west-1", ("anthropic.claude",)),
            use_case_alerts("bedrock", "bedrock", "prod", {}, None),
        ),
    ]


def test_one_rule_per_scraped_use_case_in_the_monitoring_namespace_labelled_for_prometheus() -> None:
    rendered = rules(_use_cases(), labels={"triplane.io/environment": "dev"})
    assert [r["metadata"]["name"] for r in rendered] == ["triplane-chat", "triplane-code", "triplane-summarise"]
    for body, use_case in zip(rendered, _use_cases(), strict=False):
        assert (body["apiVersion"], body["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
        assert body["metadata"]["namespace"] == MONITORING_NAMESPACE == "monitoring"
        assert body["metadata"]["labels"] == {
            "triplane.io/environment": "dev",
            "triplane.io/use-case": use_case.name,
            "triplane.io/pattern": use_case.pattern,
            "triplane.io/data-classification": use_case.classification,
            **SCRAPE_LABELS,
        }
        [group] = body["spec"]["groups"]
        assert group["name"] == body["metadata"]["name"]
        assert [r["labels"]["triplane_alert"] for r in group["rules"]] == [a.kind for a in use_case.alerts]
        assert {r["labels"]["use_case"] for r in group["rules"]} == {use_case.name}
    code = rendered[1]["spec"]["groups"][0]["rules"]
    assert next(r["expr"] for r in code if r["labels"]["triplane_alert"] == "queue").endswith(" > 4")
    assert not [r for r in code if r["labels"]["triplane_alert"] == "token-burn"]  # no declared volume


def test_a_rules_own_use_case_wins_over_the_shared_labels() -> None:
    shared = k8s_labels(standard_tags(environment="prod", owner="ml-platform", cost_center="cc-42"))
    assert shared["triplane.io/use-case"] == "shared"
    rendered = rules(_use_cases(), labels=shared)
    for body, use_case in zip(rendered, _use_cases(), strict=False):
        labels = body["metadata"]["labels"]
        assert labels == {**shared, **k8s_labels(owner_tags(use_case)), **SCRAPE_LABELS}
        assert labels["triplane.io/use-case"] == use_case.name
        assert labels["triplane.io/owner"] == "ml-platform"
    assert [r["metadata"]["labels"]["triplane.io/pattern"] for r in rendered] == ["self-managed"] * 2 + ["saas"]


def test_use_cases_whose_names_collide_are_refused() -> None:
    chat = _use_cases()[0]
    with pytest.raises(ValueError, match="render PrometheusRules of the same name"):
        rules([chat, MonitoredUseCase("Chat", "self-managed", "internal", OTHER, chat.alerts)])


@needs_shared
def test_rendered_rules_validate_against_the_pinned_crd(tmp_path: Path) -> None:
    assert SHARED is not None
    rendered = rules(_use_cases(), labels={"triplane.io/environment": "dev"})
    for body in rendered:
        (tmp_path / f"{body['metadata']['name']}.yaml").write_text(json.dumps(body))
    result = validate_crs(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 checked, 0 invalid, 0 of unknown kind" in result.stdout


def _program() -> None:
    provider = k8s_provider.Provider("ts-k8s", context="onprem")
    addons = ClusterAddons(
        "t-addons",
        ClusterAddonsArgs(install={"prometheus-operator"}),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    PrometheusAlertRules(
        "t-alerts",
        PrometheusAlertRulesArgs(
            rules=rules(_use_cases()),
            provider=provider,
            crd_releases={"monitoring.coreos.com": addons.releases["prometheus-operator"]},
        ),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(_program, stack="ts")


def test_component_creates_each_rule_after_the_release_installing_its_crd(plan: Plan) -> None:
    created = plan.by_type(RULE_TYPE)
    names = ["t-alerts-triplane-chat", "t-alerts-triplane-code", "t-alerts-triplane-summarise"]
    assert [r.name for r in created] == names
    release = plan.one(RELEASE, "t-addons-prometheus-operator")
    component = plan.one("triplane:observability:PrometheusAlertRules", "t-alerts")
    provider = plan.one("pulumi:providers:kubernetes", "ts-k8s")
    for resource in created:
        assert release.urn in resource.dependencies
        assert resource.parent == component.urn
        assert resource.provider_urn == provider.urn
        assert resource.inputs["metadata"]["namespace"] == "monitoring"
        assert resource.inputs["spec"]["groups"][0]["rules"]


def test_triplanes_prometheus_loads_exactly_the_rules_carrying_its_label(plan: Plan) -> None:
    spec = plan.one(RELEASE, "t-addons-prometheus-operator").inputs["values"]["prometheus"]["prometheusSpec"]
    assert spec["ruleSelectorNilUsesHelmValues"] is False
    assert spec["ruleSelector"] == {"matchLabels": SCRAPE_LABELS} == spec["podMonitorSelector"]
    assert spec["ruleNamespaceSelector"] == {}
    for resource in plan.by_type(RULE_TYPE):
        labels = resource.inputs["metadata"]["labels"]
        assert spec["ruleSelector"]["matchLabels"].items() <= labels.items()


def test_every_planned_rule_names_its_use_case(plan: Plan) -> None:
    created = plan.by_type(RULE_TYPE)
    assert [r.inputs["metadata"]["labels"]["triplane.io/use-case"] for r in created] == ["chat", "code", "summarise"]
    for resource in created:
        use_case = resource.inputs["metadata"]["labels"]["triplane.io/use-case"]
        assert {r["labels"]["use_case"] for r in resource.inputs["spec"]["groups"][0]["rules"]} == {use_case}


# --- a server that may scale to zero ---------------------------------------------------------------


@pytest.mark.parametrize("engine", ["tgi", "vllm"])
def test_a_server_allowed_to_scale_to_zero_gets_no_no_ready_replicas_alert(engine: Source) -> None:
    serving = use_case_alerts("chat", engine, "prod", {}, 30_000_000)
    idle = use_case_alerts("chat", engine, "prod", {}, 30_000_000, always_serving=False)
    assert [a.kind for a in serving][-1] == "no-ready-replicas"
    assert [a.kind for a in idle] == [k for k in KINDS[engine] if k != "no-ready-replicas"]
    assert idle == tuple(a for a in serving if a.kind != "no-ready-replicas")  # the others keep their thresholds
    target = TGI if engine == "tgi" else VLLM
    [body] = rules([MonitoredUseCase("chat", "self-managed", "internal", target, idle)])
    names = [r["alert"] for r in body["spec"]["groups"][0]["rules"]]
    assert ALERT_NAMES["no-ready-replicas"] not in names
    assert not [r for r in body["spec"]["groups"][0]["rules"] if r["expr"].startswith("absent(")]
    assert len(names) == len(KINDS[engine]) - 1


@pytest.mark.parametrize("source", ["bedrock", "azure-openai", "vertex", "gateway"])
def test_scaling_to_zero_changes_nothing_for_sources_without_replicas(source: Source) -> None:
    assert use_case_alerts("u", source, "dev", {}, 1_000_000, always_serving=False) == use_case_alerts(
        "u", source, "dev", {}, 1_000_000
    )
