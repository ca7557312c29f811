"""The picture of an environment's monitoring dashboards, drawn from their planned definitions.

A stack with `monitoring` plans one dashboard per cloud whose managed service serves a use case: a
CloudWatch dashboard (`dashboardBody`), an Azure workbook (`serializedData`) and a Cloud Monitoring
dashboard (`dashboardJson`). `dashboards` reads each planned definition, not the spec, into one neutral
model: the dashboard's title, then a row per use case (its heading), each with its panels in their
order (the panel's title, the metrics it plots, the alert threshold it draws). So the picture shows
what would be deployed, and a definition this reader does not understand is an error, not a gap.

`d2_source` lays the model out as D2 grids (a box per dashboard, a row per use case, a box per panel);
`triplane.decide.diagram.render` draws it with the `d2` binary, as it draws the architecture.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal

from triplane.components.observability.azure import (
    AGGREGATION_TYPES,
    DEPLOYMENT,
    FILTER_EQUALS,
    LINE_LABEL,
    METRICS_ITEM,
    PROMETHEUS_QUERY,
    QUERY_ITEM,
    TEXT_ITEM,
)
from triplane.decide.diagram import d2_quote
from triplane.plan import Plan, PlannedResource, reveal
from triplane.stacks.spec import Environment, SpecError

ALERT_STROKE = "#c62828"


class DashboardError(Exception):
    """A planned dashboard definition is not laid out as this reader understands it."""


# --- the neutral model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One line a panel plots."""

    name: str
    """The full metric name (`AWS/Bedrock/InvocationLatency`, a Cloud Monitoring metric type), or a
    metric-math expression's label."""
    statistic: str = ""
    """As the definition names it: `p95`, `Sum`, `Total`, `sum`..."""
    where: str = ""
    """A label filter narrowing the metric (`StatusCode = 429`); the use case's own models or deployments
    are not repeated here."""
    role: Literal["metric", "math", "denominator"] = "metric"
    """A metric; an expression over the panel's metrics; or the metric the one before it is divided by."""

    def text(self, prefix: str = "") -> str:
        """The line as the picture shows it, `prefix` (a namespace all the dashboard's metrics share) left out."""
        if self.role == "math":
            return f"= {self.name}"
        name = self.name.removeprefix(prefix)
        line = f"{name} {self.statistic}".strip() + (f" ({self.where})" if self.where else "")
        return f"/ {line}" if self.role == "denominator" else line


@dataclass(frozen=True)
class Threshold:
    """A horizontal line the definition draws on a panel: an alert's threshold in the metric's unit."""

    value: float
    unit: str
    """The axis label of the line's axis, where the definition names one."""
    above: bool | None
    """True: the area above the line is the alert's; False: below; None: the definition draws only the line."""
    label: str = ""

    def text(self) -> str:
        value = f"{self.value:,.0f}" if float(self.value).is_integer() else f"{self.value:g}"
        relation = {True: ">", False: "<", None: "at"}[self.above]
        return f"alert {relation} {value} {self.unit}".rstrip()


@dataclass(frozen=True)
class Panel:
    title: str
    metrics: tuple[Metric, ...]
    thresholds: tuple[Threshold, ...] = ()


@dataclass(frozen=True)
class Row:
    """A use case's row: its heading and its panels, left to right."""

    use_case: str
    detail: str
    """The rest of the heading: pattern, data classification, models."""
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    """One planned dashboard, as its definition lays it out."""

    cloud: str
    kind: str
    """`CloudWatch dashboard`, `Azure workbook`, `Cloud Monitoring dashboard`."""
    name: str
    title: str
    """As the console shows it: the definition's heading or the display name."""
    rows: tuple[Row, ...]
    resource: str
    """The planned resource's name (`prod-aws-monitoring-dashboard`), for messages."""


# --- reading the definitions -------------------------------------------------------------------


