"""The AI gateway in a stack: dev puts every use case behind it (SaaS, Bedrock, a self-managed server).

A consumer's request for each use case is resolved from the custom resources the plan renders, the way
the gateway would: the right backend, the right credential type, the consumer's token limits and the
fallback. The identities, Secrets and network paths those resources rely on are in the same plan.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import planned
from tests.crd_support import SHARED, needs_shared, validate_crs
from triplane.components.gateway import routes
from triplane.components.gateway.install import ENVOY_GATEWAY_NAMESPACE, PROXY_SERVICE_ACCOUNT
from triplane.k8s_out import manifest, write_manifests
from triplane.plan import Plan, PlannedResource
from triplane.stackfile import load_stack
from triplane.stacks.spec import Environment

GATEWAY_GROUPS = ("aigateway.envoyproxy.io", "gateway.envoyproxy.io", "gateway.networking.k8s.io")


@pytest.fixture(scope="module")
def dev() -> Plan:
    return planned("dev")


def rendered(plan: Plan) -> list[dict[str, Any]]:
    """The gateway's custom resources of the plan, as the cluster would receive them."""
    found = []
    for resource in plan.resources:
        if resource.type.startswith("kubernetes:") and resource.type.split(":")[1].split("/")[0] in GATEWAY_GROUPS:
            body = manifest(resource)
            assert body is not None
            found.append(body)
    return found


def one(plan: Plan, type_: str, name: str) -> PlannedResource:
    [found] = [r for r in plan.resources if r.type == type_ and r.name == name]
    return found


@pytest.mark.parametrize(
    ("consumer", "model", "schema", "credential", "minute", "day", "fallback"),
    [
        ("support-app", "support-drafts", "OpenAI", "APIKey", 20000, 4000000, "AWSBedrock"),
        ("docs-portal", "doc-search", "AWSBedrock", "AWSCredentials", 40000, 8000000, None),
        ("support-app", "doc-search", "AWSBedrock", "AWSCredentials", 10000, 1000000, None),
        ("review-bot", "code-review", "OpenAI", "none", 20000, 2000000, None),
    ],
)
def test_a_consumers_request_resolves_to_its_backend_credential_and_limits(
    dev: Plan, consumer: str, model: str, schema: str, credential: str, minute: int, day: int, fallback: str | None
) -> None:
    resolution = routes.resolve(rendered(dev), consumer, model)
    assert (resolution.schema, resolution.credential_type) == (schema, credential)
    assert (resolution.tokens_per_minute, resolution.tokens_per_day) == (minute, day)
    assert (resolution.fallback.schema if resolution.fallback else None) == fallback


def test_each_backend_is_where_the_use_case_serves(dev: Plan) -> None:
    objects = rendered(dev)
    assert routes.resolve(objects, "support-app", "support-drafts").upstream == "api.openai.com:443"
    assert routes.resolve(objects, "docs-portal", "doc-search").upstream == (
        "bedrock-runtime.us-east-1.amazonaws.com:443")
    assert routes.resolve(objects, "review-bot", "code-review").upstream == (
        "dev-code-review.code-review.svc.cluster.local:80")


def test_a_consumer_of_another_use_case_is_refused(dev: Plan) -> None:
    with pytest.raises(routes.ResolutionError):
        routes.resolve(rendered(dev), "review-bot", "doc-search")


def test_every_key_is_a_secret_from_secret_config(dev: Plan) -> None:
    secrets = {r.name: r for r in dev.resources if r.type == "kubernetes:core/v1:Secret" and "gateway" in r.name}
    assert set(secrets) == {
        "dev-ai-gateway-tls",
        "dev-gateway-secret-ai-gateway-key-docs-portal",
        "dev-gateway-secret-ai-gateway-key-review-bot",
        "dev-gateway-secret-ai-gateway-key-support-app",
        "dev-gateway-secret-ai-gateway-upstream-support-drafts",
    }
    for resource in secrets.values():
        data = resource.redacted_inputs()["stringData"]
        assert "replace-with-pulumi-config-set-secret" not in json.dumps(data), resource.name
    upstream = secrets["dev-gateway-secret-ai-gateway-upstream-support-drafts"].inputs["stringData"]
    assert list(upstream["value"]) == [routes.UPSTREAM_KEY_FIELD]  # inside the secret envelope


