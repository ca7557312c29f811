"""The alerting rules of self-managed and SaaS use cases, in Prometheus' own terms.

Every evaluator renders them from here: a cluster's managed Prometheus (an AMP rule file, an Azure
Monitor rule group, a Cloud Monitoring PromQL policy) or, on an existing cluster, Triplane's Prometheus.

`rules` renders, per use case whose signals a cluster's Prometheus scrapes (a `ModelServer` on TGI
or vLLM, or a `GatewayRoute` of the AI gateway), one PrometheusRule (monitoring.coreos.com/v1) in
the monitoring namespace, labelled for Triplane's Prometheus to load it (`addons._prometheus_values`
selects rules by the same label as monitors). Each alert is named `Triplane<Kind>` and labelled
`use_case`, `triplane_alert` (its kind) and `severity`.

`PrometheusAlertRules` creates those custom resources on one cluster, after the release installing
their CRD. Where the series come from, as each source exposes them on its scrape endpoint:

- TGI (router `metrics` crate, exporter 0.15: counters without `_total`, histograms with buckets):
  `tgi_request_count`, `tgi_request_failure{err}`, `tgi_request_duration`, `tgi_queue_size`,
  `tgi_request_input_length`, `tgi_request_generated_tokens` (huggingface/text-generation-inference
  v3.3.7 router/src/server.rs, docs/source/reference/metrics.md). TGI reports no time to first token.
- vLLM (https://docs.vllm.ai/en/stable/usage/metrics/): `vllm:e2e_request_latency_seconds`,
  `vllm:time_to_first_token_seconds`, `vllm:num_requests_waiting`, `vllm:prompt_tokens_total`,
  `vllm:generation_tokens_total`; its API server's `http_requests_total{handler,status="5xx"}`
  (prometheus-fastapi-instrumentator, vllm-project/vllm#15657) counts failures, which
  `vllm:request_success_total` cannot.
- Model servers are selected by `namespace` and `job="<app>-metrics"`: a ServiceMonitor's targets
  get the job of their Service's name (`autoscaling.scrape_metrics`; prometheus-operator v0.93
  `ServiceMonitorSpec.jobLabel`: "defaults to the name of the associated Kubernetes Service"), and
  Google Cloud's managed collectors the job of the PodMonitoring's name (`gcp_prometheus`), which is
  the same `<app>-metrics`; `up` of those targets counts ready replicas. GPU memory comes from
  dcgm-exporter (`DCGM_FI_DEV_FB_USED`/`_FREE`, MiB) with the namespace and pod of the workload using
  the GPU (`namespace`/`pod` where the scrape honours the exporter's labels; a `scope` narrows every
  selector further, e.g. to one cluster of a managed Prometheus).
- The AI gateway (envoyproxy/ai-gateway v1.1.0 internal/metrics/genai.go, OTel names in Prometheus
  form): `gen_ai_server_request_duration_seconds` (failures carry `error_type`),
  `gen_ai_server_time_to_first_token_seconds`, `gen_ai_client_token_usage{gen_ai_token_type}`, all
  with `gen_ai_original_model`, the model name the application sent (the route's model). These
  carry no status code: throttling is Envoy's count of 429s from the upstream on the route's cluster
  (`envoy_cluster_upstream_rq{envoy_response_code="429"}`; Envoy Gateway names it
  `httproute/<namespace>/<route>/rule/<n>`), both scraped by the gateway's PodMonitor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from triplane.components.gateway.install import ENVOY_GATEWAY_NAMESPACE, GATEWAY_NAMESPACE
from triplane.components.gateway.routes import route_name
from triplane.components.naming import physical_name
from triplane.components.observability.alerts import (
    KINDS,
    WINDOW_SECONDS,
    Alert,
    AlertKind,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    owner_tags,
)
from triplane.components.observability.signals import PANELS, Signal
from triplane.components.self_managed.addons import MONITORING_NAMESPACE, SCRAPE_LABELS, custom_resource
from triplane.components.tagging import k8s_labels

API_VERSION = "monitoring.coreos.com/v1"
CRD_GROUP = "monitoring.coreos.com"

ALERT_NAMES: Mapping[AlertKind, str] = {
    "error-rate": "TriplaneErrorRate",
    "throttling": "TriplaneThrottling",
    "latency": "TriplaneLatency",
    "first-token": "TriplaneFirstToken",
    "queue": "TriplaneQueue",
    "gpu-memory": "TriplaneGpuMemory",
    "token-burn": "TriplaneTokenBurn",
    "no-ready-replicas": "TriplaneNoReadyReplicas",
}

SEVERITY: Mapping[AlertKind, str] = {
    "error-rate": "critical",
    "no-ready-replicas": "critical",
    "throttling": "warning",
    "latency": "warning",
    "first-token": "warning",
    "queue": "warning",
    "gpu-memory": "warning",
    "token-burn": "warning",
}
"""Requests failing or nobody serving them pages someone; the rest is degraded service or cost."""

HELD: frozenset[AlertKind] = frozenset({"queue", "gpu-memory", "no-ready-replicas"})
"""Kinds whose window is how long a condition must hold (`for`); the others compute over their
window (a rate over 5 minutes, an increase over a day) and fire at once."""


@dataclass(frozen=True)
class EngineMetrics:
    """The series of one engine that back each alert kind."""

    requests: str
    failures: str
    """`requests` narrowed to the ones that failed on the server's side."""
    latency_bucket: str
    first_token_bucket: str | None
    queue: str
    tokens: tuple[str, ...]
    """Counters (or histogram sums) of input and output tokens."""


