"""AWS monitoring: each Bedrock alert watches the right `AWS/Bedrock` metric of the right models with the
spec's threshold in the metric's unit and states whose it is; the channel is an encrypted topic only the
named stacks' CloudWatch alarms may publish to, and the alarms notify exactly the topic they are given;
the dashboard draws a row per use case with the thresholds on the panels they watch."""

from __future__ import annotations

import hashlib
import json
import re
from fnmatch import fnmatch
from typing import Any

import pulumi
import pytest

from triplane.components.observability.alerts import (
    KINDS,
    Alert,
    BedrockModels,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    alert_tags,
    use_case_alerts,
)
from triplane.components.observability.aws import (
    AwsAlertChannel,
    AwsAlertChannelArgs,
    AwsMonitoring,
    AwsMonitoringArgs,
    PrometheusCharts,
    alarm_args,
    dashboard_body,
    topic_policy,
)
from triplane.components.observability.prometheus import panel
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


# --- model servers and gateway routes on EKS: custom widgets over the managed Prometheus -------------

CHART_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:dev-gpu-prometheus-charts"
TGI = ModelServer("gpu", "code-review", "dev-code-review", "tgi")
VLLM = ModelServer("gpu", "summarize", "dev-summarize", "vllm")
ROUTE = GatewayRoute("gpu", "support-drafts")


def _served(name: str, target: Any, source: Any, pattern: str = "self-managed") -> MonitoredUseCase:
    alerts = use_case_alerts(name, source, "prod", {"latency_p95_seconds": 8}, tokens_per_month=9_000_000)
    return MonitoredUseCase(name, pattern, "confidential", target, alerts)


SERVED = (
    _use_case("chat", ONE),
    _served("code-review", TGI, "tgi"),
    _served("summarize", VLLM, "vllm"),
    _served("support-drafts", ROUTE, "gateway", "saas"),
)


def _rows(body: dict[str, Any]) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """Heading markdown -> (use case, its widgets), by reading order."""
    rows: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    current = ""
    for widget in sorted(body["widgets"], key=lambda w: (w["y"], w["x"])):
        markdown = widget["properties"].get("markdown", "")
        if markdown.startswith("### "):
            current = markdown
            rows[current] = (markdown[4:].split(" ", 1)[0], [])
        elif current:
            rows[current][1].append(widget)
    return rows


def _charts(gpu_metrics: bool) -> dict[str, PrometheusCharts]:
    return {"gpu": PrometheusCharts(cluster="dev-gpu", function_arn=CHART_ARN, gpu_metrics=gpu_metrics)}


