"""The versions pyproject.toml admits are honest: bounded both ways, and the environment that runs
these tests satisfies them. CI installs the lowest of each (`.ci/lowest_constraints.py`) and plans
the shipped stacks with them (`.ci/same_plans.py` compares the plans)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
DEPENDENCIES = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]


@pytest.mark.parametrize("requirement", DEPENDENCIES, ids=lambda r: r.name)
def test_every_dependency_has_a_floor_and_a_ceiling(requirement: Requirement) -> None:
    operators = {spec.operator for spec in requirement.specifier}
    assert ">=" in operators and "<" in operators, f"{requirement}: give it >= and < bounds"


@pytest.mark.parametrize("requirement", DEPENDENCIES, ids=lambda r: r.name)
def test_the_installed_release_is_admitted(requirement: Requirement) -> None:
    installed = importlib.metadata.version(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), f"{requirement.name} {installed}"


def test_the_lowest_constraints_pin_each_dependency_at_its_floor() -> None:
    printed = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "lowest_constraints.py")], check=True, capture_output=True, text=True
    ).stdout.split()
    assert len(printed) == len(DEPENDENCIES)
    for line, requirement in zip(printed, DEPENDENCIES, strict=True):
        name, _, version = line.partition("==")
        assert name == requirement.name
        assert requirement.specifier.contains(version, prereleases=True), line
    assert "pulumi-aws==7.5" in printed  # eks.Cluster(deletion_protection=...) arrived in 7.5


def test_same_plans_ignores_only_the_providers_secret_output_lists(tmp_path: Path) -> None:
    resource = {"urn": "urn:pulumi:dev::triplane::aws:s3/bucket:Bucket::b", "inputs": {"bucket": "b"},
                "additionalSecretOutputs": ["a"]}  # fmt: skip
    oldest, newest, moved = tmp_path / "oldest.json", tmp_path / "newest.json", tmp_path / "moved.json"
    oldest.write_text(json.dumps({"resources": [resource]}))
    newest.write_text(json.dumps({"resources": [{**resource, "additionalSecretOutputs": ["a", "aWo"]}]}))
    elsewhere = "urn:pulumi:stack::project::aws:s3/bucket:Bucket::b"
    moved.write_text(json.dumps({"resources": [{**resource, "urn": elsewhere}]}))
    script = str(ROOT / ".ci" / "same_plans.py")
    assert subprocess.run([sys.executable, script, str(oldest), str(newest)]).returncode == 0
    differ = subprocess.run([sys.executable, script, str(moved), str(newest)], capture_output=True, text=True)
    assert differ.returncode == 1
    assert "resources[0].urn" in differ.stdout