def _need(value: Any, kind: type | UnionType, where: str, what: str) -> Any:
    """`value`, if it has the shape the reader expects; otherwise an error naming where it is."""
    if not isinstance(value, kind):
        raise DashboardError(f"{where}: {what} is not {getattr(kind, '__name__', kind)} ({value!r:.80})")
    return value


class _Rows:
    """Rows opened by headings, panels added to the last one, in the layout's reading order."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.rows: list[tuple[str, str, list[Panel]]] = []

    def heading(self, use_case: str, detail: str) -> None:
        if not use_case:
            raise DashboardError(f"{self.where}: a use case heading names no use case")
        self.rows.append((use_case, detail, []))

    def panel(self, panel: Panel) -> None:
        if not self.rows:
            raise DashboardError(f"{self.where}: panel {panel.title!r} comes before any use case's heading")
        self.rows[-1][2].append(panel)

    def done(self) -> tuple[Row, ...]:
        if not self.rows:
            raise DashboardError(f"{self.where}: the definition has no use case row")
        empty = [name for name, _, panels in self.rows if not panels]
        if empty:
            raise DashboardError(f"{self.where}: the row of {', '.join(empty)} has no panel")
        return tuple(Row(name, detail, tuple(panels)) for name, detail, panels in self.rows)


def _json_input(resource: PlannedResource, key: str) -> dict[str, Any]:
    where = f"{resource.name} ({resource.type})"
    text = _need(reveal(resource.inputs).get(key), str, where, f"input {key}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DashboardError(f"{where}: input {key} is not JSON ({error})") from None
    return _need(document, dict, where, f"input {key}")


# CloudWatch: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html

_AWS_HEADING = re.compile(r"^### (?P<use_case>[^\s(]+) \((?P<detail>[^)]*)\): (?P<models>.+)$")
CLOUDWATCH_DEFAULT_STAT = "Average"
"""A metric widget's statistic when neither the line nor the widget names one."""


def _cloudwatch_metrics(properties: Mapping[str, Any], where: str) -> tuple[Metric, ...]:
    found: list[Metric] = []
    for line in _need(properties.get("metrics"), list, where, "metrics"):
        _need(line, list, where, "a metrics entry")
        options = line[-1] if line and isinstance(line[-1], dict) else {}
        parts = line[:-1] if options else line
        if options.get("visible") is False:
            continue  # a series only an expression reads
        if "expression" in options:
            found.append(Metric(str(options.get("label") or options["expression"]), role="math"))
            continue
        if len(parts) < 2 or not all(isinstance(p, str) for p in parts) or parts[0] in (".", "..."):
            raise DashboardError(
                f"{where}: metrics entry {line!r:.120} is not [namespace, metric, dimensions..., options]"
            )
        statistic = str(options.get("stat") or properties.get("stat") or CLOUDWATCH_DEFAULT_STAT)
        metric = Metric(f"{parts[0]}/{parts[1]}", statistic)
        if metric not in found:
            found.append(metric)  # the same metric of each model of the use case: one line
    return tuple(found)


def _cloudwatch_thresholds(properties: Mapping[str, Any], where: str) -> tuple[Threshold, ...]:
    annotations = _need(properties.get("annotations", {}), dict, where, "annotations")
    thresholds = []
    for line in _need(annotations.get("horizontal", []), list, where, "horizontal annotations"):
        _need(line, dict, where, "a horizontal annotation")
        value = _need(line.get("value"), int | float, where, "an annotation's value")
        axis = _need(properties.get("yAxis", {}), dict, where, "yAxis").get(line.get("yAxis", "left"), {})
        above = {"above": True, "below": False}.get(line.get("fill", ""))
        thresholds.append(Threshold(float(value), str(axis.get("label", "")), above, str(line.get("label", ""))))
    return tuple(thresholds)


