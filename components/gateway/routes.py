"""The AI gateway's routing: for one Gateway, the custom resources that send each use case's
requests to its backends, authenticate its consumers and hold them to their token limits.

Pure data, no Pulumi resources: `render` returns the objects as dicts (sorted, the same input
always renders the same objects) and `resolve` follows them the way the gateway does. Per backend:

- an Envoy Gateway `Backend` (an FQDN endpoint) and, for anything outside the cluster, a Gateway
  API `BackendTLSPolicy` (system CAs, the upstream's host name); an `AIServiceBackend` with the
  backend's API schema; a `BackendSecurityPolicy` when the upstream needs a credential;
- or, for a self-managed server with more than one replica, an `InferencePool` in the server's
  namespace (its endpoint picker Service `endpoint_picker_service(...)` must run beside it) and a
  `ReferenceGrant` that lets the gateway's routes reach it.

Per use case: an `AIGatewayRoute` (one rule on the model header, the fallback at priority 1,
total tokens recorded as the request's cost), a `SecurityPolicy` (API keys or JWT; the client ID
is forwarded in `CLIENT_ID_HEADER`) and a `BackendTrafficPolicy` (a global rate limit per consumer
per minute and per day in tokens, and the retry that moves a failed request to the fallback).
Per Gateway: a `ClientTrafficPolicy` that drops any client-sent `CLIENT_ID_HEADER` before
authentication, so nobody spends another consumer's budget.

No secret value passes through here: upstream keys, consumer keys and the token-exchange client
secret are named Kubernetes Secrets, created elsewhere from secret config; `secret_needs` lists
each one (namespace, name, key).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from triplane.components.naming import physical_name
from triplane.policies.ai_gateway import CLASSIFICATION_LABEL, COST_NAMESPACE, USE_CASE_LABEL

Schema = Literal["OpenAI", "Anthropic", "Cohere", "AWSBedrock", "AzureOpenAI", "GCPVertexAI"]
Classification = Literal["public", "internal", "confidential", "restricted"]
AuthKind = Literal["api-key", "jwt"]

MODEL_HEADER = "x-ai-eg-model"
"""The header the AI gateway sets from the request body's `model`; routes match on it."""
CLIENT_ID_HEADER = "x-triplane-client-id"
"""Where the authenticated consumer's client ID travels; the rate limits key on it."""
TOTAL_TOKENS_KEY = "llm_total_token"
REQUEST_TIMEOUT = "300s"
"""Long generations outlast the AI gateway's 60 s default."""
ENDPOINT_PICKER_PORT = 9002
UPSTREAM_KEY_FIELD = "apiKey"
"""The key, in an upstream's API-key Secret, that the AI gateway reads."""
OIDC_SECRET_FIELD = "client-secret"
"""The key, in the token-exchange client's Secret, that the AI gateway reads."""
MAX_CONSUMERS = 128
"""Two rate-limit rules each: a BackendTrafficPolicy holds at most 256."""

API_VERSIONS = {
    "AIGatewayRoute": "aigateway.envoyproxy.io/v1beta1",
    "AIServiceBackend": "aigateway.envoyproxy.io/v1beta1",
    "BackendSecurityPolicy": "aigateway.envoyproxy.io/v1beta1",
    "Backend": "gateway.envoyproxy.io/v1alpha1",
    "BackendTrafficPolicy": "gateway.envoyproxy.io/v1alpha1",
    "ClientTrafficPolicy": "gateway.envoyproxy.io/v1alpha1",
    "SecurityPolicy": "gateway.envoyproxy.io/v1alpha1",
    "BackendTLSPolicy": "gateway.networking.k8s.io/v1",
    "ReferenceGrant": "gateway.networking.k8s.io/v1",
    "InferencePool": "inference.networking.k8s.io/v1",
}
ORDER = (
    "InferencePool",
    "ReferenceGrant",
    "Backend",
    "BackendTLSPolicy",
    "AIServiceBackend",
    "BackendSecurityPolicy",
    "AIGatewayRoute",
    "SecurityPolicy",
    "BackendTrafficPolicy",
    "ClientTrafficPolicy",
)
"""Referenced objects before the objects that reference them."""
LABELS = {"triplane.io/managed-by": "triplane", "app.kubernetes.io/part-of": "ai-gateway"}


# --- where a backend is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SaasHost:
    """A SaaS provider's API host, reached on 443 through the egress firewall."""

    host: str
    port: int = 443


@dataclass(frozen=True)
class BedrockRuntime:
    """The region's Bedrock runtime, over its interface endpoint (private DNS)."""

    region: str

    @property
    def host(self) -> str:
        return f"bedrock-runtime.{self.region}.amazonaws.com"

    port = 443


