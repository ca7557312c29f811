"""The price sheet: `prices.json` beside this module, optionally overlaid by an override file.

An override file has the same shape as `prices.json` and may hold any part of it: its mappings are
merged key by key over the shipped sheet. An entry without a `source` is attributed to the override
file itself, and an `existing` section prices GPUs of clusters that already exist (own hardware) per
GPU-hour. Example:

    {
      "as_of": "2025-09-01",
      "tokens": {"saas": {"openai": {"gpt-4o-mini": {"input": 0.12, "output": 0.48}}}},
      "instances": {"aws": {"g6.2xlarge": {"gpu": "nvidia-l4", "gpus": 1, "on_demand": 0.70, "spot": 0.33}}},
      "existing": {"nvidia-l4": {"hourly": 0.35}},
      "serving": {"utilization": 0.7}
    }

Nothing here reaches the network: prices are data, refreshed by editing a file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triplane.components.self_managed import sizing

SHIPPED = Path(__file__).resolve().parent / "prices.json"
OVERRIDE = "override"

# Keys that mark a mapping as a priced entry (so an override entry without a source gets one).
_PRICE_KEYS = {
    "input",
    "output",
    "on_demand",
    "spot",
    "hourly",
    "monthly",
    "per_gb",
    "ptu_hourly",
    "token_multiplier",
}
_SOURCE_KEYS = ("source", "spot_source")
MODEL_CLASSES = ("small", "medium", "large")


class PriceError(Exception):
    """A price file that cannot be read, or a price the sheet does not have."""


@dataclass(frozen=True)
class TokenPrice:
    model: str
    """The sheet's key for the model (an inference-profile prefix or version suffix stripped)."""
    input: float
    output: float
    model_class: str
    source: str


@dataclass(frozen=True)
class Instance:
    instance: str
    gpus: int
    on_demand: float
    spot: float
    source: str


@dataclass(frozen=True)
class Fixed:
    item: str
    hourly: float
    monthly: float
    per_gb: float
    count: int
    unit: str
    source: str


