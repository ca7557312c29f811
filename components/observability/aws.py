"""AWS monitoring of the Bedrock use cases: who is told, what is watched, and one dashboard.

Creates:
- the notification channel: a KMS key (rotated; CloudWatch of this account may use it to encrypt
  alarm notifications), an SNS topic encrypted with it whose policy lets only CloudWatch alarms of
  this account and prefix publish, over TLS only, and an email subscription per address;
- a CloudWatch alarm per alert of each use case whose target is `BedrockModels`, on the `AWS/Bedrock`
  metrics of its models (dimension `ModelId`), notifying the topic when it fires and when it clears;
- one CloudWatch dashboard: a header, then a row per use case with a panel per `PANELS["bedrock"]`
  signal, alert thresholds drawn on the panels they watch; then a row per model server or gateway
  route on an EKS cluster with a managed Prometheus (`servers`), its panels in `PANELS[engine]` or
  `PANELS["gateway"]` order (no GPU panels where the cluster has no GPU metrics). CloudWatch metric
  widgets cannot read Amazon Managed Service for Prometheus, so each of those panels is a custom widget
  (`{"type": "custom", "properties": {"endpoint", "params", "updateOn", "title"}}`, "Dashboard Body
  Structure", https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)
  whose function (`aws_charts.AwsPrometheusCharts`) runs the panel's PromQL (`prometheus.panel`, with
  no scope: a workspace holds one cluster's series) and draws the watching alert's threshold.

Metric names and units: https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-runtime-metrics.html
(`Invocations`, `InvocationLatency` in milliseconds, `InvocationServerErrors`, `InvocationThrottles`,
`InputTokenCount`, `OutputTokenCount`). `TimeToFirstToken` (milliseconds, streaming requests only) was
added in March 2026: "Improve operational visibility for inference workloads on Amazon Bedrock with
new CloudWatch metrics for TTFT and Estimated Quota Consumption" (AWS Machine Learning Blog).
CloudWatch needs `kms:Decrypt` and `kms:GenerateDataKey*` to publish to an encrypted topic:
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
A channel asked to (`prometheus=True`) also admits the alert manager of this account's Amazon Managed
Service for Prometheus workspaces in its region: `sns:Publish` and `sns:GetTopicAttributes` on the topic,
`kms:GenerateDataKey*` and `kms:Decrypt` on its key ("Giving Amazon Managed Service for Prometheus
permission to send alert messages to your Amazon SNS topic",
https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-receiver-AMPpermission.html).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import kms as aws_kms
from pulumi_aws import sns as aws_sns
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.keys import account_administration, aws_key
from triplane.components.naming import physical_name
from triplane.components.observability.alerts import (
    KINDS,
    MILLISECONDS_PER_SECOND,
    Alert,
    AlertKind,
    BedrockModels,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    alert_tags,
    on_clusters,
    scraped_source,
)
from triplane.components.observability.aws_prometheus import workspace_arn
from triplane.components.observability.prometheus import GPU_SIGNALS, PANEL_UNITS, panel, row_detail
from triplane.components.observability.signals import PANEL_ALERTS, PANELS, TITLES, Signal, panel_alert
from triplane.components.tagging import tagged

NAMESPACE = "AWS/Bedrock"
DIMENSION = "ModelId"
ALARM_PUBLISHER = "cloudwatch.amazonaws.com"
PROMETHEUS_PUBLISHER = "aps.amazonaws.com"
"""Amazon Managed Service for Prometheus: its alert manager publishes to the channel."""

METRICS: Mapping[AlertKind, tuple[str, ...]] = {
    "error-rate": ("InvocationServerErrors", "Invocations"),
    "throttling": ("InvocationThrottles",),
    "latency": ("InvocationLatency",),
    "first-token": ("TimeToFirstToken",),
    "token-burn": ("InputTokenCount", "OutputTokenCount"),
}
"""The `AWS/Bedrock` metrics each alert kind reads."""

PERCENTILE = "p95"
MAX_METRIC_QUERIES = 20
"""CloudWatch's limit on the metric queries of one alarm."""

TREAT_MISSING_DATA: Mapping[AlertKind, str] = {
    "error-rate": "notBreaching",
    "throttling": "notBreaching",
    "latency": "notBreaching",
    "first-token": "notBreaching",
    "token-burn": "notBreaching",
}
"""No requests means nothing failed, nothing was refused, nothing was slow and nothing was spent (and a
model called without streaming never reports a first token)."""

