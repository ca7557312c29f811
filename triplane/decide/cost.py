"""Monthly cost arithmetic: tokens for SaaS and cloud-managed, GPU node hours for self-managed, fixed costs.

Every amount is a `Line` that names its price source, so the output can say which prices it used.
Costs that depend on traffic are linear in the tokens per month once the use case's input/output mix
is fixed, and a self-managed deployment costs its minimum replicas until traffic needs more; both
shapes are a `Curve` (`fixed + max(floor, slope x tokens)`), which is what the break-even solves on.

Assumptions, all read from the `serving` section of the price sheet:
- a replica's capacity is `throughput_per_gpu[model class][gpu type] x GPUs x 3600 x utilization`
  output tokens per hour; an input (prompt) token costs `input_token_weight` of an output token;
- bytes on the wire are `tokens x bytes_per_token x wire_overhead` (firewall, NAT and endpoint
  processing); invocation logs of cloud-managed models are `tokens x bytes_per_token x log_overhead`;
- a month has `hours_per_month` hours (730);
- the AI gateway's pods fit on the system nodes of its cluster (their requests are shown against the
  nodes' size); its load balancer carries every use case's traffic;
- with `monitoring`, each cloud whose managed models a use case calls gets one channel, an alert per
  alert of its use cases and one dashboard, priced per alarm metric, monitored time series or
  condition; a cluster's alerts are PrometheusRules of its own Prometheus, and dcgm-exporter runs
  beside the model servers on their GPU nodes (neither has a cloud charge).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from triplane.components.gateway import install as gateway_install
from triplane.components.observability import aws as aws_monitoring
from triplane.components.observability import azure as azure_monitoring
from triplane.components.observability import gcp as gcp_monitoring
from triplane.components.observability import gcp_prometheus
from triplane.components.observability.alerts import Alert, Source
from triplane.components.observability.prometheus import GPU_SERIES, SERIES_PER_TARGET
from triplane.components.self_managed import autoscaling, gpu_metrics, sizing
from triplane.decide import policy
from triplane.decide.prices import MODEL_CLASSES, Instance, Prices
from triplane.stacks.clouds import SEAMS
from triplane.stacks.clouds.seam import ManagedModelService
from triplane.stacks.clusters import gpu_metrics_source
from triplane.stacks.egress import egress_allowlist
from triplane.stacks.observability import SERVICE_CLOUD, alerts_of, prometheus_clusters
from triplane.stacks.spec import CloudManagedUseCase, Environment, SaasUseCase, SelfManagedUseCase
from triplane.stacks.spec.cloud_managed import SERVICE_OF_CLOUD
from triplane.stacks.spec.gateway import gateway_cloud
from triplane.stacks.spec.use_case import Volume

CLOUDS = tuple(SEAMS)
_PROBE = 1e9  # tokens: where a linear cost's slope is read off


@dataclass(frozen=True)
class Traffic:
    input_tokens: int
    output_tokens: int

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    @classmethod
    def from_volume(cls, volume: Volume | None) -> Traffic | None:
        if volume is None:
            return None
        return cls(volume.input_tokens_per_month, volume.output_tokens_per_month)

    def output_share(self, default: float) -> float:
        return self.output_tokens / self.total if self.total else default

    @classmethod
    def at_mix(cls, total: float, output_share: float) -> Traffic:
        output = round(total * output_share)
        return cls(round(total) - output, output)


@dataclass(frozen=True)
class Line:
    item: str
    monthly: float
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Curve:
    """Monthly cost at `tokens` per month (same input/output mix): `fixed + max(floor, slope x tokens)`."""

    fixed: float
    floor: float
    slope: float

    def at(self, tokens: float) -> float:
        return self.fixed + max(self.floor, self.slope * tokens)

    def slope_at(self, tokens: float) -> float:
        return self.slope if self.slope * tokens >= self.floor else 0.0


@dataclass
class Estimate:
    pattern: str
    where: str
    """`aws`, `azure`, `gcp`, or the existing cluster it runs on."""
    model: str
    model_class: str
    lines: list[Line] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    curve: Curve | None = None
    low: float | None = None
    high: float | None = None
    spot_monthly: float | None = None
    allowed: bool = True
    why_not: str = ""

    @property
    def monthly(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def label(self) -> str:
        return f"{self.pattern} ({self.where}, {self.model})"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pattern": self.pattern,
            "where": self.where,
            "model": self.model,
            "model_class": self.model_class,
            "monthly": round(self.monthly, 2),
            "lines": [
                {"item": x.item, "monthly": round(x.monthly, 2), "source": x.source, "detail": x.detail}
                for x in self.lines
            ],
        }
        for key in ("low", "high", "spot_monthly"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(value, 2)
        if self.missing:
            out["missing_prices"] = self.missing
        if self.notes:
            out["notes"] = self.notes
        if not self.allowed:
            out["not_allowed"] = self.why_not
        return out


@dataclass
class UseCaseCost:
    name: str
    pattern: str
    data_classification: str
    traffic: Traffic | None
    current: Estimate
    alternatives: list[Estimate]
    break_even_tokens: float | None
    break_even_between: tuple[str, str] | None
    """(token-priced option, self-managed option) the break-even compares."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pattern": self.pattern,
            "data_classification": self.data_classification,
            "volume": None
            if self.traffic is None
            else {
                "input_tokens_per_month": self.traffic.input_tokens,
                "output_tokens_per_month": self.traffic.output_tokens,
            },
            "estimate": self.current.to_dict(),
            "alternatives": [a.to_dict() for a in self.alternatives],
            "break_even_tokens_per_month": None
            if self.break_even_tokens is None
            else round(self.break_even_tokens),
            "break_even_between": list(self.break_even_between) if self.break_even_between else None,
        }


@dataclass
class EnvironmentCost:
    stack: str
    use_cases: list[UseCaseCost]
    shared: list[Line]
    prices: Prices

    @property
    def total(self) -> float:
        return sum(u.current.monthly for u in self.use_cases) + sum(x.monthly for x in self.shared)

    def sources_used(self) -> dict[str, dict[str, str]]:
        keys: set[str] = {x.source for x in self.shared}
        for use_case in self.use_cases:
            for estimate in [use_case.current, *use_case.alternatives]:
                keys.update(x.source for x in estimate.lines)
                if estimate.pattern == "self-managed" and estimate.curve is not None:
                    keys.add(self.prices.serving["source"])
        return {key: self.prices.source(key) for key in sorted(keys)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "currency": self.prices.data["currency"],
            "prices_as_of": self.prices.as_of,
            "price_files": self.prices.files,
            "hours_per_month": self.prices.hours,
            "use_cases": [u.to_dict() for u in self.use_cases],
            "shared": [
                {"item": x.item, "monthly": round(x.monthly, 2), "source": x.source, "detail": x.detail}
                for x in self.shared
            ],
            "total_monthly": round(self.total, 2),
            "sources": self.sources_used(),
        }