def _custom_panel(properties: Mapping[str, Any], where: str) -> Panel:
    """A custom widget drawing a managed Prometheus panel (`amp_chart`): its params' PromQL lines and the
    threshold it draws."""
    title = str(_need(properties.get("title"), str, where, "title"))
    _need(properties.get("endpoint"), str, where, "a custom widget's endpoint")
    params = _need(properties.get("params"), dict, where, "a custom widget's params")
    metrics: list[Metric] = []
    for line in _need(params.get("queries"), list, where, "params.queries"):
        query = _need(_need(line, dict, where, "a query").get("query"), str, where, "a query's PromQL")
        metrics += [m for m in _promql_metrics(query, where) if m not in metrics]
    if not metrics:
        raise DashboardError(f"{where}: params.queries is empty")
    thresholds: tuple[Threshold, ...] = ()
    if "threshold" in params:
        value = _need(params["threshold"], int | float, where, "params.threshold")
        thresholds = (
            Threshold(float(value), str(params.get("unit", "")), None, str(params.get("thresholdLabel", ""))),
        )
    return Panel(title, tuple(metrics), thresholds)


def read_cloudwatch(body: Mapping[str, Any], name: str, resource: str) -> Dashboard:
    """A CloudWatch dashboard body: a `## ` text widget is its title, a `### ` one a use case's heading,
    each metric widget (or custom widget charting a managed Prometheus) a panel of the row above it."""
    where = f"{resource} (CloudWatch dashboard {name})"
    widgets = [_need(w, dict, where, "a widget") for w in _need(body.get("widgets"), list, where, "widgets")]
    title = ""
    rows = _Rows(where)
    for widget in sorted(widgets, key=lambda w: (w.get("y", 0), w.get("x", 0))):
        properties = _need(widget.get("properties"), dict, where, "a widget's properties")
        if widget.get("type") == "text":
            first = str(properties.get("markdown", "")).splitlines()[0] if properties.get("markdown") else ""
            heading = _AWS_HEADING.match(first)
            if first.startswith("## ") and not title and not rows.rows:
                title = first.removeprefix("## ")
            elif heading:
                rows.heading(heading["use_case"], f"{heading['detail']}: {heading['models']}")
            else:
                raise DashboardError(
                    f"{where}: text widget {first!r:.80} is neither the title (`## `) nor a use case's heading "
                    "(`### <use case> (<pattern>, <classification>): <models>`)"
                )
        elif widget.get("type") == "metric":
            panel_where = f"{where}, widget {properties.get('title')!r}"
            rows.panel(
                Panel(
                    str(_need(properties.get("title"), str, panel_where, "title")),
                    _cloudwatch_metrics(properties, panel_where),
                    _cloudwatch_thresholds(properties, panel_where),
                )
            )
        elif widget.get("type") == "custom":
            rows.panel(_custom_panel(properties, f"{where}, widget {properties.get('title')!r}"))
        else:
            raise DashboardError(f"{where}: a {widget.get('type')!r} widget is neither text, metric nor custom")
    return Dashboard("aws", "CloudWatch dashboard", name, title or name, rows.done(), resource)


# Azure workbook: its items, as the workbook editor saves them (`workbook_definition` in azure.py).

_AZURE_AGGREGATIONS = {code: name for name, code in AGGREGATION_TYPES.items()}
_THRESHOLD_LINE = re.compile(
    rf'label_replace\(vector\(([0-9.]+)\), "{LINE_LABEL}", "([^"]*alert)", "", ""\)'
)
"""A PromQL panel's threshold: a constant line named after its alert."""