@dataclass(frozen=True)
class AzureOpenAIAccount:
    """An Azure OpenAI account's FQDN (resolved to its private endpoint) and the API version."""

    host: str
    api_version: str
    port: int = 443


@dataclass(frozen=True)
class VertexRegion:
    """Vertex AI in one region of one project, over Private Service Connect for Google APIs."""

    project: str
    region: str

    @property
    def host(self) -> str:
        return f"{self.region}-aiplatform.googleapis.com"

    port = 443


@dataclass(frozen=True)
class InClusterServer:
    """A self-managed model server's Service. With more than one replica the gateway balances over
    its pods through an InferencePool, which needs the pods' labels and container port."""

    service: str
    namespace: str
    port: int
    replicas: int = 1
    selector: Mapping[str, str] = field(default_factory=dict)
    target_port: int | None = None

    @property
    def host(self) -> str:
        return f"{self.service}.{self.namespace}.svc.cluster.local"

    @property
    def pooled(self) -> bool:
        return self.replicas > 1


Target = SaasHost | BedrockRuntime | AzureOpenAIAccount | VertexRegion | InClusterServer


# --- how the gateway authenticates to it -----------------------------------------------------------


@dataclass(frozen=True)
class ApiKeyCredential:
    """A Secret (in the BackendSecurityPolicy's namespace) holding the key under `UPSTREAM_KEY_FIELD`."""

    secret: str
    kind = "api-key"


@dataclass(frozen=True)
class AwsCredential:
    """The AWS SDK's default chain in the gateway's Envoy pods (EKS Pod Identity or IRSA)."""

    region: str
    kind = "aws"


@dataclass(frozen=True)
class OidcClient:
    """An identity-provider client whose client-credentials token Entra ID accepts as a federated
    credential (the Entra app's federated identity credential names this issuer, the token's subject
    and the audience `api://AzureADTokenExchange`, which the provider must issue). `client_secret`
    names a Secret holding the client's secret under `OIDC_SECRET_FIELD`."""

    issuer: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class AzureCredential:
    """An Entra application (tenant + client ID) reached by OIDC token exchange: no Azure secret."""

    tenant_id: str
    client_id: str
    token_exchange: OidcClient
    kind = "azure"


@dataclass(frozen=True)
class GcpCredential:
    """Application Default Credentials in the gateway's Envoy pods (GKE Workload Identity Federation)."""

    project: str
    region: str
    kind = "gcp"


Credential = ApiKeyCredential | AwsCredential | AzureCredential | GcpCredential


@dataclass(frozen=True)
class Backend:
    use_case: str
    """The use case that owns the backend."""
    model: str
    """The model name the upstream expects."""
    schema: Schema
    target: Target
    credential: Credential | None = None

    @property
    def pattern(self) -> Literal["saas", "cloud-managed", "self-managed"]:
        if isinstance(self.target, InClusterServer):
            return "self-managed"
        if isinstance(self.target, SaasHost):
            return "saas"
        return "cloud-managed"

    @property
    def credential_kind(self) -> str:
        return self.credential.kind if self.credential is not None else "none"


# --- who calls it, and how much -------------------------------------------------------------------


@dataclass(frozen=True)
class Consumer:
    name: str
    """The client ID: the key in its API-key Secret, or the JWT claim's value."""
    auth: AuthKind
    tokens_per_minute: int
    tokens_per_day: int


@dataclass(frozen=True)
class JwtProvider:
    """The company identity provider, for consumers that authenticate with JWTs."""

    name: str
    issuer: str
    jwks_uri: str
    audiences: tuple[str, ...] = ()
    client_id_claim: str = "client_id"


@dataclass(frozen=True)
class RouteSpec:
    use_case: str
    classification: Classification
    primary: Backend
    consumers: tuple[Consumer, ...]
    fallback: Backend | None = None
    model_name: str | None = None
    """The model name applications send; the primary's model when not set."""

    @property
    def model(self) -> str:
        return self.model_name or self.primary.model


# --- names ----------------------------------------------------------------------------------------


def object_name(*parts: str) -> str:
    """A DNS-1123 label (at most 63 characters) for `parts`, the same every run."""
    return physical_name(*parts, kind="k8s")


def route_name(use_case: str) -> str:
    """The AIGatewayRoute's name, and so the name of the HTTPRoute the AI gateway makes from it."""
    return object_name(use_case)


def backend_name(backend: Backend) -> str:
    where = {
        SaasHost: "saas",
        BedrockRuntime: "bedrock",
        AzureOpenAIAccount: "azure",
        VertexRegion: "vertex",
        InClusterServer: "self",
    }[type(backend.target)]
    return object_name(backend.use_case, where, backend.model)


def consumer_key_secret(consumer: str) -> str:
    """The Secret, in the gateway's namespace, holding the consumer's API key under its client ID."""
    return object_name("ai-gateway-key", consumer)


