"""The same policies, the same findings: in-process (`triplane check`) and served to the engine.

`triplane check` runs the policies in-process; the pack folders serve them to the Pulumi engine
through pulumi-policy (`policies.adapter`). Here each plan goes through both: the gate, and the
`triplane` pack started and driven over the analyzer protocol as the engine drives it. Every
finding (policy, resource, level, severity, message) must be the same.
"""

from __future__ import annotations

from google.protobuf import json_format

from policies.common import REGISTRY
from policies.packs import PACK_POLICIES, PACKS_DIR
from tests.analyzer_support import LEVEL_NAMES, SEVERITY_NAMES, Diagnostic, analyze
from tests.test_policies_rules import CONFIG, bad_plan, declared
from triplane.gate import DEFAULT_CONFIG, check_plan, load_policy_config, reconcile
from triplane.plan import Plan
from triplane.stackfile import load_stack


def test_the_gate_and_the_engine_served_pack_report_the_same_findings(prod_plan: Plan) -> None:
    cases = [
        (prod_plan, DEFAULT_CONFIG, load_stack("prod").config),
        (bad_plan(), CONFIG, declared(True, tier="prod")),
    ]
    compared = []
    for plan, config, stack_config in cases:
        gate = check_plan(plan, packs=["triplane"], config=config, stack_config=stack_config)
        effective = reconcile(PACK_POLICIES["triplane"], load_policy_config(config), "triplane")
        engine = analyze(PACKS_DIR / "triplane", plan, effective, stack_config)
        in_process = sorted(Diagnostic(v.policy, v.urn or "", v.enforcement, v.severity, v.message)
                            for v in gate.violations)
        assert in_process == sorted(engine.diagnostics), plan.stack
        compared.append(in_process)
        # The pack describes each policy as the registry does.
        served = {p.name: p for p in engine.info.policies}
        assert set(served) == {p.name for p in PACK_POLICIES["triplane"]}
        for name, policy in served.items():
            meta = REGISTRY[name]
            assert (policy.description, LEVEL_NAMES[policy.enforcementLevel], SEVERITY_NAMES[policy.severity]) == (
                meta.description, meta.enforcement.value, meta.severity.value), name
            assert json_format.MessageToDict(policy.configSchema.properties) == meta.schema.properties, name
    shipped, bad = compared
    assert shipped and all(d.enforcement == "advisory" for d in shipped)
    assert len({d.policy for d in bad}) >= 60 and any(d.enforcement == "mandatory" for d in bad)
