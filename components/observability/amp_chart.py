"""The Lambda function behind a CloudWatch custom widget that charts a managed Prometheus panel.

CloudWatch metric widgets cannot read Amazon Managed Service for Prometheus, so each panel of a model
server or gateway route on EKS is a custom widget whose `params` carry the panel's PromQL lines
(`prometheus.panel`) and the threshold of the alert watching it. CloudWatch calls this function with
those params and a `widgetContext` (the dashboard's time range, the widget's size in pixels); the
function runs each line as a range query against the one workspace its `AMP_QUERY_URL` names (set by
`AwsPrometheusCharts`, never by the caller) and answers an inline SVG line chart in HTML, which the
widget shows as it is (it runs no scripts).

- Custom widgets, their event and the `describe` call: "Use custom widgets on CloudWatch dashboards",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/add_custom_widget_dashboard_about.html
- The query API: `POST /workspaces/<id>/api/v1/query_range` (form fields `query`, `start`, `end`,
  `step`), signed with SigV4 for the service `aps`: "Query your Prometheus metrics",
  https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-onboard-query.html and
  https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-APIReference-QueryRange.html
- The answer is Prometheus' own: `data.result` of `[{"metric": {...}, "values": [[t, "v"], ...]}]`.

It uses the standard library and botocore (which the Lambda Python runtime bundles) only, and keeps
the rendering in pure functions so it is tested without AWS.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

QUERY_URL_VARIABLE = "AMP_QUERY_URL"
"""The environment variable naming the workspace's `.../api/v1/query_range` URL."""
SERVICE = "aps"
MAX_POINTS = 300
MIN_STEP_SECONDS = 15
MAX_QUERIES = 4
MAX_QUERY_CHARS = 2000
REQUEST_TIMEOUT_SECONDS = 8
DEFAULT_SIZE = (600, 300)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
THRESHOLD_COLOUR = "#d62728"
DESCRIPTION = (
    "## Managed Prometheus chart\n"
    "Draws the PromQL lines in `queries` (each `{name, query, per}`) over the dashboard's time range, "
    "from the cluster's Amazon Managed Service for Prometheus workspace, and `threshold` (the alert's) "
    "as a red dashed line.\n\n"
    "```\nqueries:\n  - name: p95\n    query: histogram_quantile(0.95, ...)\nthreshold: 8\n```"
)

logger = logging.getLogger(__name__)


class ChartError(Exception):
    """A failure whose message is safe to show on the dashboard."""


@dataclass(frozen=True)
class Line:
    """One PromQL line of a panel, as `params.queries` carries it."""

    name: str
    query: str
    per: str | None = None


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[float, float], ...]
    """(unix seconds, value), finite values only."""


# --- the request ----------------------------------------------------------------------------------


def time_range(context: Mapping[str, Any]) -> tuple[float, float]:
    """The (start, end) in unix seconds the widget shows: the zoomed range when the user zoomed."""
    span = context.get("timeRange") or {}
    zoom = span.get("zoom") or {}
    start, end = zoom.get("start", span.get("start")), zoom.get("end", span.get("end"))
    if not isinstance(start, int | float) or not isinstance(end, int | float) or end <= start:
        raise ChartError("the dashboard sent no time range")
    return start / 1000, end / 1000


def step_seconds(start: float, end: float) -> int:
    """A step that keeps each series to about `MAX_POINTS` points, never finer than Prometheus' scrape."""
    return max(MIN_STEP_SECONDS, math.ceil((end - start) / MAX_POINTS))


def lines_of(params: Mapping[str, Any]) -> list[Line]:
    """The widget's `queries` param, checked."""
    raw = params.get("queries")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_QUERIES:
        raise ChartError(f"the widget's params name no queries (1 to {MAX_QUERIES} expected)")
    found = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("query"), str) or not item["query"].strip():
            raise ChartError("a query in the widget's params has no PromQL")
        if len(item["query"]) > MAX_QUERY_CHARS:
            raise ChartError("a query in the widget's params is too long")
        per = item.get("per")
        found.append(Line(str(item.get("name") or "value"), item["query"], per if isinstance(per, str) else None))
    return found


