"""Determinism: the same stack plans the same, and adding a use case leaves the others alone.

A plan is compared as its documented JSON. Adding use cases may change only resources that are
shared on purpose and listed in `MERGED` with the reason; every other resource that existed keeps
its URN and its inputs, and nothing that existed disappears.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.reliability_support import SHIPPED_STACKS, planted_plan, shipped_plan, variant
from triplane.plan import Plan
from triplane.stackfile import plan_stack

MERGED: dict[str, tuple[str, str]] = {
    # type: (name pattern, why adding a use case legitimately changes it)
    "aws:networkfirewall/ruleGroup:RuleGroup": (
        r"-egress-allowlist$",
        "the network's one egress allowlist is the union of every SaaS use case's hosts",
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        r"-bedrock-privatelink-",
        "the VPC's Bedrock endpoints carry one policy with a statement per cloud-managed use case",
    ),
    "aws:eks/nodeGroup:NodeGroup": (
        r"-nodes$",
        "a GPU node pool is sized for the sum of the replicas of every use case placed on it",
    ),
    "aws:cloudwatch/dashboard:Dashboard": (
        r"-monitoring-dashboard$",
        "the environment's dashboard has a row per use case",
    ),
}

ADDED: dict[str, dict[str, Any]] = {
    "saas": {
        "name": "added-saas",
        "pattern": "saas",
        "data_classification": "internal",
        "cloud": "aws",
        "provider": "mistral",
        "api_key_secret": "addedMistralKey",
        "allowed_principals": ["arn:aws:iam::123456789012:role/added-app"],
    },
    "cloud-managed": {
        "name": "added-managed",
        "pattern": "cloud-managed",
        "data_classification": "internal",
        "cloud": "aws",
        "models": [{"id": "amazon.nova-lite-v1:0"}],
        "allowed_principals": ["arn:aws:iam::123456789012:role/added-managed-app"],
    },
    "self-managed": {
        "name": "added-selfhosted",
        "pattern": "self-managed",
        "data_classification": "confidential",
        "cluster": "",
        "model": {
            "id": "mistralai/Mistral-7B-Instruct-v0.3",
            "revision": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db",
        },
        "gpu": {"type": "nvidia-l4", "count": 1},
        "allowed_clients": {"namespaces": ["added-apps"]},
        "weights": {"source": "hub"},
    },
}


def comparable(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in plan.to_json()["resources"]}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_two_plans_of_a_stack_are_identical(stack: str) -> None:
    """The second plan runs with other secret values: redacted, they change nothing either."""
    first = shipped_plan(stack).dumps()
    second = planted_plan(stack).dumps()
    assert first == second
    assert json.loads(first)["resources"], "the plan is not empty"


def with_added(environment: dict[str, Any]) -> list[str]:
    """Add a use case of every pattern the environment can take; return their names."""
    added = []
    clusters = [c["name"] for c in environment.get("kubernetes", [])]
    for pattern, use_case in ADDED.items():
        use_case = copy.deepcopy(use_case)
        if pattern == "self-managed":
            if not clusters:
                continue
            use_case["cluster"] = clusters[0]
        elif "aws" not in environment.get("clouds", {}):
            continue
        if "gateway" in environment:  # behind the gateway, an existing consumer calls it too
            use_case["consumers"] = [copy.deepcopy(environment["use_cases"][0]["consumers"][0])]
        environment["use_cases"].append(use_case)
        added.append(use_case["name"])
    return added


@functools.cache
def grown(stack: str) -> tuple[Plan, list[str]]:
    names: list[str] = []

    def change(environment: dict[str, Any]) -> None:
        names.extend(with_added(environment))

    with tempfile.TemporaryDirectory() as directory:
        path = variant(Path(directory), stack, change, secrets={"triplane:addedMistralKey": ""})
        return plan_stack(str(path)), names


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_adding_use_cases_changes_no_existing_resource(stack: str) -> None:
    before = comparable(shipped_plan(stack))
    plan, added = grown(stack)
    after = comparable(plan)
    assert added, "something was added"
    assert sorted(plan.outputs["endpoints"]) == sorted([*shipped_plan(stack).outputs["endpoints"], *added])
    assert sorted(set(before) - set(after)) == [], "resources disappeared"
    changed = {}
    for urn, old in before.items():
        new = after[urn]
        if old != new:
            changed[urn] = sorted(k for k in old if old[k] != new[k])
    unexpected = {
        urn: keys
        for urn, keys in changed.items()
        if not (
            (merge := MERGED.get(before[urn]["type"])) is not None
            and re.search(merge[0], before[urn]["name"])
            and keys in (["inputs"], ["dependencies", "inputs"], ["dependencies"])
        )
    }
    assert unexpected == {}


def test_the_merge_list_is_not_stale() -> None:
    """Each listed merge happens in at least one shipped stack: the exemptions stay earned."""
    seen: set[str] = set()
    for stack in SHIPPED_STACKS:
        before = comparable(shipped_plan(stack))
        after = comparable(grown(stack)[0])
        seen |= {old["type"] for urn, old in before.items() if after.get(urn) != old}
    assert set(MERGED) <= seen
