"""The Triplane policies served to the Pulumi engine, through pulumi-policy's public API only.

The pack's `__main__.py` calls `serve()`. Every policy of `common` becomes a
`ResourceValidationPolicy` or `StackValidationPolicy` with the same name, description, level,
severity, schema and references; its `validate` turns the arguments into the plain resource view
(`Res`) the checks work on and runs the very same `Policy.run_resource` / `Policy.run_stack` that
`triplane check` runs in-process.

The SDK hands properties over as read-only mappings that raise `UnknownValueError` on a value known
only after apply; `plain` reads them through their mapping and sequence interfaces and keeps such a
value as the engine's unknown marker, which is what the checks expect.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Policy as SdkPolicy
from pulumi_policy.proxy import UnknownValueError

from .common import UNKNOWN_STRING, Policy, Res, Unknown, checking_stack
from .packs import DESCRIPTION, NAME, POLICIES

ENFORCEMENT = {level.value: level for level in EnforcementLevel}
SEVERITY = {severity.value: severity for severity in Severity}


def plain(value: Any) -> Any:
    """Dicts, lists and scalars from the SDK's mappings and sequences; unknown values stay markers."""
    if isinstance(value, str | bytes):
        return value
    if isinstance(value, Mapping):
        return {str(key): plain(_item(value, key)) for key in value}
    if isinstance(value, Sequence):
        return [plain(_item(value, index)) for index in range(len(value))]
    return value


def _item(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except UnknownValueError as error:
        return error.unknown_type_sentinel


def _stack_config() -> dict[str, Any]:
    """The stack's settings: the engine passes them to every analyzer in `PULUMI_CONFIG`."""
    try:
        config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    except json.JSONDecodeError:
        return {}
    return config if isinstance(config, dict) else {}


def _resource(args: ResourceValidationArgs) -> Res:
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=plain(args.props),
        protect=bool(args.opts.protect),
        provider_props=plain(args.provider.props) if args.provider is not None else {},
    )


def stack_resources(args: StackValidationArgs) -> list[Res]:
    """Every resource of the stack, with parents linked."""
    by_urn: dict[str, Res] = {}
    parents: dict[str, str | None] = {}
    for item in args.resources:
        by_urn[item.urn] = Res(
            type=item.resource_type,
            name=item.name,
            urn=item.urn,
            props=plain(item.props),
            protect=bool(item.opts.protect),
            provider_props=plain(item.provider.props) if item.provider is not None else {},
            dependencies=[d.urn for d in item.dependencies],
            provider_urn=item.provider.urn if item.provider is not None else None,
        )
        parents[item.urn] = item.parent.urn if item.parent is not None else item.opts.parent
    for urn, parent in parents.items():
        if parent and parent in by_urn:
            by_urn[urn].parent = by_urn[parent]
    return list(by_urn.values())


def _not_known(error: Unknown) -> UnknownValueError:
    """The SDK's own signal for "needs a value known only after apply": it reports the policy as not runnable."""
    return UnknownValueError(UNKNOWN_STRING, [error.path])


def sdk_policy(policy: Policy) -> SdkPolicy:
    """The pulumi-policy object that runs `policy` in a pack."""
    meta = policy.meta

    def validate_resource(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not policy.applies_to(args.resource_type):
            return
        with checking_stack(os.environ.get("PULUMI_STACK", ""), _stack_config()):
            try:
                policy.run_resource(_resource(args), dict(args.get_config()), report)
            except Unknown as error:
                raise _not_known(error) from None

    def validate_stack(args: StackValidationArgs, report: ReportViolation) -> None:
        with checking_stack(os.environ.get("PULUMI_STACK", ""), _stack_config()):
            try:
                policy.run_stack(stack_resources(args), dict(args.get_config()), report)
            except Unknown as error:
                raise _not_known(error) from None

    first = meta.references[0] if meta.references else None
    common: dict[str, Any] = {
        "name": meta.name,
        "description": meta.description,
        "enforcement_level": ENFORCEMENT[meta.enforcement.value],
        "config_schema": PolicyConfigSchema(meta.schema.properties, list(meta.schema.required) or None),
        "severity": SEVERITY[meta.severity.value],
        "framework": PolicyComplianceFramework(name=first.framework, reference=first.id) if first else None,
        "tags": [*meta.tags, *(r.tag() for r in meta.references)],
        "remediation_steps": meta.remediation,
    }
    if policy.kind == "stack":
        return StackValidationPolicy(validate=validate_stack, **common)
    return ResourceValidationPolicy(validate=validate_resource, **common)


def serve() -> None:
    """Start the pack's analyzer server, print its port and block (as the engine expects)."""
    PolicyPack(name=NAME, policies=[sdk_policy(p) for p in POLICIES], description=DESCRIPTION)
