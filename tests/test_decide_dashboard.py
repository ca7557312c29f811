"""The dashboard picture: each planned dashboard definition read into rows and panels, drawn by d2."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import planned

import triplane.stackfile
from triplane.components.observability import aws, azure, gcp
from triplane.components.observability.alerts import (
    Alert,
    AzureOpenAIDeployments,
    BedrockModels,
    ModelServer,
    MonitoredUseCase,
    VertexModels,
    use_case_alerts,
)
from triplane.components.observability.signals import PANEL_ALERTS, PANELS, TITLES
from triplane.decide.cli import dashboard as dashboard_command
from triplane.decide.dashboard import (
    Dashboard,
    DashboardError,
    Metric,
    Panel,
    Threshold,
    d2_source,
    dashboards,
    plan_dashboards,
    read_cloud_monitoring,
    read_cloudwatch,
    read_workbook,
)
from triplane.decide.diagram import DiagramError, find_d2, render
from triplane.stackfile import load_stack
from triplane.stacks.observability import alerts_of
from triplane.stacks.spec import SpecError

ROOT = Path(__file__).resolve().parents[1]
PICTURE = ROOT / "docs" / "dashboard-prod.svg"
SVG = "{http://www.w3.org/2000/svg}"
SOURCES = {"aws": "bedrock", "azure": "azure-openai", "gcp": "vertex"}


def read(stack: str) -> list[Dashboard]:
    return dashboards(planned(stack))


def alerts(stack: str, use_case: str) -> dict[str, Alert]:
    _, found = alerts_of(load_stack(stack).environment())[use_case]
    return {alert.kind: alert for alert in found}


def d2_or_skip() -> None:
    try:
        find_d2()
    except DiagramError as error:
        pytest.skip(f"d2 cannot run here: {error}")


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


# --- what the shipped stacks plan ----------------------------------------------------------------


def test_dev_plans_one_cloudwatch_dashboard_with_a_row_per_use_case() -> None:
    [found] = read("dev")
    assert (found.cloud, found.kind, found.name) == ("aws", "CloudWatch dashboard", "dev-use-cases")
    assert found.title == "Generative AI use cases on Amazon Bedrock and EKS (us-east-1)"
    assert [(row.use_case, row.detail) for row in found.rows] == [
        ("doc-search", "cloud-managed, confidential: us.anthropic.claude-haiku-4-5-20251001-v1:0"),
        # The EKS cluster's managed Prometheus, drawn by its chart function's custom widgets.
        ("support-drafts", "saas, internal: AI gateway route support-drafts in dev-gpu"),
        ("code-review", "self-managed, confidential: tgi server dev-code-review in dev-gpu/code-review"),
    ]
    assert [p.title for p in found.rows[0].panels] == [f"doc-search: {TITLES[s]}" for s in PANELS["bedrock"]]
    assert [p.title for p in found.rows[1].panels] == [f"support-drafts: {TITLES[s]}" for s in PANELS["gateway"]]
    # Every panel of a TGI server, its GPUs' among them (Triplane's exporter on the Bottlerocket nodes).
    assert [p.title for p in found.rows[2].panels] == [f"code-review: {TITLES[s]}" for s in PANELS["tgi"]]
    [queue] = [p for p in found.rows[2].panels if p.title == f"code-review: {TITLES['queue']}"]
    assert queue.metrics == (
        Metric("tgi_queue_size", "promql", 'namespace="code-review", job="dev-code-review-metrics"'),
        Metric("up", "promql", 'namespace="code-review", job="dev-code-review-metrics"'),
    )
    watched = alerts("dev", "code-review")["queue"]
    line = Threshold(watched.threshold, "waiting per replica", None, "queue alert (tier default)")
    assert queue.thresholds == (line,)


def test_prod_plans_a_dashboard_per_cloud_each_with_its_use_cases_row() -> None:
    found = read("prod")
    assert [(d.cloud, d.name, d.title) for d in found] == [
        ("aws", "prod-use-cases", "Generative AI use cases on Amazon Bedrock and EKS (us-east-1)"),
        ("azure", "prod AI use cases", "prod AI use cases"),
        ("gcp", "prod AI use cases", "prod AI use cases"),
    ]
    assert [[row.use_case for row in d.rows] for d in found] == [
        ["claims-triage", "patient-records"],  # the EKS server's row, from its managed Prometheus
        ["hr-assistant", "contract-drafts"],  # the AKS server's row, from its Azure Monitor workspace
        ["product-search", "fraud-signals"],  # the GKE server's row, from Managed Service for Prometheus
    ]
    budget = alerts("prod", "hr-assistant")["token-burn"].threshold
    for each in found:
        row = each.rows[0]
        titles = [f"{row.use_case}: {TITLES[s]}" for s in PANELS[SOURCES[each.cloud]]]
        if each.cloud == "azure":  # a metrics item draws no threshold line: the token budget is in the title
            titles[-1] += f" (alert above {budget:,.0f} a day)"
        assert [p.title for p in row.panels] == titles


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-apps", "prod-clinical"])
def test_every_use_case_with_alerts_has_exactly_one_row(stack: str) -> None:
    watched = {name for name, (_, found) in alerts_of(load_stack(stack).environment()).items() if found}
    rows = [row.use_case for each in read(stack) for row in each.rows]
    assert len(rows) == len(set(rows))
    assert set(rows) == watched


@pytest.mark.parametrize(("stack", "cloud"), [("dev", "aws"), ("prod", "aws"), ("prod", "azure"), ("prod", "gcp")])
def test_thresholds_are_the_alerts_converted_values(stack: str, cloud: str) -> None:
    [found] = [d for d in read(stack) if d.cloud == cloud]
    row = found.rows[0]  # the managed service's row (a GKE server's is tested with its renderer)
    watched = alerts(stack, row.use_case)
    for signal, panel in zip(PANELS[SOURCES[cloud]], row.panels, strict=True):
        if cloud == "aws":
            kind = PANEL_ALERTS.get(signal)
            expected = () if kind is None else (aws.metric_threshold(watched[kind]),)
        elif cloud == "gcp":
            kind = PANEL_ALERTS.get(signal)
            expected = () if kind is None else (gcp.threshold_value(watched[kind]),)
            assert all(t.above is True for t in panel.thresholds)
        else:
            expected = ()
        assert tuple(t.value for t in panel.thresholds) == expected, (stack, cloud, signal)


def test_threshold_values_and_units_as_drawn() -> None:
    [doc_search] = read("dev")
    assert [t.text() for p in doc_search.rows[0].panels for t in p.thresholds] == [
        "alert at 20 %",  # dev's error rate
        "alert at 50",  # throttles per 5 minutes
        "alert at 120,000 ms",  # 120 s
        "alert at 20,000 ms",  # 20 s
        "alert at 24,000,000",  # 240M a month / 30 x 300%
    ]
    claims, _, search = read("prod")
    assert [t.text() for p in claims.rows[0].panels for t in p.thresholds] == [
        "alert at 5 %",
        "alert at 5",
        "alert at 30,000 ms",
        "alert at 5,000 ms",
        "alert at 16,500,000",  # 330M a month / 30 x 150%
    ]
    assert [t.text() for p in search.rows[0].panels for t in p.thresholds] == [
        "alert > 0.05 server error ratio",
        "alert > 5 throttled per 5 min",
        "alert > 30,000 ms",
        "alert > 5,000 ms",
        "alert > 8,250,000 tokens per day",  # 165M a month / 30 x 150%
    ]


def test_metrics_each_panel_plots() -> None:
    claims, openai, search = read("prod")
    bedrock = {p.title.split(": ", 1)[1]: p.metrics for p in claims.rows[0].panels}
    ns = aws.NAMESPACE
    assert bedrock == {
        "Requests": (Metric(f"{ns}/Invocations", "Sum"),),
        "Errors": (
            Metric(f"{ns}/InvocationServerErrors", "Sum"),
            Metric(f"{ns}/InvocationClientErrors", "Sum"),
            Metric(aws.ERROR_RATE_LABEL, role="math"),
        ),
        "Throttled": (Metric(f"{ns}/InvocationThrottles", "Sum"),),
        "Latency p95": (Metric(f"{ns}/InvocationLatency", "p95"),),
        "Time to first token p95": (Metric(f"{ns}/TimeToFirstToken", "p95"),),
        "Tokens (input, output) vs volume": (
            Metric(f"{ns}/InputTokenCount", "Sum"),
            Metric(f"{ns}/OutputTokenCount", "Sum"),
            Metric("Tokens per day, all models", role="math"),
        ),
    }
    for signal, panel in zip(PANELS["azure-openai"], openai.rows[0].panels, strict=True):
        drawn = azure.PANEL_METRICS[signal]
        where = "; ".join(f"{azure.STATUS_CODE} = {code}" for code in drawn.status_codes)
        assert panel.metrics == tuple(
            Metric(f"{azure.NAMESPACE.lower()}/{metric}", aggregation, where)
            for metric, aggregation in drawn.metrics
        )
    vertex = {p.title.split(": ", 1)[1]: p.metrics for p in search.rows[0].panels}
    assert vertex["Errors"] == (
        Metric(gcp.INVOCATIONS, "sum", "response_code =~ 5[0-9][0-9]"),
        Metric(gcp.INVOCATIONS, "sum", role="denominator"),
    )
    assert vertex["Throttled"] == (Metric(gcp.INVOCATIONS, "sum", "response_code = 429"),)
    assert vertex["Latency p95"] == (Metric(gcp.LATENCIES, "p95"),)
    assert vertex["Time to first token p95"] == (Metric(gcp.FIRST_TOKEN, "p95"),)
    assert vertex["Tokens (input, output) vs volume"] == (Metric(gcp.TOKENS, "sum", "type =~ input|output"),)


def test_reading_is_planning_the_stack() -> None:
    assert plan_dashboards("dev") == ("dev", read("dev"))


def test_a_stack_without_a_dashboard_is_a_clear_error() -> None:
    with pytest.raises(SpecError) as raised:
        plan_dashboards("local")
    message = str(raised.value)
    assert message.startswith("stacks/Pulumi.local.yaml: plans no dashboard: the environment has no monitoring")
    assert "add `monitoring: {notify: {email: [...]}}`" in message and "Bedrock, Azure OpenAI or Vertex AI" in message


# --- the D2 source and the picture ---------------------------------------------------------------


def labels(source: str) -> dict[str, str]:
    """`<key>: "<label>"` lines by their path (`stack_prod.aws.uc_claims_triage.p4`), newlines unescaped."""
    found: dict[str, str] = {}
    path: list[str] = []
    for line in source.splitlines():
        depth = (len(line) - len(line.lstrip())) // 2
        match = re.match(r'^\s*(\w+): "((?:[^"\\]|\\.)*)"', line)
        if match:
            path[depth:] = [match[1]]
            found[".".join(path)] = match[2].replace("\\n", "\n").replace('\\"', '"')
    return found


def test_d2_source_has_a_grid_per_dashboard_row_and_panel() -> None:
    found = read("prod")
    source = d2_source(found, "prod")
    boxes = labels(source)
    assert boxes["stack_prod"] == "Triplane dashboards of prod"
    assert boxes["stack_prod.aws"] == (
        "CloudWatch dashboard prod-use-cases\nGenerative AI use cases on Amazon Bedrock and EKS (us-east-1)\n"
        "metrics under AWS/Bedrock/"
    )
    assert boxes["stack_prod.azure.uc_hr_assistant"] == "hr-assistant\ncloud-managed, confidential: gpt-5-mini"
    assert boxes["stack_prod.aws.uc_claims_triage.p4"] == "Latency p95\nInvocationLatency p95\nalert at 30,000 ms"
    assert boxes["stack_prod.gcp.uc_product_search.p2"] == (
        "Errors\nmodel_invocation_count sum (response_code =~ 5[0-9][0-9])\n/ model_invocation_count sum\n"
        "alert > 0.05 server error ratio"
    )
    assert boxes["stack_prod.azure.uc_hr_assistant.p3"] == "Throttled\nAzureOpenAIRequests Total (StatusCode = 429)"
    # The GKE server's row reads Managed Service for Prometheus: its series by scrape job, the alert's line drawn.
    assert boxes["stack_prod.gcp.uc_fraud_signals.p3"] == (
        'Latency p95\nvllm:e2e_request_latency_seconds_bucket promql (namespace="fraud-signals", '
        'job="prod-fraud-signals-metrics")\nalert > 30 s'
    )
    # The EKS server's row reads its managed Prometheus through the chart function.
    assert boxes["stack_prod.aws.uc_patient_records.p3"] == (
        'Latency p95\ntgi_request_duration_bucket promql (namespace="patient-records", '
        'job="prod-patient-records-metrics")\nalert at 30 s'
    )
    assert "grid-rows: 3" in source and source.count("grid-columns: 6") == 3 and source.count("grid-columns: 8") == 2
    for each in found:
        key = f"stack_prod.{each.cloud}"
        for row in each.rows:
            row_key = f"{key}.uc_{row.use_case.replace('-', '_')}"
            for index, panel in enumerate(row.panels, start=1):
                label = boxes[f"{row_key}.p{index}"]
                assert label.splitlines()[0] == panel.title.removeprefix(f"{row.use_case}: ")
                for threshold in panel.thresholds:
                    assert threshold.text() in label.splitlines()
                cls = "alert_panel" if panel.thresholds else "panel"
                assert re.search(rf"^\s*p{index}: .* \{{class: {cls}\}}$", source, re.MULTILINE)
    assert d2_source(read("prod"), "prod") == source  # same plan, same text


def test_quotes_and_dollars_in_definitions_reach_d2_as_text() -> None:
    drawn = Dashboard("aws", "CloudWatch dashboard", 'say "hi" ${x}', "t", (), "r")
    assert '"CloudWatch dashboard say \\"hi\\" \\${x}\\nt"' in d2_source([drawn], "s")


def test_the_command_writes_the_source_and_the_pictures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d2_or_skip()
    monkeypatch.setattr(triplane.stackfile, "plan_file", lambda stack_file, environment, *_: planned(stack_file.name))
    result = CliRunner().invoke(dashboard_command, ["prod", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = [line.removeprefix("wrote ") for line in result.stdout.splitlines()]
    assert [Path(p).name for p in written] == ["prod-dashboard.d2", "prod-dashboard.svg", "prod-dashboard.png"]
    assert (tmp_path / "out" / "prod-dashboard.d2").read_text() == d2_source(read("prod"), "prod")
    text = svg_text(tmp_path / "out" / "prod-dashboard.svg")
    for name in ("claims-triage", "hr-assistant", "product-search", "alert at 30,000 ms", "alert > 5,000 ms"):
        assert name in text
    assert (tmp_path / "out" / "prod-dashboard.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_command_fails_on_a_stack_without_a_dashboard() -> None:
    result = CliRunner().invoke(dashboard_command, ["local", "--format", "svg"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: stacks/Pulumi.local.yaml: plans no dashboard")


def test_the_readme_picture_is_prods_dashboards() -> None:
    d2_or_skip()
    text = svg_text(PICTURE)
    fix = "redraw it: `triplane dashboard prod --format svg`, then copy diagrams/prod-dashboard.svg to docs/"
    for each in read("prod"):
        for row in each.rows:
            assert row.use_case in text, fix
            for panel in row.panels:
                assert panel.title.removeprefix(f"{row.use_case}: ") in text, fix
                for threshold in panel.thresholds:
                    assert threshold.text() in text, fix


def test_svg_renders_what_the_source_says(tmp_path: Path) -> None:
    d2_or_skip()
    result = render(d2_source(read("dev"), "dev"), tmp_path / "dev-dashboard", ("svg",))
    text = svg_text(result.written[1])
    assert "Triplane dashboards of dev" in text and "doc-search" in text and "alert at 120,000 ms" in text


# --- the readers follow the renderers, and refuse what they do not understand ---------------------

BEDROCK = MonitoredUseCase(
    "claims",
    "cloud-managed",
    "internal",
    BedrockModels("eu-west-1", ("model-a", "model-b")),
    use_case_alerts("claims", "bedrock", "staging", {"latency_p95_seconds": 12}, 3_000_000),
)
OPENAI = MonitoredUseCase(
    "hr",
    "cloud-managed",
    "confidential",
    AzureOpenAIDeployments("/subscriptions/x/accounts/hr", ("gpt-a", "gpt-b")),
    use_case_alerts("hr", "azure-openai", "prod", {}, 3_000_000),
)
VERTEX = MonitoredUseCase(
    "search",
    "cloud-managed",
    "public",
    VertexModels("proj", "us-central1", ("google/gemini-x", "gemini-y@001")),
    use_case_alerts("search", "vertex", "dev", {"error_rate_percent": 2.5}, None),
)


def test_cloudwatch_reader_on_the_renderers_body() -> None:
    body = aws.dashboard_body("eu-west-1", [BEDROCK])
    found = read_cloudwatch(body, "n", "r")
    [row] = found.rows
    assert (row.use_case, row.detail) == ("claims", "cloud-managed, internal: model-a, model-b")
    latency = row.panels[PANELS["bedrock"].index("latency")]
    # Two models, one line per metric; staging's own 12 s latency in ms.
    line = Threshold(12_000, "ms", None, "latency alert (spec)")
    assert latency == Panel("claims: Latency p95", (Metric("AWS/Bedrock/InvocationLatency", "p95"),), (line,))
    throttles = row.panels[PANELS["bedrock"].index("throttles")]
    assert throttles.metrics == (Metric("AWS/Bedrock/InvocationThrottles", "Sum"), Metric("All models", role="math"))


AKS_SERVER = MonitoredUseCase(
    "drafts",
    "self-managed",
    "confidential",
    ModelServer(cluster="gpu", namespace="legal", app="drafts", engine="vllm"),
    use_case_alerts("drafts", "vllm", "prod", {"latency_p95_seconds": 7.5}, None),
)
WORKSPACE = "/subscriptions/x/providers/Microsoft.Monitor/accounts/gpu"


def test_workbook_reader_on_the_renderers_definition() -> None:
    found = read_workbook(azure.workbook_definition("t", [OPENAI, AKS_SERVER], {"gpu": WORKSPACE}), "n", "t", "r")
    hr, drafts = found.rows
    assert (hr.use_case, hr.detail) == ("hr", "cloud-managed, confidential: gpt-a, gpt-b")
    assert [p.title for p in hr.panels][:5] == [f"hr: {TITLES[s]}" for s in PANELS["azure-openai"]][:5]
    assert all(p.thresholds == () for p in hr.panels)
    assert drafts.detail == "self-managed, confidential: vllm server drafts in gpu/legal"
    assert [p.title for p in drafts.panels] == [f"drafts: {TITLES[s]}" for s in PANELS["vllm"]]
    latency = drafts.panels[PANELS["vllm"].index("latency")]
    assert latency.metrics == (
        Metric("vllm:e2e_request_latency_seconds_bucket", "promql", 'namespace="legal", job="drafts-metrics"'),
    )
    assert latency.thresholds == (Threshold(7.5, "", True, "latency alert"),)
    assert drafts.panels[PANELS["vllm"].index("requests")].thresholds == ()


def test_cloud_monitoring_reader_on_the_renderers_json() -> None:
    found = read_cloud_monitoring(gcp.dashboard_json("proj", [VERTEX]), "r")
    [row] = found.rows
    assert row.detail == "cloud-managed, public: google/gemini-x, gemini-y@001 in us-central1"
    errors = row.panels[PANELS["vertex"].index("errors")]
    assert [t.value for t in errors.thresholds] == [0.025]  # the spec's 2.5% as a ratio
    tokens = row.panels[PANELS["vertex"].index("tokens")]
    assert tokens.thresholds == ()  # no volume declared, so no token-burn alert and no line


EKS_SERVER = MonitoredUseCase(
    "summarize",
    "self-managed",
    "internal",
    ModelServer("gpu", "summarize", "stg-summarize", "vllm"),
    use_case_alerts("summarize", "vllm", "staging", {"latency_p95_seconds": 9}, None),
)
CHARTS = {"gpu": aws.PrometheusCharts("stg-gpu", "arn:aws:lambda:eu-west-1:1:function:f", gpu_metrics=True)}


def test_cloudwatch_reader_reads_a_servers_custom_widgets() -> None:
    found = read_cloudwatch(aws.dashboard_body("eu-west-1", [BEDROCK, EKS_SERVER], CHARTS), "n", "r")
    assert [(row.use_case, row.detail) for row in found.rows] == [
        ("claims", "cloud-managed, internal: model-a, model-b"),
        ("summarize", "self-managed, internal: vllm server stg-summarize in stg-gpu/summarize"),
    ]
    panels = found.rows[1].panels
    assert [p.title for p in panels] == [f"summarize: {TITLES[s]}" for s in PANELS["vllm"]]
    latency = panels[PANELS["vllm"].index("latency")]
    scrape = 'namespace="summarize", job="stg-summarize-metrics"'
    assert latency == Panel(
        "summarize: Latency p95",
        (Metric("vllm:e2e_request_latency_seconds_bucket", "promql", scrape),),
        (Threshold(9, "s", None, "latency alert (spec)"),),
    )
    gpu = panels[PANELS["vllm"].index("gpu-utilisation")]
    assert gpu.metrics == (Metric("DCGM_FI_DEV_GPU_UTIL", "promql", 'namespace="summarize"'),) and not gpu.thresholds


def _custom_changes() -> list[tuple[str, Any]]:
    body = aws.dashboard_body("eu-west-1", [EKS_SERVER], CHARTS)

    def no_endpoint(b: dict[str, Any]) -> None:
        del b["widgets"][2]["properties"]["endpoint"]

    def no_queries(b: dict[str, Any]) -> None:
        b["widgets"][2]["properties"]["params"]["queries"] = []

    def no_series(b: dict[str, Any]) -> None:
        b["widgets"][2]["properties"]["params"]["queries"][0]["query"] = "vector(1)"

    def text_threshold(b: dict[str, Any]) -> None:
        b["widgets"][3]["properties"]["params"]["threshold"] = "5"

    changes = []
    for change in (no_endpoint, no_queries, no_series, text_threshold):
        changed = copy.deepcopy(body)
        change(changed)
        changes.append((change.__name__, changed))
    return changes


@pytest.mark.parametrize(("change", "body"), _custom_changes(), ids=[c for c, _ in _custom_changes()])
def test_a_custom_widget_the_reader_cannot_read_is_refused(change: str, body: dict[str, Any]) -> None:
    read_cloudwatch(aws.dashboard_body("eu-west-1", [EKS_SERVER], CHARTS), "n", "r")  # the unchanged body reads
    with pytest.raises(DashboardError, match="CloudWatch dashboard n"):
        read_cloudwatch(body, "n", "r")


def _cloudwatch_changes() -> list[tuple[str, Any]]:
    body = aws.dashboard_body("eu-west-1", [BEDROCK])

    def no_heading(b: dict[str, Any]) -> None:
        del b["widgets"][1]

    def other_widget(b: dict[str, Any]) -> None:
        b["widgets"][2]["type"] = "alarm"

    def prose_heading(b: dict[str, Any]) -> None:
        b["widgets"][1]["properties"]["markdown"] = "### claims"

    def shorthand(b: dict[str, Any]) -> None:
        b["widgets"][2]["properties"]["metrics"][0][0] = "..."

    def text_value(b: dict[str, Any]) -> None:
        b["widgets"][3]["properties"]["annotations"]["horizontal"][0]["value"] = "5"

    changes = []
    for change in (no_heading, other_widget, prose_heading, shorthand, text_value):
        changed = copy.deepcopy(body)
        change(changed)
        changes.append((change.__name__, changed))
    return changes


@pytest.mark.parametrize(("change", "body"), _cloudwatch_changes(), ids=[c for c, _ in _cloudwatch_changes()])
def test_a_changed_cloudwatch_body_is_refused(change: str, body: dict[str, Any]) -> None:
    with pytest.raises(DashboardError, match="CloudWatch dashboard n"):
        read_cloudwatch(body, "n", "r")


def test_a_changed_workbook_is_refused() -> None:
    definition = azure.workbook_definition("t", [OPENAI, AKS_SERVER], {"gpu": WORKSPACE})
    items = definition["items"]
    metrics = items.index(next(i for i in items if i["type"] == azure.METRICS_ITEM))
    promql = items.index(next(i for i in items if i["type"] == azure.QUERY_ITEM))
    aggregation = copy.deepcopy(definition)
    aggregation["items"][metrics]["content"]["metrics"][0]["aggregation"] = 7
    with pytest.raises(DashboardError, match="aggregation 7"):
        read_workbook(aggregation, "n", "t", "r")
    kql = copy.deepcopy(definition)
    kql["items"][promql]["content"]["queryType"] = 0
    with pytest.raises(DashboardError, match="query type 0 is not PromQL"):
        read_workbook(kql, "n", "t", "r")
    other = copy.deepcopy(definition)
    other["items"][metrics]["type"] = 11
    with pytest.raises(DashboardError, match="neither text, metrics nor a PromQL query"):
        read_workbook(other, "n", "t", "r")
    label = copy.deepcopy(definition)
    label["items"][1]["content"]["json"] = "hr"
    with pytest.raises(DashboardError, match="is not a use case's `### ` heading"):
        read_workbook(label, "n", "t", "r")


def test_a_changed_cloud_monitoring_json_is_refused() -> None:
    layout = gcp.dashboard_json("proj", [VERTEX])
    scorecard = copy.deepcopy(layout)
    scorecard["mosaicLayout"]["tiles"][1]["widget"] = {"title": "x", "scorecard": {}}
    with pytest.raises(DashboardError, match="neither a section header nor an XY chart"):
        read_cloud_monitoring(scorecard, "r")
    mql = copy.deepcopy(layout)
    mql["mosaicLayout"]["tiles"][1]["widget"]["xyChart"]["dataSets"][0]["timeSeriesQuery"] = {
        "timeSeriesQueryLanguage": "fetch x"
    }
    with pytest.raises(DashboardError, match="neither a time series filter, a ratio nor a PromQL query"):
        read_cloud_monitoring(mql, "r")
    headless = copy.deepcopy(layout)
    del headless["mosaicLayout"]["tiles"][0]
    with pytest.raises(DashboardError, match="before any use case's heading"):
        read_cloud_monitoring(headless, "r")
