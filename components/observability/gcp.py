"""GcpMonitoring: Cloud Monitoring alert policies and a dashboard for the Vertex AI use cases of a project.

Creates, in one project: an email notification channel per address; one alert policy per alert of
each use case whose target is `VertexModels`, every policy notifying every channel; and one
dashboard with a row per such use case, its panels in `signals.PANELS["vertex"]` order, each chart
drawing its alert's threshold. A model server or AI gateway route on a GKE cluster named in `servers`
gets its row too, in `PANELS[engine]` (or `PANELS["gateway"]`) order, drawn in PromQL over Managed
Service for Prometheus (the series and selectors of its alerts, `prometheus.panel`; its alerts are
`gcp_prometheus`'s). Every
resource names its `project`, so the stack's API transformation (`components.gcp_apis`, module
`monitoring` -> `monitoring.googleapis.com`) makes it wait for the Cloud Monitoring API, as every
other Google Cloud resource waits for its own.

The metrics are Vertex AI's publisher-model metrics, on the monitored resource
`aiplatform.googleapis.com/PublisherModel` (labels `resource_container`, `location`, `publisher`,
`model_user_id`, `model_version_id`), as listed under "aiplatform" in
https://cloud.google.com/monitoring/api/metrics_gcp_a_b and in
https://cloud.google.com/monitoring/api/resources:
- `publisher/online_serving/model_invocation_count` (DELTA, INT64, label `response_code`),
- `publisher/online_serving/model_invocation_latencies` (DELTA, DISTRIBUTION, ms),
- `publisher/online_serving/first_token_latencies` (DELTA, DISTRIBUTION, ms),
- `publisher/online_serving/token_count` (DELTA, INT64, label `type`: input / output).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_gcp import monitoring as gcp_monitoring

from triplane.components.naming import physical_name
from triplane.components.observability.alerts import (
    EMAIL_ADDRESS,
    MILLISECONDS_PER_SECOND,
    WINDOW_SECONDS,
    Alert,
    AlertKind,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    VertexModels,
    alert_tags,
    on_clusters,
    scraped_source,
)
from triplane.components.observability.gcp_prometheus import GMP_GPU, GkeScope
from triplane.components.observability.prometheus import PANEL_UNITS, panel, row_detail
from triplane.components.observability.signals import PANEL_ALERTS, PANELS, TITLES, Signal, panel_alert
from triplane.components.tagging import gcp_labels, tagged

PUBLISHER_MODEL = "aiplatform.googleapis.com/PublisherModel"
_METRICS = "aiplatform.googleapis.com/publisher/online_serving"
INVOCATIONS = f"{_METRICS}/model_invocation_count"
LATENCIES = f"{_METRICS}/model_invocation_latencies"
FIRST_TOKEN = f"{_METRICS}/first_token_latencies"
TOKENS = f"{_METRICS}/token_count"

SERVER_ERRORS = 'metric.labels.response_code = monitoring.regex.full_match("5[0-9][0-9]")'
THROTTLED = 'metric.labels.response_code = "429"'
"""Vertex AI answers a request over quota with 429 (RESOURCE_EXHAUSTED); see
https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429."""
INPUT_AND_OUTPUT = 'metric.labels.type = monitoring.regex.full_match("input|output")'

MAX_ALERT_ALIGNMENT_SECONDS = 90_000
"""The longest alignment period an alert policy accepts (25 hours; `Aggregation.alignment_period` in
the Monitoring API): a day's token sum fits in one alignment period, so token burn compares the
day's total with the daily threshold as it stands."""

MAX_FILTER_CHARS = 2048
"""A condition's filter may not exceed 2048 characters (`MetricThreshold.filter`)."""
DASHBOARD_COLUMNS = 48
HEADER_HEIGHT = 4
PANEL_HEIGHT = 16

