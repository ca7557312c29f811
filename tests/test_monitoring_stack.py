"""Monitoring as the stacks plan it: every observable use case gets exactly its alerts, each on its
cloud's native monitoring, watching its own resource with the spec's threshold in the metric's unit,
and notifying the channel of the same plan (or, split, the platform's channel through the contract).

Expectations come from the spec (`alerts_of`, the tier's defaults, the declared volume) and from the
other resources of the same plan (the account an alert scopes, the topic it notifies); the assertions
read the planned resources, never the renderers.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.mocks import MockResourceArgs
from rich.console import Console
from yaml import safe_load as yaml_load

from tests.conftest import planned
from tests.reliability_support import variant
from triplane import render
from triplane.components.observability.alerts import DEFAULTS, WINDOW_SECONDS, Alert
from triplane.mocks import CloudMocks
from triplane.plan import Plan, PlannedResource
from triplane.policies.monitoring import alerting_rules
from triplane.stackfile import load_stack, plan_file, plan_stack
from triplane.stacks.clouds.aws import ACCOUNT_ID
from triplane.stacks.contract import OUTPUT
from triplane.stacks.observability import alerts_of
from triplane.stacks.spec import Environment
from triplane.stacks.spec.cloud_managed import AzureOpenAIUseCase, BedrockUseCase, VertexUseCase
from triplane.stacks.spec.self_managed import SelfManagedUseCase

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
AMP_RULES = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
AMP_WORKSPACE = "aws:amp/workspace:Workspace"
AMP_ALERT_MANAGER = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
AZURE_RULES = "azure-native:alertsmanagement:PrometheusRuleGroup"
AZURE_WORKSPACE = "azure-native:monitor:AzureMonitorWorkspace"
RULE_TYPES = (PROMETHEUS_RULE, AMP_RULES, AZURE_RULES)
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
OPENAI_ENDPOINT = "triplane:cloudmanaged:AzureOpenAIEndpoint"
OPENAI_ACCOUNT = "azure-native:cognitiveservices:Account"
OPENAI_DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S_SERVICE = "kubernetes:core/v1:Service"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
CLOUD_ALERTS = (ALARM, METRIC_ALERT, ALERT_POLICY)
CHANNELS = {
    "aws": "triplane:observability:AwsAlertChannel",
    "azure": "triplane:observability:AzureAlertChannel",
    "gcp": "triplane:observability:GcpAlertChannel",
}
MONITORING = {
    "aws": "triplane:observability:AwsMonitoring",
    "azure": "triplane:observability:AzureMonitoring",
    "gcp": "triplane:observability:GcpMonitoring",
}
ALERT_TYPE = {"bedrock": ALARM, "azure-openai": METRIC_ALERT, "vertex": ALERT_POLICY}
SAAS_WITHOUT_GATEWAY = {"marketing-copy", "sales-notes"}

# What each alert kind watches, as the services document their metrics (see the renderers' docstrings).
BEDROCK_METRICS = {
    "error-rate": {"InvocationServerErrors", "Invocations"},
    "throttling": {"InvocationThrottles"},
    "latency": {"InvocationLatency"},
    "first-token": {"TimeToFirstToken"},
    "token-burn": {"InputTokenCount", "OutputTokenCount"},
}
AZURE_METRICS = {
    "error-rate": ("AzureOpenAIAvailabilityRate", "LessThan"),
    "throttling": ("AzureOpenAIRequests", "GreaterThan"),
    "latency": ("AzureOpenAITTLTInMS", "GreaterThan"),
    "first-token": ("AzureOpenAITimeToResponse", "GreaterThan"),
    "token-burn": ("TokenTransaction", "GreaterThan"),
}
AZURE_WINDOWS = {300: "PT5M", 86_400: "P1D"}
VERTEX_METRICS = {
    "error-rate": "publisher/online_serving/model_invocation_count",
    "throttling": "publisher/online_serving/model_invocation_count",
    "latency": "publisher/online_serving/model_invocation_latencies",
    "first-token": "publisher/online_serving/first_token_latencies",
    "token-burn": "publisher/online_serving/token_count",
}
PROMETHEUS_ALERTS = {
    "error-rate": "TriplaneErrorRate",
    "throttling": "TriplaneThrottling",
    "latency": "TriplaneLatency",
    "first-token": "TriplaneFirstToken",
    "queue": "TriplaneQueue",
    "gpu-memory": "TriplaneGpuMemory",
    "token-burn": "TriplaneTokenBurn",
    "no-ready-replicas": "TriplaneNoReadyReplicas",
}
SECONDS_TO_MS = 1000


# --- fixtures: each stack planned once --------------------------------------------------------------


@pytest.fixture(scope="module")
def prod() -> Plan:
    return planned("prod")


@pytest.fixture(scope="module")
def prod_env() -> Environment:
    return load_stack("prod").environment()


@pytest.fixture(scope="module")
def dev() -> Plan:
    return planned("dev")


OVERRIDDEN = "hr-assistant"
OVERRIDE = {"latency_p95_seconds": 12, "error_rate_percent": 2}


@pytest.fixture(scope="module")
def overridden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Environment]:
    """prod with one use case's `alerts` set."""

    def change(environment: dict[str, Any]) -> None:
        [use_case] = [u for u in environment["use_cases"] if u["name"] == OVERRIDDEN]
        use_case["alerts"] = dict(OVERRIDE)

    path = variant(tmp_path_factory.mktemp("override"), "prod", change)
    return plan_stack(str(path)), load_stack(str(path)).environment()


