"""Recommendation rules, conflicts, the stack-file block, and the advisory check over an environment."""

from __future__ import annotations

import copy

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from triplane.decide.advisor import check_environment
from triplane.decide.prices import Prices, load_prices
from triplane.decide.recommend import UseCaseFacts, parse_tokens, recommend, rule_findings
from triplane.stacks.spec import UseCase, validate_environment

PRICES = load_prices()


def run(**facts: object):
    return recommend(UseCaseFacts(**facts), PRICES)  # type: ignore[arg-type]


def block_of(result) -> dict:
    entries = yaml.safe_load(result.use_case_yaml)
    assert isinstance(entries, list) and len(entries) == 1
    TypeAdapter(UseCase).validate_python(entries[0])
    return entries[0]


def test_restricted_without_skills_is_a_conflict_resolved_by_policy() -> None:
    result = run(name="contracts", data_classification="restricted", ml_skills="none")
    assert result.pattern == "self-managed"
    assert set(result.exclusions) == {"saas", "cloud-managed"}
    assert result.conflict is not None
    assert "only self-managed" in result.conflict and "no ML operations skills" in result.conflict
    assert any("partner" in c for c in result.caveats)
    assert any("managed Kubernetes" in c for c in result.caveats)
    assert any("policy wins" in c for c in result.caveats)
    assert block_of(result)["pattern"] == "self-managed"


def test_restricted_with_skills_has_no_conflict() -> None:
    result = run(data_classification="restricted", ml_skills="strong")
    assert result.pattern == "self-managed"
    assert result.conflict is None
    assert not any("managed Kubernetes" in c for c in result.caveats)


def test_no_skills_without_a_policy_constraint_steers_away_from_self_managed() -> None:
    result = run(data_classification="internal", ml_skills="none", customisation="fine-tuning")
    assert result.pattern == "cloud-managed"
    assert result.conflict is None
    assert result.scores["self-managed"] < result.scores["cloud-managed"]


def test_confidential_excludes_saas_and_prefers_cloud_managed() -> None:
    result = run(data_classification="confidential")
    assert result.pattern == "cloud-managed"
    assert "saas" in result.exclusions
    assert "self-managed" not in result.exclusions
    assert result.clouds == ["aws", "azure", "gcp"]
    block = block_of(result)
    # the block deploys where the pattern was priced cheapest: Google's key costs $0.06, AWS's $1.00
    assert result.costs["cloud-managed"].where == "gcp"
    assert block["cloud"] == "gcp" and block["models"] == [{"id": "gemini-2.5-flash-lite"}]


def test_public_and_fast_goes_saas_with_a_valid_block() -> None:
    result = run(name="campaigns", data_classification="public", weeks_to_production=3, clouds=["gcp"])
    assert result.pattern == "saas"
    block = block_of(result)
    assert block["provider"] == "openai" and block["cloud"] == "gcp"
    assert block["api_key_secret"] == "campaignsApiKey"
    assert block["allowed_principals"][0].startswith("serviceAccount:")


def test_air_gapped_means_self_managed_on_an_existing_cluster_offline() -> None:
    result = run(data_classification="internal", air_gapped=True)
    assert result.pattern == "self-managed"
    assert result.clouds == []
    assert set(result.exclusions) == {"saas", "cloud-managed"}
    block = block_of(result)
    assert block["cluster"] == "onprem" and block["offline"] is True
    assert block["cache"]["existing_claim"] == "model-cache"
    assert "hf_token_secret" not in block
    assert any("existing:" in c for c in result.caveats)


def test_residency_picks_clouds_with_a_managed_region_there() -> None:
    result = run(data_classification="confidential", residency="ch", clouds=["azure", "gcp"])
    assert result.pattern == "cloud-managed"
    assert result.clouds == ["azure", "gcp"]
    assert result.regions == {"azure": ["switzerlandnorth"], "gcp": ["europe-west6"]}
    assert "saas" in result.exclusions


def test_residency_without_a_managed_region_leaves_self_managed() -> None:
    result = run(data_classification="internal", residency="sg", clouds=["azure"], ml_skills="strong")
    assert result.pattern == "self-managed"
    assert "cloud-managed" in result.exclusions
    assert "no managed model region" in result.exclusions["cloud-managed"][0]


def test_own_weights_only_self_managed() -> None:
    result = run(data_classification="public", customisation="own-weights", ml_skills="strong")
    assert result.pattern == "self-managed"
    assert set(result.exclusions) == {"saas", "cloud-managed"}


def test_tight_latency_steers_away_from_saas() -> None:
    result = run(data_classification="public", latency_ms=150)
    assert result.pattern != "saas"
    assert result.scores["saas"] == 1 - 2  # public +1, latency -2


