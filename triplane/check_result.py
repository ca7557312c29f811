"""What `triplane check` reports: each violation with its policy, level, use case and resource.

Which use case a resource belongs to: its `use-case` tag or label, else that of the use case's
component above it (the first tagged child of the component names it), else `shared`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from triplane.plan import Plan, PlannedResource, reveal
from triplane.policies.deployability import Need
from triplane.policies.taxonomy import SHARED
from triplane.runtime import render as render_runtime
from triplane.runtime import to_json as runtime_json

CHECK_FORMAT = "triplane-check/1"
STACK_LEVEL = "(stack)"


class GateError(Exception):
    """The gate could not run: an unknown policy pack, or a policy config that is not valid."""


@dataclass(frozen=True)
class PolicyInfo:
    pack: str
    name: str
    description: str
    enforcement: str
    """The enforcement level in effect for this check (after configuration)."""
    severity: str
    kind: str
    remediation: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Violation:
    pack: str
    policy: str
    enforcement: str
    severity: str
    message: str
    description: str
    use_case: str
    urn: str | None
    resource_type: str | None
    resource_name: str | None
    remediation: str = ""
    references: tuple[str, ...] = ()

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"


@dataclass
class PackRun:
    name: str
    version: str
    path: str
    policies: list[PolicyInfo] = field(default_factory=list)


@dataclass
class GateResult:
    stack: str
    packs: list[PackRun]
    violations: list[Violation]
    resources: int
    exemptions: list[dict[str, str]] = field(default_factory=list)
    """Every exemption in effect, with its policy and reason (they are part of the record)."""
    runtime: list[Need] = field(default_factory=list)
    """Every run-time need of the plan and the path that meets it (the `deployable-*` policies judge them)."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.mandatory]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if not v.mandatory]

    @property
    def passed(self) -> bool:
        return not self.mandatory

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def policy_names(self, enforcement: str | None = None) -> set[str]:
        return {v.policy for v in self.violations if enforcement is None or v.enforcement == enforcement}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CHECK_FORMAT,
            "stack": self.stack,
            "passed": self.passed,
            "summary": {
                "mandatory": len(self.mandatory),
                "advisory": len(self.advisory),
                "resources": self.resources,
                "policies": sum(len(p.policies) for p in self.packs),
            },
            "packs": [
                {"name": p.name, "version": p.version, "path": p.path, "policies": len(p.policies)}
                for p in self.packs
            ],
            "violations": [
                {
                    "pack": v.pack,
                    "policy": v.policy,
                    "enforcementLevel": v.enforcement,
                    "severity": v.severity,
                    "useCase": v.use_case,
                    "urn": v.urn,
                    "resourceType": v.resource_type,
                    "resourceName": v.resource_name,
                    "message": v.message,
                    "description": v.description,
                    "remediation": v.remediation,
                    "references": list(v.references),
                }
                for v in self.violations
            ],
            "exemptions": self.exemptions,
            "runtime": runtime_json(self.runtime),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    def render(self) -> str:
        """Violations grouped by use case, then by resource; mandatory first."""
        lines: list[str] = []
        packs = ", ".join(f"{p.name} {p.version} ({len(p.policies)} policies)" for p in self.packs)
        lines.append(f"triplane check {self.stack}: {self.resources} resources, packs {packs}")
        groups: dict[str, dict[tuple[str, str], list[Violation]]] = {}
        for violation in self.violations:
            key = (violation.resource_type or "", violation.resource_name or "")
            groups.setdefault(violation.use_case, {}).setdefault(key, []).append(violation)
        for use_case in sorted(groups, key=lambda u: (u in (SHARED, STACK_LEVEL), u)):
            label = "shared resources" if use_case == SHARED else (
                "the stack as a whole" if use_case == STACK_LEVEL else f"use case {use_case}"
            )
            lines.append("")
            lines.append(label)
            for (type_, name), violations in sorted(groups[use_case].items()):
                lines.append(f"  {name or '(stack)'}" + (f"  [{type_}]" if type_ else ""))
                for v in sorted(violations, key=lambda v: (not v.mandatory, v.policy, v.message)):
                    level = "MANDATORY" if v.mandatory else "advisory "
                    refs = f" [{', '.join(v.references)}]" if v.references else ""
                    lines.append(f"    {level} {v.policy} ({v.severity}){refs}: {v.message}")
                    if v.remediation:
                        lines.append(f"              fix: {v.remediation}")
        if self.runtime:
            lines.append("")
            lines += render_runtime(self.runtime)
        if self.exemptions:
            lines.append("")
            lines.append("exemptions in effect")
            for exemption in self.exemptions:
                lines.append(f"  {exemption['policy']}: {exemption['resource']} - {exemption['reason']}")
        lines.append("")
        advisory = f"({len(self.advisory)} advisory)"
        if self.passed:
            lines.append(f"PASSED: no mandatory violations {advisory}")
        else:
            count = len(self.mandatory)
            lines.append(f"FAILED: {count} mandatory violation{'' if count == 1 else 's'} {advisory}")
        return "\n".join(lines)


# --- use cases -----------------------------------------------------------------------------------


class UseCases:
    """Which use case each resource belongs to: its tags/labels, else those of its use case's component."""

    def __init__(self, plan: Plan) -> None:
        self.by_urn = {r.urn: r for r in plan.resources}
        self.stack = plan.stack
        self.tagged: dict[str, str] = {}
        for resource in plan.resources:
            value = _use_case_tag(resource)
            if value:
                self.tagged[resource.urn] = value
        self.component_case: dict[str, str] = {}
        for urn, value in self.tagged.items():
            top = self._top_component(urn)
            if top is not None and value != SHARED:
                self.component_case.setdefault(top, value)

    def _top_component(self, urn: str) -> str | None:
        top = None
        current: str | None = urn
        seen = 0
        while current and current in self.by_urn and seen < 100:
            resource = self.by_urn[current]
            if resource.type.startswith("triplane:"):
                top = current
            current = resource.parent
            seen += 1
        return top

    def of(self, urn: str | None) -> str:
        if not urn:
            return STACK_LEVEL
        if urn in self.tagged:
            return self.tagged[urn]
        top = self._top_component(urn)
        if top is not None:
            return self.component_case.get(top, SHARED)
        return SHARED


def _use_case_tag(resource: PlannedResource) -> str | None:
    inputs = reveal(resource.inputs)
    candidates = [inputs.get("tags"), inputs.get("labels"), inputs.get("resourceLabels"), inputs.get("userLabels")]
    metadata = inputs.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("labels"), dict):
        candidates.append({k.removeprefix("triplane.io/"): v for k, v in metadata["labels"].items()})
    for tags in candidates:
        if isinstance(tags, dict) and isinstance(tags.get("use-case"), str) and tags["use-case"]:
            return str(tags["use-case"])
    return None
