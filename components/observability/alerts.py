"""The alerts every use case gets, whatever its pattern: one list, rendered natively per source.

An `Alert` says what to watch in the terms the spec uses (a percentage, seconds, tokens per day);
each renderer (`aws`, `azure`, `gcp`, `prometheus`) turns it into its source's metric and unit. Which
alerts a use case gets depends on where its signals are born (`KINDS`): a managed service reports
throttling but no GPU memory, a model server the reverse.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Literal

AlertKind = Literal[
    "error-rate", "throttling", "latency", "first-token", "queue", "gpu-memory", "token-burn", "no-ready-replicas"
]
Source = Literal["bedrock", "azure-openai", "vertex", "tgi", "vllm", "gateway"]
"""Where a use case's signals are born: its managed service, its model server's engine, or (SaaS)
the AI gateway in front of it."""
Tier = Literal["dev", "staging", "prod"]

THRESHOLD_FIELDS: Mapping[AlertKind, str] = {
    "error-rate": "error_rate_percent",
    "throttling": "throttles_per_5_minutes",
    "latency": "latency_p95_seconds",
    "first-token": "first_token_p95_seconds",
    "queue": "queue_depth",
    "gpu-memory": "gpu_memory_percent",
    "token-burn": "token_burn_percent",
}
"""The `alerts` field of the spec each kind's threshold comes from (`no-ready-replicas` has none)."""

WINDOW_SECONDS: Mapping[AlertKind, int] = {
    "error-rate": 300,
    "throttling": 300,
    "latency": 300,
    "first-token": 300,
    "queue": 600,
    "gpu-memory": 600,
    "token-burn": 86_400,
    "no-ready-replicas": 300,
}
"""How long a condition must hold, or the period a sum covers (token burn: a day)."""

DEFAULTS: Mapping[Tier, Mapping[AlertKind, float]] = {
    "dev": {
        "error-rate": 20, "throttling": 50, "latency": 120, "first-token": 20,
        "queue": 32, "gpu-memory": 98, "token-burn": 300,
    },
    "staging": {
        "error-rate": 10, "throttling": 20, "latency": 60, "first-token": 10,
        "queue": 16, "gpu-memory": 95, "token-burn": 200,
    },
    "prod": {
        "error-rate": 5, "throttling": 5, "latency": 30, "first-token": 5,
        "queue": 8, "gpu-memory": 92, "token-burn": 150,
    },
}  # fmt: skip
"""Thresholds by tier, in the spec's units: prod is told first, dev only when something is clearly wrong."""

KINDS: Mapping[Source, tuple[AlertKind, ...]] = {
    "bedrock": ("error-rate", "throttling", "latency", "first-token", "token-burn"),
    "azure-openai": ("error-rate", "throttling", "latency", "first-token", "token-burn"),
    "vertex": ("error-rate", "throttling", "latency", "first-token", "token-burn"),
    "tgi": ("error-rate", "latency", "queue", "gpu-memory", "token-burn", "no-ready-replicas"),
    "vllm": ("error-rate", "latency", "first-token", "queue", "gpu-memory", "token-burn", "no-ready-replicas"),
    "gateway": ("error-rate", "throttling", "latency", "first-token", "token-burn"),
}
"""The alerts each source can back with a metric it really emits. TGI reports no time to first token,
and a model server refuses nothing for quota (its queue is the saturation signal)."""

MILLISECONDS_PER_SECOND = 1000
"""The spec's latencies are seconds; the services' latency metrics are milliseconds."""

DAYS_PER_MONTH = 30

EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
"""An address a channel can mail (the spec checks the full form; the channels refuse what is plainly not one)."""


@dataclass(frozen=True)
class Alert:
    """One alert of one use case: the condition in the spec's units, and where its threshold came from."""

    use_case: str
    kind: AlertKind
    threshold: float
    """Percent, count per window, seconds, requests per replica, or (token burn) tokens per day."""
    origin: Literal["spec", "tier default"]
    """Whose threshold: the use case's `alerts`, or the tier's `DEFAULTS` (token burn: whose percentage of
    the declared volume)."""

    @property
    def name(self) -> str:
        return f"{self.use_case}-{self.kind}"

    @property
    def window_seconds(self) -> int:
        return WINDOW_SECONDS[self.kind]

    @property
    def summary(self) -> str:
        """One line a person reads in `triplane plan` and in the notification."""
        value = f"{self.threshold:g}"
        return {
            "error-rate": f"server errors above {value}% of requests over 5 minutes",
            "throttling": f"more than {value} throttled requests in 5 minutes",
            "latency": f"p95 request duration above {value} s over 5 minutes",
            "first-token": f"p95 time to first token above {value} s over 5 minutes",
            "queue": f"more than {value} requests waiting per replica for 10 minutes",
            "gpu-memory": f"GPU memory above {value}% for 10 minutes",
            "token-burn": f"more than {self.threshold:,.0f} tokens in a day (the declared volume's daily share "
            "plus its margin)",
            "no-ready-replicas": "no replica ready to serve for 5 minutes",
        }[self.kind]