SEVERITY: Mapping[AlertKind, str] = {
    "error-rate": "ERROR",
    "throttling": "WARNING",
    "latency": "WARNING",
    "first-token": "WARNING",
    "token-burn": "WARNING",
}
"""Cloud Monitoring severities: failing requests are errors; slowness, quota and spend are warnings."""



@dataclass(frozen=True)
class Query:
    """One series selection: the filter and the aggregation an alert and its chart share."""

    filter: str
    aligner: str
    reducer: str
    period_seconds: int
    group_by: tuple[str, ...] = ()
    denominator_filter: str | None = None
    """With a denominator, the value is the ratio filter / denominator_filter (both aggregated alike)."""

    def aggregation(self) -> dict[str, Any]:
        """The aggregation as alert policy arguments (`pulumi_gcp` names)."""
        aggregation: dict[str, Any] = {
            "alignment_period": f"{self.period_seconds}s",
            "per_series_aligner": self.aligner,
            "cross_series_reducer": self.reducer,
        }
        if self.group_by:
            aggregation["group_by_fields"] = list(self.group_by)
        return aggregation

    def dashboard_aggregation(self) -> dict[str, Any]:
        """The same aggregation as dashboard JSON (the Monitoring API's names)."""
        aggregation: dict[str, Any] = {
            "alignmentPeriod": f"{self.period_seconds}s",
            "perSeriesAligner": self.aligner,
            "crossSeriesReducer": self.reducer,
        }
        if self.group_by:
            aggregation["groupByFields"] = list(self.group_by)
        return aggregation


def metric_filter(metric: str, target: VertexModels, *extra: str) -> str:
    """`metric` of the target's models in its region, narrowed by `extra` clauses."""
    clauses = [
        f'metric.type = "{metric}"',
        f'resource.type = "{PUBLISHER_MODEL}"',
        f'resource.labels.location = "{target.region}"',
        _any_model(target.models),
        *extra,
    ]
    return " AND ".join(clauses)


def model_clause(model: str) -> str:
    """One model as the resource labels name it: a spec ID `[publisher/]model[@version]` sets
    `publisher`, `model_user_id` and `model_version_id` as far as it goes."""
    publisher, _, rest = model.rpartition("/")
    name, _, version = rest.partition("@")
    clauses = [f'resource.labels.model_user_id = "{name}"']
    if publisher:
        clauses.insert(0, f'resource.labels.publisher = "{publisher}"')
    if version:
        clauses.append(f'resource.labels.model_version_id = "{version}"')
    return clauses[0] if len(clauses) == 1 else "(" + " AND ".join(clauses) + ")"


def _any_model(models: Sequence[str]) -> str:
    matches = [model_clause(model) for model in models]
    return matches[0] if len(matches) == 1 else "(" + " OR ".join(matches) + ")"


_PER_MODEL = ("resource.labels.model_user_id",)
PER_MODEL_SIGNALS: frozenset[Signal] = frozenset({"requests", "latency", "first-token"})
"""Signals read as a series per model (a model's p95 is its own); the others as one sum."""


def _by_model(signal: Signal) -> tuple[str, ...]:
    return _PER_MODEL if signal in PER_MODEL_SIGNALS else ()


def series_per_model(kind: AlertKind) -> bool:
    """Whether an alert's condition returns a series per model (what Cloud Monitoring bills by)."""
    return _ALERT_SIGNALS[kind] in PER_MODEL_SIGNALS