# --- model sizes --------------------------------------------------------------------------------


def parameters_billions(model_id: str) -> float | None:
    """`meta-llama/Llama-3.1-70B-Instruct` -> 70; `mistralai/Mixtral-8x7B-v0.1` -> 56 (an upper bound)."""
    name = model_id.rsplit("/", 1)[-1]
    experts = re.search(r"(\d+)x(\d+(?:\.\d+)?)[bB](?![a-zA-Z])", name)
    if experts:
        return float(experts.group(1)) * float(experts.group(2))
    match = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)[bB](?![a-zA-Z])", name)
    return float(match.group(1)) if match else None


def open_model_class(model_id: str, parameters: float | None = None) -> tuple[str, bool]:
    """The class of an open model by its size: declared, catalogued, or read from its name.

    Returns (class, assumed); assumed means no size was found and `small` is a guess.
    """
    known = sizing.MODELS.get(model_id)
    size = parameters or (known.parameters_billion if known else None) or parameters_billions(model_id)
    if size is None:
        return "small", True
    if size <= 15:
        return "small", False
    if size <= 100:
        return "medium", False
    return "large", False


# --- estimates ----------------------------------------------------------------------------------


def _gigabytes(prices: Prices, traffic: Traffic, overhead_key: str) -> float:
    serving = prices.serving
    return traffic.total * float(serving["bytes_per_token"]) * float(serving[overhead_key]) / 1e9


def _token_lines(
    prices: Prices,
    pattern: str,
    vendor: str,
    cloud: str,
    model_id: str,
    traffic: Traffic,
    sku: str | None = None,
    capacity: int | None = None,
    service: str | None = None,
) -> tuple[list[Line], list[str], str, str]:
    """(lines, missing prices, priced model key, model class) for one token-priced use case."""
    hours = prices.hours
    lines: list[Line] = []
    missing: list[str] = []
    price = prices.token_price(pattern, vendor, model_id)
    model_class = price.model_class if price else "small"
    model_key = price.model if price else model_id
    skus = pattern == "cloud-managed" and _service(cloud, service).deployment_skus
    if skus and sku == "ProvisionedManaged":
        rule = prices.azure_sku(sku)
        units = capacity or 0
        if units == 0:
            missing.append(f"{model_id}: ProvisionedManaged needs `capacity` (PTUs) to be priced")
        lines.append(
            Line(
                "provisioned throughput",
                units * float(rule["ptu_hourly"]) * hours,
                str(rule["source"]),
                f"{units} PTU x ${rule['ptu_hourly']}/PTU-hour x {hours:g} h",
            )
        )
    elif price is None:
        missing.append(f"{pattern} {vendor} {model_id}: no token price; add it with --prices")
    else:
        multiplier = 1.0
        detail_sku = ""
        if skus:
            rule = prices.azure_sku(sku or "GlobalStandard")
            multiplier = float(rule["token_multiplier"])
            detail_sku = f" x {multiplier:g} ({sku or 'GlobalStandard'})" if multiplier != 1.0 else ""
        amount = (
            (traffic.input_tokens * price.input + traffic.output_tokens * price.output) / 1e6 * multiplier
        )
        lines.append(
            Line(
                f"tokens {price.model}",
                amount,
                price.source,
                f"{traffic.input_tokens / 1e6:g}M in x ${price.input}/M + "
                f"{traffic.output_tokens / 1e6:g}M out x ${price.output}/M{detail_sku}",
            )
        )
    wire = _gigabytes(prices, traffic, "wire_overhead")
    if pattern == "saas":
        paths = SEAMS[cloud].prices
        for item in paths.egress_per_gb:
            fixed = prices.fixed(cloud, item)
            lines.append(
                Line(
                    f"{item.replace('_', ' ')} processing",
                    wire * fixed.per_gb,
                    fixed.source,
                    f"{wire:.2f} GB x ${fixed.per_gb}/GB",
                )
            )
        secret = prices.fixed(cloud, "secret")
        lines.append(Line("API key secret", secret.monthly, secret.source, secret.unit))
        if paths.own_endpoint:
            endpoint = prices.fixed(cloud, paths.private_endpoint)
            lines.append(
                Line(
                    "key vault private endpoint",
                    endpoint.hourly * hours,
                    endpoint.source,
                    f"${endpoint.hourly}/h x {hours:g} h",
                )
            )
        else:
            key = prices.fixed(cloud, "kms_key")
            lines.append(Line("encryption key", key.monthly, key.source, key.unit))
    else:
        paths = SEAMS[cloud].prices
        path = paths.private_endpoint
        endpoint = prices.fixed(cloud, path)
        lines.append(
            Line(
                f"{path.replace('_', ' ')} processing",
                wire * endpoint.per_gb,
                endpoint.source,
                f"{wire:.2f} GB x ${endpoint.per_gb}/GB",
            )
        )
        if paths.own_endpoint:
            lines.append(
                Line(
                    "private endpoint",
                    endpoint.hourly * hours,
                    endpoint.source,
                    f"${endpoint.hourly}/h x {hours:g} h",
                )
            )
        else:
            key = prices.fixed(cloud, "kms_key")
            lines.append(Line("encryption key", key.monthly, key.source, key.unit))
        logs = _gigabytes(prices, traffic, "log_overhead")
        ingestion = prices.fixed(cloud, "log_ingestion")
        lines.append(
            Line(
                "invocation log ingestion",
                logs * ingestion.per_gb,
                ingestion.source,
                f"{logs:.2f} GB x ${ingestion.per_gb}/GB",
            )
        )
    return lines, missing, model_key, model_class


def _service(cloud: str, service: str | None) -> ManagedModelService:
    """A cloud-managed use case's service: the one it names, else its cloud's own."""
    return SEAMS[cloud].managed_models[service or SERVICE_OF_CLOUD[cloud]]


