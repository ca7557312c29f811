"""Azure Monitor for Azure OpenAI use cases: each alert watches the right metric of the right account,
filtered to the use case's deployments, with the spec's threshold in the metric's unit, stating whose it
is; the channel is one action group, and the monitoring creates one alert per alert (each acting on the
action group it is given) and a dashboard row per use case."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pulumi
import pytest

from triplane.components.observability.alerts import (
    KINDS,
    Alert,
    AzureOpenAIDeployments,
    BedrockModels,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    alert_tags,
    use_case_alerts,
)
from triplane.components.observability.azure import (
    CRITERIA,
    NAMESPACE,
    PANEL_METRICS,
    AzureAlertChannel,
    AzureAlertChannelArgs,
    AzureMonitoring,
    AzureMonitoringArgs,
    metric_alert_args,
    short_name,
    workbook_definition,
    workbook_name,
)
from triplane.components.observability.prometheus import panel, server_expr
from triplane.components.observability.signals import PANELS
from triplane.plan import Plan, PlannedResource, run_program

ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/chat"
ONE = AzureOpenAIDeployments(account_id=ACCOUNT, deployments=("gpt-4o",))
TWO = AzureOpenAIDeployments(account_id=ACCOUNT, deployments=("gpt-4o", "gpt-4o-mini"))


def criterion(args: dict[str, Any]) -> dict[str, Any]:
    assert args["criteria"]["odata_type"] == "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
    [only] = args["criteria"]["all_of"]
    assert only["criterion_type"] == "StaticThresholdCriterion"
    assert only["metric_namespace"] == NAMESPACE == "Microsoft.CognitiveServices/accounts"
    return only


def dimensions(args: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {d["name"]: (d["operator"], d["values"]) for d in criterion(args)["dimensions"]}


def test_error_rate_is_100_minus_availability_per_deployment() -> None:
    args = metric_alert_args("prod", Alert("chat", "error-rate", 5, "spec"), TWO)
    got = criterion(args)
    assert (got["metric_name"], got["time_aggregation"]) == ("AzureOpenAIAvailabilityRate", "Average")
    assert (got["operator"], got["threshold"]) == ("LessThan", 95.0)
    assert dimensions(args) == {"ModelDeploymentName": ("Include", ["gpt-4o", "gpt-4o-mini"])}
    assert (args["window_size"], args["evaluation_frequency"]) == ("PT5M", "PT1M")
    assert args["severity"] == 1


def test_throttling_counts_429_answers_of_the_deployment() -> None:
    args = metric_alert_args("prod", Alert("chat", "throttling", 7, "spec"), ONE)
    got = criterion(args)
    assert (got["metric_name"], got["time_aggregation"]) == ("AzureOpenAIRequests", "Total")
    assert (got["operator"], got["threshold"]) == ("GreaterThan", 7.0)
    assert dimensions(args) == {
        "ModelDeploymentName": ("Include", ["gpt-4o"]),
        "StatusCode": ("Include", ["429"]),
    }
    assert (args["window_size"], args["evaluation_frequency"]) == ("PT5M", "PT1M")


def test_counts_over_several_deployments_sum_the_use_cases_own_account() -> None:
    # A deployment filter would watch each deployment's count apart, not the use case's sum.
    throttling = metric_alert_args("prod", Alert("chat", "throttling", 7, "spec"), TWO)
    assert dimensions(throttling) == {"StatusCode": ("Include", ["429"])}
    burn = metric_alert_args("prod", Alert("chat", "token-burn", 1_000_000, "spec"), TWO)
    assert criterion(burn)["dimensions"] == []
    assert burn["scopes"] == [ACCOUNT]


@pytest.mark.parametrize(
    ("kind", "metric"), [("latency", "AzureOpenAITTLTInMS"), ("first-token", "AzureOpenAITimeToResponse")]
)
def test_latencies_are_seconds_converted_to_milliseconds(kind: str, metric: str) -> None:
    args = metric_alert_args("dev", Alert("chat", kind, 2.5, "tier default"), TWO)  # type: ignore[arg-type]
    got = criterion(args)
    assert (got["metric_name"], got["time_aggregation"]) == (metric, "Maximum")
    assert (got["operator"], got["threshold"]) == ("GreaterThan", 2500.0)
    assert dimensions(args) == {"ModelDeploymentName": ("Include", ["gpt-4o", "gpt-4o-mini"])}
    assert (args["window_size"], args["evaluation_frequency"]) == ("PT5M", "PT1M")


def test_token_burn_sums_a_day_of_prompt_and_generated_tokens() -> None:
    [burn] = [a for a in use_case_alerts("chat", "azure-openai", "prod", {}, 30_000_000) if a.kind == "token-burn"]
    args = metric_alert_args("prod", burn, ONE)
    got = criterion(args)
    assert (got["metric_name"], got["time_aggregation"]) == ("TokenTransaction", "Total")
    assert (got["operator"], got["threshold"]) == ("GreaterThan", 1_500_000.0)  # a day's share, 150%
    assert dimensions(args) == {"ModelDeploymentName": ("Include", ["gpt-4o"])}
    assert (args["window_size"], args["evaluation_frequency"]) == ("P1D", "PT1H")


def test_every_rule_is_scoped_to_the_account_and_described_by_its_summary() -> None:
    alert = Alert("chat", "throttling", 7, "spec")
    args = metric_alert_args("prod", alert, ONE)
    assert args["rule_name"] == "prod-chat-throttling"
    assert args["scopes"] == [ACCOUNT]
    assert args["description"] == alert.summary == "more than 7 throttled requests in 5 minutes"
    assert (args["location"], args["enabled"], args["auto_mitigate"]) == ("global", True, True)


@pytest.mark.parametrize(
    ("kind", "description"),
    [
        ("latency", "maximum request duration above 30 s over 5 minutes (Azure Monitor has no percentiles)"),
        ("first-token", "maximum time to first token above 30 s over 5 minutes (Azure Monitor has no percentiles)"),
    ],
)
def test_latency_rules_say_they_watch_the_maximum_not_a_p95(kind: str, description: str) -> None:
    alert = Alert("chat", kind, 30, "spec")  # type: ignore[arg-type]
    args = metric_alert_args("prod", alert, ONE)
    assert alert.summary.startswith("p95 ")  # the spec's words; Azure Monitor cannot compute them
    assert args["description"] == description
    assert criterion(args)["time_aggregation"] == "Maximum"


@pytest.mark.parametrize("kind", ["error-rate", "throttling", "token-burn"])
def test_other_rules_are_described_by_the_summary_as_it_is(kind: str) -> None:
    alert = Alert("chat", kind, 5, "spec")  # type: ignore[arg-type]
    description = metric_alert_args("prod", alert, ONE)["description"]
    assert description == alert.summary and "percentile" not in description


def test_every_azure_openai_kind_and_panel_is_rendered() -> None:
    assert set(CRITERIA) == set(KINDS["azure-openai"])
    assert set(PANEL_METRICS) == set(PANELS["azure-openai"])


@pytest.mark.parametrize("kind", ["queue", "gpu-memory", "no-ready-replicas"])
def test_a_kind_the_service_does_not_emit_is_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="Azure OpenAI has no metric"):
        metric_alert_args("prod", Alert("chat", kind, 1, "spec"), ONE)  # type: ignore[arg-type]


def test_a_target_without_deployments_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one Azure OpenAI deployment"):
        metric_alert_args("prod", Alert("chat", "error-rate", 5, "spec"), AzureOpenAIDeployments(ACCOUNT, ()))


def use_case(name: str, target: Any, tokens: int | None = 30_000_000) -> MonitoredUseCase:
    source = "azure-openai" if isinstance(target, AzureOpenAIDeployments) else "bedrock"
    return MonitoredUseCase(
        name,
        "cloud-managed",
        "internal",
        target,
        use_case_alerts(name, source, "prod", {}, tokens),  # type: ignore[arg-type]
    )


USE_CASES = (
    use_case("chat", ONE),
    use_case("search", AzureOpenAIDeployments(ACCOUNT.replace("chat", "search"), ("emb", "gpt-4o")), None),
    use_case("other", BedrockModels("us-east-1", ("anthropic.claude",))),
)


def rows(definition: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each use case's chart items, in order, under the text item heading them."""
    found: dict[str, list[dict[str, Any]]] = {}
    current = None
    for item in definition["items"]:
        if item["type"] == 1:
            heading = item["content"]["json"].splitlines()[0]
            current = heading.removeprefix("### ") if heading.startswith("### ") else None
            if current is not None:
                found[current] = []
        else:
            assert current is not None, item["name"]
            found[current].append(item)
    return found


