"""`AzureMonitoring`: Azure Monitor alerts and a portal dashboard for the Azure OpenAI use cases.

Creates:
- one action group (the environment's notification channel: an email receiver per address, common
  alert schema);
- one metric alert per `Alert` of each use case whose target is `AzureOpenAIDeployments`, scoped to
  its account and acting on the action group;
- one shared portal dashboard: a row per use case, a metrics chart per `PANELS["azure-openai"]`
  signal, each filtered to the use case's deployments.

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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import monitor as azure_monitor
from pulumi_azure_native import portal as azure_portal

from triplane.components.naming import physical_name
from triplane.components.observability.alerts import (
    EMAIL_ADDRESS,
    KINDS,
    MILLISECONDS_PER_SECOND,
    Alert,
    AlertKind,
    AzureOpenAIDeployments,
    MonitoredUseCase,
    Source,
    alert_tags,
)
from triplane.components.observability.signals import PANELS, TITLES, Signal
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


# --- dashboard -----------------------------------------------------------------------------------

AGGREGATION_TYPES: Mapping[str, int] = {"Total": 1, "Minimum": 2, "Maximum": 3, "Average": 4}
"""The portal metrics chart's aggregation codes, as the portal writes them into exported dashboards."""
FILTER_EQUALS = 0
LINE_CHART = 2
CUSTOM_TITLE = 2
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Panel:
    """One chart of a row: the metrics it draws and, if any, the status codes it keeps."""

    metrics: tuple[tuple[str, str, str], ...]
    """(metric, aggregation, label) per line."""
    status_codes: tuple[str, ...] = ()
    split_by: str | None = DEPLOYMENT


PANEL_METRICS: Mapping[Signal, Panel] = {
    "requests": Panel((("AzureOpenAIRequests", "Total", "Requests"),), split_by=STATUS_CODE),
    "errors": Panel((("AzureOpenAIAvailabilityRate", "Average", "Availability % (100 - server error %)"),)),
    "throttles": Panel((("AzureOpenAIRequests", "Total", "Requests answered 429"),), status_codes=(THROTTLED,)),
    "latency": Panel((("AzureOpenAITTLTInMS", PERCENTILE_STAND_IN, "Time to last byte (ms), max"),)),
    "first-token": Panel((("AzureOpenAITimeToResponse", PERCENTILE_STAND_IN, "Time to response (ms), max"),)),
    "tokens": Panel(
        (
            ("ProcessedPromptTokens", "Total", "Input tokens"),
            ("GeneratedTokens", "Total", "Output tokens"),
        ),
        split_by=None,
    ),
}
"""Every signal `PANELS["azure-openai"]` lists, drawn from the metrics the alerts watch."""

LABEL_COLUMNS = 2
PANEL_COLUMNS = 4
ROW_HEIGHT = 3


def _azure_use_cases(use_cases: Sequence[MonitoredUseCase]) -> list[MonitoredUseCase]:
    return [u for u in use_cases if isinstance(u.target, AzureOpenAIDeployments)]


def _title(signal: Signal, use_case: MonitoredUseCase) -> str:
    if signal != "tokens":
        return TITLES[signal]
    budget = next((a.threshold for a in use_case.alerts if a.kind == "token-burn"), None)
    return TITLES[signal] + (f" (alert above {budget:,.0f} a day)" if budget is not None else "")


def _chart(signal: Signal, use_case: MonitoredUseCase, target: AzureOpenAIDeployments) -> dict[str, Any]:
    panel = PANEL_METRICS[signal]
    filters = [{"key": DEPLOYMENT, "operator": FILTER_EQUALS, "values": list(target.deployments)}]
    if panel.status_codes:
        filters.append({"key": STATUS_CODE, "operator": FILTER_EQUALS, "values": list(panel.status_codes)})
    chart: dict[str, Any] = {
        "metrics": [
            {
                "resourceMetadata": {"id": target.account_id},
                "name": metric,
                "aggregationType": AGGREGATION_TYPES[aggregation],
                "namespace": NAMESPACE.lower(),
                "metricVisualization": {"displayName": label},
            }
            for metric, aggregation, label in panel.metrics
        ],
        "title": f"{use_case.name}: {_title(signal, use_case)}",
        "titleKind": CUSTOM_TITLE,
        "visualization": {"chartType": LINE_CHART},
        "timespan": {"relative": {"duration": DAY_MS}, "showUTCTime": False, "grain": 1},
        "filterCollection": {"filters": filters},
    }
    if panel.split_by:
        chart["grouping"] = {"dimension": panel.split_by, "sort": 2, "top": 10}
    return chart