def token_estimate(
    prices: Prices,
    *,
    pattern: str,
    vendor: str,
    cloud: str,
    model_id: str,
    traffic: Traffic | None,
    sku: str | None = None,
    capacity: int | None = None,
    service: str | None = None,
) -> Estimate:
    """A SaaS (`vendor` = provider) or cloud-managed (`vendor` = the service's price key) use case priced
    by tokens; `service` is the cloud-managed service (default: the cloud's own)."""
    share = (traffic or Traffic(0, 0)).output_share(float(prices.serving["default_output_share"]))
    actual = traffic or Traffic(0, 0)
    lines, missing, model_key, model_class = _token_lines(
        prices, pattern, vendor, cloud, model_id, actual, sku, capacity, service
    )
    at_zero = sum(
        x.monthly
        for x in _token_lines(prices, pattern, vendor, cloud, model_id, Traffic(0, 0), sku, capacity, service)[0]
    )
    at_probe = sum(
        x.monthly
        for x in _token_lines(
            prices, pattern, vendor, cloud, model_id, Traffic.at_mix(_PROBE, share), sku, capacity, service
        )[0]
    )
    where = cloud if pattern == "cloud-managed" else f"{vendor} via {cloud}"
    estimate = Estimate(
        pattern=pattern,
        where=where,
        model=model_key,
        model_class=model_class,
        lines=lines,
        missing=missing,
        curve=Curve(fixed=at_zero, floor=0.0, slope=(at_probe - at_zero) / _PROBE),
    )
    if traffic is None:
        estimate.notes.append("no `volume` declared: token costs are 0; add `volume:` to the use case")
    return estimate


def _machine(
    prices: Prices, cloud: str | None, gpu_type: str, gpus: int, spot: bool, estimate: Estimate
) -> tuple[Instance, int] | str:
    """The priced machine for one replica; on an existing cluster, the sheet's `existing` rate per GPU
    hour when it has one, else the cheapest cloud machine as a cloud equivalent."""
    if cloud is not None:
        return prices.machine(cloud, gpu_type, gpus, spot)
    own = prices.data.get("existing", {}).get(gpu_type)
    if own is not None:
        hourly = float(own["hourly"]) * gpus
        estimate.notes.append(f"existing cluster: {gpu_type} at ${own['hourly']}/GPU-hour (own hardware)")
        return Instance(f"{gpus} x {gpu_type} (own)", gpus, hourly, hourly, str(own["source"])), 1
    options = [
        (pick[0].on_demand / pick[1], c, pick)
        for c in CLOUDS
        if not isinstance(pick := prices.machine(c, gpu_type, gpus, spot), str)
    ]
    if not options:
        return f"no cloud machine with {gpus} x {gpu_type} to price the existing cluster by"
    _, priced_cloud, pick = min(options, key=lambda o: o[0])
    estimate.notes.append(
        f"existing cluster: GPUs priced at the {priced_cloud} rate of {pick[0].instance} as a cloud "
        "equivalent; set `existing.<gpu type>.hourly` (per GPU-hour) in a --prices file for your own cost"
    )
    return pick


def self_managed_estimate(
    prices: Prices,
    *,
    cloud: str | None,
    cluster: str,
    model_id: str,
    gpu_type: str,
    gpus: int,
    min_replicas: int,
    max_replicas: int,
    traffic: Traffic | None,
    spot: bool = False,
    parameters: float | None = None,
) -> Estimate:
    """Self-managed serving priced by GPU node hours. `cloud=None`: an existing (on-premises) cluster."""
    hours = prices.hours
    model_class, assumed = open_model_class(model_id, parameters)
    notes: list[str] = []
    if assumed:
        notes.append(f"size of {model_id} unknown: priced as a {model_class} model")
    estimate = Estimate(
        pattern="self-managed",
        where=cloud or f"existing cluster {cluster}",
        model=model_id,
        model_class=model_class,
        notes=notes,
    )
    pick = _machine(prices, cloud, gpu_type, gpus, spot, estimate)
    if isinstance(pick, str):
        estimate.missing.append(pick)
        return estimate
    instance, per_node = pick
    serving = prices.serving
    share = (traffic or Traffic(0, 0)).output_share(float(serving["default_output_share"]))
    per_gpu = prices.throughput(model_class, gpu_type)

    # Scale to zero saves money only while there is no traffic at all: with any traffic a replica is
    # up for most of the month (a cold start takes minutes), so it is priced as one replica.
    busy = traffic is not None and traffic.total > 0
    if busy and min_replicas == 0:
        notes.append("min 0 replicas: priced as one replica all month once there is traffic")

    def nodes(replicas: int) -> int:
        return math.ceil(replicas / per_node)

    def node_cost(rate: float) -> tuple[Line, Curve | None, float, float]:
        low = nodes(min_replicas) * rate * hours
        high = nodes(max_replicas) * rate * hours
        base = nodes(max(min_replicas, 1)) * rate * hours
        item = f"GPU nodes {instance.instance}"
        if per_gpu is None or traffic is None or not busy:
            detail = f"min {min_replicas} replica(s): {nodes(min_replicas)} node(s) x ${rate}/h x {hours:g} h"
        if per_gpu is None:
            return Line(item, low, instance.source, detail), None, low, high
        effective = share + (1 - share) * float(serving["input_token_weight"])
        tokens_per_replica_hour = per_gpu * gpus * 3600 * float(serving["utilization"]) / effective
        replica_hour = rate / per_node
        curve = Curve(fixed=0.0, floor=base, slope=replica_hour / tokens_per_replica_hour)
        if traffic is None or not busy:
            return Line(item, low, instance.source, detail), curve, low, high
        needed = traffic.total / tokens_per_replica_hour
        amount = min(max(base, needed * replica_hour), max(high, base))
        detail = (
            f"{needed:,.0f} replica-hours needed for the volume; min {min_replicas}, max {max_replicas} "
            f"replicas; {per_node} replica(s) per node at ${rate}/h x {hours:g} h"
        )
        return Line(item, amount, instance.source, detail), curve, low, high

    rate = instance.spot if spot else instance.on_demand
    line, curve, low, high = node_cost(rate)
    estimate.lines.append(line)
    estimate.curve, estimate.low, estimate.high = curve, low, high
    estimate.spot_monthly = node_cost(instance.spot)[0].monthly
    if spot:
        estimate.notes.append(
            "GPU nodes priced at spot rates (can be reclaimed; keep min replicas on demand for production)"
        )
    if per_gpu is None:
        estimate.missing.append(
            f"no throughput estimate for a {model_class} model on {gpu_type}; priced at min replicas only"
        )
    elif traffic is not None and curve is not None and curve.slope * traffic.total > high:
        replicas = math.ceil(curve.slope * traffic.total / (rate / per_node) / hours)
        estimate.notes.append(
            f"the volume needs about {replicas} replicas running all month; max is "
            f"{max_replicas}, so requests will queue (cost shown at max)"
        )
    return estimate