def query(signal: Signal, target: VertexModels, period_seconds: int) -> Query:
    """The series a signal reads for a target's models, aligned over `period_seconds`.

    Counts are summed per period (ALIGN_DELTA on a DELTA metric). Latencies merge every series of a
    model (the metric splits them by token-size buckets) into one distribution before taking its
    95th percentile, so a model's p95 is of all its requests, not the worst bucket's.
    """
    if signal == "requests":
        return Query(metric_filter(INVOCATIONS, target), "ALIGN_DELTA", "REDUCE_SUM", period_seconds, _by_model(signal))
    if signal == "errors":
        return Query(
            metric_filter(INVOCATIONS, target, SERVER_ERRORS), "ALIGN_DELTA", "REDUCE_SUM", period_seconds,
            denominator_filter=metric_filter(INVOCATIONS, target),
        )  # fmt: skip
    if signal == "throttles":
        return Query(metric_filter(INVOCATIONS, target, THROTTLED), "ALIGN_DELTA", "REDUCE_SUM", period_seconds)
    if signal == "latency":
        return Query(
            metric_filter(LATENCIES, target), "ALIGN_DELTA", "REDUCE_PERCENTILE_95", period_seconds, _by_model(signal)
        )
    if signal == "first-token":
        return Query(
            metric_filter(FIRST_TOKEN, target), "ALIGN_DELTA", "REDUCE_PERCENTILE_95", period_seconds, _by_model(signal)
        )
    if signal == "tokens":
        return Query(metric_filter(TOKENS, target, INPUT_AND_OUTPUT), "ALIGN_DELTA", "REDUCE_SUM", period_seconds)
    raise ValueError(f"Vertex AI publisher models emit no {signal!r} signal (signals.PANELS['vertex'] lists it)")


_ALERT_SIGNALS: Mapping[AlertKind, Signal] = {kind: signal for signal, kind in PANEL_ALERTS.items()}


def threshold_value(alert: Alert) -> float:
    """The alert's threshold in its metric's unit: a ratio for error rate, ms for latencies."""
    if alert.kind == "error-rate":
        return alert.threshold / 100
    if alert.kind in ("latency", "first-token"):
        return alert.threshold * MILLISECONDS_PER_SECOND
    if alert.kind in ("throttling", "token-burn"):
        return alert.threshold
    raise ValueError(
        f"alert {alert.name}: Vertex AI publisher models emit no metric for {alert.kind!r} "
        f"(alerts.KINDS['vertex'] lists {', '.join(SEVERITY)})"
    )


def alert_policy_args(prefix: str, alert: Alert, target: VertexModels) -> dict[str, Any]:
    """The `gcp.monitoring.AlertPolicy` arguments of one alert (without channels, project and labels)."""
    value = threshold_value(alert)
    if alert.window_seconds > MAX_ALERT_ALIGNMENT_SECONDS:
        raise ValueError(
            f"alert {alert.name}: a {alert.window_seconds} s window exceeds Cloud Monitoring's "
            f"{MAX_ALERT_ALIGNMENT_SECONDS} s alignment limit"
        )
    selected = query(_ALERT_SIGNALS[alert.kind], target, alert.window_seconds)
    for text in (selected.filter, selected.denominator_filter or ""):
        if len(text) > MAX_FILTER_CHARS:
            raise ValueError(
                f"alert {alert.name}: its filter over {len(target.models)} models is {len(text)} characters, "
                f"more than Cloud Monitoring's {MAX_FILTER_CHARS}: split the use case's models"
            )
    threshold: dict[str, Any] = {
        "filter": selected.filter,
        "aggregations": [selected.aggregation()],
        "comparison": "COMPARISON_GT",
        "threshold_value": value,
        # The alignment period is the alert's whole window, so one aligned value above the
        # threshold is the condition; holding it longer would lengthen the window.
        "duration": "0s",
        "trigger": {"count": 1},
    }
    if selected.denominator_filter is not None:
        threshold["denominator_filter"] = selected.denominator_filter
        threshold["denominator_aggregations"] = [selected.aggregation()]
    name = physical_name(prefix, alert.name, kind="gcp")
    return {
        "display_name": name,
        "combiner": "OR",
        "severity": SEVERITY[alert.kind],
        "conditions": [{"display_name": f"{alert.use_case}: {alert.summary}", "condition_threshold": threshold}],
        "documentation": {
            "content": alert.summary,
            "mime_type": "text/markdown",
            "subject": f"{name}: {alert.summary}",
        },
    }


