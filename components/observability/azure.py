"""`AzureMonitoring`: Azure Monitor alerts for the Azure OpenAI use cases, and one workbook.

Creates:
- one action group (the environment's notification channel: an email receiver per address, common
  alert schema);
- one metric alert per `Alert` of each use case whose target is `AzureOpenAIDeployments`, scoped to
  its account and acting on the action group;
- one shared Azure workbook (`Microsoft.Insights/workbooks`, kind `shared`): a heading and a row per
  use case, a chart per `PANELS` signal. An Azure OpenAI use case's charts are metrics items on its
  account, filtered to its deployments. A model server's or AI gateway route's, on an AKS cluster
  whose Azure Monitor workspace receives its series (`azure_prometheus`), are PromQL query items on
  that workspace ("Query Prometheus metrics using Azure workbooks", Azure Monitor docs), drawing the
  expressions and thresholds of their alerts (`prometheus.panel`). A portal dashboard cannot chart an
  Azure Monitor workspace; a workbook charts both. The items are laid out as the workbook editor
  saves them (`MetricsItem/2.0`, `KqlItem/1.0` with `queryType` 16 and `PrometheusQueryProvider/1.0`).

The metrics are the account's platform metrics (namespace `Microsoft.CognitiveServices/accounts`), as
"Supported metrics for Microsoft.CognitiveServices/accounts" (Azure Monitor reference) lists them:
`AzureOpenAIRequests` (Count, Total; dimensions `ModelDeploymentName`, `StatusCode`, ...),
`AzureOpenAIAvailabilityRate` (Percent, (total calls - calls answered >= 500) / total calls),
`AzureOpenAITTLTInMS` (time to last byte, ms), `AzureOpenAITimeToResponse` (time to the first
response, ms), `ProcessedPromptTokens`, `GeneratedTokens` and `TokenTransaction` (prompt plus
generated tokens), all Total.

A metric alert evaluates each selected value of a dimension as its own time series ("Monitor multiple
time series in a single metric alert rule", Azure Monitor docs). Rates and latencies are therefore
watched per deployment, which fires whenever the use case as a whole would (its error rate is a
weighted mean of its deployments', its slowest request is one deployment's slowest). Counts summed
over the use case (throttled requests, tokens) are filtered to the deployment when there is one, and
left unfiltered (the account's total) when there are several: Triplane gives each Azure OpenAI use
case its own account, so the account's total is the use case's.

Azure Monitor metrics have no percentiles (aggregations: Average, Minimum, Maximum, Total, Count). The
p95 latency alerts watch the `Maximum` over the window, which is above the p95 whenever the p95 is
above the threshold: they never miss a breach, and also fire on a single slow request.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
from pulumi_azure_native import applicationinsights as azure_insights
from pulumi_azure_native import monitor as azure_monitor

from triplane.components.naming import physical_name
from triplane.components.observability.alerts import (
    EMAIL_ADDRESS,
    KINDS,
    MILLISECONDS_PER_SECOND,
    Alert,
    AlertKind,
    AzureOpenAIDeployments,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    Source,
    alert_tags,
    on_clusters,
    scraped_source,
)
from triplane.components.observability.prometheus import literal, panel, row_detail
from triplane.components.observability.signals import PANELS, TITLES, Signal, panel_alert
from triplane.components.tagging import tagged

NAMESPACE = "Microsoft.CognitiveServices/accounts"
DEPLOYMENT = "ModelDeploymentName"
"""The dimension naming an account's model deployment."""
STATUS_CODE = "StatusCode"
THROTTLED = "429"
"""`AzureOpenAIRequests` answered 429: refused for the deployment's rate or quota limit."""
PERCENTILE_STAND_IN = "Maximum"
"""The aggregation a p95 alert watches: Azure Monitor metrics have no percentiles."""