def test_volume_makes_the_clearly_cheaper_pattern_win(tmp_path) -> None:
    # At list prices an L4 replica is about as dear per token as the cheapest APIs; halve the GPU
    # price and run it at 90% utilization, and self-managed becomes clearly cheaper at volume.
    data = copy.deepcopy(PRICES.data)
    data["serving"]["utilization"] = 0.9
    for instance in data["instances"]["gcp"].values():
        instance["on_demand"] /= 2
    cheap = Prices(data=data, files=["test"])
    facts = UseCaseFacts(
        data_classification="internal",
        ml_skills="some",
        input_tokens_per_month=40_000_000_000,
        output_tokens_per_month=10_000_000_000,
    )
    result = recommend(facts, cheap)
    cost_rules = [f for f in result.findings if f.rule == "cost"]
    assert [f.pattern for f in cost_rules] == ["self-managed"]
    assert result.pattern == "self-managed"
    assert result.break_even_tokens is not None and result.break_even_tokens < 50e9
    assert block_of(result)["replicas"]["max"] > 1
    # the same facts at list prices: no pattern is clearly cheaper, so no cost rule fires
    assert not [f for f in recommend(facts, PRICES).findings if f.rule == "cost"]


def test_every_rule_names_a_reason() -> None:
    facts = UseCaseFacts(
        data_classification="confidential",
        residency="eu",
        latency_ms=100,
        customisation="fine-tuning",
        ml_skills="none",
        weeks_to_production=2,
    )
    findings = rule_findings(facts)
    assert {f.rule for f in findings} == {
        "classification",
        "residency",
        "latency",
        "customisation",
        "skills",
        "time",
    }
    assert all(f.reason for f in findings)


def test_facts_are_checked() -> None:
    with pytest.raises(ValidationError):
        UseCaseFacts(data_classification="secret")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        UseCaseFacts(data_classification="public", residency="mars")  # type: ignore[arg-type]


def test_parse_tokens() -> None:
    assert parse_tokens("250M") == 250_000_000
    assert parse_tokens("1.5B") == 1_500_000_000
    assert parse_tokens("40k") == 40_000
    assert parse_tokens("1e9") == 1_000_000_000
    with pytest.raises(ValueError):
        parse_tokens("lots")


ADVISED = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "clouds": {
        "aws": {
            "region": "us-east-1",
            "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
        },
        "gcp": {
            "project": "acme-genai-test",
            "region": "europe-west4",
            "network": {"new": {"cidr": "10.30.0.0/16"}},
        },
    },
    "use_cases": [
        {
            "name": "leaky",
            "pattern": "saas",
            "data_classification": "confidential",
            "cloud": "aws",
            "provider": "openai",
            "models": ["gpt-4o-mini"],
            "api_key_secret": "openaiApiKey",
            "allowed_principals": ["arn:aws:iam::123456789012:role/app"],
        },
        {
            "name": "pricey",
            "pattern": "saas",
            "data_classification": "internal",
            "cloud": "aws",
            "provider": "openai",
            "models": ["gpt-4o"],
            "api_key_secret": "openaiApiKey",
            "allowed_principals": ["arn:aws:iam::123456789012:role/app"],
            "volume": {"input_tokens_per_month": 4_000_000_000, "output_tokens_per_month": 200_000_000},
        },
        {
            "name": "fine",
            "pattern": "cloud-managed",
            "data_classification": "internal",
            "cloud": "aws",
            "models": [{"id": "meta.llama3-1-8b-instruct-v1:0"}],
            "volume": {"input_tokens_per_month": 1_000_000, "output_tokens_per_month": 1_000_000},
        },
    ],
}


def test_advisor_reports_forbidden_patterns_and_clearly_cheaper_ones() -> None:
    environment = validate_environment(ADVISED, "test.yaml")
    result = check_environment(environment, PRICES)
    by_case = {(a.use_case, a.severity): a.message for a in result.advice}
    assert set(by_case) == {("leaky", "violation"), ("pricey", "advice")}
    assert "not allowed for confidential data" in by_case[("leaky", "violation")]
    # gpt-4o at 4B in / 0.2B out: $12,000 in tokens; Bedrock Claude Sonnet 4.5 at the same volume is
    # dearer ($15,000), Gemini 2.5 Pro on Vertex (the cheapest large managed model) is $7,000.
    assert "cloud-managed (gcp, gemini-2.5-pro)" in by_case[("pricey", "advice")]
    assert result.without_volume == ["leaky"]
    assert [a.use_case for a in result.violations] == ["leaky"]
