"""The Pulumi project a command works on: found like the `pulumi` CLI finds it.

`pulumi` looks for `Pulumi.yaml` (or `Pulumi.yml`) in the current folder and then in each parent,
and reads the stack files `Pulumi.<stack>.yaml` from the project's `stackConfigDir` (the project
folder itself when unset). Triplane does the same, so `triplane plan dev` reads the very file
`pulumi up -s dev` would, and the project's own `policies/policy-config.json` configures the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from triplane.stacks.spec.errors import SpecError

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
POLICY_CONFIG = Path("policies") / "policy-config.json"


class ProjectError(SpecError):
    """No Pulumi project where the command runs, or a `Pulumi.yaml` that cannot be used."""


@dataclass(frozen=True)
class Project:
    file: Path
    name: str
    runtime: str
    stacks_dir: Path

    @property
    def root(self) -> Path:
        return self.file.parent

    @property
    def policy_config(self) -> Path | None:
        """`<root>/policies/policy-config.json` when the project has one; else the pack's defaults apply."""
        path = self.root / POLICY_CONFIG
        return path if path.is_file() else None

    def stack_path(self, stack: str) -> Path:
        return self.stacks_dir / f"Pulumi.{stack}.yaml"

    def stack_names(self) -> list[str]:
        found = self.stacks_dir.glob("Pulumi.*.yaml")
        return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in found)

    def relative(self, path: Path) -> str:
        """`path` as errors name it: relative to the project root when it lies inside the project."""
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def project_file(folder: Path) -> Path | None:
    """The project file in `folder` itself, if any."""
    return next((folder / name for name in PROJECT_FILES if (folder / name).is_file()), None)


def locate(start: Path | None = None) -> Path | None:
    """The project file of `start` (default: the current folder) or of its nearest parent that has one."""
    here = (start or Path.cwd()).resolve()
    return next((f for folder in (here, *here.parents) if (f := project_file(folder)) is not None), None)


def find_project(start: Path | None = None) -> Project:
    """The project `pulumi` would use in `start` (default: the current folder)."""
    file = locate(start)
    if file is None:
        here = (start or Path.cwd()).resolve()
        raise ProjectError(
            str(here),
            ["no Pulumi.yaml in this folder or any parent; run `triplane new` to start a project here "
             "(or pass --cwd DIR to work on the project in DIR)"],
        )
    return read_project(file)


def current_project() -> Project | None:
    """The project of the current folder, or None outside any project."""
    file = locate()
    return read_project(file) if file is not None else None


def read_project(file: Path) -> Project:
    """Read a `Pulumi.yaml`; anything unusable in it is one error naming the file."""
    file = file.resolve()
    source = str(file)
    try:
        document: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(source, [f"cannot be read ({exc.__class__.__name__}: {exc})"]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        position = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ProjectError(source, [f"is not valid YAML{position}: {problem}"]) from None
    if not isinstance(document, dict):
        raise ProjectError(source, ["is not a Pulumi project file: it must be a mapping with `name` and `runtime`"])
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProjectError(source, ["`name` is missing or not a string; a Pulumi project needs a name"])
    runtime = document.get("runtime")
    if isinstance(runtime, dict):
        runtime = runtime.get("name")
    if not isinstance(runtime, str) or not runtime:
        raise ProjectError(
            source, ["`runtime` is missing; write `runtime: python` (or `runtime: {name: python, options: ...}`)"]
        )
    config_dir = document.get("stackConfigDir", ".")
    if not isinstance(config_dir, str) or not config_dir.strip():
        problem = f"`stackConfigDir` must be a folder path relative to the project, not {config_dir!r}"
        raise ProjectError(source, [problem])
    return Project(file=file, name=name, runtime=runtime, stacks_dir=(file.parent / config_dir).resolve())