ENGINES: Mapping[str, EngineMetrics] = {
    # Validation and template errors are the caller's bad input (HTTP 422), not the server failing.
    "tgi": EngineMetrics(
        requests="tgi_request_count",
        failures='tgi_request_failure{err!~"validation|template"}',
        latency_bucket="tgi_request_duration_bucket",
        first_token_bucket=None,
        queue="tgi_queue_size",
        tokens=("tgi_request_input_length_sum", "tgi_request_generated_tokens_sum"),
    ),
    "vllm": EngineMetrics(
        requests='http_requests_total{handler=~"/v1/.+"}',
        failures='http_requests_total{handler=~"/v1/.+",status="5xx"}',
        latency_bucket="vllm:e2e_request_latency_seconds_bucket",
        first_token_bucket="vllm:time_to_first_token_seconds_bucket",
        queue="vllm:num_requests_waiting",
        tokens=("vllm:prompt_tokens_total", "vllm:generation_tokens_total"),
    ),
}

GATEWAY_REQUESTS = "gen_ai_server_request_duration_seconds_count"
GATEWAY_LATENCY_BUCKET = "gen_ai_server_request_duration_seconds_bucket"
GATEWAY_FIRST_TOKEN_BUCKET = "gen_ai_server_time_to_first_token_seconds_bucket"
GATEWAY_TOKENS = "gen_ai_client_token_usage_sum"
GATEWAY_MODEL_LABEL = "gen_ai_original_model"
UPSTREAM_REQUESTS = "envoy_cluster_upstream_rq"
GPU_MEMORY_USED = "DCGM_FI_DEV_FB_USED"
GPU_MEMORY_FREE = "DCGM_FI_DEV_FB_FREE"
GPU_UTILISATION = "DCGM_FI_DEV_GPU_UTIL"


def watched_series() -> tuple[str, ...]:
    """Every series an alerting rule or a dashboard panel reads (its name, without matchers): what a
    cluster's Prometheus forwards to a managed Prometheus, which evaluates the rules and feeds the
    dashboards, and nothing else it scrapes."""
    names = {"up", GATEWAY_REQUESTS, GATEWAY_LATENCY_BUCKET, GATEWAY_FIRST_TOKEN_BUCKET, GATEWAY_TOKENS}
    names |= {UPSTREAM_REQUESTS, GPU_MEMORY_USED, GPU_MEMORY_FREE, GPU_UTILISATION}
    for engine in ENGINES.values():
        series = [engine.requests, engine.failures, engine.latency_bucket, engine.first_token_bucket, engine.queue]
        names |= {s.partition("{")[0] for s in [*series, *engine.tokens] if s is not None}
    return tuple(sorted(names))


SERIES_PER_TARGET: Mapping[str, int] = {"tgi": 45, "vllm": 62, "gateway": 60}
"""About how many of `watched_series` one scrape target returns, for `triplane cost`'s sample count.

TGI (router/src/server.rs v3.3.7): `tgi_request_duration` has 35 buckets and +Inf (36), failures one per
`err` value (about 4), the count, queue, input and generated token sums and `up` (5). vLLM: end-to-end
latency 21 buckets and +Inf (22), time to first token 22 and +Inf (23), `http_requests_total` by handler,
method and status class (about 12), waiting, prompt and generation tokens and `up` (5). The AI gateway,
per route: duration and first-token buckets with and without `error_type`, token sums by type and
Envoy's upstream requests by response code (about 60). dcgm-exporter adds `GPU_SERIES` per GPU."""
GPU_SERIES = 3
"""`DCGM_FI_DEV_FB_USED`, `_FREE` and `DCGM_FI_DEV_GPU_UTIL` of one GPU."""


