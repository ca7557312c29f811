"""Components split into parts keep every resource in place: each moved child carries an alias to
the URN it had under its former parent, so `pulumi up` on a stack deployed before the split moves
it and replaces nothing."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from plan_moves import SPLIT, SUB_COMPONENTS, as_before, differences, former_urns

from triplane.plan import Plan


def test_every_moved_resource_keeps_its_former_urn(shipped_plan: Plan) -> None:
    plan = shipped_plan.to_json()
    mapping = former_urns(plan)
    moved = {urn: former for urn, former in mapping.items() if urn != former}
    assert moved, "the shipped stacks all serve a model: something moved"
    # The former URNs are not taken by any resource that stayed.
    assert not set(moved.values()) & {urn for urn in mapping if urn not in moved}
    # Under the former URN, each sits where it did: the model server under its former type, at the
    # top of the stack; every other moved resource directly under the component it was split from.
    shaped = as_before(plan)
    for former in moved.values():
        parent = shaped[former]["parent"]
        assert parent is not None
        if shaped[former]["type"] == "triplane:selfmanaged:TgiService":
            assert [r["urn"] for r in plan["resources"] if r["parent"] is None] == [parent]
        else:
            assert parent.split("::")[2].split("$")[-1] in SPLIT


def test_only_the_parts_are_added(shipped_plan: Plan) -> None:
    plan = shipped_plan.to_json()
    parts = [r for r in plan["resources"] if r["type"] in SUB_COMPONENTS]
    servers = len(shipped_plan.by_type("triplane:selfmanaged:ModelServer"))
    counts = Counter(r["type"] for r in parts)
    assert counts["triplane:selfmanaged:ModelWorkload"] == servers
    assert counts["triplane:selfmanaged:ModelWeights"] == servers
    assert counts["triplane:selfmanaged:ModelExposure"] == servers
    clusters = len(shipped_plan.by_type("triplane:selfmanaged:EksCluster"))
    eks_parts = ("ControlPlane", "DeployerAccess", "NodeRole", "Endpoints", "SystemNodes", "Cache", "AutoscalerRole")
    for part in eks_parts:
        assert counts[f"triplane:selfmanaged:Eks{part}"] == clusters
    assert all(not r["custom"] and r["inputs"] == {} and r["dependencies"] == [] for r in parts)
    assert len(as_before(plan)) == len(plan["resources"]) - len(parts)


@pytest.mark.parametrize(
    ("part", "children"),
    [
        ("ModelWorkload", 6),
        ("ModelWeights", 4),
        ("ModelExposure", 4),
        ("ModelAutoscaling", 3),
        ("EksControlPlane", 8),
        ("EksSystemNodes", 8),
        ("EksCache", 8),
        ("EksSharedFileSystem", 8),
        ("EksAutoscalerRole", 3),
        ("EksCluster", 10),
        ("AksCluster", 11),
        ("GkeCluster", 8),
        ("AksSecretsKey", 4),
        ("GkeSecretsKey", 6),
        ("AwsEgressZone", 12),
        ("AwsEgressFirewall", 8),
        ("AzureOpenAIEndpoint", 8),
        ("ModelServer", 4),
    ],
)
def test_each_part_stays_small(prod_plan: Plan, part: str, children: int) -> None:
    found = [r for r in prod_plan.resources if r.type.endswith(f":{part}") and not r.custom]
    assert found
    assert max(len(prod_plan.children(r.urn)) for r in found) <= children


def test_a_plan_compares_equal_to_itself_mapped_back(local_plan: Plan) -> None:
    plan = local_plan.to_json()
    before = copy.deepcopy(plan)
    before["resources"] = [
        {**view, "urn": urn, "aliases": [] if view["moved"] else view["aliases"]}
        for urn, view in as_before(plan).items()
    ]
    assert differences(before, plan) == []
    deployment = next(r for r in plan["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")
    deployment["inputs"] = {**deployment["inputs"], "spec": {}}
    assert [d for d in differences(before, plan) if "inputs" in d] == [
        f"{former_urns(plan)[deployment['urn']]}: inputs differs"
    ]


def test_a_moved_resource_without_its_alias_is_caught(local_plan: Plan) -> None:
    plan = local_plan.to_json()
    moved = next(r for r in plan["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")
    moved["aliases"] = []
    with pytest.raises(AssertionError, match="has no alias to it"):
        former_urns(plan)
