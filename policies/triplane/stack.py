"""Stack-level policies: which pattern may serve which data, tags everywhere, models, credentials.

Which use case a resource belongs to comes from what the components register: the use case's
component is named `<environment>-<use case>` with a `triplane:<module>:<Type>` token and every
child is parented under it; every taggable resource carries `use-case`, `pattern` and
`data-classification` tags (Google Cloud labels, Kubernetes `triplane.io/` labels). The stack's
`triplane:environment` setting, which the engine hands every policy pack in `PULUMI_CONFIG`, is
read too, so a use case is judged by what it declares even where it registers nothing taggable.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .catalog import labels_not_supported, taggable_types
from .common import (
    ADVISORY,
    COMPONENT_PREFIX,
    CRITICAL,
    HIGH,
    LOW,
    MEDIUM,
    PATTERN_OF_MODULE,
    Res,
    as_list,
    environment_spec,
    get,
    is_unknown,
    json_document,
    resource_policy,
    stack_name,
    stack_policy,
    statements,
)
from .kubernetes import containers, looks_like_credential, pod_spec
from .taxonomy import ALLOWED_PATTERNS, REQUIRED_TAGS, SHARED

REQUIRED_TAGS_DEFAULT = list(REQUIRED_TAGS)
ALLOWED_PATTERNS_DEFAULT = {classification: list(patterns) for classification, patterns in ALLOWED_PATTERNS.items()}
ALLOWED_MODELS_DEFAULT: dict[str, list[str]] = {
    "public": ["*"],
    "internal": ["*"],
    "confidential": ["*"],
    "restricted": ["*"],
}
SECRET_VALUE_PATHS = {
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString", "secretBinary"),
    "aws:ssm/parameter:Parameter": ("value",),
    "azure-native:keyvault:Secret": ("properties.value",),
    "gcp:secretmanager/secretVersion:SecretVersion": ("secretData",),
    "kubernetes:core/v1:Secret": ("data", "stringData"),
}
"""Where a credential belongs: the value inputs of secret stores (never flagged)."""

PROTECTED_TYPES_DEFAULT = [
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:s3/bucket:Bucket",
    "azure-native:keyvault:Vault",
    "azure-native:keyvault:Key",
    "azure-native:operationalinsights:Workspace",
    "gcp:kms/keyRing:KeyRing",
    "gcp:kms/cryptoKey:CryptoKey",
    "gcp:secretmanager/secret:Secret",
    "gcp:logging/projectBucketConfig:ProjectBucketConfig",
]


@dataclass
class UseCase:
    name: str
    classifications: set[str] = field(default_factory=set)
    patterns: set[str] = field(default_factory=set)
    anchor: str | None = None
    """The URN violations about the use case are reported on (its top component, when there is one)."""
    models: dict[str, str | None] = field(default_factory=dict)
    """model -> URN of the resource that names it (None: named only by the stack setting)."""


def _top_component(resource: Res) -> Res | None:
    top = None
    for node in (resource, *resource.ancestors()):
        if node.type.startswith(COMPONENT_PREFIX):
            top = node
    return top


def use_cases(resources: list[Res]) -> dict[str, UseCase]:
    """Every use case the stack shows: from tags and labels, from components, from the stack setting."""
    found: dict[str, UseCase] = {}
    stack = stack_name()

    def entry(name: str) -> UseCase:
        return found.setdefault(name, UseCase(name))

    for resource in resources:
        tags = resource.tags()
        name = tags.get("use-case")
        if name and name != SHARED:
            case = entry(name)
            if tags.get("data-classification") and tags["data-classification"] != SHARED:
                case.classifications.add(tags["data-classification"])
            if tags.get("pattern") and tags["pattern"] != SHARED:
                case.patterns.add(tags["pattern"])
            if case.anchor is None:
                top = _top_component(resource)
                case.anchor = top.urn if top is not None else resource.urn
        if resource.type.startswith(COMPONENT_PREFIX) and stack and resource.name.startswith(f"{stack}-"):
            module = resource.type.split(":")[1]
            parent_is_component = resource.parent is not None and resource.parent.type.startswith(COMPONENT_PREFIX)
            if module in PATTERN_OF_MODULE and not parent_is_component:
                case = entry(resource.name.removeprefix(f"{stack}-"))
                case.patterns.add(PATTERN_OF_MODULE[module])
                case.anchor = resource.urn
    spec = environment_spec()
    for declared in (spec or {}).get("use_cases") or []:
        if not isinstance(declared, dict) or not declared.get("name"):
            continue
        case = entry(str(declared["name"]))
        if declared.get("data_classification"):
            case.classifications.add(str(declared["data_classification"]))
        if declared.get("pattern"):
            case.patterns.add(str(declared["pattern"]))
        for model in _declared_models(declared):
            case.models.setdefault(model, None)
    return found


def _declared_models(declared: dict[str, Any]) -> list[str]:
    models = declared.get("models")
    if isinstance(models, list):
        return [str(m.get("id") if isinstance(m, dict) else m) for m in models if m]
    model = declared.get("model")
    if isinstance(model, dict) and model.get("id"):
        return [str(model["id"])]
    return []


# --- models named by resources -------------------------------------------------------------------

_BEDROCK_MODEL = re.compile(r"^arn:aws[\w-]*:bedrock:[^:]*:\d*:(foundation-model|inference-profile)/(?P<id>[^*?]+)$")
_VERTEX_MODELS = re.compile(r"Vertex AI models for [^:]+: (?P<models>.+)$")
_MODEL_FLAGS = ("--model-id", "--model")
_IMPORTED_MODEL = re.compile(r"^/data/models/(?P<owner>[\w.-]+?)--(?P<name>[\w.-]+)/[^/]+$")
"""A snapshot imported from a bucket (`weights_import.model_directory`): judged as the hub ID it holds."""


def _model_id(value: str) -> str:
    match = _IMPORTED_MODEL.match(value)
    return f"{match['owner']}/{match['name']}" if match else value


def models_named(resource: Res) -> list[str]:
    """Models a resource grants, deploys or serves."""
    if resource.type.startswith("aws:iam/"):
        document = json_document(resource.props.get("policy"), "policy")
        found = []
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            for arn in as_list(statement.get("Resource")):
                match = _BEDROCK_MODEL.match(str(arn))
                if match:
                    found.append(match.group("id"))
        return found
    if resource.type == "azure-native:cognitiveservices:Deployment":
        name = get(resource.props, "properties.model.name")
        return [str(name)] if name and not is_unknown(name) else []
    if resource.type == "gcp:serviceaccount/account:Account":
        match = _VERTEX_MODELS.search(str(resource.props.get("description") or ""))
        return [m.strip() for m in match.group("models").split(",") if m.strip()] if match else []
    spec = pod_spec(resource)
    if spec is None:
        return []
    found = []
    for _, container in containers(spec):
        argv = [str(a) for a in as_list(container.get("args"))]
        for index, arg in enumerate(argv):
            flag, equals, inline = arg.partition("=")
            if flag in _MODEL_FLAGS:
                value = inline if equals else (argv[index + 1] if index + 1 < len(argv) else "")
                if value:
                    found.append(_model_id(value))
    return found


def _names_for_matching(model: str) -> list[str]:
    """A cross-region inference profile (`us.anthropic.x`) is judged as the model it routes to too."""
    base = re.sub(r"^(us|eu|apac|global|us-gov|jp|au|ca)\.", "", model)
    return [model, base] if base != model else [model]


# --- checks --------------------------------------------------------------------------------------


def _classification_patterns(resources: list[Res], cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    allowed: dict[str, list[str]] = {k: [str(p) for p in v] for k, v in dict(cfg["allowedPatterns"]).items()}
    for case in sorted(use_cases(resources).values(), key=lambda c: c.name):
        if len(case.classifications) > 1:
            yield (
                f"use case {case.name} is tagged with several classifications {sorted(case.classifications)}: "
                "one use case has one classification",
                case.anchor,
            )
        for classification in sorted(case.classifications):
            if classification not in allowed:
                continue
            for pattern in sorted(case.patterns):
                if pattern not in allowed[classification]:
                    permitted = ", ".join(allowed[classification]) or "no pattern"
                    yield (
                        f"use case {case.name} holds {classification} data but is served {pattern}; "
                        f"{classification} data may be served only: {permitted}",
                        case.anchor,
                    )


def _model_allowlist(resources: list[Res], cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    allowed: dict[str, list[str]] = {k: [str(p) for p in v] for k, v in dict(cfg["allowedModels"]).items()}
    cases = use_cases(resources)
    owners = _owners(resources, cases)
    for resource in resources:
        case_name = owners.get(resource.urn)
        if case_name is None:
            continue
        for model in models_named(resource):
            cases[case_name].models[model] = resource.urn
    for case in sorted(cases.values(), key=lambda c: c.name):
        for classification in sorted(case.classifications):
            patterns = allowed.get(classification)
            if patterns is None:
                continue
            for model, urn in sorted(case.models.items()):
                if not any(fnmatch.fnmatchcase(n, p) for n in _names_for_matching(model) for p in patterns):
                    yield (
                        f"use case {case.name} ({classification}) uses model {model}, which is not on the "
                        f"{classification} allowlist {patterns}",
                        urn or case.anchor,
                    )


def _unlisted_models(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    cases = use_cases(resources)
    for declared in (environment_spec() or {}).get("use_cases") or []:
        if not isinstance(declared, dict) or declared.get("allow_unlisted_model") is not True:
            continue
        name = str(declared.get("name") or "?")
        models = ", ".join(_declared_models(declared)) or "none listed"
        case = cases.get(name)
        yield (
            f"use case {name} sets allow_unlisted_model: true, so its model IDs ({models}) are checked for format "
            "and vendor family only, not against Triplane's dated model catalog",
            case.anchor if case is not None else None,
        )


def _owners(resources: list[Res], cases: dict[str, UseCase]) -> dict[str, str]:
    """URN -> use case, from the resource's own tags or those of its top component's tagged children."""
    by_component: dict[str, str] = {}
    for resource in resources:
        name = resource.tags().get("use-case")
        top = _top_component(resource)
        if name and name != SHARED and top is not None:
            by_component.setdefault(top.urn, name)
    stack = stack_name()
    owners: dict[str, str] = {}
    for resource in resources:
        name = resource.tags().get("use-case")
        if not name or name == SHARED:
            top = _top_component(resource)
            name = by_component.get(top.urn) if top is not None else None
            if name is None and top is not None and stack and top.name.startswith(f"{stack}-"):
                candidate = top.name.removeprefix(f"{stack}-")
                name = candidate if candidate in cases else None
        if name and name != SHARED:
            owners[resource.urn] = name
    return owners


def _required_tags(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    prop = taggable_types().get(resource.type)
    if prop is None:
        return
    if labels_not_supported(resource.type, resource.props):
        return
    raw = resource.props.get("metadata", {}).get("labels") if prop == "metadata.labels" else resource.props.get(prop)
    if is_unknown(raw):
        return
    provider_defaults = _provider_default_tags(resource)
    tags = {**provider_defaults, **resource.tags()}
    required = [str(t) for t in cfg["requiredTags"]]
    missing = [t for t in required if not tags.get(t)]
    if missing:
        where = {"tags": "tags", "labels": "labels", "resourceLabels": "resourceLabels", "userLabels": "userLabels",
                 "metadata.labels": "metadata.labels (triplane.io/<key>)"}[prop]
        yield f"{where} lack {missing}: tag it with components.tagging (standard_tags / gcp_labels / k8s_labels)"


def _provider_default_tags(resource: Res) -> dict[str, str]:
    """Tags the provider adds by itself (AWS `defaultTags`, Google Cloud `defaultLabels`)."""
    props = resource.provider_props
    value: Any = props.get("defaultTags") or props.get("defaultLabels")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    if isinstance(value, dict) and isinstance(value.get("tags"), dict):
        value = value["tags"]
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _plaintext_credentials(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    allowed_paths = SECRET_VALUE_PATHS.get(resource.type, ())
    for path, value in _strings(resource.props, ""):
        if any(path == p or path.startswith(f"{p}.") for p in allowed_paths):
            continue
        if looks_like_credential(value):
            yield f"{path or 'a property'} holds what looks like a credential: keep it in a secret store"


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def protection_required() -> str | None:
    """Why this stack's stateful resources must be protected (None: they need not be).

    The tier decides, not the stack's name: a `prod` tier (even with `protect_stateful: false`, an
    opt-out this policy refuses), `protect_stateful: true`, or a stack the policy config names.
    """
    spec = environment_spec() or {}
    if spec.get("tier") == "prod":
        return "its tier is prod"
    if spec.get("protect_stateful") is True:
        return "it sets protect_stateful"
    return None


def _stateful_protected(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    if resource.type not in {str(t) for t in cfg["statefulTypes"]}:
        return
    named = stack_name() in {str(s) for s in cfg["protectedStacks"]}
    reason = "the policy config names it" if named else protection_required()
    if reason is not None and not resource.protect:
        yield (
            f"stack {stack_name()} deletes this stateful resource on `pulumi destroy`, yet {reason}: give it "
            "protect=True and retain_on_delete=True (Triplane: tier prod, or protect_stateful: true)"
        )


POLICIES = [
    stack_policy(
        name="classification-allowed-patterns",
        description="Each use case is served by a pattern its data classification allows (restricted: "
        "self-managed only; confidential: never SaaS).",
        check=_classification_patterns,
        severity=CRITICAL,
        remediation="Serve the use case with an allowed pattern (change `pattern` in the stack file), or "
        "lower its data_classification after review. The mapping is policy config (allowedPatterns).",
        config={
            "allowedPatterns": {
                "type": "object",
                "default": ALLOWED_PATTERNS_DEFAULT,
                "description": "Data classification -> patterns allowed to serve it.",
                "additionalProperties": {"type": "array", "items": {
                    "type": "string", "enum": ["saas", "cloud-managed", "self-managed"]}},
            }
        },
        tags=["stack", "data-governance"],
    ),
    resource_policy(
        name="required-tags",
        description="Every taggable resource carries the required tags (labels on Google Cloud, "
        "triplane.io/ labels on Kubernetes).",
        types=["*"],
        check=_required_tags,
        severity=MEDIUM,
        remediation="Pass the use case's tags (components.tagging.standard_tags; gcp_labels for Google Cloud, "
        "k8s_labels for Kubernetes) to every resource.",
        config={"requiredTags": {"type": "array", "items": {"type": "string"}, "default": REQUIRED_TAGS_DEFAULT,
                                 "description": "Tag keys every taggable resource must carry."}},
        tags=["stack", "cost"],
    ),
    stack_policy(
        name="model-allowlist",
        description="Each use case uses only models on the allowlist for its data classification.",
        check=_model_allowlist,
        severity=HIGH,
        remediation="Use an allowed model, or add it (glob patterns) to allowedModels for the classification "
        "after review.",
        config={
            "allowedModels": {
                "type": "object",
                "default": ALLOWED_MODELS_DEFAULT,
                "description": "Data classification -> allowed model ID globs; a classification left out is "
                "not restricted.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        },
        tags=["stack", "data-governance"],
    ),
    stack_policy(
        name="model-ids-unlisted",
        description="Flags use cases that set allow_unlisted_model, whose model IDs the dated catalog does "
        "not vouch for.",
        check=_unlisted_models,
        severity=LOW,
        enforcement=ADVISORY,
        remediation="Confirm the model ID exists in the provider's console or model list, then remove "
        "allow_unlisted_model once components/versions.py lists it (or use a listed ID).",
        tags=["stack", "models"],
    ),
    resource_policy(
        name="no-plaintext-credentials",
        description="No resource input holds an API key or credential outside a secret store's value.",
        types=["*"],
        check=_plaintext_credentials,
        severity=CRITICAL,
        remediation="Set the key with `pulumi config set --secret` and pass it only to the secret store "
        "(Secrets Manager, Key Vault, Secret Manager, a Kubernetes Secret).",
        tags=["stack", "secrets"],
    ),
    resource_policy(
        name="stateful-resources-protected",
        description="In protected stacks (tier prod, protect_stateful, or named in the config), keys, vaults, "
        "secrets and log stores are protected from deletion.",
        types=["*"],
        check=_stateful_protected,
        severity=HIGH,
        remediation="Set protect_stateful (or tier: prod) so components pass protect=True and "
        "retain_on_delete=True to stateful children.",
        config={
            "protectedStacks": {"type": "array", "items": {"type": "string"}, "default": ["prod", "production"],
                                "description": "Stacks whose stateful resources must be protected."},
            "statefulTypes": {"type": "array", "items": {"type": "string"}, "default": PROTECTED_TYPES_DEFAULT,
                              "description": "Resource types that hold keys, secrets or logs."},
        },
        tags=["stack", "data-protection"],
    ),
]