def test_the_workbook_has_a_row_per_azure_openai_use_case_and_a_metrics_chart_per_signal() -> None:
    definition = workbook_definition("prod AI use cases", USE_CASES)
    assert definition["version"] == "Notebook/1.0"
    assert definition["items"][0]["content"]["json"].startswith("## prod AI use cases\n")
    found = rows(definition)
    assert list(found) == ["chat", "search"]  # Bedrock's use case is another cloud's
    chat = found["chat"]
    assert {(i["type"], i["customWidth"]) for i in chat} == {(10, "16")}  # six side by side
    assert [i["name"] for i in chat] == [f"chat-{s}" for s in PANELS["azure-openai"]]
    charts = [i["content"] for i in chat]
    assert [c["title"] for c in charts] == [
        "chat: Requests", "chat: Errors", "chat: Throttled", "chat: Latency p95", "chat: Time to first token p95",
        "chat: Tokens (input, output) vs volume (alert above 1,500,000 a day)",
    ]  # fmt: skip
    for each in charts:
        assert (each["version"], each["chartType"], each["metricScope"]) == ("MetricsItem/2.0", 2, 0)
        assert each["filters"][0] == {"key": "ModelDeploymentName", "operator": 0, "values": ["gpt-4o"]}
        assert each["resourceIds"] == [ACCOUNT]
        assert each["resourceType"] == "microsoft.cognitiveservices/accounts"
        assert {m["namespace"] for m in each["metrics"]} == {"microsoft.cognitiveservices/accounts"}
        assert each["timeContext"] == {"durationMs": 86_400_000}
    requests, errors, throttles, latency, first_token, tokens = charts
    assert [(m["metric"], m["aggregation"]) for m in tokens["metrics"]] == [
        ("microsoft.cognitiveservices/accounts--ProcessedPromptTokens", 1),
        ("microsoft.cognitiveservices/accounts--GeneratedTokens", 1),
    ]
    assert throttles["filters"][1] == {"key": "StatusCode", "operator": 0, "values": ["429"]}
    assert [(m["metric"], m["aggregation"]) for m in errors["metrics"]] == [
        ("microsoft.cognitiveservices/accounts--AzureOpenAIAvailabilityRate", 4)
    ]
    assert [m["aggregation"] for m in latency["metrics"]] == [3]  # the maximum, the alerts' stand-in for p95
    assert [m["metric"].rpartition("--")[2] for m in first_token["metrics"]] == ["AzureOpenAITimeToResponse"]
    assert requests["metrics"][0]["splitBy"] == ["StatusCode"]
    search = [i["content"] for i in found["search"]]
    assert {tuple(c["filters"][0]["values"]) for c in search} == {("emb", "gpt-4o")}


WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Monitor/accounts/prod-gpu-azure-prometheus"
SERVER = MonitoredUseCase(
    "drafts",
    "self-managed",
    "confidential",
    ModelServer(cluster="gpu-azure", namespace="legal", app="prod-drafts", engine="tgi"),
    use_case_alerts("drafts", "tgi", "prod", {"error_rate_percent": 3.5, "queue_depth": 6}, 20_000_000),
)
ROUTE = MonitoredUseCase(
    "copy",
    "saas",
    "public",
    GatewayRoute(cluster="gpu-azure", model="copy"),
    use_case_alerts("copy", "gateway", "prod", {"throttles_per_5_minutes": 17}, None),
)
ELSEWHERE = MonitoredUseCase(
    "far",
    "self-managed",
    "internal",
    ModelServer(cluster="gpu-aws", namespace="far", app="prod-far", engine="vllm"),
    use_case_alerts("far", "vllm", "prod", {}, None),
)


def prometheus_query(item: dict[str, Any]) -> str:
    content = item["content"]
    assert (item["type"], content["version"], content["queryType"]) == (3, "KqlItem/1.0", 16)
    assert content["resourceType"] == "microsoft.monitor/accounts"
    assert content["crossComponentResources"] == [WORKSPACE]
    assert content["visualization"] == "timechart"
    query = json.loads(content["query"])
    assert (query["version"], query["type"]) == ("PrometheusQueryProvider/1.0", "query_range")
    return str(query["queryText"])


