"""The longest chain of dependent resources in a plan: the floor under `pulumi up`'s wall time.

Pulumi creates resources in parallel unless one must wait for another, so the time of an update is
bounded below by its longest chain of waits. A resource waits for:

- every URN in its `dependencies` (data flowing from another resource's outputs, or an explicit
  `depends_on`; the SDK has already expanded component dependencies into their custom resources);
- its parent: the SDK registers a child only once its parent's registration has returned, which for
  a custom resource means created, and for a component means its own dependencies resolved (so a
  component's `depends_on` delays all of its children);
- its provider, which must be configured first.

The chain's length counts cloud resources only (custom resources that are not providers):
components, providers and the stack take no cloud time, but still pass ordering through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from triplane.plan import Plan, PlannedResource

PROVIDER_PREFIX = "pulumi:providers:"


def waits_for(resource: PlannedResource) -> list[str]:
    """The URNs `resource` waits for: parent, provider, then dependencies (see the module docstring)."""
    urns = [resource.parent] if resource.parent else []
    provider = resource.provider_urn
    if provider:
        urns.append(provider)
    urns.extend(resource.dependencies)
    return urns


def takes_time(resource: PlannedResource) -> bool:
    """Whether creating the resource is a cloud operation (a custom resource, not a provider)."""
    return resource.custom and not resource.type.startswith(PROVIDER_PREFIX)


def ordered(resources: Iterable[PlannedResource]) -> list[PlannedResource]:
    """Every resource after the ones it waits for (stable depth-first topological order)."""
    by_urn = {r.urn: r for r in resources}
    result: list[PlannedResource] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: placed
    for root in by_urn.values():
        if root.urn in state:
            continue
        state[root.urn] = 1
        stack = [(root, iter([u for u in waits_for(root) if u in by_urn]))]
        while stack:
            resource, pending = stack[-1]
            urn = next(pending, None)
            if urn is None:
                stack.pop()
                state[resource.urn] = 2
                result.append(resource)
            elif urn not in state:
                state[urn] = 1
                stack.append((by_urn[urn], iter([u for u in waits_for(by_urn[urn]) if u in by_urn])))
            elif state[urn] == 1:
                raise ValueError(f"dependency cycle through {urn}")
    return result


@dataclass(frozen=True)
class Chain:
    length: int
    """Cloud resources on the chain."""
    urns: tuple[str, ...]
    """The chain's cloud resources, first created first."""

    def describe(self, plan: Plan) -> list[str]:
        by_urn = {r.urn: r for r in plan.resources}
        return [f"{by_urn[u].type} {by_urn[u].name}" for u in self.urns]


def longest_chain(plan: Plan) -> Chain:
    """The longest chain of cloud resources that must be created one after another."""
    by_urn = {r.urn: r for r in plan.resources}
    depth: dict[str, int] = {}
    previous: dict[str, str | None] = {}
    for resource in ordered(plan.resources):
        best, via = 0, None
        for urn in waits_for(resource):
            if urn in depth and depth[urn] > best:
                best, via = depth[urn], urn
        depth[resource.urn] = best + (1 if takes_time(resource) else 0)
        previous[resource.urn] = via
    if not depth:
        return Chain(0, ())
    end = max(depth, key=lambda urn: (depth[urn], urn))
    path: list[str] = []
    current: str | None = end
    while current is not None:
        if takes_time(by_urn[current]):
            path.append(current)
        current = previous[current]
    return Chain(depth[end], tuple(reversed(path)))


def redundant_dependencies(plan: Plan) -> list[tuple[str, str]]:
    """(resource, dependency) pairs already implied by the resource's other waits.

    They never lengthen a chain; they are noise in the plan and in `pulumi up`'s graph.
    """
    by_urn = {r.urn: r for r in plan.resources}
    ancestors: dict[str, frozenset[str]] = {}
    for resource in ordered(plan.resources):
        found: set[str] = set()
        for urn in waits_for(resource):
            if urn in by_urn:
                found.add(urn)
                found |= ancestors[urn]
        ancestors[resource.urn] = frozenset(found)
    pairs = []
    for resource in plan.resources:
        for dependency in resource.dependencies:
            others = [u for u in waits_for(resource) if u != dependency and u in by_urn]
            if any(dependency in ancestors[u] for u in others):
                pairs.append((resource.urn, dependency))
    return pairs
