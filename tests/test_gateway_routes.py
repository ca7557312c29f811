"""The AI gateway's routing objects: a consumer's request for each use case of a sample environment
resolves, from the rendered objects alone, to the right backend with the right credential type and
token limits; every object validates against its CRD; classification holds; no secret value is
rendered; the same input renders the same objects."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crd_support import SHARED, needs_shared, validate_crs
from triplane.components.gateway.routes import (
    CLIENT_ID_HEADER,
    COST_NAMESPACE,
    ENDPOINT_PICKER_PORT,
    MODEL_HEADER,
    TOTAL_TOKENS_KEY,
    ApiKeyCredential,
    AwsCredential,
    AzureCredential,
    AzureOpenAIAccount,
    Backend,
    BedrockRuntime,
    Consumer,
    GcpCredential,
    InClusterServer,
    JwtProvider,
    OidcClient,
    ResolutionError,
    RouteSpec,
    SaasHost,
    VertexRegion,
    consumer_key_secret,
    endpoint_picker_service,
    render,
    resolve,
    secret_needs,
)

NS = "ai-gateway"
GATEWAY = "prod-gateway"
JWT = JwtProvider(
    name="corp-idp",
    issuer="https://login.example.com/realms/corp",
    jwks_uri="https://login.example.com/realms/corp/protocol/openid-connect/certs",
    audiences=("ai-gateway",),
    client_id_claim="azp",
)
SECRET_NAMES = {"openai-api-key", "anthropic-api-key", "azure-token-exchange", "triage-tgi-api-key"}

OPENAI = Backend("chat", "gpt-4o-mini", "OpenAI", SaasHost("api.openai.com"), ApiKeyCredential("openai-api-key"))
ANTHROPIC = Backend(
    "chat", "claude-3-5-haiku-latest", "Anthropic", SaasHost("api.anthropic.com"), ApiKeyCredential("anthropic-api-key")
)
BEDROCK = Backend(
    "claims",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "AWSBedrock",
    BedrockRuntime("eu-central-1"),
    AwsCredential("eu-central-1"),
)
AZURE = Backend(
    "hr-assistant",
    "gpt-4o",
    "AzureOpenAI",
    AzureOpenAIAccount("prod-hr-assistant.openai.azure.com", "2024-10-21"),
    AzureCredential(
        tenant_id="00000000-0000-0000-0000-000000000001",
        client_id="00000000-0000-0000-0000-000000000002",
        token_exchange=OidcClient("https://login.example.com/realms/corp", "ai-gateway-azure", "azure-token-exchange"),
    ),
)
VERTEX = Backend(
    "search",
    "gemini-2.0-flash-001",
    "GCPVertexAI",
    VertexRegion("prod-search", "europe-west4"),
    GcpCredential("prod-search", "europe-west4"),
)
VLLM = Backend("notes", "meta-llama/Llama-3.1-8B-Instruct", "OpenAI", InClusterServer("notes-vllm", "uc-notes", 80))
TGI = Backend(
    "triage",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "OpenAI",
    InClusterServer(
        "triage-tgi",
        "uc-triage",
        80,
        replicas=3,
        selector={"app.kubernetes.io/name": "text-generation-inference", "app.kubernetes.io/instance": "triage-tgi"},
        target_port=8080,
    ),
    ApiKeyCredential("triage-tgi-api-key"),
)


def _key(name: str, tpm: int, tpd: int) -> Consumer:
    return Consumer(name, "api-key", tpm, tpd)


ROUTES = (
    RouteSpec(
        "chat", "internal", OPENAI, (_key("web-app", 20_000, 2_000_000), _key("support-bot", 5_000, 300_000)), ANTHROPIC
    ),
    RouteSpec("claims", "confidential", BEDROCK, (_key("claims-app", 10_000, 1_000_000),)),
    RouteSpec("hr-assistant", "confidential", AZURE, (_key("hr-portal", 8_000, 400_000),), BEDROCK),
    RouteSpec("search", "internal", VERTEX, (Consumer("search-ui", "jwt", 30_000, 3_000_000),)),
    RouteSpec("notes", "restricted", VLLM, (_key("notes-app", 4_000, 200_000),)),
    RouteSpec("triage", "restricted", TGI, (_key("triage-app", 12_000, 600_000), _key("web-app", 1_000, 50_000))),
)


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render(NS, GATEWAY, ROUTES, JWT)


def _one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, [o["metadata"]["name"] for o in objects if o["kind"] == kind]
    return found[0]


# --- the "done when": each use case resolves from the rendered objects -------------------

EXPECTED = {
    # use case: (consumer, schema, upstream, tls, credential type, tpm, tpd)
    "chat": ("web-app", "OpenAI", "api.openai.com:443", True, "APIKey", 20_000, 2_000_000),
    "claims": (
        "claims-app",
        "AWSBedrock",
        "bedrock-runtime.eu-central-1.amazonaws.com:443",
        True,
        "AWSCredentials",
        10_000,
        1_000_000,
    ),
    "hr-assistant": (
        "hr-portal",
        "AzureOpenAI",
        "prod-hr-assistant.openai.azure.com:443",
        True,
        "AzureCredentials",
        8_000,
        400_000,
    ),
    "search": (
        "search-ui",
        "GCPVertexAI",
        "europe-west4-aiplatform.googleapis.com:443",
        True,
        "GCPCredentials",
        30_000,
        3_000_000,
    ),
    "notes": ("notes-app", "OpenAI", "notes-vllm.uc-notes.svc.cluster.local:80", False, "none", 4_000, 200_000),
    "triage": ("triage-app", "OpenAI", "InferencePool uc-triage/triage-tgi", False, "APIKey", 12_000, 600_000),
}


@pytest.mark.parametrize("spec", ROUTES, ids=[r.use_case for r in ROUTES])
def test_a_consumer_request_resolves_to_its_backend_credential_and_limits(
    spec: RouteSpec, objects: list[dict[str, Any]]
) -> None:
    consumer, schema, upstream, tls, credential, tpm, tpd = EXPECTED[spec.use_case]
    got = resolve(objects, consumer, spec.model)
    assert (got.schema, got.upstream, got.tls, got.credential_type) == (schema, upstream, tls, credential)
    assert (got.tokens_per_minute, got.tokens_per_day) == (tpm, tpd)
    assert got.backend.startswith(spec.use_case)


def test_fallbacks_resolve_at_the_next_priority(objects: list[dict[str, Any]]) -> None:
    chat = resolve(objects, "web-app", "gpt-4o-mini")
    assert chat.fallback is not None
    assert (chat.fallback.schema, chat.fallback.upstream, chat.fallback.credential_type) == (
        "Anthropic",
        "api.anthropic.com:443",
        "AnthropicAPIKey",
    )
    hr = resolve(objects, "hr-portal", "gpt-4o")
    assert hr.fallback is not None and hr.fallback.credential_type == "AWSCredentials"
    assert resolve(objects, "claims-app", BEDROCK.model).fallback is None
    route = _one(objects, "AIGatewayRoute", "chat")
    refs = route["spec"]["rules"][0]["backendRefs"]
    assert [r["priority"] for r in refs] == [0, 1]
    assert refs[1]["modelNameOverride"] == "claude-3-5-haiku-latest" and "modelNameOverride" not in refs[0]
    retry = _one(objects, "BackendTrafficPolicy", "chat-limits")["spec"]["retry"]
    assert retry["numAttemptsPerPriority"] == 1 and retry["numRetries"] == 1
    assert "retry" not in _one(objects, "BackendTrafficPolicy", "claims-limits")["spec"]


def test_a_consumer_has_its_own_limits_on_each_use_case(objects: list[dict[str, Any]]) -> None:
    on_triage = resolve(objects, "web-app", TGI.model)
    assert (on_triage.tokens_per_minute, on_triage.tokens_per_day) == (1_000, 50_000)
    assert resolve(objects, "support-bot", "gpt-4o-mini").tokens_per_minute == 5_000


def test_the_gateway_refuses_what_it_should(objects: list[dict[str, Any]]) -> None:
    with pytest.raises(ResolutionError, match="401"):
        resolve(objects, "claims-app", "gpt-4o-mini")
    with pytest.raises(ResolutionError, match="403"):
        resolve(objects, "someone-else", VERTEX.model)
    with pytest.raises(ResolutionError, match="404"):
        resolve(objects, "web-app", "gpt-5")
    without_limits = [o for o in objects if o["kind"] != "BackendTrafficPolicy"]
    with pytest.raises(ResolutionError, match="BackendTrafficPolicy"):
        resolve(without_limits, "web-app", "gpt-4o-mini")


def test_rate_limits_count_total_tokens_per_client_id(objects: list[dict[str, Any]]) -> None:
    route = _one(objects, "AIGatewayRoute", "chat")
    assert route["spec"]["llmRequestCosts"] == [{"metadataKey": TOTAL_TOKENS_KEY, "type": "TotalToken"}]
    assert route["spec"]["rules"][0]["matches"] == [
        {"headers": [{"type": "Exact", "name": MODEL_HEADER, "value": "gpt-4o-mini"}]}
    ]
    traffic = _one(objects, "BackendTrafficPolicy", "chat-limits")["spec"]
    assert traffic["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "chat"}]
    assert traffic["rateLimit"]["type"] == "Global"
    rules = traffic["rateLimit"]["global"]["rules"]
    assert [(r["clientSelectors"][0]["headers"][0]["value"], r["limit"]["unit"]) for r in rules] == [
        ("support-bot", "Minute"),
        ("support-bot", "Day"),
        ("web-app", "Minute"),
        ("web-app", "Day"),
    ]
    for rule in rules:
        assert rule["clientSelectors"][0]["headers"][0]["name"] == CLIENT_ID_HEADER
        assert rule["cost"] == {
            "request": {"from": "Number", "number": 0},
            "response": {"from": "Metadata", "metadata": {"namespace": COST_NAMESPACE, "key": TOTAL_TOKENS_KEY}},
        }


def test_consumers_authenticate_and_cannot_claim_another_client_id(objects: list[dict[str, Any]]) -> None:
    api_key = _one(objects, "SecurityPolicy", "chat-auth")["spec"]["apiKeyAuth"]
    assert api_key["credentialRefs"] == [
        {"group": "", "kind": "Secret", "name": consumer_key_secret("support-bot")},
        {"group": "", "kind": "Secret", "name": consumer_key_secret("web-app")},
    ]
    assert api_key["forwardClientIDHeader"] == CLIENT_ID_HEADER and api_key["sanitize"] is True
    jwt = _one(objects, "SecurityPolicy", "search-auth")["spec"]
    provider = jwt["jwt"]["providers"][0]
    assert provider["remoteJWKS"] == {"uri": JWT.jwks_uri} and provider["issuer"] == JWT.issuer
    assert provider["claimToHeaders"] == [{"claim": "azp", "header": CLIENT_ID_HEADER}]
    assert jwt["authorization"]["defaultAction"] == "Deny"
    # JWT claims are added to, not replace, a header the client sent: drop it before authentication.
    client = _one(objects, "ClientTrafficPolicy")["spec"]
    assert client["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY}]
    assert client["headers"]["earlyRequestHeaders"]["remove"] == [CLIENT_ID_HEADER]


def test_cloud_credentials_are_keyless(objects: list[dict[str, Any]]) -> None:
    policies = {o["spec"]["type"]: o["spec"] for o in objects if o["kind"] == "BackendSecurityPolicy"}
    assert policies["AWSCredentials"]["awsCredentials"] == {"region": "eu-central-1"}
    assert policies["GCPCredentials"]["gcpCredentials"] == {"projectName": "prod-search", "region": "europe-west4"}
    azure = policies["AzureCredentials"]["azureCredentials"]
    assert "clientSecretRef" not in azure
    assert azure["oidcExchangeToken"]["oidc"]["clientSecret"] == {"name": "azure-token-exchange", "namespace": NS}
    assert _one(objects, "AIServiceBackend", "hr-assistant-azure-gpt-4o")["spec"]["schema"] == {
        "name": "AzureOpenAI",
        "version": "2024-10-21",
    }


def test_pooled_servers_get_an_inference_pool_with_its_endpoint_picker(objects: list[dict[str, Any]]) -> None:
    pool = _one(objects, "InferencePool")
    assert isinstance(TGI.target, InClusterServer)
    assert pool["metadata"]["namespace"] == "uc-triage"
    assert endpoint_picker_service(TGI.target) == "triage-tgi-epp"
    assert pool["spec"]["endpointPickerRef"] == {
        "name": "triage-tgi-epp",
        "port": {"number": ENDPOINT_PICKER_PORT},
        "failureMode": "FailClose",
    }
    assert pool["spec"]["targetPorts"] == [{"number": 8080}]
    grant = _one(objects, "ReferenceGrant")
    assert grant["metadata"]["namespace"] == "uc-triage"
    assert {f["kind"] for f in grant["spec"]["from"]} == {"AIGatewayRoute", "HTTPRoute"}
    ref = _one(objects, "AIGatewayRoute", "triage")["spec"]["rules"][0]["backendRefs"]
    assert ref == [
        {
            "group": "inference.networking.k8s.io",
            "kind": "InferencePool",
            "name": "triage-tgi",
            "namespace": "uc-triage",
        }
    ]
    # One replica: a plain in-cluster Backend, no pool, no TLS policy.
    assert not [o for o in objects if o["kind"] == "BackendTLSPolicy" and "notes" in o["metadata"]["name"]]


# --- against the CRDs ----------------------------------------------------------------------------


def _validate(objects: list[dict[str, Any]], folder: Path) -> subprocess.CompletedProcess[str]:
    assert SHARED is not None
    for i, obj in enumerate(objects):
        (folder / f"{i:02d}-{obj['kind']}-{obj['metadata']['name']}.yaml").write_text(yaml.safe_dump(obj))
    return validate_crs(folder)


@needs_shared
def test_every_rendered_object_validates_against_its_crd(objects: list[dict[str, Any]], tmp_path: Path) -> None:
    result = _validate(objects, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"custom resources: {len(objects)} checked, 0 invalid, 0 of unknown kind" in result.stdout


@needs_shared
def test_crd_validation_would_catch_a_wrong_field(objects: list[dict[str, Any]], tmp_path: Path) -> None:
    route = _one(objects, "AIGatewayRoute", "chat")
    broken = {**route, "spec": {**route["spec"], "llmRequestCost": route["spec"]["llmRequestCosts"]}}
    result = _validate([broken], tmp_path)
    assert result.returncode == 1 and "llmRequestCost" in result.stdout + result.stderr


# --- classification -------------------------------------------------------------------------------


def _refused(routes: tuple[RouteSpec, ...], *fragments: str, jwt: JwtProvider | None = JWT) -> None:
    with pytest.raises(ValueError) as caught:
        render(NS, GATEWAY, routes, jwt)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


NOTES_APP = (_key("notes-app", 4_000, 200_000),)


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        (RouteSpec("notes", "restricted", VLLM, NOTES_APP, OPENAI), ("'notes'", "fallback", "SaaS", "fix")),
        (RouteSpec("notes", "restricted", VLLM, NOTES_APP, BEDROCK), ("'notes'", "fallback", "cloud-managed", "fix")),
        (RouteSpec("notes", "restricted", BEDROCK, NOTES_APP), ("'notes'", "primary", "own self-managed", "fix")),
        (
            RouteSpec("notes", "restricted", VLLM, NOTES_APP, dataclasses.replace(VLLM, use_case="other", model="m")),
            ("'notes'", "fallback", "use case 'other'", "fix"),
        ),
        (
            RouteSpec("claims", "confidential", OPENAI, NOTES_APP),
            ("'claims'", "primary", "never routes to SaaS", "fix"),
        ),
        (
            RouteSpec("claims", "confidential", BEDROCK, NOTES_APP, ANTHROPIC),
            ("'claims'", "fallback", "never routes to SaaS", "remove it"),
        ),
    ],
)
def test_routes_that_break_classification_are_refused(spec: RouteSpec, fragments: tuple[str, ...]) -> None:
    _refused((spec,), *fragments)


def test_confidential_may_use_cloud_and_self_managed_and_internal_may_use_saas() -> None:
    render(
        NS, GATEWAY, (RouteSpec("claims", "confidential", BEDROCK, NOTES_APP, dataclasses.replace(VLLM, model="m")),)
    )
    render(NS, GATEWAY, (RouteSpec("chat", "public", OPENAI, NOTES_APP, ANTHROPIC),))


@pytest.mark.parametrize(
    ("routes", "fragments"),
    [
        (
            (
                RouteSpec(
                    "claims", "confidential", dataclasses.replace(BEDROCK, credential=ApiKeyCredential("k")), NOTES_APP
                ),
            ),
            ("primary.credential", "never static cloud keys"),
        ),
        (
            (
                RouteSpec(
                    "claims", "internal", dataclasses.replace(BEDROCK, credential=AwsCredential("us-east-1")), NOTES_APP
                ),
            ),
            ("credential.region", "eu-central-1"),
        ),
        (
            (RouteSpec("chat", "internal", dataclasses.replace(OPENAI, credential=None), NOTES_APP),),
            ("credential is none",),
        ),
        ((RouteSpec("triage", "restricted", TGI, NOTES_APP, dataclasses.replace(TGI, model="x")),), ("InferencePool",)),
        ((RouteSpec("chat", "internal", OPENAI, ()),), ("consumers is empty",)),
        ((RouteSpec("chat", "internal", OPENAI, (_key("web-app", 10, 5),)),), ("tokens_per_minute exceeds",)),
        ((RouteSpec("chat", "internal", OPENAI, (_key("Web App", 10, 50),)),), ("DNS label", "web-app")),
        (
            (RouteSpec("chat", "internal", OPENAI, (_key("a", 1, 2), Consumer("b", "jwt", 1, 2))),),
            ("mixes api-key and jwt",),
        ),
        (
            (
                RouteSpec("chat", "internal", OPENAI, NOTES_APP),
                RouteSpec("chat2", "internal", dataclasses.replace(OPENAI, use_case="chat2"), NOTES_APP),
            ),
            ("'chat2'", "model_name", "already routed"),
        ),
        ((RouteSpec("chat", "internal", OPENAI, NOTES_APP, OPENAI),), ("fallback is the primary",)),
    ],
)
def test_routes_the_gateway_could_not_serve_are_refused(
    routes: tuple[RouteSpec, ...], fragments: tuple[str, ...]
) -> None:
    _refused(routes, *fragments)


def test_jwt_consumers_need_the_identity_provider() -> None:
    _refused((RouteSpec("search", "internal", VERTEX, (Consumer("ui", "jwt", 1, 2),)),), "JWT provider", jwt=None)


def test_a_distinct_model_name_lets_two_use_cases_share_a_model(objects: list[dict[str, Any]]) -> None:
    other = RouteSpec(
        "chat2", "internal", dataclasses.replace(OPENAI, use_case="chat2"), NOTES_APP, model_name="chat2-gpt"
    )
    both = render(NS, GATEWAY, (ROUTES[0], other))
    got = resolve(both, "notes-app", "chat2-gpt")
    assert got.upstream == "api.openai.com:443"
    ref = _one(both, "AIGatewayRoute", "chat2")["spec"]["rules"][0]["backendRefs"][0]
    assert ref["modelNameOverride"] == "gpt-4o-mini"


# --- secrets, names, determinism ------------------------------------------------------------------


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _walk(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [item for v in value for item in _walk(v, f"{path}[]")]
    return [(path, value)]


def test_no_secret_value_is_rendered_only_secret_names(objects: list[dict[str, Any]]) -> None:
    assert not [o for o in objects if o["kind"] == "Secret"]
    leaves = [leaf for obj in objects for leaf in _walk(obj)]
    assert not [p for p, _ in leaves if re.search(r"\.(data|stringData)\b", p)]
    secret_refs = {v for p, v in leaves if re.search(r"(secretRef|clientSecret|credentialRefs\[\])\.name$", p)}
    consumer_secrets = {consumer_key_secret(c.name) for r in ROUTES for c in r.consumers if c.auth == "api-key"}
    assert secret_refs == SECRET_NAMES | consumer_secrets
    # A secret's name appears only where a Secret is referenced.
    for path, value in leaves:
        if value in SECRET_NAMES | consumer_secrets:
            assert re.search(r"(secretRef|clientSecret|credentialRefs\[\])\.name$", path), path
    # Cloud credentials carry no file, key or client secret.
    for obj in objects:
        if obj["kind"] == "BackendSecurityPolicy" and obj["spec"]["type"] in ("AWSCredentials", "GCPCredentials"):
            assert not [p for p, _ in _walk(obj["spec"]) if "credentialsFile" in p or "secret" in p.lower()]


def test_names_are_bounded_dns_labels() -> None:
    long = "a-very-long-use-case-name-that-goes-on-and-on-past-the-limit-of-kubernetes"
    spec = RouteSpec(long, "internal", dataclasses.replace(OPENAI, use_case=long), NOTES_APP)
    for obj in render(NS, GATEWAY, (spec,)):
        name = obj["metadata"]["name"]
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
        for value in obj["metadata"]["labels"].values():
            assert len(value) <= 63


def test_rendering_is_deterministic(objects: list[dict[str, Any]]) -> None:
    shuffled = tuple(dataclasses.replace(r, consumers=tuple(reversed(r.consumers))) for r in reversed(ROUTES))
    again = render(NS, GATEWAY, shuffled, JWT)
    assert yaml.safe_dump_all(again) == yaml.safe_dump_all(objects)
    kinds = [o["kind"] for o in objects]
    assert kinds.index("InferencePool") < kinds.index("AIGatewayRoute") < kinds.index("SecurityPolicy")
    assert kinds.index("AIServiceBackend") < kinds.index("BackendSecurityPolicy")


def test_objects_carry_the_environment_labels_under_their_own() -> None:
    env = {"triplane.io/environment": "prod", "triplane.io/use-case": "shared", "triplane.io/managed-by": "triplane"}
    rendered = render(NS, GATEWAY, ROUTES, JWT, labels=env)
    route = _one(rendered, "AIGatewayRoute", "claims")["metadata"]["labels"]
    assert route["triplane.io/environment"] == "prod"
    assert (route["triplane.io/use-case"], route["triplane.io/data-classification"]) == ("claims", "confidential")
    assert _one(rendered, "ClientTrafficPolicy")["metadata"]["labels"]["triplane.io/use-case"] == "shared"
    pool = _one(rendered, "InferencePool")["metadata"]["labels"]
    assert pool["triplane.io/data-classification"] == "restricted"


def test_secret_needs_name_every_referenced_secret_with_its_key(objects: list[dict[str, Any]]) -> None:
    needs = secret_needs(NS, ROUTES)
    referenced = set()
    for obj in objects:
        ns = obj["metadata"]["namespace"]
        for path, value in _walk(obj["spec"]):
            if re.search(r"(secretRef|clientSecret|credentialRefs\[\])\.name$", path):
                referenced.add((ns, value))
    assert {(n.namespace, n.name) for n in needs} == referenced
    keys = {(n.namespace, n.name): n.key for n in needs}
    assert keys[(NS, "openai-api-key")] == "apiKey"
    assert keys[("uc-triage", "triage-tgi-api-key")] == "apiKey"
    assert keys[(NS, "azure-token-exchange")] == "client-secret"
    assert keys[(NS, consumer_key_secret("web-app"))] == "web-app"
    assert needs == sorted(needs, key=lambda n: (n.namespace, n.name, n.key))


def test_the_gateway_must_be_named_as_kubernetes_names_it() -> None:
    with pytest.raises(ValueError, match="namespace 'AI_Gateway' is not a DNS label; try 'ai-gateway'"):
        render("AI_Gateway", GATEWAY, ROUTES, JWT)