def test_the_proxies_call_bedrock_with_their_pod_identity(dev: Plan) -> None:
    association = one(dev, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "dev-ai-gateway-identity").inputs
    assert (association["namespace"], association["serviceAccount"]) == (ENVOY_GATEWAY_NAMESPACE, PROXY_SERVICE_ACCOUNT)
    role = one(dev, "aws:iam/role:Role", "dev-ai-gateway-role").inputs
    assert association["roleArn"].endswith("dev-ai-gateway-role")
    assert json.loads(role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    attachment = one(dev, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "dev-ai-gateway-invokes-doc-search")
    assert attachment.inputs["policyArn"].endswith("dev-doc-search-invoke")
    # The proxies' service account is the one the EnvoyProxy names.
    proxy = next(r for r in dev.resources if r.type.endswith(":EnvoyProxy")).inputs
    assert proxy["spec"]["provider"]["kubernetes"]["envoyServiceAccount"]["name"] == PROXY_SERVICE_ACCOUNT


def test_the_bedrock_endpoint_admits_the_gateway_role_beside_the_named_principals() -> None:
    from triplane.stackfile import StackFile, plan_file

    stack_file = load_stack("dev")
    spec = dev_spec()
    spec["use_cases"][1]["allowed_principals"] = ["arn:aws:iam::123456789012:role/docs-app"]
    config = {**stack_file.config, "triplane:environment": spec}
    plan = plan_file(StackFile("dev", stack_file.path, config, stack_file.secret_keys),
                     Environment.model_validate(spec))
    [endpoint] = [r for r in plan.resources if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint"
                  and r.inputs["serviceName"] == "com.amazonaws.us-east-1.bedrock-runtime"]
    principals = {json.dumps(s["Principal"]) for s in json.loads(endpoint.inputs["policy"])["Statement"]}
    assert principals == {json.dumps({"AWS": ["arn:aws:iam::123456789012:role/dev-ai-gateway",
                                              "arn:aws:iam::123456789012:role/docs-app"]})}


def test_the_self_managed_server_admits_the_gateways_proxies(dev: Plan) -> None:
    policy = one(dev, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "dev-code-review-ingress").inputs
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ENVOY_GATEWAY_NAMESPACE}}} in peers


def test_endpoints_tell_applications_the_gateway_url_model_and_key(dev: Plan) -> None:
    endpoints = dev.outputs["endpoints"]
    assert endpoints["support-drafts"]["gateway"] == {
        "url": "https://ai.dev.acme.internal/v1",
        "model": "support-drafts",
        "consumers": {"support-app": "api-key: triplane:supportAppGatewayKey"},
    }
    assert endpoints["doc-search"]["gateway"]["consumers"] == {
        "docs-portal": "api-key: triplane:docsPortalGatewayKey",
        "support-app": "api-key: triplane:supportAppGatewayKey",
    }


def test_the_gateway_is_on_the_gpu_clusters_system_nodes_behind_an_internal_load_balancer(dev: Plan) -> None:
    proxy = next(r for r in dev.resources if r.type.endswith(":EnvoyProxy")).inputs["spec"]["provider"]["kubernetes"]
    service = proxy["envoyService"]
    assert service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert service["loadBalancerSourceRanges"] == ["10.40.0.0/20", "10.40.16.0/20"]