@dataclass
class Prices:
    data: dict[str, Any]
    files: list[str] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return float(self.data["hours_per_month"])

    @property
    def as_of(self) -> str:
        return str(self.data["as_of"])

    @property
    def serving(self) -> dict[str, Any]:
        serving: dict[str, Any] = self.data["serving"]
        return serving

    def source(self, key: str) -> dict[str, str]:
        sources: dict[str, dict[str, str]] = self.data["sources"]
        if key not in sources:
            raise PriceError(f"price source {key!r} is not listed under `sources`")
        return sources[key]

    def token_price(self, pattern: str, vendor: str, model_id: str) -> TokenPrice | None:
        """Price per 1M tokens of `model_id` at `vendor` (a SaaS provider, or a cloud for cloud-managed)."""
        table: dict[str, dict[str, Any]] = self.data["tokens"].get(pattern, {}).get(vendor, {})
        for key in _candidates(model_id):
            if key in table:
                entry = table[key]
                return TokenPrice(
                    model=key,
                    input=float(entry["input"]),
                    output=float(entry["output"]),
                    model_class=str(entry.get("class", "small")),
                    source=str(entry["source"]),
                )
        return None

    def azure_sku(self, sku: str) -> dict[str, Any]:
        table: dict[str, dict[str, Any]] = self.data["azure_sku"]
        if sku not in table:
            raise PriceError(f"no Azure OpenAI price rule for deployment SKU {sku!r}")
        return table[sku]

    def instance(self, cloud: str, name: str, spot: bool = False) -> Instance | None:
        row = self.data["instances"].get(cloud, {}).get(name)
        if row is None:
            return None
        return Instance(
            instance=name,
            gpus=int(row["gpus"]),
            on_demand=float(row["on_demand"]),
            spot=float(row["spot"]),
            source=str(row.get("spot_source", row["source"]) if spot else row["source"]),
        )

    def machine(self, cloud: str, gpu_type: str, gpus: int, spot: bool = False) -> tuple[Instance, int] | str:
        """The machine Triplane deploys for `gpus` x `gpu_type` on `cloud`, and replicas per machine.

        The machine comes from the self-managed sizing catalog, its price from this sheet; a string
        says what is missing instead.
        """
        if gpu_type not in sizing.GPUS:
            return f"{gpu_type} is not in the GPU catalog"
        chosen = sizing.machine_for(cloud, gpu_type, gpus)
        if chosen is None:
            return f"{cloud} has no machine with {gpus} x {gpu_type}"
        name, machine = chosen
        instance = self.instance(cloud, name, spot)
        if instance is None:
            return f"no price for {cloud} {name}; add it under `instances` with --prices"
        return instance, max(1, machine.gpus // gpus)

    def fixed(self, cloud: str, item: str) -> Fixed:
        try:
            entry = self.data["fixed"][cloud][item]
        except KeyError:
            raise PriceError(f"no fixed price for {item} on {cloud}") from None
        return Fixed(
            item=item,
            hourly=float(entry.get("hourly", 0.0)),
            monthly=float(entry.get("monthly", 0.0)),
            per_gb=float(entry.get("per_gb", 0.0)),
            count=int(entry.get("count", 1)),
            unit=str(entry.get("unit", item)),
            source=str(entry["source"]),
        )

    def throughput(self, model_class: str, gpu_type: str) -> float | None:
        """Planning estimate: aggregate output tokens per second per GPU for a model class."""
        value = self.serving["throughput_per_gpu"].get(model_class, {}).get(gpu_type)
        return None if value is None else float(value)

    def reference(self, model_class: str) -> dict[str, Any]:
        references: dict[str, dict[str, Any]] = self.data["reference_models"]
        return references[model_class]


def _candidates(model_id: str) -> list[str]:
    """`model_id`, then its forms without a Bedrock geography prefix, Vertex `@version`, or version suffix."""
    out = [model_id]
    stripped = re.sub(r"^(us|eu|apac|us-gov|global)\.", "", model_id)
    stripped = stripped.split("@", 1)[0]
    out.append(stripped)
    # `gemini-1.5-pro-002`, `gpt-4o-2024-08-06`: a released version of a priced model.
    out.append(re.sub(r"-(\d{3}|\d{4}-\d{2}-\d{2})$", "", stripped))
    return list(dict.fromkeys(out))


def _attribute(value: Any) -> Any:
    """Give every priced entry of an override file a source: the override file itself."""
    if isinstance(value, dict):
        tagged = {k: _attribute(v) for k, v in value.items()}
        if _PRICE_KEYS & set(tagged) and "source" not in tagged:
            tagged["source"] = OVERRIDE
        return tagged
    if isinstance(value, list):
        return [_attribute(v) for v in value]
    return value


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PriceError(f"{path}: cannot read the price file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise PriceError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(document, dict):
        raise PriceError(f"{path}: a price file is a JSON object shaped like prices.json")
    return document


def load_prices(override: Path | None = None) -> Prices:
    """The shipped sheet, with `override` merged over it when given."""
    data = _read(SHIPPED)
    files = [str(SHIPPED.name)]
    if override is not None:
        overlay = _attribute(_read(override))
        # The sheet's own date stays; the override's date travels with its entries' source.
        as_of = str(overlay.pop("as_of", "not stated"))
        data = _merge(data, overlay)
        data["sources"] = {**data["sources"], OVERRIDE: {"url": str(override), "as_of": as_of}}
        files.append(str(override))
    _check(data)
    return Prices(data=data, files=files)


def _check(data: dict[str, Any]) -> None:
    """Every priced entry names a listed source, and prices are non-negative numbers."""
    sources = data.get("sources", {})
    problems: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if _PRICE_KEYS & set(value):
                for key in _SOURCE_KEYS:
                    if (key == "source" or key in value) and value.get(key) not in sources:
                        problems.append(f"{path}: {key} {value.get(key)!r} is not listed under `sources`")
                for key in _PRICE_KEYS & set(value):
                    number = value[key]
                    if not isinstance(number, int | float) or isinstance(number, bool) or number < 0:
                        problems.append(f"{path}.{key}: {number!r} is not a price (a number, 0 or more)")
            for key, child in value.items():
                walk(child, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(child, f"{path}[{i}]")

    for section in ("tokens", "instances", "fixed", "azure_sku", "existing"):
        walk(data.get(section, {}), section)
    if problems:
        raise PriceError("; ".join(problems))