def threshold_of(params: Mapping[str, Any]) -> float | None:
    value = params.get("threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ChartError("the widget's threshold is not a number")
    return float(value)


def signed_request(url: str, form: Mapping[str, str], credentials: Any, region: str) -> urllib.request.Request:
    """The POST of `form` to `url`, signed with SigV4 for `aps` in `region` with `credentials`."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    body = urllib.parse.urlencode(form)
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return urllib.request.Request(url, data=body.encode(), headers=dict(request.headers.items()), method="POST")


def query_range(url: str, line: Line, start: float, end: float, step: int, credentials: Any, region: str) -> Any:
    """Prometheus' answer to one range query, as JSON."""
    form = {"query": line.query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)}
    request = signed_request(url, form, credentials, region)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise ChartError(f"the managed Prometheus answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError):
        raise ChartError("the managed Prometheus did not answer") from None


def series_of(answer: Any, line: Line, several: bool) -> list[Series]:
    """The answer's series, each labelled by its `per` label or, failing that, the line's name."""
    if not isinstance(answer, dict) or answer.get("status") != "success":
        raise ChartError("the managed Prometheus refused the query")
    result = (answer.get("data") or {}).get("result") or []
    found = []
    for index, item in enumerate(result):
        metric = item.get("metric") or {}
        label = str(metric.get(line.per)) if line.per and line.per in metric else line.name
        if not line.per and several and len(result) > 1:
            label = f"{line.name} {index + 1}"
        points = []
        for pair in item.get("values") or []:
            try:
                value = float(pair[1])
            except (TypeError, ValueError, IndexError):
                continue
            if math.isfinite(value):
                points.append((float(pair[0]), value))
        found.append(Series(label, tuple(points)))
    return found


# --- the picture ----------------------------------------------------------------------------------


def _number(value: float) -> str:
    if value != 0 and (abs(value) >= 1_000_000 or abs(value) < 0.01):
        return f"{value:.3g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(
    series: Sequence[Series],
    threshold: float | None,
    start: float,
    end: float,
    width: int,
    height: int,
    unit: str = "",
) -> str:
    """An SVG line chart of `series` over [start, end] in HTML: min and max on both axes (in `unit`), a
    polyline and a legend entry per series, `threshold` as a red dashed line; "no data" when nothing came
    back."""
    width, height = max(width, 200), max(height, 120)
    left, right, top, bottom = 70, 10, 10, 40
    legend = 16 * max(1, math.ceil(len(series) / 3))
    plot_w, plot_h = width - left - right, height - top - bottom - legend
    values = [v for s in series for _, v in s.points]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
    ]
    if not values:
        parts.append(f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" fill="#555">no data</text>')
        if threshold is not None:
            parts.append(
                f'<text x="{width / 2:.0f}" y="{height / 2 + 16:.0f}" text-anchor="middle" fill="{THRESHOLD_COLOUR}">'
                f"alert above {html.escape(_number(threshold))}</text>"
            )
        parts.append("</svg>")
        return "".join(parts)
    low = min([*values, *([threshold] if threshold is not None else [])])
    high = max([*values, *([threshold] if threshold is not None else [])])
    low = min(low, 0.0)
    if high == low:
        high = low + 1
    span_t = max(end - start, 1.0)

    def x(t: float) -> float:
        return left + (t - start) / span_t * plot_w

    def y(v: float) -> float:
        return top + (high - v) / (high - low) * plot_h

    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#999"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#999"/>')
    parts.append(f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{html.escape(_number(high))}</text>')
    if unit:
        parts.append(f'<text x="{left + 4}" y="{top + 10}" fill="#555">{html.escape(unit)}</text>')
    parts.append(f'<text x="{left - 4}" y="{base}" text-anchor="end">{html.escape(_number(low))}</text>')
    parts.append(f'<text x="{left}" y="{base + 14}">{html.escape(_clock(start))}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{base + 14}" text-anchor="end">{html.escape(_clock(end))}</text>')
    if threshold is not None:
        ty = y(threshold)
        parts.append(
            f'<line class="threshold" x1="{left}" y1="{ty:.1f}" x2="{left + plot_w}" y2="{ty:.1f}" '
            f'stroke="{THRESHOLD_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
    for index, each in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        if each.points:
            points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in each.points)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        column, row = index % 3, index // 3
        lx, ly = left + column * (plot_w / 3), base + 28 + row * 16
        parts.append(f'<rect x="{lx:.0f}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14:.0f}" y="{ly + 1}">{html.escape(each.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def error_html(message: str) -> str:
    return f'<p style="color:{THRESHOLD_COLOUR}">Cannot draw this chart: {html.escape(message)}.</p>'


# --- the entry point ------------------------------------------------------------------------------


def chart(event: Mapping[str, Any], credentials: Any, region: str, url: str) -> str:
    """The widget's HTML for `event`, querying `url` with `credentials`."""
    context = event.get("widgetContext") or {}
    params = context.get("params") or event
    lines = lines_of(params)
    threshold = threshold_of(params)
    start, end = time_range(context)
    step = step_seconds(start, end)
    series: list[Series] = []
    for line in lines:
        series += series_of(query_range(url, line, start, end, step, credentials, region), line, len(lines) > 1)
    width = int(context.get("width") or DEFAULT_SIZE[0])
    height = int(context.get("height") or DEFAULT_SIZE[1])
    return render(series, threshold, start, end, width, height, str(params.get("unit") or ""))


def handler(event: Mapping[str, Any], _context: Any) -> Any:
    """CloudWatch's call: the description when it asks (`describe`), else the chart; an error is a short
    message, never the exception's text."""
    if event.get("describe"):
        return DESCRIPTION
    try:
        url = os.environ.get(QUERY_URL_VARIABLE, "")
        if not url.startswith("https://"):
            raise ChartError("the function has no workspace to query")
        import botocore.session

        credentials = botocore.session.get_session().get_credentials()
        if credentials is None:
            raise ChartError("the function has no credentials")
        return chart(event, credentials, os.environ.get("AWS_REGION", ""), url)
    except ChartError as error:
        return error_html(str(error))
    except Exception as error:
        logger.error("chart failed: %s", type(error).__name__)
        return error_html("an unexpected error occurred; see the function's logs")
