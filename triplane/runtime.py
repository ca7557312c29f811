"""The run-time paths of a plan (`triplane.policies.deployability`), computed in-process for `triplane check`.

The policy packs judge them (the `deployable-*` policies fail on a need with no path); this view
lists every need with the path that meets it, so the report also shows what holds only because the
stack file declares it about a cluster Triplane cannot see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from triplane.plan import Plan
from triplane.policies.common import Res, environment_from_config
from triplane.policies.deployability import Need, runtime_paths


def plan_resources(plan: Plan) -> list[Res]:
    """The plan's resources as the policies see them (secret values replaced by a marker)."""
    by_urn: dict[str, Res] = {}
    for planned in plan.resources:
        by_urn[planned.urn] = Res(
            type=planned.type,
            name=planned.name,
            urn=planned.urn,
            props=planned.redacted_inputs(),
            protect=planned.protect,
            dependencies=list(planned.dependencies),
            provider_urn=planned.provider_urn,
        )
    for planned in plan.resources:
        if planned.parent and planned.parent in by_urn:
            by_urn[planned.urn].parent = by_urn[planned.parent]
    return list(by_urn.values())


def environment_of(stack_config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return environment_from_config(stack_config)


def paths(plan: Plan, stack_config: Mapping[str, Any] | None) -> list[Need]:
    return runtime_paths(plan_resources(plan), environment_of(stack_config))


def to_json(needs: list[Need]) -> list[dict[str, Any]]:
    return [
        {"kind": n.kind, "workload": n.workload, "need": n.what, "path": n.path, "assumption": n.assumption,
         "fix": None if n.met else n.fix, "urn": n.urn}
        for n in needs
    ]


def render(needs: list[Need]) -> list[str]:
    """Met needs per kind, then every assumption (unmet needs are the `deployable-*` violations)."""
    met = Counter(n.kind for n in needs if n.met)
    missing = sum(1 for n in needs if not n.met)
    counts = ", ".join(f"{kind} {count}" for kind, count in sorted(met.items())) or "none"
    lines = [f"runtime paths: {sum(met.values())} needs met ({counts}); {missing} without a path"]
    assumptions = [n for n in needs if n.assumption]
    if assumptions:
        lines.append("  assumed (declared in the stack file, or built by the platform stack; not provable here):")
        lines += [f"    {n.workload}: {n.what} <- {n.path}" for n in assumptions]
    return lines