def pool_name(target: InClusterServer) -> str:
    return object_name(target.service)


def endpoint_picker_service(target: InClusterServer) -> str:
    """The endpoint picker's Service for the server's InferencePool (same namespace, gRPC on
    `ENDPOINT_PICKER_PORT`)."""
    return object_name(target.service, "epp")


# --- checks ---------------------------------------------------------------------------------------

SCHEMA_TARGETS: dict[str, tuple[type, ...]] = {
    "OpenAI": (SaasHost, InClusterServer),
    "Anthropic": (SaasHost,),
    "Cohere": (SaasHost,),
    "AWSBedrock": (BedrockRuntime,),
    "AzureOpenAI": (AzureOpenAIAccount,),
    "GCPVertexAI": (VertexRegion,),
}
TARGET_CREDENTIALS: dict[type, tuple[type | None, ...]] = {
    SaasHost: (ApiKeyCredential,),
    BedrockRuntime: (AwsCredential,),
    AzureOpenAIAccount: (AzureCredential,),
    VertexRegion: (GcpCredential,),
    InClusterServer: (None, ApiKeyCredential),
}


PATTERN_NAMES = {"saas": "SaaS", "cloud-managed": "cloud-managed", "self-managed": "self-managed"}


def _where(spec: RouteSpec, role: str) -> str:
    return f"gateway route for use case {spec.use_case!r}: {role}"


def _check_backend(spec: RouteSpec, role: str, backend: Backend) -> None:
    at = _where(spec, role)
    allowed_targets = SCHEMA_TARGETS[backend.schema]
    if not isinstance(backend.target, allowed_targets):
        names = ", ".join(t.__name__ for t in allowed_targets)
        raise ValueError(f"{at}.target is a {type(backend.target).__name__}; schema {backend.schema} needs {names}")
    allowed = TARGET_CREDENTIALS[type(backend.target)]
    credential_type = type(backend.credential) if backend.credential is not None else None
    if credential_type not in allowed:
        names = ", ".join("none" if c is None else c.__name__ for c in allowed)
        raise ValueError(
            f"{at}.credential is {backend.credential_kind}; a {type(backend.target).__name__} takes {names}"
            + (
                " (cloud services use workload identity, never static cloud keys)"
                if backend.pattern == "cloud-managed"
                else ""
            )
        )
    target, credential = backend.target, backend.credential
    if isinstance(target, BedrockRuntime) and isinstance(credential, AwsCredential):
        if credential.region != target.region:
            raise ValueError(f"{at}.credential.region is {credential.region}; set it to the target's {target.region}")
    elif isinstance(target, VertexRegion) and isinstance(credential, GcpCredential):
        if (credential.project, credential.region) != (target.project, target.region):
            raise ValueError(
                f"{at}.credential: project and region must be the target's {target.project}/{target.region}"
            )
    elif isinstance(target, InClusterServer) and target.pooled and (not target.selector or target.target_port is None):
        raise ValueError(
            f"{at}.target: {target.replicas} replicas go through an InferencePool, which needs the pods' "
            "selector labels and container port (target_port)"
        )


def _check_classification(spec: RouteSpec) -> None:
    for role, backend in (("primary", spec.primary), ("fallback", spec.fallback)):
        if backend is None:
            continue
        at = _where(spec, role)
        if spec.classification == "restricted" and (
            backend.pattern != "self-managed" or backend.use_case != spec.use_case
        ):
            raise ValueError(
                f"{at} is the {PATTERN_NAMES[backend.pattern]} backend {backend.model!r} of use case "
                f"{backend.use_case!r}, but a "
                f"restricted use case reaches only its own self-managed backend; fix: point {role} at a "
                f"self-managed backend of {spec.use_case!r}" + (" or remove it" if role == "fallback" else "")
            )
        if spec.classification == "confidential" and backend.pattern == "saas":
            raise ValueError(
                f"{at} is the SaaS backend {backend.model!r} at {backend.target.host}, but a confidential use case "
                f"never routes to SaaS; fix: name a cloud-managed or self-managed {role}"
                + (" or remove it" if role == "fallback" else "")
            )


