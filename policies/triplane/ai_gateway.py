"""The AI gateway: every use case has its route, every route is authenticated and held to token limits,
and no route takes a use case's data where its classification forbids.

Policies read the routing objects from the plan as the engine shows Kubernetes custom resources
(`kubernetes:<group>/<version>:<Kind>`): Envoy AI Gateway's `AIGatewayRoute` and `AIServiceBackend`,
Envoy Gateway's `Backend`, `SecurityPolicy` and `BackendTrafficPolicy`, the Gateway API's `Gateway`
and the Inference Extension's `InferencePool`. An `AIGatewayRoute` becomes an `HTTPRoute` of the same
name, which is what the Envoy Gateway policies target.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .common import CRITICAL, HIGH, K8S_LABEL_PREFIX, Res, as_list, environment_spec, get, is_unknown, stack_policy

AI_GROUP = "aigateway.envoyproxy.io"
EG_GROUP = "gateway.envoyproxy.io"
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
INFERENCE_GROUP = "inference.networking.k8s.io"
GATEWAY_CLASS = "triplane-ai-gateway"
"""The GatewayClass of the Gateway Triplane installs for the AI gateway."""
COST_NAMESPACE = "io.envoy.ai_gateway"
"""The dynamic-metadata namespace Envoy AI Gateway writes each request's token costs to."""
USE_CASE_LABEL = f"{K8S_LABEL_PREFIX}use-case"
CLASSIFICATION_LABEL = f"{K8S_LABEL_PREFIX}data-classification"
SAAS_SCHEMAS = frozenset({"OpenAI", "Anthropic", "Cohere"})
"""API schemas of SaaS providers (OpenAI's is also what in-cluster servers speak)."""
IN_CLUSTER_SUFFIX = ".svc.cluster.local"
PROXY_NAMESPACE = "envoy-gateway-system"
"""Where Envoy Gateway runs the gateway's proxy pods (its own namespace): the pods that call upstreams."""


def _kind(resource: Res) -> tuple[str, str] | None:
    """(API group, kind) of a Kubernetes custom resource, from its type token."""
    if not resource.type.startswith("kubernetes:"):
        return None
    _, api, kind = resource.type.split(":", 2)
    return (api.rsplit("/", 1)[0] if "/" in api else "core"), kind


def _of(resources: list[Res], group: str, kind: str) -> list[Res]:
    return [r for r in resources if _kind(r) == (group, kind)]


def _meta(resource: Res, key: str) -> str:
    value = get(resource.props, f"metadata.{key}")
    return str(value) if value else ("default" if key == "namespace" else resource.name)


def _labels(resource: Res) -> dict[str, str]:
    labels = get(resource.props, "metadata.labels") or {}
    return {str(k): str(v) for k, v in labels.items() if not is_unknown(v)} if isinstance(labels, Mapping) else {}


def _where(resource: Res) -> str:
    return f"{_meta(resource, 'namespace')}/{_meta(resource, 'name')}"


def _targets(policy: Res, route: Res) -> bool:
    """Whether an Envoy Gateway policy targets the HTTPRoute the AIGatewayRoute becomes."""
    if _meta(policy, "namespace") != _meta(route, "namespace"):
        return False
    name = _meta(route, "name")
    refs = [*as_list(get(policy.props, "spec.targetRefs")), *as_list(get(policy.props, "spec.targetRef"))]
    return any(
        isinstance(ref, Mapping)
        and ref.get("group") == GATEWAY_API_GROUP
        and ref.get("kind") == "HTTPRoute"
        and ref.get("name") == name
        for ref in refs
    )


# --- authenticated and limited -----------------------------------------------------------------------


def _client_header(policy: Res) -> str | None:
    """The header the SecurityPolicy puts the authenticated client's ID in (None: it forwards none)."""
    header = get(policy.props, "spec.apiKeyAuth.forwardClientIDHeader")
    if header:
        return str(header).lower()
    for provider in as_list(get(policy.props, "spec.jwt.providers")):
        for mapping in as_list(provider.get("claimToHeaders") if isinstance(provider, Mapping) else None):
            if isinstance(mapping, Mapping) and mapping.get("header"):
                return str(mapping["header"]).lower()
    return None


