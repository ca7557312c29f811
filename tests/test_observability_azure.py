"""Azure Monitor for Azure OpenAI use cases: each alert watches the right metric of the right account,
filtered to the use case's deployments, with the spec's threshold in the metric's unit, stating whose it
is; the channel is one action group, and the monitoring creates one alert per alert (each acting on the
action group it is given) and a dashboard row per use case."""

from __future__ import annotations

from typing import Any

import pytest

from triplane.components.observability.alerts import (
    KINDS,
    Alert,
    AzureOpenAIDeployments,
    BedrockModels,
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
    dashboard_definition,
    metric_alert_args,
    short_name,
)
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


def chart(part: dict[str, Any]) -> dict[str, Any]:
    assert part["metadata"]["type"] == "Extension/HubsExtension/PartType/MonitorChartPart"
    [options] = [i for i in part["metadata"]["inputs"] if i["name"] == "options"]
    return options["value"]["chart"]


def test_the_dashboard_has_a_row_per_azure_openai_use_case_and_a_chart_per_signal() -> None:
    [lens] = dashboard_definition(USE_CASES)["lenses"]
    charts = [p for p in lens["parts"] if p["metadata"]["type"].endswith("MonitorChartPart")]
    assert len(charts) == 2 * len(PANELS["azure-openai"])  # Bedrock's use case is another cloud's
    rows: dict[int, list[dict[str, Any]]] = {}
    for part in charts:
        rows.setdefault(part["position"]["y"], []).append(part)
    assert sorted(rows) == [0, 3]
    assert sorted(p["position"]["x"] for p in rows[0]) == [2, 6, 10, 14, 18, 22]
    assert {(p["position"]["colSpan"], p["position"]["rowSpan"]) for p in charts} == {(4, 3)}
    labels = [p for p in lens["parts"] if p["metadata"]["type"].endswith("MarkdownPart")]
    assert [(p["position"]["x"], p["position"]["y"]) for p in labels] == [(0, 0), (0, 3)]
    assert labels[1]["metadata"]["settings"]["content"]["settings"]["content"].startswith("### search\n")
    chat = [chart(p) for p in sorted(rows[0], key=lambda p: p["position"]["x"])]
    assert [c["title"] for c in chat] == [
        "chat: Requests", "chat: Errors", "chat: Throttled", "chat: Latency p95", "chat: Time to first token p95",
        "chat: Tokens (input, output) vs volume (alert above 1,500,000 a day)",
    ]  # fmt: skip
    for each in chat:
        assert each["filterCollection"]["filters"][0] == {
            "key": "ModelDeploymentName",
            "operator": 0,
            "values": ["gpt-4o"],
        }
        assert {m["resourceMetadata"]["id"] for m in each["metrics"]} == {ACCOUNT}
        assert {m["namespace"] for m in each["metrics"]} == {"microsoft.cognitiveservices/accounts"}
    requests, errors, throttles, latency, first_token, tokens = chat
    assert [(m["name"], m["aggregationType"]) for m in tokens["metrics"]] == [
        ("ProcessedPromptTokens", 1),
        ("GeneratedTokens", 1),
    ]
    assert throttles["filterCollection"]["filters"][1] == {"key": "StatusCode", "operator": 0, "values": ["429"]}
    assert [(m["name"], m["aggregationType"]) for m in errors["metrics"]] == [("AzureOpenAIAvailabilityRate", 4)]
    assert [(m["name"], m["aggregationType"]) for m in latency["metrics"]] == [("AzureOpenAITTLTInMS", 3)]
    assert [m["name"] for m in first_token["metrics"]] == ["AzureOpenAITimeToResponse"]
    assert requests["grouping"]["dimension"] == "StatusCode"
    search = [chart(p) for p in rows[3]]
    assert {tuple(c["filterCollection"]["filters"][0]["values"]) for c in search} == {("emb", "gpt-4o")}


def test_short_names_fit_twelve_characters() -> None:
    assert short_name("prod") == "prod"
    long = short_name("prod-platform-clinical")
    assert len(long) <= 12 and long != short_name("prod-platform-clinicak")


# --- the components under mocks ------------------------------------------------------------------

EMAILS = ("oncall@example.com", "ml-team@example.com")
ALERT = "azure-native:monitor:MetricAlert"
GROUP = "azure-native:monitor:ActionGroup"
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
    assert {r.type for r in plan.children(component.urn)} == {ALERT, "azure-native:portal:Dashboard"}
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


def test_the_dashboard_is_stored_where_asked_with_a_title(plan: Plan) -> None:
    [dashboard] = of_type(plan, "azure-native:portal:Dashboard")
    assert dashboard.inputs["location"] == "westeurope"
    assert dashboard.inputs["dashboardName"] == "prod-dashboard"
    assert dashboard.inputs["tags"]["hidden-title"] == "prod Azure OpenAI"
    [lens] = dashboard.inputs["properties"]["lenses"]
    first = lens["parts"][1]
    assert first["position"] == {"x": 2, "y": 0, "colSpan": 4, "rowSpan": 3}
    assert first["metadata"]["inputs"][0]["value"]["chart"]["metrics"][0]["name"] == "AzureOpenAIRequests"


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
