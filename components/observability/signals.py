"""The signals every use case shows, in one order: a dashboard row per use case, a panel per signal.

Every cloud's dashboard (`aws`, `azure`, `gcp`) lays its rows out from `PANELS`, so the same signal
sits in the same column whatever the pattern; a source that does not emit a signal leaves its column
out rather than showing an empty panel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from triplane.components.observability.alerts import Alert, AlertKind, MonitoredUseCase, Source

Signal = Literal[
    "requests", "errors", "throttles", "latency", "first-token", "tokens",
    "gpu-utilisation", "gpu-memory", "queue", "replicas",
]  # fmt: skip

TITLES: Mapping[Signal, str] = {
    "requests": "Requests",
    "errors": "Errors",
    "throttles": "Throttled",
    "latency": "Latency p95",
    "first-token": "Time to first token p95",
    "tokens": "Tokens (input, output) vs volume",
    "gpu-utilisation": "GPU utilisation",
    "gpu-memory": "GPU memory",
    "queue": "Queue depth",
    "replicas": "Ready replicas",
}

PANELS: Mapping[Source, tuple[Signal, ...]] = {
    "bedrock": ("requests", "errors", "throttles", "latency", "first-token", "tokens"),
    "azure-openai": ("requests", "errors", "throttles", "latency", "first-token", "tokens"),
    "vertex": ("requests", "errors", "throttles", "latency", "first-token", "tokens"),
    "tgi": ("requests", "errors", "latency", "tokens", "gpu-utilisation", "gpu-memory", "queue", "replicas"),
    "vllm": (
        "requests", "errors", "latency", "first-token", "tokens", "gpu-utilisation", "gpu-memory", "queue", "replicas",
    ),
    "gateway": ("requests", "errors", "throttles", "latency", "first-token", "tokens"),
}  # fmt: skip
"""The panels of a use case's row, by where its signals are born (`alerts.Source`)."""

PANEL_ALERTS: Mapping[Signal, AlertKind] = {
    "errors": "error-rate",
    "throttles": "throttling",
    "latency": "latency",
    "first-token": "first-token",
    "tokens": "token-burn",
    "gpu-memory": "gpu-memory",
    "queue": "queue",
}
"""The alert whose threshold a panel draws, whatever the source (requests, GPU utilisation and ready
replicas have none)."""


def panel_alert(use_case: MonitoredUseCase, signal: Signal) -> Alert | None:
    """The use case's alert whose threshold the panel of `signal` draws, if it has one."""
    kind = PANEL_ALERTS.get(signal)
    return next((a for a in use_case.alerts if a.kind == kind), None)