PANEL_UNITS: Mapping[Signal, str] = {
    "requests": "requests per 5 min",
    "errors": "server errors %",
    "throttles": "429s per 5 min",
    "latency": "s",
    "first-token": "s",
    "tokens": "tokens per day",
    "gpu-utilisation": "%",
    "gpu-memory": "%",
    "queue": "waiting per replica",
    "replicas": "ready replicas",
}
"""The unit of each panel's lines (`panel`), for its axis."""

GPU_SIGNALS: frozenset[Signal] = frozenset({"gpu-utilisation", "gpu-memory"})
"""Panels drawn from dcgm-exporter's series: left out where the cluster has no GPU metrics source."""


PANEL_WINDOW_SECONDS = 300
"""Rates and percentiles on a chart are over 5 minutes, as the alerts judge them (tokens: a day)."""


def metrics_service(app: str) -> str:
    """The Service a model server's ServiceMonitor scrapes (`autoscaling.scrape_metrics`): the `job` of
    its series."""
    return f"{app}-metrics"


@dataclass(frozen=True)
class GpuLabels:
    """The labels naming the workload that holds a GPU on dcgm-exporter's series, as they reach the
    Prometheus evaluating the rules."""

    namespace: str = "namespace"
    pod: str = "pod"


HONORED = GpuLabels()
"""The exporter's own labels, kept as they are (Triplane's Prometheus scrapes it with `honorLabels`)."""


def _duration(seconds: int) -> str:
    """Prometheus duration: the largest whole unit (`300` -> `5m`, `86400` -> `1d`)."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def literal(value: float) -> str:
    """A PromQL literal without an exponent (token thresholds run into the millions)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _select(series: str, matchers: Mapping[str, str]) -> str:
    """`series` (which may carry its own matchers) narrowed to `matchers` (exact values; a key
    ending in `=~` or `!=` uses that operator)."""
    name, _, own = series.partition("{")
    parts = [own.rstrip("}")] if own else []
    for key, value in matchers.items():
        op = "="
        for suffix in ("=~", "!="):
            if key.endswith(suffix):
                key, op = key[: -len(suffix)], suffix
        parts.append(f"{key}{op}{_quote(value)}")
    return f"{name}{{{','.join(p for p in parts if p)}}}"


def _ratio_percent(failed: str, total: str, window: str) -> str:
    return f"100 * sum(rate({failed}[{window}])) / sum(rate({total}[{window}]))"


def _p95(bucket: str, window: str) -> str:
    return f"histogram_quantile(0.95, sum by (le) (rate({bucket}[{window}])))"


def _sum_increase(series: Sequence[str], window: str) -> str:
    """Total increase of `series`; one that does not exist yet counts as zero."""
    return " + ".join(f"(sum(increase({s}[{window}])) or vector(0))" for s in series)


def server_scrape(target: ModelServer, scope: Mapping[str, str] | None = None) -> dict[str, str]:
    """The matchers selecting the model server's own series (its scrape job), within `scope`."""
    return {**(scope or {}), "namespace": target.namespace, "job": metrics_service(target.app)}


def server_gpus(
    target: ModelServer, scope: Mapping[str, str] | None = None, gpu: GpuLabels = HONORED
) -> dict[str, str]:
    """The matchers selecting dcgm-exporter's series of the GPUs the server's pods hold."""
    return {**(scope or {}), gpu.namespace: target.namespace}