@dataclass(frozen=True)
class Criterion:
    """What one alert kind watches: a metric of the account, its aggregation and how it compares."""

    metric: str
    aggregation: str
    operator: str
    summed: bool
    """A count over the whole use case (not a rate or a latency a deployment has on its own)."""
    status_codes: tuple[str, ...] = ()
    severity: int = 2


CRITERIA: Mapping[AlertKind, Criterion] = {
    # Server errors as a percentage: error % = 100 - availability %, availability counting >= 500 as failed.
    "error-rate": Criterion("AzureOpenAIAvailabilityRate", "Average", "LessThan", summed=False, severity=1),
    "throttling": Criterion("AzureOpenAIRequests", "Total", "GreaterThan", summed=True, status_codes=(THROTTLED,)),
    # Time to last byte: the whole request, streaming or not.
    "latency": Criterion("AzureOpenAITTLTInMS", PERCENTILE_STAND_IN, "GreaterThan", summed=False),
    # Time until the first response appears, as the service's gateway measures it.
    "first-token": Criterion("AzureOpenAITimeToResponse", PERCENTILE_STAND_IN, "GreaterThan", summed=False),
    # Prompt plus generated tokens ("Processed Inference Tokens").
    "token-burn": Criterion("TokenTransaction", "Total", "GreaterThan", summed=True),
}
"""Every kind `KINDS["azure-openai"]` lists, and nothing else: an account has no queue or GPU."""

WINDOWS: Mapping[int, str] = {
    60: "PT1M", 300: "PT5M", 900: "PT15M", 1800: "PT30M", 3600: "PT1H", 21600: "PT6H", 43200: "PT12H", 86400: "P1D",
}  # fmt: skip
"""The window sizes a metric alert accepts, by their length in seconds."""
HOURLY_FROM = 3600
"""Windows longer than this are evaluated every hour (the longest frequency), shorter ones every minute."""

SOURCE: Source = "azure-openai"
FORBIDDEN_RULE_CHARACTERS = re.compile(r"[*#&+:<>?@%{}\\/]")
"""Characters a metric alert rule's name cannot hold."""


def _window(seconds: int) -> tuple[str, str]:
    """(window size, evaluation frequency) in ISO 8601 for a window of `seconds`."""
    if seconds not in WINDOWS:
        allowed = ", ".join(str(s) for s in WINDOWS)
        raise ValueError(f"a metric alert's window is one of {allowed} seconds, not {seconds}")
    return WINDOWS[seconds], "PT1M" if seconds <= HOURLY_FROM else "PT1H"


def _threshold(alert: Alert) -> float:
    """The spec's threshold in the metric's unit."""
    if alert.kind == "error-rate":
        return 100.0 - alert.threshold
    if alert.kind in ("latency", "first-token"):
        return alert.threshold * MILLISECONDS_PER_SECOND
    return float(alert.threshold)


def series_per_deployment(kind: AlertKind) -> bool:
    """Whether an alert is evaluated per deployment (a time series each, what Azure Monitor bills by)."""
    return not CRITERIA[kind].summed


def _dimensions(criterion: Criterion, target: AzureOpenAIDeployments) -> list[dict[str, Any]]:
    dimensions: list[dict[str, Any]] = []
    if not criterion.summed or len(target.deployments) == 1:
        dimensions.append({"name": DEPLOYMENT, "operator": "Include", "values": list(target.deployments)})
    if criterion.status_codes:
        dimensions.append({"name": STATUS_CODE, "operator": "Include", "values": list(criterion.status_codes)})
    return dimensions


def _description(alert: Alert, criterion: Criterion) -> str:
    """The alert's summary, saying so where Azure's aggregation stands in for the percentile it names."""
    if criterion.aggregation == PERCENTILE_STAND_IN and alert.summary.startswith("p95 "):
        return f"{PERCENTILE_STAND_IN.lower()} {alert.summary.removeprefix('p95 ')} (Azure Monitor has no percentiles)"
    return alert.summary