def _clients(policy: Res, resources: list[Res]) -> list[str]:
    """The client IDs a SecurityPolicy admits, where the plan shows them: the JWT claim values its
    authorization allows, and the keys of the API-key Secrets it references (the client IDs)."""
    found: list[str] = []
    for rule in as_list(get(policy.props, "spec.authorization.rules")):
        if not isinstance(rule, Mapping) or rule.get("action") != "Allow":
            continue
        for claim in as_list(get(rule, "principal.jwt.claims")):
            found += [str(v) for v in as_list(claim.get("values") if isinstance(claim, Mapping) else None)]
    namespace = _meta(policy, "namespace")
    secrets = {
        _meta(s, "name"): s
        for s in resources
        if s.type == "kubernetes:core/v1:Secret" and _meta(s, "namespace") == namespace
    }
    for ref in as_list(get(policy.props, "spec.apiKeyAuth.credentialRefs")):
        secret = secrets.get(str(ref.get("name"))) if isinstance(ref, Mapping) else None
        if secret is not None:
            for key in ("stringData", "data"):
                data = secret.props.get(key)
                if isinstance(data, Mapping):
                    found += [str(k) for k in data]
    return sorted(set(found))


def _cost_keys(route: Res) -> set[str]:
    return {
        str(cost.get("metadataKey"))
        for cost in as_list(get(route.props, "spec.llmRequestCosts"))
        if isinstance(cost, Mapping) and cost.get("metadataKey")
    }


def _token_rule(rule: Mapping[str, Any], keys: set[str]) -> bool:
    response = get(rule, "cost.response") or {}
    metadata = response.get("metadata") or {}
    return (
        response.get("from") == "Metadata"
        and metadata.get("namespace") == COST_NAMESPACE
        and str(metadata.get("key")) in keys
    )


def _rule_clients(rule: Mapping[str, Any], header: str) -> tuple[set[str], bool]:
    """The client IDs a rate-limit rule counts on `header`, and whether it counts every client apart."""
    values: set[str] = set()
    every = False
    for selector in as_list(rule.get("clientSelectors")):
        for match in as_list(selector.get("headers") if isinstance(selector, Mapping) else None):
            if not isinstance(match, Mapping) or str(match.get("name", "")).lower() != header:
                continue
            if match.get("type") == "Distinct":
                every = True
            elif match.get("type", "Exact") == "Exact" and match.get("value") is not None:
                values.add(str(match["value"]))
    return values, every