@needs_shared
def test_every_rendered_gateway_resource_validates_against_its_crd(dev: Plan, tmp_path: Path) -> None:
    assert SHARED is not None
    write_manifests(dev, tmp_path)
    result = validate_crs(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 invalid, 0 of unknown kind" in result.stdout


# --- refused at validation --------------------------------------------------------------------------


def dev_spec() -> dict[str, Any]:
    return copy.deepcopy(load_stack("dev").config["triplane:environment"])


def problems(spec: dict[str, Any]) -> list[str]:
    return Environment.model_validate(spec).cross_checks()


def test_a_use_case_without_consumers_is_refused() -> None:
    spec = dev_spec()
    del spec["use_cases"][2]["consumers"]
    assert any(p.startswith("use_cases[2].consumers: with a gateway, every use case names who calls it")
               for p in problems(spec))


def test_a_consumer_without_a_limit_is_refused() -> None:
    spec = dev_spec()
    del spec["use_cases"][0]["consumers"][0]["tokens_per_day"]
    with pytest.raises(ValueError, match=r"tokens_per_day"):
        Environment.model_validate(spec)


def test_an_api_key_consumer_names_its_key() -> None:
    spec = dev_spec()
    del spec["use_cases"][0]["consumers"][0]["key_secret"]
    with pytest.raises(ValueError, match="key_secret: consumer 'support-app' authenticates with an API key"):
        Environment.model_validate(spec)


def test_a_jwt_consumer_needs_the_identity_provider() -> None:
    spec = dev_spec()
    spec["use_cases"][2]["consumers"] = [{"name": "review-bot", "auth": "jwt", "tokens_per_minute": 1,
                                          "tokens_per_day": 2}]
    assert "use_cases[2].consumers[0].auth: jwt needs `gateway.identity_provider` (issuer and JWKS URI)" in (
        problems(spec))
    spec["gateway"]["identity_provider"] = {"issuer": "https://login.acme.example",
                                            "jwks_uri": "https://login.acme.example/jwks"}
    assert problems(spec) == []


@pytest.mark.parametrize(
    ("index", "fallback", "why"),
    [
        (1, "support-drafts", "confidential data may not go to 'support-drafts' (saas)"),
        (0, "code-review", None),
        (0, "support-drafts", "names no other use case of this stack"),
        (0, "nowhere", "names no other use case of this stack"),
    ],
)
def test_a_fallback_keeps_to_the_classification_rule(index: int, fallback: str, why: str | None) -> None:
    spec = dev_spec()
    spec["use_cases"][0].pop("fallback")
    spec["use_cases"][index]["fallback"] = fallback
    found = [p for p in problems(spec) if ".fallback:" in p]
    assert (found[0].split(": ", 1)[1].startswith(why) if why else found == []), found


def test_a_fallback_cleared_for_less_is_refused() -> None:
    spec = dev_spec()
    spec["use_cases"][1]["data_classification"] = "public"
    assert [p for p in problems(spec) if ".fallback:" in p] == [
        "use_cases[0].fallback: 'doc-search' is cleared for public data, less than this use case's internal; name a "
        "fallback cleared for it"
    ]


def test_a_bedrock_guardrail_is_refused_behind_the_gateway() -> None:
    spec = dev_spec()
    spec["use_cases"][1]["bedrock"] = {"guardrail": {"denied_topics": []}}
    assert any(p.startswith("use_cases[1]: its invoke policy requires every request to name the use case's guardrail")
               for p in problems(spec))


def test_a_gateway_on_an_unknown_cluster_is_refused() -> None:
    spec = dev_spec()
    spec["gateway"]["cluster"] = "cpu"
    with pytest.raises(ValueError, match=r"gateway.cluster: no cluster named 'cpu' under `kubernetes` \(gpu\)"):
        Environment.model_validate(spec)


def test_consumers_without_a_gateway_are_refused() -> None:
    spec = dev_spec()
    del spec["gateway"]
    assert "use_cases[0].consumers: only used with a `gateway`; add one, or remove consumers" in problems(spec)


def test_the_readme_client_sends_what_the_gateway_routes_on(dev: Plan) -> None:
    """The README's client, against a local server standing in for the gateway: the path, the bearer
    key and the model (the use case's name, which the route matches) are what dev's route expects."""
    import http.server
    import threading

    from examples.gateway_client import ask

    seen: dict[str, Any] = {}

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen["path"] = self.path
            seen["authorization"] = self.headers["Authorization"]
            seen["body"] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answer = json.dumps({"choices": [{"message": {"content": "hello"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        assert ask(url, "k-123", "doc-search", "Hi") == "hello"
    finally:
        server.shutdown()
    assert seen["path"] == "/v1/chat/completions"
    assert seen["authorization"] == "Bearer k-123"
    route = next(o for o in rendered(dev) if o["kind"] == "AIGatewayRoute" and o["metadata"]["name"] == "doc-search")
    [match] = route["spec"]["rules"][0]["matches"][0]["headers"]
    assert (match["name"], match["value"]) == (routes.MODEL_HEADER, seen["body"]["model"])
    assert dev.outputs["endpoints"]["doc-search"]["gateway"]["url"].endswith("/v1")


def test_a_gateway_in_a_split_environment_is_refused() -> None:
    spec = copy.deepcopy(load_stack("prod-platform").config["triplane:environment"])
    spec["gateway"] = {"cluster": "gpu-aws", "hostname": "ai.prod.acme.internal",
                       "tls": {"certificate_secret": "c", "key_secret": "k"}}
    with pytest.raises(ValueError, match=r"gateway: the AI gateway is built in a single stack .* this is a platform "
                                         r"stack; put the gateway and the use cases behind it in one stack"):
        Environment.model_validate(spec)


def test_the_spec_admits_exactly_the_providers_the_gateway_speaks() -> None:
    from triplane.stacks.gateway import SAAS_SCHEMAS
    from triplane.stacks.spec.gateway import GATEWAY_PROVIDERS

    assert set(SAAS_SCHEMAS) == set(GATEWAY_PROVIDERS)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"key_rotation": "external"}, "the gateway's copy of the provider key is written from stack config"),
        ({"provider": "gemini", "models": [], "api_key_secret": "openaiApiKey"},
         "the gateway speaks the OpenAI, Anthropic and Cohere APIs"),
    ],
)
def test_a_saas_use_case_the_gateway_cannot_serve_is_refused(change: dict[str, Any], why: str) -> None:
    spec = dev_spec()
    spec["use_cases"][0].update(change)
    assert any(p.startswith(f"use_cases[0]: {why}") for p in problems(spec)), problems(spec)


def gateway_paths(plan: Plan) -> dict[str, str | None]:
    from triplane.gate import check_plan

    config = {"triplane:environment": json.dumps(load_stack("dev").config["triplane:environment"])}
    result = check_plan(plan, stack_config=config)
    return {f"{n.workload}: {n.what}": n.path for n in result.runtime if n.kind == "gateway"}


def test_the_check_proves_each_upstream_path_and_credential(dev: Plan) -> None:
    assert gateway_paths(dev) == {
        "gateway backend code-review-self-mistralai-mistral-7b-instruct-v0-3: the proxies reach "
        "dev-code-review.code-review.svc.cluster.local":
            "network policy dev-code-review-ingress admits namespace envoy-gateway-system",
        "gateway backend doc-search-bedrock-us-anthropic-claude-haiku-4-5-20251001-v1-0: the proxies reach "
        "bedrock-runtime.us-east-1.amazonaws.com privately": "VPC endpoint dev-bedrock-privatelink-bedrock-runtime",
        "gateway backend doc-search-bedrock-us-anthropic-claude-haiku-4-5-20251001-v1-0: AWS credentials by "
        "workload identity": "EKS Pod Identity association dev-ai-gateway-identity",
        "gateway backend support-drafts-saas-gpt-4o-mini: the proxies reach api.openai.com through the egress "
        "firewall": "the egress allowlist entry for api.openai.com",
        "gateway backend support-drafts-saas-gpt-4o-mini: the upstream API key in Secret "
        "ai-gateway/ai-gateway-upstream-support-drafts": "Secret ai-gateway-upstream-support-drafts",
    }


@pytest.mark.parametrize(
    ("dropped", "unmet"),
    [
        ("dev-ai-gateway-identity", "AWS credentials by workload identity"),
        ("dev-gateway-secret-ai-gateway-upstream-support-drafts", "the upstream API key in Secret"),
        # The namespace's default-deny policy stays: without the server's own, nothing admits the proxies.
        ("dev-code-review-ingress", "the proxies reach dev-code-review.code-review"),
    ],
)
def test_a_missing_credential_or_path_is_unmet(dev: Plan, dropped: str, unmet: str) -> None:
    import dataclasses

    paths = gateway_paths(dataclasses.replace(dev, resources=[r for r in dev.resources if r.name != dropped]))
    assert [what for what, path in paths.items() if path is None] == [next(w for w in paths if unmet in w)]