def test_a_row_per_server_and_route_on_a_charted_cluster_after_the_bedrock_rows() -> None:
    body = dashboard_body("us-east-1", SERVED, _charts(gpu_metrics=True))
    assert body["widgets"][0]["properties"]["markdown"].startswith(
        "## Generative AI use cases on Amazon Bedrock and EKS (us-east-1)")
    rows = _rows(body)
    assert list(rows) == [
        f"### chat (cloud-managed, internal): {HAIKU}",
        "### code-review (self-managed, confidential): tgi server dev-code-review in dev-gpu/code-review",
        "### summarize (self-managed, confidential): vllm server dev-summarize in dev-gpu/summarize",
        "### support-drafts (saas, confidential): AI gateway route support-drafts in dev-gpu",
    ]
    expected = {"code-review": PANELS["tgi"], "summarize": PANELS["vllm"], "support-drafts": PANELS["gateway"]}
    for use_case, widgets in list(rows.values())[1:]:
        panels = expected[use_case]
        assert [w["type"] for w in widgets] == ["custom"] * len(panels)
        assert [w["properties"]["title"] for w in widgets] == [f"{use_case}: {TITLES[p]}" for p in panels]
        assert [w["x"] for w in widgets] == [i * (24 // len(panels)) for i in range(len(panels))]
        assert all(w["properties"]["endpoint"] == CHART_ARN for w in widgets)
        assert all(w["properties"]["updateOn"] == {"refresh": True, "resize": True, "timeRange": True}
                   for w in widgets)
    assert all(w["type"] == "metric" for w in next(iter(rows.values()))[1])


def test_each_custom_widget_carries_the_panels_promql_and_its_alerts_threshold() -> None:
    body = dashboard_body("us-east-1", SERVED, _charts(gpu_metrics=True))
    by_title = {w["properties"]["title"]: w["properties"]["params"] for w in body["widgets"] if w["type"] == "custom"}
    targets = {u.name: u for u in SERVED}
    for title, params in by_title.items():
        use_case, _, heading = title.partition(": ")
        signal = next(s for s, t in TITLES.items() if t == heading)
        lines = panel(signal, targets[use_case].target)
        assert params["queries"] == [
            {"name": line.name, "query": line.query, **({"per": line.per} if line.per else {})} for line in lines]
        assert not any(re.search(r"[{,]cluster=", line.query) for line in lines)  # the workspace: one cluster
    thresholds = {t: p["threshold"] for t, p in by_title.items() if "threshold" in p}
    assert thresholds == {
        "code-review: Errors": 5,
        "code-review: Latency p95": 8,
        "code-review: Tokens (input, output) vs volume": 450_000,  # 9M a month / 30 days * 150%
        "code-review: GPU memory": 92,  # the prod tier's
        "code-review: Queue depth": 8,
        "summarize: Errors": 5,
        "summarize: Latency p95": 8,
        "summarize: Time to first token p95": 5,
        "summarize: Tokens (input, output) vs volume": 450_000,
        "summarize: GPU memory": 92,
        "summarize: Queue depth": 8,
        "support-drafts: Errors": 5,
        "support-drafts: Throttled": 5,
        "support-drafts: Latency p95": 8,
        "support-drafts: Time to first token p95": 5,
        "support-drafts: Tokens (input, output) vs volume": 450_000,
    }
    assert by_title["code-review: GPU utilisation"]["queries"][0]["per"] == "pod"
    assert by_title["code-review: Latency p95"]["unit"] == "s"
    assert by_title["code-review: Errors"]["thresholdLabel"] == "error-rate alert (tier default)"


def test_no_gpu_panels_where_the_cluster_has_no_gpu_metrics() -> None:
    body = dashboard_body("us-east-1", SERVED, _charts(gpu_metrics=False))
    titles = [w["properties"]["title"] for w in body["widgets"] if w["type"] == "custom"]
    assert not [t for t in titles if "GPU" in t]
    tgi = [t.split(": ", 1)[1] for t in titles if t.startswith("code-review")]
    assert tgi == [TITLES[p] for p in PANELS["tgi"] if p not in ("gpu-utilisation", "gpu-memory")]
    assert [w["x"] for w in body["widgets"] if w["properties"].get("title", "").startswith("code-review")] == [
        0, 4, 8, 12, 16, 20]


def test_servers_on_a_cluster_without_charts_get_no_row() -> None:
    body = dashboard_body("us-east-1", SERVED)
    assert [w for w in body["widgets"] if w["type"] == "custom"] == []
    assert body["widgets"][0]["properties"]["markdown"].startswith("## Generative AI use cases on Amazon Bedrock (")
    other = {"other": PrometheusCharts(cluster="x", function_arn=CHART_ARN, gpu_metrics=True)}
    assert dashboard_body("us-east-1", SERVED, other) == body


def test_the_dashboard_resolves_the_chart_functions_arn() -> None:
    def program() -> None:
        charts = {"gpu": PrometheusCharts(cluster=pulumi.Output.from_input("dev-gpu"),
                                          function_arn=pulumi.Output.from_input(CHART_ARN), gpu_metrics=False)}
        AwsMonitoring("dev-aws-monitoring", AwsMonitoringArgs(
            prefix="dev", region="us-east-1", topic_arn=TOPIC_ARN, use_cases=SERVED, servers=charts, tags=TAGS))

    body = json.loads(run_program(program, stack="ts").one("aws:cloudwatch/dashboard:Dashboard").inputs[
        "dashboardBody"])
    assert body == dashboard_body("us-east-1", SERVED, _charts(gpu_metrics=False))


# --- the channel: an encrypted topic only the named stacks' alarms publish to -------------------------

ALARM_PREFIXES = ("prod-apps", "prod-clinical")
"""The use-case stacks whose alarms a platform's channel admits."""


def _alarm_arn(name: str) -> str:
    return f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:{name}"


def test_the_topic_policy_admits_each_alarm_prefix_and_nothing_else() -> None:
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:prod-platform-alerts"
    allow, _ = json.loads(topic_policy(topic, ACCOUNT_ID, "us-east-1", ALARM_PREFIXES))["Statement"]
    patterns = allow["Condition"]["ArnLike"]["aws:SourceArn"]
    assert patterns == [_alarm_arn("prod-apps-*"), _alarm_arn("prod-clinical-*")]
    assert any(fnmatch(_alarm_arn("prod-clinical-triage-latency"), p) for p in patterns)
    assert not any(fnmatch(_alarm_arn("prod-platform-x-latency"), p) for p in patterns)
    assert not any(fnmatch(_alarm_arn("dev-apps-chat-latency"), p) for p in patterns)


def _channel(**overrides: Any) -> AwsAlertChannel:
    args: dict[str, Any] = {
        "prefix": "prod-platform",
        "region": "us-east-1",
        "emails": EMAILS,
        "alarm_prefixes": ALARM_PREFIXES,
        "tags": TAGS,
        "protect": True,
    }
    return AwsAlertChannel("prod-aws-alerts", AwsAlertChannelArgs(**{**args, **overrides}))


def _monitoring(topic_arn: Any, opts: pulumi.ResourceOptions | None = None, **overrides: Any) -> AwsMonitoring:
    args: dict[str, Any] = {
        "prefix": "prod-apps",
        "region": "us-east-1",
        "topic_arn": topic_arn,
        "use_cases": USE_CASES,
        "tags": TAGS,
    }
    return AwsMonitoring("prod-apps-aws-monitoring", AwsMonitoringArgs(**{**args, **overrides}), opts=opts)


USE_CASES = (
    _use_case("chat", ONE),
    _use_case("search", TWO),
    _use_case("local", ModelServer("c", "ns", "app", "vllm"), "vllm"),
)


def _plan(**overrides: Any) -> Plan:
    """A platform's channel and a use-case stack's monitoring on it, wired as the stacks wire them."""

    def program() -> None:
        channel = _channel()
        _monitoring(channel.topic_arn, pulumi.ResourceOptions(depends_on=[channel.policy]), **overrides)

    return run_program(program, stack="ts")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan()


TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:prod-aws-alerts-topic"  # the mock names an ARN after the resource
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_the_topic_is_encrypted_with_a_rotated_protected_key_cloudwatch_may_use(plan: Plan) -> None:
    key = plan.one("aws:kms/key:Key", "prod-aws-alerts-key")
    assert key.inputs["enableKeyRotation"] is True and key.protect and key.retain_on_delete
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountAdministration"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    cloudwatch = statements["CloudWatchAlarmsEncryptNotifications"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    topic = plan.one("aws:sns/topic:Topic", "prod-aws-alerts-topic")
    assert topic.inputs["name"] == "prod-platform-alerts"
    assert topic.inputs["kmsMasterKeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:prod-aws-alerts-key"


def test_only_the_named_stacks_alarms_of_this_account_publish_and_only_over_tls(plan: Plan) -> None:
    policy = plan.one("aws:sns/topicPolicy:TopicPolicy", "prod-aws-alerts-topic-policy").inputs
    assert policy["arn"] == TOPIC_ARN
    allow, deny = json.loads(policy["policy"])["Statement"]
    assert allow["Effect"] == "Allow" and allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (allow["Action"], allow["Resource"]) == ("sns:Publish", TOPIC_ARN)
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": [_alarm_arn("prod-apps-*"), _alarm_arn("prod-clinical-*")]},
    }
    assert (deny["Effect"], deny["Principal"], deny["Action"], deny["Resource"]) == ("Deny", "*", "sns:*", TOPIC_ARN)
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_policy_admits_every_alarm_the_use_case_stack_creates(plan: Plan) -> None:
    allow = json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])["Statement"][0]
    patterns = allow["Condition"]["ArnLike"]["aws:SourceArn"]
    alarms = plan.by_type(ALARM)
    assert alarms
    for alarm in alarms:
        assert any(fnmatch(_alarm_arn(alarm.inputs["name"]), p) for p in patterns), alarm.inputs["name"]