GRID_WIDTH = 24
PANEL_HEIGHT = 6
FIVE_MINUTES = 300
DAY = 86_400


def metric_threshold(alert: Alert) -> float:
    """The alert's threshold in its metric's unit: seconds become the latency metrics' milliseconds."""
    if alert.kind in ("latency", "first-token"):
        return alert.threshold * MILLISECONDS_PER_SECOND
    return alert.threshold


def _check(alert: Alert, target: BedrockModels) -> None:
    if alert.kind not in KINDS["bedrock"]:
        raise ValueError(
            f"use case {alert.use_case!r}: Bedrock does not back a {alert.kind!r} alert; "
            f"its kinds are {list(KINDS['bedrock'])}"
        )
    if not target.model_ids:
        raise ValueError(f"use case {alert.use_case!r}: BedrockModels names no model_ids; list the models it invokes")


def _metric(name: str, model_id: str, stat: str, period: int) -> dict[str, Any]:
    return {
        "metric_name": name,
        "namespace": NAMESPACE,
        "dimensions": {DIMENSION: model_id},
        "stat": stat,
        "period": period,
    }


def _total(ids: Sequence[str]) -> str:
    """The sum of series `ids`, a model without data in a period counting as zero."""
    return " + ".join(f"FILL({i}, 0)" for i in ids) if len(ids) > 1 else ids[0]


ERROR_RATE_LABEL = "Server errors (% of invocations)"


def error_rate(models: int) -> str:
    """Server errors as a percentage of invocations, series `errors<i>` and `requests<i>` summed over the
    models; a period without invocations has no error rate, so it reads 0 rather than dividing by zero."""
    errors = _total([f"errors{i}" for i in range(models)])
    requests = _total([f"requests{i}" for i in range(models)])
    return f"IF(({requests}) > 0, 100 * ({errors}) / ({requests}), 0)"


def alarm_args(prefix: str, alert: Alert, target: BedrockModels) -> dict[str, Any]:
    """The `aws.cloudwatch.MetricAlarm` arguments that watch `alert` on `target`'s models.

    One model and one metric: the metric itself. Several models, or a rate or a sum of two metrics:
    metric math over `metric_queries` (counts summed, percentiles the worst model's).
    """
    _check(alert, target)
    period = alert.window_seconds
    models = target.model_ids
    args: dict[str, Any] = {
        "name": f"{prefix}-{alert.name}",
        "alarm_description": alert.summary,
        "comparison_operator": "GreaterThanThreshold",
        "evaluation_periods": 1,
        "datapoints_to_alarm": 1,
        "threshold": metric_threshold(alert),
        "treat_missing_data": TREAT_MISSING_DATA[alert.kind],
    }
    percentile = alert.kind in ("latency", "first-token")
    names = METRICS[alert.kind]
    if len(models) == 1 and len(names) == 1:
        return {
            **args,
            "namespace": NAMESPACE,
            "metric_name": names[0],
            "dimensions": {DIMENSION: models[0]},
            "period": period,
            **({"extended_statistic": PERCENTILE} if percentile else {"statistic": "Sum"}),
        }

    queries: list[dict[str, Any]] = []
    if alert.kind == "error-rate":
        for i, model in enumerate(models):
            queries.append(
                {"id": f"errors{i}", "metric": _metric(names[0], model, "Sum", period), "return_data": False}
            )
            queries.append(
                {"id": f"requests{i}", "metric": _metric(names[1], model, "Sum", period), "return_data": False}
            )
        queries.append(
            {"id": "rate", "expression": error_rate(len(models)), "label": ERROR_RATE_LABEL, "return_data": True}
        )
    elif percentile:
        series = [f"{alert.kind.replace('-', '_')}{i}" for i in range(len(models))]
        for i, model in enumerate(models):
            queries.append(
                {"id": series[i], "metric": _metric(names[0], model, PERCENTILE, period), "return_data": False}
            )
        queries.append(
            {
                "id": "worst",
                "expression": f"MAX([{', '.join(series)}])",
                "label": f"Worst model {PERCENTILE}",
                "return_data": True,
            }
        )
    else:
        series = []
        for i, model in enumerate(models):
            for name in names:
                series.append(f"{_query_id(name)}{i}")
                queries.append({"id": series[-1], "metric": _metric(name, model, "Sum", period), "return_data": False})
        queries.append(
            {
                "id": "total",
                "expression": _total(series),
                "label": f"{' + '.join(names)}, all models",
                "return_data": True,
            }
        )
    if len(queries) > MAX_METRIC_QUERIES:
        raise ValueError(
            f"use case {alert.use_case!r}: its {alert.kind} alarm over {len(models)} models needs {len(queries)} "
            f"metric queries, more than CloudWatch's {MAX_METRIC_QUERIES}; split its models across use cases"
        )
    return {**args, "metric_queries": queries}


