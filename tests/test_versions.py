"""Versions that expire: Kubernetes in standard support, Bedrock inference profiles, retired models."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import SHIPPED_STACKS, planned
from triplane.components.cloud_managed._common import bedrock_model_resources
from triplane.components.versions import (
    AS_OF,
    DEFAULT_KUBERNETES,
    KUBERNETES_STANDARD_SUPPORT,
    bedrock_model_problem,
    inference_profile,
)
from triplane.plan import Plan
from triplane.stackfile import load_stack
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID
from triplane.stacks.spec import SpecError, validate_environment

SOURCE = "stacks/Pulumi.test.yaml"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
US_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2")


def _environment(region: str = "us-east-1", **extra: Any) -> dict[str, Any]:
    zones = [f"{region}a", f"{region}b"]
    return {
        "owner": "platform",
        "cost_center": "cc-1",
        "tier": "dev",
        "clouds": {
            "aws": {"region": region, "network": {"new": {"cidr": "10.20.0.0/16", "zones": zones}}},
            "gcp": {"project": "acme-ml", "region": "europe-west4", "network": {"new": {"cidr": "10.40.0.0/16"}}},
        },
        "use_cases": extra.pop("use_cases", []),
        **extra,
    }


def _refusal(environment: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as raised:
        validate_environment(environment, SOURCE)
    return str(raised.value)


def _bedrock(model_id: str) -> dict[str, Any]:
    return {
        "name": "triage",
        "pattern": "cloud-managed",
        "data_classification": "confidential",
        "cloud": "aws",
        "models": [{"id": model_id}],
    }


# --- Kubernetes -----------------------------------------------------------------------------------------


def test_the_default_version_is_in_standard_support_on_every_cloud() -> None:
    assert AS_OF == "2026-12-05"
    for cloud, supported in KUBERNETES_STANDARD_SUPPORT.items():
        assert DEFAULT_KUBERNETES in supported, cloud
        assert all(end > AS_OF[:7] for end in supported.values()), cloud


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_clusters_run_a_supported_version(stack: str) -> None:
    environment = load_stack(stack).environment()
    for cluster in environment.kubernetes:
        if cluster.new is not None:
            assert cluster.version in KUBERNETES_STANDARD_SUPPORT[cluster.new.cloud], cluster.name


RUNNER = {"private_cidrs": ["10.50.0.0/24"]}
"""A declared way in for the deployer, so the version is the only problem."""


@pytest.mark.parametrize(("cloud", "version"), [("aws", "1.31"), ("aws", "1.34"), ("gcp", "1.33"), ("aws", "1.37")])
def test_a_version_out_of_standard_support_is_refused_with_the_supported_list(cloud: str, version: str) -> None:
    cluster = {"name": "gpu", "version": version, "new": {"cloud": cloud, "deployer": RUNNER}}
    message = _refusal(_environment(kubernetes=[cluster]))
    assert "triplane:environment.kubernetes[0]" in message
    assert f"Kubernetes {version} is not in" in message
    assert "use one of 1.35, 1.36 (default 1.35)" in message


def test_an_existing_cluster_states_the_version_it_runs() -> None:
    cluster = {"name": "onprem", "version": "1.30", "existing": {"kubeconfig_context": "kind"}}
    assert validate_environment(_environment(kubernetes=[cluster]), SOURCE).kubernetes[0].version == "1.30"


def test_a_new_cluster_defaults_to_the_current_version() -> None:
    cluster = {"name": "gpu", "new": {"cloud": "aws", "deployer": RUNNER}}
    assert validate_environment(_environment(kubernetes=[cluster]), SOURCE).kubernetes[0].version == "1.35"


# --- Bedrock inference profiles -------------------------------------------------------------------------


def test_an_on_demand_id_that_only_works_through_a_profile_is_refused_naming_the_profile() -> None:
    message = _refusal(_environment(use_cases=[_bedrock(SONNET)]))
    assert "use_cases[0].models[0].id" in message
    assert f"use us.{SONNET}" in message
    assert f"use eu.{SONNET}" in _refusal(_environment("eu-west-1", use_cases=[_bedrock(SONNET)]))


def test_a_profile_of_another_geography_is_refused() -> None:
    message = _refusal(_environment(use_cases=[_bedrock(f"eu.{SONNET}")]))
    assert f"use us.{SONNET} or global.{SONNET}" in message


@pytest.mark.parametrize("model_id", [f"us.{SONNET}", f"global.{SONNET}", "amazon.nova-pro-v1:0"])
def test_ids_that_work_as_written_are_accepted(model_id: str) -> None:
    validate_environment(_environment(use_cases=[_bedrock(model_id)]), SOURCE)
    assert bedrock_model_problem(model_id, "us-east-1") is None


def test_a_profile_is_planned_with_the_models_of_every_region_it_routes_to() -> None:
    direct, profiles, routed = bedrock_model_resources("us-east-1", "111122223333", [f"us.{SONNET}"])
    assert direct == []
    assert profiles == [f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.{SONNET}"]
    assert routed == [f"arn:aws:bedrock:{region}::foundation-model/{SONNET}" for region in US_REGIONS]
    _, _, routed_global = bedrock_model_resources("eu-west-1", "111122223333", [f"global.{SONNET}"])
    assert routed_global == [
        f"arn:aws:bedrock:eu-west-1::foundation-model/{SONNET}",
        f"arn:aws:bedrock:::foundation-model/{SONNET}",
    ]
    profile = inference_profile(f"apac.{SONNET}")
    assert profile is not None and profile.geography == "apac" and profile.model_id == SONNET


def _statement(document: str, sid: str) -> dict[str, Any]:
    return next(s for s in json.loads(document)["Statement"] if s["Sid"] == sid)


def test_prod_plans_the_profile_arns_in_iam_and_the_endpoint_policy() -> None:
    plan: Plan = planned("prod")
    profile_arn = f"arn:aws:bedrock:us-east-1:{AWS_ACCOUNT_ID}:inference-profile/us.{SONNET}"
    routed = [f"arn:aws:bedrock:{region}::foundation-model/{SONNET}" for region in US_REGIONS]
    invoke = plan.one("aws:iam/policy:Policy", "prod-claims-triage-invoke").inputs["policy"]
    assert _statement(invoke, "InvokeAllowedModels")["Resource"] == [profile_arn]
    through = _statement(invoke, "InvokeThroughInferenceProfiles")
    assert through["Resource"] == routed
    assert through["Condition"] == {"ArnEquals": {"bedrock:InferenceProfileArn": [profile_arn]}}
    runtime = next(
        r for r in plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs["serviceName"] == "com.amazonaws.us-east-1.bedrock-runtime"
    )  # fmt: skip
    assert _statement(runtime.inputs["policy"], "UseCase0InvokeRouted")["Resource"] == routed


# --- retired models -------------------------------------------------------------------------------------


def test_retired_models_are_refused_with_their_replacement() -> None:
    assert "use us.anthropic.claude-sonnet-4-5-20250929-v1:0" in _refusal(
        _environment(use_cases=[_bedrock("anthropic.claude-3-5-sonnet-20240620-v1:0")])
    )
    vertex = {**_bedrock("gemini-1.5-pro-002"), "cloud": "gcp"}
    assert "gemini-1.5-pro-002 is retired on Vertex AI; use gemini-3.5-flash" in _refusal(
        _environment(use_cases=[vertex])
    )
    saas = {
        "name": "copy",
        "pattern": "saas",
        "data_classification": "public",
        "cloud": "aws",
        "provider": "anthropic",
        "models": ["claude-3-5-sonnet-20241022"],
        "api_key_secret": "anthropicKey",
        "allowed_principals": ["arn:aws:iam::123456789012:role/app"],
    }
    assert "claude-3-5-sonnet-20241022 is retired by anthropic; use claude-sonnet-4-6" in _refusal(
        _environment(use_cases=[saas])
    )