def _check_route(spec: RouteSpec, jwt: JwtProvider | None) -> None:
    at = _where(spec, "")
    _check_classification(spec)
    _check_backend(spec, "primary", spec.primary)
    if spec.fallback is not None:
        _check_backend(spec, "fallback", spec.fallback)
        if spec.fallback == spec.primary:
            raise ValueError(f"{at}fallback is the primary backend; name a different backend or remove it")
        pooled = [b for b in (spec.primary, spec.fallback) if isinstance(b.target, InClusterServer) and b.target.pooled]
        if pooled:
            raise ValueError(
                f"{at}fallback: an InferencePool backend ({pooled[0].model!r}) cannot share a rule with another "
                "backend in Envoy AI Gateway v1.1 (one InferencePool per rule, no mixing); remove the fallback or "
                "serve that model with one replica"
            )
    if (
        isinstance(spec.primary.target, InClusterServer)
        and spec.primary.target.pooled
        and spec.model != spec.primary.model
    ):
        raise ValueError(
            f"{at}model_name {spec.model!r} differs from the pooled server's model {spec.primary.model!r}; the "
            "endpoint picker routes on the request's own model name, so leave model_name unset"
        )
    if not spec.consumers:
        raise ValueError(f"{at}consumers is empty; name at least one consumer with its token limits")
    if len(spec.consumers) > MAX_CONSUMERS:
        raise ValueError(f"{at}consumers has {len(spec.consumers)} entries; at most {MAX_CONSUMERS} fit one policy")
    names = [c.name for c in spec.consumers]
    if len(set(names)) != len(names):
        raise ValueError(f"{at}consumers names a consumer twice; list each once")
    for consumer in spec.consumers:
        where = f"{at}consumers[{consumer.name}]"
        if object_name(consumer.name) != consumer.name:
            raise ValueError(
                f"{where}.name must be a DNS label (lowercase letters, digits, '-'); try {object_name(consumer.name)!r}"
            )
        if consumer.tokens_per_minute <= 0 or consumer.tokens_per_day <= 0:
            raise ValueError(f"{where}: tokens_per_minute and tokens_per_day must both be positive")
        if consumer.tokens_per_minute > consumer.tokens_per_day:
            raise ValueError(f"{where}.tokens_per_minute exceeds tokens_per_day; raise the daily limit")
        if consumer.auth == "jwt" and jwt is None:
            raise ValueError(f"{where}.auth is jwt but the gateway has no JWT provider; set its issuer and JWKS URI")
    if len({c.auth for c in spec.consumers}) > 1:
        raise ValueError(f"{at}consumers mixes api-key and jwt; one route authenticates one way, so pick one")


def _check_all(routes: Sequence[RouteSpec], jwt: JwtProvider | None) -> None:
    seen_use_cases: set[str] = set()
    seen_models: dict[str, str] = {}
    auth_of: dict[str, tuple[str, str]] = {}
    for spec in routes:
        _check_route(spec, jwt)
        if spec.use_case in seen_use_cases:
            raise ValueError(f"{_where(spec, 'use_case')} appears twice; give each use case one route")
        seen_use_cases.add(spec.use_case)
        if spec.model in seen_models:
            raise ValueError(
                f"{_where(spec, 'model_name')}: model {spec.model!r} is already routed for use case "
                f"{seen_models[spec.model]!r}; give one of them a distinct model_name"
            )
        seen_models[spec.model] = spec.use_case
        for consumer in spec.consumers:
            first = auth_of.setdefault(consumer.name, (consumer.auth, spec.use_case))
            if first[0] != consumer.auth:
                raise ValueError(
                    f"{_where(spec, f'consumers[{consumer.name}].auth')} is {consumer.auth} but {first[0]} in use "
                    f"case {first[1]!r}; a consumer authenticates one way"
                )


# --- rendering ------------------------------------------------------------------------------------