def _query_id(metric_name: str) -> str:
    """A metric query ID: a lowercase letter first, then letters, digits and underscores."""
    return metric_name[0].lower() + metric_name[1:]


# ---------------------------------------------------------------------------------------- dashboard


def _line(name: str, model_id: str, **options: Any) -> list[Any]:
    return [NAMESPACE, name, DIMENSION, model_id, {"label": f"{model_id} {name}", **options}]


def _panel_metrics(signal: Signal, models: Sequence[str]) -> tuple[list[list[Any]], dict[str, Any]]:
    """A panel's `metrics` array and the widget properties it needs besides."""
    ids = range(len(models))
    if signal == "requests":
        return [_line("Invocations", m, stat="Sum") for m in models], {"period": FIVE_MINUTES}
    if signal == "errors":
        lines: list[list[Any]] = []
        for i, m in zip(ids, models, strict=True):
            lines.append(_line("InvocationServerErrors", m, id=f"errors{i}", stat="Sum", yAxis="right"))
            lines.append(_line("InvocationClientErrors", m, id=f"client{i}", stat="Sum", yAxis="right"))
            lines.append(_line("Invocations", m, id=f"requests{i}", stat="Sum", visible=False))
        lines.append([{"expression": error_rate(len(models)), "label": ERROR_RATE_LABEL, "id": "rate"}])
        return lines, {"period": FIVE_MINUTES, "yAxis": {"left": {"min": 0, "label": "%"}}}
    if signal == "throttles":
        lines = [
            _line("InvocationThrottles", m, id=f"throttles{i}", stat="Sum") for i, m in zip(ids, models, strict=True)
        ]
        if len(models) > 1:
            lines.append([{"expression": _total([f"throttles{i}" for i in ids]), "label": "All models", "id": "total"}])
        return lines, {"period": FIVE_MINUTES}
    if signal in ("latency", "first-token"):
        name = METRICS[PANEL_ALERTS[signal]][0]
        return [_line(name, m, stat=PERCENTILE) for m in models], {
            "period": FIVE_MINUTES,
            "yAxis": {"left": {"min": 0, "label": "ms"}},
        }
    if signal == "tokens":
        lines = []
        for i, m in zip(ids, models, strict=True):
            lines.append(_line("InputTokenCount", m, id=f"input{i}", stat="Sum"))
            lines.append(_line("OutputTokenCount", m, id=f"output{i}", stat="Sum"))
        every = [f"{kind}{i}" for i in ids for kind in ("input", "output")]
        lines.append([{"expression": _total(every), "label": "Tokens per day, all models", "id": "total"}])
        # A day's sum against the daily share of the declared volume: a week of days.
        return lines, {"period": DAY, "start": "-P7D"}
    raise ValueError(f"Bedrock emits no metric for the {signal!r} panel; PANELS['bedrock'] must not list it")


def _widget(use_case: MonitoredUseCase, target: BedrockModels, signal: Signal) -> dict[str, Any]:
    metrics, extra = _panel_metrics(signal, target.model_ids)
    properties: dict[str, Any] = {
        "title": f"{use_case.name}: {TITLES[signal]}",
        "view": "timeSeries",
        "region": target.region,
        "metrics": metrics,
        **extra,
    }
    alert = panel_alert(use_case, signal)
    if alert is not None:
        properties["annotations"] = {
            "horizontal": [{"label": f"{alert.kind} alert ({alert.origin})", "value": metric_threshold(alert)}]
        }
    return {"type": "metric", "properties": properties}


def bedrock_use_cases(use_cases: Sequence[MonitoredUseCase]) -> list[tuple[MonitoredUseCase, BedrockModels]]:
    """The use cases this renderer draws and alerts on: those whose target is `BedrockModels`."""
    return [(u, u.target) for u in use_cases if isinstance(u.target, BedrockModels)]