def vertex_use_cases(use_cases: Sequence[MonitoredUseCase]) -> list[MonitoredUseCase]:
    """The use cases this component watches: those served by Vertex AI publisher models."""
    return [use_case for use_case in use_cases if isinstance(use_case.target, VertexModels)]


def _target(use_case: MonitoredUseCase) -> VertexModels:
    if not isinstance(use_case.target, VertexModels):
        raise TypeError(f"use case {use_case.name} is not served by Vertex AI")
    return use_case.target


_Y_LABELS: Mapping[Signal, str] = {
    "requests": "requests per 5 min",
    "errors": "server error ratio",
    "throttles": "throttled per 5 min",
    "latency": "ms",
    "first-token": "ms",
    "tokens": "tokens per day",
}


def _panel_period(signal: Signal) -> int:
    """A panel aligns as its alert does, so the line it draws is in the chart's unit; requests per 5 min."""
    kind = PANEL_ALERTS.get(signal)
    return WINDOW_SECONDS["throttling"] if kind is None else WINDOW_SECONDS[kind]


def _chart(use_case: MonitoredUseCase, signal: Signal) -> dict[str, Any]:
    target = _target(use_case)
    selected = query(signal, target, _panel_period(signal))
    if selected.denominator_filter is not None:
        series: dict[str, Any] = {
            "timeSeriesFilterRatio": {
                "numerator": {"filter": selected.filter, "aggregation": selected.dashboard_aggregation()},
                "denominator": {"filter": selected.denominator_filter, "aggregation": selected.dashboard_aggregation()},
            }
        }
    elif signal == "tokens":
        # Input and output stacked, so the bar's height is the day's total the token-burn line judges.
        by_type = Query(
            selected.filter, selected.aligner, selected.reducer, selected.period_seconds, ("metric.labels.type",)
        )
        series = {"timeSeriesFilter": {"filter": by_type.filter, "aggregation": by_type.dashboard_aggregation()}}
    else:
        series = {"timeSeriesFilter": {"filter": selected.filter, "aggregation": selected.dashboard_aggregation()}}
    chart: dict[str, Any] = {
        "dataSets": [
            {
                "timeSeriesQuery": series,
                "plotType": "STACKED_BAR" if signal == "tokens" else "LINE",
                "minAlignmentPeriod": f"{selected.period_seconds}s",
            }
        ],
        "yAxis": {"label": _Y_LABELS[signal], "scale": "LINEAR"},
    }
    alert = panel_alert(use_case, signal)
    if alert is not None:
        chart["thresholds"] = [
            {
                "label": f"{alert.kind} alert",
                "value": threshold_value(alert),
                "color": "RED",
                "direction": "ABOVE",
                "targetAxis": "Y1",
            }
        ]
    return chart


def _server_chart(use_case: MonitoredUseCase, signal: Signal, scope: GkeScope) -> dict[str, Any]:
    """A model server's or gateway route's panel: the PromQL of its alerts (`prometheus.panel`), on this
    cluster's series in Managed Service for Prometheus."""
    target = use_case.target
    assert isinstance(target, ModelServer | GatewayRoute)
    data_sets = []
    for line in panel(signal, target, scope=scope.matchers(), gpu=GMP_GPU):
        data_set: dict[str, Any] = {
            "timeSeriesQuery": {"prometheusQuery": line.query},
            "plotType": "STACKED_BAR" if signal == "tokens" else "LINE",
            "legendTemplate": f"${{{line.per}}}" if line.per is not None else line.name,
            "targetAxis": "Y1",
        }
        data_sets.append(data_set)
    chart: dict[str, Any] = {"dataSets": data_sets, "yAxis": {"label": PANEL_UNITS[signal], "scale": "LINEAR"}}
    alert = panel_alert(use_case, signal)
    if alert is not None:
        chart["thresholds"] = [
            {
                "label": f"{alert.kind} alert",
                "value": alert.threshold,
                "color": "RED",
                "direction": "ABOVE",
                "targetAxis": "Y1",
            }
        ]
    return chart


