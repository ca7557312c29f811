"""The CLI works on the Pulumi project it runs in: found upward from the current folder, as `pulumi` finds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from triplane.cli import cli
from triplane.gate import default_config
from triplane.project import ProjectError, current_project, find_project
from triplane.scaffold import Choice, stack_file_text
from triplane.stackfile import load_stack, resolve, stack_names
from triplane.stacks import program
from triplane.stacks.spec import SpecError, validate_environment

ROOT = Path(__file__).resolve().parent.parent


def make_project(root: Path, config_dir: str | None = "stacks", env: str = "dev") -> Path:
    """A user's own Python Pulumi project with one Triplane stack; returns the stack file."""
    root.mkdir(parents=True, exist_ok=True)
    document = {"name": "acme-ai", "runtime": {"name": "python", "options": {"virtualenv": ".venv"}}}
    if config_dir is not None:
        document["stackConfigDir"] = config_dir
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(document))
    folder = root / (config_dir or ".")
    folder.mkdir(parents=True, exist_ok=True)
    stack = folder / f"Pulumi.{env}.yaml"
    stack.write_text(stack_file_text(Choice.of(env)))
    return stack


def test_the_repository_is_a_project_of_its_own() -> None:
    project = find_project(ROOT / "tests")
    assert project.root == ROOT
    assert project.stacks_dir == ROOT / "stacks"
    assert project.policy_config == ROOT / "policies" / "policy-config.json"
    assert {"dev", "prod", "local"} <= set(project.stack_names())


def test_found_upward_with_its_stack_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = make_project(tmp_path / "acme", config_dir="envs")
    deep = tmp_path / "acme" / "src" / "app"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    project = find_project()
    assert project.root == (tmp_path / "acme").resolve()
    assert project.stacks_dir == (tmp_path / "acme" / "envs").resolve()
    assert project.name == "acme-ai" and project.runtime == "python"
    assert resolve("dev") == ("dev", stack.resolve())
    assert stack_names() == ["dev"]
    assert load_stack("dev").source == "envs/Pulumi.dev.yaml"


def test_without_stack_config_dir_the_stacks_sit_beside_pulumi_yaml(tmp_path: Path) -> None:
    make_project(tmp_path, config_dir=None)
    project = find_project(tmp_path)
    assert project.stacks_dir == tmp_path.resolve()
    assert project.stack_names() == ["dev"]


def test_pulumi_yml_is_found_too(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yml").write_text("name: p\nruntime: python\n")
    assert find_project(tmp_path).file.name == "Pulumi.yml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: p\nruntime: [python\n", "is not valid YAML at line"),
        ("- just a list\n", "is not a Pulumi project file"),
        ("runtime: python\n", "`name` is missing"),
        ("name: p\n", "`runtime` is missing"),
        ("name: p\nruntime: python\nstackConfigDir: 3\n", "`stackConfigDir` must be a folder path"),
    ],
)
def test_a_malformed_pulumi_yaml_is_named(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(text)
    with pytest.raises(ProjectError) as caught:
        find_project(tmp_path / ".")
    assert caught.value.source == str((tmp_path / "Pulumi.yaml").resolve())
    assert expected in str(caught.value)


def test_outside_any_project_the_cli_says_how_to_start_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert current_project() is None
    commands = (["plan", "dev"], ["check", "dev"], ["cost", "dev"], ["pin", "dev"], ["diagram", "dev"],
                ["recommend", "--check", "dev"])
    for command in commands:
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, (command, result.output)
        assert f"{tmp_path.resolve()}: no Pulumi.yaml in this folder or any parent" in result.output
        assert "run `triplane new`" in result.output and "--cwd" in result.output


def test_cwd_runs_as_if_started_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path / "acme")
    monkeypatch.chdir(tmp_path)  # restored after the test, whatever --cwd did
    result = CliRunner().invoke(cli, ["--cwd", str(tmp_path / "acme"), "plan", "dev", "--quiet", "--json", "p.json"])
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "acme" / "p.json").read_text())
    assert plan["stack"] == "dev"
    names = {r["name"] for r in plan["resources"]}
    assert "dev-doc-search" in " ".join(names)
    assert "dev-support-drafts" not in " ".join(names)  # the shipped dev stack was not read
    missing = CliRunner().invoke(cli, ["--cwd", str(tmp_path / "nowhere"), "plan", "dev"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_a_typo_in_the_users_stack_file_is_reported_against_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_project(tmp_path / "acme", config_dir="envs")
    stack.write_text(stack.read_text().replace("data_classification:", "data_clasification:"))
    monkeypatch.chdir(tmp_path / "acme" / "envs")
    for command in ("plan", "check"):
        result = CliRunner().invoke(cli, [command, "dev"])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: envs/Pulumi.dev.yaml: ")
        assert "data_clasification" in result.output
        assert "stacks/Pulumi.dev.yaml" not in result.output


def test_a_missing_stack_lists_the_projects_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path, env="qa")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["plan", "dev"])
    assert result.exit_code == 2
    assert "stacks/Pulumi.dev.yaml: no such stack file; known stacks: qa" in result.output


