"""The three commands, run as a user would, on a stack file of the test's own."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from triplane.decide.cli import register

STACK = {
    "config": {
        "triplane:environment": {
            "owner": "platform-team",
            "cost_center": "cc-1",
            "clouds": {
                "aws": {
                    "region": "us-east-1",
                    "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
                }
            },
            "kubernetes": [{"name": "gpu", "new": {"cloud": "aws", "deployer": {"private_cidrs": ["10.99.0.0/24"]}}}],
            "use_cases": [
                {
                    "name": "drafts",
                    "pattern": "saas",
                    "data_classification": "confidential",
                    "cloud": "aws",
                    "provider": "openai",
                    "models": ["gpt-4o-mini"],
                    "api_key_secret": "openaiApiKey",
                    "allowed_principals": ["arn:aws:iam::123456789012:role/app"],
                    "volume": {"input_tokens_per_month": 100_000_000, "output_tokens_per_month": 20_000_000},
                },
                {
                    "name": "review",
                    "pattern": "self-managed",
                    "data_classification": "restricted",
                    "cluster": "gpu",
                    "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3"},
                    "gpu": {"type": "nvidia-l4", "count": 1},
                    "allowed_clients": {"namespaces": ["review"]},
                },
            ],
        },
        "triplane:openaiApiKey": {"secure": "AAABAG=="},
    }
}


@pytest.fixture(scope="module")
def cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Test group."""

    register(group)
    return group


@pytest.fixture()
def stack_file(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump(STACK))
    return path


def test_commands_are_registered(cli: click.Group) -> None:
    assert set(cli.commands) == {"recommend", "cost", "diagram", "dashboard"}


def test_recommend_prints_the_decision_and_a_block(cli: click.Group) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "recommend",
            "--classification",
            "restricted",
            "--ml-skills",
            "none",
            "--input-tokens",
            "300M",
            "--output-tokens",
            "60M",
            "--name",
            "contracts",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Recommendation for contracts: self-managed" in result.output
    assert "Conflict:" in result.output
    assert "- name: contracts" in result.output
    assert "input_tokens_per_month: 300000000" in result.output


def test_recommend_json_and_facts_file(cli: click.Group, tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text("data_classification: confidential\nresidency: eu\nclouds: [azure]\n")
    result = CliRunner().invoke(cli, ["recommend", "--facts", str(facts), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["pattern"] == "cloud-managed"
    assert document["clouds"] == ["azure"]
    assert "westeurope" in document["regions"]["azure"]
    assert "saas" in document["excluded"]


def test_recommend_refuses_bad_facts(cli: click.Group) -> None:
    result = CliRunner().invoke(cli, ["recommend", "--classification", "public", "--residency", "mars"])
    assert result.exit_code == 2
    assert "residency" in result.output
    assert CliRunner().invoke(cli, ["recommend"]).exit_code == 2


def test_check_reports_a_forbidden_pattern_and_fails(cli: click.Group, stack_file: Path) -> None:
    result = CliRunner().invoke(cli, ["recommend", "--check", str(stack_file)])
    assert result.exit_code == 1
    assert "violation drafts: saas is not allowed for confidential data" in result.output
    assert "No `volume` declared (cost not compared): review" in result.output


def test_cost_table_total_and_sources(cli: click.Group, stack_file: Path) -> None:
    result = CliRunner().invoke(cli, ["cost", str(stack_file)], terminal_width=200)
    assert result.exit_code == 0, result.output
    # drafts 28.48 + review 713.65 + firewall 576.70 + NAT 65.70 + EKS 73.00 + system nodes 140.16
    assert "Total: $1,597.69 per month" in result.output
    assert "Prices as of 2025-05-15" in result.output
    assert "https://aws.amazon.com/network-firewall/pricing/" in result.output
    document = json.loads(CliRunner().invoke(cli, ["cost", str(stack_file), "--json"]).output)
    assert document["total_monthly"] == pytest.approx(1597.69, abs=0.01)
    assert [u["name"] for u in document["use_cases"]] == ["drafts", "review"]


def test_cost_with_price_override_and_spot(cli: click.Group, stack_file: Path, tmp_path: Path) -> None:
    override = tmp_path / "prices.json"
    override.write_text(
        json.dumps(
            {
                "as_of": "2025-10-01",
                "tokens": {"saas": {"openai": {"gpt-4o-mini": {"input": 0.0, "output": 0.0}}}},
            }
        )
    )
    document = json.loads(
        CliRunner()
        .invoke(cli, ["cost", str(stack_file), "--json", "--spot", "--prices", str(override)])
        .output
    )
    drafts, review = document["use_cases"]
    assert drafts["estimate"]["lines"][0] == {
        "item": "tokens gpt-4o-mini",
        "monthly": 0.0,
        "source": "override",
        "detail": "100M in x $0.0/M + 20M out x $0.0/M",
    }
    assert review["estimate"]["monthly"] == pytest.approx(0.45 * 730)
    assert document["sources"]["override"]["as_of"] == "2025-10-01"


def test_cost_names_the_stack_file_on_bad_input(cli: click.Group, tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  triplane:environment:\n    owner: x\n")
    result = CliRunner().invoke(cli, ["cost", str(bad)])
    assert result.exit_code == 2
    assert "Pulumi.bad.yaml" in result.output


def test_diagram_writes_svg_and_png(cli: click.Group, stack_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "pictures"
    result = CliRunner().invoke(cli, ["diagram", str(stack_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "test.svg").read_text().startswith("<?xml")
    assert (out / "test.png").read_bytes().startswith(b"\x89PNG")
    only_svg = CliRunner().invoke(
        cli, ["diagram", str(stack_file), "--out", str(tmp_path / "svg"), "--format", "svg"]
    )
    assert only_svg.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "svg").iterdir()) == ["test.d2", "test.svg"]
