"""The AI gateway: one private, OpenAI-compatible endpoint per environment, in front of every use case.

`gateway:` places Envoy AI Gateway on one cluster of the environment; each use case then names its
`consumers` (applications or teams), each with an API key or a JWT from the company's identity
provider and a token budget per minute and per day, and may name a `fallback` use case. The checks
here refuse, before anything runs, what the gateway could not serve safely: a backend it cannot reach
privately or without a static cloud key, a fallback that breaks the classification rule, a consumer
without a way to authenticate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, HttpUrl, model_validator

from triplane.policies.taxonomy import ALLOWED_PATTERNS
from triplane.stacks.spec.base import CLASSIFICATION_RANK, ConfigKey, Name, SpecModel

if TYPE_CHECKING:
    from triplane.stacks.spec.clusters import KubernetesCluster
    from triplane.stacks.spec.environment import Environment
    from triplane.stacks.spec.use_case import UseCaseBase


class GatewayConsumer(SpecModel):
    """An application or team calling a use case through the gateway, and what it may spend."""

    name: Name = Field(description="The client ID: the API key's owner, or the JWT's client-ID claim value.")
    auth: Literal["api-key", "jwt"] = Field(
        default="api-key",
        description="`api-key`: a key kept in stack config (`key_secret`), sent as `Authorization: Bearer <key>`. "
        "`jwt`: a token from the company's identity provider (`gateway.identity_provider`).",
    )
    key_secret: ConfigKey | None = Field(
        default=None,
        description="api-key: the stack config key holding the consumer's key (`pulumi config set --secret "
        "triplane:<key>`).",
    )
    tokens_per_minute: int = Field(ge=1, le=10**9, description="Input plus output tokens per minute; over it, 429.")
    tokens_per_day: int = Field(ge=1, le=10**12, description="Input plus output tokens per day; over it, 429.")

    @model_validator(mode="after")
    def _consistent(self) -> GatewayConsumer:
        if self.auth == "api-key" and self.key_secret is None:
            raise ValueError(
                f"key_secret: consumer {self.name!r} authenticates with an API key; name the stack config key "
                "that holds it (e.g. key_secret: supportAppGatewayKey)"
            )
        if self.auth == "jwt" and self.key_secret is not None:
            raise ValueError(f"key_secret: consumer {self.name!r} authenticates with a JWT; remove key_secret")
        if self.tokens_per_minute > self.tokens_per_day:
            raise ValueError(
                f"tokens_per_minute: {self.tokens_per_minute} is more than tokens_per_day ({self.tokens_per_day})"
            )
        return self


class GatewayTls(SpecModel):
    certificate_secret: ConfigKey = Field(description="Stack config key holding the PEM certificate chain.")
    key_secret: ConfigKey = Field(description="Stack config key holding the PEM private key.")


class IdentityProvider(SpecModel):
    """The company's OpenID Connect provider, for consumers that authenticate with JWTs."""

    issuer: HttpUrl
    jwks_uri: HttpUrl
    audiences: list[str] = Field(default_factory=list, description="Accepted `aud` values; any when empty.")
    client_id_claim: str = Field(
        default="client_id", pattern=r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$", description="The claim naming the consumer."
    )


class AIGateway(SpecModel):
    cluster: Name = Field(description="The cluster (under `kubernetes`) the gateway runs on, on its system nodes.")
    hostname: str = Field(
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="The name applications call (https://<hostname>/v1/...), in your private DNS zone.",
    )
    tls: GatewayTls
    identity_provider: IdentityProvider | None = None


GATEWAY_PROVIDERS = ("openai", "mistral", "anthropic", "cohere")
"""SaaS providers whose API the gateway speaks (`stacks.gateway.SAAS_SCHEMAS`)."""

BACKEND_CLOUD = {"bedrock": "aws", "vertex": "gcp"}
"""Managed services the gateway calls with its own workload identity, and the cloud whose cluster
identity that is (EKS Pod Identity, GKE Workload Identity)."""


def gateway_cloud(environment: Environment) -> str | None:
    """The cloud of the cluster the gateway runs on (None: an existing cluster of no declared cloud)."""
    gateway = environment.gateway
    assert gateway is not None
    cluster = environment.cluster(gateway.cluster)
    return cluster.new.cloud if cluster.new is not None else (cluster.existing.cloud if cluster.existing else None)


