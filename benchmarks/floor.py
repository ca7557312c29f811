"""The floor: the bare Pulumi SDK registering a recorded plan's resources, with no Triplane code between.

Every resource of the plan is registered again as a plain `pulumi.CustomResource`,
`pulumi.ProviderResource` or `pulumi.ComponentResource` with its recorded type, name, parent,
inputs (secret values as secret outputs), provider, dependencies and options, under the same mocks
(`triplane.plan.run_program` with the same `CloudMocks`) on the stock runtime: `drain=False`, so the
SDK alone waits for the work to finish. Whatever this costs is what the SDK and the mock engine
cost; what the Triplane plan costs above it is Triplane's, and the provider SDK classes' (typed
arguments, one output per declared property).

A plan records each alias as the URN it stands for, but the SDK sends most of them in parts (the
provider SDK classes add one type alias per former API version of an azure-native resource), and
computes a URN for each with several outputs. The floor must send the same messages, so
`capturing()` keeps each registration's alias messages while the Triplane plan runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi

from benchmarks.chain import PROVIDER_PREFIX, ordered
from triplane import plan as plan_module
from triplane.plan import STACK_TYPE, Plan, PlannedResource, is_secret, run_program


@dataclass
class Captured:
    """What a plan records only in part: alias messages and per-property dependencies, by URN."""

    aliases: dict[str, list[Any]] = field(default_factory=dict)
    property_dependencies: dict[str, set[str]] = field(default_factory=dict)

    def explicit_dependencies(self, resource: PlannedResource) -> list[str]:
        """Dependencies that no input carries: an explicit `depends_on` (or a component's)."""
        data = self.property_dependencies.get(resource.urn, set())
        return sorted(set(resource.dependencies) - data)


@contextlib.contextmanager
def capturing() -> Iterator[Captured]:
    """Keep the alias messages and property dependencies of every registration while a plan runs."""
    captured = Captured()
    monitor = plan_module._RecordingMonitor
    original = monitor.RegisterResource

    def register(self: Any, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        captured.aliases[urn] = list(request.aliases)
        captured.property_dependencies[urn] = {
            dependency for deps in request.propertyDependencies.values() for dependency in deps.urns
        }
        return original(self, request)

    monitor.RegisterResource = register  # type: ignore[method-assign]
    try:
        yield captured
    finally:
        monitor.RegisterResource = original  # type: ignore[method-assign]


def _sdk_value(value: Any) -> Any:
    """Recorded engine inputs back to SDK inputs: secret envelopes become secret outputs."""
    if is_secret(value):
        return pulumi.Output.secret(_sdk_value(value.get("value")))
    if isinstance(value, dict):
        return {key: _sdk_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sdk_value(item) for item in value]
    return value


def _sdk_alias(alias: Any, resource: PlannedResource) -> pulumi.Alias | str:
    if alias.urn:
        return str(alias.urn)
    spec = alias.spec
    # Fields the request leaves empty stay unset (the SDK's defaults: this resource's own values).
    fields: dict[str, Any] = {
        key: value
        for key, value in (("name", spec.name), ("type_", spec.type), ("stack", spec.stack), ("project", spec.project))
        if value
    }
    if spec.noParent:
        fields["parent"] = None
    elif spec.parentUrn and spec.parentUrn != resource.parent:
        fields["parent"] = spec.parentUrn
    return pulumi.Alias(**fields)


def replay_program(plan: Plan, captured: Captured | None = None) -> Callable[[], None]:
    """A program registering exactly `plan`'s resources with plain SDK resource classes."""
    aliases = captured.aliases if captured else {}
    resources = [r for r in ordered(plan.resources) if r.type != STACK_TYPE]
    outputs = {key: _sdk_value(value) for key, value in plan.outputs.items()}

    def program() -> None:
        created: dict[str, pulumi.Resource] = {}
        for resource in resources:
            provider = created.get(resource.provider_urn or "")
            opts = pulumi.ResourceOptions(
                parent=created.get(resource.parent) if resource.parent else None,
                depends_on=[created[urn] for urn in resource.dependencies if urn in created] or None,
                provider=provider if isinstance(provider, pulumi.ProviderResource) else None,
                protect=resource.protect or None,
                retain_on_delete=resource.retain_on_delete or None,
                ignore_changes=list(resource.ignore_changes) or None,
                additional_secret_outputs=list(resource.additional_secret_outputs) or None,
                aliases=[_sdk_alias(a, resource) for a in aliases.get(resource.urn, ())] or None,
            )
            props = _sdk_value(resource.inputs)
            if resource.type.startswith(PROVIDER_PREFIX):
                created[resource.urn] = pulumi.ProviderResource(
                    resource.type.removeprefix(PROVIDER_PREFIX), resource.name, props, opts
                )
            elif resource.custom:
                created[resource.urn] = pulumi.CustomResource(resource.type, resource.name, props, opts)
            else:
                component = pulumi.ComponentResource(resource.type, resource.name, props, opts)
                component.register_outputs({})
                created[resource.urn] = component
        for key, value in outputs.items():
            pulumi.export(key, value)

    return program


def run_floor(
    plan: Plan,
    captured: Captured | None = None,
    config: dict[str, Any] | None = None,
    secret_keys: list[str] | None = None,
) -> Plan:
    """Register `plan`'s resources with the bare SDK under the same mocks, on the stock runtime (the
    SDK alone waits for the work to finish: no Triplane drain); returns what was recorded."""
    return run_program(
        replay_program(plan, captured),
        stack=plan.stack,
        project=plan.project,
        config=config,
        secret_keys=secret_keys,
        drain=False,
    )


def differences(expected: Plan, replayed: Plan) -> list[str]:
    """URNs whose registration differs between the plan and its replay (empty: the same requests)."""
    replayed_by_urn = {r.urn: r for r in replayed.resources}
    found = [r.urn for r in expected.resources if replayed_by_urn.get(r.urn) != r]
    found += sorted(set(replayed_by_urn) - {r.urn for r in expected.resources})
    return found