def metric_alert_args(prefix: str, alert: Alert, target: AzureOpenAIDeployments) -> dict[str, Any]:
    """The arguments of `monitor.MetricAlert` for `alert`, but the resource group and the actions."""
    criterion = CRITERIA.get(alert.kind)
    if criterion is None:
        raise ValueError(
            f"{alert.name}: Azure OpenAI has no metric for a {alert.kind!r} alert; "
            f"its kinds are {', '.join(KINDS[SOURCE])}"
        )
    if not target.deployments:
        raise ValueError(f"{alert.use_case}: name at least one Azure OpenAI deployment to watch")
    name = f"{prefix}-{alert.name}"
    if FORBIDDEN_RULE_CHARACTERS.search(name) or name.endswith((" ", ".")):
        raise ValueError(f"{name!r}: a metric alert name cannot hold * # & + : < > ? @ % {{ }} \\ / or end in a dot")
    window, frequency = _window(alert.window_seconds)
    return {
        "rule_name": name,
        "description": _description(alert, criterion),
        "location": "global",
        "enabled": True,
        "auto_mitigate": True,
        "severity": criterion.severity,
        "scopes": [target.account_id],
        "window_size": window,
        "evaluation_frequency": frequency,
        "criteria": {
            "odata_type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            "all_of": [
                {
                    "criterion_type": "StaticThresholdCriterion",
                    "name": alert.kind,
                    "metric_namespace": NAMESPACE,
                    "metric_name": criterion.metric,
                    "time_aggregation": criterion.aggregation,
                    "operator": criterion.operator,
                    "threshold": _threshold(alert),
                    "dimensions": _dimensions(criterion, target),
                }
            ],
        },
    }


# --- workbook ------------------------------------------------------------------------------------

AGGREGATION_TYPES: Mapping[str, int] = {"Total": 1, "Minimum": 2, "Maximum": 3, "Average": 4}
"""A metrics item's aggregation codes, as the workbook editor writes them (`Total` is its `Sum`)."""
FILTER_EQUALS = 0
WORKBOOK = "Notebook/1.0"
TEXT_ITEM, QUERY_ITEM, METRICS_ITEM = 1, 3, 10
"""Workbook item types: markdown text, a query, a metrics chart."""
PROMETHEUS_QUERY = 16
"""A query item's `queryType` for PromQL against an Azure Monitor workspace."""
LINE_CHART = 2
DAY_MS = 86_400_000
METRIC_NAMESPACE = NAMESPACE.lower()
MONITOR_WORKSPACE = "microsoft.monitor/accounts"
LINE_LABEL = "line"
"""The label a PromQL panel names each of its lines by (the legend), its threshold line included."""


@dataclass(frozen=True)
class Panel:
    """One chart of a row: the metrics it draws and, if any, the status codes it keeps."""

    metrics: tuple[tuple[str, str], ...]
    """(metric, aggregation) per line."""
    status_codes: tuple[str, ...] = ()
    split_by: str | None = DEPLOYMENT


PANEL_METRICS: Mapping[Signal, Panel] = {
    "requests": Panel((("AzureOpenAIRequests", "Total"),), split_by=STATUS_CODE),
    "errors": Panel((("AzureOpenAIAvailabilityRate", "Average"),)),
    "throttles": Panel((("AzureOpenAIRequests", "Total"),), status_codes=(THROTTLED,)),
    "latency": Panel((("AzureOpenAITTLTInMS", PERCENTILE_STAND_IN),)),
    "first-token": Panel((("AzureOpenAITimeToResponse", PERCENTILE_STAND_IN),)),
    "tokens": Panel((("ProcessedPromptTokens", "Total"), ("GeneratedTokens", "Total")), split_by=None),
}
"""Every signal `PANELS["azure-openai"]` lists, drawn from the metrics the alerts watch (errors as
availability, 100 - server error %; latencies as the maximum, the alerts' stand-in for p95)."""

