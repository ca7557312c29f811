"""The diagram renders for every shipped stack, and shows networks, pattern groups, paths and data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stacks.spec import validate_environment
from triplane.decide.diagram import build, render
from triplane.stackfile import load_stack, stack_names

SVG = "{http://www.w3.org/2000/svg}"


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def test_the_three_stacks_ship() -> None:
    assert {"dev", "prod", "local"} <= set(stack_names())


@pytest.mark.parametrize("stack", stack_names())
def test_renders_every_shipped_stack(stack: str, tmp_path: Path) -> None:
    environment = load_stack(stack).environment()
    written = render(build(environment, stack), tmp_path / stack)
    assert [p.suffix for p in written] == [".svg", ".png"]
    text = svg_text(written[0])
    for use_case in environment.use_cases:
        assert use_case.name in text
        assert f"data: {use_case.data_classification}" in text
    for title in ("SaaS pattern", "Cloud-managed pattern", "Self-managed pattern"):
        assert title in text
    png = written[1].read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000


ENVIRONMENT = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "clouds": {
        "aws": {
            "region": "eu-west-1",
            "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["eu-west-1a", "eu-west-1b"]}},
        },
        "azure": {
            "location": "westeurope",
            "resource_group": "rg-test",
            "network": {"new": {"cidr": "10.20.0.0/16"}},
        },
        "gcp": {
            "project": "acme-genai-test",
            "region": "europe-west4",
            "network": {"new": {"cidr": "10.30.0.0/16"}},
        },
    },
    "kubernetes": [{"name": "onprem", "existing": {"kubeconfig_context": "kind-triplane"}}],
    "use_cases": [
        {
            "name": "drafts",
            "pattern": "saas",
            "data_classification": "public",
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
        },
        {
            "name": "search",
            "pattern": "cloud-managed",
            "data_classification": "internal",
            "cloud": "gcp",
            "models": [{"id": "gemini-1.5-pro-002"}],
        },
        {
            "name": "records",
            "pattern": "self-managed",
            "data_classification": "restricted",
            "cluster": "onprem",
            "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3"},
            "gpu": {"type": "nvidia-l4", "count": 1},
            "allowed_clients": {"namespaces": ["records"]},
        },
    ],
}


@pytest.fixture(scope="module")
def diagram():
    return build(validate_environment(ENVIRONMENT, "test.yaml"), "test")


def test_networks_with_their_address_blocks(diagram) -> None:
    boxes = {n.key: n for n in diagram.networks}
    assert set(boxes) == {"aws", "azure", "gcp", "cluster:onprem"}
    assert boxes["aws"].title == "AWS eu-west-1"
    assert "app subnets 10.40.0.0/20, 10.40.16.0/20" in boxes["aws"].lines
    assert "app subnet 10.20.0.0/20" in boxes["azure"].lines
    assert "PSC address 10.30.240.2" in boxes["gcp"].lines
    assert "kubeconfig context kind-triplane" in boxes["cluster:onprem"].lines


def test_each_use_case_path_to_its_model(diagram) -> None:
    rows = {r.use_case: r for r in diagram.rows}
    assert rows["drafts"].path == "egress: Azure Firewall" and rows["drafts"].external
    assert "TLS allowlist api.mistral.ai" in rows["drafts"].path_lines
    assert rows["claims"].path == "interface endpoint (PrivateLink)"
    assert "com.amazonaws.eu-west-1.bedrock-runtime" in rows["claims"].path_lines
    assert rows["search"].path == "Private Service Connect" and rows["search"].model == "Vertex AI"
    assert rows["records"].network == "cluster:onprem"
    assert rows["records"].path == "TGI ClusterIP service"
    assert rows["records"].model_lines == ("1 x nvidia-l4", "replicas 1-1")
    assert not any(r.external for r in diagram.rows if r.pattern != "saas")


def test_rendered_svg_carries_the_content(diagram, tmp_path: Path) -> None:
    (svg,) = render(diagram, tmp_path / "test", ("svg",))
    text = svg_text(svg)
    for expected in (
        "AWS eu-west-1",
        "Existing cluster onprem",
        "egress: Azure Firewall",
        "data: restricted",
        "Vertex AI",
        "restricted",
        "Dashed box",
    ):
        assert expected in text
    assert not (tmp_path / "test.png").exists()
    again = render(diagram, tmp_path / "again", ("svg",))[0]
    assert again.read_text() == svg.read_text()  # deterministic: same stack, same file
