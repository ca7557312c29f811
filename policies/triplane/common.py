"""The shape every Triplane policy shares: metadata, configuration, exemptions, resource helpers.

A policy is declared once with `resource_policy(...)` or `stack_policy(...)`: a name, a one-line
description, a severity, an enforcement level, remediation text, the matching Checkov ID or CIS
control where one exists, a JSON schema for its configuration (with documented defaults), and a
check function. The check works on plain values (`Res`): secrets unwrapped, values not known until
apply left as the engine's unknown markers, which `get`/`known` turn into `Unknown` (the policy is
reported as not runnable during preview instead of guessing).

This module depends on no policy framework: `triplane check` runs the policies in-process on a
plan, and `triplane.policies.adapter` serves the same policies to the Pulumi engine through pulumi-policy.

Every policy accepts `exemptions`: `[{"resource": "<glob on name or URN>", "reason": "..."}]`.
A reason is required; an exemption without one fails configuration validation.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .catalog import taggable_types
from .host_patterns import wildcard_problem


class EnforcementLevel(Enum):
    """What a violation does: `mandatory` fails the gate, `advisory` is reported, `disabled` is not run."""

    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    REMEDIATE = "remediate"
    DISABLED = "disabled"


class Severity(Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

UNKNOWN_VALUES = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
"""The engine's markers for values that are only known after apply."""
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
K8S_LABEL_PREFIX = "triplane.io/"
COMPONENT_PREFIX = "triplane:"
PATTERN_OF_MODULE = {"saas": "saas", "cloudmanaged": "cloud-managed", "selfmanaged": "self-managed"}
"""Component type token module -> deployment pattern (`triplane:cloudmanaged:BedrockEndpoint`)."""


# --- references ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A control in a public benchmark that the policy implements."""

    framework: str
    id: str

    def tag(self) -> str:
        return f"{self.framework}:{self.id}"


def checkov(check_id: str) -> Reference:
    return Reference("Checkov", check_id)


def cis(benchmark: str, control: str) -> Reference:
    return Reference(f"CIS {benchmark}", control)


# --- configuration -------------------------------------------------------------------------------

EXEMPTIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Resources this policy does not apply to. Each exemption names the resource "
    "(glob on the logical name or the URN) and the reason it is acceptable.",
    "default": [],
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 10},
        },
        "required": ["resource", "reason"],
        "additionalProperties": False,
    },
}


@dataclass(frozen=True)
class ConfigSchema:
    """The JSON schema of a policy's configuration properties (what `--policy-pack-config` may set)."""

    properties: dict[str, Any]
    required: tuple[str, ...] = ()

    def defaults(self) -> dict[str, Any]:
        """A fresh copy of every property's documented default."""
        return {name: json.loads(json.dumps(spec.get("default"))) for name, spec in self.properties.items()}

    def json_schema(self) -> dict[str, Any]:
        """The schema of the whole configuration object of the policy."""
        return {"type": "object", "properties": self.properties, "required": list(self.required)}


def config_schema(properties: Mapping[str, Mapping[str, Any]] | None = None) -> ConfigSchema:
    """A policy's configuration schema: its own properties (each with a `default`) plus exemptions."""
    merged = {name: dict(spec) for name, spec in (properties or {}).items()}
    for name, spec in merged.items():
        if "default" not in spec:
            raise ValueError(f"config property {name!r} needs a documented default")
    merged["exemptions"] = EXEMPTIONS_SCHEMA
    return ConfigSchema(properties=merged)