def _row(use_case: MonitoredUseCase, servers: Mapping[str, GkeScope]) -> tuple[tuple[Signal, ...], str] | None:
    """The panels and header of a use case's row, or None where this dashboard does not draw it."""
    target = use_case.target
    if isinstance(target, VertexModels):
        return PANELS["vertex"], f"{', '.join(target.models)} in {target.region}"
    if isinstance(target, ModelServer | GatewayRoute) and target.cluster in servers:
        return PANELS[scraped_source(target)], row_detail(target, servers[target.cluster].cluster)
    return None


def dashboard_json(
    project: str,
    use_cases: Sequence[MonitoredUseCase],
    display_name: str | None = None,
    servers: Mapping[str, GkeScope] | None = None,
) -> dict[str, Any]:
    """The Cloud Monitoring dashboard: a header and a row of charts per use case, in `PANELS` order: each
    Vertex use case's, and each model server's on a GKE cluster in `servers` (the spec's cluster name ->
    its series in Managed Service for Prometheus), drawn in PromQL."""
    servers = servers or {}
    tiles: list[dict[str, Any]] = []
    y = 0
    for use_case in use_cases:
        row = _row(use_case, servers)
        if row is None:
            continue
        panels, where = row
        width = DASHBOARD_COLUMNS // len(panels)
        tiles.append({
            "xPos": 0, "yPos": y, "width": DASHBOARD_COLUMNS, "height": HEADER_HEIGHT,
            "widget": {
                "title": use_case.name,
                "sectionHeader": {
                    "subtitle": f"{use_case.pattern}, {use_case.classification}: {where}",
                    "dividerBelow": True,
                },
            },
        })  # fmt: skip
        y += HEADER_HEIGHT
        for column, signal in enumerate(panels):
            if isinstance(use_case.target, ModelServer | GatewayRoute):
                chart = _server_chart(use_case, signal, servers[use_case.target.cluster])
            else:
                chart = _chart(use_case, signal)
            tiles.append({
                "xPos": column * width, "yPos": y, "width": width, "height": PANEL_HEIGHT,
                "widget": {"title": f"{use_case.name}: {TITLES[signal]}", "xyChart": chart},
            })  # fmt: skip
        y += PANEL_HEIGHT
    return {
        "displayName": display_name or f"AI use cases ({project})",
        "mosaicLayout": {"columns": DASHBOARD_COLUMNS, "tiles": tiles},
    }


@dataclass(frozen=True)
class GcpAlertChannelArgs:
    name_prefix: str
    project: str
    """The project the channels live in (the alert policies' project)."""
    emails: Sequence[str]
    """Who is told: one email notification channel each."""
    tags: Mapping[str, str] = field(default_factory=dict)


