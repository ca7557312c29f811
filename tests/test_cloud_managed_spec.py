"""The cloud-managed use-case model: per-cloud validation with messages naming the field and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from triplane.stacks.spec import SpecError, validate_environment
from triplane.stacks.spec.cloud_managed import CloudManagedUseCase, environment_problems, version_upgrade

SOURCE = "stacks/Pulumi.test.yaml"
ROLE = "arn:aws:iam::123456789012:role/app"


def environment(*use_cases: dict[str, Any], tier: str = "dev") -> dict[str, Any]:
    return {
        "owner": "ml-platform",
        "cost_center": "cc-1234",
        "tier": tier,
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": "10.20.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
            },
            "azure": {
                "location": "westeurope",
                "resource_group": "rg-ml",
                "network": {"new": {"cidr": "10.30.0.0/16"}},
            },
            "gcp": {"project": "acme-ml-prod", "region": "europe-west4", "network": {"new": {"cidr": "10.40.0.0/16"}}},
        },
        "use_cases": list(use_cases),
    }


def use_case(cloud: str, models: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": extra.pop("name", "chat"),
        "pattern": "cloud-managed",
        "data_classification": "confidential",
        "cloud": cloud,
        "models": models,
        **extra,
    }


def problem(*use_cases: dict[str, Any], tier: str = "dev") -> str:
    with pytest.raises(SpecError) as raised:
        validate_environment(environment(*use_cases, tier=tier), SOURCE)
    return str(raised.value)


def test_a_full_bedrock_use_case_validates() -> None:
    env = validate_environment(
        environment(
            use_case(
                "aws",
                [
                    {"id": "anthropic.claude-3-5-haiku-20241022-v1:0"},
                    {"id": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
                ],
                allowed_principals=[ROLE],
                bedrock={
                    "extra_endpoints": ["bedrock-agent-runtime"],
                    "allowed_security_groups": ["sg-0123456789abcdef0"],
                    "guardrail": {
                        "pii": {"EMAIL": "ANONYMIZE"},
                        "denied_topics": [{"name": "Legal advice", "definition": "Advice on law."}],
                    },
                    "logging": {"destinations": ["cloudwatch"], "retention_days": 90},
                },
            )
        ),
        SOURCE,
    )
    (chat,) = env.use_cases
    assert isinstance(chat, CloudManagedUseCase)
    assert chat.bedrock_settings.guardrail is not None
    assert chat.bedrock_settings.guardrail.content_filter_strength == "HIGH"
    assert chat.bedrock_settings.logging.destinations == ["cloudwatch"]


def test_secure_defaults() -> None:
    env = validate_environment(environment(use_case("azure", [{"id": "gpt-4o", "version": "2024-08-06"}])), SOURCE)
    chat = env.use_cases[0]
    assert isinstance(chat, CloudManagedUseCase)
    assert chat.azure_settings.customer_managed_key is True
    assert chat.bedrock_settings.logging.destinations == ["cloudwatch", "s3"]
    assert chat.vertex_settings.data_caching is False
    assert chat.vertex_settings.target == "all-apis"


def test_settings_block_must_match_the_cloud() -> None:
    message = problem(use_case("azure", [{"id": "gpt-4o"}], bedrock={}))
    assert message == (
        f"{SOURCE}: triplane:environment.use_cases[0].bedrock: only for cloud aws; this use case runs on azure"
    )


@pytest.mark.parametrize(
    ("cloud", "principal", "expected"),
    [
        ("aws", "app-role", "is not an IAM role or user ARN"),
        ("azure", ROLE, "is not an Entra ID object ID"),
        ("gcp", "app@acme.iam.gserviceaccount.com", "is not an IAM member"),
    ],
)
def test_principals_are_checked_per_cloud(cloud: str, principal: str, expected: str) -> None:
    model = {"aws": "amazon.titan-text-express-v1", "azure": "gpt-4o", "gcp": "gemini-3.5-flash"}[cloud]
    message = problem(use_case(cloud, [{"id": model}], allowed_principals=[principal]))
    assert f"use_cases[0].allowed_principals[0]: {principal!r} {expected}" in message


def test_bedrock_model_ids_are_checked() -> None:
    message = problem(use_case("aws", [{"id": "claude-3-haiku"}]))
    assert "use_cases[0].models[0].id: 'claude-3-haiku' is not a Bedrock model or inference-profile ID" in message


def test_azure_only_fields_are_refused_elsewhere() -> None:
    message = problem(use_case("gcp", [{"id": "gemini-3.5-flash", "capacity": 10}]))
    assert "use_cases[0].models[0].capacity: only Azure OpenAI deployments take `capacity`" in message


def test_duplicate_deployment_names_are_refused() -> None:
    message = problem(
        use_case("azure", [{"id": "gpt-4o", "version": "2024-08-06"}, {"id": "gpt-4o", "version": "2024-05-13"}])
    )
    assert "use_cases[0].models[1].deployment: deployment name 'gpt-4o' is used twice" in message


def test_explicit_pinning_needs_versions() -> None:
    message = problem(use_case("azure", [{"id": "gpt-4o"}], azure_openai={"version_upgrade": "NoAutoUpgrade"}))
    assert (
        "use_cases[0].models[0].version: deployments pinned with NoAutoUpgrade need an explicit model version"
        in message
    )


def test_prod_pins_azure_deployments_and_demands_versions() -> None:
    unpinned = environment(use_case("azure", [{"id": "gpt-4o"}]), tier="prod")
    with pytest.raises(SpecError) as caught:  # the tier is an environment-wide fact, checked with the whole spec
        validate_environment(unpinned, SOURCE)
    assert str(caught.value) == (
        f"{SOURCE}: triplane:environment.use_cases[0].models[0].version: prod pins Azure OpenAI deployments "
        '(NoAutoUpgrade), so each model needs an explicit version, e.g. version: "2024-08-06"'
    )
    dev = validate_environment(environment(use_case("azure", [{"id": "gpt-4o"}])), SOURCE)
    assert environment_problems(dev) == []
    chat = dev.use_cases[0]
    assert isinstance(chat, CloudManagedUseCase)
    assert version_upgrade(chat, "prod") == "NoAutoUpgrade"
    assert version_upgrade(chat, "dev") == "OnceNewDefaultVersionAvailable"


def test_unknown_pii_type_is_named() -> None:
    message = problem(
        use_case("aws", [{"id": "amazon.titan-text-express-v1"}], bedrock={"guardrail": {"pii": {"SSN": "BLOCK"}}})
    )
    assert "use_cases[0].bedrock.guardrail.pii: unknown PII types ['SSN']" in message


def test_perimeter_needs_the_restricted_bundle() -> None:
    vertex = {"psc_target": "all-apis", "vpc_service_controls": {"access_policy": "1234567890"}}
    message = problem(use_case("gcp", [{"id": "gemini-3.5-flash"}], vertex=vertex))
    assert "use_cases[0].vertex.psc_target: a VPC Service Controls perimeter needs the `vpc-sc` bundle" in message


def test_perimeter_needs_exactly_one_policy_source() -> None:
    message = problem(use_case("gcp", [{"id": "gemini-3.5-flash"}], vertex={"vpc_service_controls": {}}))
    assert "use_cases[0].vertex.vpc_service_controls: set exactly one of `access_policy`" in message


def test_vertex_use_cases_must_agree_on_the_shared_endpoint() -> None:
    message = problem(
        use_case("gcp", [{"id": "gemini-3.5-flash"}], name="search"),
        use_case("gcp", [{"id": "gemini-3.1-flash-lite"}], name="docs", vertex={"psc_target": "vpc-sc"}),
    )
    assert message.startswith(
        f"{SOURCE}: triplane:environment.use_cases[1].vertex.psc_target: vpc-sc differs from use_cases[0] (all-apis)"
    )


def test_psc_address_must_be_private() -> None:
    message = problem(use_case("gcp", [{"id": "gemini-3.5-flash"}], vertex={"psc_address": "8.8.8.8"}))
    assert "use_cases[0].vertex.psc_address: 8.8.8.8 is not a private address" in message
