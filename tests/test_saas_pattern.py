"""The SaaS builder in the stack: shared firewalls per cloud, refusal of unenforceable egress, the
missing-key message, and the shipped stacks' SaaS use cases planned end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime.config import set_all_config

from tests.conftest import without_gateway
from triplane.plan import Plan, reveal, run_program
from triplane.stackfile import load_stack
from triplane.stacks import program
from triplane.stacks.patterns import PATTERNS
from triplane.stacks.patterns.saas import allowed_hosts, build
from triplane.stacks.secrets import check_secrets
from triplane.stacks.spec import SpecError, validate_environment

SOURCE = "stacks/Pulumi.dev.yaml"
ROLE = "arn:aws:iam::123456789012:role/app"


def saas(name: str, provider: str, cloud: str = "aws", key: str = "openaiApiKey") -> dict[str, Any]:
    principal = {"aws": ROLE, "gcp": "serviceAccount:app@acme-test-proj.iam.gserviceaccount.com"}[cloud]
    return {
        "name": name,
        "pattern": "saas",
        "data_classification": "internal",
        "cloud": cloud,
        "provider": provider,
        "api_key_secret": key,
        "allowed_principals": [principal],
    }


def existing_aws() -> dict[str, Any]:
    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {
                    "existing": {
                        "vpc_id": "vpc-0123456789abcdef0",
                        "app_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
                        "application_cidrs": ["10.0.0.0/20"],
                    }
                },
            }
        },
        "use_cases": [saas("chat", "openai")],
    }


def test_the_builder_is_registered_for_the_saas_pattern() -> None:
    assert PATTERNS["saas"].build is build


def test_allowlist_is_every_use_case_of_the_cloud_sorted_and_unique() -> None:
    env = validate_environment(
        {
            "owner": "platform-team",
            "cost_center": "cc-1",
            "clouds": {
                "aws": {
                    "region": "us-east-1",
                    "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
                },
                "gcp": {
                    "project": "acme-test-proj",
                    "region": "europe-west4",
                    "network": {"new": {"cidr": "10.30.0.0/16"}},
                },
            },
            "use_cases": [
                saas("aa", "openai"),
                saas("bb", "cohere"),
                saas("cc", "openai"),
                saas("dd", "gemini", "gcp"),
            ],
        },
        SOURCE,
    )
    assert allowed_hosts(env, "aws") == ["api.cohere.com", "api.openai.com"]
    assert allowed_hosts(env, "gcp") == ["generativelanguage.googleapis.com"]
    assert allowed_hosts(env, "azure") == []


def test_existing_network_is_refused_at_validation() -> None:
    with pytest.raises(SpecError) as caught:
        validate_environment(existing_aws(), SOURCE)
    message = str(caught.value)
    assert message.startswith(
        f"{SOURCE}: triplane:environment.use_cases[0].cloud: SaaS egress is enforced by a firewall"
    )
    assert "clouds.aws.network is `existing`" in message and "`network.new`" in message


def test_the_program_stops_with_one_paragraph_before_registering_anything() -> None:
    import pulumi

    with pytest.raises(pulumi.RunError) as caught:
        run_program(
            program.main,
            stack="dev",
            config={"triplane:environment": existing_aws(), "triplane:openaiApiKey": "sk-PLANTED-existing"},
            secret_keys=["triplane:openaiApiKey"],
        )
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: triplane:environment.use_cases[0].cloud: SaaS egress is enforced")
    assert "sk-PLANTED-existing" not in message


def test_a_missing_api_key_names_the_config_key_and_the_command() -> None:
    env = validate_environment(
        {
            "owner": "platform-team",
            "cost_center": "cc-1",
            "clouds": {
                "aws": {
                    "region": "us-east-1",
                    "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
                }
            },
            "use_cases": [saas("chat", "openai")],
        },
        SOURCE,
    )
    set_all_config({}, [])
    with pytest.raises(SpecError) as missing:
        check_secrets(env, SOURCE, "dev")
    message = str(missing.value)
    assert "triplane:environment.use_cases[0].api_key_secret names the secret `triplane:openaiApiKey`" in message
    assert "`pulumi config set --secret triplane:openaiApiKey -s dev`" in message

    set_all_config({"triplane:openaiApiKey": "sk-plain-text-0000"}, [])
    with pytest.raises(SpecError) as plain:
        check_secrets(env, SOURCE, "dev")
    assert (
        "`triplane:openaiApiKey` (named by triplane:environment.use_cases[0].api_key_secret) is stored in plain text"
        in (str(plain.value))
    )
    assert "sk-plain-text-0000" not in str(plain.value)
    set_all_config({}, [])


def saas_only(stack: str, planted: dict[str, str]) -> tuple[Plan, dict[str, Any]]:
    """Plan a shipped stack with only its SaaS use cases, through the real program and composition."""
    stack_file = load_stack(stack, planted)
    environment = without_gateway(json.loads(json.dumps(stack_file.config["triplane:environment"])))
    environment["use_cases"] = [u for u in environment["use_cases"] if u["pattern"] == "saas"]
    environment["kubernetes"] = []
    config = {**stack_file.config, "triplane:environment": environment}
    plan = run_program(program.main, stack=stack, config=config, secret_keys=stack_file.secret_keys)
    return plan, environment


@pytest.fixture(scope="module")
def prod() -> tuple[Plan, dict[str, Any]]:
    return saas_only(
        "prod", {"triplane:anthropicApiKey": "sk-ant-PLANTED-prod-1", "triplane:geminiApiKey": "AIza-PLANTED-prod-2"}
    )


def test_shipped_prod_builds_one_egress_per_cloud_from_the_component(prod: tuple[Plan, dict[str, Any]]) -> None:
    plan, environment = prod
    assert [u["name"] for u in environment["use_cases"]] == ["marketing-copy", "sales-notes"]
    assert len(plan.by_type("triplane:saas:SaasEgress")) == 2
    assert len(plan.by_type("triplane:saas:AwsEgressFirewall")) == 1
    assert len(plan.by_type("triplane:saas:GcpEgressProxy")) == 1
    group = plan.one("aws:networkfirewall/ruleGroup:RuleGroup").inputs
    assert group["ruleGroup"]["rulesSource"]["rulesSourceList"]["targets"] == ["api.anthropic.com"]
    assert len(plan.by_type("aws:ec2/eip:Eip")) == 3  # one per zone of the prod VPC
    routes = [r for r in plan.by_type("aws:ec2/route:Route") if r.name.endswith("-egress")]
    assert len(routes) == 3 and all(r.inputs["vpcEndpointId"].startswith("vpce-") for r in routes)
    endpoints = reveal(plan.outputs["endpoints"])
    assert endpoints["marketing-copy"]["url"] == "https://api.anthropic.com"
    assert endpoints["marketing-copy"]["secret_ref"].startswith("arn:aws:secretsmanager:")
    assert len(endpoints["marketing-copy"]["egress_ips"]) == 3
    assert endpoints["sales-notes"]["proxy"].startswith("http://")
    # prod protects the stored keys; marketing-copy's key is rotated outside Pulumi.
    assert plan.one("aws:secretsmanager/secret:Secret", "prod-marketing-copy-api-key").protect
    assert plan.one(
        "aws:secretsmanager/secretVersion:SecretVersion", "prod-marketing-copy-api-key-value"
    ).ignore_changes == ("secretString",)


def test_shipped_prod_never_shows_a_planted_key(prod: tuple[Plan, dict[str, Any]]) -> None:
    plan, _ = prod
    text = json.dumps(plan.to_json()) + json.dumps(plan.outputs) + json.dumps(plan.logs)
    assert "PLANTED" not in text


def test_shipped_dev_saas_use_case_plans() -> None:
    plan, _ = saas_only("dev", {"triplane:openaiApiKey": "sk-PLANTED-dev-3"})
    endpoints = reveal(plan.outputs["endpoints"])
    assert endpoints["support-drafts"]["url"] == "https://api.openai.com/v1"
    assert endpoints["support-drafts"]["identity"].endswith(":dev-support-drafts-workload")
    assert not any(r.protect for r in plan.resources)
    assert "sk-PLANTED-dev-3" not in json.dumps(plan.to_json())
