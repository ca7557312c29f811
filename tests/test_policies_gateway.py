"""The AI gateway policies on what the routing renderer produces: each passes on `routes.render` output
turned into plan resources, and fails, naming the route and the fix, when an object is taken away or
edited the way a hand-written route could be (the renderer itself refuses such routes)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from triplane.components.gateway.install import GATEWAY_CLASS as INSTALL_GATEWAY_CLASS
from triplane.components.gateway.routes import (
    COST_NAMESPACE as ROUTES_COST_NAMESPACE,
)
from triplane.components.gateway.routes import (
    ApiKeyCredential,
    AwsCredential,
    Backend,
    BedrockRuntime,
    Consumer,
    InClusterServer,
    JwtProvider,
    RouteSpec,
    SaasHost,
    consumer_key_secret,
    render,
)
from triplane.policies.ai_gateway import COST_NAMESPACE, GATEWAY_CLASS, POLICIES
from triplane.policies.common import Res, checking_stack
from triplane.policies.packs import POLICIES as PACK

NS = "ai-gateway"
GATEWAY = "ai-gateway"
JWT = JwtProvider("corp-idp", "https://login.example.com/realms/corp", "https://login.example.com/certs", (), "azp")
OPENAI = Backend("chat", "gpt-4o-mini", "OpenAI", SaasHost("api.openai.com"), ApiKeyCredential("openai-api-key"))
BEDROCK = Backend(
    "claims", "anthropic.claude-3-haiku-20240307-v1:0", "AWSBedrock", BedrockRuntime("eu-central-1"),
    AwsCredential("eu-central-1"),
)  # fmt: skip
NOTES = Backend("notes", "meta-llama/Llama-3.1-8B-Instruct", "OpenAI", InClusterServer("notes-vllm", "uc-notes", 80))
TRIAGE = Backend(
    "triage", "mistralai/Mistral-7B-Instruct-v0.3", "OpenAI",
    InClusterServer("triage-tgi", "uc-triage", 80, replicas=2, selector={"app": "triage-tgi"}, target_port=8080),
)  # fmt: skip
ROUTES = (
    RouteSpec("chat", "internal", OPENAI, (Consumer("web-app", "api-key", 20_000, 2_000_000),
                                           Consumer("support-bot", "api-key", 5_000, 300_000))),
    RouteSpec("claims", "confidential", BEDROCK, (Consumer("claims-app", "jwt", 10_000, 1_000_000),)),
    RouteSpec("notes", "restricted", NOTES, (Consumer("notes-app", "api-key", 4_000, 200_000),)),
    RouteSpec("triage", "restricted", TRIAGE, (Consumer("triage-app", "api-key", 12_000, 600_000),)),
)  # fmt: skip
ENVIRONMENT = {
    "name": "ts",
    "gateway": {"cluster": "gpu", "hostname": "ai.internal.example.com"},
    "use_cases": [
        {"name": "chat", "data_classification": "internal"},
        {"name": "claims", "data_classification": "confidential"},
        {"name": "notes", "data_classification": "restricted"},
        {"name": "triage", "data_classification": "restricted"},
    ],
}
BY_NAME = {p.name: p for p in POLICIES}


def _res(body: Mapping[str, Any]) -> Res:
    api = "core/v1" if body["apiVersion"] == "v1" else body["apiVersion"]
    type_ = f"kubernetes:{api}:{body['kind']}"
    name = f"ts-{body['kind'].lower()}-{body['metadata']['name']}"
    return Res(type=type_, name=name, urn=f"urn:pulumi:ts::triplane::{type_}::{name}", props=copy.deepcopy(dict(body)))


def _gateway(class_name: str = GATEWAY_CLASS) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": GATEWAY, "namespace": NS},
        "spec": {"gatewayClassName": class_name, "listeners": []},
    }


def _key_secret(consumer: str, *client_ids: str) -> dict[str, Any]:
    """A consumer's API-key Secret as the engine shows it (secrets unwrapped): client ID -> key."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": consumer_key_secret(consumer), "namespace": NS},
        "stringData": {c: f"key-of-{c}" for c in client_ids or (consumer,)},
    }