# --- use cases and environments -----------------------------------------------------------------


def cluster_cloud(environment: Environment, cluster_name: str) -> str | None:
    cluster = environment.cluster(cluster_name)
    return cluster.new.cloud if cluster.new is not None else None


def _spot(use_case: SelfManagedUseCase) -> bool:
    """Spot GPU nodes when the use case's node pool says so."""
    node_pool = getattr(use_case, "node_pool", None)
    return getattr(node_pool, "capacity_type", "on-demand") == "spot"


def current_estimate(environment: Environment, use_case: Any, prices: Prices, spot: bool = False) -> Estimate:
    traffic = Traffic.from_volume(use_case.volume)
    if isinstance(use_case, SaasUseCase):
        model = use_case.models[0] if use_case.models else ""
        estimate = token_estimate(
            prices,
            pattern="saas",
            vendor=use_case.provider,
            cloud=use_case.cloud,
            model_id=model,
            traffic=traffic,
        )
        if not use_case.models:
            estimate.missing.append("no `models` listed: token cost unknown")
    elif isinstance(use_case, CloudManagedUseCase):
        first = use_case.models[0]
        estimate = token_estimate(
            prices,
            pattern="cloud-managed",
            vendor=_service(use_case.cloud, use_case.service).price_vendor,
            cloud=use_case.cloud,
            model_id=first.id,
            traffic=traffic,
            sku=first.sku,
            capacity=first.capacity,
            service=use_case.service,
        )
    elif isinstance(use_case, SelfManagedUseCase):
        return self_managed_estimate(
            prices,
            cloud=cluster_cloud(environment, use_case.cluster),
            cluster=use_case.cluster,
            model_id=use_case.model.id,
            gpu_type=use_case.gpu.type,
            gpus=use_case.gpu.count,
            min_replicas=use_case.replicas.min,
            max_replicas=use_case.replicas.max,
            traffic=traffic,
            spot=spot or _spot(use_case),
            parameters=getattr(use_case.model, "parameters_billion", None),
        )
    else:
        raise TypeError(f"unknown use case type {type(use_case).__name__}")
    if len(use_case.models) > 1:
        estimate.notes.append(f"{len(use_case.models)} models listed: the volume is priced at the first")
    return estimate


def reference_estimates(
    prices: Prices,
    pattern: str,
    model_class: str,
    clouds: list[str],
    traffic: Traffic | None,
    saas_cloud: str,
) -> list[Estimate]:
    """The class's reference deployment of `pattern`, once per candidate cloud (SaaS: once)."""
    reference = prices.reference(model_class)
    if pattern == "saas":
        return [
            token_estimate(
                prices,
                pattern="saas",
                vendor=reference["saas"]["provider"],
                cloud=saas_cloud,
                model_id=reference["saas"]["model"],
                traffic=traffic,
            )
        ]
    if pattern == "cloud-managed":
        return [
            token_estimate(
                prices,
                pattern="cloud-managed",
                vendor=c,
                cloud=c,
                model_id=reference["cloud-managed"][c],
                traffic=traffic,
            )
            for c in clouds
        ]
    out = []
    for cloud in clouds:
        gpu_type, gpus = reference["self-managed"]["gpu"][cloud]
        # Enough replicas for the volume: the reference is sized, not capped.
        out.append(
            self_managed_estimate(
                prices,
                cloud=cloud,
                cluster="new",
                model_id=reference["self-managed"]["model"],
                gpu_type=gpu_type,
                gpus=int(gpus),
                min_replicas=1,
                max_replicas=100,
                traffic=traffic,
            )
        )
    return out


def cheapest(estimates: list[Estimate]) -> Estimate | None:
    priced = [e for e in estimates if not e.missing]
    return min(priced, key=lambda e: e.monthly) if priced else None


def break_even(token: Curve, self_managed: Curve) -> float | None:
    """Smallest tokens per month at which self-managed costs no more than the token-priced option."""

    def gap(tokens: float) -> float:
        return token.at(tokens) - self_managed.at(tokens)

    points = sorted({0.0, *[c.floor / c.slope for c in (token, self_managed) if c.slope > 0]})
    for i, start in enumerate(points):
        if gap(start) >= -1e-9:
            return start
        end = points[i + 1] if i + 1 < len(points) else None
        probe = start + 1.0 if end is None else (start + end) / 2
        rate = token.slope_at(probe) - self_managed.slope_at(probe)
        if rate > 0:
            root = start - gap(start) / rate
            if end is None or root <= end:
                return root
    return None


def use_case_cost(environment: Environment, use_case: Any, prices: Prices, spot: bool = False) -> UseCaseCost:
    current = current_estimate(environment, use_case, prices, spot)
    traffic = Traffic.from_volume(use_case.volume)
    configured = [c for c in CLOUDS if getattr(environment.clouds, c) is not None]
    clouds = configured or list(CLOUDS)
    home = getattr(use_case, "cloud", None) or clusterless_cloud(environment, use_case) or clouds[0]
    model_class = current.model_class if current.model_class in MODEL_CLASSES else "small"
    alternatives: list[Estimate] = []
    for pattern in policy.PATTERNS:
        if pattern == use_case.pattern:
            continue
        best = cheapest(reference_estimates(prices, pattern, model_class, clouds, traffic, home))
        if best is None:
            continue
        if not policy.allowed(use_case.data_classification, pattern):
            best.allowed = False
            best.why_not = policy.why_not(use_case.data_classification, pattern)
        alternatives.append(best)
    token_side = (
        current
        if use_case.pattern != "self-managed"
        else cheapest([a for a in alternatives if a.pattern != "self-managed" and a.allowed])
    )
    managed_side = (
        current
        if use_case.pattern == "self-managed"
        else next((a for a in alternatives if a.pattern == "self-managed"), None)
    )
    point: float | None = None
    between: tuple[str, str] | None = None
    if token_side and managed_side and token_side.curve and managed_side.curve:
        point = break_even(token_side.curve, managed_side.curve)
        between = (token_side.label, managed_side.label)
    return UseCaseCost(
        name=use_case.name,
        pattern=use_case.pattern,
        data_classification=use_case.data_classification,
        traffic=traffic,
        current=current,
        alternatives=alternatives,
        break_even_tokens=point,
        break_even_between=between,
    )


