"""Secrets stay secret end to end: planted values never show, and every input carrying one is marked.

Every `secure:` slot of every shipped stack gets a recognisable value (`PLANTED-<key>-7f3a`). The
stack is planned with them, and everything the plan produces for a person or a file is searched:
the tree and summary, the JSON, the Kubernetes manifests, the stack outputs, the program's log, and
the refusals of broken variants. Separately, every resource input whose raw value contains a
planted value must hold it inside the engine's secret envelope.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from tests.reliability_support import (
    SHIPPED_STACKS,
    contains,
    plan_recorded,
    planted,
    planted_plan,
    planted_values,
    ref,
    stack_document,
    unwrapped_paths,
    variant,
    write_stack,
)
from triplane import render
from triplane.cli import cli
from triplane.plan import REDACTED, Plan
from triplane.stackfile import load_stack, plan_stack
from triplane.stacks.secrets import secret_fields
from triplane.stacks.spec import SpecError


def needles(stack: str) -> tuple[str, ...]:
    return tuple(planted_values(stack).values())


@pytest.fixture(scope="module", params=SHIPPED_STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def rendered(plan: Plan, stack: str) -> str:
    console = Console(record=True, width=200, color_system=None)
    environment = load_stack(ref(stack)).environment()
    render.print_plan(console, plan, environment)
    for table in render.summary(plan, environment):
        console.print(table)
    return console.export_text()


def test_every_secret_the_stacks_name_is_a_planted_slot(stack: str) -> None:
    stack_file = load_stack(ref(stack))
    named = {f"triplane:{key}" for _, key in secret_fields(stack_file.environment())}
    assert named <= set(stack_file.secret_keys)
    assert set(planted_values(stack)) == set(stack_file.secret_keys)


def test_planted_values_reach_the_resources(stack: str) -> None:
    plan = planted_plan(stack)
    for key, value in planted_values(stack).items():
        assert any(contains(r.inputs, (value,)) for r in plan.resources), f"{key} reaches no resource"


def test_every_input_carrying_a_planted_value_is_marked_secret(stack: str) -> None:
    plan = planted_plan(stack)
    exposed = {r.urn: list(unwrapped_paths(r.inputs, needles(stack))) for r in plan.resources}
    assert {urn: paths for urn, paths in exposed.items() if paths} == {}
    assert list(unwrapped_paths(plan.outputs, needles(stack))) == []


def test_no_planted_value_in_the_json_tree_summary_or_log(stack: str) -> None:
    plan = planted_plan(stack)
    document = plan.dumps()
    texts = {
        "json": document,
        "tree and summary": rendered(plan, stack),
        "log": "\n".join(message for _, message in plan.logs),
        "outputs": json.dumps(plan.to_json()["outputs"]),
    }
    for where, text in texts.items():
        leaked = [value for value in needles(stack) if value in text]
        assert leaked == [], f"{where} shows {leaked}"
    if needles(stack):
        assert REDACTED in document
        assert any(r["secretInputs"] for r in json.loads(document)["resources"])


def test_no_planted_value_in_the_kubernetes_manifests(stack: str, tmp_path: Path) -> None:
    from triplane.k8s_out import write_manifests

    plan = planted_plan(stack)
    written = write_manifests(plan, tmp_path)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= len(written) > 0 or not any(r.type.startswith("kubernetes:") for r in plan.resources)
    leaked = {str(p): [v for v in needles(stack) if v in p.read_text(encoding="utf-8")] for p in files}
    assert {p: v for p, v in leaked.items() if v} == {}


# --- every kind of slot -----------------------------------------------------------------------------

ALL_SLOTS = {
    "triplane:azureOpenaiKey": planted("triplane:azureOpenaiKey"),
    "triplane:servedApiKey": planted("triplane:servedApiKey"),
    "triplane:servedHfToken": planted("triplane:servedHfToken"),
}


@functools.cache
def every_slot_plan() -> Plan:
    """Prod with the longest names, an Azure SaaS key and a self-managed server with both its secrets."""
    from tests.test_reliability_names import LONG_STACK, long_names_document

    document = long_names_document()
    served = next(u for u in document["config"]["triplane:environment"]["use_cases"] if u.get("cluster"))
    served["api_key_secret"], served["hf_token_secret"] = "servedApiKey", "servedHfToken"
    for key in ALL_SLOTS:
        document["config"][key] = {"secure": "v1:placeholder"}
    values = {key: planted(key) for key, value in document["config"].items() if isinstance(value, dict)
              and set(value) == {"secure"}}  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        return plan_stack(str(write_stack(Path(directory), LONG_STACK, document)), secret_values=values)


def test_secrets_of_every_kind_of_slot_stay_secret(tmp_path: Path) -> None:
    from triplane.k8s_out import write_manifests

    plan = every_slot_plan()
    values = tuple(ALL_SLOTS.values())
    for value in values:
        assert any(contains(r.inputs, (value,)) for r in plan.resources), f"{value} reaches no resource"
    exposed = {r.urn: list(unwrapped_paths(r.inputs, values)) for r in plan.resources}
    assert {urn: paths for urn, paths in exposed.items() if paths} == {}
    written = "".join(p.read_text(encoding="utf-8") for p in write_manifests(plan, tmp_path))
    for text in (plan.dumps(), written, "\n".join(m for _, m in plan.logs)):
        assert [v for v in values if v in text] == []


# --- refusals ---------------------------------------------------------------------------------------


def first_secret(stack: str) -> tuple[str, str]:
    key = next(iter(planted_values(stack)))
    return key, planted(key)


def test_a_plain_text_secret_is_refused_without_showing_it(tmp_path: Path) -> None:
    key, value = first_secret("prod")
    document = stack_document("prod")
    document["config"][key] = value  # written in plain text instead of `secure:`
    path = write_stack(tmp_path, "prod", document)
    result = CliRunner().invoke(cli, ["plan", str(path)])
    assert result.exit_code == 2
    assert "is stored in plain text" in result.output
    assert value not in result.output


def test_the_command_shows_and_writes_no_secret(tmp_path: Path) -> None:
    """`triplane plan prod --json --k8s-out`: the stack's own placeholders appear in no output or file."""
    from triplane.stackfile import placeholder

    result = CliRunner().invoke(
        cli, ["plan", "prod", "--json", str(tmp_path / "plan.json"), "--k8s-out", str(tmp_path / "k8s")]
    )
    assert result.exit_code == 0, result.output
    values = [placeholder(key) for key in load_stack("prod").secret_keys]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 10
    for text in [result.output, *(p.read_text(encoding="utf-8") for p in files)]:
        assert [v for v in values if v in text] == []


