"""The program runs as Pulumi's Python language host runs it: from the project root, as `__main__`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# The language host starts `python -u <sdk>/pulumi-language-python-exec ... PROGRAM` with the working
# directory set to the project directory, so sys.path[0] is the exec script's own folder, not the
# project. It then runs `runpy.run_path(PROGRAM, run_name="__main__")` inside `run_in_stack`, which
# puts the program directory first on sys.path. This driver does the same, from a folder of its own.
DRIVER = textwrap.dedent(
    """
    import json, runpy, sys
    from triplane.plan import run_program
    config = json.loads(sys.argv[2])
    plan = run_program(
        lambda: runpy.run_path(".", run_name="__main__"),
        stack=sys.argv[1], config=config["values"], secret_keys=config["secret_keys"],
    )
    import importlib.util
    import triplane.components, triplane.stacks
    print(json.dumps({
        "modules": [m.__file__ for m in (triplane.stacks, triplane.components)],
        "bare": [name for name in ("components", "stacks", "policies") if importlib.util.find_spec(name)],
        "resources": len(plan.resources),
        "outputs": sorted(plan.outputs),
    }))
    """
)


def test_pulumi_yaml_declares_the_python_program_and_stack_dir() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "triplane"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["stackConfigDir"] == "stacks"
    assert "main" not in project  # the program is the project root's __main__.py
    assert (ROOT / "__main__.py").is_file()
    assert sorted(p.name for p in (ROOT / "stacks").glob("Pulumi.*.yaml")) == [
        "Pulumi.dev.yaml",
        "Pulumi.local.yaml",
        "Pulumi.prod-apps.yaml",
        "Pulumi.prod-clinical.yaml",
        "Pulumi.prod-platform.yaml",
        "Pulumi.prod.yaml",
    ]


def test_a_project_of_its_own_runs_the_installed_triplane(tmp_path: Path) -> None:
    """A project holding only its program and stack file runs: the program imports Triplane as the
    installed `triplane` package, and no bare `components`, `stacks` or `policies` module exists."""
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "__main__.py", project)
    shutil.copy(ROOT / "Pulumi.yaml", project)
    shutil.copy(ROOT / "stacks" / "Pulumi.local.yaml", project / "stacks")
    driver = tmp_path / "exec" / "pulumi-language-python-exec.py"
    driver.parent.mkdir()
    driver.write_text(DRIVER)
    from triplane.stackfile import load_stack

    stack = load_stack("local")
    config = {"values": stack.config, "secret_keys": stack.secret_keys}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PULUMI_CONFIG")}
    result = subprocess.run(
        [sys.executable, "-u", str(driver), "local", json.dumps(config)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert [Path(m).resolve() for m in report["modules"]] == [
        ROOT / "stacks" / "__init__.py",
        ROOT / "components" / "__init__.py",
    ]
    assert report["bare"] == []
    assert report["resources"] > 5
    assert report["outputs"] == ["endpoints"]