def effective_config(schema: ConfigSchema | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """Schema defaults overlaid with what the engine (or the gate) configured."""
    config = schema.defaults() if schema is not None else {}
    config.update({k: v for k, v in given.items() if k != "enforcementLevel"})
    return config


def exempted(config: Mapping[str, Any], name: str, urn: str) -> bool:
    for exemption in config.get("exemptions") or []:
        pattern = str(exemption.get("resource", ""))
        if pattern and (fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(urn, pattern)):
            return True
    return False


ENVIRONMENT_KEY = "triplane:environment"


@dataclass(frozen=True)
class StackContext:
    """The stack being checked: its name and its `triplane:environment` setting."""

    name: str = ""
    environment: dict[str, Any] | None = None


_STACK: contextvars.ContextVar[StackContext | None] = contextvars.ContextVar("stack", default=None)


def environment_from_config(stack_config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The `triplane:environment` setting from a stack's settings (a JSON string, as the engine passes it)."""
    value = (stack_config or {}).get(ENVIRONMENT_KEY)
    try:
        spec = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return None
    return spec if isinstance(spec, dict) else None


@contextlib.contextmanager
def checking_stack(name: str, stack_config: Mapping[str, Any] | None) -> Iterator[None]:
    """Checks run inside this see the stack `name` with these settings (`stack_name`, `environment_spec`)."""
    token = _STACK.set(StackContext(name, environment_from_config(stack_config)))
    try:
        yield
    finally:
        _STACK.reset(token)


def stack_name() -> str:
    """The name of the stack being checked, set by whoever runs the checks (`checking_stack`)."""
    context = _STACK.get()
    return context.name if context is not None else ""


def environment_spec() -> dict[str, Any] | None:
    """The stack's `triplane:environment` setting, set by whoever runs the checks (`checking_stack`)."""
    context = _STACK.get()
    return context.environment if context is not None else None


def platform_stack() -> str | None:
    """The platform stack a use-case stack names (its `platform`); None for a platform or single stack.

    A use-case stack consumes the shared pieces its platform builds for the use cases it serves
    (networks, egress firewalls, clusters and their add-ons, caches, private API paths, account-wide
    logging): checks of those pieces run on the platform stack, and take them as given here.
    """
    return platform_of(environment_spec())


def platform_of(environment: Mapping[str, Any] | None) -> str | None:
    """`platform_stack` for the given `triplane:environment` value."""
    spec = environment or {}
    platform = spec.get("platform")
    return str(platform) if platform and not spec.get("use_case_stacks") else None


# --- values --------------------------------------------------------------------------------------


class Unknown(Exception):
    """Raised by a check that needs a value the engine will only know after apply."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.message = f"string value at .{path} can't be known during preview"
        super().__init__(self.message)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def get(value: Any, path: str, default: Any = None) -> Any:
    """`get(props, "properties.networkAcls.defaultAction")`; raises Unknown on an unknown value."""
    current = value
    walked: list[str] = []
    for part in path.split("."):
        walked.append(part)
        if is_unknown(current):
            raise Unknown(".".join(walked[:-1]))
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return default
    if is_unknown(current):
        raise Unknown(path)
    return current


def known(value: Any, path: str = "") -> Any:
    if is_unknown(value):
        raise Unknown(path)
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def truthy(value: Any) -> bool:
    """Booleans as the engine may carry them: `True`, `"true"`, `"True"`."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def json_document(value: Any, path: str) -> Any:
    """A policy document given as JSON text or as an object; None when absent."""
    if value is None or value == "":
        return None
    if is_unknown(value):
        raise Unknown(path)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return {"__invalid__": value}
    return value


# --- resources -----------------------------------------------------------------------------------


@dataclass
class Res:
    """One resource as a check sees it: plain properties, its place in the tree, its options."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    protect: bool = False
    parent: Res | None = None
    provider_props: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    provider_urn: str | None = None
    """The URN of the provider resource it is created through (a Kubernetes cluster's, for example)."""

    @property
    def custom(self) -> bool:
        return not self.type.startswith(COMPONENT_PREFIX) and not self.type.startswith("pulumi:")

    def ancestors(self) -> Iterator[Res]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def tags(self) -> dict[str, str]:
        """Tags (AWS, Azure), labels (Google Cloud) or `triplane.io/` labels (Kubernetes), as one map."""
        prop = taggable_types().get(self.type)
        if prop is None:
            return {}
        raw = self.props.get("metadata", {}).get("labels") if prop == "metadata.labels" else self.props.get(prop)
        if not isinstance(raw, Mapping):
            return {}
        if prop == "metadata.labels":
            return {
                k.removeprefix(K8S_LABEL_PREFIX): str(v) for k, v in raw.items() if k.startswith(K8S_LABEL_PREFIX)
            }
        return {str(k): str(v) for k, v in raw.items() if not is_unknown(v)}

    def component(self) -> Res | None:
        """The nearest enclosing Triplane component (this resource, if it is one)."""
        for node in (self, *self.ancestors()):
            if node.type.startswith(COMPONENT_PREFIX):
                return node
        return None

    def use_case(self) -> str | None:
        tagged = self.tags().get("use-case")
        if tagged:
            return tagged
        for node in self.ancestors():
            value = node.tags().get("use-case")
            if value:
                return value
        return None


# --- policy constructors -------------------------------------------------------------------------

ResourceCheck = Callable[[Res, dict[str, Any]], Iterable[str]]
StackCheck = Callable[[list[Res], dict[str, Any]], Iterable[tuple[str, str | None]]]
Report = Callable[[str, str | None], None]
"""Called once per violation with its message and the URN of the resource (None: the stack)."""


@dataclass(frozen=True)
class Meta:
    """What a person reads about a policy: also rendered into the policy README table."""

    name: str
    description: str
    severity: Severity
    enforcement: EnforcementLevel
    remediation: str
    references: tuple[Reference, ...]
    kind: str
    types: tuple[str, ...]
    schema: ConfigSchema
    tags: tuple[str, ...] = ()


REGISTRY: dict[str, Meta] = {}


def _register(meta: Meta) -> None:
    if meta.name in REGISTRY and REGISTRY[meta.name] != meta:
        raise ValueError(f"two policies are named {meta.name!r}")
    REGISTRY[meta.name] = meta


@dataclass(frozen=True, eq=False)
class Policy:
    """One policy: its metadata and its check, runnable on any resource view (`Res`).

    `run_resource` and `run_stack` apply the configuration (schema defaults, then what is given),
    the exemptions and the type filter, then report each violation. A check that needs a value
    known only after apply raises `Unknown`, which they let through after what was reported.
    """

    meta: Meta
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def kind(self) -> str:
        return self.meta.kind

    def applies_to(self, resource_type: str) -> bool:
        return self.meta.kind == "resource" and ("*" in self.meta.types or resource_type in self.meta.types)

    def run_resource(self, resource: Res, given: Mapping[str, Any], report: Report) -> None:
        if self.resource_check is None or not self.applies_to(resource.type):
            return
        cfg = effective_config(self.meta.schema, given)
        if exempted(cfg, resource.name, resource.urn):
            return
        for message in self.resource_check(resource, cfg):
            report(message, resource.urn)

    def run_stack(self, resources: list[Res], given: Mapping[str, Any], report: Report) -> None:
        if self.stack_check is None:
            return
        cfg = effective_config(self.meta.schema, given)
        names = {r.urn: r.name for r in resources}
        for message, urn in self.stack_check(resources, cfg):
            if urn is not None and exempted(cfg, names.get(urn, ""), urn):
                continue
            report(message, urn)


def resource_policy(
    *,
    name: str,
    description: str,
    types: Sequence[str],
    check: ResourceCheck,
    severity: Severity,
    remediation: str,
    enforcement: EnforcementLevel = MANDATORY,
    references: Sequence[Reference] = (),
    config: Mapping[str, Mapping[str, Any]] | None = None,
    tags: Sequence[str] = (),
) -> Policy:
    """A policy run on each resource whose type is in `types` (`"*"` for every resource).

    `check(resource, config)` yields one message per problem; each becomes a violation on that
    resource unless the resource is exempted.
    """
    meta = Meta(name, description, severity, enforcement, remediation, tuple(references), "resource",
                tuple(sorted(frozenset(types))), config_schema(config), tuple(tags))
    _register(meta)
    return Policy(meta, resource_check=check)


def stack_policy(
    *,
    name: str,
    description: str,
    check: StackCheck,
    severity: Severity,
    remediation: str,
    enforcement: EnforcementLevel = MANDATORY,
    references: Sequence[Reference] = (),
    config: Mapping[str, Mapping[str, Any]] | None = None,
    tags: Sequence[str] = (),
) -> Policy:
    """A policy run once over the whole stack.

    `check(resources, config)` yields `(message, urn)` pairs; `urn` names the offending resource
    (None: the stack as a whole). Exempted resources are skipped.
    """
    meta = Meta(name, description, severity, enforcement, remediation, tuple(references), "stack", (),
                config_schema(config), tuple(tags))
    _register(meta)
    return Policy(meta, stack_check=check)


# --- shared checks -------------------------------------------------------------------------------


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of an IAM policy document (a single statement object is allowed)."""
    if not isinstance(document, Mapping):
        return []
    raw = document.get("Statement")
    return [dict(s) for s in as_list(raw) if isinstance(s, Mapping)]


def is_public_cidr(cidr: Any) -> bool:
    return isinstance(cidr, str) and cidr.strip() in ("0.0.0.0/0", "::/0", "*", "Internet", "Any")


def broad_domain(entry: str) -> str | None:
    """Why an allowlist entry is too broad (None when it names one owner's host or domain).

    Wildcards over a public suffix or a shared hosting domain are the spec's rule too
    (`host_patterns.wildcard_problem`, which `check_host` applies)."""
    host = entry.strip().lower().lstrip("*").lstrip(".")
    if not host or "*" in host:
        return "matches every host"
    labels = host.split(".")
    if len(labels) < 2:
        return "is a whole top-level domain"
    return wildcard_problem(entry)


def cap_for(name: str, cfg: dict[str, Any]) -> int:
    for override in cfg.get("overrides") or []:
        if fnmatch.fnmatchcase(name, str(override.get("resource", ""))):
            return int(override["maxNodes"])
    return int(cfg["maxNodes"])


CAP_SCHEMA: dict[str, dict[str, Any]] = {
    "maxNodes": {"type": "integer", "minimum": 1, "default": 10, "description": "Largest allowed pool size."},
    "overrides": {
        "type": "array",
        "default": [],
        "description": "Per-pool caps: [{resource: <glob>, maxNodes: <n>, reason: <why>}].",
        "items": {
            "type": "object",
            "properties": {
                "resource": {"type": "string", "minLength": 1},
                "maxNodes": {"type": "integer", "minimum": 1},
                "reason": {"type": "string", "minLength": 10},
            },
            "required": ["resource", "maxNodes", "reason"],
        },
    },
}
