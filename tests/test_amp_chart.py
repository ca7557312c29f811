"""The chart function behind the CloudWatch custom widgets: it draws a managed Prometheus range answer as
SVG (a line per series, legend, threshold, "no data"), escapes every label, sizes its step to the range,
signs its query for `aps`, describes itself when CloudWatch asks, and shows a short message instead of
an exception."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
from typing import Any
from xml.etree import ElementTree

import pytest
from botocore.credentials import Credentials

from triplane.components.observability import amp_chart
from triplane.components.observability.amp_chart import (
    ChartError,
    Line,
    Series,
    chart,
    handler,
    lines_of,
    render,
    series_of,
    signed_request,
    step_seconds,
    time_range,
)

URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1234/api/v1/query_range"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
START_MS, END_MS = 1_700_000_000_000, 1_700_003_600_000
SVG = "{http://www.w3.org/2000/svg}"


def answer(*series: tuple[dict[str, str], list[tuple[float, str]]]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": m, "values": [list(p) for p in v]} for m, v in series]},
    }


def event(queries: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    widget_params = {"queries": queries, **params}
    return {
        **widget_params,
        "widgetContext": {
            "dashboardName": "dev-use-cases",
            "timeRange": {"mode": "relative", "start": START_MS, "end": END_MS},
            "width": 480,
            "height": 240,
            "params": widget_params,
        },
    }


def parsed(page: str) -> ElementTree.Element:
    return ElementTree.fromstring(page)


# --- rendering ------------------------------------------------------------------------------------


def test_each_series_is_a_polyline_with_its_legend_entry() -> None:
    line = Line("GPU", "max by (pod) (DCGM_FI_DEV_GPU_UTIL)", per="pod")
    pods = ({"pod": "a-0"}, [(1_700_000_000, "10"), (1_700_000_060, "30")]), ({"pod": "a-1"}, [(1_700_000_000, "5")])
    found = series_of(answer(*pods), line, several=False)
    assert [s.label for s in found] == ["a-0", "a-1"]
    svg = parsed(render(found, None, 1_700_000_000, 1_700_000_060, 400, 200, "%"))
    polylines = svg.findall(f"{SVG}polyline")
    assert len(polylines) == 2
    assert polylines[0].get("stroke") != polylines[1].get("stroke")
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert "a-0" in texts and "a-1" in texts and "%" in texts
    assert "30" in texts and "0" in texts  # the axis' max and min (the floor is zero)
    assert svg.find(f"{SVG}line[@class='threshold']") is None
    # the first point is at the left edge of the plot, the last at its right edge
    first, last = polylines[0].get("points", "").split()
    assert float(first.split(",")[0]) == 70.0 and float(last.split(",")[0]) == 400 - 10


def test_a_line_without_a_per_label_is_named_after_the_line() -> None:
    line = Line("p95", "histogram_quantile(0.95, ...)")
    [one] = series_of(answer(({"le": "x"}, [(1, "0.5")])), line, several=False)
    assert one.label == "p95" and one.points == ((1.0, 0.5),)
    two = series_of(answer(({}, [(1, "1")]), ({}, [(1, "2")])), line, several=True)
    assert [s.label for s in two] == ["p95 1", "p95 2"]


def test_the_threshold_is_a_red_dashed_line_inside_the_axis() -> None:
    series = [Series("p95", ((0.0, 1.0), (60.0, 2.0)))]
    svg = parsed(render(series, 8.0, 0, 60, 400, 200))
    threshold = svg.find(f"{SVG}line[@class='threshold']")
    assert threshold is not None
    assert threshold.get("stroke") == amp_chart.THRESHOLD_COLOUR and threshold.get("stroke-dasharray")
    assert float(threshold.get("y1", "nan")) == 10.0  # the threshold is the axis' top, above every value
    assert "8" in [t.text for t in svg.findall(f"{SVG}text")]


def test_no_data_says_so_and_still_names_the_threshold() -> None:
    empty = series_of(answer(), Line("ready", "count(up == 1)"), several=False)
    assert empty == []
    svg = parsed(render(empty, 32.0, 0, 60, 400, 200))
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert texts == ["no data", "alert above 32"]
    assert svg.findall(f"{SVG}polyline") == []


def test_non_numbers_in_the_answer_are_dropped() -> None:
    [one] = series_of(answer(({}, [(1, "NaN"), (2, "+Inf"), (3, "4")])), Line("v", "q"), several=False)
    assert one.points == ((3.0, 4.0),)


def test_a_hostile_label_value_is_escaped() -> None:
    hostile = '<script>alert("x")</script>&'
    found = series_of(answer(({"pod": hostile}, [(1, "1")])), Line("GPU", "q", per="pod"), several=False)
    page = render(found, None, 0, 60, 400, 200, unit="<b>")
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
    assert parsed(page).findall(f"{SVG}text")  # still well-formed


# --- the request ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "step"),
    [(60, 15), (3_600, 15), (4_500, 15), (43_200, 144), (7 * 86_400, 2016), (90_001, 301)],
)
def test_the_step_keeps_a_series_to_about_300_points(seconds: int, step: int) -> None:
    assert step_seconds(0, seconds) == step
    assert seconds / step_seconds(0, seconds) <= amp_chart.MAX_POINTS


def test_the_time_range_is_the_zoomed_one_when_zoomed() -> None:
    span = {"timeRange": {"start": START_MS, "end": END_MS}}
    assert time_range(span) == (1_700_000_000.0, 1_700_003_600.0)
    zoomed = {"timeRange": {"start": START_MS, "end": END_MS, "zoom": {"start": START_MS + 60_000, "end": END_MS}}}
    assert time_range(zoomed) == (1_700_000_060.0, 1_700_003_600.0)
    with pytest.raises(ChartError):
        time_range({})


def test_the_query_is_a_form_post_signed_for_aps_in_the_region() -> None:
    request = signed_request(URL, {"query": "up", "start": "1", "end": "2", "step": "15"}, CREDENTIALS, "us-east-1")
    assert request.get_method() == "POST" and request.full_url == URL
    assert request.data == b"query=up&start=1&end=2&step=15"
    headers = {k.lower(): v for k, v in request.header_items()}
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["x-amz-security-token"] == "session-token"
    assert re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/us-east-1/aps/aws4_request, "
        r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}",
        headers["authorization"],
    ), headers["authorization"]
    assert "wJalrXUtnFEMI" not in json.dumps(headers)


def test_the_widget_params_are_checked() -> None:
    assert lines_of({"queries": [{"name": "p95", "query": "q", "per": "pod"}]}) == [Line("p95", "q", "pod")]
    for bad in ({}, {"queries": []}, {"queries": [{"name": "x"}]}, {"queries": [{"query": "q"}] * 5}):
        with pytest.raises(ChartError):
            lines_of(bad)


def test_a_chart_queries_each_line_over_the_dashboard_range(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, bytes]] = []

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        seen.append((request.full_url, request.data or b""))
        return io.BytesIO(json.dumps(answer(({}, [(1_700_000_000, "3")]))).encode())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    page = chart(
        event([{"name": "input", "query": "sum(a)"}, {"name": "output", "query": "sum(b)"}], threshold=6, unit="t"),
        CREDENTIALS,
        "us-east-1",
        URL,
    )
    assert [url for url, _ in seen] == [URL, URL]
    assert seen[0][1] == b"query=sum%28a%29&start=1700000000.000&end=1700003600.000&step=15"
    svg = parsed(page)
    assert svg.get("width") == "480" and svg.get("height") == "240"
    assert len(svg.findall(f"{SVG}polyline")) == 2
    assert svg.find(f"{SVG}line[@class='threshold']") is not None


# --- the entry point ------------------------------------------------------------------------------


def test_describe_returns_the_markdown_description() -> None:
    described = handler({"describe": True}, None)
    assert described == amp_chart.DESCRIPTION and described.startswith("## ")


def test_an_error_is_a_short_message_without_the_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(amp_chart.QUERY_URL_VARIABLE, URL)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-value-never-shown")

    def broken(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        raise RuntimeError("internal detail at /var/task/amp_chart.py line 1 with secret-value-never-shown")

    monkeypatch.setattr(urllib.request, "urlopen", broken)
    page = handler(event([{"name": "p95", "query": "q"}]), None)
    assert page.startswith("<p") and "Cannot draw this chart" in page
    assert "internal detail" not in page and "secret-value" not in page and "Traceback" not in page

    def refused(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        raise urllib.error.HTTPError(URL, 403, "Forbidden secret-value-never-shown", {}, None)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib.request, "urlopen", refused)
    page = handler(event([{"name": "p95", "query": "q"}]), None)
    assert "HTTP 403" in page and "secret-value" not in page


def test_without_its_workspace_url_it_queries_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(amp_chart.QUERY_URL_VARIABLE, raising=False)
    page = handler(event([{"name": "p95", "query": "q", "url": "https://elsewhere.example"}]), None)
    assert "no workspace to query" in page