@dataclass(frozen=True)
class PrometheusCharts:
    """An EKS cluster whose model servers and gateway routes the dashboard draws from its managed Prometheus."""

    cluster: pulumi.Input[str]
    """The cluster's name in EKS, for the rows' headings."""
    function_arn: pulumi.Input[str]
    """`AwsPrometheusCharts.function_arn`: the custom widgets' endpoint, which queries the workspace."""
    gpu_metrics: bool
    """The cluster's GPU metrics reach its Prometheus (`clusters.gpu_metrics_source`): else the GPU panels,
    which would stay empty, are left out."""


def server_panels(target: ModelServer | GatewayRoute, gpu_metrics: bool) -> tuple[Signal, ...]:
    """A model server's (`PANELS[engine]`) or gateway route's (`PANELS["gateway"]`) panels, without the GPU
    ones where no GPU metrics reach the cluster's Prometheus."""
    return tuple(s for s in PANELS[scraped_source(target)] if gpu_metrics or s not in GPU_SIGNALS)


def _custom_widget(use_case: MonitoredUseCase, signal: Signal, endpoint: str) -> dict[str, Any]:
    """A model server's or gateway route's panel: a custom widget whose function runs the panel's PromQL
    (`prometheus.panel`; the workspace holds this cluster's series alone, so no scope) and draws the
    threshold of the alert watching it."""
    target = use_case.target
    assert isinstance(target, ModelServer | GatewayRoute)
    params: dict[str, Any] = {
        "queries": [
            {"name": line.name, "query": line.query, **({"per": line.per} if line.per is not None else {})}
            for line in panel(signal, target)
        ],
        "unit": PANEL_UNITS[signal],
    }
    alert = panel_alert(use_case, signal)
    if alert is not None:
        params["threshold"] = alert.threshold
        params["thresholdLabel"] = f"{alert.kind} alert ({alert.origin})"
    return {
        "type": "custom",
        "properties": {
            "title": f"{use_case.name}: {TITLES[signal]}",
            "endpoint": endpoint,
            "updateOn": {"refresh": True, "resize": True, "timeRange": True},
            "params": params,
        },
    }


def charted_use_cases(
    use_cases: Sequence[MonitoredUseCase], servers: Mapping[str, PrometheusCharts]
) -> list[MonitoredUseCase]:
    """The model servers and gateway routes on a cluster in `servers`, which the dashboard draws."""
    return [u for u in use_cases if on_clusters(u, servers)]


def _heading(y: int, use_case: MonitoredUseCase, what: str) -> dict[str, Any]:
    return {
        "type": "text",
        "x": 0,
        "y": y,
        "width": GRID_WIDTH,
        "height": 1,
        "properties": {"markdown": f"### {use_case.name} ({use_case.pattern}, {use_case.classification}): {what}"},
    }


def dashboard_body(
    region: str, use_cases: Sequence[MonitoredUseCase], servers: Mapping[str, PrometheusCharts] | None = None
) -> dict[str, Any]:
    """The CloudWatch dashboard: a header, then a row per Bedrock use case, a panel per signal; then a row
    per model server or gateway route on an EKS cluster in `servers` (cluster name -> its charts, whose
    `function_arn` is known by now), each panel a custom widget drawing its managed Prometheus series."""
    servers = servers or {}
    charted = charted_use_cases(use_cases, servers)
    drawn = [name for name, rows in (("Amazon Bedrock", bedrock_use_cases(use_cases)), ("EKS", charted)) if rows]
    where = " and ".join(drawn) or "Amazon Bedrock"
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": GRID_WIDTH,
            "height": 2,
            "properties": {
                "markdown": f"## Generative AI use cases on {where} ({region})\n"
                "A row per use case, a panel per signal; a horizontal line is the threshold of the alert "
                "watching that panel."
            },
        }
    ]
    y = 2
    for use_case, target in bedrock_use_cases(use_cases):
        widgets.append(_heading(y, use_case, ", ".join(target.model_ids)))
        y += 1
        panels = PANELS["bedrock"]
        width = GRID_WIDTH // len(panels)
        for column, signal in enumerate(panels):
            widget = _widget(use_case, target, signal)
            widgets.append({**widget, "x": column * width, "y": y, "width": width, "height": PANEL_HEIGHT})
        y += PANEL_HEIGHT
    for use_case in charted:
        server = use_case.target
        assert isinstance(server, ModelServer | GatewayRoute)
        charts = servers[server.cluster]
        endpoint, cluster = charts.function_arn, charts.cluster
        if not isinstance(endpoint, str) or not isinstance(cluster, str):
            raise TypeError("dashboard_body: resolve each PrometheusCharts' function_arn and cluster before drawing")
        widgets.append(_heading(y, use_case, row_detail(server, cluster)))
        y += 1
        panels = server_panels(server, charts.gpu_metrics)
        width = GRID_WIDTH // len(panels)
        for column, signal in enumerate(panels):
            widget = _custom_widget(use_case, signal, endpoint)
            widgets.append({**widget, "x": column * width, "y": y, "width": width, "height": PANEL_HEIGHT})
        y += PANEL_HEIGHT
    return {"start": "-PT12H", "periodOverride": "inherit", "widgets": widgets}


