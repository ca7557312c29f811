"""The same policies, the same findings: in-process (`triplane check`) and served to the engine.

`triplane check` runs the policies in-process; the pack folders serve them to the Pulumi engine
through pulumi-policy (`triplane.policies.adapter`). Here each plan goes through both: the gate, and the
`triplane` pack started and driven over the analyzer protocol as the engine drives it. Every
finding (policy, resource, level, severity, message) must be the same.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format
from pulumi_policy.proxy import unknown_checking_proxy

from tests.analyzer_support import LEVEL_NAMES, SEVERITY_NAMES, Diagnostic, analyze
from tests.test_policies_rules import CONFIG, SERVES, bad_plan, declared
from triplane.gate import check_plan, default_config, load_policy_config, reconcile
from triplane.plan import Plan, PlannedResource
from triplane.policies.adapter import plain
from triplane.policies.common import REGISTRY, UNKNOWN_STRING
from triplane.policies.packs import PACK_DIR, POLICIES
from triplane.stackfile import load_stack


def with_unknown_key_usage(plan: Plan) -> Plan:
    """`plan` plus a KMS key whose usage is known only after apply: its rotation policy cannot run."""
    key = PlannedResource(
        urn=f"urn:pulumi:{plan.stack}::triplane::aws:kms/key:Key::later-key", type="aws:kms/key:Key",
        name="later-key", custom=True, parent=None, inputs={"keyUsage": UNKNOWN_STRING, "enableKeyRotation": True},
        dependencies=(), protect=False, retain_on_delete=False, provider=None, aliases=(), ignore_changes=(),
        additional_secret_outputs=())
    return dataclasses.replace(plan, resources=[*plan.resources, key])


def as_engine_names_it(diagnostic: Diagnostic) -> Diagnostic:
    """The Python SDK names a pack `<name>@v0.0.1` in its "can't run" note (the CLI knows the real version)."""
    return dataclasses.replace(diagnostic, message=diagnostic.message.replace("@v0.0.1'", "'"))


def test_the_gate_and_the_engine_served_pack_report_the_same_findings(prod_plan: Plan) -> None:
    cases = [
        (prod_plan, default_config(), load_stack("prod").config),
        (with_unknown_key_usage(bad_plan()), CONFIG, declared(True, tier="prod", serves=SERVES)),
    ]
    compared = []
    for plan, config, stack_config in cases:
        gate = check_plan(plan, config=config, stack_config=stack_config)
        effective = reconcile(POLICIES, load_policy_config(config), "triplane")
        engine = analyze(PACK_DIR, plan, effective, stack_config)
        in_process = sorted(Diagnostic(v.policy, v.urn or "", v.enforcement, v.severity, v.message)
                            for v in gate.violations)
        assert in_process == sorted(as_engine_names_it(d) for d in engine.diagnostics), plan.stack
        compared.append(in_process)
        # The pack describes each policy as the registry does.
        served = {p.name: p for p in engine.info.policies}
        assert set(served) == {p.name for p in POLICIES}
        for name, policy in served.items():
            meta = REGISTRY[name]
            assert (policy.description, LEVEL_NAMES[policy.enforcementLevel], SEVERITY_NAMES[policy.severity]) == (
                meta.description, meta.enforcement.value, meta.severity.value), name
            assert json_format.MessageToDict(policy.configSchema.properties) == meta.schema.properties, name
    shipped, bad = compared
    assert shipped and all(d.enforcement == "advisory" for d in shipped)
    assert len({d.policy for d in bad}) >= 60 and any(d.enforcement == "mandatory" for d in bad)
    assert Diagnostic("aws-kms-key-rotation", "", "advisory", "unspecified",
                      "can't run policy 'aws-kms-key-rotation' from policy pack 'triplane' during preview: "
                      "string value at .keyUsage can't be known during preview") in bad


def test_the_adapter_reads_the_sdk_s_properties_through_their_public_interfaces() -> None:
    props = {"a": [1.0, {"b": UNKNOWN_STRING}], "c": UNKNOWN_STRING, "d": "text", "e": {}, "f": True}
    assert plain(unknown_checking_proxy(props)) == props
    assert type(plain(unknown_checking_proxy(props))["a"]) is list


# Signs that pip could not reach the package registry at all (then the test cannot run here).
UNREACHABLE = ("Failed to establish a new connection", "Temporary failure in name resolution",
               "Network is unreachable", "Could not fetch URL", "Connection refused")


def test_a_copy_of_the_pack_runs_on_its_pinned_requirements_alone(tmp_path: Path) -> None:
    """`pulumi policy publish` uploads the pack folder and the service builds its virtualenv from
    `requirements.txt`: a copy of the folder, outside any checkout, in a virtualenv holding those
    requirements and nothing of Triplane, serves the same findings as the gate."""
    pack = tmp_path / "triplane"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "-r", str(pack / "requirements.txt")], capture_output=True, text=True, check=False)
    if install.returncode != 0 and any(sign in install.stderr for sign in UNREACHABLE):
        pytest.skip("the package registry is unreachable, so the pack's requirements cannot be installed")
    assert install.returncode == 0, install.stderr[-3000:]
    isolated = subprocess.run([python, "-c", "import triplane"], capture_output=True, cwd=venv, check=False)
    assert isolated.returncode != 0, "the pack's virtualenv must not see Triplane"

    plan, stack_config = bad_plan(), declared(True, tier="prod", serves=SERVES)
    gate = check_plan(plan, config=CONFIG, stack_config=stack_config)
    effective = reconcile(POLICIES, load_policy_config(CONFIG), "triplane")
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", environment)
        engine = analyze(pack, plan, effective, stack_config, python=python)
    in_process = sorted(Diagnostic(v.policy, v.urn or "", v.enforcement, v.severity, v.message)
                        for v in gate.violations)
    assert len(in_process) > 60
    assert in_process == sorted(as_engine_names_it(d) for d in engine.diagnostics)