def _metrics_item(content: Mapping[str, Any], where: str) -> Panel:
    title = str(_need(content.get("title"), str, where, "a metrics item's title"))
    where = f"{where}, chart {title!r}"
    narrowed = []
    for each in _need(content.get("filters", []), list, where, "filters"):
        if each.get("operator") != FILTER_EQUALS:
            raise DashboardError(f"{where}: filter {each!r:.80} is not an equals filter")
        if each.get("key") != DEPLOYMENT:  # every chart keeps the use case's own deployments
            narrowed.append(f"{each.get('key')} = {', '.join(str(v) for v in each.get('values', []))}")
    metrics = []
    for metric in _need(content.get("metrics"), list, where, "metrics"):
        code = metric.get("aggregation")
        if code not in _AZURE_AGGREGATIONS:
            raise DashboardError(f"{where}: aggregation {code!r} is none of {sorted(_AZURE_AGGREGATIONS)}")
        namespace = str(metric.get("namespace"))
        name = str(metric.get("metric", "")).removeprefix(f"{namespace}--")
        metrics.append(Metric(f"{namespace}/{name}", _AZURE_AGGREGATIONS[code], "; ".join(narrowed)))
    # A metrics item draws no threshold line; a token budget is only in its title.
    return Panel(title, tuple(metrics))


def _prometheus_item(content: Mapping[str, Any], where: str) -> Panel:
    title = str(_need(content.get("title"), str, where, "a query item's title"))
    where = f"{where}, chart {title!r}"
    if content.get("queryType") != PROMETHEUS_QUERY:
        raise DashboardError(f"{where}: query type {content.get('queryType')!r} is not PromQL ({PROMETHEUS_QUERY})")
    try:
        query = json.loads(_need(content.get("query"), str, where, "query"))
    except json.JSONDecodeError as error:
        raise DashboardError(f"{where}: query is not the Prometheus provider's JSON ({error})") from None
    text = str(_need(_need(query, dict, where, "query").get("queryText"), str, where, "queryText"))
    thresholds = tuple(Threshold(float(v), "", True, label) for v, label in _THRESHOLD_LINE.findall(text))
    return Panel(title, tuple(_promql_metrics(text, where)), thresholds)


def read_workbook(definition: Mapping[str, Any], name: str, title: str, resource: str) -> Dashboard:
    """An Azure workbook's `serializedData`: a `### ` text item heads a use case's row, the metrics and
    PromQL query items after it are its panels (a `## ` text item is the workbook's title)."""
    where = f"{resource} (Azure workbook {title})"
    rows = _Rows(where)
    for item in _need(definition.get("items"), list, where, "items"):
        _need(item, dict, where, "an item")
        content = _need(item.get("content"), dict, where, "an item's content")
        kind = item.get("type")
        if kind == TEXT_ITEM:
            lines = [line for line in str(content.get("json", "")).splitlines() if line.strip()]
            if lines and lines[0].startswith("## "):
                continue
            if not lines or not lines[0].startswith("### "):
                raise DashboardError(f"{where}: text item {content!r:.80} is not a use case's `### ` heading")
            rows.heading(lines[0].removeprefix("### ").strip(), ": ".join(lines[1:]))
        elif kind == METRICS_ITEM:
            rows.panel(_metrics_item(content, where))
        elif kind == QUERY_ITEM:
            rows.panel(_prometheus_item(content, where))
        else:
            raise DashboardError(f"{where}: a type {kind!r} item is neither text, metrics nor a PromQL query")
    return Dashboard("azure", "Azure workbook", name, title, rows.done(), resource)


# Cloud Monitoring: https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards

_METRIC_TYPE = re.compile(r'metric\.type = "([^"]+)"')
_METRIC_LABEL = re.compile(r'metric\.labels\.(\w+) = (?:"([^"]*)"|monitoring\.regex\.full_match\("([^"]*)"\))')


def _statistic(aggregation: Mapping[str, Any]) -> str:
    reducer = str(aggregation.get("crossSeriesReducer") or aggregation.get("perSeriesAligner") or "")
    name = reducer.removeprefix("REDUCE_").removeprefix("ALIGN_").lower()
    return re.sub(r"^percentile_(\d+)$", r"p\1", name)