def clusterless_cloud(environment: Environment, use_case: Any) -> str | None:
    if isinstance(use_case, SelfManagedUseCase):
        return cluster_cloud(environment, use_case.cluster)
    return None


def zones(environment: Environment, cloud: str) -> int:
    """How many zones carry per-zone resources (endpoints, firewall endpoints, NAT gateways)."""
    return SEAMS[cloud].prices.zones(environment)


def firewalled_clouds(environment: Environment) -> list[str]:
    """The clouds whose network gets an egress firewall: those with anything on their allowlist (SaaS APIs,
    hub downloads, deploy runners, images the cloud's cache cannot front)."""
    return [cloud for cloud in sorted(SEAMS) if egress_allowlist(environment, cloud)]


def shared_lines(environment: Environment, prices: Prices) -> list[Line]:
    """Once-per-environment infrastructure: egress firewalls and NAT, shared endpoints, clusters, the AI gateway."""
    hours = prices.hours
    lines: list[Line] = []
    managed = sorted({(u.cloud, u.service) for u in environment.use_cases if isinstance(u, CloudManagedUseCase)})
    for cloud in firewalled_clouds(environment):
        count = zones(environment, cloud)
        for item in SEAMS[cloud].prices.egress_hourly:
            fixed = prices.fixed(cloud, item)
            lines.append(
                Line(
                    f"{cloud} egress: {fixed.unit}",
                    count * fixed.hourly * hours,
                    fixed.source,
                    f"{count} x ${fixed.hourly}/h x {hours:g} h",
                )
            )
    for cloud, service in managed:
        label = SEAMS[cloud].managed_models[service].shared_endpoint
        if label is None:
            continue  # each use case has its own private endpoint, priced per use case
        fixed = prices.fixed(cloud, SEAMS[cloud].prices.private_endpoint)
        count = zones(environment, cloud)
        lines.append(
            Line(
                f"{cloud} {label or fixed.unit}",
                count * fixed.hourly * hours,
                fixed.source,
                f"{count} zone(s) x ${fixed.hourly}/h x {hours:g} h",
            )
        )
    for cluster in environment.kubernetes:
        runner = cluster.new.deployer.runner if cluster.new is not None else None
        if runner is not None:
            assert cluster.new is not None
            fixed = prices.fixed(cluster.new.cloud, "deploy_runner")
            size = fixed.unit.split()[0]
            unit = fixed.unit
            if runner.machine_type not in (None, size):
                unit = f"{runner.machine_type} deploy runner, priced as {size}"
            lines.append(Line(f"cluster {cluster.name}: {unit}", fixed.hourly * hours, fixed.source,
                              f"${fixed.hourly}/h x {hours:g} h"))
    used = {u.cluster for u in environment.use_cases if isinstance(u, SelfManagedUseCase)}
    if environment.gateway is not None:
        used.add(environment.gateway.cluster)  # the gateway's own cluster is there for it
    for cluster in environment.kubernetes:
        if cluster.new is None or cluster.name not in used:
            continue
        cloud = cluster.new.cloud
        plane = prices.fixed(cloud, "kubernetes_control_plane")
        nodes = prices.fixed(cloud, "system_nodes")
        lines.append(
            Line(
                f"cluster {cluster.name}: {plane.unit}",
                plane.hourly * hours,
                plane.source,
                f"${plane.hourly}/h x {hours:g} h",
            )
        )
        lines.append(
            Line(
                f"cluster {cluster.name}: {nodes.count} x {nodes.unit}",
                nodes.count * nodes.hourly * hours,
                nodes.source,
                f"{nodes.count} x ${nodes.hourly}/h x {hours:g} h",
            )
        )
    return lines + gateway_lines(environment, prices) + monitoring_lines(environment, prices)


# --- the AI gateway -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PodRequests:
    """What one kind of the gateway's pods asks the scheduler for, and who says so."""

    what: str
    pods: int
    cpu: float
    """vCPU per pod."""
    memory: float
    """GiB per pod."""
    said_by: str


SHUTDOWN_MANAGER = ("10m", "32Mi")
"""Envoy Gateway v1.9.0's request for the shutdown manager container of every proxy pod."""
ENVOY_GATEWAY_CHART = ("100m", "256Mi")
"""gateway-helm v1.9.0's `deployment.envoyGateway.resources.requests`."""
ENVOY_GATEWAY_DEFAULT = ("100m", "512Mi")
"""Envoy Gateway v1.9.0's request for the deployments it runs (the rate limit service) when none is set."""
AI_GATEWAY_CONTROLLER = (gateway_install.CONTROLLER_REQUESTS["cpu"], gateway_install.CONTROLLER_REQUESTS["memory"])
"""The AI gateway controller's request, as `ai_gateway_values` sets it."""
REDIS = (gateway_install.REDIS_REQUESTS["cpu"], gateway_install.REDIS_REQUESTS["memory"])
"""The Redis container's request, as `AIGatewayInstall` sets it."""


def _quantity(value: str) -> float:
    """A Kubernetes CPU (`100m`, `2`) or memory (`256Mi`, `1Gi`) quantity, in vCPU or GiB."""
    units = {"m": 1e-3, "Ki": 2**-20, "Mi": 2**-10, "Gi": 1.0}
    for suffix, scale in units.items():
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * scale
    return float(value)


def _requests(resources: dict[str, Any] | None, default: tuple[str, str]) -> tuple[float, float, bool]:
    """(vCPU, GiB, set by Triplane) of a container's `resources`, else the vendor's default."""
    asked = (resources or {}).get("requests") or {}
    if asked:
        return _quantity(str(asked.get("cpu", "0"))), _quantity(str(asked.get("memory", "0"))), True
    return _quantity(default[0]), _quantity(default[1]), False


