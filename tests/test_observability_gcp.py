"""Cloud Monitoring for Vertex AI use cases: each alert watches the right publisher-model metric of the
use case's models in its region, with the spec's threshold in the metric's unit; the dashboard has a
row per Vertex use case in the shared panel order; the channel is an email channel per address, named
by a hash of it; every policy notifies exactly the channels it is given, labels whose it is, and waits
for the Monitoring API."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi
import pytest

from triplane.components.gcp_apis import enable_apis_for_stack
from triplane.components.observability.alerts import (
    KINDS,
    Alert,
    BedrockModels,
    MonitoredUseCase,
    VertexModels,
    alert_tags,
    daily_tokens,
    use_case_alerts,
)
from triplane.components.observability.gcp import (
    FIRST_TOKEN,
    INVOCATIONS,
    LATENCIES,
    MAX_ALERT_ALIGNMENT_SECONDS,
    PUBLISHER_MODEL,
    TOKENS,
    GcpAlertChannel,
    GcpAlertChannelArgs,
    GcpMonitoring,
    GcpMonitoringArgs,
    alert_policy_args,
    dashboard_json,
)
from triplane.components.observability.signals import PANELS, TITLES
from triplane.components.tagging import gcp_labels, standard_tags
from triplane.gate import check_plan
from triplane.plan import Plan, PlannedResource, run_program
from triplane.policies.gcp_apis import SERVICE_TYPE

PROJECT = "acme-obs"
REGION = "europe-west4"
MODELS = ("gemini-3.5-flash", "claude-sonnet-4-6")
TARGET = VertexModels(PROJECT, REGION, MODELS)
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
TAGS = standard_tags(environment="prod", owner="platform-team", cost_center="cc-1")
EMAILS = ("oncall@acme.example", "ai-platform@acme.example")


def _alert(kind: str, threshold: float) -> Alert:
    return Alert("chat", kind, threshold, "spec")  # type: ignore[arg-type]


def _condition(kind: str, threshold: float, target: VertexModels = TARGET) -> dict[str, Any]:
    args = alert_policy_args("prod", _alert(kind, threshold), target)
    [condition] = args["conditions"]
    return condition["condition_threshold"]


def _clauses(text: str) -> list[str]:
    return text.split(" AND ")


def _targets_models(text: str, target: VertexModels = TARGET) -> None:
    clauses = _clauses(text)
    assert f'resource.type = "{PUBLISHER_MODEL}"' in clauses
    assert f'resource.labels.location = "{target.region}"' in clauses
    models = " OR ".join(f'resource.labels.model_user_id = "{m}"' for m in target.models)
    assert (f"({models})" if len(target.models) > 1 else models) in clauses


# --- the alert policies, kind by kind -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "threshold", "metric", "reducer", "group_by", "expected"),
    [
        ("throttling", 5, INVOCATIONS, "REDUCE_SUM", None, 5),
        ("latency", 30, LATENCIES, "REDUCE_PERCENTILE_95", ["resource.labels.model_user_id"], 30_000),
        ("first-token", 2.5, FIRST_TOKEN, "REDUCE_PERCENTILE_95", ["resource.labels.model_user_id"], 2_500),
        ("token-burn", 150_000, TOKENS, "REDUCE_SUM", None, 150_000),
    ],
)
def test_each_kind_watches_its_metric_of_the_models_with_the_threshold_in_the_metric_unit(
    kind: str, threshold: float, metric: str, reducer: str, group_by: list[str] | None, expected: float
) -> None:
    condition = _condition(kind, threshold)
    assert _clauses(condition["filter"])[0] == f'metric.type = "{metric}"'
    _targets_models(condition["filter"])
    [aggregation] = condition["aggregations"]
    window = _alert(kind, threshold).window_seconds
    assert aggregation["alignment_period"] == f"{window}s"
    assert aggregation["per_series_aligner"] == "ALIGN_DELTA"
    assert aggregation["cross_series_reducer"] == reducer
    assert aggregation.get("group_by_fields") == group_by
    assert condition["comparison"] == "COMPARISON_GT"
    assert condition["threshold_value"] == expected
    assert condition["duration"] == "0s"
    assert "denominator_filter" not in condition


def test_throttling_counts_only_429_answers() -> None:
    condition = _condition("throttling", 5)
    assert 'metric.labels.response_code = "429"' in _clauses(condition["filter"])
    assert condition["aggregations"][0]["alignment_period"] == "300s"


def test_error_rate_is_the_ratio_of_server_errors_to_all_invocations_as_a_fraction() -> None:
    condition = _condition("error-rate", 5)
    server_errors = 'metric.labels.response_code = monitoring.regex.full_match("5[0-9][0-9]")'
    assert server_errors in _clauses(condition["filter"])
    assert _clauses(condition["filter"])[0] == f'metric.type = "{INVOCATIONS}"'
    assert _clauses(condition["denominator_filter"])[0] == f'metric.type = "{INVOCATIONS}"'
    assert "response_code" not in condition["denominator_filter"]
    _targets_models(condition["filter"])
    _targets_models(condition["denominator_filter"])
    # Ratios need the same alignment on both sides; one series each (no group-by) is the use case's rate.
    assert condition["aggregations"] == condition["denominator_aggregations"]
    assert condition["aggregations"] == [
        {"alignment_period": "300s", "per_series_aligner": "ALIGN_DELTA", "cross_series_reducer": "REDUCE_SUM"}
    ]
    assert condition["threshold_value"] == pytest.approx(0.05)
    assert condition["comparison"] == "COMPARISON_GT"


def test_token_burn_sums_input_and_output_over_a_day_which_an_alert_may_align_over() -> None:
    tokens = daily_tokens(9_000_000, 150)
    condition = _condition("token-burn", tokens)
    assert 'metric.labels.type = monitoring.regex.full_match("input|output")' in _clauses(condition["filter"])
    assert condition["aggregations"][0]["alignment_period"] == "86400s"
    assert MAX_ALERT_ALIGNMENT_SECONDS >= 86_400
    assert condition["threshold_value"] == tokens == 450_000


def test_a_single_model_is_matched_by_equality() -> None:
    one = VertexModels(PROJECT, "us-east5", ("claude-sonnet-4-6",))
    condition = _condition("latency", 10, one)
    assert 'resource.labels.model_user_id = "claude-sonnet-4-6"' in _clauses(condition["filter"])
    assert 'resource.labels.location = "us-east5"' in _clauses(condition["filter"])
    assert " OR " not in condition["filter"]


def test_a_spec_id_with_publisher_and_version_sets_each_resource_label() -> None:
    pinned = VertexModels(PROJECT, "us-east5", ("anthropic/claude-sonnet-4-5@20250929", "gemini-3.5-flash"))
    condition = _condition("throttling", 5, pinned)
    assert (
        '((resource.labels.publisher = "anthropic" AND resource.labels.model_user_id = "claude-sonnet-4-5" '
        'AND resource.labels.model_version_id = "20250929") OR resource.labels.model_user_id = "gemini-3.5-flash")'
    ) in condition["filter"]


def test_policy_carries_the_summary_or_combiner_and_a_severity() -> None:
    alert = _alert("error-rate", 5)
    args = alert_policy_args("prod", alert, TARGET)
    assert args["display_name"] == "prod-chat-error-rate"
    assert args["combiner"] == "OR"
    assert args["severity"] == "ERROR"
    assert args["documentation"]["content"] == alert.summary
    assert alert_policy_args("prod", _alert("latency", 30), TARGET)["severity"] == "WARNING"


def test_every_vertex_kind_renders_and_a_kind_vertex_cannot_back_is_refused() -> None:
    for kind in KINDS["vertex"]:
        assert alert_policy_args("prod", _alert(kind, 1), TARGET)["conditions"]
    with pytest.raises(ValueError, match="queue"):
        alert_policy_args("prod", _alert("queue", 8), TARGET)


def test_a_filter_longer_than_cloud_monitoring_takes_is_refused() -> None:
    many = VertexModels(PROJECT, REGION, tuple(f"model-with-a-long-name-{i:03d}" for i in range(60)))
    with pytest.raises(ValueError, match="2048"):
        alert_policy_args("prod", _alert("latency", 30), many)


# --- the dashboard --------------------------------------------------------------------------------------


def _use_case(name: str, target: Any, tokens_per_month: int | None = 9_000_000) -> MonitoredUseCase:
    source = "vertex" if isinstance(target, VertexModels) else "bedrock"
    alerts = use_case_alerts(name, source, "prod", {"latency_p95_seconds": 12}, tokens_per_month)  # type: ignore[arg-type]
    return MonitoredUseCase(name, "cloud-managed", "internal", target, alerts)


USE_CASES = (
    _use_case("chat", TARGET),
    _use_case("claims", BedrockModels("us-east-1", ("anthropic.claude-v2",))),
    _use_case("search", VertexModels(PROJECT, "us-central1", ("gemini-3.5-flash",)), tokens_per_month=None),
)


def _charts(layout: dict[str, Any], use_case: str) -> dict[str, dict[str, Any]]:
    prefix = f"{use_case}: "
    return {
        tile["widget"]["title"].removeprefix(prefix): tile["widget"]["xyChart"]
        for tile in layout["mosaicLayout"]["tiles"]
        if "xyChart" in tile["widget"] and tile["widget"]["title"].startswith(prefix)
    }


def _filter(chart: dict[str, Any]) -> str:
    return chart["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["filter"]


def test_dashboard_has_a_row_per_vertex_use_case_in_the_shared_panel_order() -> None:
    layout = dashboard_json(PROJECT, USE_CASES)
    tiles = layout["mosaicLayout"]["tiles"]
    headers = [t["widget"]["title"] for t in tiles if "sectionHeader" in t["widget"]]
    assert headers == ["chat", "search"]
    for name in headers:
        assert list(_charts(layout, name)) == [TITLES[p] for p in PANELS["vertex"]]
    row = [t for t in tiles if t["widget"]["title"].startswith("chat: ")]
    assert len({t["yPos"] for t in row}) == 1
    assert [t["xPos"] for t in row] == sorted(t["xPos"] for t in row)
    assert all(t["xPos"] + t["width"] <= layout["mosaicLayout"]["columns"] for t in tiles)
    cells = {(x, t["yPos"] + dy) for t in tiles for x in range(t["xPos"], t["xPos"] + t["width"])
             for dy in range(t["height"])}  # fmt: skip
    assert len(cells) == sum(t["width"] * t["height"] for t in tiles), "tiles overlap"


def test_each_chart_reads_its_metric_of_the_use_case_models_and_draws_the_alert_threshold() -> None:
    charts = _charts(dashboard_json(PROJECT, USE_CASES), "chat")
    expected = {
        "Requests": (INVOCATIONS, None),
        "Throttled": (INVOCATIONS, 5),
        "Latency p95": (LATENCIES, 12_000),
        "Time to first token p95": (FIRST_TOKEN, 5_000),
        "Tokens (input, output) vs volume": (TOKENS, daily_tokens(9_000_000, 150)),
    }
    for title, (metric, threshold) in expected.items():
        chart = charts[title]
        assert _clauses(_filter(chart))[0] == f'metric.type = "{metric}"'
        _targets_models(_filter(chart))
        drawn = [line["value"] for line in chart.get("thresholds", [])]
        assert drawn == ([] if threshold is None else [threshold]), title
    assert 'metric.labels.response_code = "429"' in _clauses(_filter(charts["Throttled"]))
    latency = charts["Latency p95"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["aggregation"]
    assert latency["crossSeriesReducer"] == "REDUCE_PERCENTILE_95"
    tokens = charts["Tokens (input, output) vs volume"]["dataSets"][0]
    assert tokens["plotType"] == "STACKED_BAR"
    assert tokens["timeSeriesQuery"]["timeSeriesFilter"]["aggregation"]["groupByFields"] == ["metric.labels.type"]
    assert tokens["timeSeriesQuery"]["timeSeriesFilter"]["aggregation"]["alignmentPeriod"] == "86400s"


def test_the_errors_chart_is_the_alert_ratio_with_its_fraction() -> None:
    errors = _charts(dashboard_json(PROJECT, USE_CASES), "chat")["Errors"]
    ratio = errors["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilterRatio"]
    assert "monitoring.regex.full_match" in ratio["numerator"]["filter"]
    assert "response_code" not in ratio["denominator"]["filter"]
    _targets_models(ratio["denominator"]["filter"])
    assert [line["value"] for line in errors["thresholds"]] == [pytest.approx(0.05)]


def test_a_use_case_without_a_declared_volume_draws_no_token_line() -> None:
    charts = _charts(dashboard_json(PROJECT, USE_CASES), "search")
    assert "thresholds" not in charts["Tokens (input, output) vs volume"]
    assert 'resource.labels.location = "us-central1"' in _clauses(_filter(charts["Requests"]))


# --- the components under mocks ------------------------------------------------------------------------


def _channel(**overrides: Any) -> GcpAlertChannel:
    args: dict[str, Any] = {"name_prefix": "prod", "project": PROJECT, "emails": EMAILS, "tags": TAGS}
    return GcpAlertChannel("ts-alerts", GcpAlertChannelArgs(**{**args, **overrides}))


def _monitoring(channels: Any, **overrides: Any) -> GcpMonitoring:
    args: dict[str, Any] = {
        "name_prefix": "prod", "project": PROJECT, "channels": channels, "use_cases": USE_CASES, "tags": TAGS,
    }  # fmt: skip
    return GcpMonitoring("ts-obs", GcpMonitoringArgs(**{**args, **overrides}))


def _plan(**overrides: Any) -> Plan:
    """The channel and the monitoring on it, wired as a single stack wires them."""

    def program() -> None:
        enable_apis_for_stack(PROJECT, "ts-gcp-apis")
        channel = _channel()
        _monitoring(pulumi.Output.all(*channel.channel_names), **overrides)

    return run_program(program, stack="ts")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan()


def _digest(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()[:8]


def test_one_email_channel_per_address_with_user_labels(plan: Plan) -> None:
    channels = plan.by_type(CHANNEL)
    assert sorted(c.inputs["labels"]["email_address"] for c in channels) == sorted(EMAILS)
    for channel in channels:
        assert channel.inputs["type"] == "email"
        assert channel.inputs["project"] == PROJECT
        assert set(channel.inputs["labels"]) == {"email_address"}
        assert channel.inputs["userLabels"] == gcp_labels(TAGS)
        assert channel.inputs["displayName"] == f"prod alerts: {channel.inputs['labels']['email_address']}"


def test_channels_are_named_by_a_hash_of_their_address_not_the_address(plan: Plan) -> None:
    channels = plan.by_type(CHANNEL)
    assert sorted(c.name for c in channels) == sorted(f"ts-alerts-email-{_digest(e)}" for e in EMAILS)
    assert _digest("OnCall@acme.example") == _digest(EMAILS[0])  # an address's case names no other channel
    for channel in channels:
        assert "@" not in channel.urn and "oncall" not in channel.urn and "acme" not in channel.urn
    component = plan.one("triplane:observability:GcpAlertChannel", "ts-alerts")
    assert {c.parent for c in channels} == {component.urn}
    assert {r.type for r in plan.children(component.urn)} == {CHANNEL}


def test_one_policy_per_vertex_alert_notifying_every_channel(plan: Plan) -> None:
    policies = {p.inputs["displayName"]: p for p in plan.by_type(POLICY)}
    vertex_alerts = [a for u in USE_CASES if isinstance(u.target, VertexModels) for a in u.alerts]
    assert sorted(policies) == sorted(f"prod-{a.name}" for a in vertex_alerts)
    assert not [name for name in policies if "claims" in name], "a Bedrock use case got a Cloud Monitoring policy"
    channel_names = sorted(c.name for c in plan.by_type(CHANNEL))  # the mock names a channel after its resource
    assert len(channel_names) == 2
    for policy in policies.values():
        assert sorted(policy.inputs["notificationChannels"]) == channel_names
        assert policy.inputs["project"] == PROJECT
        assert policy.inputs["combiner"] == "OR"
    chat = policies["prod-chat-latency"]
    assert chat.inputs["conditions"][0]["conditionThreshold"]["thresholdValue"] == 12_000
    assert chat.inputs["userLabels"]["use-case"] == "chat"
    assert chat.inputs["userLabels"]["data-classification"] == "internal"
    assert chat.inputs["userLabels"]["owner"] == "platform-team"
    component = plan.one("triplane:observability:GcpMonitoring", "ts-obs")
    assert {r.type for r in plan.children(component.urn)} == {POLICY, DASHBOARD}


def test_every_policy_notifies_exactly_the_channels_it_is_given() -> None:
    given = [f"projects/{PROJECT}/notificationChannels/1234567890"]  # a platform stack's, by reference
    plan = run_program(lambda: _monitoring(given), stack="ts")
    policies = plan.by_type(POLICY)
    assert len(policies) == 9
    for policy in policies:
        assert policy.inputs["notificationChannels"] == given
    assert plan.by_type(CHANNEL) == []


def test_each_policy_labels_its_use_case_and_what_it_watches(plan: Plan) -> None:
    by_name = {f"prod-{a.name}": (u, a) for u in USE_CASES for a in u.alerts}
    for policy in plan.by_type(POLICY):
        use_case, alert = by_name[policy.inputs["displayName"]]
        labels = policy.inputs["userLabels"]
        assert (labels["use-case"], labels["alert"]) == (use_case.name, alert.kind), policy.name
        assert labels == {**gcp_labels(TAGS), **gcp_labels(alert_tags(use_case, alert))}
    assert {p.inputs["userLabels"]["alert"] for p in plan.by_type(POLICY)} == set(KINDS["vertex"])
    assert {p.inputs["userLabels"]["use-case"] for p in plan.by_type(POLICY)} == {"chat", "search"}


def test_channels_and_policies_pass_the_required_tags_gate(plan: Plan) -> None:
    # A channel's tags live in `user_labels`: its `labels` are its settings, which the gate must not
    # read as (missing) tags.
    required = [v for v in check_plan(plan).violations if v.policy == "required-tags"]
    assert required == []
    assert plan.by_type(POLICY)[0].inputs["userLabels"]["cost-center"] == "cc-1"


def test_the_dashboard_is_planned_with_its_rows(plan: Plan) -> None:
    dashboard = plan.one(DASHBOARD)
    layout = json.loads(dashboard.inputs["dashboardJson"])
    assert dashboard.inputs["project"] == PROJECT
    assert layout["displayName"] == "prod AI use cases"
    assert layout["labels"] == gcp_labels(TAGS)
    assert layout["mosaicLayout"] == dashboard_json(PROJECT, USE_CASES)["mosaicLayout"]


def test_every_monitoring_resource_waits_for_the_monitoring_api(plan: Plan) -> None:
    [monitoring] = [s for s in plan.by_type(SERVICE_TYPE) if s.inputs["service"] == "monitoring.googleapis.com"]
    assert monitoring.inputs["project"] == PROJECT
    watched: list[PlannedResource] = [*plan.by_type(CHANNEL), *plan.by_type(POLICY), *plan.by_type(DASHBOARD)]
    assert len(watched) == 2 + 9 + 1
    for resource in watched:
        assert monitoring.urn in resource.dependencies, resource.name


def test_without_vertex_use_cases_there_is_no_dashboard() -> None:
    plan = _plan(use_cases=[USE_CASES[1]])
    assert plan.by_type(DASHBOARD) == []
    assert plan.by_type(POLICY) == []
    assert len(plan.by_type(CHANNEL)) == 2  # the channel is the environment's, whatever this stack watches


@pytest.mark.parametrize(
    ("emails", "message"),
    [
        ((), r"monitoring\.notify\.email: list at least one address"),
        (("oncall",), r"monitoring\.notify\.email\[0\]: 'oncall' is not an email address"),
        ((EMAILS[0], EMAILS[0]), "lists an address twice"),
        ((EMAILS[0], EMAILS[0].upper()), "lists an address twice"),
    ],
)
def test_bad_addresses_are_refused_naming_the_field(emails: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _channel(emails=emails)


def test_a_use_case_in_another_project_is_refused() -> None:
    with pytest.raises(ValueError, match="use case chat: its Vertex AI models run in project acme-obs"):
        _monitoring(["projects/other-project/notificationChannels/1"], project="other-project")