def test_a_refusal_of_a_valid_looking_spec_shows_no_secret(tmp_path: Path) -> None:
    """A refusal that needs the whole environment (Vertex on an existing network needs its endpoint
    address) comes during validation, before the program, and carries no planted value."""

    def break_it(environment: dict[str, Any]) -> None:
        environment["clouds"]["gcp"]["network"] = {
            "existing": {
                "network": "projects/acme-genai-prod/global/networks/main",
                "subnetwork": "projects/acme-genai-prod/regions/europe-west4/subnetworks/app",
                "application_cidrs": ["10.30.0.0/20"],
            }
        }
        environment["use_cases"] = [u for u in environment["use_cases"] if u["pattern"] != "saas"]
        for use_case in environment["use_cases"]:
            if use_case["pattern"] == "self-managed":
                # An existing network has no Triplane egress firewall: the stack states the hub path.
                use_case["weights"] = {"source": "hub"}

    path = variant(tmp_path, "prod", break_it)
    values = planted_values("prod")
    with pytest.raises(SpecError) as caught:
        plan_recorded(str(path), secret_values=values)
    assert not hasattr(caught.value, "recorded"), "refused by the program, not before it"
    assert "vertex.psc_address" in str(caught.value)
    assert [v for v in values.values() if v in str(caught.value)] == []


def test_a_spec_refusal_shows_no_secret(tmp_path: Path) -> None:
    def break_it(environment: dict[str, Any]) -> None:
        environment["use_cases"][0]["provider"] = "no-such-provider"

    path = variant(tmp_path, "prod", break_it)
    values = planted_values("prod")
    with pytest.raises(SpecError) as caught:
        plan_stack(str(path), secret_values=values)
    assert "no-such-provider" in str(caught.value)
    assert [v for v in values.values() if v in str(caught.value)] == []