# ---------------------------------------------------------------------------------------- component


def key_policy(account: str, partition: str = "aws", *, prometheus: bool = False) -> str:
    """Account administration, and CloudWatch of this account encrypting the alarm notifications (with
    `prometheus`, also the alert manager of this account's managed Prometheus workspaces)."""
    statements: list[dict[str, Any]] = [account_administration(account, partition)]
    publishers = [("CloudWatchAlarmsEncryptNotifications", ALARM_PUBLISHER)]
    if prometheus:
        publishers.append(("PrometheusAlertManagerEncryptsNotifications", PROMETHEUS_PUBLISHER))
    statements += [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
        for sid, service in publishers
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def prometheus_workspaces(account: str, region: str, partition: str = "aws") -> str:
    """Every managed Prometheus workspace of this account in `region` (the source a channel admits)."""
    return workspace_arn(region, account, "*", partition)


def topic_policy(
    topic_arn: str, account: str, region: str, prefixes: Sequence[str], *, prometheus: bool = False
) -> str:
    """Only this account's CloudWatch alarms named `<prefix>-...` (a prefix per stack whose alarms use the
    channel) publish, and with `prometheus` the alert manager of this account's managed Prometheus
    workspaces in `region`; nothing over plain HTTP."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": ALARM_PUBLISHER},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{p}-*" for p in prefixes]},
            },
        }
    ]
    if prometheus:
        # A workspace is one per cluster and made after the channel (often in another stack), so the
        # channel admits this account's workspaces of its region rather than naming each.
        statements.append(
            {
                "Sid": "PrometheusAlertManagerPublishes",
                "Effect": "Allow",
                "Principal": {"Service": PROMETHEUS_PUBLISHER},
                "Action": ["sns:Publish", "sns:GetTopicAttributes"],
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": prometheus_workspaces(account, region)},
                },
            }
        )
    statements.append(
        {
            "Sid": "DenyPlainHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:*",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass(frozen=True)
class AwsAlertChannelArgs:
    prefix: str
    """Names the topic and the key's alias (`<prefix>-alerts`)."""
    region: str
    """Alarms notify topics of their own region only: the region of the alarms that use it."""
    emails: Sequence[str]
    """`monitoring.notify.email`: each address confirms its subscription once."""
    alarm_prefixes: Sequence[str]
    """The name prefixes of the alarms that may publish (each stack's that uses the channel)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False
    """Protect the topic's key: deleting it would leave the topic unable to deliver anything."""
    prometheus: bool = False
    """Also admit the alert manager of this account's managed Prometheus workspaces in `region`
    (`AwsManagedPrometheus`, one per cluster) to publish to the topic and encrypt with its key."""


class AwsAlertChannel(pulumi.ComponentResource):
    """The environment's AWS alert channel: an encrypted SNS topic only its CloudWatch alarms publish to,
    mailing `emails`."""

    topic: aws_sns.Topic
    key: aws_kms.Key
    topic_arn: pulumi.Output[str]
    policy: aws_sns.TopicPolicy
    """Alarms wait for it: until it exists, CloudWatch may not publish."""

    def __init__(self, name: str, args: AwsAlertChannelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AwsAlertChannel", name, None, tagged(opts, args.tags))
        if not args.emails:
            raise ValueError("monitoring.notify.email: list at least one address to send the AWS alerts to")
        if len({e.lower() for e in args.emails}) != len(args.emails):
            raise ValueError("monitoring.notify.email lists an address twice: list each once")
        if not args.alarm_prefixes:
            raise ValueError(f"{name}: alarm_prefixes is empty: name the stacks whose alarms publish to the channel")
        child = pulumi.ResourceOptions(parent=self)
        account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.key = aws_key(
            f"{name}-key",
            parent=self,
            description=f"Alarm notifications ({args.prefix})",
            policy=account.apply(lambda a: key_policy(a, prometheus=args.prometheus)),
            protect=args.protect,
            alias=physical_name(args.prefix, "alerts", kind="kms_alias"),
        )
        self.topic = aws_sns.Topic(
            f"{name}-topic",
            name=physical_name(args.prefix, "alerts"),
            display_name=f"Triplane alerts ({args.prefix})",
            kms_master_key_id=self.key.arn,
            opts=child,
        )
        prefixes = list(args.alarm_prefixes)
        self.policy = aws_sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, account).apply(
                lambda values: topic_policy(values[0], values[1], args.region, prefixes, prometheus=args.prometheus)
            ),
            opts=child,
        )
        for address in args.emails:
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:8]
            aws_sns.TopicSubscription(
                f"{name}-email-{digest}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )
        self.topic_arn = self.topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})