def _authenticated_and_limited(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    security = _of(resources, EG_GROUP, "SecurityPolicy")
    traffic = _of(resources, EG_GROUP, "BackendTrafficPolicy")
    for route in _of(resources, AI_GROUP, "AIGatewayRoute"):
        name = f"AIGatewayRoute {_where(route)}"
        http_route = f"HTTPRoute {_meta(route, 'name')}"
        auth = [
            p for p in security if _targets(p, route) and (get(p.props, "spec.apiKeyAuth") or get(p.props, "spec.jwt"))
        ]
        if not auth:
            yield (
                f"{name} is open to anyone who reaches the gateway: no SecurityPolicy with apiKeyAuth or jwt targets "
                f"its {http_route}; fix: add one in {_meta(route, 'namespace')} (targetRefs: gateway.networking.k8s.io "
                "HTTPRoute of the route's name) that authenticates the use case's consumers",
                route.urn,
            )
            continue
        header = _client_header(auth[0])
        if header is None:
            yield (
                f"{name}: SecurityPolicy {_meta(auth[0], 'name')} forwards no client ID, so no rate limit can tell "
                "consumers apart; fix: set apiKeyAuth.forwardClientIDHeader (or the JWT provider's claimToHeaders)",
                route.urn,
            )
            continue
        keys = _cost_keys(route)
        if not keys:
            yield (
                f"{name} records no token cost (spec.llmRequestCosts is empty), so no limit can count tokens; fix: "
                "add llmRequestCosts [{metadataKey: llm_total_token, type: TotalToken}]",
                route.urn,
            )
            continue
        rules = [
            rule
            for policy in traffic
            if _targets(policy, route) and get(policy.props, "spec.rateLimit.type") == "Global"
            for rule in as_list(get(policy.props, "spec.rateLimit.global.rules"))
            if isinstance(rule, Mapping)
        ]
        if not rules:
            yield (
                f"{name} has no token limit: no BackendTrafficPolicy with a Global rate limit targets its "
                f"{http_route}; fix: add one whose rules key on the {header} header and take their cost from "
                f"the response's {COST_NAMESPACE} metadata",
                route.urn,
            )
            continue
        untokened = [i for i, rule in enumerate(rules) if not _token_rule(rule, keys)]
        if untokened:
            yield (
                f"{name}: rate-limit rules {untokened} count requests, not tokens; fix: set each rule's "
                f"cost.response to from: Metadata, metadata: {{namespace: {COST_NAMESPACE}, key: "
                f"{sorted(keys)[0]}}}",
                route.urn,
            )
            continue
        limited: set[str] = set()
        every = False
        for rule in rules:
            values, distinct = _rule_clients(rule, header)
            limited |= values
            every = every or distinct
        if not limited and not every:
            yield (
                f"{name}: no rate-limit rule selects clients by the {header} header the SecurityPolicy forwards, so "
                f"no consumer has a budget of its own; fix: key each rule's clientSelectors on {header}",
                route.urn,
            )
            continue
        unlimited = [] if every else [c for c in _clients(auth[0], resources) if c not in limited]
        if unlimited:
            yield (
                f"{name}: consumers {unlimited} are admitted but have no token limit; fix: add rules selecting "
                f"{header}: <client> with a per-minute and per-day token limit for each",
                route.urn,
            )


# --- one route per use case --------------------------------------------------------------------------


def _has_gateway(resources: list[Res], spec: Mapping[str, Any] | None) -> bool:
    if (spec or {}).get("gateway"):
        return True
    return any(
        get(g.props, "spec.gatewayClassName") == GATEWAY_CLASS for g in _of(resources, GATEWAY_API_GROUP, "Gateway")
    )


def _route_per_use_case(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    spec = environment_spec()
    if not _has_gateway(resources, spec):
        return
    routed = {_labels(r).get(USE_CASE_LABEL) for r in _of(resources, AI_GROUP, "AIGatewayRoute")}
    anchor = next(
        (g.urn for g in _of(resources, GATEWAY_API_GROUP, "Gateway")
         if get(g.props, "spec.gatewayClassName") == GATEWAY_CLASS),
        None,
    )  # fmt: skip
    for declared in as_list((spec or {}).get("use_cases")):
        name = str(declared.get("name") or "") if isinstance(declared, Mapping) else ""
        if name and name not in routed:
            yield (
                f"use case {name!r} has no AIGatewayRoute labelled {USE_CASE_LABEL}: {name}, so the environment's "
                "gateway cannot serve it; fix: render its route (with its consumers and limits) on the gateway",
                anchor,
            )


# --- classification ----------------------------------------------------------------------------------


def _classification(route: Res, spec: Mapping[str, Any] | None) -> str | None:
    labels = _labels(route)
    if labels.get(CLASSIFICATION_LABEL):
        return labels[CLASSIFICATION_LABEL]
    use_case = labels.get(USE_CASE_LABEL)
    for declared in as_list((spec or {}).get("use_cases")):
        if isinstance(declared, Mapping) and declared.get("name") == use_case:
            value = declared.get("data_classification")
            return str(value) if value else None
    return None


def _backend_kind(ref: Mapping[str, Any], route: Res, resources: list[Res]) -> tuple[str, str]:
    """(self-managed | saas | cloud-managed | unknown, what it is) for one of a route's backendRefs."""
    namespace = str(ref.get("namespace") or _meta(route, "namespace"))
    name = str(ref.get("name") or "")
    if ref.get("kind") == "InferencePool" and ref.get("group") == INFERENCE_GROUP:
        return "self-managed", f"InferencePool {namespace}/{name}"
    what = f"AIServiceBackend {namespace}/{name}"
    service = next(
        (s for s in _of(resources, AI_GROUP, "AIServiceBackend")
         if _meta(s, "namespace") == namespace and _meta(s, "name") == name),
        None,
    )  # fmt: skip
    if service is None:
        return "unknown", f"{what}, which the plan does not render"
    schema = str(get(service.props, "spec.schema.name") or "")
    target = get(service.props, "spec.backendRef") or {}
    backend = next(
        (b for b in _of(resources, EG_GROUP, "Backend")
         if _meta(b, "namespace") == str(target.get("namespace") or namespace)
         and _meta(b, "name") == str(target.get("name"))),
        None,
    )  # fmt: skip
    if backend is None:
        return "unknown", f"{what}, whose Backend the plan does not render"
    hosts = []
    for endpoint in as_list(get(backend.props, "spec.endpoints")):
        fqdn = endpoint.get("fqdn") if isinstance(endpoint, Mapping) else None
        hosts.append(str(fqdn.get("hostname")) if isinstance(fqdn, Mapping) else "")
    at = f"{what} ({schema} at {', '.join(hosts) or 'no FQDN endpoint'})"
    if hosts and all(h.endswith(IN_CLUSTER_SUFFIX) for h in hosts):
        return "self-managed", at
    if schema in SAAS_SCHEMAS:
        return "saas", at
    return "cloud-managed", at


def _route_classification(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    spec = environment_spec()
    for route in _of(resources, AI_GROUP, "AIGatewayRoute"):
        classification = _classification(route, spec)
        if classification not in ("restricted", "confidential"):
            continue
        for index, rule in enumerate(as_list(get(route.props, "spec.rules"))):
            for ref in as_list(rule.get("backendRefs") if isinstance(rule, Mapping) else None):
                if not isinstance(ref, Mapping):
                    continue
                kind, what = _backend_kind(ref, route, resources)
                lead = f"AIGatewayRoute {_where(route)} ({classification}) rules[{index}] sends requests to {what}"
                if classification == "restricted" and kind != "self-managed":
                    yield (
                        f"{lead}, which is not a self-managed server: restricted data stays on servers in the "
                        "cluster; fix: route it to the use case's own InferencePool or in-cluster Service only",
                        route.urn,
                    )
                elif classification == "confidential" and kind in ("saas", "unknown"):
                    yield (
                        f"{lead}, a SaaS provider (or a backend the plan cannot show): confidential data never goes "
                        "to SaaS; fix: route it to a cloud-managed or self-managed backend",
                        route.urn,
                    )


POLICIES = [
    stack_policy(
        name="gateway-routes-authenticated-and-limited",
        description="Every AIGatewayRoute's HTTPRoute is targeted by a SecurityPolicy (API keys or JWT) that "
        "forwards the client ID, and by a BackendTrafficPolicy whose Global rate-limit rules count tokens "
        "(cost from the AI gateway's response metadata) for every admitted client.",
        check=_authenticated_and_limited,
        severity=CRITICAL,
        remediation="Render each use case's route with its SecurityPolicy (apiKeyAuth or jwt, forwarding the "
        "client ID) and BackendTrafficPolicy (rateLimit.type Global, a per-minute and per-day rule per consumer "
        "keyed on the client-ID header, cost.response from Metadata io.envoy.ai_gateway), as the gateway's "
        "routing renderer does.",
        tags=["ai-gateway", "network"],
    ),
    stack_policy(
        name="gateway-route-per-use-case",
        description="With an AI gateway (a Gateway of the Triplane gateway class, or `gateway:` in the stack "
        "setting), every use case of the stack has an AIGatewayRoute labelled with its name.",
        check=_route_per_use_case,
        severity=HIGH,
        remediation="Give every use case its `consumers` and render its route on the gateway; a use case the "
        "gateway cannot serve is refused by the stack file's checks before it gets here.",
        tags=["ai-gateway", "stack"],
    ),
    stack_policy(
        name="gateway-route-classification",
        description="No AIGatewayRoute of a restricted use case reaches a backend other than a self-managed "
        "one (an InferencePool, or an in-cluster Service); none of a confidential use case reaches a SaaS "
        "provider.",
        check=_route_classification,
        severity=CRITICAL,
        remediation="Point restricted routes at the use case's own in-cluster server or InferencePool, and "
        "confidential routes (primary and fallback) at cloud-managed or self-managed backends.",
        tags=["ai-gateway", "data-classification"],
    ),
]