def dashboard_definition(use_cases: Sequence[MonitoredUseCase]) -> dict[str, Any]:
    """The dashboard's `properties` as the portal exports them: a row per Azure OpenAI use case, a chart
    per signal of `PANELS`."""
    parts: list[dict[str, Any]] = []
    for row, use_case in enumerate(_azure_use_cases(use_cases)):
        target = use_case.target
        assert isinstance(target, AzureOpenAIDeployments)
        y = row * ROW_HEIGHT
        label = f"### {use_case.name}\n{use_case.pattern}, {use_case.classification}\n\n" + ", ".join(
            target.deployments
        )
        parts.append(
            {
                "position": {"x": 0, "y": y, "colSpan": LABEL_COLUMNS, "rowSpan": ROW_HEIGHT},
                "metadata": {
                    "type": "Extension/HubsExtension/PartType/MarkdownPart",
                    "inputs": [],
                    "settings": {"content": {"settings": {"content": label, "title": "", "subtitle": ""}}},
                },
            }
        )
        for column, signal in enumerate(PANELS[SOURCE]):
            parts.append(
                {
                    "position": {
                        "x": LABEL_COLUMNS + column * PANEL_COLUMNS,
                        "y": y,
                        "colSpan": PANEL_COLUMNS,
                        "rowSpan": ROW_HEIGHT,
                    },
                    "metadata": {
                        "type": "Extension/HubsExtension/PartType/MonitorChartPart",
                        "inputs": [
                            {"name": "options", "value": {"chart": _chart(signal, use_case, target)}},
                            {"name": "sharedTimeRange", "isOptional": True},
                        ],
                    },
                }
            )
    return {"lenses": [{"order": 0, "parts": parts}], "metadata": {"model": {}}}


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


def _typed_dashboard(definition: dict[str, Any]) -> azure_portal.DashboardPropertiesWithProvisioningStateArgs:
    """`definition` as the SDK's input classes, which name the parts' fields as the API does."""
    return azure_portal.DashboardPropertiesWithProvisioningStateArgs(
        lenses=[
            azure_portal.DashboardLensArgs(
                order=lens["order"],
                parts=[
                    azure_portal.DashboardPartsArgs(
                        position=azure_portal.DashboardPartsPositionArgs(
                            x=part["position"]["x"],
                            y=part["position"]["y"],
                            col_span=part["position"]["colSpan"],
                            row_span=part["position"]["rowSpan"],
                        ),
                        metadata=azure_portal.DashboardPartMetadataArgs(**part["metadata"]),
                    )
                    for part in lens["parts"]
                ],
            )
            for lens in definition["lenses"]
        ],
        metadata=definition["metadata"],
    )


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
    """Names every resource: `<prefix>-<use case>-<kind>`, `<prefix>-dashboard`."""
    resource_group_name: pulumi.Input[str]
    location: str
    """Where the dashboard is stored (metric alerts are global)."""
    action_group_id: pulumi.Input[str]
    """The channel (`AzureAlertChannel`, or the platform stack's) every alert acts on."""
    use_cases: Sequence[MonitoredUseCase]
    """The stack's use cases; those on Azure OpenAI get alerts and a dashboard row."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureMonitoring(pulumi.ComponentResource):
    """The Azure OpenAI use cases' alerts, acting on the environment's action group, and their dashboard."""

    dashboard_id: pulumi.Output[str]
    alert_ids: pulumi.Output[dict[str, str]]
    """By alert name (`<use case>-<kind>`)."""

    def __init__(self, name: str, args: AzureMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AzureMonitoring", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        alerts: dict[str, pulumi.Output[str]] = {}
        use_cases = _azure_use_cases(args.use_cases)
        for use_case in use_cases:
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
        title = f"{args.prefix} Azure OpenAI"
        dashboard = azure_portal.Dashboard(
            f"{name}-dashboard",
            dashboard_name=physical_name(args.prefix, "dashboard"),
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=_typed_dashboard(dashboard_definition(use_cases)),
            tags={"hidden-title": title},
            opts=child,
        )
        self.dashboard_id = dashboard.id
        self.alert_ids = pulumi.Output.all(**alerts) if alerts else pulumi.Output.from_input(dict[str, str]())
        self.register_outputs({"dashboard_id": self.dashboard_id, "alert_ids": self.alert_ids})
