"""The offline policy gate: run Triplane's policies on a plan, in-process.

`check_plan` gives every policy of the pack the same view of the plan the Pulumi engine
gives a policy pack: engine property names, secrets unwrapped, numbers as the engine's doubles, each
resource's provider, and for stack policies the parents and dependencies. It runs the same
`Policy.run_resource` / `Policy.run_stack` the pack serves to the engine (`triplane.policies.adapter`), with
the policy configuration reconciled and validated by `triplane.policy_config`. A mandatory
violation fails the gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from triplane.check_result import (
    CHECK_FORMAT,
    GateError,
    GateResult,
    PackRun,
    PolicyInfo,
    UseCases,
    Violation,
)
from triplane.plan import STACK_TYPE, Plan, reveal
from triplane.policies.common import Policy, Res, Unknown, checking_stack
from triplane.policies.packs import NAME, PACK_DIR, POLICIES, SCOPES, pack_version, scope_config
from triplane.policy_config import load_policy_config, reconcile, schema_errors
from triplane.runtime import paths as runtime_paths


def default_config() -> Path | None:
    """The policy config of the project in use (`policies/policy-config.json`); None: the pack's defaults."""
    from triplane.project import current_project

    project = current_project()
    return project.policy_config if project is not None else None


def engine_value(value: Any) -> Any:
    """A fresh copy of `value` as a policy receives it from the engine: numbers are doubles."""
    if isinstance(value, dict):
        return {str(k): engine_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [engine_value(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class PlanView:
    """The plan's resources as policies see them; each call builds fresh `Res` objects."""

    def __init__(self, plan: Plan) -> None:
        self.resources = plan.resources
        self.inputs = {r.urn: reveal(r.inputs) for r in plan.resources}
        providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
        self.provider: dict[str, str] = {}
        for resource in plan.resources:
            owner = providers.get(resource.provider_urn or "")
            if owner is not None:
                self.provider[resource.urn] = owner.urn

    def one(self, index: int) -> Res:
        """A resource alone, as a resource policy sees it (no parent, no dependencies)."""
        resource = self.resources[index]
        provider = self.provider.get(resource.urn)
        return Res(
            type=resource.type,
            name=resource.name,
            urn=resource.urn,
            props=engine_value(self.inputs[resource.urn]),
            protect=resource.protect,
            provider_props=engine_value(self.inputs[provider]) if provider else {},
        )

    def stack(self) -> list[Res]:
        """Every resource, parents and dependencies linked, as a stack policy sees them."""
        by_urn: dict[str, Res] = {}
        for index, resource in enumerate(self.resources):
            by_urn[resource.urn] = replace(self.one(index), provider_urn=self.provider.get(resource.urn))
        for resource in self.resources:
            view = by_urn[resource.urn]
            view.dependencies = [d for d in resource.dependencies if d in by_urn]
            if resource.parent and resource.parent in by_urn:
                view.parent = by_urn[resource.parent]
        return list(by_urn.values())


def check_plan(
    plan: Plan,
    config: str | Path | Mapping[str, Any] | None = None,
    *,
    scope: str | None = None,
    stack_config: Mapping[str, Any] | None = None,
) -> GateResult:
    """Run the policy pack against `plan`; return every violation.

    `config` is a policy config file or mapping (the `--policy-pack-config` format); None means the
    project's `policies/policy-config.json` (`default_config`), `{}` no configuration at all. `scope`
    (`aws`, `azure`, `gcp`, `kubernetes`) first disables the policies outside it, as
    `scopes/<scope>.json` does under the engine. `stack_config` is the stack's settings, which the
    policies read as the engine passes them to a pack.
    """
    if scope is not None and scope not in SCOPES:
        raise GateError(f"no policy scope named {scope!r}; known scopes: {', '.join(SCOPES)}")
    user_config = load_policy_config(default_config() if config is None else config)
    if scope is not None:
        user_config = {**load_policy_config(scope_config(scope)), **user_config}
    effective = reconcile(POLICIES, user_config, NAME)
    view = PlanView(plan)
    cases = UseCases(plan)
    run = _pack_run(effective)
    violations: list[Violation] = []
    with checking_stack(plan.stack, stack_config):
        for policy in POLICIES:
            violations += _run_policy(policy, run, effective[policy.name], view, cases)
    violations.sort(key=lambda v: (not v.mandatory, v.use_case, v.resource_name or "", v.policy, v.message))
    resources = len([r for r in plan.resources if r.type != STACK_TYPE])
    return GateResult(stack=plan.stack, packs=[run], violations=violations, resources=resources,
                      exemptions=_exemptions(NAME, effective), runtime=runtime_paths(plan, stack_config))


def _pack_run(effective: Mapping[str, Mapping[str, Any]]) -> PackRun:
    return PackRun(
        name=NAME,
        version=pack_version() or "0.0.1",
        path=str(PACK_DIR),
        policies=[
            PolicyInfo(
                pack=NAME,
                name=p.name,
                description=p.meta.description,
                enforcement=effective[p.name]["enforcementLevel"],
                severity=p.meta.severity.value,
                kind=p.kind,
                remediation=p.meta.remediation,
                references=tuple(r.id if r.framework == "Checkov" else f"{r.framework} {r.id}"
                                 for r in p.meta.references),
            )
            for p in POLICIES
        ],
    )


def _exemptions(pack: str, effective: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Every exemption in effect, with its reason; images allowed to run as root or to mount host paths
    are exemptions too."""
    found = []
    for name, entry in sorted(effective.items()):
        for exemption in entry["properties"].get("exemptions") or []:
            found.append({"pack": pack, "policy": name, "resource": str(exemption.get("resource", "")),
                          "reason": str(exemption.get("reason", ""))})
        for image in entry["properties"].get("rootImages") or []:
            found.append({"pack": pack, "policy": name, "resource": f"image */{image.get('repository', '')} as root",
                          "reason": str(image.get("reason", ""))})
        for grant in entry["properties"].get("hostPaths") or []:
            access = "writing" if grant.get("writable") else "reading"
            where = f"image */{grant.get('repository', '')} {access} the host's {grant.get('path', '')}"
            found.append({"pack": pack, "policy": name, "resource": where, "reason": str(grant.get("reason", ""))})
    return found


def _run_policy(
    policy: Policy, run: PackRun, entry: Mapping[str, Any], view: PlanView, cases: UseCases
) -> list[Violation]:
    level = entry["enforcementLevel"]
    if level == "disabled":
        return []
    level = "mandatory" if level == "remediate" else level
    info = next(p for p in run.policies if p.name == policy.name)
    found: list[Violation] = []

    def report(message: str, urn: str | None, enforcement: str = level, severity: str = info.severity) -> None:
        resource = cases.by_urn.get(urn) if urn else None
        found.append(Violation(
            pack=run.name, policy=policy.name, enforcement=enforcement, severity=severity,
            message=message or info.description, description=info.description, use_case=cases.of(urn or None),
            urn=urn or None, resource_type=resource.type if resource else None,
            resource_name=resource.name if resource else None, remediation=info.remediation,
            references=info.references,
        ))

    def not_runnable(error: Unknown) -> None:
        # As a pack reports it: an advisory note on the stack, whatever the policy's level and severity.
        report(f"can't run policy '{policy.name}' from policy pack '{run.name}' during preview: {error.message}",
               None, "advisory", "unspecified")

    properties = engine_value(entry["properties"])
    if policy.kind == "stack":
        try:
            policy.run_stack(view.stack(), properties, report)
        except Unknown as error:
            not_runnable(error)
        return found
    for index, resource in enumerate(view.resources):
        if policy.applies_to(resource.type):
            try:
                policy.run_resource(view.one(index), engine_value(entry["properties"]), report)
            except Unknown as error:
                not_runnable(error)
    return found


__all__ = [
    "CHECK_FORMAT",
    "GateError",
    "GateResult",
    "PackRun",
    "PlanView",
    "PolicyInfo",
    "Violation",
    "check_plan",
    "default_config",
    "load_policy_config",
    "reconcile",
    "schema_errors",
]