def gateway_pods() -> list[PodRequests]:
    """The gateway's pods with their requests: Triplane's values where install.py sets them, else the
    vendors' defaults (the AI gateway's external processor in each proxy pod requests nothing)."""
    args = gateway_install.AIGatewayInstallArgs(
        hostname="gateway.example.com",
        tls_certificate="",
        tls_private_key="",
        source_ranges=["10.0.0.0/8"],
        load_balancer_annotations={},
    )
    proxy = gateway_install.envoy_proxy(args)["spec"]["provider"]["kubernetes"]["envoyDeployment"]
    envoy_gateway = gateway_install.envoy_gateway_values(args)
    rate_limit = envoy_gateway["config"]["envoyGateway"]["provider"]["kubernetes"]["rateLimitDeployment"]
    triplane = "set in install.py"
    out = []
    for what, pods, resources, default, vendor in (
        ("Envoy proxy", proxy["replicas"], proxy["container"].get("resources"), ENVOY_GATEWAY_DEFAULT,
         "Envoy Gateway default"),
        ("its shutdown manager", proxy["replicas"], None, SHUTDOWN_MANAGER, "Envoy Gateway default"),
        ("Envoy Gateway", 1, envoy_gateway.get("deployment", {}).get("envoyGateway", {}).get("resources"),
         ENVOY_GATEWAY_CHART, "chart default"),
        ("rate limit", 1, rate_limit.get("container", {}).get("resources"), ENVOY_GATEWAY_DEFAULT,
         "Envoy Gateway default"),
    ):
        cpu, memory, ours = _requests(resources, default)
        out.append(PodRequests(what, int(pods), cpu, memory, triplane if ours else vendor))
    for what, (cpu_request, memory_request) in (("AI gateway controller", AI_GATEWAY_CONTROLLER), ("Redis", REDIS)):
        out.append(PodRequests(what, 1, _quantity(cpu_request), _quantity(memory_request), triplane))
    return out


def gateway_lines(environment: Environment, prices: Prices) -> list[Line]:
    """The AI gateway's fixed cost: its internal load balancer (hourly, and per GB of the use cases'
    traffic through it), and its pods, which run on the system nodes of its cluster."""
    gateway = environment.gateway
    if gateway is None:
        return []
    hours = prices.hours
    pods = gateway_pods()
    cpu = sum(p.pods * p.cpu for p in pods)
    memory = sum(p.pods * p.memory for p in pods)
    proxies = next(p.pods for p in pods if p.what == "Envoy proxy")
    asked = (
        f"{proxies} proxies, Envoy Gateway, AI gateway controller, rate limit and Redis request "
        f"{cpu:.2f} vCPU and {memory:.2f} GiB"
    )
    cluster = environment.cluster(gateway.cluster)
    cloud = gateway_cloud(environment)
    lines: list[Line] = []
    if cloud is None:
        return [
            Line(
                f"AI gateway on existing cluster {cluster.name}",
                0.0,
                "ai-gateway-requests",
                f"not priced: your nodes and the load balancer its load_balancer_annotations make; {asked}",
            )
        ]
    balancer = prices.fixed(cloud, "gateway_load_balancer")
    traffic = [Traffic.from_volume(u.volume) for u in environment.use_cases]
    gigabytes = sum(_gigabytes(prices, t, "wire_overhead") for t in traffic if t is not None)
    lines.append(
        Line(f"AI gateway: {balancer.unit}", balancer.hourly * hours, balancer.source,
             f"${balancer.hourly}/h x {hours:g} h")
    )
    lines.append(
        Line(
            "AI gateway: load balancer data",
            gigabytes * balancer.per_gb,
            balancer.source,
            f"{gigabytes:.2f} GB (every use case's volume) x ${balancer.per_gb}/GB",
        )
    )
    if cluster.new is None:
        lines.append(
            Line(
                f"AI gateway pods on existing cluster {cluster.name}",
                0.0,
                "ai-gateway-requests",
                f"not priced (your nodes): {asked}",
            )
        )
        return lines
    nodes = prices.fixed(cloud, "system_nodes")
    size = prices.data["fixed"][cloud]["system_nodes"]
    capacity_cpu = nodes.count * float(size["vcpus"])
    capacity_memory = nodes.count * float(size["memory_gib"])
    node_cost = nodes.hourly * hours
    lines.append(
        Line(
            f"AI gateway pods on cluster {cluster.name}'s system nodes",
            0.0,
            "ai-gateway-requests",
            f"no extra node cost: {asked} ({cpu / capacity_cpu:.0%} of the CPU, {memory / capacity_memory:.0%} "
            f"of the memory of the {nodes.count} x {nodes.unit.split()[0]} above); a full pool grows by a node "
            f"(max {cluster.new.system_nodes.max}) at ${node_cost:,.2f}/month",
        )
    )
    return lines


# --- monitoring ---------------------------------------------------------------------------------



@dataclass(frozen=True)
class Watched:
    """One observable use case, its alerts, and how many models (or deployments) they watch."""

    name: str
    source: Source
    alerts: tuple[Alert, ...]
    models: int


def _watched(environment: Environment) -> list[Watched]:
    by_name = {u.name: u for u in environment.use_cases}
    return [
        Watched(name, source, alerts, len(getattr(by_name[name], "models", ())) or 1)
        for name, (source, alerts) in alerts_of(environment).items()
    ]


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


def monitoring_lines(environment: Environment, prices: Prices) -> list[Line]:
    """The monitoring's fixed cost per cloud and per cluster, counted from every use case's alerts."""
    monitoring = environment.monitoring
    if monitoring is None:
        return []
    emails = len(monitoring.notify.email)
    watched = _watched(environment)
    lines: list[Line] = []
    for cloud in CLOUDS:
        for service in SEAMS[cloud].managed_models:
            on_service = [u for u in watched if u.source == service]
            if on_service:
                lines += SERVICE_MONITORING[cast(Source, service)](cloud, on_service, emails, prices)
    return lines + _cluster_monitoring(environment, watched, prices)


def _cloudwatch(cloud: str, watched: list[Watched], emails: int, prices: Prices) -> list[Line]:
    """Bedrock on CloudWatch: a KMS-encrypted SNS topic with the emails, an alarm per alert, a dashboard."""
    key = prices.fixed(cloud, "kms_key")
    topic = prices.fixed(cloud, "alert_topic")
    alarm = prices.fixed(cloud, "alarm_metric")
    board = prices.fixed(cloud, "dashboard")
    alarms = sum(len(u.alerts) for u in watched)
    metrics = {u.name: sum(len(aws_monitoring.METRICS[a.kind]) * u.models for a in u.alerts) for u in watched}
    total = sum(metrics.values())
    each = "; ".join(
        f"{u.name}: {_plural(len(u.alerts), 'alarm')} over {_plural(metrics[u.name], 'metric')}" for u in watched
    )
    return [
        Line(
            f"{cloud} monitoring: alert topic encryption key",
            key.monthly,
            key.source,
            f"1 customer managed key for the SNS topic at ${key.monthly:.2f}/month",
        ),
        Line(
            f"{cloud} monitoring: SNS topic, {_plural(emails, 'email subscription')}",
            topic.monthly,
            topic.source,
            f"{topic.unit}; {_note(cloud, 'alert_topic', prices)}",
        ),
        Line(
            f"{cloud} monitoring: {_plural(alarms, 'CloudWatch alarm')}",
            total * alarm.monthly,
            alarm.source,
            f"{_plural(total, 'alarm metric')} x ${alarm.monthly:.2f} ({each}); "
            f"{_note(cloud, 'alarm_metric', prices)}",
        ),
        Line(
            f"{cloud} monitoring: 1 CloudWatch dashboard",
            board.monthly,
            board.source,
            f"1 x ${board.monthly:.2f}/month; {_note(cloud, 'dashboard', prices)}",
        ),
    ]


