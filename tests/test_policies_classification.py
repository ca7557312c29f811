"""The classification-to-pattern rule as shipped: restricted data only self-managed, confidential never SaaS."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from triplane.components.tagging import standard_tags
from triplane.gate import check_plan
from triplane.plan import Plan, PlannedResource

SHIPPED_CONFIG = json.loads((Path(__file__).parents[1] / "policies" / "policy-config.json").read_text())
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
PATTERNS = ("saas", "cloud-managed", "self-managed")
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def every_pairing() -> Plan:
    """One use case per (classification, pattern), each shown by a resource tagged as Triplane tags it."""
    resources = []
    for classification, pattern in itertools.product(CLASSIFICATIONS, PATTERNS):
        name = f"{classification}-{pattern}"
        tags = standard_tags(
            environment="t",
            owner="platform",
            cost_center="cc-1",
            use_case=name,
            data_classification=classification,
            pattern=pattern,
        )
        resources.append(PlannedResource(
            urn=f"urn:pulumi:t::triplane::{LOG_GROUP}::{name}-logs", type=LOG_GROUP, name=f"{name}-logs", custom=True,
            parent=None, inputs={"name": f"/t/{name}", "tags": tags}, dependencies=(), protect=False,
            retain_on_delete=False, provider=None, aliases=(), ignore_changes=(), additional_secret_outputs=(),
        ))  # fmt: skip
    return Plan(stack="t", project="triplane", resources=resources, outputs={})


def test_the_shipped_rule_refuses_restricted_outside_self_managed_and_confidential_on_saas() -> None:
    result = check_plan(every_pairing(), config=SHIPPED_CONFIG)
    found = [v for v in result.violations if v.policy == "classification-allowed-patterns"]
    assert {v.resource_name for v in found} == {
        "restricted-saas-logs",
        "restricted-cloud-managed-logs",
        "confidential-saas-logs",
    }
    assert all(v.mandatory for v in found)
    messages = sorted(v.message for v in found)
    assert messages == [
        "use case confidential-saas holds confidential data but is served saas; confidential data may be served "
        "only: cloud-managed, self-managed",
        "use case restricted-cloud-managed holds restricted data but is served cloud-managed; restricted data may "
        "be served only: self-managed",
        "use case restricted-saas holds restricted data but is served saas; restricted data may be served only: "
        "self-managed",
    ]
    assert not result.passed