def _object(kind: str, namespace: str, name: str, spec: dict[str, Any], use_case: str | None = None) -> dict[str, Any]:
    labels = dict(LABELS)
    if use_case is not None:
        labels[USE_CASE_LABEL] = object_name(use_case)
    return {
        "apiVersion": API_VERSIONS[kind],
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def _target_ref(group: str, kind: str, name: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "name": name}


def _security_policy_spec(backend: Backend, credential: Credential, namespace: str) -> dict[str, Any]:
    if isinstance(credential, ApiKeyCredential):
        if backend.schema == "Anthropic":
            return {"type": "AnthropicAPIKey", "anthropicAPIKey": {"secretRef": {"name": credential.secret}}}
        return {"type": "APIKey", "apiKey": {"secretRef": {"name": credential.secret}}}
    if isinstance(credential, AwsCredential):
        return {"type": "AWSCredentials", "awsCredentials": {"region": credential.region}}
    if isinstance(credential, GcpCredential):
        return {
            "type": "GCPCredentials",
            "gcpCredentials": {"projectName": credential.project, "region": credential.region},
        }
    exchange = credential.token_exchange
    return {
        "type": "AzureCredentials",
        "azureCredentials": {
            "clientID": credential.client_id,
            "tenantID": credential.tenant_id,
            "oidcExchangeToken": {
                "oidc": {
                    "provider": {"issuer": exchange.issuer},
                    "clientID": exchange.client_id,
                    # The AI gateway reads this Secret only when its namespace is set.
                    "clientSecret": {"name": exchange.client_secret, "namespace": namespace},
                },
            },
        },
    }


def _backend_objects(backend: Backend, namespace: str) -> list[dict[str, Any]]:
    name = backend_name(backend)
    target = backend.target
    out: list[dict[str, Any]] = []
    if isinstance(target, InClusterServer) and target.pooled:
        pool = pool_name(target)
        out.append(
            _object(
                "InferencePool",
                target.namespace,
                pool,
                {
                    "selector": {"matchLabels": dict(sorted(target.selector.items()))},
                    "targetPorts": [{"number": target.target_port}],
                    "endpointPickerRef": {
                        "name": endpoint_picker_service(target),
                        "port": {"number": ENDPOINT_PICKER_PORT},
                        "failureMode": "FailClose",
                    },
                },
                backend.use_case,
            )
        )
        if backend.credential is not None:
            out.append(
                _object(
                    "BackendSecurityPolicy",
                    target.namespace,
                    object_name(pool, "upstream-auth"),
                    {
                        "targetRefs": [_target_ref("inference.networking.k8s.io", "InferencePool", pool)],
                        **_security_policy_spec(backend, backend.credential, target.namespace),
                    },
                    backend.use_case,
                )
            )
        return out
    out.append(
        _object(
            "Backend",
            namespace,
            name,
            {"endpoints": [{"fqdn": {"hostname": target.host, "port": target.port}}]},
            backend.use_case,
        )
    )
    if not isinstance(target, InClusterServer):
        out.append(
            _object(
                "BackendTLSPolicy",
                namespace,
                object_name(name, "tls"),
                {
                    "targetRefs": [_target_ref("gateway.envoyproxy.io", "Backend", name)],
                    "validation": {"wellKnownCACertificates": "System", "hostname": target.host},
                },
                backend.use_case,
            )
        )
    schema: dict[str, str] = {"name": backend.schema}
    if isinstance(target, AzureOpenAIAccount):
        schema["version"] = target.api_version
    out.append(
        _object(
            "AIServiceBackend",
            namespace,
            name,
            {"schema": schema, "backendRef": _target_ref("gateway.envoyproxy.io", "Backend", name)},
            backend.use_case,
        )
    )
    if backend.credential is not None:
        out.append(
            _object(
                "BackendSecurityPolicy",
                namespace,
                object_name(name, "upstream-auth"),
                {
                    "targetRefs": [_target_ref("aigateway.envoyproxy.io", "AIServiceBackend", name)],
                    **_security_policy_spec(backend, backend.credential, namespace),
                },
                backend.use_case,
            )
        )
    return out


def _backend_ref(spec: RouteSpec, backend: Backend, priority: int, namespace: str) -> dict[str, Any]:
    target = backend.target
    if isinstance(target, InClusterServer) and target.pooled:
        ref: dict[str, Any] = {
            "group": "inference.networking.k8s.io",
            "kind": "InferencePool",
            "name": pool_name(target),
        }
        if target.namespace != namespace:
            ref["namespace"] = target.namespace
        return ref
    ref = {"name": backend_name(backend), "priority": priority}
    if backend.model != spec.model:
        ref["modelNameOverride"] = backend.model
    return ref


def _route_objects(spec: RouteSpec, namespace: str, gateway: str, jwt: JwtProvider | None) -> list[dict[str, Any]]:
    name = route_name(spec.use_case)
    backends = [spec.primary] + ([spec.fallback] if spec.fallback is not None else [])
    route = _object(
        "AIGatewayRoute",
        namespace,
        name,
        {
            "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway}],
            "rules": [
                {
                    "matches": [{"headers": [{"type": "Exact", "name": MODEL_HEADER, "value": spec.model}]}],
                    "backendRefs": [_backend_ref(spec, b, p, namespace) for p, b in enumerate(backends)],
                    "timeouts": {"request": REQUEST_TIMEOUT},
                }
            ],
            "llmRequestCosts": [{"metadataKey": TOTAL_TOKENS_KEY, "type": "TotalToken"}],
        },
        spec.use_case,
    )
    http_route = [_target_ref("gateway.networking.k8s.io", "HTTPRoute", name)]
    consumers = sorted(spec.consumers, key=lambda c: c.name)
    auth: dict[str, Any]
    if consumers[0].auth == "api-key":
        auth = {
            "apiKeyAuth": {
                "credentialRefs": [
                    {"group": "", "kind": "Secret", "name": consumer_key_secret(c.name)} for c in consumers
                ],
                "extractFrom": [{"headers": ["Authorization"]}],
                "forwardClientIDHeader": CLIENT_ID_HEADER,
                "sanitize": True,
            }
        }
    else:
        assert jwt is not None
        provider: dict[str, Any] = {
            "name": jwt.name,
            "issuer": jwt.issuer,
            "remoteJWKS": {"uri": jwt.jwks_uri},
            "claimToHeaders": [{"claim": jwt.client_id_claim, "header": CLIENT_ID_HEADER}],
        }
        if jwt.audiences:
            provider["audiences"] = sorted(jwt.audiences)
        auth = {
            "jwt": {"providers": [provider]},
            "authorization": {
                "defaultAction": "Deny",
                "rules": [
                    {
                        "name": "consumers",
                        "action": "Allow",
                        "principal": {
                            "jwt": {
                                "provider": jwt.name,
                                "claims": [{"name": jwt.client_id_claim, "values": [c.name for c in consumers]}],
                            }
                        },
                    }
                ],
            },
        }
    security = _object(
        "SecurityPolicy", namespace, object_name(name, "auth"), {"targetRefs": http_route, **auth}, spec.use_case
    )
    rules = []
    for consumer in consumers:
        for unit, limit in (("Minute", consumer.tokens_per_minute), ("Day", consumer.tokens_per_day)):
            rules.append(
                {
                    "clientSelectors": [
                        {"headers": [{"name": CLIENT_ID_HEADER, "type": "Exact", "value": consumer.name}]}
                    ],
                    "limit": {"requests": limit, "unit": unit},
                    "cost": {
                        # Zero on the way in (only checks the budget), the total tokens on the way out.
                        "request": {"from": "Number", "number": 0},
                        "response": {
                            "from": "Metadata",
                            "metadata": {"namespace": COST_NAMESPACE, "key": TOTAL_TOKENS_KEY},
                        },
                    },
                }
            )
    traffic: dict[str, Any] = {"targetRefs": http_route, "rateLimit": {"type": "Global", "global": {"rules": rules}}}
    if spec.fallback is not None:
        traffic["retry"] = {
            "numRetries": 1,
            "numAttemptsPerPriority": 1,
            "retryOn": {
                "triggers": ["connect-failure", "reset", "retriable-status-codes"],
                "httpStatusCodes": [429, 500, 502, 503, 504],
            },
            "perRetry": {"backOff": {"baseInterval": "100ms", "maxInterval": "1s"}},
        }
    limits = _object("BackendTrafficPolicy", namespace, object_name(name, "limits"), traffic, spec.use_case)
    return [route, security, limits]


def _reference_grants(backends: Iterable[Backend], namespace: str, gateway: str) -> list[dict[str, Any]]:
    pools: dict[str, set[str]] = {}
    for backend in backends:
        target = backend.target
        if isinstance(target, InClusterServer) and target.pooled and target.namespace != namespace:
            pools.setdefault(target.namespace, set()).add(pool_name(target))
    return [
        _object(
            "ReferenceGrant",
            pool_namespace,
            object_name(gateway, namespace, "routes"),
            {
                "from": [
                    {"group": "aigateway.envoyproxy.io", "kind": "AIGatewayRoute", "namespace": namespace},
                    {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": namespace},
                ],
                "to": [
                    {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": p} for p in sorted(names)
                ],
            },
        )
        for pool_namespace, names in sorted(pools.items())
    ]


def _sort_key(obj: Mapping[str, Any]) -> tuple[int, str, str]:
    meta = obj["metadata"]
    return ORDER.index(obj["kind"]), meta["namespace"], meta["name"]


def render(
    namespace: str,
    gateway: str,
    routes: Sequence[RouteSpec],
    jwt: JwtProvider | None = None,
    labels: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every routing object for the Gateway `namespace/gateway`, referenced objects first, labelled
    with `labels` (the environment's Kubernetes labels) under their own use case and classification.

    Raises ValueError (naming the use case, the field and the fix) for a route that would break its
    classification or that the gateway could not serve."""
    for field_name, value in (("namespace", namespace), ("gateway", gateway)):
        if object_name(value) != value:
            raise ValueError(f"gateway routes: {field_name} {value!r} is not a DNS label; try {object_name(value)!r}")
    _check_all(routes, jwt)
    backends: list[Backend] = []
    for spec in routes:
        for backend in (spec.primary, spec.fallback):
            if backend is not None and backend not in backends:
                backends.append(backend)
    objects: list[dict[str, Any]] = []
    for backend in backends:
        objects.extend(_backend_objects(backend, namespace))
    objects.extend(_reference_grants(backends, namespace, gateway))
    for spec in routes:
        objects.extend(_route_objects(spec, namespace, gateway, jwt))
    objects.append(
        _object(
            "ClientTrafficPolicy",
            namespace,
            object_name(gateway, "client-id"),
            {
                "targetRefs": [_target_ref("gateway.networking.k8s.io", "Gateway", gateway)],
                "headers": {"earlyRequestHeaders": {"remove": [CLIENT_ID_HEADER]}},
            },
        )
    )
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        key = (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])
        if key in seen:
            raise ValueError(
                f"gateway routes: two objects would both be {key[0]} {key[1]}/{key[2]}; give the backends or use "
                "cases names that differ in more than punctuation"
            )
        seen.add(key)
    classification = {object_name(r.use_case): r.classification for r in routes}
    for obj in objects:
        own = obj["metadata"]["labels"]
        merged = {**dict(labels or {}), **own}
        if own.get(USE_CASE_LABEL) in classification:
            merged[CLASSIFICATION_LABEL] = classification[own[USE_CASE_LABEL]]
        obj["metadata"]["labels"] = dict(sorted(merged.items()))
    return sorted(objects, key=_sort_key)


@dataclass(frozen=True)
class SecretNeed:
    """A Secret the rendered objects reference: created elsewhere, from secret config, before them."""

    namespace: str
    name: str
    key: str
    purpose: str


def secret_needs(namespace: str, routes: Sequence[RouteSpec]) -> list[SecretNeed]:
    """Every Secret (namespace, name, key) that `render(namespace, ...)` references, sorted."""
    needs: set[SecretNeed] = set()
    for spec in routes:
        for consumer in spec.consumers:
            if consumer.auth == "api-key":
                needs.add(SecretNeed(namespace, consumer_key_secret(consumer.name), consumer.name, "consumer API key"))
        for backend in (spec.primary, spec.fallback):
            if backend is None:
                continue
            credential, target = backend.credential, backend.target
            where = target.namespace if isinstance(target, InClusterServer) and target.pooled else namespace
            if isinstance(credential, ApiKeyCredential):
                needs.add(
                    SecretNeed(where, credential.secret, UPSTREAM_KEY_FIELD, f"upstream API key of {backend.model}")
                )
            elif isinstance(credential, AzureCredential):
                needs.add(
                    SecretNeed(
                        namespace,
                        credential.token_exchange.client_secret,
                        OIDC_SECRET_FIELD,
                        "token-exchange client secret",
                    )
                )
    return sorted(needs, key=lambda n: (n.namespace, n.name, n.key))


# --- following the objects as the gateway does ----------------------------------------------------


class ResolutionError(LookupError):
    """A request the gateway would refuse (the message says why and with which status)."""


@dataclass(frozen=True)
class Resolution:
    backend: str
    """The AIServiceBackend (or InferencePool) the request goes to."""
    schema: str
    upstream: str
    """Where the gateway connects: `host:port`, or `InferencePool <namespace>/<name>`."""
    tls: bool
    credential_type: str
    """The BackendSecurityPolicy's type, or `none`."""
    tokens_per_minute: int
    tokens_per_day: int
    fallback: Resolution | None = None


class _Index:
    def __init__(self, objects: Iterable[Mapping[str, Any]]) -> None:
        self.objects = list(objects)

    def of(self, kind: str) -> list[Mapping[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, namespace: str, name: str) -> Mapping[str, Any]:
        for obj in self.of(kind):
            if obj["metadata"]["namespace"] == namespace and obj["metadata"]["name"] == name:
                return obj
        raise ResolutionError(f"{kind} {namespace}/{name} is referenced but not rendered")

    def targeting(self, kind: str, namespace: str, group: str, target_kind: str, name: str) -> list[Mapping[str, Any]]:
        return [
            o
            for o in self.of(kind)
            if o["metadata"]["namespace"] == namespace
            and {"group": group, "kind": target_kind, "name": name} in o["spec"].get("targetRefs", [])
        ]


def _client_header(policy: Mapping[str, Any], client_id: str) -> str:
    """The header the SecurityPolicy forwards the client ID in, if it lets `client_id` through."""
    spec = policy["spec"]
    if "apiKeyAuth" in spec:
        refs = {r["name"] for r in spec["apiKeyAuth"]["credentialRefs"]}
        if consumer_key_secret(client_id) not in refs:
            raise ResolutionError(
                f"401: no API key of {client_id!r} is accepted by SecurityPolicy {policy['metadata']['name']}"
            )
        return spec["apiKeyAuth"]["forwardClientIDHeader"]
    providers = spec["jwt"]["providers"]
    authorization = spec.get("authorization", {})
    allowed = False
    for rule in authorization.get("rules", []):
        claims = rule["principal"]["jwt"]["claims"]
        if rule["action"] == "Allow" and any(client_id in claim["values"] for claim in claims):
            allowed = True
    if not allowed and authorization.get("defaultAction") != "Allow":
        raise ResolutionError(
            f"403: {client_id!r} is not among the consumers SecurityPolicy {policy['metadata']['name']} allows"
        )
    return providers[0]["claimToHeaders"][0]["header"]


def _limits(traffic: Mapping[str, Any], header: str, client_id: str, cost_key: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for rule in traffic["spec"]["rateLimit"]["global"]["rules"]:
        selects = any(
            h == {"name": header, "type": "Exact", "value": client_id}
            for selector in rule["clientSelectors"]
            for h in selector["headers"]
        )
        response = rule["cost"]["response"]
        counts_tokens = response["from"] == "Metadata" and response["metadata"] == {
            "namespace": COST_NAMESPACE,
            "key": cost_key,
        }
        if selects and counts_tokens:
            found[rule["limit"]["unit"]] = rule["limit"]["requests"]
    return found


def _resolve_backend(ref: Mapping[str, Any], namespace: str, index: _Index, limits: dict[str, int]) -> Resolution:
    if ref.get("kind") == "InferencePool":
        pool_namespace = ref.get("namespace", namespace)
        pool = index.get("InferencePool", pool_namespace, ref["name"])
        policies = index.targeting(
            "BackendSecurityPolicy", pool_namespace, "inference.networking.k8s.io", "InferencePool", ref["name"]
        )
        return Resolution(
            backend=pool["metadata"]["name"],
            schema="OpenAI",
            upstream=f"InferencePool {pool_namespace}/{ref['name']}",
            tls=False,
            credential_type=policies[0]["spec"]["type"] if policies else "none",
            tokens_per_minute=limits["Minute"],
            tokens_per_day=limits["Day"],
        )
    service = index.get("AIServiceBackend", namespace, ref["name"])
    eg_backend = index.get("Backend", namespace, service["spec"]["backendRef"]["name"])
    fqdn = eg_backend["spec"]["endpoints"][0]["fqdn"]
    tls = any(
        p["spec"]["validation"]["hostname"] == fqdn["hostname"]
        for p in index.targeting(
            "BackendTLSPolicy", namespace, "gateway.envoyproxy.io", "Backend", eg_backend["metadata"]["name"]
        )
    )
    policies = index.targeting(
        "BackendSecurityPolicy", namespace, "aigateway.envoyproxy.io", "AIServiceBackend", ref["name"]
    )
    return Resolution(
        backend=ref["name"],
        schema=service["spec"]["schema"]["name"],
        upstream=f"{fqdn['hostname']}:{fqdn['port']}",
        tls=tls,
        credential_type=policies[0]["spec"]["type"] if policies else "none",
        tokens_per_minute=limits["Minute"],
        tokens_per_day=limits["Day"],
    )


def resolve(objects: Iterable[Mapping[str, Any]], consumer: str | Consumer, model: str) -> Resolution:
    """Where the gateway sends `consumer`'s request for `model`, read only from rendered objects:
    the route whose rule matches the model header, the SecurityPolicy that admits the consumer and
    names its client-ID header, the rate-limit rules keyed on that header's value, and the backend
    (and fallback) with its upstream credential. Raises ResolutionError where the gateway refuses."""
    client_id = consumer.name if isinstance(consumer, Consumer) else consumer
    index = _Index(objects)
    matches = [
        (route, rule)
        for route in index.of("AIGatewayRoute")
        for rule in route["spec"]["rules"]
        if any(
            {"type": "Exact", "name": MODEL_HEADER, "value": model} in m.get("headers", [])
            for m in rule.get("matches", [])
        )
    ]
    if len(matches) != 1:
        raise ResolutionError(f"404: {len(matches)} routes match model {model!r}")
    route, rule = matches[0]
    namespace, name = route["metadata"]["namespace"], route["metadata"]["name"]
    policies = index.targeting("SecurityPolicy", namespace, "gateway.networking.k8s.io", "HTTPRoute", name)
    if len(policies) != 1:
        raise ResolutionError(f"route {name} has {len(policies)} SecurityPolicies; it needs exactly one")
    header = _client_header(policies[0], client_id)
    cost_keys = [c["metadataKey"] for c in route["spec"].get("llmRequestCosts", []) if c["type"] == "TotalToken"]
    traffic = index.targeting("BackendTrafficPolicy", namespace, "gateway.networking.k8s.io", "HTTPRoute", name)
    if not cost_keys or len(traffic) != 1:
        raise ResolutionError(f"route {name} records no total-token cost or has no single BackendTrafficPolicy")
    limits = _limits(traffic[0], header, client_id, cost_keys[0])
    if set(limits) != {"Minute", "Day"}:
        raise ResolutionError(f"{client_id!r} has no per-minute and per-day token limit on route {name}")
    refs = sorted(rule["backendRefs"], key=lambda r: r.get("priority", 0))
    resolved = [_resolve_backend(ref, namespace, index, limits) for ref in refs]
    primary = resolved[0]
    if len(resolved) > 1:
        return dataclasses.replace(primary, fallback=resolved[1])
    return primary