def _objects() -> list[dict[str, Any]]:
    secrets = [_key_secret(c.name) for r in ROUTES for c in r.consumers if c.auth == "api-key"]
    return [_gateway(), *render(NS, GATEWAY, ROUTES, JWT), *secrets]


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def findings(policy: str, objects: list[dict[str, Any]], environment: dict[str, Any] | None = ENVIRONMENT) -> list[str]:
    found: list[str] = []
    with checking_stack("ts", {"triplane:environment": environment} if environment is not None else None):
        BY_NAME[policy].run_stack([_res(o) for o in objects], {}, lambda message, _urn: found.append(message))
    return found


def test_the_policies_are_in_the_pack_and_mandatory() -> None:
    assert {p.name for p in POLICIES} <= {p.name for p in PACK}
    assert all(p.meta.enforcement.value == "mandatory" for p in POLICIES)
    # The pack keeps its own copies of the gateway's names; they must be the installer's and renderer's.
    assert (GATEWAY_CLASS, COST_NAMESPACE) == (INSTALL_GATEWAY_CLASS, ROUTES_COST_NAMESPACE)


@pytest.mark.parametrize("policy", sorted(BY_NAME))
def test_rendered_routes_pass(policy: str) -> None:
    assert findings(policy, _objects()) == []


# --- gateway-routes-authenticated-and-limited ------------------------------------------------------

LIMITED = "gateway-routes-authenticated-and-limited"


def test_a_route_without_its_security_policy_is_open() -> None:
    objects = [o for o in _objects() if o["metadata"]["name"] != "chat-auth"]
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/chat is open to anyone who reaches the gateway")
    assert "fix: add one in ai-gateway" in message


def test_a_security_policy_without_authentication_does_not_count() -> None:
    objects = _objects()
    del _one(objects, "SecurityPolicy", "claims-auth")["spec"]["jwt"]
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/claims is open to anyone")


def test_a_security_policy_on_another_route_does_not_count() -> None:
    objects = _objects()
    _one(objects, "SecurityPolicy", "notes-auth")["spec"]["targetRefs"][0]["name"] = "chat"
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/notes is open to anyone")


def test_a_route_without_its_rate_limit_has_no_token_limit() -> None:
    objects = [o for o in _objects() if o["metadata"]["name"] != "triage-limits"]
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/triage has no token limit")
    assert "x-triplane-client-id" in message


def test_a_local_rate_limit_is_not_a_token_budget() -> None:
    objects = _objects()
    _one(objects, "BackendTrafficPolicy", "chat-limits")["spec"]["rateLimit"]["type"] = "Local"
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/chat has no token limit")


def test_rules_that_count_requests_are_refused() -> None:
    objects = _objects()
    rules = _one(objects, "BackendTrafficPolicy", "chat-limits")["spec"]["rateLimit"]["global"]["rules"]
    rules[1]["cost"]["response"] = {"from": "Number", "number": 1}
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/chat: rate-limit rules [1] count requests, not tokens")
    assert f"namespace: {COST_NAMESPACE}, key: llm_total_token" in message


def test_a_route_that_records_no_token_cost_is_refused() -> None:
    objects = _objects()
    del _one(objects, "AIGatewayRoute", "notes")["spec"]["llmRequestCosts"]
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/notes records no token cost")


def test_an_admitted_api_key_client_without_a_rule_is_unlimited() -> None:
    objects = [o for o in _objects() if o["metadata"]["name"] != consumer_key_secret("web-app")]
    objects.append(_key_secret("web-app", "web-app", "batch-job"))
    [message] = findings(LIMITED, objects)
    assert message == (
        "AIGatewayRoute ai-gateway/chat: consumers ['batch-job'] are admitted but have no token limit; fix: add rules "
        "selecting x-triplane-client-id: <client> with a per-minute and per-day token limit for each"
    )


def test_an_allowed_jwt_client_without_a_rule_is_unlimited() -> None:
    objects = _objects()
    rule = _one(objects, "SecurityPolicy", "claims-auth")["spec"]["authorization"]["rules"][0]
    rule["principal"]["jwt"]["claims"][0]["values"].append("reporting")
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/claims: consumers ['reporting'] are admitted")


def test_rules_on_another_header_tell_no_consumer_apart() -> None:
    objects = _objects()
    for rule in _one(objects, "BackendTrafficPolicy", "notes-limits")["spec"]["rateLimit"]["global"]["rules"]:
        rule["clientSelectors"][0]["headers"][0]["name"] = "x-user"
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/notes: no rate-limit rule selects clients by the "
                              "x-triplane-client-id header")


