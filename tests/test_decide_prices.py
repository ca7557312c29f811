"""The price sheet: complete for what Triplane deploys, every entry sourced, overrides merged and named."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import yaml

from triplane.components.self_managed import sizing
from triplane.decide.prices import MODEL_CLASSES, PriceError, load_prices
from triplane.project import find_project

PRICES = load_prices()


def test_dates_and_sources() -> None:
    datetime.date.fromisoformat(PRICES.as_of)
    for key, source in PRICES.data["sources"].items():
        datetime.date.fromisoformat(source["as_of"])
        assert source["url"], key


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_every_catalogued_machine_has_a_price(cloud: str) -> None:
    for gpu_type, spec in sizing.GPUS.items():
        for count, machine in spec.machines(cloud).items():
            instance = PRICES.instance(cloud, machine)
            assert instance is not None, f"{cloud} {machine} ({count} x {gpu_type}) has no price"
            assert instance.gpus == sizing.MACHINES[machine].gpus
            assert 0 < instance.spot < instance.on_demand
            assert PRICES.data["instances"][cloud][machine]["gpu"] == gpu_type


def test_reference_deployments_are_priced_and_fit_their_gpus() -> None:
    for model_class in MODEL_CLASSES:
        reference = PRICES.reference(model_class)
        assert PRICES.token_price("saas", reference["saas"]["provider"], reference["saas"]["model"])
        for cloud, model in reference["cloud-managed"].items():
            assert PRICES.token_price("cloud-managed", cloud, model), (cloud, model)
        for cloud, (gpu_type, gpus) in reference["self-managed"]["gpu"].items():
            assert not isinstance(PRICES.machine(cloud, gpu_type, gpus), str), (cloud, gpu_type)
            assert PRICES.throughput(model_class, gpu_type) is not None


def test_every_model_in_the_shipped_stacks_has_a_token_price() -> None:
    checked = 0
    for path in sorted(find_project().stacks_dir.glob("Pulumi.*.yaml")):
        environment = yaml.safe_load(path.read_text())["config"]["triplane:environment"]
        for use_case in environment.get("use_cases", []):
            if use_case["pattern"] == "saas":
                for model in use_case.get("models", []):
                    assert PRICES.token_price("saas", use_case["provider"], model), (path.name, model)
                    checked += 1
            elif use_case["pattern"] == "cloud-managed":
                for model in use_case["models"]:
                    assert PRICES.token_price("cloud-managed", use_case["cloud"], model["id"]), (
                        path.name,
                        model,
                    )
                    checked += 1
    assert checked >= 5


def test_override_merges_and_is_named_as_the_source(tmp_path: Path) -> None:
    override = tmp_path / "ours.json"
    override.write_text(
        json.dumps(
            {
                "as_of": "2025-10-01",
                "tokens": {"saas": {"openai": {"gpt-4o-mini": {"input": 0.12, "output": 0.48}}}},
                "instances": {
                    "aws": {"g6.2xlarge": {"gpu": "nvidia-l4", "gpus": 1, "on_demand": 0.70, "spot": 0.33}}
                },
            }
        )
    )
    prices = load_prices(override)
    mini = prices.token_price("saas", "openai", "gpt-4o-mini")
    assert mini is not None and (mini.input, mini.output, mini.source) == (0.12, 0.48, "override")
    assert prices.token_price("saas", "openai", "gpt-4o").source == "openai"  # type: ignore[union-attr]
    assert prices.instance("aws", "g6.2xlarge").on_demand == 0.70  # type: ignore[union-attr]
    assert prices.instance("aws", "g5.2xlarge").on_demand == 1.212  # type: ignore[union-attr]
    assert prices.source("override") == {"url": str(override), "as_of": "2025-10-01"}
    assert prices.as_of == PRICES.as_of
    assert prices.files == ["prices.json", str(override)]


def test_bad_overrides_are_refused_with_the_place(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"tokens": ')
    with pytest.raises(PriceError, match=r"broken\.json: not valid JSON at line 1"):
        load_prices(broken)
    negative = tmp_path / "negative.json"
    negative.write_text(json.dumps({"fixed": {"aws": {"secret": {"monthly": -1}}}}))
    with pytest.raises(PriceError, match=r"fixed.aws.secret.monthly: -1 is not a price"):
        load_prices(negative)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"fixed": {"aws": {"secret": {"monthly": 1, "source": "a-blog"}}}}))
    with pytest.raises(PriceError, match="source 'a-blog' is not listed"):
        load_prices(unknown)
