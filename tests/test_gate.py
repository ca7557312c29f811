"""The offline gate: the policies in-process on a plan, configuration, results and the CLI."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from triplane import gate
from triplane.check_cli import check
from triplane.components.tagging import standard_tags
from triplane.gate import GateError, GateResult, check_plan, load_policy_config, reconcile, schema_errors
from triplane.plan import SECRET_SIG, SECRET_SIG_KEY, Plan, PlannedResource
from triplane.policies.common import ADVISORY, MANDATORY, MEDIUM, REGISTRY, UNKNOWN_STRING, Meta, Policy, config_schema
from triplane.policies.packs import PACK_DIR, scope_config

STACK = "gate"
TAGS = standard_tags(environment=STACK, owner="platform", cost_center="cc-1", use_case="chat",
                     data_classification="internal", pattern="cloud-managed")


def res(type_: str, name: str, inputs: dict[str, Any], parent: str | None = None) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:{STACK}::triplane::{type_}::{name}", type=type_, name=name,
        custom=not type_.startswith("triplane:"), parent=parent, inputs=inputs, dependencies=(), protect=False,
        retain_on_delete=False, provider=None, aliases=(), ignore_changes=(), additional_secret_outputs=(),
    )


def sample_plan() -> Plan:
    component = res("triplane:cloudmanaged:BedrockEndpoint", f"{STACK}-chat", {})
    return Plan(project="triplane", stack=STACK, resources=[
        component,
        res("aws:kms/key:Key", "chat-key", {"enableKeyRotation": False, "tags": TAGS}, parent=component.urn),
        res("aws:iam/rolePolicy:RolePolicy", "chat-untagged-child", {"policy": json.dumps({"Statement": [
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]})}, parent=component.urn),
        res("aws:secretsmanager/secret:Secret", "shared-secret", {"tags": {**TAGS, "use-case": "shared"}}),
        res("aws:eks/nodeGroup:NodeGroup", "big-pool", {"tags": TAGS, "scalingConfig": {"maxSize": 50}}),
        res("aws:ec2/securityGroup:SecurityGroup", "lab-sg", {"tags": TAGS, "ingress": [
            {"fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}]}),
        res("aws:ec2/vpc:Vpc", "leaky-vpc", {"tags": {**TAGS, "Name": {
            SECRET_SIG_KEY: SECRET_SIG, "value": "sk-ant-api03-Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0GfEdCbA9z"}}}),
        res("kubernetes:core/v1:Service", "public-service", {
            "metadata": {"name": "s", "namespace": "n"}, "spec": {"type": "LoadBalancer"}}),
    ])


@pytest.fixture(scope="module")
def default_run() -> GateResult:
    return check_plan(sample_plan(), config={})


def by_policy(result: GateResult) -> dict[str, list[gate.Violation]]:
    found: dict[str, list[gate.Violation]] = {}
    for violation in result.violations:
        found.setdefault(violation.policy, []).append(violation)
    return found


# --- configuration ------------------------------------------------------------------------------


def policies() -> list[Policy]:
    """Two policies outside the registry: a capped one (mandatory) and an advisory one."""
    def nothing(_resource: Any, _config: dict[str, Any]) -> list[str]:
        return []

    cap = Meta("cap", "d", MEDIUM, MANDATORY, "r", (), "resource", ("*",),
               config_schema({"maxNodes": {"type": "integer", "minimum": 1, "default": 10}}))
    other = Meta("other", "d", MEDIUM, ADVISORY, "r", (), "resource", ("*",), config_schema())
    return [Policy(cap, resource_check=nothing), Policy(other, resource_check=nothing)]


def test_reconcile_applies_defaults_then_all_then_each_policy() -> None:
    defaults = reconcile(policies(), {})
    assert defaults["cap"] == {"enforcementLevel": "mandatory", "properties": {"maxNodes": 10, "exemptions": []}}
    assert defaults["other"] == {"enforcementLevel": "advisory", "properties": {"exemptions": []}}
    given = reconcile(policies(), {"cap": {"enforcementLevel": "advisory", "maxNodes": 3}, "elsewhere": {}})
    assert given["cap"] == {"enforcementLevel": "advisory", "properties": {"maxNodes": 3, "exemptions": []}}
    assert set(given) == {"cap", "other"}
    everything = reconcile(policies(), {"all": {"enforcementLevel": "disabled"},
                                        "cap": {"enforcementLevel": "advisory"}})
    assert (everything["cap"]["enforcementLevel"], everything["other"]["enforcementLevel"]) == ("advisory", "disabled")


def test_reconcile_rejects_config_that_breaks_the_schema() -> None:
    with pytest.raises(GateError, match=r"pack p is invalid: cap: maxNodes: 'ten' is not of type 'integer'"):
        reconcile(policies(), {"cap": {"maxNodes": "ten"}}, "p")
    with pytest.raises(GateError, match=r"cap: exemptions\[0\]: 'reason' is a required property"):
        reconcile(policies(), {"cap": {"exemptions": [{"resource": "pool-*"}]}})
    with pytest.raises(GateError, match=r"cap: exemptions\[0\].reason: 'because' is too short"):
        reconcile(policies(), {"cap": {"exemptions": [{"resource": "pool-*", "reason": "because"}]}})


def test_schema_errors_name_the_path_of_every_problem() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 5},
                                               "mode": {"type": "string", "enum": ["a", "b"]},
                                               "tags": {"type": "array", "items": {"type": "string"}}},
              "required": ["n"], "additionalProperties": False}
    assert schema_errors(schema, {"n": 3, "mode": "a", "tags": ["x"]}) == []
    assert schema_errors(schema, {"n": 9, "mode": "c", "tags": [1], "extra": True}) == [
        "(root): Additional properties are not allowed ('extra' was unexpected)",
        "mode: 'c' is not one of ['a', 'b']",
        "n: 9 is greater than the maximum of 5",
        "tags[0]: 1 is not of type 'string'",
    ]
    assert schema_errors(schema, {}) == ["(root): 'n' is a required property"]
    assert schema_errors({"type": "integer"}, True) == ["(root): True is not of type 'integer'"]


def test_every_policy_schema_is_a_valid_json_schema() -> None:
    from jsonschema import Draft7Validator

    for meta in REGISTRY.values():
        Draft7Validator.check_schema(meta.schema.json_schema())


def test_load_policy_config_accepts_the_engine_file_format(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"all": "advisory", "k8s-image-pinned": {"enforcementLevel": "mandatory",
                                                                       "requireDigest": True}}))
    assert load_policy_config(path) == {
        "all": {"enforcementLevel": "advisory"},
        "k8s-image-pinned": {"enforcementLevel": "mandatory", "requireDigest": True},
    }
    path.write_text(json.dumps({"k8s-image-pinned": "blocking"}))
    with pytest.raises(GateError, match="'blocking' is not an enforcement level"):
        load_policy_config(path)
    path.write_text("[1, 2]")
    with pytest.raises(GateError, match="must be a JSON object"):
        load_policy_config(path)
    with pytest.raises(GateError, match="no such policy config file"):
        load_policy_config(tmp_path / "missing.json")


# --- the gate ------------------------------------------------------------------------------------


def test_violations_carry_pack_level_use_case_and_resource(default_run: GateResult) -> None:
    found = by_policy(default_run)
    (rotation,) = found["aws-kms-key-rotation"]
    assert (rotation.pack, rotation.enforcement, rotation.severity) == ("triplane", "mandatory", "medium")
    assert (rotation.use_case, rotation.resource_name) == ("chat", "chat-key")
    assert rotation.resource_type == "aws:kms/key:Key"
    assert rotation.references == ("CKV_AWS_7",)
    assert rotation.message == "enableKeyRotation is not true: the key material never rotates"
    assert rotation.remediation == "Set enable_key_rotation=True on the key."
    # An untagged child belongs to the use case of its component's tagged children.
    (wildcard,) = found["aws-bedrock-iam-least-privilege"]
    assert wildcard.use_case == "chat" and wildcard.resource_name == "chat-untagged-child"
    assert "shared-secret" in {v.resource_name for v in found["aws-secret-customer-managed-key"]}
    assert {v.use_case for v in found["aws-secret-customer-managed-key"]} == {"shared"}
    (lb,) = found["k8s-no-public-load-balancer"]
    assert lb.use_case == "shared"  # no labels, no component: shared


def test_secret_values_reach_packs_unwrapped(default_run: GateResult) -> None:
    (leak,) = by_policy(default_run)["no-plaintext-credentials"]
    assert leak.resource_name == "leaky-vpc"
    assert leak.message.startswith("tags.Name holds what looks like a credential")


def test_mandatory_violations_fail_and_render_by_use_case(default_run: GateResult) -> None:
    assert not default_run.passed and default_run.exit_code == 1
    text = default_run.render()
    assert text.splitlines()[0].startswith(f"triplane check {STACK}: 8 resources, packs triplane 0.1.0 (")
    assert text.index("use case chat") < text.index("shared resources")
    assert "  chat-key  [aws:kms/key:Key]" in text
    assert "    MANDATORY aws-kms-key-rotation (medium) [CKV_AWS_7]: enableKeyRotation is not true" in text
    assert text.splitlines()[-1].startswith("FAILED: ")
    data = json.loads(default_run.dumps())
    assert data["format"] == "triplane-check/1" and data["stack"] == STACK and data["passed"] is False
    assert data["summary"]["mandatory"] == len(default_run.mandatory) > 0
    assert data["packs"] == [{"name": "triplane", "version": "0.1.0", "path": str(PACK_DIR),
                              "policies": len(REGISTRY)}]
    first = data["violations"][0]
    assert set(first) == {"pack", "policy", "enforcementLevel", "severity", "useCase", "urn", "resourceType",
                          "resourceName", "message", "description", "remediation", "references"}


def test_policy_config_changes_levels_caps_and_exemptions() -> None:
    config = {
        "aws-kms-key-rotation": "disabled",
        "aws-node-group-size-cap": {"maxNodes": 100},
        "aws-secret-customer-managed-key": {"enforcementLevel": "advisory"},
        "aws-security-group-no-public-ingress": {
            "exemptions": [{"resource": "lab-*", "reason": "bastion of the training lab, destroyed nightly"}]},
    }
    result = check_plan(sample_plan(), scope="aws", config=config)
    found = by_policy(result)
    assert "aws-kms-key-rotation" not in found
    assert "aws-node-group-size-cap" not in found
    assert "aws-security-group-no-public-ingress" not in found
    assert {v.enforcement for v in found["aws-secret-customer-managed-key"]} == {"advisory"}
    assert result.exemptions == [{"pack": "triplane", "policy": "aws-security-group-no-public-ingress",
                                  "resource": "lab-*", "reason": "bastion of the training lab, destroyed nightly"}]
    assert "exemptions in effect" in result.render()
    # The AWS scope keeps the Kubernetes policies (EKS serves models) and drops the other clouds'.
    assert "k8s-no-public-load-balancer" in found
    disabled = {p.name for p in result.packs[0].policies if p.enforcement == "disabled"}
    assert disabled == {*scope_config("aws"), "aws-kms-key-rotation"}
    assert all(not name.startswith(("azure-", "gcp-")) for name in found)


def test_all_advisory_passes_the_gate_and_no_process_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the gate started a process")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    result = check_plan(sample_plan(), config={"all": "advisory"})
    assert result.passed and result.mandatory == [] and result.advisory
    assert {v.pack for v in result.violations} == {"triplane"}
    assert [p.name for p in result.packs] == ["triplane"]
    assert {p.enforcement for p in result.packs[0].policies} == {"advisory"}


def test_policies_see_numbers_as_the_engine_sends_them() -> None:
    view = gate.PlanView(sample_plan())
    pool = next(r for r in view.stack() if r.name == "big-pool")
    assert pool.props["scalingConfig"] == {"maxSize": 50.0}
    assert isinstance(pool.props["scalingConfig"]["maxSize"], float)
    rule = next(r for r in view.stack() if r.name == "lab-sg")
    assert rule.props["ingress"][0]["fromPort"] == 22.0 and rule.props["ingress"][0]["cidrBlocks"] == ["0.0.0.0/0"]


def test_a_value_known_only_after_apply_makes_the_policy_a_note_not_a_guess() -> None:
    plan = sample_plan()
    key = next(r for r in plan.resources if r.name == "chat-key")
    plan.resources[plan.resources.index(key)] = dataclasses.replace(
        key, inputs={**key.inputs, "keyUsage": UNKNOWN_STRING})
    result = check_plan(plan, scope="aws", config={})
    (note,) = by_policy(result)["aws-kms-key-rotation"]
    assert (note.enforcement, note.severity, note.urn, note.use_case) == ("advisory", "unspecified", None, "(stack)")
    assert note.message == ("can't run policy 'aws-kms-key-rotation' from policy pack 'triplane' during preview: "
                            "string value at .keyUsage can't be known during preview")


def test_an_unknown_scope_is_an_error_and_a_known_one_runs_only_its_policies() -> None:
    with pytest.raises(GateError, match="no policy scope named 'nope'; known scopes: aws, azure, gcp, kubernetes"):
        check_plan(sample_plan(), scope="nope", config={})
    kubernetes = check_plan(sample_plan(), scope="kubernetes", config={})
    assert kubernetes.violations and {v.policy.split("-")[0] for v in kubernetes.violations} == {"k8s"}
    assert "aws-kms-key-rotation" in by_policy(check_plan(sample_plan(), config={}))


def test_invalid_policy_config_stops_the_check() -> None:
    with pytest.raises(GateError, match="aws-kms-key-rotation: exemptions\\[0\\]: 'reason' is a required property"):
        check_plan(sample_plan(), scope="aws",
                   config={"aws-kms-key-rotation": {"exemptions": [{"resource": "chat-key"}]}})


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def offline_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """`triplane check` on the sample plan, without planning a real stack."""
    from triplane import stackfile

    monkeypatch.setattr(stackfile, "plan_file", lambda stack_file, environment, platform_plan=None: sample_plan())
    monkeypatch.setattr(stackfile.StackFile, "environment", lambda self: None)
    monkeypatch.setattr(stackfile, "load_stack", lambda stack: stackfile.StackFile(
        name=stack, path=Path(f"stacks/Pulumi.{stack}.yaml"), config={}, secret_keys=[]))


def test_check_command_exits_1_on_mandatory_violations_and_prints_json(offline_stack: None) -> None:
    result = CliRunner().invoke(check, [STACK, "--json", "--scope", "aws"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["passed"] is False
    assert "aws-kms-key-rotation" in {v["policy"] for v in data["violations"]}


def test_check_command_exits_0_when_only_advisories_remain(offline_stack: None, tmp_path: Path) -> None:
    config = tmp_path / "advisory.json"
    config.write_text(json.dumps({"all": "advisory"}))
    result = CliRunner().invoke(check, [STACK, "--scope", "kubernetes", "--policy-config", str(config)])
    assert result.exit_code == 0, result.output
    assert "advisory  k8s-no-public-load-balancer (critical)" in result.output
    assert result.output.rstrip().endswith("PASSED: no mandatory violations (1 advisory)")


def test_check_command_exits_2_on_a_bad_config(offline_stack: None, tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"k8s-image-pinned": "sometimes"}))
    result = CliRunner().invoke(check, [STACK, "--policy-config", str(config)])
    assert result.exit_code == 2
    assert "'sometimes' is not an enforcement level" in result.output