def _monitoring_metric(selection: Mapping[str, Any], where: str, role: Literal["metric", "denominator"]) -> Metric:
    text = str(_need(selection.get("filter"), str, where, "a filter"))
    found = _METRIC_TYPE.findall(text)
    if len(found) != 1:
        raise DashboardError(
            f'{where}: filter {text!r:.120} names {len(found)} metric types, not one `metric.type = "..."`'
        )
    narrowed = [f"{m[0]} = {m[1]}" if m[2] == "" else f"{m[0]} =~ {m[2]}" for m in _METRIC_LABEL.findall(text)]
    aggregation = _need(selection.get("aggregation", {}), dict, where, "an aggregation")
    return Metric(found[0], _statistic(aggregation), ", ".join(narrowed), role)


_PROMQL_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}")
_SCOPE_LABELS = ("project_id", "location", "cluster")
"""Labels every series of a cluster carries in Managed Service for Prometheus: the row's, not repeated."""


def _promql_metrics(query: str, where: str) -> list[Metric]:
    """The series a PromQL query reads, each with its own label matchers (the cluster's left out)."""
    found: dict[str, str] = {}
    for name, matchers in _PROMQL_SELECTOR.findall(query):
        kept = [m.strip() for m in matchers.split(",") if m.strip() and m.split("=")[0].rstrip("!~") not in
                _SCOPE_LABELS]
        found.setdefault(name, ", ".join(kept))
    if not found:
        raise DashboardError(f"{where}: PromQL {query!r:.120} selects no series")
    return [Metric(name, "promql", narrowed, "metric") for name, narrowed in found.items()]


def _xy_chart(title: str, chart: Mapping[str, Any], where: str) -> Panel:
    where = f"{where}, chart {title!r}"
    metrics: list[Metric] = []
    for data_set in _need(chart.get("dataSets"), list, where, "dataSets"):
        query = _need(_need(data_set, dict, where, "a data set").get("timeSeriesQuery"), dict, where, "a query")
        if "timeSeriesFilter" in query:
            metrics.append(_monitoring_metric(query["timeSeriesFilter"], where, "metric"))
        elif "timeSeriesFilterRatio" in query:
            ratio = query["timeSeriesFilterRatio"]
            metrics.append(_monitoring_metric(ratio.get("numerator", {}), where, "metric"))
            metrics.append(_monitoring_metric(ratio.get("denominator", {}), where, "denominator"))
        elif "prometheusQuery" in query:
            metrics += _promql_metrics(str(query["prometheusQuery"]), where)
        else:
            raise DashboardError(
                f"{where}: query {sorted(query)} is neither a time series filter, a ratio nor a PromQL query"
            )
    thresholds = []
    for line in _need(chart.get("thresholds", []), list, where, "thresholds"):
        value = _need(line.get("value"), int | float, where, "a threshold's value")
        axis = chart.get("y2Axis" if line.get("targetAxis") == "Y2" else "yAxis", {})
        above = {"ABOVE": True, "BELOW": False}.get(line.get("direction", ""))
        thresholds.append(Threshold(float(value), str(axis.get("label", "")), above, str(line.get("label", ""))))
    return Panel(title, tuple(metrics), tuple(thresholds))


def read_cloud_monitoring(layout: Mapping[str, Any], resource: str) -> Dashboard:
    """A Cloud Monitoring dashboard's JSON: in its mosaic, a section header heads a use case's row, the
    XY charts below it are its panels."""
    name = str(layout.get("displayName", ""))
    where = f"{resource} (Cloud Monitoring dashboard {name})"
    mosaic = _need(layout.get("mosaicLayout"), dict, where, "mosaicLayout")
    tiles = [_need(t, dict, where, "a tile") for t in _need(mosaic.get("tiles"), list, where, "tiles")]
    rows = _Rows(where)
    for tile in sorted(tiles, key=lambda t: (t.get("yPos", 0), t.get("xPos", 0))):
        widget = _need(tile.get("widget"), dict, where, "a tile's widget")
        if "sectionHeader" in widget:
            rows.heading(str(widget.get("title", "")), str(widget["sectionHeader"].get("subtitle", "")))
        elif "xyChart" in widget:
            rows.panel(_xy_chart(str(widget.get("title", "")), widget["xyChart"], where))
        else:
            kinds = sorted(set(widget) - {"title", "id"})
            raise DashboardError(f"{where}: a {kinds} widget is neither a section header nor an XY chart")
    return Dashboard("gcp", "Cloud Monitoring dashboard", name, name, rows.done(), resource)