def test_the_program_names_the_projects_stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `pulumi up` the program runs in the project root; errors name the file in stackConfigDir."""
    monkeypatch.chdir(ROOT)
    assert program.stack_file("prod") == "stacks/Pulumi.prod.yaml"
    make_project(tmp_path, config_dir="config/stacks")
    monkeypatch.chdir(tmp_path)
    assert program.stack_file("dev") == "config/stacks/Pulumi.dev.yaml"
    make_project(tmp_path / "flat", config_dir=None)
    monkeypatch.chdir(tmp_path / "flat")
    assert program.stack_file("dev") == "Pulumi.dev.yaml"


WIDE = "198.51.0.0/16"


def wide_range_environment() -> dict[str, object]:
    environment = yaml.safe_load(stack_file_text(Choice.of("dev", ["aws"], ["self-managed"])))
    document: dict[str, object] = environment["config"]["triplane:environment"]
    document["kubernetes"][0]["new"]["api_authorized_cidrs"] = [WIDE]  # type: ignore[index]
    return document


def test_the_policy_config_is_the_projects_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate and the spec's cluster-range rule read the project's policies/policy-config.json, or none."""
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert default_config() is None  # no file: the packs' defaults
    with pytest.raises(SpecError, match=f"{WIDE} opens the API server"):
        validate_environment(wide_range_environment(), "x")
    config = tmp_path / "policies" / "policy-config.json"
    config.parent.mkdir()
    allowance = {"cidr": WIDE, "reason": "The partner's deploy fleet egresses from its whole /16."}
    config.write_text(json.dumps({"cluster-api-authorized-ranges": {"allowedWideRanges": [allowance]}}))
    assert default_config() == config.resolve()
    assert validate_environment(wide_range_environment(), "x").kubernetes[0].new is not None
    monkeypatch.chdir(ROOT)  # the repository's own config allows no wide range
    with pytest.raises(SpecError, match=f"{WIDE} opens the API server"):
        validate_environment(wide_range_environment(), "x")


def test_without_a_policy_config_the_gate_runs_the_pack_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository's config relaxes the root-image rule for TGI; a project without it gets the strict default."""
    make_project(tmp_path)
    stack = tmp_path / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack_file_text(Choice.of("dev", ["aws"], ["self-managed"])))
    monkeypatch.chdir(tmp_path)
    strict = CliRunner().invoke(cli, ["check", "dev", "--json"])
    assert strict.exit_code == 1, strict.output
    failed = {v["policy"] for v in json.loads(strict.output)["violations"] if v["enforcementLevel"] == "mandatory"}
    assert "k8s-run-as-non-root" in failed
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "policy-config.json").write_text((ROOT / "policies" / "policy-config.json").read_text())
    assert CliRunner().invoke(cli, ["check", "dev"]).exit_code == 0


def test_policy_pack_prints_the_installed_pack_folder() -> None:
    result = CliRunner().invoke(cli, ["policy-pack"])
    assert result.exit_code == 0
    folder = Path(result.output.strip())
    assert (folder / "PulumiPolicy.yaml").is_file() and (folder / "__main__.py").is_file()
    assert folder.resolve() == (ROOT / "policies" / "triplane").resolve()