def server_expr(
    alert: Alert, target: ModelServer, *, scope: Mapping[str, str] | None = None, gpu: GpuLabels = HONORED
) -> str:
    """The PromQL condition of `alert` on the model server `target`, threshold in the spec's unit.

    `scope` (label -> value) narrows every selector, e.g. to one cluster of a managed Prometheus that
    holds many; `gpu` names the labels the GPU series carry the workload's namespace and pod in."""
    engine = ENGINES[target.engine]
    scrape = server_scrape(target, scope)
    window = _duration(alert.window_seconds)
    threshold = literal(alert.threshold)
    kind = alert.kind
    if kind == "error-rate":
        body = _ratio_percent(_select(engine.failures, scrape), _select(engine.requests, scrape), window)
    elif kind == "latency":
        body = _p95(_select(engine.latency_bucket, scrape), window)
    elif kind == "first-token" and engine.first_token_bucket is not None:
        body = _p95(_select(engine.first_token_bucket, scrape), window)
    elif kind == "queue":
        # Waiting requests per ready replica: what the autoscaler's queue target is set in.
        body = f"sum({_select(engine.queue, scrape)}) / count({_select('up', scrape)} == 1)"
    elif kind == "gpu-memory":
        # dcgm-exporter labels each GPU with the namespace and pod of the workload using it.
        gpus = server_gpus(target, scope, gpu)
        used, free = _select(GPU_MEMORY_USED, gpus), _select(GPU_MEMORY_FREE, gpus)
        body = f"100 * max by ({gpu.namespace}, {gpu.pod}) ({used} / ({used} + {free}))"
    elif kind == "token-burn":
        body = _sum_increase([_select(s, scrape) for s in engine.tokens], window)
    elif kind == "no-ready-replicas":
        # A replica gone leaves no target at all, so `up == 0` alone would miss the last one leaving.
        return f"absent({_select('up', scrape)} == 1)"
    else:
        engine_key = target.engine
        raise ValueError(f"{kind!r} alerts have no {engine_key} metric; {engine_key} backs {KINDS[engine_key]}")
    return f"{body} > {threshold}"


@dataclass(frozen=True)
class PanelQuery:
    """One line (or stack) of a chart: its name and its PromQL."""

    name: str
    query: str
    per: str | None = None
    """The label the query splits its series by (a line per pod), if any."""


def server_panel(
    signal: Signal, target: ModelServer, *, scope: Mapping[str, str] | None = None, gpu: GpuLabels = HONORED
) -> list[PanelQuery]:
    """What a dashboard draws for one of a model server's `signals.PANELS` signals: the series and
    selectors its alerts use, in the alerts' units (percent, seconds, tokens per day, waiting requests
    per ready replica); requests per 5 minutes, GPU utilisation in percent, ready replicas."""
    engine = ENGINES[target.engine]
    scrape = server_scrape(target, scope)
    gpus = server_gpus(target, scope, gpu)
    window = _duration(PANEL_WINDOW_SECONDS)
    ready = f"count({_select('up', scrape)} == 1)"
    if signal == "requests":
        return [PanelQuery("requests", f"sum(increase({_select(engine.requests, scrape)}[{window}]))")]
    if signal == "errors":
        failed, total = _select(engine.failures, scrape), _select(engine.requests, scrape)
        return [PanelQuery("server errors", _ratio_percent(failed, total, window))]
    if signal == "latency":
        return [PanelQuery("p95", _p95(_select(engine.latency_bucket, scrape), window))]
    if signal == "first-token" and engine.first_token_bucket is not None:
        return [PanelQuery("p95", _p95(_select(engine.first_token_bucket, scrape), window))]
    if signal == "tokens":
        day = _duration(WINDOW_SECONDS["token-burn"])
        return [
            PanelQuery(kind, f"sum(increase({_select(series, scrape)}[{day}]))")
            for kind, series in zip(("input", "output"), engine.tokens, strict=True)
        ]
    if signal == "gpu-utilisation":
        return [PanelQuery("GPU", f"max by ({gpu.pod}) ({_select(GPU_UTILISATION, gpus)})", per=gpu.pod)]
    if signal == "gpu-memory":
        used, free = _select(GPU_MEMORY_USED, gpus), _select(GPU_MEMORY_FREE, gpus)
        return [PanelQuery("GPU memory", f"100 * max by ({gpu.pod}) ({used} / ({used} + {free}))", per=gpu.pod)]
    if signal == "queue":
        return [PanelQuery("waiting per replica", f"sum({_select(engine.queue, scrape)}) / {ready}")]
    if signal == "replicas":
        return [PanelQuery("ready", f"{ready} or vector(0)")]
    raise ValueError(f"{target.engine} emits no {signal!r} signal; its panels are {PANELS[target.engine]}")


def _gateway_model(target: GatewayRoute, scope: Mapping[str, str] | None) -> dict[str, str]:
    """The matchers selecting the gateway's series of the route's model."""
    return {**(scope or {}), "namespace": ENVOY_GATEWAY_NAMESPACE, GATEWAY_MODEL_LABEL: target.model}