def test_a_distinct_rule_limits_every_client() -> None:
    objects = [o for o in _objects() if o["metadata"]["name"] != consumer_key_secret("web-app")]
    objects.append(_key_secret("web-app", "web-app", "batch-job"))
    rules = _one(objects, "BackendTrafficPolicy", "chat-limits")["spec"]["rateLimit"]["global"]["rules"]
    rules.append({**copy.deepcopy(rules[0]), "clientSelectors": [
        {"headers": [{"name": "x-triplane-client-id", "type": "Distinct"}]}]})
    assert findings(LIMITED, objects) == []


def test_a_security_policy_that_forwards_no_client_id_is_refused() -> None:
    objects = _objects()
    del _one(objects, "SecurityPolicy", "triage-auth")["spec"]["apiKeyAuth"]["forwardClientIDHeader"]
    [message] = findings(LIMITED, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/triage: SecurityPolicy triage-auth forwards no client ID")


# --- gateway-route-per-use-case ------------------------------------------------------------------------

PER_USE_CASE = "gateway-route-per-use-case"


def test_a_use_case_without_a_route_is_named() -> None:
    environment = {**ENVIRONMENT, "use_cases": [*ENVIRONMENT["use_cases"], {"name": "summaries"}]}
    [message] = findings(PER_USE_CASE, _objects(), environment)
    assert message.startswith("use case 'summaries' has no AIGatewayRoute labelled triplane.io/use-case: summaries")


def test_a_route_without_its_use_case_label_does_not_count() -> None:
    objects = _objects()
    del _one(objects, "AIGatewayRoute", "notes")["metadata"]["labels"]["triplane.io/use-case"]
    [message] = findings(PER_USE_CASE, objects)
    assert message.startswith("use case 'notes' has no AIGatewayRoute")


@pytest.mark.parametrize("gateway_class", [GATEWAY_CLASS, None])
def test_the_gateway_is_found_in_the_plan_or_the_stack_setting(gateway_class: str | None) -> None:
    environment = {**ENVIRONMENT, "gateway": None if gateway_class else ENVIRONMENT["gateway"]}
    objects = [_gateway(gateway_class)] if gateway_class else []
    assert len(findings(PER_USE_CASE, objects, environment)) == 4


def test_without_a_gateway_no_route_is_needed() -> None:
    environment = {**ENVIRONMENT, "gateway": None}
    assert findings(PER_USE_CASE, [_gateway("some-other-class")], environment) == []


# --- gateway-route-classification ----------------------------------------------------------------------

CLASSIFICATION = "gateway-route-classification"


def _point(objects: list[dict[str, Any]], route: str, ref: dict[str, Any]) -> None:
    _one(objects, "AIGatewayRoute", route)["spec"]["rules"][0]["backendRefs"] = [ref]


def _backend_of(objects: list[dict[str, Any]], use_case: str) -> str:
    return next(o["metadata"]["name"] for o in objects if o["kind"] == "AIServiceBackend"
                and o["metadata"]["labels"]["triplane.io/use-case"] == use_case)


def test_a_restricted_route_to_saas_is_refused() -> None:
    objects = _objects()
    _point(objects, "notes", {"name": _backend_of(objects, "chat"), "priority": 0})
    [message] = findings(CLASSIFICATION, objects)
    assert message.startswith(
        "AIGatewayRoute ai-gateway/notes (restricted) rules[0] sends requests to AIServiceBackend "
        f"ai-gateway/{_backend_of(objects, 'chat')} (OpenAI at api.openai.com), which is not a self-managed server"
    )
    assert "fix: route it to the use case's own InferencePool or in-cluster Service only" in message


def test_a_restricted_route_to_a_cloud_service_is_refused() -> None:
    objects = _objects()
    _point(objects, "triage", {"name": _backend_of(objects, "claims"), "priority": 0})
    [message] = findings(CLASSIFICATION, objects)
    assert "(AWSBedrock at bedrock-runtime.eu-central-1.amazonaws.com), which is not a self-managed" in message


def test_a_restricted_fallback_to_saas_is_refused() -> None:
    objects = _objects()
    rule = _one(objects, "AIGatewayRoute", "notes")["spec"]["rules"][0]
    rule["backendRefs"].append({"name": _backend_of(objects, "chat"), "priority": 1})
    [message] = findings(CLASSIFICATION, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/notes (restricted) rules[0] sends requests to")


def test_a_restricted_route_to_a_backend_the_plan_lacks_is_refused() -> None:
    objects = _objects()
    _point(objects, "notes", {"name": "somewhere", "priority": 0})
    [message] = findings(CLASSIFICATION, objects)
    assert "AIServiceBackend ai-gateway/somewhere, which the plan does not render" in message


def test_a_confidential_route_to_saas_is_refused() -> None:
    objects = _objects()
    _point(objects, "claims", {"name": _backend_of(objects, "chat"), "priority": 0})
    [message] = findings(CLASSIFICATION, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/claims (confidential) rules[0] sends requests to")
    assert "confidential data never goes to SaaS" in message


def test_a_confidential_route_to_a_self_managed_server_passes() -> None:
    objects = _objects()
    _point(objects, "claims", {"name": _backend_of(objects, "notes"), "priority": 0})
    assert findings(CLASSIFICATION, objects) == []


def test_a_saas_schema_in_the_cluster_is_self_managed() -> None:
    """An in-cluster server speaking OpenAI's API is not OpenAI: restricted data may go there."""
    objects = _objects()
    assert _one(objects, "AIServiceBackend", _backend_of(objects, "notes"))["spec"]["schema"]["name"] == "OpenAI"
    assert findings(CLASSIFICATION, objects) == []


def test_the_classification_comes_from_the_stack_setting_when_the_label_is_missing() -> None:
    objects = _objects()
    del _one(objects, "AIGatewayRoute", "notes")["metadata"]["labels"]["triplane.io/data-classification"]
    _point(objects, "notes", {"name": _backend_of(objects, "chat"), "priority": 0})
    [message] = findings(CLASSIFICATION, objects)
    assert message.startswith("AIGatewayRoute ai-gateway/notes (restricted)")
    assert findings(CLASSIFICATION, objects, environment=None) == []


# --- the gateway's own pods ------------------------------------------------------------------------------


def _redis_violations(uid: int | None = None) -> list[str]:
    """Every Kubernetes policy's finding on the gateway's Redis Deployment (at `uid`, if given), under
    the shipped policy config, with its image through an ECR pull-through cache."""
    import json
    from pathlib import Path

    from pulumi_kubernetes import provider as k8s_provider

    from triplane.components.gateway.install import AIGatewayInstall, AIGatewayInstallArgs
    from triplane.components.images import PullThroughCache
    from triplane.gate import check_plan
    from triplane.plan import run_program

    def program() -> None:
        AIGatewayInstall("gw", AIGatewayInstallArgs(
            hostname="ai.internal.example.com", tls_certificate="chain", tls_private_key="key",
            source_ranges=["10.20.0.0/16"],
            load_balancer_annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
            provider=k8s_provider.Provider("ts-gw-k8s", context="onprem"),
            images=PullThroughCache("123456789012.dkr.ecr.eu-west-1.amazonaws.com", {"docker.io": "ts-dockerhub"})))

    plan = run_program(program, stack="ts")
    [redis] = [r for r in plan.resources if r.type == "kubernetes:apps/v1:Deployment" and r.name == "gw-redis"]

    def set_user(value: Any) -> None:
        if isinstance(value, dict):
            for key in ("runAsUser", "runAsGroup", "fsGroup"):
                if key in value:
                    value[key] = uid
            for child in value.values():
                set_user(child)
        elif isinstance(value, list):
            for child in value:
                set_user(child)

    if uid is not None:
        set_user(redis.inputs)
    config = json.loads((Path(__file__).parents[1] / "policies" / "policy-config.json").read_text())
    result = check_plan(plan, scope="kubernetes", config=config)
    return [f"{v.policy}: {v.message}" for v in result.violations
            if v.resource_name == "gw-redis" and v.policy.startswith("k8s-")]


def test_the_installed_redis_passes_every_pod_policy() -> None:
    """The official image runs as any UID (its entrypoint drops to `redis` only when started as root);
    it persists nothing, and its emptyDir /data is writable through fsGroup."""
    assert _redis_violations() == []
