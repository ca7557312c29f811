"""Model IDs are checked against the dated catalog: invented IDs, other vendors' families and retired
models are refused in the spec; `allow_unlisted_model` admits a newer ID of the right family and the
advisory `model-ids-unlisted` names it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_cloud_managed_spec import SOURCE, environment, use_case
from triplane.components.versions import (
    AS_OF,
    AZURE_OPENAI_MODELS,
    BEDROCK_MODELS,
    PROFILE_ONLY_MODELS,
    RETIRED_MODELS,
    SAAS_MODELS,
    VERTEX_MODELS,
    family_of,
    is_listed,
    listed_models,
)
from triplane.policies import packs
from triplane.policies.common import ADVISORY, REGISTRY, Res, checking_stack
from triplane.policies.stack import _unlisted_models
from triplane.stacks.spec import SpecError, validate_environment

ROLE = "arn:aws:iam::123456789012:role/app"


def saas(provider: str, *models: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": extra.pop("name", "drafts"),
        "pattern": "saas",
        "data_classification": "internal",
        "cloud": "aws",
        "provider": provider,
        "models": list(models),
        "api_key_secret": "providerKey",
        "allowed_principals": [ROLE],
        **extra,
    }


def refusal(*use_cases: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as raised:
        validate_environment(environment(*use_cases), SOURCE)
    return str(raised.value)


def accepted(*use_cases: dict[str, Any]) -> None:
    validate_environment(environment(*use_cases), SOURCE)


# --- the two invented IDs -------------------------------------------------------------------------


def test_an_invented_bedrock_claude_is_refused_with_the_closest_listed_ids() -> None:
    message = refusal(use_case("aws", [{"id": "anthropic.claude-9-imaginary-v1:0"}]))
    assert (
        "triplane:environment.use_cases[0].models[0].id: anthropic.claude-9-imaginary-v1:0 is not in the Amazon "
        f"Bedrock model catalog (as of {AS_OF}); closest: anthropic.claude-3-haiku-20240307-v1:0, "
        "anthropic.claude-opus-4-6-v1, anthropic.claude-3-5-haiku-20241022-v1:0."
    ) in message
    assert "set `allow_unlisted_model: true` on the use case" in message


def test_a_claude_name_on_the_openai_provider_is_refused_naming_who_serves_claude() -> None:
    message = refusal(saas("openai", "claude-imaginary-7"))
    assert (
        "use_cases[0].models[0]: claude-imaginary-7: claude models are Anthropic's and OpenAI does not serve "
        "them: use provider anthropic, or Amazon Bedrock / Vertex AI (closest anthropic IDs: claude-haiku-4-5, "
        "claude-opus-4-7, claude-sonnet-4-6)"
    ) in message


def test_an_invented_id_in_an_inference_profile_is_refused_with_profiles_of_the_same_geography() -> None:
    message = refusal(use_case("aws", [{"id": "eu.anthropic.claude-9-imaginary-v1:0"}]))
    assert "closest: eu.anthropic.claude-3-haiku-20240307-v1:0, eu.anthropic.claude-opus-4-6-v1" in message


def test_an_unknown_openai_id_is_refused_with_openai_ids() -> None:
    message = refusal(saas("openai", "gpt-4o-mini", "gpt-6"))
    assert "use_cases[0].models[1]: gpt-6 is not in the OpenAI model catalog" in message
    assert "closest: gpt-5, gpt-4o, gpt-5.4." in message


def test_a_vertex_claude_without_its_version_suggests_the_versioned_id() -> None:
    message = refusal(use_case("gcp", [{"id": "claude-sonnet-4-5"}]))
    assert "models[0].id: claude-sonnet-4-5 is not in the Vertex AI model catalog" in message
    assert "claude-sonnet-4-5@20250929" in message


# --- names chosen to provoke the rules wrongly -------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        saas("openai", "gpt-4o-2024-08-06", "o4-mini-2025-04-16"),  # dated snapshots of listed models
        saas("anthropic", "claude-haiku-4-5-20251001", "claude-sonnet-4-6"),  # a dated ID and an alias
        saas("openai", "gpt-5-mini", name="claude-notes"),  # a use case named after another vendor's family
        saas("cohere", "command-a-03-2025"),
        saas("mistral", "mistral-large-latest", "codestral-2508"),
        saas("gemini", "gemini-3.1-flash-lite"),
        saas("custom", "claude-imaginary-7", custom_provider={"base_url": "https://api.example.ai/v1",
                                                              "hosts": ["api.example.ai"]}),  # its own API
        use_case("aws", [{"id": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"}]),  # a profile of a real model
        use_case("aws", [{"id": "global.anthropic.claude-haiku-4-5-20251001-v1:0"}]),
        use_case("aws", [{"id": "openai.gpt-oss-120b-1:0"}]),  # OpenAI's open weights, served by Bedrock
        use_case("aws", [{"id": "amazon.nova-pro-v1:0"}, {"id": "meta.llama3-1-8b-instruct-v1:0"}]),
        use_case("gcp", [{"id": "gemini-2.5-flash@001"}]),  # a pinned stable Vertex version
        use_case("gcp", [{"id": "google/gemini-3.5-flash"}]),  # the publisher-qualified name
        use_case("gcp", [{"id": "claude-sonnet-4-5@20250929"}]),  # Claude as a Vertex partner model
        use_case("azure", [{"id": "gpt-4o", "version": "2024-11-20"}, {"id": "o4-mini", "version": "2025-04-16"}]),
    ],
    ids=lambda case: f"{case.get('provider', case['cloud'])}:{case['models'][0]}",
)
def test_real_ids_pass(case: dict[str, Any]) -> None:
    accepted(case)


# --- families: refused with the flag too ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (saas("anthropic", "gpt-4o", allow_unlisted_model=True),
         "gpt-4o: gpt / o-series models are OpenAI's and Anthropic does not serve them: use provider openai, "
         "or Azure OpenAI"),
        (saas("mistral", "command-a-03-2025", allow_unlisted_model=True),
         "command / embed / rerank models are Cohere's and Mistral AI does not serve them: use provider cohere"),
        (use_case("azure", [{"id": "gemini-3.5-flash"}], allow_unlisted_model=True),
         "gemini models are Google's and Azure OpenAI does not serve them: use provider gemini, or Vertex AI"),
        (use_case("aws", [{"id": "google.gemini-3.5-flash"}], allow_unlisted_model=True),
         "gemini models are Google's and Amazon Bedrock does not serve them"),
        (use_case("gcp", [{"id": "gpt-4o"}], allow_unlisted_model=True),
         "gpt / o-series models are OpenAI's and Vertex AI does not serve them: use provider openai, or Azure OpenAI"),
        (use_case("aws", [{"id": "meta.claude-9-imaginary-v1:0"}], allow_unlisted_model=True),
         "claude models are Anthropic's, published on Amazon Bedrock as anthropic.<model>, not meta.<model>"),
        (use_case("azure", [{"id": "claude-sonnet-4-6"}]),
         "claude models are Anthropic's and Azure OpenAI does not serve them: use provider anthropic, or Amazon "
         "Bedrock / Vertex AI"),
    ],
    ids=["gpt-on-anthropic", "command-on-mistral", "gemini-on-azure", "gemini-on-bedrock", "gpt-on-vertex",
         "claude-under-meta-on-bedrock", "claude-on-azure"],
)
def test_another_vendors_family_is_refused_even_with_the_flag(case: dict[str, Any], expected: str) -> None:
    assert expected in refusal(case)


def test_retired_ids_stay_refused_with_the_flag() -> None:
    assert "claude-3-5-sonnet-20241022 is retired by anthropic; use claude-sonnet-4-6" in refusal(
        saas("anthropic", "claude-3-5-sonnet-20241022", allow_unlisted_model=True)
    )
    assert "claude-3-haiku-20240307 is retired by anthropic; use claude-haiku-4-5" in refusal(
        saas("anthropic", "claude-3-haiku-20240307", allow_unlisted_model=True)
    )
    assert "gemini-1.5-pro-002 is retired on Vertex AI; use gemini-3.5-flash" in refusal(
        use_case("gcp", [{"id": "gemini-1.5-pro-002"}], allow_unlisted_model=True)
    )


# --- the flag -------------------------------------------------------------------------------------------------


def test_the_flag_admits_a_newer_id_of_the_right_family_and_format() -> None:
    accepted(
        saas("openai", "gpt-6", allow_unlisted_model=True),
        use_case("aws", [{"id": "anthropic.claude-9-imaginary-v1:0"}], allow_unlisted_model=True, name="triage"),
        use_case("gcp", [{"id": "gemini-4-flash"}], allow_unlisted_model=True, name="search"),
    )


def test_the_flag_still_checks_the_name_and_format() -> None:
    assert "use_cases[0].models[0]: foo is not named like any OpenAI model (gpt / o-series)" in refusal(
        saas("openai", "foo", allow_unlisted_model=True)
    )
    assert "is not a Bedrock model or inference-profile ID" in refusal(
        use_case("aws", [{"id": "claude-9-imaginary"}], allow_unlisted_model=True)
    )


def test_azure_versions_are_checked_and_the_flag_admits_a_newer_one() -> None:
    message = refusal(use_case("azure", [{"id": "gpt-4o", "version": "2026-01-01"}]))
    assert (
        "use_cases[0].models[0].version: 2026-01-01 is not a version of gpt-4o in the Azure OpenAI model catalog "
        f"(as of {AS_OF}); use 2024-11-20 or 2024-08-06 or 2024-05-13"
    ) in message
    accepted(use_case("azure", [{"id": "gpt-4o", "version": "2026-01-01"}], allow_unlisted_model=True))


# --- the catalog holds together -------------------------------------------------------------------------------


def test_every_retirement_points_at_a_listed_model() -> None:
    for service, retired in RETIRED_MODELS.items():
        for replacement in retired.values():
            assert is_listed(service, replacement), (service, replacement)


def test_profile_only_models_and_the_cost_reference_models_are_listed() -> None:
    assert set(PROFILE_ONLY_MODELS) <= BEDROCK_MODELS
    prices = json.loads((Path(__file__).parents[1] / "triplane/decide/prices.json").read_text())
    service = {"aws": "bedrock", "azure": "azure", "gcp": "vertex"}
    for reference in prices["reference_models"].values():
        assert is_listed(reference["saas"]["provider"], reference["saas"]["model"]), reference["saas"]
        for cloud, model in reference["cloud-managed"].items():
            assert is_listed(service[cloud], model), (cloud, model)


def test_every_listed_id_is_of_a_family_its_service_serves() -> None:
    services = {"bedrock": BEDROCK_MODELS, "azure": frozenset(AZURE_OPENAI_MODELS), "vertex": VERTEX_MODELS,
                **SAAS_MODELS}
    for service, models in services.items():
        assert listed_models(service) == models
        for model in models:
            family = family_of(service, model)
            assert family is None or service in family.services, (service, model)
            if service in SAAS_MODELS:
                assert family is not None, (service, model)


# --- the advisory policy ----------------------------------------------------------------------------------------


def test_model_ids_unlisted_is_an_advisory_in_every_cloud_scope() -> None:
    assert REGISTRY["model-ids-unlisted"].enforcement == ADVISORY
    assert "model-ids-unlisted" in {p.name for p in packs.POLICIES}
    for scope in ("aws", "azure", "gcp"):
        assert "model-ids-unlisted" in {p.name for p in packs.SCOPES[scope]}


def test_model_ids_unlisted_names_the_use_case_and_its_models() -> None:
    spec = environment(
        saas("openai", "gpt-6", allow_unlisted_model=True),
        use_case("aws", [{"id": "anthropic.claude-9-imaginary-v1:0"}], name="triage"),
    )
    component = Res(type="triplane:saas:SaasEgress", name="dev-drafts", urn="urn:pulumi:dev::triplane::s::dev-drafts",
                    props={})
    with checking_stack("dev", {"triplane:environment": json.dumps(spec)}):
        [(message, urn)] = list(_unlisted_models([component], {}))
    assert message == (
        "use case drafts sets allow_unlisted_model: true, so its model IDs (gpt-6) are checked for format and "
        "vendor family only, not against Triplane's dated model catalog"
    )
    assert urn == component.urn


def test_model_ids_unlisted_is_silent_without_the_flag() -> None:
    spec = environment(saas("openai", "gpt-5-mini", allow_unlisted_model=False))
    with checking_stack("dev", {"triplane:environment": json.dumps(spec)}):
        assert list(_unlisted_models([], {})) == []
