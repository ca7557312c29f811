"""AWS monitoring: each Bedrock alert watches the right `AWS/Bedrock` metric of the right models with the
spec's threshold in the metric's unit, notifies an encrypted topic only CloudWatch may publish to, and
the dashboard draws a row per use case with the thresholds on the panels they watch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triplane.components.observability.alerts import (
    KINDS,
    Alert,
    BedrockModels,
    ModelServer,
    MonitoredUseCase,
    use_case_alerts,
)
from triplane.components.observability.aws import (
    AwsMonitoring,
    AwsMonitoringArgs,
    alarm_args,
    dashboard_body,
)
from triplane.components.observability.signals import PANELS, TITLES
from triplane.components.tagging import standard_tags
from triplane.plan import Plan, run_program
from triplane.policies.catalog import tag_argument
from triplane.stacks.clouds.aws import ACCOUNT_ID

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
ONE = BedrockModels("us-east-1", (HAIKU,))
TWO = BedrockModels("us-east-1", (HAIKU, SONNET))
TAGS = standard_tags(environment="prod", owner="ml-platform", cost_center="cc-42")
EMAILS = ("oncall@example.com", "ml-team@example.com")


def _alert(kind: Any, threshold: float) -> Alert:
    return Alert("chat", kind, threshold, "spec")


def _use_case(name: str, target: Any, source: Any = "bedrock") -> MonitoredUseCase:
    alerts = use_case_alerts(name, source, "prod", {"latency_p95_seconds": 12}, tokens_per_month=30_000_000)
    return MonitoredUseCase(name, "cloud-managed", "internal", target, alerts)


# --- alarms, one model: the metric itself ---------------------------------------------------------


def test_throttling_sums_the_models_throttles_over_five_minutes() -> None:
    args = alarm_args("prod", _alert("throttling", 7), ONE)
    assert args["name"] == "prod-chat-throttling"
    assert args["alarm_description"] == "more than 7 throttled requests in 5 minutes"
    assert (args["namespace"], args["metric_name"], args["dimensions"]) == (
        "AWS/Bedrock", "InvocationThrottles", {"ModelId": HAIKU})
    assert (args["statistic"], args["period"], args["evaluation_periods"]) == ("Sum", 300, 1)
    assert (args["comparison_operator"], args["threshold"]) == ("GreaterThanThreshold", 7)
    assert args["treat_missing_data"] == "notBreaching"
    assert "extended_statistic" not in args and "metric_queries" not in args


@pytest.mark.parametrize(("kind", "metric"), [("latency", "InvocationLatency"), ("first-token", "TimeToFirstToken")])
def test_latency_kinds_watch_the_p95_in_milliseconds(kind: Any, metric: str) -> None:
    args = alarm_args("prod", _alert(kind, 2.5), ONE)
    assert (args["namespace"], args["metric_name"], args["dimensions"]) == ("AWS/Bedrock", metric, {"ModelId": HAIKU})
    assert (args["extended_statistic"], args["period"]) == ("p95", 300)
    assert "statistic" not in args
    assert args["threshold"] == 2500  # 2.5 s in the metric's milliseconds
    assert args["comparison_operator"] == "GreaterThanThreshold"


def test_error_rate_is_server_errors_over_invocations_in_percent_guarded_against_no_traffic() -> None:
    args = alarm_args("prod", _alert("error-rate", 5), ONE)
    queries = {q["id"]: q for q in args["metric_queries"]}
    assert queries["errors0"]["metric"] == {"metric_name": "InvocationServerErrors", "namespace": "AWS/Bedrock",
                                            "dimensions": {"ModelId": HAIKU}, "stat": "Sum", "period": 300}
    assert queries["requests0"]["metric"]["metric_name"] == "Invocations"
    assert queries["requests0"]["metric"]["dimensions"] == {"ModelId": HAIKU}
    assert queries["rate"]["expression"] == "IF((requests0) > 0, 100 * (errors0) / (requests0), 0)"
    assert [q["id"] for q in args["metric_queries"] if q["return_data"]] == ["rate"]
    assert (args["threshold"], args["comparison_operator"]) == (5, "GreaterThanThreshold")
    assert "metric_name" not in args and "period" not in args


def test_token_burn_sums_input_and_output_tokens_over_a_day() -> None:
    args = alarm_args("prod", _alert("token-burn", 1_500_000), ONE)
    queries = {q["id"]: q for q in args["metric_queries"]}
    assert {q["metric"]["metric_name"] for q in args["metric_queries"] if "metric" in q} == {
        "InputTokenCount", "OutputTokenCount"}
    assert all(q["metric"]["period"] == 86_400 and q["metric"]["stat"] == "Sum"
               for q in args["metric_queries"] if "metric" in q)
    assert queries["total"]["expression"] == "FILL(inputTokenCount0, 0) + FILL(outputTokenCount0, 0)"
    assert queries["total"]["return_data"] is True
    assert args["threshold"] == 1_500_000
    assert args["treat_missing_data"] == "notBreaching"


# --- alarms, two models: metric math -------------------------------------------------------------


def test_two_models_throttles_are_summed_with_metric_math() -> None:
    args = alarm_args("prod", _alert("throttling", 7), TWO)
    metrics = [q for q in args["metric_queries"] if "metric" in q]
    assert [(q["metric"]["metric_name"], q["metric"]["dimensions"]) for q in metrics] == [
        ("InvocationThrottles", {"ModelId": HAIKU}), ("InvocationThrottles", {"ModelId": SONNET})]
    assert all(q["return_data"] is False for q in metrics)
    [total] = [q for q in args["metric_queries"] if q["return_data"]]
    assert total["expression"] == "FILL(invocationThrottles0, 0) + FILL(invocationThrottles1, 0)"
    assert args["threshold"] == 7 and "metric_name" not in args


def test_two_models_error_rate_sums_both_sides_before_dividing() -> None:
    queries = {q["id"]: q for q in alarm_args("prod", _alert("error-rate", 5), TWO)["metric_queries"]}
    assert queries["rate"]["expression"] == (
        "IF((FILL(requests0, 0) + FILL(requests1, 0)) > 0, "
        "100 * (FILL(errors0, 0) + FILL(errors1, 0)) / (FILL(requests0, 0) + FILL(requests1, 0)), 0)")
    assert queries["errors1"]["metric"]["dimensions"] == {"ModelId": SONNET}
    assert queries["requests1"]["metric"]["metric_name"] == "Invocations"


def test_two_models_latency_alarms_on_the_worst_models_p95() -> None:
    args = alarm_args("prod", _alert("latency", 30), TWO)
    queries = {q["id"]: q for q in args["metric_queries"]}
    assert queries["latency0"]["metric"]["stat"] == queries["latency1"]["metric"]["stat"] == "p95"
    assert queries["latency1"]["metric"]["dimensions"] == {"ModelId": SONNET}
    assert queries["worst"]["expression"] == "MAX([latency0, latency1])"
    assert args["threshold"] == 30_000


def test_two_models_token_burn_sums_four_series() -> None:
    queries = alarm_args("prod", _alert("token-burn", 10), TWO)["metric_queries"]
    assert len([q for q in queries if "metric" in q]) == 4
    assert queries[-1]["expression"].count("FILL(") == 4


def test_too_many_models_for_one_alarm_is_refused_with_the_fix() -> None:
    many = BedrockModels("us-east-1", tuple(f"model-{i}" for i in range(10)))
    with pytest.raises(ValueError, match="needs 21 metric queries, more than CloudWatch's 20; split its models"):
        alarm_args("prod", _alert("error-rate", 5), many)


def test_nine_models_still_fit_one_error_rate_alarm() -> None:
    nine = BedrockModels("us-east-1", tuple(f"model-{i}" for i in range(9)))
    assert len(alarm_args("prod", _alert("error-rate", 5), nine)["metric_queries"]) == 19


def test_a_kind_bedrock_does_not_back_is_refused() -> None:
    with pytest.raises(ValueError, match="Bedrock does not back a 'queue' alert"):
        alarm_args("prod", _alert("queue", 8), ONE)


def test_every_bedrock_kind_renders() -> None:
    for kind in KINDS["bedrock"]:
        assert alarm_args("p", _alert(kind, 1), TWO)["name"] == f"p-chat-{kind}"


# --- dashboard ----------------------------------------------------------------------------------------


def _metric_widgets(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in body["widgets"] if w["type"] == "metric"]


def test_the_dashboard_has_a_header_and_a_row_per_bedrock_use_case_in_panel_order() -> None:
    use_cases = [_use_case("chat", ONE), _use_case("search", TWO),
                 _use_case("local", ModelServer("c", "ns", "app", "vllm"), "vllm")]
    body = dashboard_body("us-east-1", use_cases)
    assert body["widgets"][0]["type"] == "text" and "us-east-1" in body["widgets"][0]["properties"]["markdown"]
    widgets = _metric_widgets(body)
    panels = PANELS["bedrock"]
    assert len(widgets) == 2 * len(panels)  # the model server's row is another renderer's
    assert [w["properties"]["title"] for w in widgets[: len(panels)]] == [f"chat: {TITLES[p]}" for p in panels]
    for row in (widgets[: len(panels)], widgets[len(panels):]):
        assert len({w["y"] for w in row}) == 1
        assert [w["x"] for w in row] == [i * (24 // len(panels)) for i in range(len(panels))]
        assert all(w["properties"]["region"] == "us-east-1" for w in row)
    assert widgets[0]["y"] < widgets[len(panels)]["y"]


def test_each_panel_names_the_use_cases_models_and_draws_its_alert_threshold() -> None:
    use_case = _use_case("search", TWO)
    widgets = {w["properties"]["title"].split(": ", 1)[1]: w["properties"]
               for w in _metric_widgets(dashboard_body("us-east-1", [use_case]))}
    for props in widgets.values():
        named = {line[3] for line in props["metrics"] if isinstance(line[0], str)}
        assert named == {HAIKU, SONNET}
        assert all(line[:3] == ["AWS/Bedrock", line[1], "ModelId"] for line in props["metrics"]
                   if isinstance(line[0], str))
    thresholds = {title: props["annotations"]["horizontal"][0]["value"]
                  for title, props in widgets.items() if "annotations" in props}
    assert thresholds == {
        "Errors": 5,
        "Throttled": 5,
        "Latency p95": 12_000,  # the spec's 12 s, in ms
        "Time to first token p95": 5_000,
        "Tokens (input, output) vs volume": 1_500_000,  # 30M a month / 30 days * 150%
    }
    assert "annotations" not in widgets["Requests"]
    assert {line[1] for line in widgets["Latency p95"]["metrics"]} == {"InvocationLatency"}
    assert {line[4]["stat"] for line in widgets["Time to first token p95"]["metrics"]} == {"p95"}
    assert widgets["Tokens (input, output) vs volume"]["period"] == 86_400
    assert widgets["Errors"]["metrics"][-1][0]["expression"] == (
        "IF((FILL(requests0, 0) + FILL(requests1, 0)) > 0, "
        "100 * (FILL(errors0, 0) + FILL(errors1, 0)) / (FILL(requests0, 0) + FILL(requests1, 0)), 0)")


def test_no_token_panel_threshold_without_a_declared_volume() -> None:
    alerts = use_case_alerts("chat", "bedrock", "dev", {}, tokens_per_month=None)
    body = dashboard_body("us-east-1", [MonitoredUseCase("chat", "cloud-managed", "internal", ONE, alerts)])
    tokens = _metric_widgets(body)[-1]["properties"]
    assert tokens["title"] == "chat: Tokens (input, output) vs volume" and "annotations" not in tokens


# --- the component under mocks -----------------------------------------------------------------------


def _plan(**overrides: Any) -> Plan:
    def program() -> None:
        AwsMonitoring("obs", AwsMonitoringArgs(**{
            "prefix": "prod",
            "region": "us-east-1",
            "emails": EMAILS,
            "use_cases": [_use_case("chat", ONE), _use_case("search", TWO),
                          _use_case("local", ModelServer("c", "ns", "app", "vllm"), "vllm")],
            "tags": TAGS,
            "protect": True,
            **overrides,
        }))

    return run_program(program, stack="ts")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan()


TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:obs-topic"  # the mock names an ARN after the resource


def test_the_topic_is_encrypted_with_a_rotated_protected_key_cloudwatch_may_use(plan: Plan) -> None:
    key = plan.one("aws:kms/key:Key", "obs-key")
    assert key.inputs["enableKeyRotation"] is True and key.protect and key.retain_on_delete
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountAdministration"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    cloudwatch = statements["CloudWatchAlarmsEncryptNotifications"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    topic = plan.one("aws:sns/topic:Topic", "obs-topic")
    assert topic.inputs["name"] == "prod-alerts"
    assert topic.inputs["kmsMasterKeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:obs-key"


def test_only_this_accounts_alarms_publish_and_only_over_tls(plan: Plan) -> None:
    policy = plan.one("aws:sns/topicPolicy:TopicPolicy", "obs-topic-policy").inputs
    assert policy["arn"] == TOPIC_ARN
    allow, deny = json.loads(policy["policy"])["Statement"]
    assert allow["Effect"] == "Allow" and allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (allow["Action"], allow["Resource"]) == ("sns:Publish", TOPIC_ARN)
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:prod-*"},
    }
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_each_address_is_subscribed_by_email(plan: Plan) -> None:
    subscriptions = plan.by_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(EMAILS)
    assert {(s.inputs["protocol"], s.inputs["topic"]) for s in subscriptions} == {("email", TOPIC_ARN)}
    assert not any("@" in s.name for s in subscriptions)


def test_one_alarm_per_alert_of_each_bedrock_use_case_notifying_the_topic(plan: Plan) -> None:
    alarms = plan.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    expected = [f"prod-{uc}-{kind}" for uc in ("chat", "search") for kind in KINDS["bedrock"]]
    assert sorted(a.inputs["name"] for a in alarms) == sorted(expected)
    policy = plan.one("aws:sns/topicPolicy:TopicPolicy", "obs-topic-policy")
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [TOPIC_ARN] and alarm.inputs["okActions"] == [TOPIC_ARN]
        assert policy.urn in alarm.dependencies
    chat_latency = next(a for a in alarms if a.inputs["name"] == "prod-chat-latency").inputs
    assert (chat_latency["metricName"], chat_latency["dimensions"]) == ("InvocationLatency", {"ModelId": HAIKU})
    assert (chat_latency["extendedStatistic"], chat_latency["threshold"]) == ("p95", 12_000)


def test_the_dashboard_is_the_rendered_body(plan: Plan) -> None:
    dashboard = plan.one("aws:cloudwatch/dashboard:Dashboard", "obs-dashboard").inputs
    assert dashboard["dashboardName"] == "prod-use-cases"
    use_cases = [_use_case("chat", ONE), _use_case("search", TWO)]
    assert json.loads(dashboard["dashboardBody"]) == dashboard_body("us-east-1", use_cases)


def test_every_taggable_resource_carries_the_tags(plan: Plan) -> None:
    taggable = [r for r in plan.resources if r.custom and tag_argument(r.type)]
    assert {r.type for r in taggable} == {
        "aws:kms/key:Key", "aws:sns/topic:Topic", "aws:cloudwatch/metricAlarm:MetricAlarm"}
    for resource in taggable:
        assert TAGS.items() <= resource.inputs["tags"].items(), resource.name


def test_a_use_case_in_another_region_is_refused_with_the_fix() -> None:
    elsewhere = _use_case("eu-chat", BedrockModels("eu-west-1", (HAIKU,)))
    with pytest.raises(Exception, match="build one AwsMonitoring per Bedrock region"):
        _plan(use_cases=[elsewhere])


def test_no_address_is_refused() -> None:
    with pytest.raises(Exception, match=r"monitoring\.notify\.email: list at least one address"):
        _plan(emails=())