def _azure_use_cases(use_cases: Sequence[MonitoredUseCase]) -> list[MonitoredUseCase]:
    return [u for u in use_cases if isinstance(u.target, AzureOpenAIDeployments)]


def _title(signal: Signal, use_case: MonitoredUseCase) -> str:
    alert = panel_alert(use_case, signal) if signal == "tokens" else None
    return f"{use_case.name}: {TITLES[signal]}" + (f" (alert above {alert.threshold:,.0f} a day)" if alert else "")


def _metrics_chart(signal: Signal, use_case: MonitoredUseCase, target: AzureOpenAIDeployments) -> dict[str, Any]:
    """An Azure OpenAI panel: a metrics item on the account, filtered to the use case's deployments."""
    panel = PANEL_METRICS[signal]
    filters = [{"key": DEPLOYMENT, "operator": FILTER_EQUALS, "values": list(target.deployments)}]
    if panel.status_codes:
        filters.append({"key": STATUS_CODE, "operator": FILTER_EQUALS, "values": list(panel.status_codes)})
    metrics = []
    for metric, aggregation in panel.metrics:
        line: dict[str, Any] = {
            "namespace": METRIC_NAMESPACE,
            "metric": f"{METRIC_NAMESPACE}--{metric}",
            "aggregation": AGGREGATION_TYPES[aggregation],
        }
        if panel.split_by:
            line |= {"splitBy": [panel.split_by], "splitBySortOrder": -1, "splitByLimit": 10}
        metrics.append(line)
    return {
        "version": "MetricsItem/2.0",
        "size": 0,
        "chartType": LINE_CHART,
        "resourceType": METRIC_NAMESPACE,
        "metricScope": 0,
        "resourceIds": [target.account_id],
        "timeContext": {"durationMs": DAY_MS},
        "metrics": metrics,
        "filters": filters,
        "title": _title(signal, use_case),
        "gridSettings": {"rowLimit": 10000},
    }


def _named(query: str, name: str) -> str:
    return f'label_replace({query}, "{LINE_LABEL}", "{name}", "", "")'


def promql_panel(signal: Signal, use_case: MonitoredUseCase) -> str:
    """A model server's or gateway route's panel as one PromQL query (`prometheus.panel`, the series and
    selectors of its alerts, in their units): each line named by `LINE_LABEL` unless it is split per pod,
    and the threshold of the alert watching it as a constant line."""
    target = use_case.target
    assert isinstance(target, ModelServer | GatewayRoute)
    lines = [q.query if q.per else _named(q.query, q.name) for q in panel(signal, target)]
    alert = panel_alert(use_case, signal)
    if alert is not None:
        lines.append(_named(f"vector({literal(alert.threshold)})", f"{alert.kind} alert"))
    return " or ".join(lines)


def _promql_chart(signal: Signal, use_case: MonitoredUseCase, workspace: str) -> dict[str, Any]:
    """A model server's or gateway route's panel: a PromQL query item on its cluster's workspace."""
    query = {
        "version": "PrometheusQueryProvider/1.0",
        "queryText": promql_panel(signal, use_case),
        "type": "query_range",
    }
    return {
        "version": "KqlItem/1.0",
        "query": json.dumps(query),
        "size": 0,
        "title": _title(signal, use_case),
        "timeContext": {"durationMs": DAY_MS},
        "queryType": PROMETHEUS_QUERY,
        "resourceType": MONITOR_WORKSPACE,
        "crossComponentResources": [workspace],
        "visualization": "timechart",
    }


def _heading(use_case: MonitoredUseCase) -> str:
    target = use_case.target
    if isinstance(target, AzureOpenAIDeployments):
        where = ", ".join(target.deployments)
    else:
        assert isinstance(target, ModelServer | GatewayRoute)
        where = row_detail(target, target.cluster)
    return f"### {use_case.name}\n{use_case.pattern}, {use_case.classification}: {where}"