def test_an_aks_server_and_gateway_route_get_promql_rows_on_their_clusters_workspace() -> None:
    found = rows(workbook_definition("t", (*USE_CASES, SERVER, ROUTE, ELSEWHERE), {"gpu-azure": WORKSPACE}))
    assert list(found) == ["chat", "search", "drafts", "copy"]  # a cluster not given draws no row
    drafts = {i["name"].removeprefix("drafts-"): prometheus_query(i) for i in found["drafts"]}
    assert list(drafts) == list(PANELS["tgi"])
    assert {i["customWidth"] for i in found["drafts"]} == {"12"}  # eight side by side
    [error_alert] = [a for a in SERVER.alerts if a.kind == "error-rate"]
    [expression] = [q.query for q in panel("errors", SERVER.target)]  # type: ignore[arg-type]
    # The chart draws the alert's own expression and its threshold, each line named.
    assert drafts["errors"] == (
        f'label_replace({expression}, "line", "server errors", "", "") or '
        'label_replace(vector(3.5), "line", "error-rate alert", "", "")'
    )
    assert server_expr(error_alert, SERVER.target) == f"{expression} > 3.5"  # type: ignore[arg-type]
    assert drafts["queue"].endswith('label_replace(vector(6), "line", "queue alert", "", "")')
    [burn] = [a.threshold for a in SERVER.alerts if a.kind == "token-burn"]
    assert burn == 1_000_000  # 20 million a month, at the prod tier's 150 %, a day
    assert drafts["tokens"].endswith('label_replace(vector(1000000), "line", "token-burn alert", "", "")')
    # GPU lines are split per pod, so they keep the pod's label as their name.
    assert drafts["gpu-utilisation"] == 'max by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace="legal"})'
    copy = {i["name"].removeprefix("copy-"): prometheus_query(i) for i in found["copy"]}
    assert list(copy) == list(PANELS["gateway"])
    assert 'envoy_response_code="429"' in copy["throttles"]
    assert copy["throttles"].endswith('label_replace(vector(17), "line", "throttling alert", "", "")')
    assert 'gen_ai_original_model="copy"' in copy["requests"]


def test_without_servers_the_workbook_is_the_azure_openai_one() -> None:
    assert workbook_definition("t", (*USE_CASES, SERVER)) == workbook_definition("t", USE_CASES)


def test_short_names_fit_twelve_characters() -> None:
    assert short_name("prod") == "prod"
    long = short_name("prod-platform-clinical")
    assert len(long) <= 12 and long != short_name("prod-platform-clinicak")


# --- the components under mocks ------------------------------------------------------------------

EMAILS = ("oncall@example.com", "ml-team@example.com")
ALERT = "azure-native:monitor:MetricAlert"
GROUP = "azure-native:monitor:ActionGroup"
WORKBOOK = "azure-native:applicationinsights:Workbook"
PLATFORM_GROUP = "/subscriptions/s/resourceGroups/rg-platform/providers/Microsoft.Insights/actionGroups/prod-alerts"
"""A platform stack's action group, as a use-case stack reads it from the platform's outputs."""


def channel(**overrides: Any) -> AzureAlertChannel:
    args: dict[str, Any] = {
        "prefix": "prod",
        "resource_group_name": "rg-monitoring",
        "emails": EMAILS,
        "tags": {"environment": "prod"},
    }
    return AzureAlertChannel("t-alerts", AzureAlertChannelArgs(**{**args, **overrides}))


