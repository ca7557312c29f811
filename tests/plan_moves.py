"""A plan seen through its aliases: what it would have been before components were split into parts.

`SUB_COMPONENTS` are the parts (`components.subcomponent.SubComponent`): their children were their
parent's own. Each moved child carries an alias to the URN it had then; mapped through those aliases,
with the parts left out, a plan must equal the plan the code gave before the split.
"""

from __future__ import annotations

from typing import Any

SUB_COMPONENTS = frozenset(
    {
        "triplane:selfmanaged:ModelWorkload",
        "triplane:selfmanaged:ModelWeights",
        "triplane:selfmanaged:ModelExposure",
        "triplane:selfmanaged:ModelAutoscaling",
        "triplane:selfmanaged:EksControlPlane",
        "triplane:selfmanaged:EksDeployerAccess",
        "triplane:selfmanaged:EksNodeRole",
        "triplane:selfmanaged:EksEndpoints",
        "triplane:selfmanaged:EksSystemNodes",
        "triplane:selfmanaged:EksCache",
        "triplane:selfmanaged:EksSharedFileSystem",
        "triplane:selfmanaged:EksAutoscalerRole",
    }
)

COMPARED = ("type", "name", "custom", "inputs", "secretInputs", "protect", "retainOnDelete", "provider")
COMPARED_LISTS = ("ignoreChanges", "additionalSecretOutputs")


def former_urns(plan: dict[str, Any]) -> dict[str, str]:
    """Each resource's URN (outside the parts) -> the URN it had before the split.

    A resource whose parent is a part had, as its parent, the nearest ancestor that is not one: its
    former URN is the one it would get there, and it must carry that URN as an alias.
    """
    resources = {r["urn"]: r for r in plan["resources"]}
    mapping: dict[str, str] = {}
    for urn, resource in resources.items():
        if resource["type"] in SUB_COMPONENTS:
            continue
        parent = resource["parent"]
        if parent is None or resources[parent]["type"] not in SUB_COMPONENTS:
            mapping[urn] = urn
            continue
        former_parent = former_parent_of(resources, parent)
        former = urn_under(resource, resources[parent], resources[former_parent])
        if former not in resource["aliases"]:
            raise AssertionError(f"{urn} moved from {former_parent} without an alias to {former}")
        mapping[urn] = former
    if len(set(mapping.values())) != len(mapping):
        raise AssertionError("two resources map to one former URN")
    return mapping


def urn_under(resource: dict[str, Any], parent: dict[str, Any], other: dict[str, Any]) -> str:
    """The URN `resource` (a child of `parent`) would have as a child of `other`, by the rule its own
    URN follows: the parent's type chain or, as the mock runtime has it, the parent's own type."""
    prefix, _, rest = resource["urn"].partition("::")
    project, qualified, name = rest.split("::", 2)
    chain = parent["urn"].split("::")[2]
    own = f"{resource['type']}"
    if qualified == f"{chain}${own}":
        return f"{prefix}::{project}::{other['urn'].split('::')[2]}${own}::{name}"
    if qualified == f"{chain.split('$')[-1]}${own}":
        return f"{prefix}::{project}::{other['urn'].split('::')[2].split('$')[-1]}${own}::{name}"
    raise AssertionError(f"{resource['urn']} does not follow from its parent {parent['urn']}")


def former_parent_of(resources: dict[str, dict[str, Any]], parent: str) -> str:
    while resources[parent]["type"] in SUB_COMPONENTS:
        parent = resources[parent]["parent"]
    return parent


def as_before(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The plan as the code before the split gives it, by former URN (aliases of moved resources
    keep only their former URN's type aliases out: the parent alias is the move itself)."""
    mapping = former_urns(plan)
    resources = {r["urn"]: r for r in plan["resources"]}
    shaped: dict[str, dict[str, Any]] = {}
    for urn, former in mapping.items():
        resource = resources[urn]
        view = {key: resource[key] for key in COMPARED}
        view.update({key: sorted(resource[key]) for key in COMPARED_LISTS})
        parent = resource["parent"]
        view["parent"] = None if parent is None else mapping[former_parent_of(resources, parent)]
        view["dependencies"] = sorted(mapping[d] for d in resource["dependencies"])
        view["moved"] = former != urn
        view["aliases"] = sorted(resource["aliases"]) if former == urn else None
        shaped[former] = view
    return shaped


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between a plan of the code before the split and one after, mapped back."""
    shaped = as_before(after)
    found: list[str] = []
    old = {r["urn"]: r for r in before["resources"]}
    for urn in sorted(set(old) ^ set(shaped)):
        found.append(f"{urn}: {'gone' if urn in old else 'added'}")
    for urn in sorted(set(old) & set(shaped)):
        then, now = old[urn], shaped[urn]
        for key in (*COMPARED, "parent"):
            if then[key] != now[key]:
                found.append(f"{urn}: {key} differs")
        for key in COMPARED_LISTS:
            if sorted(then[key]) != now[key]:
                found.append(f"{urn}: {key} differs")
        if sorted(then["dependencies"]) != now["dependencies"]:
            found.append(f"{urn}: dependencies differ")
        if now["aliases"] is not None and sorted(then["aliases"]) != now["aliases"]:
            found.append(f"{urn}: aliases differ")
    if before["outputs"] != after["outputs"]:
        found.append("stack outputs differ")
    return found