def workbook_definition(
    title: str, use_cases: Sequence[MonitoredUseCase], servers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The workbook (`serializedData`): a heading and a row of charts per use case, in `PANELS` order:
    each Azure OpenAI use case's (metrics items on its account), and each model server's and gateway
    route's on a cluster in `servers` (the spec's cluster name -> its Azure Monitor workspace's resource
    ID), in PromQL. Account IDs must be resolved (strings)."""
    servers = servers or {}
    items: list[dict[str, Any]] = [
        {
            "type": TEXT_ITEM,
            "name": "title",
            "content": {
                "json": f"## {title}\nA row per use case, a chart per signal; a model server's or gateway "
                "route's charts draw their alerts' thresholds as lines."
            },
        }
    ]
    for use_case in use_cases:
        target = use_case.target
        if isinstance(target, AzureOpenAIDeployments):
            signals = PANELS[SOURCE]
        elif on_clusters(use_case, servers):
            assert isinstance(target, ModelServer | GatewayRoute)
            signals = PANELS[scraped_source(target)]
        else:
            continue
        items.append({"type": TEXT_ITEM, "name": use_case.name, "content": {"json": _heading(use_case)}})
        width = str(100 // len(signals))
        for signal in signals:
            if isinstance(target, AzureOpenAIDeployments):
                kind, content = METRICS_ITEM, _metrics_chart(signal, use_case, target)
            else:
                assert isinstance(target, ModelServer | GatewayRoute)
                kind, content = QUERY_ITEM, _promql_chart(signal, use_case, servers[target.cluster])
            items.append({"type": kind, "name": f"{use_case.name}-{signal}", "content": content, "customWidth": width})
    return {"version": WORKBOOK, "items": items, "fallbackResourceIds": ["azure monitor"]}


def workbook_name(prefix: str) -> str:
    """The workbook's resource name: a UUID (as Azure requires), the same for the same prefix."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"triplane:{prefix}:workbook"))


# --- component -----------------------------------------------------------------------------------


def _typed_criteria(args: dict[str, Any]) -> dict[str, Any]:
    """`args` with its criteria as the SDK's input classes: a criteria union given as a plain dict
    reaches the provider with its Python names (`all_of`), not the API's (`allOf`)."""
    criteria = args["criteria"]
    return {
        **args,
        "criteria": azure_monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
            odata_type=criteria["odata_type"],
            all_of=[
                azure_monitor.MetricCriteriaArgs(
                    **{**each, "dimensions": [azure_monitor.MetricDimensionArgs(**d) for d in each["dimensions"]]}
                )
                for each in criteria["all_of"]
            ],
        ),
    }


SHORT_NAME_LENGTH = 12
"""An action group's short name (shown in SMS and email) takes 12 characters."""


def short_name(prefix: str) -> str:
    """`prefix` fitted to an action group's short name: cut, with a hash of the whole, when too long."""
    if len(prefix) <= SHORT_NAME_LENGTH:
        return prefix
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:5]
    return f"{prefix[: SHORT_NAME_LENGTH - len(digest) - 1].rstrip('-')}-{digest}"