def _cloudwatch_resource(resource: PlannedResource) -> Dashboard:
    name = str(reveal(resource.inputs).get("dashboardName"))
    return read_cloudwatch(_json_input(resource, "dashboardBody"), name, resource.name)


def _workbook_resource(resource: PlannedResource) -> Dashboard:
    inputs = reveal(resource.inputs)
    title = str(inputs.get("displayName"))  # the portal lists a workbook by it; its name is a UUID
    return read_workbook(_json_input(resource, "serializedData"), title, title, resource.name)


def _cloud_monitoring_resource(resource: PlannedResource) -> Dashboard:
    return read_cloud_monitoring(_json_input(resource, "dashboardJson"), resource.name)


READERS: Mapping[str, Callable[[PlannedResource], Dashboard]] = {
    "aws:cloudwatch/dashboard:Dashboard": _cloudwatch_resource,
    "azure-native:applicationinsights:Workbook": _workbook_resource,
    "gcp:monitoring/dashboard:Dashboard": _cloud_monitoring_resource,
}
"""The planned resource types that are dashboards, in the order the picture shows them, and their readers."""


def read(resource: PlannedResource) -> Dashboard:
    """One planned dashboard resource's definition as the neutral model."""
    reader = READERS.get(resource.type)
    if reader is None:
        raise DashboardError(f"{resource.name}: {resource.type} is not a dashboard type ({', '.join(READERS)})")
    return reader(resource)


def dashboards(plan: Plan) -> list[Dashboard]:
    """Every dashboard the plan creates, AWS first, then Azure, then Google Cloud (plan order within one)."""
    order = list(READERS)
    found = [r for r in plan.resources if r.type in READERS]
    return [read(r) for r in sorted(found, key=lambda r: order.index(r.type))]


def plan_dashboards(stack: str) -> tuple[str, list[Dashboard]]:
    """Plan `stack` offline as `triplane plan` does and read the dashboards it would create."""
    from triplane import stackfile

    stack_file = stackfile.load_stack(stack)
    environment = stack_file.environment()
    found = dashboards(stackfile.plan_file(stack_file, environment))
    if not found:
        if environment.kind == "use-case":
            with contextlib.suppress(SpecError):  # with its platform's monitoring, if the platform is this project's
                environment = stack_file.whole_environment()
        raise SpecError(stack_file.source, [_why_none(environment)])
    return stack_file.name, found


def _why_none(environment: Environment) -> str:
    """Why a stack plans no dashboard, and the fix."""
    why = "plans no dashboard: "
    if environment.kind == "platform":
        return why + (
            "a platform stack's use cases, and so their dashboards, are in its use-case stacks; draw one of "
            f"those (`triplane dashboard {environment.use_case_stacks[0]}`)"
        )
    if environment.monitoring is None:
        where = "the platform stack's" if environment.kind == "use-case" else "its"
        return why + (
            f"the environment has no monitoring; add `monitoring: {{notify: {{email: [...]}}}}` to {where} "
            "`triplane:environment` (and a use case on Bedrock, Azure OpenAI or Vertex AI, if it has none)"
        )
    return why + (
        "no use case is on Bedrock, Azure OpenAI or Vertex AI, the managed services whose clouds get a "
        "dashboard (self-managed and SaaS use cases are watched by their cluster's Prometheus rules); add a "
        "cloud-managed use case"
    )


# --- the D2 source -----------------------------------------------------------------------------