@dataclass(frozen=True)
class AwsMonitoringArgs:
    prefix: str
    """Names every alarm (`<prefix>-<use case>-<kind>`) and the dashboard."""
    region: str
    """Where the alarms and the Bedrock metrics they watch live (the channel's region)."""
    topic_arn: pulumi.Input[str]
    """The channel (`AwsAlertChannel`, or the platform stack's) every alarm notifies."""
    use_cases: Sequence[MonitoredUseCase]
    """Every use case of the stack; this component alerts on those whose target is `BedrockModels`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    servers: Mapping[str, PrometheusCharts] = field(default_factory=dict)
    """The spec's EKS clusters (by name) with a managed Prometheus and its chart function: each model server
    and gateway route on one gets a dashboard row (its alerts are the workspace's rule groups)."""


class AwsMonitoring(pulumi.ComponentResource):
    """Alarms and a dashboard for the Bedrock use cases, notifying the environment's alert channel."""

    alarms: dict[str, aws_cloudwatch.MetricAlarm]
    """By alert name (`<use case>-<kind>`)."""
    dashboard_name: pulumi.Output[str]

    def __init__(self, name: str, args: AwsMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AwsMonitoring", name, None, tagged(opts, args.tags))
        _validate(args)
        child = pulumi.ResourceOptions(parent=self)
        self.alarms = {}
        for use_case, target in bedrock_use_cases(args.use_cases):
            for alert in use_case.alerts:
                self.alarms[alert.name] = aws_cloudwatch.MetricAlarm(
                    f"{name}-{alert.name}",
                    **alarm_args(args.prefix, alert, target),
                    alarm_actions=[args.topic_arn],
                    ok_actions=[args.topic_arn],
                    tags=alert_tags(use_case, alert),
                    opts=child,
                )
        body: pulumi.Input[str] = json.dumps(dashboard_body(args.region, args.use_cases))
        if args.servers:
            clusters = sorted(args.servers)
            facts = [value for c in clusters for value in (args.servers[c].function_arn, args.servers[c].cluster)]
            body = pulumi.Output.all(*facts).apply(
                lambda known: json.dumps(
                    dashboard_body(
                        args.region,
                        args.use_cases,
                        {
                            c: replace(args.servers[c], function_arn=known[2 * i], cluster=known[2 * i + 1])
                            for i, c in enumerate(clusters)
                        },
                    )
                )
            )
        dashboard = aws_cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=physical_name(args.prefix, "use-cases"),
            dashboard_body=body,
            opts=child,
        )
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"dashboard_name": self.dashboard_name})


def _validate(args: AwsMonitoringArgs) -> None:
    for use_case, target in bedrock_use_cases(args.use_cases):
        if target.region != args.region:
            raise ValueError(
                f"use case {use_case.name!r}: its Bedrock models are watched in {target.region}, but this "
                f"AwsMonitoring (prefix {args.prefix!r}) is in {args.region}; alarms notify topics of their own "
                "region only, so build one AwsMonitoring per Bedrock region"
            )
