"""`stage-ownership`: a platform stack and its use-case stacks each create only what is theirs."""

from __future__ import annotations

import json

from tests.test_policies_rules import res
from triplane.gate import check_plan
from triplane.plan import Plan
from triplane.policies.stages import PLATFORM_TYPES_DEFAULT, USE_CASE_TYPES_DEFAULT

STACK = "test"
SHARED = ("aws:eks/cluster:Cluster", "shared-cluster")
SINGLETON = ("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration", "shared-logging")
OWN = ("triplane:cloudmanaged:BedrockEndpoint", f"{STACK}-chat")


def plan(*resources: tuple[str, str]) -> Plan:
    return Plan(project="triplane", stack=STACK, resources=[res(t, n, {}) for t, n in resources], outputs={})


def settings(**stage: object) -> dict[str, str]:
    return {"triplane:environment": json.dumps({"owner": "platform", "cost_center": "cc-1", **stage})}


def fired(result_plan: Plan, stack_config: dict[str, str]) -> dict[str, str]:
    result = check_plan(result_plan, config={"all": "disabled", "stage-ownership": "mandatory"},
                        stack_config=stack_config)
    return {v.resource_name or "": v.message for v in result.violations if v.policy == "stage-ownership"}


def test_a_use_case_stack_creates_no_shared_resource_and_no_account_singleton() -> None:
    found = fired(plan(SHARED, SINGLETON, OWN), settings(platform="prod-platform", use_cases=[]))
    assert set(found) == {"shared-cluster", "shared-logging"}
    assert found["shared-logging"] == (
        f"{SINGLETON[0]} is the platform's: stack {STACK} is a use-case stack of prod-platform, which creates it "
        "(a use case requests it there, in the platform's served stacks)")


def test_a_platform_stack_creates_no_use_case_component() -> None:
    found = fired(plan(SHARED, SINGLETON, OWN), settings(use_case_stacks=["prod-apps"]))
    assert set(found) == {f"{STACK}-chat"}
    assert "belongs to a use case: platform stack test builds only what its use-case stacks share" in found[OWN[1]]


def test_the_deploy_path_is_the_platforms() -> None:
    runner = ("triplane:deploy:AwsDeployRunner", "shared-runner")
    found = fired(plan(runner, OWN), settings(platform="prod-platform", use_cases=[]))
    assert set(found) == {"shared-runner"}
    assert fired(plan(runner), settings(use_case_stacks=["prod-apps"])) == {}


def test_a_single_stack_owns_everything() -> None:
    assert fired(plan(SHARED, SINGLETON, OWN), settings(use_cases=[])) == {}


def test_the_two_sides_do_not_overlap() -> None:
    assert not set(PLATFORM_TYPES_DEFAULT) & set(USE_CASE_TYPES_DEFAULT)
    assert all(t.startswith("triplane:") for t in USE_CASE_TYPES_DEFAULT)


def test_a_use_case_stack_takes_account_logging_and_private_paths_from_its_platform() -> None:
    bedrock = ("triplane:cloudmanaged:BedrockEndpoint", f"{STACK}-chat")
    vertex = ("triplane:cloudmanaged:VertexEndpoint", f"{STACK}-search")
    rules = {"all": "disabled", "aws-bedrock-invocation-logging": "mandatory",
             "gcp-vertex-private-service-connect": "mandatory"}

    def found(stack_config: dict[str, str]) -> set[str]:
        result = check_plan(plan(bedrock, vertex), config=rules, stack_config=stack_config)
        return {v.policy for v in result.violations}

    assert found(settings(use_cases=[])) == {"aws-bedrock-invocation-logging", "gcp-vertex-private-service-connect"}
    assert found(settings(platform="prod-platform", use_cases=[])) == set()