@pytest.fixture(scope="module")
def platform() -> Plan:
    return plan_stack("prod-platform")


@pytest.fixture(scope="module")
def split(platform: Plan, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    """prod-apps and prod-clinical, each on the platform's plan JSON (the platform planned once)."""
    path = tmp_path_factory.mktemp("platform") / "prod-platform.json"
    path.write_text(platform.dumps(), encoding="utf-8")
    plans = {}
    for stack in ("prod-apps", "prod-clinical"):
        stack_file = load_stack(stack)
        plans[stack] = plan_file(stack_file, stack_file.environment(), path)
    return plans


# --- reading the plan --------------------------------------------------------------------------------


def state_of(resource: PlannedResource) -> tuple[str, dict[str, Any]]:
    """The id and outputs the resource has in the plan's runtime (its cloud's mock, fed its inputs)."""
    resource_id, state = CloudMocks().new_resource(MockResourceArgs(resource.type, resource.name, resource.inputs))
    assert resource_id is not None
    return resource_id, state


def tags_of(resource: PlannedResource) -> dict[str, str]:
    return dict(resource.inputs.get("userLabels" if resource.type == ALERT_POLICY else "tags") or {})


def promql_condition(resource: PlannedResource) -> dict[str, Any] | None:
    """A Cloud Monitoring policy's PromQL condition: the alert of a GKE model server or gateway route."""
    if resource.type != ALERT_POLICY:
        return None
    condition = resource.inputs["conditions"][0].get("conditionPrometheusQueryLanguage")
    return dict(condition) if condition is not None else None


def planned_cloud_alerts(plan: Plan) -> dict[tuple[str, str], PlannedResource]:
    """Every managed service's cloud alert of the plan by (use case, kind), each counted once."""
    found = [r for r in plan.resources if r.type in CLOUD_ALERTS and promql_condition(r) is None]
    keys = [(tags_of(r).get("use-case", "?"), tags_of(r).get("alert", "?")) for r in found]
    assert not [k for k, n in Counter(keys).items() if n > 1], keys
    return dict(zip(keys, found, strict=True))


SECONDS = {"5m": 300, "10m": 600, "PT5M": 300, "PT10M": 600, "300s": 300, "600s": 600, "0s": None, None: None}
"""A rule's `for` as each evaluator writes it (Prometheus, Azure's ISO 8601, Cloud Monitoring), in seconds."""


def planned_rules(plan: Plan) -> dict[tuple[str, str], tuple[PlannedResource, dict[str, Any]]]:
    """Every Prometheus alerting rule of the plan by (use case, kind), wherever it is evaluated (a cluster's
    own Prometheus, an AMP workspace, an Azure Monitor workspace, Cloud Monitoring's PromQL), with the
    resource holding it: `alert`, `expr`, `for` (seconds, None when it fires at once) and `labels`."""
    found: dict[tuple[str, str], tuple[PlannedResource, dict[str, Any]]] = {}

    def add(resource: PlannedResource, alert: str, expr: str, held: str | None, labels: dict[str, str]) -> None:
        key = (labels["use_case"], labels["triplane_alert"])
        assert key not in found, key
        found[key] = (resource, {"alert": alert, "expr": expr, "for": SECONDS[held], "labels": labels})

    for resource in plan.resources:
        if resource.type in RULE_TYPES:
            for rule in alerting_rules(resource.type, resource.inputs):
                add(resource, rule["alert"], rule.get("expr") or rule["expression"], rule.get("for"), rule["labels"])
        elif (condition := promql_condition(resource)) is not None:
            add(resource, condition["alertRule"], condition["query"], condition["duration"], condition["labels"])
    return found


SCOPE = re.compile(r'(project_id|location|cluster)="[^"]*",')


def unscoped(expr: str) -> str:
    """A GKE rule's query without the cluster's matchers, as the cluster's own Prometheus would read it."""
    return SCOPE.sub("", expr)


def every_alert(plan: Plan) -> dict[str, set[str]]:
    """Use case -> the kinds of its alerts, wherever they are evaluated."""
    kinds: dict[str, set[str]] = {}
    for use_case, kind in [*planned_cloud_alerts(plan), *planned_rules(plan)]:
        kinds.setdefault(use_case, set()).add(kind)
    return kinds


def expected_alerts(environment: Environment) -> dict[str, tuple[str, dict[str, Alert]]]:
    return {name: (source, {a.kind: a for a in alerts}) for name, (source, alerts) in alerts_of(environment).items()}


def spec_threshold(environment: Environment, use_case: str, kind: str, given: dict[str, float]) -> float:
    """The threshold in the spec's unit: the use case's own, else the prod tier's; token burn is the day's
    share of the declared monthly volume times the percentage."""
    field = {
        "error-rate": "error_rate_percent", "throttling": "throttles_per_5_minutes",
        "latency": "latency_p95_seconds", "first-token": "first_token_p95_seconds", "queue": "queue_depth",
        "gpu-memory": "gpu_memory_percent", "token-burn": "token_burn_percent",
    }[kind]  # fmt: skip
    value = given.get(field, DEFAULTS["prod"][kind])  # type: ignore[index]  # a kind with a threshold
    if kind != "token-burn":
        return value
    volume = next(u for u in environment.use_cases if u.name == use_case).volume
    assert volume is not None
    return round((volume.input_tokens_per_month + volume.output_tokens_per_month) / 30 * value / 100)


def in_unit(cloud: str, kind: str, value: float) -> float:
    """A spec threshold in the unit of the metric the cloud's alert compares: latencies in milliseconds;
    an error rate as Azure's availability percentage or Cloud Monitoring's ratio."""
    if kind in ("latency", "first-token"):
        return value * SECONDS_TO_MS
    if kind == "error-rate" and cloud == "azure":
        return 100 - value
    if kind == "error-rate" and cloud == "gcp":
        return value / 100
    return value


def provider_of(plan: Plan, resource: PlannedResource) -> PlannedResource:
    assert resource.provider_urn is not None, resource.name
    return plan.get(resource.provider_urn)


def bedrock_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads: its own, or its metric queries' (engine property names)."""
    if "metricName" in alarm:
        return [{k: alarm[k] for k in ("namespace", "metricName", "dimensions", "period")}]
    return [q["metric"] for q in alarm["metricQueries"] if "metric" in q]


def threshold_in_expr(expr: str) -> float:
    return float(expr.rsplit(" > ", 1)[1])


def azure_account(plan: Plan, use_case: str) -> PlannedResource:
    """The Azure OpenAI account the use case's endpoint component created."""
    endpoint = plan.one(OPENAI_ENDPOINT, f"{plan.stack}-{use_case}")
    [account] = [r for r in plan.by_type(OPENAI_ACCOUNT) if r.parent == endpoint.urn]
    return account


def metrics_service(plan: Plan, namespace: str) -> tuple[PlannedResource, str]:
    """A model server's metrics Service (the one its ServiceMonitor scrapes) and its name."""
    [service] = [
        r for r in plan.by_type(K8S_SERVICE)
        if r.inputs["metadata"].get("namespace") == namespace and r.inputs["metadata"]["name"].endswith("-metrics")
    ]  # fmt: skip
    assert [m for m in plan.by_type(SERVICE_MONITOR) if m.inputs["metadata"].get("namespace") == namespace]
    return service, service.inputs["metadata"]["name"]


# --- prod: every use case with signals has exactly its alerts ---------------------------------------


def test_prod_alerts_exactly_the_use_cases_with_signals(prod: Plan, prod_env: Environment) -> None:
    expected = expected_alerts(prod_env)
    assert set(expected) == {u.name for u in prod_env.use_cases} - SAAS_WITHOUT_GATEWAY
    assert every_alert(prod) == {name: set(kinds) for name, (_, kinds) in expected.items()}
    for name, (source, kinds) in expected.items():
        if source in ALERT_TYPE:
            assert {(u, k) for u, k in planned_cloud_alerts(prod) if u == name} == {(name, k) for k in kinds}
            assert all(planned_cloud_alerts(prod)[name, k].type == ALERT_TYPE[source] for k in kinds)
        else:
            assert {(u, k) for u, k in planned_rules(prod) if u == name} == {(name, k) for k in kinds}
    # Each server's rules are evaluated by its cluster's managed Prometheus, none by the cluster's own.
    where = {u: resource.type for (u, _), (resource, _) in planned_rules(prod).items()}
    assert where == {"patient-records": AMP_RULES, "contract-drafts": AZURE_RULES, "fraud-signals": ALERT_POLICY}
    # No alert is left without an owner, nor placed twice.
    assert {u for u, _ in [*planned_cloud_alerts(prod), *planned_rules(prod)]} == set(expected)


def test_bedrock_alarms_watch_the_use_cases_model_in_us_east_1(prod: Plan, prod_env: Environment) -> None:
    alarms = planned_cloud_alerts(prod)
    checked = 0
    for use_case in prod_env.use_cases:
        if not isinstance(use_case, BedrockUseCase):
            continue
        [model] = [m.id for m in use_case.models]
        for kind, alert in expected_alerts(prod_env)[use_case.name][1].items():
            alarm = alarms[use_case.name, kind]
            inputs = alarm.inputs
            assert provider_of(prod, alarm).inputs["region"] == "us-east-1"
            metrics = bedrock_metrics(inputs)
            assert {m["metricName"] for m in metrics} == BEDROCK_METRICS[kind]
            assert all(m["namespace"] == "AWS/Bedrock" and m["dimensions"] == {"ModelId": model} for m in metrics)
            assert all(m["period"] == WINDOW_SECONDS[kind] for m in metrics)
            value = spec_threshold(prod_env, use_case.name, kind, {})
            assert alert.threshold == value
            assert inputs["threshold"] == in_unit("aws", kind, value)
            assert inputs["comparisonOperator"] == "GreaterThanThreshold"
            if kind in ("latency", "first-token"):
                assert inputs["extendedStatistic"] == "p95"
            checked += 1
    assert checked == 5
    assert alarms["claims-triage", "token-burn"].inputs["threshold"] == 16_500_000  # 330M / 30 * 150 %
    assert alarms["claims-triage", "latency"].inputs["threshold"] == 30_000


def test_azure_alerts_scope_exactly_the_use_cases_account_and_deployment(prod: Plan, prod_env: Environment) -> None:
    alerts = planned_cloud_alerts(prod)
    checked = 0
    for use_case in prod_env.use_cases:
        if not isinstance(use_case, AzureOpenAIUseCase):
            continue
        account = azure_account(prod, use_case.name)
        account_id, _ = state_of(account)
        assert account_id.endswith(f"/accounts/{account.inputs['accountName']}")
        deployments = sorted(
            r.inputs["deploymentName"]
            for r in prod.by_type(OPENAI_DEPLOYMENT)
            if r.inputs["accountName"] == account.inputs["accountName"]
        )
        assert deployments == ["gpt-5-mini"]
        for kind in expected_alerts(prod_env)[use_case.name][1]:
            inputs = alerts[use_case.name, kind].inputs
            assert inputs["scopes"] == [account_id]
            [criterion] = inputs["criteria"]["allOf"]
            metric, operator = AZURE_METRICS[kind]
            assert (criterion["metricNamespace"], criterion["metricName"], criterion["operator"]) == (
                "Microsoft.CognitiveServices/accounts", metric, operator,
            )  # fmt: skip
            dimensions = {d["name"]: d["values"] for d in criterion["dimensions"]}
            assert dimensions["ModelDeploymentName"] == deployments
            if kind == "throttling":
                assert dimensions["StatusCode"] == ["429"]
            assert inputs["windowSize"] == AZURE_WINDOWS[WINDOW_SECONDS[kind]]
            assert criterion["threshold"] == in_unit("azure", kind, spec_threshold(prod_env, use_case.name, kind, {}))
            checked += 1
    assert checked == 5
    assert alerts["hr-assistant", "error-rate"].inputs["criteria"]["allOf"][0]["threshold"] == 95
    assert alerts["hr-assistant", "token-burn"].inputs["criteria"]["allOf"][0]["threshold"] == 5_000_000


def test_vertex_policies_filter_on_the_use_cases_project_region_and_model(prod: Plan, prod_env: Environment) -> None:
    policies = planned_cloud_alerts(prod)
    gcp = prod_env.clouds.gcp
    assert gcp is not None
    checked = 0
    for use_case in prod_env.use_cases:
        if not isinstance(use_case, VertexUseCase):
            continue
        [model] = [m.id for m in use_case.models]
        for kind in expected_alerts(prod_env)[use_case.name][1]:
            policy = policies[use_case.name, kind]
            inputs = policy.inputs
            assert inputs["project"] == gcp.project == provider_of(prod, policy).inputs["project"]
            [condition] = inputs["conditions"]
            threshold = condition["conditionThreshold"]
            text = threshold["filter"]
            assert f'metric.type = "aiplatform.googleapis.com/{VERTEX_METRICS[kind]}"' in text
            assert 'resource.type = "aiplatform.googleapis.com/PublisherModel"' in text
            assert f'resource.labels.location = "{gcp.region}"' in text
            assert f'resource.labels.model_user_id = "{model}"' in text
            assert [a["alignmentPeriod"] for a in threshold["aggregations"]] == [f"{WINDOW_SECONDS[kind]}s"]
            assert threshold["comparison"] == "COMPARISON_GT"
            value = spec_threshold(prod_env, use_case.name, kind, {})
            assert threshold["thresholdValue"] == in_unit("gcp", kind, value)
            checked += 1
    assert checked == 5
    assert (
        policies["product-search", "token-burn"].inputs["conditions"][0]["conditionThreshold"]["thresholdValue"]
        == 8_250_000
    )


def evaluated_on(plan: Plan, resource: PlannedResource) -> str:
    """The cluster (its spec name) whose managed Prometheus evaluates a rule resource: an AMP namespace's
    workspace, an Azure rule group's scope, a GKE policy's `cluster` matcher."""
    if resource.type == AMP_RULES:
        [workspace] = [w for w in plan.by_type(AMP_WORKSPACE) if state_of(w)[0] == resource.inputs["workspaceId"]]
        return str(workspace.name.removeprefix(f"{plan.stack}-").removesuffix("-prometheus-workspace"))
    if resource.type == AZURE_RULES:
        [workspace] = [w for w in plan.by_type(AZURE_WORKSPACE) if [state_of(w)[0]] == resource.inputs["scopes"]]
        return str(workspace.name.removeprefix(f"{plan.stack}-").removesuffix("-prometheus-workspace"))
    condition = promql_condition(resource)
    assert condition is not None, resource.type
    [cluster] = set(re.findall(r'cluster="([^"]+)"', condition["query"]))
    return str(cluster.removeprefix(f"{plan.stack}-"))


def test_model_server_rules_select_their_namespace_and_job_on_their_cluster(
    prod: Plan, prod_env: Environment
) -> None:
    rules = planned_rules(prod)
    checked = 0
    for use_case in prod_env.use_cases:
        if not isinstance(use_case, SelfManagedUseCase):
            continue
        [deployment] = [
            r for r in prod.by_type(K8S_DEPLOYMENT) if r.inputs["metadata"].get("namespace") == use_case.service_name
        ]
        _, service = metrics_service(prod, use_case.service_name)
        assert provider_of(prod, deployment).name == f"prod-{use_case.cluster}-k8s"
        for kind in expected_alerts(prod_env)[use_case.name][1]:
            resource, rule = rules[use_case.name, kind]
            assert evaluated_on(prod, resource) == use_case.cluster, (use_case.name, kind)
            assert rule["alert"] == PROMETHEUS_ALERTS[kind]
            expr = unscoped(rule["expr"])
            if kind == "gpu-memory":
                assert "DCGM_FI_DEV_FB_USED" in expr and "job=" not in expr
            else:
                assert f'namespace="{use_case.service_name}"' in expr and f'job="{service}"' in expr
            if kind == "no-ready-replicas":
                assert expr == f'absent(up{{namespace="{use_case.service_name}",job="{service}"}} == 1)'
            else:
                assert threshold_in_expr(expr) == spec_threshold(prod_env, use_case.name, kind, {})
            held = kind in ("queue", "gpu-memory", "no-ready-replicas")
            assert rule["for"] == (WINDOW_SECONDS[kind] if held else None), (use_case.name, kind)
            checked += 1
    # patient-records (TGI on EKS): 6; fraud-signals (vLLM on GKE): 7; contract-drafts (TGI on AKS): 6.
    assert checked == 19
    assert (
        'tgi_request_count{namespace="patient-records",job="prod-patient-records-metrics"}'
        in (rules["patient-records", "error-rate"][1]["expr"])
    )
    assert threshold_in_expr(rules["fraud-signals", "token-burn"][1]["expr"]) == 2_500_000


def test_gpu_memory_alerts_on_every_clusters_gpu_metrics(prod: Plan) -> None:
    kinds = every_alert(prod)
    assert all("gpu-memory" in kinds[u] for u in ("patient-records", "fraud-signals", "contract-drafts"))
    rules = planned_rules(prod)
    # EKS and AKS: dcgm-exporter's own labels, kept by Triplane's Prometheus; GKE: the managed collectors
    # stamp the exporter's target labels over them, which keeps the workload's as `exported_*`.
    for use_case, label in (("patient-records", "namespace"), ("contract-drafts", "namespace"),
                            ("fraud-signals", "exported_namespace")):
        expr = unscoped(rules[use_case, "gpu-memory"][1]["expr"])
        assert f'DCGM_FI_DEV_FB_USED{{{label}="{use_case}"}}' in expr and threshold_in_expr(expr) == 92
    assert "no-ready-replicas" in kinds["patient-records"]  # two replicas at least


# --- a use case's own thresholds --------------------------------------------------------------------


def _alert_inputs(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in plan.resources if r.type in (*CLOUD_ALERTS, *RULE_TYPES)}


def test_a_use_cases_thresholds_change_exactly_its_alerts(prod: Plan, overridden: tuple[Plan, Environment]) -> None:
    plan, environment = overridden
    before, after = _alert_inputs(prod), _alert_inputs(plan)
    assert set(before) == set(after)
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == [f"prod-azure-monitoring-{OVERRIDDEN}-error-rate", f"prod-azure-monitoring-{OVERRIDDEN}-latency"]
    # Nothing else in the plan moves.
    others = {r.urn: r.inputs for r in prod.resources if r.name not in changed}
    assert others == {r.urn: r.inputs for r in plan.resources if r.name not in changed}
    for kind, converted, summary in (
        ("error-rate", 100 - 2, "server errors above 2% of requests over 5 minutes"),
        ("latency", 12 * SECONDS_TO_MS, "maximum request duration above 12 s over 5 minutes"),
    ):
        assert (
            spec_threshold(environment, OVERRIDDEN, kind, OVERRIDE)
            == OVERRIDE[{"error-rate": "error_rate_percent", "latency": "latency_p95_seconds"}[kind]]
        )
        name = f"prod-azure-monitoring-{OVERRIDDEN}-{kind}"
        old, new = before[name], after[name]
        assert new["criteria"]["allOf"][0]["threshold"] == converted
        assert old["criteria"]["allOf"][0]["threshold"] != converted
        assert new["description"].startswith(summary)
        # Only the threshold and the sentence saying it differ.
        strip = {"criteria", "description"}
        assert {k: v for k, v in old.items() if k not in strip} == {k: v for k, v in new.items() if k not in strip}
        assert {**old["criteria"]["allOf"][0], "threshold": 0} == {**new["criteria"]["allOf"][0], "threshold": 0}
    spec_alerts = expected_alerts(environment)[OVERRIDDEN][1]
    assert {k: a.origin for k, a in spec_alerts.items()} == {
        "error-rate": "spec", "latency": "spec", "throttling": "tier default", "first-token": "tier default",
        "token-burn": "tier default",
    }  # fmt: skip


# --- every cloud alert notifies its cloud's channel --------------------------------------------------


def test_every_cloud_alert_notifies_the_channel_of_its_cloud(prod: Plan) -> None:
    topic_arn = state_of(prod.one(TOPIC))[1]["arn"]
    action_group_id, _ = state_of(prod.one(ACTION_GROUP))
    channels = sorted(state_of(r)[1]["name"] for r in prod.by_type(NOTIFICATION_CHANNEL))
    assert topic_arn == f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:prod-aws-alerts-topic"
    assert action_group_id.endswith("/actionGroups/prod-alerts") and channels
    alerts = planned_cloud_alerts(prod)
    assert Counter(r.type for r in alerts.values()) == {ALARM: 5, METRIC_ALERT: 5, ALERT_POLICY: 5}
    for (use_case, kind), resource in alerts.items():
        inputs = resource.inputs
        if resource.type == ALARM:
            assert inputs["alarmActions"] == [topic_arn] and inputs["okActions"] == [topic_arn]
        elif resource.type == METRIC_ALERT:
            assert inputs["actions"] == [{"actionGroupId": action_group_id}]
        else:
            assert sorted(inputs["notificationChannels"]) == channels
        assert tags_of(resource)["use-case"] == use_case and tags_of(resource)["alert"] == kind


def test_every_server_rule_notifies_the_channel_of_its_cloud(prod: Plan) -> None:
    topic_arn = state_of(prod.one(TOPIC))[1]["arn"]
    action_group_id, _ = state_of(prod.one(ACTION_GROUP))
    channels = sorted(state_of(r)[1]["name"] for r in prod.by_type(NOTIFICATION_CHANNEL))
    # The EKS workspace's alert manager sends every alert to the topic, which admits AMP from this account.
    [manager] = prod.by_type(AMP_ALERT_MANAGER)
    assert manager.inputs["workspaceId"] == state_of(prod.one(AMP_WORKSPACE))[0]
    config = yaml_load(yaml_load(manager.inputs["definition"])["alertmanager_config"])
    assert [r["sns_configs"][0]["topic_arn"] for r in config["receivers"]] == [topic_arn]
    document = json.loads(prod.one(TOPIC_POLICY).inputs["policy"])
    [aps] = [s for s in document["Statement"] if s["Principal"] == {"Service": "aps.amazonaws.com"}]
    assert aps["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:aps:us-east-1:{ACCOUNT_ID}:workspace/*"
    for (use_case, kind), (resource, _) in planned_rules(prod).items():
        if resource.type == AZURE_RULES:
            assert all(r["actions"] == [{"actionGroupId": action_group_id}] for r in resource.inputs["rules"])
        elif resource.type == ALERT_POLICY:
            assert sorted(resource.inputs["notificationChannels"]) == channels
            assert tags_of(resource)["use-case"] == use_case and tags_of(resource)["alert"] == kind
        else:
            assert resource.type == AMP_RULES and tags_of(resource)["use-case"] == use_case


def topic_publishers(plan: Plan) -> list[str]:
    """The alarm ARNs the stack's topic policy lets CloudWatch publish for."""
    document = json.loads(plan.one(TOPIC_POLICY).inputs["policy"])
    [allow] = [s for s in document["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert allow["Effect"] == "Allow" and allow["Action"] == "sns:Publish"
    assert allow["Resource"] == state_of(plan.one(TOPIC))[1]["arn"] == plan.one(TOPIC_POLICY).inputs["arn"]
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    return list(allow["Condition"]["ArnLike"]["aws:SourceArn"])


def test_the_topic_admits_exactly_the_stacks_alarms(prod: Plan) -> None:
    assert topic_publishers(prod) == [f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:prod-*"]
    assert all(r.inputs["name"].startswith("prod-") for r in prod.by_type(ALARM))


# --- split prod: the platform's channels, the use-case stacks' alerts ---------------------------------


def test_the_platform_plans_the_channels_and_no_alert(platform: Plan) -> None:
    types = {r.type for r in platform.resources}
    assert set(CHANNELS.values()) <= types
    assert not types & {*CLOUD_ALERTS, PROMETHEUS_RULE, *MONITORING.values()}
    assert topic_publishers(platform) == [
        f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:prod-apps-*",
        f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:prod-clinical-*",
    ]


def contract_channels(platform: Plan) -> dict[str, Any]:
    """Cloud -> the alert channel's target, as the platform's `platform` output carries it."""
    pieces = [p for p in platform.stack_outputs().outputs[OUTPUT]["shared"] if p["kind"] == "alert-channel"]
    assert [p["key"] for p in pieces] == [["alert-channel", c] for c in ("aws", "azure", "gcp")]
    return {p["fields"]["cloud"]: p["fields"]["target"] for p in pieces}


def test_prod_apps_alerts_notify_the_channels_the_contract_carries(platform: Plan, split: dict[str, Plan]) -> None:
    apps = split["prod-apps"]
    channels = contract_channels(platform)
    # The contract's values are the platform's own channels.
    assert channels["aws"] == state_of(platform.one(TOPIC))[1]["arn"]
    assert channels["azure"] == state_of(platform.one(ACTION_GROUP))[0]
    assert sorted(channels["gcp"]) == sorted(state_of(r)[1]["name"] for r in platform.by_type(NOTIFICATION_CHANNEL))
    environment = load_stack("prod-apps").whole_environment()
    expected = {n: set(k) for n, (s, k) in expected_alerts(environment).items()}
    assert expected.keys() == {"claims-triage", "hr-assistant", "product-search"}
    assert every_alert(apps) == expected
    types = {r.type for r in apps.resources}
    assert not types & {*CHANNELS.values(), TOPIC, TOPIC_POLICY, ACTION_GROUP, NOTIFICATION_CHANNEL, PROMETHEUS_RULE}
    assert set(MONITORING.values()) <= types
    for resource in planned_cloud_alerts(apps).values():
        inputs = resource.inputs
        if resource.type == ALARM:
            assert inputs["alarmActions"] == inputs["okActions"] == [channels["aws"]]
            assert inputs["name"].startswith("prod-apps-")  # what the platform's topic admits
        elif resource.type == METRIC_ALERT:
            assert inputs["actions"] == [{"actionGroupId": channels["azure"]}]
            assert inputs["scopes"] == [state_of(azure_account(apps, "hr-assistant"))[0]]
        else:
            assert inputs["notificationChannels"] == channels["gcp"]


def test_prod_clinical_plans_its_servers_rules_on_the_platforms_managed_prometheus(
    split: dict[str, Plan], prod: Plan, platform: Plan
) -> None:
    clinical = split["prod-clinical"]
    types = {r.type for r in clinical.resources}
    assert not types & {*CHANNELS.values(), TOPIC, ACTION_GROUP, NOTIFICATION_CHANNEL, PROMETHEUS_RULE}
    assert not types & {AMP_WORKSPACE, AMP_ALERT_MANAGER, AZURE_WORKSPACE}  # the platform's, per cluster
    assert not planned_cloud_alerts(clinical)  # no managed service of its own
    kinds = every_alert(clinical)
    assert kinds.keys() == {"patient-records", "fraud-signals", "contract-drafts"}
    assert kinds == {name: every_alert(prod)[name] for name in kinds}
    workspaces = {
        p["key"][1]: p["fields"]["prometheus_workspace"]
        for p in platform.stack_outputs().outputs[OUTPUT]["shared"]
        if p["kind"] == "cluster"
    }
    channels = contract_channels(platform)
    for (use_case, _), (resource, rule) in planned_rules(clinical).items():
        assert rule["labels"]["use_case"] == use_case
        if resource.type == AMP_RULES:
            assert resource.inputs["workspaceId"] == workspaces["gpu-aws"]
        elif resource.type == AZURE_RULES:
            assert resource.inputs["scopes"] == [workspaces["gpu-azure"]]
            assert all(r["actions"] == [{"actionGroupId": channels["azure"]}] for r in resource.inputs["rules"])
        else:
            assert resource.type == ALERT_POLICY and workspaces["gpu-gcp"] == "acme-genai-prod"
            assert resource.inputs["notificationChannels"] == channels["gcp"]
            assert 'cluster="prod-platform-gpu-gcp"' in rule["expr"]  # the platform's cluster, by its name


# --- the CloudWatch dashboard draws the EKS clusters' managed Prometheus ---------------------------------

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
FUNCTION = "aws:lambda/function:Function"


def custom_rows(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """Use case -> the custom widgets of its row on the plan's CloudWatch dashboard."""
    body = json.loads(plan.one(DASHBOARD).inputs["dashboardBody"])
    rows: dict[str, list[dict[str, Any]]] = {}
    for widget in body["widgets"]:
        if widget["type"] == "custom":
            rows.setdefault(widget["properties"]["title"].split(": ", 1)[0], []).append(widget)
    return rows


def query_url(function: PlannedResource) -> str:
    return str(function.inputs["environment"]["variables"]["AMP_QUERY_URL"])


@pytest.mark.parametrize(("stack", "servers"), [
    ("dev", {"code-review", "support-drafts"}),
    ("prod", {"patient-records"}),
])
def test_the_eks_clusters_servers_and_routes_are_drawn_by_their_workspaces_chart_function(
    stack: str, servers: set[str], dev: Plan, prod: Plan
) -> None:
    plan = {"dev": dev, "prod": prod}[stack]
    [workspace] = plan.by_type(AMP_WORKSPACE)
    [function] = plan.by_type(FUNCTION)
    workspace_id = state_of(workspace)[0]
    assert query_url(function) == (
        f"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{workspace_id}/api/v1/query_range")
    arn = state_of(function)[1]["arn"]
    rows = custom_rows(plan)
    assert set(rows) == servers
    assert all(w["properties"]["endpoint"] == arn for widgets in rows.values() for w in widgets)
    # Each EKS server's row draws its GPUs from the exporter's series, in the alert's units.
    gpu = {(u, w["properties"]["title"]) for u, widgets in rows.items() for w in widgets
           if "GPU" in w["properties"]["title"]}
    assert gpu == {(u, f"{u}: GPU {what}") for u in servers - {"support-drafts"} for what in ("utilisation", "memory")}
    grant = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "prometheus-charts-grants").inputs["policy"])
    assert {s["Resource"] for s in grant["Statement"] if s["Action"] == "aps:QueryMetrics"} == {
        state_of(workspace)[1]["arn"]}


def test_prod_clinical_draws_its_server_from_the_platforms_workspace_in_the_platforms_vpc(
    split: dict[str, Plan], platform: Plan
) -> None:
    clinical = split["prod-clinical"]
    [function] = clinical.by_type(FUNCTION)
    workspaces = {
        p["key"][1]: p["fields"]["prometheus_workspace"]
        for p in platform.stack_outputs().outputs[OUTPUT]["shared"]
        if p["kind"] == "cluster"
    }
    assert f"/workspaces/{workspaces['gpu-aws']}/" in query_url(function)
    [network] = [p["fields"] for p in platform.stack_outputs().outputs[OUTPUT]["shared"]
                 if p["kind"] == "network:AwsNetworkRef"]
    assert function.inputs["vpcConfig"]["subnetIds"] == network["app_subnet_ids"]
    assert set(custom_rows(clinical)) == {"patient-records"}
    assert not split["prod-apps"].by_type(FUNCTION)  # no server or route of its own on EKS


# --- dev: what `triplane plan` lists ------------------------------------------------------------------

WHERE = {"bedrock": "CloudWatch alarm", "azure-openai": "Azure metric alert", "vertex": "Cloud Monitoring policy"}
AMP_WHERE = render.PROMETHEUS_WHERE[AMP_RULES]


def test_triplane_plan_lists_devs_alerts_one_line_each(dev: Plan) -> None:
    environment = load_stack("dev").environment()
    expected = sorted(
        (name, alert.kind, WHERE.get(source, AMP_WHERE), alert.summary)
        for name, (source, alerts) in alerts_of(environment).items()
        for alert in alerts
    )
    assert render.planned_alerts(dev) == expected
    assert {(u, w) for u, _, w, _ in expected} == {
        ("support-drafts", AMP_WHERE), ("doc-search", "CloudWatch alarm"), ("code-review", AMP_WHERE),
    }  # fmt: skip
    out = io.StringIO()
    render.print_plan(Console(file=out, width=100, color_system=None), dev, environment)
    text = out.getvalue()
    section = text[text.index("Alerts by use case") :].splitlines()[1 : len(expected) + 1]
    assert section == [f"  {u}  {k}  {w}: {s}" for u, k, w, s in expected]
    assert "  doc-search  latency  CloudWatch alarm: p95 request duration above 120 s over 5 minutes" in section


def test_a_server_that_scales_to_zero_has_no_no_ready_replicas_alert(dev: Plan) -> None:
    environment = load_stack("dev").environment()
    [code_review] = [u for u in environment.use_cases if u.name == "code-review"]
    assert isinstance(code_review, SelfManagedUseCase) and code_review.replicas.min == 0
    kinds = every_alert(dev)["code-review"]
    assert kinds == {"error-rate", "latency", "queue", "token-burn", "gpu-memory"}  # no replicas by design
    assert not [r for r in planned_rules(dev).values() if r[1]["alert"] == "TriplaneNoReadyReplicas"]


def test_the_shipped_plans_json_holds_the_alerts(prod: Plan, tmp_path: Path) -> None:
    """The plan JSON a reviewer reads carries the same alerts (nothing secret hides a threshold)."""
    path = tmp_path / "prod.json"
    path.write_text(prod.dumps(), encoding="utf-8")
    document = json.loads(path.read_text(encoding="utf-8"))
    names = {r["name"] for r in document["resources"] if r["type"] in (*CLOUD_ALERTS, *RULE_TYPES)}
    held = [*planned_cloud_alerts(prod).values(), *(resource for resource, _ in planned_rules(prod).values())]
    assert names == {r.name for r in held}
    assert all(not r["secretInputs"] for r in document["resources"] if r["type"] in (*CLOUD_ALERTS, *RULE_TYPES))