def _azure_monitor(cloud: str, watched: list[Watched], emails: int, prices: Prices) -> list[Line]:
    """Azure OpenAI on Azure Monitor: an action group, a metric alert rule per alert, a workbook."""
    group = prices.fixed(cloud, "action_group")
    series = prices.fixed(cloud, "metric_alert_series")
    board = prices.fixed(cloud, "dashboard")
    rules = sum(len(u.alerts) for u in watched)
    counted = {
        u.name: sum(u.models if azure_monitoring.series_per_deployment(a.kind) else 1 for a in u.alerts)
        for u in watched
    }
    total = sum(counted.values())
    each = "; ".join(
        f"{u.name}: {_plural(len(u.alerts), 'rule')}, {_plural(counted[u.name], 'time series', 'time series')}"
        for u in watched
    )
    return [
        Line(
            f"{cloud} monitoring: action group, {_plural(emails, 'email receiver')}",
            group.monthly,
            group.source,
            f"{group.unit}; {_note(cloud, 'action_group', prices)}",
        ),
        Line(
            f"{cloud} monitoring: {_plural(rules, 'metric alert rule')}",
            total * series.monthly,
            series.source,
            f"{total} time series x ${series.monthly:.2f} ({each}); {_note(cloud, 'metric_alert_series', prices)}",
        ),
        Line(
            f"{cloud} monitoring: 1 workbook",
            board.monthly,
            board.source,
            f"{board.unit}; {_note(cloud, 'dashboard', prices)}",
        ),
    ]


def _condition_runs(cloud: str, prices: Prices) -> tuple[int, float, float]:
    """How an alerting condition's query is billed: every how many seconds it runs, how many times a month,
    and the price of a million time series it returns."""
    sheet = prices.data["fixed"][cloud]["alert_condition"]
    every = int(sheet["evaluation_seconds"])
    return every, prices.hours * 3600 / every, float(sheet["per_million_series"])


def _cloud_monitoring(cloud: str, watched: list[Watched], emails: int, prices: Prices) -> list[Line]:
    """Vertex AI on Cloud Monitoring: a channel per email, an alert policy per alert, a dashboard."""
    channel = prices.fixed(cloud, "notification_channel")
    condition = prices.fixed(cloud, "alert_condition")
    board = prices.fixed(cloud, "dashboard")
    every, evaluations, per_million = _condition_runs(cloud, prices)
    conditions = sum(len(u.alerts) for u in watched)
    series = sum(u.models if gcp_monitoring.series_per_model(a.kind) else 1 for u in watched for a in u.alerts)
    returned = series * evaluations
    each = "; ".join(f"{u.name}: {len(u.alerts)}" for u in watched)
    return [
        Line(
            f"{cloud} monitoring: {_plural(emails, 'email notification channel')}",
            emails * channel.monthly,
            channel.source,
            channel.unit,
        ),
        Line(
            f"{cloud} monitoring: {_plural(conditions, 'alert policy', 'alert policies')}",
            conditions * condition.monthly,
            condition.source,
            f"{_plural(conditions, 'condition')} x ${condition.monthly:.2f} ({each}); no free allotment",
        ),
        Line(
            f"{cloud} monitoring: time series returned to alert conditions",
            returned / 1e6 * per_million,
            condition.source,
            f"{series} time series x {evaluations:,.0f} evaluations (every {every} s, {prices.hours:g} h) = "
            f"{returned / 1e6:.2f}M x ${per_million}/M",
        ),
        Line(
            f"{cloud} monitoring: 1 dashboard",
            board.monthly,
            board.source,
            f"{board.unit}; {_note(cloud, 'dashboard', prices)}",
        ),
    ]


SERVICE_MONITORING: Mapping[Source, Callable[[str, list[Watched], int, Prices], list[Line]]] = {
    "bedrock": _cloudwatch,
    "azure-openai": _azure_monitor,
    "vertex": _cloud_monitoring,
}
"""The native monitoring of each managed service's cloud: its channel, alerts and dashboard, priced."""


def _note(cloud: str, item: str, prices: Prices) -> str:
    return str(prices.data["fixed"][cloud][item].get("note", ""))


def _cluster_monitoring(environment: Environment, watched: list[Watched], prices: Prices) -> list[Line]:
    """Each cluster's PrometheusRules (its model servers', and the gateway's on the gateway's cluster),
    and dcgm-exporter on the GPU nodes of its self-managed use cases."""
    by_name = {u.name: u for u in environment.use_cases}
    rules: dict[str, list[Watched]] = {}
    for use_case in watched:
        if use_case.source in SERVICE_CLOUD:
            continue
        model = by_name[use_case.name]
        if isinstance(model, SelfManagedUseCase):
            cluster = model.cluster
        else:
            assert environment.gateway is not None  # a SaaS use case is observed only behind the gateway
            cluster = environment.gateway.cluster
        rules.setdefault(cluster, []).append(use_case)
    cpu, memory = _quantity(gpu_metrics.REQUESTS["cpu"]), _quantity(gpu_metrics.REQUESTS["memory"])
    managed = prometheus_clusters(environment)
    lines: list[Line] = _prometheus_paths(environment, set(managed.values()), prices)
    for spec in environment.kubernetes:
        on_cluster = rules.get(spec.name, [])
        if on_cluster and spec.name in managed:
            lines += _managed_prometheus(environment, spec.name, managed[spec.name], on_cluster, prices)
        elif on_cluster:
            count = sum(len(u.alerts) for u in on_cluster)
            each = ", ".join(f"{u.name} {len(u.alerts)}" for u in on_cluster)
            lines.append(
                Line(
                    f"cluster {spec.name}: {_plural(count, 'PrometheusRule alert')}",
                    0.0,
                    "in-cluster-prometheus",
                    f"no cloud charge: the cluster's Prometheus evaluates them ({each}) and keeps their samples on "
                    "the cluster (no per-sample charge)",
                )
            )
        servers = [
            u for u in environment.use_cases if isinstance(u, SelfManagedUseCase) and u.cluster == spec.name
        ]
        if not servers or gpu_metrics_source(environment, spec) != "exporter":
            continue  # no GPU pods to watch, or GPU metrics from the cloud's own exporter (GKE) or none
        lines.append(
            Line(
                f"cluster {spec.name}: dcgm-exporter on each GPU node",
                0.0,
                "dcgm-exporter-requests",
                f"no extra node cost: one pod on each GPU node{_gpu_nodes(environment, servers, prices)}, requesting "
                f"{cpu:g} vCPU and {memory:g} GiB beside the model server",
            )
        )
    return lines