def use_case_alerts(
    use_case: str,
    source: Source,
    tier: Tier,
    thresholds: Mapping[str, float | None],
    tokens_per_month: int | None,
    always_serving: bool = True,
    gpu_metrics: bool = True,
) -> tuple[Alert, ...]:
    """The alerts of one use case: every kind its source backs, the spec's threshold or the tier's.

    Token burn needs a declared volume: without one there is nothing to burn through, so no alert. A
    server allowed to scale to zero (`always_serving` false) has no replica by design at times, so it
    gets no alert for that; a server whose cluster's GPU metrics reach no Prometheus (`gpu_metrics`
    false) gets no GPU memory alert.
    """
    alerts = []
    for kind in KINDS[source]:
        if kind == "no-ready-replicas":
            if always_serving:
                alerts.append(Alert(use_case, kind, 0, "tier default"))
            continue
        if kind == "gpu-memory" and not gpu_metrics:
            continue
        field = THRESHOLD_FIELDS[kind]
        given = thresholds.get(field)
        value = DEFAULTS[tier][kind] if given is None else given
        if kind == "token-burn":
            if not tokens_per_month:
                continue
            value = daily_tokens(tokens_per_month, value)
        alerts.append(Alert(use_case, kind, value, "tier default" if given is None else "spec"))
    return tuple(alerts)


def daily_tokens(tokens_per_month: int, percent: float) -> int:
    """The token-burn threshold: a day's share of the monthly volume, scaled by `percent`."""
    return round(tokens_per_month / DAYS_PER_MONTH * percent / 100)


@dataclass(frozen=True)
class BedrockModels:
    """Bedrock's `AWS/Bedrock` metrics of a use case's models (dimension `ModelId`) in one region."""

    region: str
    model_ids: tuple[str, ...]
    """As invoked: a foundation model ID or an inference profile ID (`us.anthropic...`)."""


@dataclass(frozen=True)
class AzureOpenAIDeployments:
    """An Azure OpenAI account's metrics, filtered to the use case's deployments (`ModelDeploymentName`)."""

    account_id: object
    """The account's resource ID (a `pulumi.Input[str]`)."""
    deployments: tuple[str, ...]


@dataclass(frozen=True)
class VertexModels:
    """Vertex AI's publisher-model metrics of a use case's models in one project and region."""

    project: str
    region: str
    models: tuple[str, ...]


@dataclass(frozen=True)
class ModelServer:
    """A self-managed model server, scraped by its cluster's Prometheus."""

    cluster: str
    namespace: str
    app: str
    """The server's Kubernetes name (its Deployment and Service; its `app.kubernetes.io/instance` label)."""
    engine: Literal["tgi", "vllm"]


@dataclass(frozen=True)
class GatewayRoute:
    """A SaaS use case behind the AI gateway: its route's token and request metrics."""

    cluster: str
    model: str
    """The model name the gateway routes on (the use case's name)."""


Target = BedrockModels | AzureOpenAIDeployments | VertexModels | ModelServer | GatewayRoute


@dataclass(frozen=True)
class MonitoredUseCase:
    """One row of every dashboard and the owner of its alerts."""

    name: str
    pattern: str
    classification: str
    target: Target
    alerts: tuple[Alert, ...]


def scraped_source(target: ModelServer | GatewayRoute) -> Source:
    """Where a scraped target's signals are born: its server's engine, or the AI gateway."""
    return target.engine if isinstance(target, ModelServer) else "gateway"


def on_clusters(use_case: MonitoredUseCase, clusters: Container[str]) -> bool:
    """A model server or gateway route on one of `clusters` (by the spec's cluster name)."""
    return isinstance(use_case.target, ModelServer | GatewayRoute) and use_case.target.cluster in clusters


USE_CASE_TAG = "use-case"
"""The tag naming the use case an alert resource watches (the policies and `triplane plan` read it)."""


def owner_tags(use_case: MonitoredUseCase) -> dict[str, str]:
    """What a use case's alert resources state over their component's (shared) tags: whose they are."""
    return {USE_CASE_TAG: use_case.name, "pattern": use_case.pattern, "data-classification": use_case.classification}


def alert_tags(use_case: MonitoredUseCase, alert: Alert) -> dict[str, str]:
    """An alert resource's own tags: its owner's, and what it watches (`alert`). The policies and
    `triplane plan` read `use-case` and `alert`."""
    return {**owner_tags(use_case), "alert": alert.kind}