class GcpAlertChannel(pulumi.ComponentResource):
    """The environment's Google Cloud alert channel: an email notification channel per address."""

    channel_names: list[pulumi.Output[str]]
    """`projects/<project>/notificationChannels/<id>` of each email channel."""

    def __init__(self, name: str, args: GcpAlertChannelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _check_emails(args.emails)
        super().__init__("triplane:observability:GcpAlertChannel", name, None, tagged(opts, args.tags))
        # `tagged` labels the channels through their `user_labels`; a channel's `labels` are its settings.
        channels = [
            gcp_monitoring.NotificationChannel(
                f"{name}-email-{hashlib.sha256(address.lower().encode()).hexdigest()[:8]}",
                project=args.project,
                type="email",
                display_name=f"{args.name_prefix} alerts: {address}",
                labels={"email_address": address},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for address in args.emails
        ]
        self.channel_names = [channel.name for channel in channels]
        self.register_outputs({"channel_names": self.channel_names})


@dataclass(frozen=True)
class GcpMonitoringArgs:
    name_prefix: str
    """The stack's prefix: policy and dashboard names start with it."""
    project: str
    """The project the policies and dashboard live in; every Vertex use case's metrics are there."""
    channels: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The channel (`GcpAlertChannel`'s names, or the platform stack's) every policy notifies."""
    use_cases: Sequence[MonitoredUseCase]
    """All monitored use cases; those whose target is `VertexModels` get alerts and a dashboard row."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """`tagging.standard_tags`: the labels of every policy and dashboard (a policy's own `use-case`,
    `pattern`, `data-classification` and `alert` are its use case's)."""
    servers: Mapping[str, GkeScope] = field(default_factory=dict)
    """The spec's GKE clusters (by name) whose model servers Managed Service for Prometheus holds: each
    server on one gets a dashboard row (its alerts are `gcp_prometheus.GcpPrometheusAlerts`')."""


def _check_emails(emails: Sequence[str]) -> None:
    if not emails:
        raise ValueError("monitoring.notify.email: list at least one address to send the Google Cloud alerts to")
    for index, address in enumerate(emails):
        if not EMAIL_ADDRESS.fullmatch(address):
            raise ValueError(f"monitoring.notify.email[{index}]: {address!r} is not an email address")
    if len({e.lower() for e in emails}) != len(emails):
        raise ValueError("monitoring.notify.email lists an address twice: list each once")


def _check(args: GcpMonitoringArgs) -> None:
    for use_case in vertex_use_cases(args.use_cases):
        target = _target(use_case)
        if target.project != args.project:
            raise ValueError(
                f"use case {use_case.name}: its Vertex AI models run in project {target.project}, but "
                f"GcpMonitoringArgs.project is {args.project}: monitor each project with its own GcpMonitoring"
            )
        if not target.models:
            raise ValueError(f"use case {use_case.name}: VertexModels.models is empty: name the models it invokes")
    for cluster, scope in args.servers.items():
        if scope.project != args.project:
            raise ValueError(
                f"cluster {cluster}: its series are in project {scope.project}, but GcpMonitoringArgs.project is "
                f"{args.project}: the dashboard reads only its own project's metrics scope"
            )


class GcpMonitoring(pulumi.ComponentResource):
    """An alert policy per Vertex alert, notifying the environment's channels, and a dashboard."""

    policies: dict[str, gcp_monitoring.AlertPolicy]
    """By alert name (`<use case>-<kind>`)."""
    dashboard: gcp_monitoring.Dashboard | None
    """None when no use case is served by Vertex AI or by a model server on a cluster in `servers`."""

    def __init__(self, name: str, args: GcpMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        _check(args)
        super().__init__("triplane:observability:GcpMonitoring", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        self.policies = {}
        watched = vertex_use_cases(args.use_cases)
        for use_case in watched:
            for alert in use_case.alerts:
                self.policies[alert.name] = gcp_monitoring.AlertPolicy(
                    f"{name}-{alert.name}",
                    project=args.project,
                    notification_channels=args.channels,
                    user_labels=gcp_labels(alert_tags(use_case, alert)),
                    opts=child,
                    **alert_policy_args(args.name_prefix, alert, _target(use_case)),
                )
        self.dashboard = None
        drawn = [u for u in args.use_cases if isinstance(u.target, VertexModels) or on_clusters(u, args.servers)]
        if drawn:
            layout = dashboard_json(
                args.project, drawn, display_name=f"{args.name_prefix} AI use cases", servers=args.servers
            )
            layout["labels"] = gcp_labels(dict(args.tags))
            self.dashboard = gcp_monitoring.Dashboard(
                f"{name}-dashboard", project=args.project, dashboard_json=json.dumps(layout, sort_keys=True), opts=child
            )
        self.register_outputs({"dashboard_id": self.dashboard.id if self.dashboard is not None else None})
