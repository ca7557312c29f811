"""The environment spec: what is accepted, what is refused, and how refusals read."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from triplane.stackfile import load_stack
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.errors import field_path

SOURCE = "stacks/Pulumi.test.yaml"


def base() -> dict[str, Any]:
    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
            }
        },
        "kubernetes": [{"name": "gpu", "new": {"cloud": "aws", "deployer": {"private_cidrs": ["10.99.0.0/24"]}}}],
        "use_cases": [
            {
                "name": "drafts",
                "pattern": "saas",
                "data_classification": "internal",
                "cloud": "aws",
                "provider": "openai",
                "api_key_secret": "openaiApiKey",
                "allowed_principals": ["arn:aws:iam::123456789012:role/drafts-app"],
            },
            {
                "name": "search",
                "pattern": "cloud-managed",
                "data_classification": "confidential",
                "cloud": "aws",
                "models": [{"id": "anthropic.claude-3-5-haiku-20241022-v1:0"}],
            },
            {
                "name": "review",
                "pattern": "self-managed",
                "data_classification": "restricted",
                "cluster": "gpu",
                "model": {
                    "id": "mistralai/Mistral-7B-Instruct-v0.3",
                    "revision": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db",
                },
                "gpu": {"type": "nvidia-l4", "count": 1},
                "allowed_clients": {"namespaces": ["apps"]},
            },
        ],
    }


def refusal(spec: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as caught:
        validate_environment(spec, SOURCE)
    return str(caught.value)


def test_valid_spec_is_accepted_with_its_defaults() -> None:
    environment = validate_environment(base(), SOURCE)
    assert isinstance(environment, Environment)
    assert [u.pattern for u in environment.use_cases] == ["saas", "cloud-managed", "self-managed"]
    assert environment.tier == "dev"
    assert environment.protects_stateful is False


def test_prod_tier_protects_stateful_resources_unless_told_otherwise() -> None:
    spec = base() | {"tier": "prod"}
    assert validate_environment(spec, SOURCE).protects_stateful is True
    spec["protect_stateful"] = False
    assert validate_environment(spec, SOURCE).protects_stateful is False


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_shipped_stacks_validate(stack: str) -> None:
    environment = load_stack(stack).environment()
    assert environment.use_cases


def test_unknown_key_names_file_field_and_fix() -> None:
    spec = base()
    spec["use_cases"][2]["gpus"] = 2
    message = refusal(spec)
    assert message.startswith(f"{SOURCE}: triplane:environment.use_cases[2].gpus: unknown key")
    assert "triplane schema" in message


def test_typo_at_top_level_is_refused() -> None:
    spec = base()
    spec["cost_centre"] = spec.pop("cost_center")
    message = refusal(spec)
    assert "triplane:environment.cost_centre: unknown key" in message
    assert "triplane:environment.cost_center: required, but missing" in message


def test_field_path_points_into_lists() -> None:
    spec = base()
    spec["use_cases"][2]["gpu"]["count"] = 0
    message = refusal(spec)
    assert "triplane:environment.use_cases[2].gpu.count: Input should be greater than or equal to 1" in message


def test_unknown_pattern_lists_the_allowed_ones() -> None:
    spec = base()
    spec["use_cases"][0]["pattern"] = "serverless"
    message = refusal(spec)
    assert "use_cases[0]: unknown pattern 'serverless'; allowed: cloud-managed, saas, self-managed" in message


def test_unknown_classification_lists_the_allowed_ones() -> None:
    spec = base()
    spec["use_cases"][1]["data_classification"] = "secret"
    message = refusal(spec)
    assert "use_cases[1].data_classification: 'secret' is not allowed" in message
    assert "'public', 'internal', 'confidential' or 'restricted'" in message


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("8.8.0.0/16", "is not an RFC 1918 private network"),
        ("10.0.0.0/8", "use a /16 to /20"),
        ("10.40.0.1/16", "is not a CIDR block"),
        ("fd00::/48", "is not an RFC 1918 private network"),
    ],
)
def test_network_cidr_must_be_private_and_sized(cidr: str, expected: str) -> None:
    spec = base()
    spec["clouds"]["aws"]["network"]["new"]["cidr"] = cidr
    message = refusal(spec)
    assert "triplane:environment.clouds.aws.network.new.cidr:" in message
    assert expected in message


def test_overlapping_networks_are_refused_naming_both() -> None:
    spec = base()
    spec["clouds"]["gcp"] = {
        "project": "acme-genai-dev",
        "region": "europe-west4",
        "network": {"new": {"cidr": "10.40.128.0/17"}},
    }
    message = refusal(spec)
    assert "clouds.gcp.network.new.cidr: 10.40.128.0/17 overlaps 10.40.0.0/16 (clouds.aws.network.new.cidr)" in message


def test_network_is_new_or_existing_not_both() -> None:
    spec = base()
    spec["clouds"]["aws"]["network"]["existing"] = {
        "vpc_id": "vpc-0123456789abcdef0",
        "app_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "application_cidrs": ["10.0.0.0/20"],
    }
    assert "set exactly one of `new`" in refusal(spec)


def test_existing_network_is_accepted() -> None:
    spec = base()
    del spec["use_cases"][0]  # SaaS egress needs a network Triplane routes (see test_saas_pattern)
    spec["clouds"]["aws"]["network"] = {
        "existing": {
            "vpc_id": "vpc-0123456789abcdef0",
            "app_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            "application_cidrs": ["10.0.0.0/20"],
        }
    }
    for use_case in spec["use_cases"]:
        if use_case["pattern"] == "self-managed":
            # No Triplane egress firewall on an existing network: the stack states the hub path (for
            # restricted data, a proxy that names the hosts).
            use_case["weights"] = {"source": "hub"}
            if use_case["data_classification"] == "restricted":
                use_case["weights"]["https_proxy"] = "http://10.0.0.10:3128"
    environment = validate_environment(spec, SOURCE)
    assert environment.clouds.aws is not None
    assert environment.clouds.aws.network.new is None


def test_aws_needs_two_zones_of_its_region() -> None:
    spec = base()
    spec["clouds"]["aws"]["network"]["new"]["zones"] = ["us-east-1a", "us-west-2b"]
    assert "network.new.zones: ['us-west-2b'] are not zones of us-east-1" in refusal(spec)


def test_use_case_cloud_must_be_configured() -> None:
    spec = base()
    spec["use_cases"][1]["cloud"] = "azure"
    spec["use_cases"][1]["models"] = [{"id": "gpt-4o", "version": "2024-08-06"}]
    assert "use_cases[1].cloud: azure is not configured; add clouds.azure" in refusal(spec)


def test_self_managed_cluster_must_exist() -> None:
    spec = base()
    spec["use_cases"][2]["cluster"] = "elsewhere"
    assert "use_cases[2].cluster: no cluster named 'elsewhere' under `kubernetes` (gpu)" in refusal(spec)


def test_duplicate_use_case_names_are_refused() -> None:
    spec = base()
    spec["use_cases"][1]["name"] = "drafts"
    assert "use_cases[1].name: 'drafts' is used twice" in refusal(spec)


@pytest.mark.parametrize("name", ["Drafts", "drafts_v2", "-drafts", "a", "x" * 21, "drafts-"])
def test_use_case_names_follow_the_naming_rule(name: str) -> None:
    spec = base()
    spec["use_cases"][0]["name"] = name
    assert "triplane:environment.use_cases[0].name:" in refusal(spec)


def test_several_problems_are_reported_together() -> None:
    spec = copy.deepcopy(base())
    spec["use_cases"][0]["provider_"] = "openai"
    spec["use_cases"][2]["gpu"]["count"] = 99
    message = refusal(spec)
    assert "2 problems" in message
    assert "(1)" in message and "(2)" in message


def test_missing_environment_setting_says_where_to_add_it() -> None:
    with pytest.raises(SpecError) as caught:
        validate_environment(None, SOURCE)
    assert str(caught.value) == (
        f"{SOURCE}: no `triplane:environment` setting; add it under `config:` "
        "(see stacks/Pulumi.dev.yaml for an example)"
    )


def test_field_path_drops_union_tags() -> None:
    assert field_path(("use_cases", 2, "self-managed", "gpu", "count")) == "use_cases[2].gpu.count"
    assert field_path(("clouds", "aws", "network", "new", "zones")) == "clouds.aws.network.new.zones"


def test_schema_forbids_unknown_keys_everywhere() -> None:
    schema = Environment.model_json_schema()
    assert schema["additionalProperties"] is False
    for name, definition in schema["$defs"].items():
        if definition.get("type") == "object":
            assert definition.get("additionalProperties") is False, name