def backend_problem(environment: Environment, use_case: UseCaseBase) -> str | None:
    """Why the gateway cannot serve `use_case` privately and without a static cloud key (None: it can)."""
    from triplane.stacks.spec.cloud_managed import CloudManagedUseCase
    from triplane.stacks.spec.saas import SaasUseCase
    from triplane.stacks.spec.self_managed import SelfManagedUseCase

    gateway = environment.gateway
    assert gateway is not None
    cloud = gateway_cloud(environment)
    if isinstance(use_case, SelfManagedUseCase):
        if use_case.cluster != gateway.cluster:
            return (
                f"the gateway runs on {gateway.cluster!r} and reaches self-managed servers on that cluster; serve "
                f"this use case on {gateway.cluster!r}, or move the gateway"
            )
        return None
    if isinstance(use_case, SaasUseCase):
        if use_case.key_rotation == "external":
            return (
                "the gateway's copy of the provider key is written from stack config, so a key rotated outside "
                "Pulumi (`key_rotation: external`) would go stale there; rotate it with `pulumi config set`, or "
                "call the provider directly"
            )
        if use_case.provider not in GATEWAY_PROVIDERS:
            return (
                f"the gateway speaks the OpenAI, Anthropic and Cohere APIs (and Mistral's OpenAI-compatible one), not "
                f"{use_case.provider}'s; call it directly"
            )
        if use_case.cloud != cloud:
            return (
                f"the gateway reaches SaaS providers through the egress firewall of its own network ({cloud}); set "
                f"`cloud: {cloud}` so the provider's hosts are allowed there"
            )
        return None
    assert isinstance(use_case, CloudManagedUseCase)
    if use_case.service == "azure-openai":
        return (
            "Envoy AI Gateway v1.1 authenticates to Azure OpenAI only with an Entra client secret or an identity "
            "provider's client secret (no workload identity), and Triplane puts no static credential in the "
            "gateway; call it directly (its `endpoints` entry), or serve the model on Bedrock or Vertex AI"
        )
    if use_case.service == "bedrock" and use_case.bedrock_settings.guardrail is not None:
        return (
            "its invoke policy requires every request to name the use case's guardrail, and the gateway's Bedrock "
            "requests name none; call it directly, or remove the guardrail"
        )
    wanted = BACKEND_CLOUD[use_case.service]
    if wanted != cloud:
        return (
            f"the gateway calls {use_case.service} with its cluster's workload identity, which only a {wanted} "
            f"cluster has (the gateway runs on {gateway.cluster!r}, {cloud}); put the gateway on the {wanted} cluster"
        )
    return None


def environment_problems(environment: Environment) -> list[str]:
    """The gateway's checks across use cases, as `field.path: message` lines."""
    gateway = environment.gateway
    problems: list[str] = []
    names = {u.name: u for u in environment.use_cases}
    consumers: dict[str, tuple[str, str | None, str]] = {}
    for i, use_case in enumerate(environment.use_cases):
        where = f"use_cases[{i}]"
        if gateway is None:
            if use_case.consumers or use_case.fallback:
                field = "consumers" if use_case.consumers else "fallback"
                problems.append(f"{where}.{field}: only used with a `gateway`; add one, or remove {field}")
            continue
        if not use_case.consumers:
            problems.append(
                f"{where}.consumers: with a gateway, every use case names who calls it and what they may spend, e.g. "
                "consumers: [{name: support-app, key_secret: supportAppGatewayKey, tokens_per_minute: 20000, "
                "tokens_per_day: 2000000}]"
            )
        problem = backend_problem(environment, use_case)
        if problem is not None:
            problems.append(f"{where}: {problem}")
        for j, consumer in enumerate(use_case.consumers):
            if consumer.auth == "jwt" and gateway.identity_provider is None:
                problems.append(
                    f"{where}.consumers[{j}].auth: jwt needs `gateway.identity_provider` (issuer and JWKS URI)"
                )
            seen = consumers.setdefault(consumer.name, (consumer.auth, consumer.key_secret, where))
            if seen[:2] != (consumer.auth, consumer.key_secret):
                problems.append(
                    f"{where}.consumers[{j}]: consumer {consumer.name!r} authenticates differently in {seen[2]}; one "
                    "consumer has one way in (the same `auth` and `key_secret` in every use case it calls)"
                )
        fallback = use_case.fallback
        if fallback is None:
            continue
        other = names.get(fallback)
        if other is None or other is use_case:
            known = ", ".join(sorted(n for n in names if n != use_case.name)) or "none"
            problems.append(f"{where}.fallback: names no other use case of this stack ({known})")
            continue
        pattern = str(getattr(other, "pattern", ""))
        classification = use_case.data_classification
        if classification == "restricted" or pattern not in ALLOWED_PATTERNS[classification]:
            problems.append(
                f"{where}.fallback: {use_case.data_classification} data may not go to {fallback!r} "
                f"({pattern}); restricted data stays on its own self-managed server and confidential data never "
                "goes to SaaS: remove the fallback, or name a use case of a pattern this classification allows"
            )
        elif CLASSIFICATION_RANK[other.data_classification] < CLASSIFICATION_RANK[use_case.data_classification]:
            problems.append(
                f"{where}.fallback: {fallback!r} is cleared for {other.data_classification} data, less than this "
                f"use case's {use_case.data_classification}; name a fallback cleared for it"
            )
    return problems


def host_problem(cluster: KubernetesCluster) -> str | None:
    """Why a cluster cannot host the gateway's private listener (None: it can)."""
    existing = cluster.existing
    if existing is not None and existing.cloud is None and not existing.load_balancer_annotations:
        return (
            f"{cluster.name!r} is an existing cluster of no declared cloud, so Triplane cannot make the gateway's "
            "load balancer internal; set its `cloud` or `load_balancer_annotations`"
        )
    return None
