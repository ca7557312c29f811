"""How a cluster's Prometheus hands its samples to the cloud's managed Prometheus.

Triplane's in-cluster Prometheus (`addons`) scrapes the model servers, the AI gateway and the GPU
exporter, and answers the autoscalers' queries over the last minutes. Where the cloud has a managed
Prometheus, that service keeps the series, evaluates the alerting rules and notifies the
environment's channel: the in-cluster server forwards every sample to it by remote write, as an
identity of its own that may only write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

PROMETHEUS_SERVICE_ACCOUNT = "triplane-prometheus"
"""The service account Triplane's Prometheus runs as (set in the chart's values, in the `monitoring`
namespace): the subject a cloud's workload identity trusts."""


@dataclass(frozen=True)
class PrometheusForwarding:
    """What the cluster's Prometheus needs to forward its samples: set in its chart values."""

    remote_write: Sequence[Mapping[str, Any]]
    """`prometheusSpec.remoteWrite` entries (prometheus-operator's `RemoteWriteSpec` field names;
    values may be Outputs)."""
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """On the Prometheus service account (e.g. the workload identity's client ID)."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """On the Prometheus pods (e.g. the label that lets a workload identity webhook mutate them)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before the server starts writing (its identity's grant, the private path)."""


__all__ = ["PROMETHEUS_SERVICE_ACCOUNT", "PrometheusForwarding"]
