"""`triplane new`: a project that plans and passes the gate at once, for every choice of clouds and patterns."""

from __future__ import annotations

import importlib.metadata
import itertools
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from triplane.cli import cli
from triplane.scaffold import CLOUDS, PATTERNS, Choice, stack_file_text
from triplane.stacks.spec import validate_environment

ROOT = Path(__file__).resolve().parent.parent
WRITTEN = [
    "Pulumi.yaml",
    "__main__.py",
    "stacks/Pulumi.dev.yaml",
    "policies/policy-config.json",
    "requirements.txt",
    ".github/workflows/triplane.yml",
]


def subsets(items: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [c for n in range(1, len(items) + 1) for c in itertools.combinations(items, n)]


def new(folder: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["new", str(folder), *args])
    assert result.exit_code == 0, result.output
    return result.output


def plan_and_check(folder: Path, env: str = "dev") -> None:
    for command in (["plan", env, "--quiet"], ["check", env]):
        result = CliRunner().invoke(cli, ["--cwd", str(folder), *command])
        assert result.exit_code == 0, result.output


@pytest.fixture(autouse=True)
def _restore_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # --cwd changes the process's folder; this puts it back


def test_the_default_environment_plans_and_passes_at_once(tmp_path: Path) -> None:
    output = new(tmp_path / "acme")  # stdin is no terminal here: no questions, the default environment
    root = tmp_path / "acme"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == sorted(WRITTEN)
    assert f"next: cd {root} && triplane plan dev && triplane check dev" in output
    again = CliRunner().invoke(cli, ["--cwd", str(root), "new"])  # the same files: nothing to write
    assert again.exit_code == 0 and "wrote" not in again.output, again.output
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    assert project["name"] == "acme"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert project["stackConfigDir"] == "stacks"
    assert "from triplane.stacks.program import main\n\nmain()\n" in (root / "__main__.py").read_text()
    environment = yaml.safe_load((root / "stacks" / "Pulumi.dev.yaml").read_text())["config"]["triplane:environment"]
    assert [(u["pattern"], u["cloud"]) for u in environment["use_cases"]] == [("cloud-managed", "aws")]
    assert (root / "policies" / "policy-config.json").read_text() == (
        ROOT / "policies" / "policy-config.json"
    ).read_text()
    plan_and_check(root)


def test_requirements_pin_the_installed_release(tmp_path: Path) -> None:
    new(tmp_path)
    lines = [line for line in (tmp_path / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert lines == [f"triplane=={importlib.metadata.version('triplane')}"]


def test_the_workflow_checks_every_stack_and_previews_with_the_installed_pack(tmp_path: Path) -> None:
    new(tmp_path)
    workflow = yaml.safe_load((tmp_path / ".github" / "workflows" / "triplane.yml").read_text())
    check_steps = " ".join(str(s.get("run", "")) for s in workflow["jobs"]["check"]["steps"])
    assert "pip install -r requirements.txt" in check_steps
    assert "for file in stacks/Pulumi.*.yaml" in check_steps and 'triplane check "$stack"' in check_steps
    preview = " ".join(str(s.get("run", "")) for s in workflow["jobs"]["preview"]["steps"])
    assert 'pack="$(.venv/bin/triplane policy-pack)"' in preview
    assert '--policy-pack "$POLICY_PACK"' in preview and "--policy-pack-config policies/policy-config.json" in preview


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("mine\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config: {}\n")
    result = CliRunner().invoke(cli, ["new", str(tmp_path)])
    assert result.exit_code == 2
    assert "stacks/Pulumi.dev.yaml: the stack file exists and would be overwritten" in result.output
    assert "nothing was written (pass --force" in result.output
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["Pulumi.dev.yaml", "requirements.txt"]
    assert (tmp_path / "requirements.txt").read_text() == "mine\n"
    another = CliRunner().invoke(cli, ["new", str(tmp_path), "--env", "qa"])
    assert another.exit_code == 0, another.output
    assert (tmp_path / "requirements.txt").read_text() == "mine\n"
    version = importlib.metadata.version("triplane")
    assert f"requirements.txt: kept as it is; add `triplane=={version}` to it" in another.output
    assert (tmp_path / "stacks" / "Pulumi.dev.yaml").read_text() == "config: {}\n"
    forced = CliRunner().invoke(cli, ["new", str(tmp_path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "requirements.txt").read_text().startswith("# ")
    plan_and_check(tmp_path)


def test_an_environment_is_added_to_a_project_keeping_its_own_program_and_config(tmp_path: Path) -> None:
    new(tmp_path)
    (tmp_path / "policies" / "policy-config.json").write_text('{"all": "advisory"}\n')
    (tmp_path / "__main__.py").write_text("import my_company_setup\n")
    output = new(tmp_path, "--env", "staging", "--cloud", "gcp")
    assert "policies/policy-config.json: kept as it is (--force replaces it)" in output
    assert "__main__.py: kept as it is; call `triplane.stacks.program.main()` from it" in output
    assert (tmp_path / "policies" / "policy-config.json").read_text() == '{"all": "advisory"}\n'
    assert f"wrote {tmp_path / 'stacks' / 'Pulumi.staging.yaml'}" in output
    assert "wrote" not in output.replace(f"wrote {tmp_path / 'stacks' / 'Pulumi.staging.yaml'}", "")


def test_an_existing_python_project_keeps_its_pulumi_yaml(tmp_path: Path) -> None:
    original = "name: acme\nruntime: python\nstackConfigDir: deploy/stacks\n"
    (tmp_path / "Pulumi.yaml").write_text(original)
    output = new(tmp_path, "--env", "qa")
    assert "Pulumi.yaml: kept as it is" in output
    assert (tmp_path / "Pulumi.yaml").read_text() == original
    assert (tmp_path / "deploy" / "stacks" / "Pulumi.qa.yaml").is_file()
    workflow = (tmp_path / ".github" / "workflows" / "triplane.yml").read_text()
    assert "for file in deploy/stacks/Pulumi.*.yaml" in workflow
    plan_and_check(tmp_path, "qa")


def test_a_project_in_another_language_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: web\nruntime: nodejs\n")
    result = CliRunner().invoke(cli, ["new", str(tmp_path)])
    assert result.exit_code == 2
    assert "Pulumi.yaml: this Pulumi project runs nodejs, and Triplane's program is Python" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.yaml"]


def test_a_bad_environment_name_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["new", str(tmp_path), "--env", "Bad Name"])
    assert result.exit_code == 2 and "--env Bad Name" in result.output
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("clouds", subsets(CLOUDS), ids="+".join)
@pytest.mark.parametrize("patterns", subsets(PATTERNS), ids="+".join)
def test_every_combination_is_a_valid_commented_stack(clouds: tuple[str, ...], patterns: tuple[str, ...]) -> None:
    text = stack_file_text(Choice.of("dev", clouds, patterns))
    environment = validate_environment(yaml.safe_load(text)["config"]["triplane:environment"], "Pulumi.dev.yaml")
    placed = [(u.pattern, getattr(u, "cloud", None) or u.cluster.removeprefix("gpu-")) for u in environment.use_cases]
    assert sorted(placed) == sorted((p, c) for p in patterns for c in clouds)
    assert {c for c in CLOUDS if getattr(environment.clouds, c) is not None} == set(clouds)
    assert len(environment.kubernetes) == (len(clouds) if "self-managed" in patterns else 0)
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert sum(c.startswith(("# AWS:", "# Azure:", "# Google Cloud:")) for c in comments) == len(clouds)
    assert sum(c.startswith(("# SaaS:", "# Cloud-managed:", "# Self-managed:")) for c in comments) == (
        len(clouds) * len(patterns)
    )
    if "saas" in patterns:
        assert "secure: replace-with-pulumi-config-set-secret" in text


@pytest.mark.parametrize(
    ("clouds", "patterns"),
    [((cloud,), (pattern,)) for cloud in CLOUDS for pattern in PATTERNS] + [(CLOUDS, PATTERNS)],
    ids=lambda value: "+".join(value),
)
def test_each_cloud_and_pattern_plans_and_passes_the_gate(
    tmp_path: Path, clouds: tuple[str, ...], patterns: tuple[str, ...]
) -> None:
    args = [a for c in clouds for a in ("--cloud", c)] + [a for p in patterns for a in ("--pattern", p)]
    new(tmp_path / "p", *args)
    plan_and_check(tmp_path / "p")