def _seconds(interval: str) -> int:
    """`15s` -> 15."""
    return int(interval.removesuffix("s"))


def _prometheus_paths(environment: Environment, clouds: set[str], prices: Prices) -> list[Line]:
    """The private path each cloud's forwarders write through, once per network (shared by its clusters)."""
    lines = []
    for cloud in sorted(clouds):
        item = SEAMS[cloud].prices.prometheus_path
        if item is None:
            continue
        fixed = prices.fixed(cloud, item)
        count = SEAMS[cloud].prices.zones(environment)
        lines.append(
            Line(
                f"{cloud} monitoring: managed Prometheus private path",
                count * fixed.hourly * prices.hours,
                fixed.source,
                f"{count} x ${fixed.hourly}/h x {prices.hours:g} h ({fixed.unit}): the clusters' Prometheus write "
                "through it",
            )
        )
    return lines


def _managed_prometheus(
    environment: Environment, cluster: str, cloud: str, watched: list[Watched], prices: Prices
) -> list[Line]:
    """A cluster's managed Prometheus: the samples of the series its alerts read, at most replicas (billed
    per sample), its workspace's monthly items, what draws it on the cloud's dashboard, and on Cloud
    Monitoring the PromQL alert policies."""
    collectors = SEAMS[cloud].monitoring.collects_servers
    server_every = _seconds(gcp_prometheus.SCRAPE_INTERVAL if collectors else autoscaling.SCRAPE_INTERVAL)
    by_name = {u.name: u for u in environment.use_cases}
    samples = 0.0
    each = []
    for use_case in watched:
        model = by_name[use_case.name]
        if isinstance(model, SelfManagedUseCase):
            series = SERIES_PER_TARGET[model.engine] * model.replicas.max
            every = server_every
            if any(a.kind == "gpu-memory" for a in use_case.alerts) and not collectors:
                series += GPU_SERIES * model.gpu.count * model.replicas.max  # forwarded from dcgm-exporter
        else:
            series, every = SERIES_PER_TARGET["gateway"], _seconds(gateway_install.SCRAPE_INTERVAL)
        samples += series * prices.hours * 3600 / every
        each.append(f"{use_case.name} {series} every {every}s")
    sheet = prices.data["fixed"][cloud]["prometheus_samples"]
    per_million = float(sheet["per_million"])
    lines = [
        Line(
            f"cluster {cluster}: managed Prometheus samples",
            samples / 1e6 * per_million,
            str(sheet["source"]),
            f"about {samples / 1e6:,.0f} million samples a month ({'; '.join(each)} series at most replicas) x "
            f"${per_million}/million; {sheet.get('note', '')}",
        )
    ]
    for item in SEAMS[cloud].prices.prometheus_monthly:
        fixed = prices.fixed(cloud, item)
        what = fixed.unit.removeprefix("per ")
        lines.append(
            Line(f"cluster {cluster}: managed Prometheus, 1 {what}", fixed.monthly, fixed.source,
                 f"${fixed.monthly:.2f}/month")
        )
    query = SEAMS[cloud].prices.prometheus_query_path
    if query is not None:
        fixed = prices.fixed(cloud, query)
        lines.append(
            Line(
                f"cluster {cluster}: managed Prometheus private query endpoint",
                fixed.hourly * prices.hours,
                fixed.source,
                f"1 x ${fixed.hourly}/h x {prices.hours:g} h ({fixed.unit}): the dashboard's queries reach the "
                "workspace through it",
            )
        )
    for item in SEAMS[cloud].prices.prometheus_charts:
        fixed = prices.fixed(cloud, item)
        note = _note(cloud, item, prices)
        lines.append(
            Line(f"cluster {cluster}: dashboard charts, 1 {fixed.unit.removeprefix('per ')}", fixed.monthly,
                 fixed.source, f"${fixed.monthly:.2f}/month" + (f"; {note}" if note else ""))
        )
    if collectors:  # Cloud Monitoring evaluates the rules as PromQL alert policies, priced as conditions
        policies = sum(len(u.alerts) for u in watched)
        condition = prices.fixed(cloud, "alert_condition")
        _, evaluations, per_million = _condition_runs(cloud, prices)
        returned = policies * evaluations / 1e6 * per_million  # one series each
        lines.append(
            Line(
                f"cluster {cluster}: {_plural(policies, 'PromQL alert policy', 'PromQL alert policies')}",
                policies * condition.monthly + returned,
                condition.source,
                f"{_plural(policies, 'condition')} x ${condition.monthly:.2f}, and the one series each returns "
                f"{evaluations:,.0f} times a month (${returned:.2f})",
            )
        )
    return lines


def _gpu_nodes(environment: Environment, servers: list[SelfManagedUseCase], prices: Prices) -> str:
    """` (2-4 nodes from min to max replicas)`: the GPU nodes of `servers`, when their machines are known."""
    low = high = 0
    for server in servers:
        cloud = cluster_cloud(environment, server.cluster)
        pick = None if cloud is None else prices.machine(cloud, server.gpu.type, server.gpu.count)
        if pick is None or isinstance(pick, str):
            return ""
        per_node = pick[1]
        low += math.ceil(server.replicas.min / per_node)
        high += math.ceil(server.replicas.max / per_node)
    if low == high:
        return f" ({_plural(low, 'node')})"
    return f" ({low}-{high} nodes from min to max replicas)"


def estimate_environment(
    environment: Environment, stack: str, prices: Prices, spot: bool = False
) -> EnvironmentCost:
    return EnvironmentCost(
        stack=stack,
        use_cases=[use_case_cost(environment, u, prices, spot) for u in environment.use_cases],
        shared=shared_lines(environment, prices),
        prices=prices,
    )