@dataclass(frozen=True)
class AzureAlertChannelArgs:
    prefix: str
    """Names the action group (`<prefix>-alerts`) and its short name."""
    resource_group_name: pulumi.Input[str]
    emails: Sequence[str]
    """Who is notified: one email receiver each."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureAlertChannel(pulumi.ComponentResource):
    """The environment's Azure alert channel: one action group mailing `emails`."""

    action_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureAlertChannelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AzureAlertChannel", name, None, tagged(opts, args.tags))
        if not args.emails:
            raise ValueError("monitoring.notify.email: list at least one address to send the Azure alerts to")
        malformed = [e for e in args.emails if not EMAIL_ADDRESS.fullmatch(e)]
        if malformed:
            raise ValueError(f"monitoring.notify.email: {malformed} are not email addresses")
        group = azure_monitor.ActionGroup(
            f"{name}-alerts",
            action_group_name=physical_name(args.prefix, "alerts"),
            group_short_name=short_name(args.prefix),
            resource_group_name=args.resource_group_name,
            location="global",
            enabled=True,
            email_receivers=[
                {"name": f"email-{index}", "email_address": email, "use_common_alert_schema": True}
                for index, email in enumerate(args.emails, start=1)
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.action_group_id = group.id
        self.register_outputs({"action_group_id": self.action_group_id})


@dataclass(frozen=True)
class AzureMonitoringArgs:
    prefix: str
    """Names every resource: `<prefix>-<use case>-<kind>`, the workbook `<prefix> AI use cases`."""
    resource_group_name: pulumi.Input[str]
    location: str
    """Where the workbook is stored (metric alerts are global)."""
    action_group_id: pulumi.Input[str]
    """The channel (`AzureAlertChannel`, or the platform stack's) every alert acts on."""
    use_cases: Sequence[MonitoredUseCase]
    """The stack's use cases; those on Azure OpenAI get alerts and a workbook row."""
    servers: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The spec's cluster name -> its Azure Monitor workspace's resource ID: the model servers and
    gateway routes on these clusters get a workbook row too (their alerts are the workspace's rules)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureMonitoring(pulumi.ComponentResource):
    """The Azure OpenAI use cases' alerts, acting on the environment's action group, and the workbook of
    every use case Azure Monitor holds the signals of."""

    workbook_id: pulumi.Output[str] | None
    """None when no use case is on Azure OpenAI or on a cluster in `servers`."""
    alert_ids: pulumi.Output[dict[str, str]]
    """By alert name (`<use case>-<kind>`)."""

    def __init__(self, name: str, args: AzureMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AzureMonitoring", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        alerts: dict[str, pulumi.Output[str]] = {}
        for use_case in _azure_use_cases(args.use_cases):
            target = use_case.target
            assert isinstance(target, AzureOpenAIDeployments)
            for alert in use_case.alerts:
                alerts[alert.name] = azure_monitor.MetricAlert(
                    f"{name}-{alert.name}",
                    resource_group_name=args.resource_group_name,
                    actions=[{"action_group_id": args.action_group_id}],
                    tags=alert_tags(use_case, alert),
                    **_typed_criteria(metric_alert_args(args.prefix, alert, target)),
                    opts=child,
                ).id
        self.workbook_id = None
        drawn = [
            u for u in args.use_cases if isinstance(u.target, AzureOpenAIDeployments) or on_clusters(u, args.servers)
        ]
        if drawn:
            title = f"{args.prefix} AI use cases"
            accounts = {u.name: u.target.account_id for u in drawn if isinstance(u.target, AzureOpenAIDeployments)}

            def serialized(ids: dict[str, Any]) -> str:
                resolved = [
                    replace(u, target=replace(u.target, account_id=ids["accounts"][u.name]))
                    if isinstance(u.target, AzureOpenAIDeployments)
                    else u
                    for u in drawn
                ]
                return json.dumps(workbook_definition(title, resolved, ids["servers"]))

            workbook = azure_insights.Workbook(
                f"{name}-workbook",
                resource_name_=workbook_name(args.prefix),
                resource_group_name=args.resource_group_name,
                location=args.location,
                kind="shared",
                category="workbook",
                display_name=title,
                source_id="azure monitor",
                serialized_data=pulumi.Output.all(accounts=accounts, servers=dict(args.servers)).apply(serialized),
                opts=child,
            )
            self.workbook_id = workbook.id
        self.alert_ids = pulumi.Output.all(**alerts) if alerts else pulumi.Output.from_input(dict[str, str]())
        self.register_outputs({"workbook_id": self.workbook_id, "alert_ids": self.alert_ids})