def _gateway_throttled(route: str, gateway_namespace: str, scope: Mapping[str, str] | None) -> str:
    """Envoy's upstream requests answered 429 on the route's clusters."""
    cluster = {
        **(scope or {}),
        "namespace": ENVOY_GATEWAY_NAMESPACE,
        "envoy_cluster_name=~": f"httproute/{gateway_namespace}/{route}/rule/[0-9]+",
        "envoy_response_code": "429",
    }
    return _select(UPSTREAM_REQUESTS, cluster)


def gateway_expr(
    alert: Alert, target: GatewayRoute, route: str, gateway_namespace: str, *, scope: Mapping[str, str] | None = None
) -> str:
    """The PromQL condition of `alert` on the AI gateway's route `route` for `target.model` (`scope`
    narrows every selector, as `server_expr`'s)."""
    model = _gateway_model(target, scope)
    window = _duration(alert.window_seconds)
    threshold = literal(alert.threshold)
    kind = alert.kind
    if kind == "error-rate":
        failed = _select(GATEWAY_REQUESTS, {**model, "error_type!=": ""})
        body = _ratio_percent(failed, _select(GATEWAY_REQUESTS, model), window)
    elif kind == "throttling":
        body = f"sum(increase({_gateway_throttled(route, gateway_namespace, scope)}[{window}]))"
    elif kind == "latency":
        body = _p95(_select(GATEWAY_LATENCY_BUCKET, model), window)
    elif kind == "first-token":
        body = _p95(_select(GATEWAY_FIRST_TOKEN_BUCKET, model), window)
    elif kind == "token-burn":
        body = _sum_increase([_select(GATEWAY_TOKENS, {**model, "gen_ai_token_type=~": "input|output"})], window)
    else:
        raise ValueError(f"{kind!r} alerts have no gateway metric; the gateway backs {KINDS['gateway']}")
    return f"{body} > {threshold}"


def row_detail(target: ModelServer | GatewayRoute, cluster: str) -> str:
    """How a dashboard's row heading names a model server or gateway route on `cluster` (as its cloud
    names the cluster)."""
    if isinstance(target, ModelServer):
        return f"{target.engine} server {target.app} in {cluster}/{target.namespace}"
    return f"AI gateway route {target.model} in {cluster}"


def gateway_panel(
    signal: Signal,
    target: GatewayRoute,
    *,
    gateway_namespace: str = GATEWAY_NAMESPACE,
    scope: Mapping[str, str] | None = None,
) -> list[PanelQuery]:
    """What a dashboard draws for one of a gateway route's `signals.PANELS` signals, in its alerts'
    units: requests and 429s per 5 minutes, error %, seconds, tokens per day."""
    model = _gateway_model(target, scope)
    window = _duration(PANEL_WINDOW_SECONDS)
    if signal == "requests":
        return [PanelQuery("requests", f"sum(increase({_select(GATEWAY_REQUESTS, model)}[{window}]))")]
    if signal == "errors":
        failed = _select(GATEWAY_REQUESTS, {**model, "error_type!=": ""})
        return [PanelQuery("errors", _ratio_percent(failed, _select(GATEWAY_REQUESTS, model), window))]
    if signal == "throttles":
        throttled = _gateway_throttled(route_name(target.model), gateway_namespace, scope)
        return [PanelQuery("upstream 429", f"sum(increase({throttled}[{window}]))")]
    if signal == "latency":
        return [PanelQuery("p95", _p95(_select(GATEWAY_LATENCY_BUCKET, model), window))]
    if signal == "first-token":
        return [PanelQuery("p95", _p95(_select(GATEWAY_FIRST_TOKEN_BUCKET, model), window))]
    if signal == "tokens":
        day = _duration(WINDOW_SECONDS["token-burn"])
        return [
            PanelQuery(kind, f"sum(increase({_select(GATEWAY_TOKENS, {**model, 'gen_ai_token_type': kind})}[{day}]))")
            for kind in ("input", "output")
        ]
    raise ValueError(f"the gateway emits no {signal!r} signal; its panels are {PANELS['gateway']}")


def panel(
    signal: Signal,
    target: ModelServer | GatewayRoute,
    *,
    scope: Mapping[str, str] | None = None,
    gpu: GpuLabels = HONORED,
    gateway_namespace: str = GATEWAY_NAMESPACE,
) -> list[PanelQuery]:
    """A model server's or gateway route's panel, as `server_panel` or `gateway_panel` draws it."""
    if isinstance(target, ModelServer):
        return server_panel(signal, target, scope=scope, gpu=gpu)
    return gateway_panel(signal, target, gateway_namespace=gateway_namespace, scope=scope)


