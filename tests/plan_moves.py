"""A plan seen through its aliases: what it would have been before components were split into parts.

`SUB_COMPONENTS` are the parts (`components.subcomponent.SubComponent`): their children were their
parent's own. Each moved child carries an alias to the URN it had then; mapped through those aliases,
with the parts left out and renamed components under their former types, a plan must equal the
plan the code gave before.
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
        "triplane:selfmanaged:AksSecretsKey",
        "triplane:selfmanaged:AksKubeletIdentity",
        "triplane:selfmanaged:AksLogs",
        "triplane:selfmanaged:GkeSecretsKey",
        "triplane:saas:AwsEgressFirewallLogs",
        "triplane:saas:AwsEgressFirewallPolicy",
        "triplane:saas:AwsEgressZone",
        "triplane:cloudmanaged:BedrockLogDelivery",
        "triplane:cloudmanaged:AzureOpenAICustomerKey",
    }
)
SPLIT = frozenset(
    {
        "triplane:selfmanaged:TgiService",
        "triplane:selfmanaged:EksCluster",
        "triplane:selfmanaged:AksCluster",
        "triplane:selfmanaged:GkeCluster",
        "triplane:saas:AwsEgressFirewall",
        "triplane:cloudmanaged:BedrockInvocationLogging",
        "triplane:cloudmanaged:AzureOpenAIEndpoint",
    }
)
"""The components the parts were split from (by their former types)."""

COMPARED = ("type", "name", "custom", "inputs", "secretInputs", "protect", "retainOnDelete", "provider")
COMPARED_LISTS = ("ignoreChanges", "additionalSecretOutputs")


RENAMED = {"triplane:selfmanaged:ModelServer": "triplane:selfmanaged:TgiService"}
"""Component types that changed (`components.subcomponent.RenamedComponent`): new -> former."""


def former_urns(plan: dict[str, Any]) -> dict[str, str]:
    """Each resource's URN (outside the parts) -> the URN it had before the split.

    A resource had, as its parent, the nearest ancestor that is not a part, as that ancestor was
    then; a renamed component had its former type. Where that gives another URN than its own, the
    resource must carry it as an alias.
    """
    resources = {r["urn"]: r for r in plan["resources"]}
    mapping: dict[str, str] = {}

    def former(urn: str) -> str:
        if urn not in mapping:
            resource = resources[urn]
            parent = resource["parent"]
            if parent is None:
                mapping[urn] = urn
                return urn
            former_parent = former(former_parent_of(resources, parent))
            then = urn_under(resource, resources[parent], former_parent, RENAMED.get(resource["type"]))
            if then != urn and then not in resource["aliases"]:
                raise AssertionError(f"{urn} was {then} and has no alias to it")
            if then != urn:
                for alias in _type_aliases(urn, then, resource["aliases"]):
                    if alias not in resource["aliases"]:
                        raise AssertionError(f"{urn} has a former type without its former parent: {alias}")
            mapping[urn] = then
        return mapping[urn]

    for urn, resource in resources.items():
        if resource["type"] not in SUB_COMPONENTS:
            former(urn)
    if len(set(mapping.values())) != len(mapping):
        raise AssertionError("two resources map to one former URN")
    return mapping


def _type_aliases(urn: str, then: str, aliases: list[str]) -> list[str]:
    """For each alias of `urn` to a former type under its current parent, the same under the parent
    it had (`then` is its former URN)."""
    own_parent = urn.split("::")[2].rsplit("$", 1)[0]
    then_parent = then.split("::")[2].rsplit("$", 1)[0]
    found = []
    for alias in aliases:
        prefix, project, qualified, name = alias.split("::", 3)
        parent, _, former_type = qualified.rpartition("$")
        if parent == own_parent and name == urn.split("::", 3)[3]:
            found.append(f"{prefix}::{project}::{then_parent}${former_type}::{name}")
    return found


def urn_under(resource: dict[str, Any], parent: dict[str, Any], other: str, former_type: str | None = None) -> str:
    """The URN `resource` (a child of `parent`) would have as a child of the URN `other` (with
    `former_type`, if given, as its type), by the rule its own URN follows: the parent's type chain
    or, as the mock runtime has it, the parent's own type."""
    prefix, project, qualified, name = resource["urn"].split("::", 3)
    chain = parent["urn"].split("::")[2]
    other_chain = other.split("::")[2]
    own = resource["type"]
    then = former_type or own
    if qualified == f"{chain}${own}":
        return f"{prefix}::{project}::{other_chain}${then}::{name}"
    if qualified == f"{chain.split('$')[-1]}${own}":
        return f"{prefix}::{project}::{other_chain.split('$')[-1]}${then}::{name}"
    raise AssertionError(f"{resource['urn']} does not follow from its parent {parent['urn']}")


def former_parent_of(resources: dict[str, dict[str, Any]], parent: str) -> str:
    while resources[parent]["type"] in SUB_COMPONENTS:
        parent = resources[parent]["parent"]
    return parent


def as_before(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The plan as the code before the split gives it, by former URN."""
    mapping = former_urns(plan)
    resources = {r["urn"]: r for r in plan["resources"]}
    shaped: dict[str, dict[str, Any]] = {}
    for urn, former in mapping.items():
        resource = resources[urn]
        view = {key: resource[key] for key in COMPARED}
        view["type"] = RENAMED.get(resource["type"], resource["type"])
        view.update({key: sorted(resource[key]) for key in COMPARED_LISTS})
        parent = resource["parent"]
        view["parent"] = None if parent is None else mapping[former_parent_of(resources, parent)]
        view["dependencies"] = sorted(mapping[d] for d in resource["dependencies"])
        view["moved"] = former != urn
        view["aliases"] = sorted(resource["aliases"])
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
        # A moved resource keeps every alias it had (to its former types), next to its former URN.
        if now["moved"]:
            kept = set(then["aliases"]) <= set(now["aliases"])
        else:
            kept = sorted(then["aliases"]) == now["aliases"]
        if not kept:
            found.append(f"{urn}: aliases differ")
    if before["outputs"] != after["outputs"]:
        found.append("stack outputs differ")
    return found
