"""Stack settings files: find them, read them, and plan them offline.

A stack file is `stacks/Pulumi.<env>.yaml`, exactly what `pulumi up -s <env>` reads. Encrypted
(`secure:`) values cannot be decrypted without the stack's secrets provider, so an offline plan
replaces each with a placeholder that stays marked secret all the way through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

import stacks
from stacks.spec import Environment, SpecError, validate_environment
from stacks.spec.errors import ENVIRONMENT_KEY
from triplane.plan import Plan, run_program

STACKS_DIR = Path(stacks.__file__).resolve().parent


def placeholder(key: str) -> str:
    return f"placeholder-for-{key}"


@dataclass(frozen=True)
class StackFile:
    name: str
    path: Path
    config: dict[str, Any]
    secret_keys: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        """How errors name the file: relative to the project when it is the project's own."""
        try:
            return str(self.path.relative_to(STACKS_DIR.parent))
        except ValueError:
            return str(self.path)

    def environment(self) -> Environment:
        result: Environment = validate_environment(self.config.get(ENVIRONMENT_KEY), self.source)
        return result


def stack_names() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACKS_DIR.glob("Pulumi.*.yaml"))


def resolve(stack: str) -> tuple[str, Path]:
    """A stack name (`dev`) or a path to a stack file (`stacks/Pulumi.dev.yaml`)."""
    as_path = Path(stack)
    if as_path.suffix in (".yaml", ".yml") or "/" in stack:
        name = as_path.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
        return name, as_path
    return stack, STACKS_DIR / f"Pulumi.{stack}.yaml"


def load_stack(stack: str, secret_values: dict[str, str] | None = None) -> StackFile:
    """Read a stack file; `secure:` values become placeholders (or `secret_values[key]`), kept secret."""
    name, path = resolve(stack)
    if not path.is_file():
        known = ", ".join(stack_names()) or "none"
        raise SpecError(str(path), [f"no such stack file; known stacks: {known}"])
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        position = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(
            str(path), [f"is not valid YAML{position}: {problem}; fix the indentation or quoting there"]
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise SpecError(str(path), ["has no `config:` mapping; a stack file starts with `config:`"])
    config: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in document["config"].items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = (secret_values or {}).get(key, placeholder(key))
            secret_keys.append(key)
        else:
            config[key] = value
    return StackFile(name=name, path=path, config=config, secret_keys=secret_keys)


class PlanFailed(Exception):
    """The program failed under the mock runtime for a reason other than bad input."""


def plan_stack(stack: str, secret_values: dict[str, str] | None = None) -> Plan:
    """Validate and plan a stack offline. Bad input raises SpecError before anything is registered."""
    from stacks import program

    stack_file = load_stack(stack, secret_values)
    stack_file.environment()  # fail fast, with the file's own name, before the runtime starts
    try:
        return run_program(
            program.main, stack=stack_file.name, config=stack_file.config, secret_keys=stack_file.secret_keys
        )
    except pulumi.RunError as error:
        raise SpecError(stack_file.source, [str(error).split(": ", 1)[-1]]) from None