def test_each_address_is_subscribed_by_email_under_a_name_without_it(plan: Plan) -> None:
    subscriptions = plan.by_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(EMAILS)
    assert {(s.inputs["protocol"], s.inputs["topic"]) for s in subscriptions} == {("email", TOPIC_ARN)}
    digests = [hashlib.sha256(e.encode()).hexdigest()[:8] for e in EMAILS]
    assert sorted(s.name for s in subscriptions) == sorted(f"prod-aws-alerts-email-{d}" for d in digests)
    assert not any("@" in s.urn or "oncall" in s.urn for s in subscriptions)
    channel = plan.one("triplane:observability:AwsAlertChannel", "prod-aws-alerts")
    assert {s.parent for s in subscriptions} == {channel.urn}


def test_the_channel_creates_no_alarm_and_the_monitoring_no_channel(plan: Plan) -> None:
    channel = plan.one("triplane:observability:AwsAlertChannel", "prod-aws-alerts")
    monitoring = plan.one("triplane:observability:AwsMonitoring", "prod-apps-aws-monitoring")
    assert {r.type for r in plan.children(channel.urn)} == {
        "aws:kms/key:Key",
        "aws:kms/alias:Alias",
        "aws:sns/topic:Topic",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
    }
    assert {r.type for r in plan.children(monitoring.urn)} == {ALARM, "aws:cloudwatch/dashboard:Dashboard"}


