"""How a cluster's Prometheus hands its samples to the cloud's managed Prometheus.

Triplane's in-cluster Prometheus (`addons`) scrapes the model servers, the AI gateway and the GPU
exporter, and answers the autoscalers' queries over the last minutes. Where the cloud has a managed
Prometheus, that service keeps the series, evaluates the alerting rules and notifies the
environment's channel: the in-cluster server forwards every sample to it by remote write, as an
identity of its own that may only write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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


def keep_series(series: Sequence[str]) -> dict[str, Any]:
    """A relabelling rule keeping only `series` (by name; Prometheus anchors the regex)."""
    return {"sourceLabels": ["__name__"], "regex": "|".join(re.escape(name) for name in series), "action": "keep"}


def forwarding_only(forwarding: PrometheusForwarding, series: Sequence[str]) -> PrometheusForwarding:
    """`forwarding` sending only `series` (by name): a managed Prometheus bills every sample it takes in,
    and the autoscalers read the rest on the cluster."""
    entries = [{**entry, "writeRelabelConfigs": [keep_series(series)]} for entry in forwarding.remote_write]
    return replace(forwarding, remote_write=entries)


@dataclass(frozen=True)
class ManagedPrometheus:
    """A cluster's managed Prometheus: where its series are kept and its alerts evaluated."""

    workspace: pulumi.Input[str]
    """What the cloud's rules are scoped to: the AMP workspace ID, the Azure Monitor workspace's
    resource ID, the Google Cloud project whose Managed Service for Prometheus holds the series."""
    forwarding: PrometheusForwarding | None = None
    """How the cluster's Prometheus sends its samples there (None: the cloud's own collectors scrape
    the cluster, as GKE's managed collection does)."""


__all__ = ["PROMETHEUS_SERVICE_ACCOUNT", "ManagedPrometheus", "PrometheusForwarding", "forwarding_only", "keep_series"]
