"""The shipped stacks pass every mandatory policy; made insecure, they fail with the right policies."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from tests.conftest import without_gateway
from triplane.gate import GateResult, check_plan
from triplane.plan import Plan, PlannedResource, run_program
from triplane.stackfile import load_stack
from triplane.stacks import program


def test_every_shipped_stack_passes_every_mandatory_policy(shipped_plan: Plan) -> None:
    stack_file = load_stack(shipped_plan.stack)
    result = check_plan(shipped_plan, stack_config=stack_file.config)
    assert result.mandatory == [], result.render()
    assert result.passed
    assert result.resources == len(shipped_plan.resources) - 1


def insecure_dev_spec() -> tuple[dict[str, Any], list[str]]:
    """The dev stack's settings with insecure choices the spec itself accepts."""
    stack_file = load_stack("dev")
    config = copy.deepcopy(stack_file.config)
    # Behind the gateway, restricted data on SaaS cannot even be rendered: the gateway comes off.
    environment = without_gateway(config["triplane:environment"])
    for use_case in environment["use_cases"]:
        if use_case["pattern"] == "saas":
            use_case["data_classification"] = "restricted"  # restricted data sent to a SaaS API
        if use_case["pattern"] == "self-managed":
            use_case["image"] = {"tag": "3.3.6"}  # an older release, pinned: accepted
    return config, stack_file.secret_keys


def open_up(resource: PlannedResource) -> PlannedResource:
    """The insecure edits a careless component change would make to what is registered."""
    inputs = copy.deepcopy(resource.inputs)
    if resource.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and "bedrock" in str(inputs.get("serviceName")):
        inputs["privateDnsEnabled"] = False  # the SDKs would resolve Bedrock's public address
    elif resource.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        inputs["cidrIpv4"] = "0.0.0.0/0"  # the endpoint reachable from anywhere
    elif resource.type == "kubernetes:core/v1:Service":
        inputs["spec"]["type"] = "LoadBalancer"
        inputs["metadata"].pop("annotations", None)  # a public load balancer in front of the model
    elif resource.type == "kubernetes:apps/v1:Deployment" and inputs["metadata"]["name"] == "cluster-autoscaler":
        for container in inputs["spec"]["template"]["spec"]["containers"]:
            repository = container["image"].rsplit(":", 1)[0]
            container["image"] = f"{repository}:latest"
    elif resource.type == "kubernetes:apps/v1:Deployment" and "model-server" in str(inputs["metadata"]):
        # A floating minor slipped into a component: it moves to each new patch release.
        for container in inputs["spec"]["template"]["spec"]["containers"]:
            repository = container["image"].rsplit(":", 1)[0]
            container["image"] = f"{repository}:3.3"
    else:
        return resource
    return dataclasses.replace(resource, inputs=inputs)


@pytest.fixture(scope="module")
def insecure() -> GateResult:
    config, secret_keys = insecure_dev_spec()
    plan = run_program(program.main, stack="dev", config=config, secret_keys=secret_keys)
    plan.resources = [open_up(r) for r in plan.resources]
    return check_plan(plan, stack_config=config)


def test_insecure_dev_fails_the_gate(insecure: GateResult) -> None:
    assert not insecure.passed and insecure.exit_code == 1
    expected = {
        "classification-allowed-patterns",
        "aws-bedrock-endpoint-private-dns",
        "aws-security-group-no-public-ingress",
        "k8s-image-pinned",
        "k8s-no-public-load-balancer",
    }
    assert expected <= insecure.policy_names("mandatory"), insecure.render()


def test_restricted_data_on_saas_is_reported_on_the_use_case(insecure: GateResult) -> None:
    (violation,) = [v for v in insecure.violations if v.policy == "classification-allowed-patterns"]
    assert violation.use_case == "support-drafts"
    assert violation.message == (
        "use case support-drafts holds restricted data but is served saas; restricted data may be served "
        "only: self-managed"
    )


def test_moving_and_latest_tags_are_reported(insecure: GateResult) -> None:
    pinned = {(v.resource_type, v.use_case): v.message for v in insecure.violations if v.policy == "k8s-image-pinned"}
    # A floating minor: the model server's image moves with every patch release.
    assert pinned[("kubernetes:apps/v1:Deployment", "code-review")].endswith(
        "text-generation-inference:3.3 uses the tag '3.3', which names no full version (major.minor.patch) "
        "and moves as releases land: pin a full version or a digest")
    # `latest` slipped into a shared component: the cluster autoscaler that sizes every GPU pool.
    shared = pinned[("kubernetes:apps/v1:Deployment", "shared")]
    assert "cluster-autoscaler:latest uses the moving tag 'latest'" in shared