def test_one_alarm_per_alert_of_each_bedrock_use_case_notifying_the_channel(plan: Plan) -> None:
    alarms = plan.by_type(ALARM)
    expected = [f"prod-apps-{uc}-{kind}" for uc in ("chat", "search") for kind in KINDS["bedrock"]]
    assert sorted(a.inputs["name"] for a in alarms) == sorted(expected)
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [TOPIC_ARN] and alarm.inputs["okActions"] == [TOPIC_ARN]
    chat_latency = next(a for a in alarms if a.inputs["name"] == "prod-apps-chat-latency").inputs
    assert (chat_latency["metricName"], chat_latency["dimensions"]) == ("InvocationLatency", {"ModelId": HAIKU})
    assert (chat_latency["extendedStatistic"], chat_latency["threshold"]) == ("p95", 12_000)


def test_the_alarms_wait_for_the_topic_policy_they_are_given(plan: Plan) -> None:
    # CloudWatch may publish only once the policy exists: the stacks hand the channel's `policy` to the
    # monitoring as `depends_on`, and the alarms are registered under (so after) the monitoring.
    policy = plan.one("aws:sns/topicPolicy:TopicPolicy", "prod-aws-alerts-topic-policy")
    monitoring = plan.one("triplane:observability:AwsMonitoring", "prod-apps-aws-monitoring")
    assert policy.urn in monitoring.dependencies
    assert {a.parent for a in plan.by_type(ALARM)} == {monitoring.urn}


def test_every_alarm_notifies_exactly_the_topic_it_is_given() -> None:
    elsewhere = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:prod-platform-alerts"  # a platform stack's, by reference
    plan = run_program(lambda: _monitoring(elsewhere), stack="ts")
    alarms = plan.by_type(ALARM)
    assert len(alarms) == 2 * len(KINDS["bedrock"])
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [elsewhere] and alarm.inputs["okActions"] == [elsewhere]
    assert not [r for r in plan.resources if r.type.startswith(("aws:sns/", "aws:kms/"))]


def test_each_alarm_states_its_use_case_and_what_it_watches(plan: Plan) -> None:
    alarms = plan.by_type(ALARM)
    by_name = {u.name: u for u in USE_CASES}
    for alarm in alarms:
        name = alarm.inputs["name"].removeprefix("prod-apps-")
        use_case, kind = next((u, name.removeprefix(f"{u}-")) for u in by_name if name.startswith(f"{u}-"))
        tags = alarm.inputs["tags"]
        assert (tags["use-case"], tags["alert"]) == (use_case, kind), alarm.name
        assert (tags["pattern"], tags["data-classification"]) == ("cloud-managed", "internal")
        [alert] = [a for a in by_name[use_case].alerts if a.kind == kind]
        assert alert_tags(by_name[use_case], alert).items() <= tags.items()
    assert {a.inputs["tags"]["alert"] for a in alarms} == set(KINDS["bedrock"])
    assert {a.inputs["tags"]["use-case"] for a in alarms} == {"chat", "search"}


def test_the_dashboard_is_the_rendered_body(plan: Plan) -> None:
    dashboard = plan.one("aws:cloudwatch/dashboard:Dashboard", "prod-apps-aws-monitoring-dashboard").inputs
    assert dashboard["dashboardName"] == "prod-apps-use-cases"
    use_cases = [_use_case("chat", ONE), _use_case("search", TWO)]
    assert json.loads(dashboard["dashboardBody"]) == dashboard_body("us-east-1", use_cases)


def test_every_taggable_resource_carries_the_tags(plan: Plan) -> None:
    taggable = [r for r in plan.resources if r.custom and tag_argument(r.type)]
    assert {r.type for r in taggable} == {"aws:kms/key:Key", "aws:sns/topic:Topic", ALARM}
    for resource in taggable:
        tags = resource.inputs["tags"]
        if resource.type == ALARM:  # an alarm states its own use case over the shared ones
            assert tags["use-case"] != TAGS["use-case"]
            tags = {**tags, **{k: TAGS[k] for k in ("use-case", "pattern", "data-classification")}}
        assert TAGS.items() <= tags.items(), resource.name


def test_a_use_case_in_another_region_is_refused_with_the_fix() -> None:
    elsewhere = _use_case("eu-chat", BedrockModels("eu-west-1", (HAIKU,)))
    with pytest.raises(Exception, match="build one AwsMonitoring per Bedrock region"):
        _plan(use_cases=[elsewhere])


def test_no_address_is_refused() -> None:
    with pytest.raises(Exception, match=r"monitoring\.notify\.email: list at least one address"):
        run_program(lambda: _channel(emails=()), stack="ts")