def rule(
    alert: Alert,
    target: ModelServer | GatewayRoute,
    *,
    gateway_namespace: str = GATEWAY_NAMESPACE,
    scope: Mapping[str, str] | None = None,
    gpu: GpuLabels = HONORED,
) -> dict[str, Any]:
    """One alerting rule of a PrometheusRule group, in the CRD's field names (`scope` and `gpu` as
    `server_expr` takes them; a gateway route's rule takes `scope` alone)."""
    if isinstance(target, ModelServer):
        expr = server_expr(alert, target, scope=scope, gpu=gpu)
    else:
        expr = gateway_expr(alert, target, route_name(alert.use_case), gateway_namespace, scope=scope)
    body: dict[str, Any] = {
        "alert": ALERT_NAMES[alert.kind],
        "expr": expr,
        "labels": {"severity": SEVERITY[alert.kind], "use_case": alert.use_case, "triplane_alert": alert.kind},
        "annotations": {"summary": alert.summary},
    }
    if alert.kind in HELD:
        body["for"] = _duration(alert.window_seconds)
    return body


def rule_name(use_case: str) -> str:
    return physical_name("triplane", use_case, kind="k8s")


def rules(
    use_cases: Sequence[MonitoredUseCase],
    *,
    labels: Mapping[str, str] | None = None,
    gateway_namespace: str = GATEWAY_NAMESPACE,
) -> list[dict[str, Any]]:
    """One PrometheusRule per use case scraped by a cluster's Prometheus, every alert in one group.

    Use cases on other sources (managed services) are left to their cloud's renderer. `labels`
    (from `k8s_labels`) go on each resource beside Triplane's selection label; `gateway_namespace`
    is the AI gateway's (`AIGatewayInstallArgs.namespace`), whose routes are named after use cases.
    """
    rendered: list[dict[str, Any]] = []
    for use_case in use_cases:
        target = use_case.target
        if not isinstance(target, ModelServer | GatewayRoute) or not use_case.alerts:
            continue
        name = rule_name(use_case.name)
        rendered.append(
            {
                "apiVersion": API_VERSION,
                "kind": "PrometheusRule",
                "metadata": {
                    "name": name,
                    "namespace": MONITORING_NAMESPACE,
                    "labels": {**(labels or {}), **k8s_labels(owner_tags(use_case)), **SCRAPE_LABELS},
                },
                "spec": {
                    "groups": [
                        {
                            "name": name,
                            "rules": [rule(a, target, gateway_namespace=gateway_namespace) for a in use_case.alerts],
                        }
                    ]
                },
            }
        )
    names = [r["metadata"]["name"] for r in rendered]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"use cases {duplicated} render PrometheusRules of the same name; give them distinct names")
    return rendered


@dataclass
class PrometheusAlertRulesArgs:
    rules: Sequence[Mapping[str, Any]]
    """What `rules(...)` rendered for the use cases of this cluster."""
    provider: pulumi.ProviderResource | None = None
    """The cluster's Kubernetes provider (else the caller's `opts` carry it)."""
    crd_releases: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """API group -> the release installing its CRD (`monitoring.coreos.com`: `ClusterAddons`'
    prometheus-operator); absent where the cluster already has it."""


class PrometheusAlertRules(pulumi.ComponentResource):
    """The PrometheusRules of one cluster, each created after the release installing its CRD."""

    def __init__(self, name: str, args: PrometheusAlertRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.provider is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[args.provider]))
        super().__init__("triplane:observability:PrometheusAlertRules", name, None, opts)
        release = args.crd_releases.get(CRD_GROUP)
        for body in args.rules:
            custom_resource(
                f"{name}-{body['metadata']['name']}",
                body,
                pulumi.ResourceOptions(parent=self, depends_on=[release] if release is not None else []),
            )
        self.register_outputs({"rules": [body["metadata"]["name"] for body in args.rules]})


__all__ = [
    "ALERT_NAMES",
    "ENGINES",
    "GPU_SIGNALS",
    "HONORED",
    "PANEL_UNITS",
    "SEVERITY",
    "GpuLabels",
    "PanelQuery",
    "PrometheusAlertRules",
    "PrometheusAlertRulesArgs",
    "gateway_expr",
    "gateway_panel",
    "literal",
    "panel",
    "row_detail",
    "rule",
    "rules",
    "server_expr",
    "server_gpus",
    "server_panel",
    "server_scrape",
    "watched_series",
]