def monitoring(action_group_id: Any) -> AzureMonitoring:
    return AzureMonitoring(
        "t-mon",
        AzureMonitoringArgs(
            prefix="prod",
            resource_group_name="rg-monitoring",
            location="westeurope",
            action_group_id=action_group_id,
            use_cases=USE_CASES,
            tags={"environment": "prod"},
        ),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    """The channel and the monitoring on it, wired as a single stack wires them."""
    return run_program(lambda: monitoring(channel().action_group_id), stack="ts")


def of_type(plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type == type_]


def test_the_action_group_emails_everyone_with_the_common_schema(plan: Plan) -> None:
    [group] = of_type(plan, GROUP)
    assert group.name == "t-alerts-alerts"
    assert group.inputs["actionGroupName"] == "prod-alerts"
    assert group.inputs["resourceGroupName"] == "rg-monitoring"
    assert group.inputs["location"] == "global"
    assert group.inputs["groupShortName"] == "prod" and group.inputs["enabled"] is True
    assert group.inputs["emailReceivers"] == [
        {"name": "email-1", "emailAddress": "oncall@example.com", "useCommonAlertSchema": True},
        {"name": "email-2", "emailAddress": "ml-team@example.com", "useCommonAlertSchema": True},
    ]
    assert group.inputs["tags"]["environment"] == "prod"
    component = plan.one("triplane:observability:AzureAlertChannel", "t-alerts")
    assert group.parent == component.urn
    assert [r.type for r in plan.children(component.urn)] == [GROUP]


def test_one_alert_per_alert_each_acting_on_the_action_group(plan: Plan) -> None:
    rules = {r.inputs["ruleName"]: r for r in of_type(plan, ALERT)}
    expected = {f"prod-{a.name}" for u in USE_CASES[:2] for a in u.alerts}
    assert set(rules) == expected and len(expected) == 5 + 4  # search declares no volume: no token burn
    for rule in rules.values():
        [action] = rule.inputs["actions"]
        assert set(action) == {"actionGroupId"}
        assert action["actionGroupId"].endswith("/actionGroups/prod-alerts")  # the mock's ID of the channel's group
        assert "/resourceGroups/rg-monitoring/" in action["actionGroupId"]
        assert rule.inputs["resourceGroupName"] == "rg-monitoring"
        assert rule.inputs["tags"]["environment"] == "prod"
    component = plan.one("triplane:observability:AzureMonitoring", "t-mon")
    assert {r.type for r in plan.children(component.urn)} == {ALERT, WORKBOOK}
    burn = rules["prod-chat-token-burn"].inputs
    assert burn["scopes"] == [ACCOUNT] and burn["windowSize"] == "P1D"
    [crit] = burn["criteria"]["allOf"]
    assert (crit["metricName"], crit["threshold"], crit["timeAggregation"]) == ("TokenTransaction", 1_500_000, "Total")
    assert burn["criteria"]["odataType"] == "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
    latency = rules["prod-chat-latency"].inputs
    assert latency["description"].endswith("(Azure Monitor has no percentiles)")


def test_every_alert_acts_on_exactly_the_action_group_it_is_given() -> None:
    plan = run_program(lambda: monitoring(PLATFORM_GROUP), stack="ts")
    alerts = of_type(plan, ALERT)
    assert len(alerts) == 9
    for alert in alerts:
        assert alert.inputs["actions"] == [{"actionGroupId": PLATFORM_GROUP}]
    assert of_type(plan, GROUP) == []  # the platform's channel is not created again


def test_each_alert_states_its_use_case_and_what_it_watches(plan: Plan) -> None:
    by_rule = {f"prod-{a.name}": (u, a) for u in USE_CASES for a in u.alerts}
    for rule in of_type(plan, ALERT):
        use_case, alert = by_rule[rule.inputs["ruleName"]]
        tags = rule.inputs["tags"]
        assert (tags["use-case"], tags["alert"]) == (use_case.name, alert.kind), rule.name
        assert tags == {"environment": "prod", **alert_tags(use_case, alert)}
    assert {r.inputs["tags"]["use-case"] for r in of_type(plan, ALERT)} == {"chat", "search"}


def test_the_workbook_is_shared_where_asked_with_a_stable_name(plan: Plan) -> None:
    [workbook] = of_type(plan, WORKBOOK)
    assert workbook.inputs["location"] == "westeurope"
    assert workbook.inputs["resourceGroupName"] == "rg-monitoring"
    assert (workbook.inputs["kind"], workbook.inputs["category"]) == ("shared", "workbook")
    assert workbook.inputs["displayName"] == "prod AI use cases"
    assert workbook.inputs["sourceId"] == "azure monitor"
    assert workbook.inputs["resourceName"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "triplane:prod:workbook"))
    assert workbook_name("prod") != workbook_name("prod-apps")
    assert workbook.inputs["tags"]["environment"] == "prod"
    # The account IDs, outputs of the stack, are resolved into the serialized definition.
    assert json.loads(workbook.inputs["serializedData"]) == workbook_definition("prod AI use cases", USE_CASES)


def test_a_workbook_of_servers_only_has_no_alerts_of_its_own() -> None:
    def program() -> None:
        AzureMonitoring(
            "t-mon",
            AzureMonitoringArgs(
                prefix="prod",
                resource_group_name="rg-monitoring",
                location="westeurope",
                action_group_id=PLATFORM_GROUP,
                use_cases=(SERVER,),
                servers={"gpu-azure": pulumi.Output.from_input(WORKSPACE)},
            ),
        )

    plan = run_program(program, stack="ts")
    assert of_type(plan, ALERT) == []
    [workbook] = of_type(plan, WORKBOOK)
    assert [i["name"] for i in json.loads(workbook.inputs["serializedData"])["items"]][:2] == ["title", "drafts"]


@pytest.mark.parametrize(
    ("emails", "message"),
    [
        ((), r"monitoring\.notify\.email: list at least one address"),
        (("oncall@example.com", "ml team"), r"monitoring\.notify\.email: \['ml team'\] are not email addresses"),
    ],
)
def test_bad_addresses_are_refused(emails: tuple[str, ...], message: str) -> None:
    with pytest.raises(Exception, match=message):
        run_program(lambda: channel(emails=emails), stack="ts")