def _key(prefix: str, name: str) -> str:
    return f"{prefix}_" + "".join(c if c.isalnum() else "_" for c in name.lower())


def metric_prefix(dashboard: Dashboard) -> str:
    """The namespace (up to a `/`) every metric of the dashboard starts with: written once, on the dashboard."""
    names = [
        m.name
        for row in dashboard.rows
        for p in row.panels
        for m in p.metrics
        if m.role != "math" and m.statistic != "promql"  # PromQL series have no namespace
    ]
    if not names:
        return ""
    common = names[0]
    for name in names[1:]:
        while not name.startswith(common):
            common = common[:-1]
    return common[: common.rfind("/") + 1]


def _panel_label(row: Row, panel: Panel, prefix: str) -> str:
    title = panel.title.removeprefix(f"{row.use_case}: ")
    lines = [title, *dict.fromkeys(m.text(prefix) for m in panel.metrics), *(t.text() for t in panel.thresholds)]
    return "\n".join(lines)


def _classes() -> list[str]:
    return [
        "classes: {",
        '  stack: {style: {fill: "#ffffff"; stroke: "#ffffff"; font-size: 34; bold: true}}',
        '  dashboard: {style: {fill: "#fafafa"; stroke: "#78909c"; stroke-width: 2; font-size: 26; bold: true}}',
        '  row: {style: {fill: "#eceff1"; stroke: "#90a4ae"; font-size: 21; bold: true}}',
        '  panel: {style: {fill: "#ffffff"; stroke: "#607d8b"; font-size: 17; bold: false}}',
        f'  alert_panel: {{style: {{fill: "#ffebee"; stroke: "{ALERT_STROKE}"; stroke-width: 2; font-size: 17; '
        "bold: false}}",
        "}",
    ]


def d2_source(found: Sequence[Dashboard], stack: str) -> str:
    """The dashboards as D2 grids; the same dashboards always give the same text."""
    lines = [
        f"# Triplane dashboards of {stack}: generated by `triplane dashboard {stack}` from the planned "
        "definitions; edit the stack, not this file.",
        "vars: {",
        "  d2-legend: {",
        '    alert: "panel with an alert\'s threshold line" '
        f'{{style: {{fill: "#ffebee"; stroke: "{ALERT_STROKE}"; stroke-width: 2}}}}',
        '    plain: "panel without one" {style: {fill: "#ffffff"; stroke: "#607d8b"}}',
        "  }",
        "}",
        *_classes(),
        "",
        f"{_key('stack', stack)}: {d2_quote(f'Triplane dashboards of {stack}')} {{",
        "  class: stack",
        f"  grid-rows: {len(found)}",
        "  grid-gap: 60",
    ]
    keys: dict[str, int] = {}
    for dashboard in found:
        keys[dashboard.cloud] = keys.get(dashboard.cloud, 0) + 1
        key = dashboard.cloud if keys[dashboard.cloud] == 1 else f"{dashboard.cloud}_{keys[dashboard.cloud]}"
        prefix = metric_prefix(dashboard)
        label = [f"{dashboard.kind} {dashboard.name}"]
        if dashboard.title != dashboard.name:
            label.append(dashboard.title)
        if prefix:
            label.append(f"metrics under {prefix}")
        lines += [
            f"  {key}: {d2_quote(chr(10).join(label))} {{",
            "    class: dashboard",
            f"    grid-rows: {len(dashboard.rows)}",
        ]
        for row in dashboard.rows:
            lines += [
                f"    {_key('uc', row.use_case)}: {d2_quote(row.use_case + chr(10) + row.detail)} {{",
                "      class: row",
                f"      grid-columns: {len(row.panels)}",
            ]
            for index, panel in enumerate(row.panels, start=1):
                cls = "alert_panel" if panel.thresholds else "panel"
                lines.append(f"      p{index}: {d2_quote(_panel_label(row, panel, prefix))} {{class: {cls}}}")
            lines.append("    }")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
