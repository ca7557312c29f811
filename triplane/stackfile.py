"""Stack settings files: find them, read them, and plan them offline.

A stack file is `Pulumi.<env>.yaml` in the stack folder of the Pulumi project the command runs in
(`triplane.project`: `stacks/Pulumi.<env>.yaml` with `stackConfigDir: stacks`), exactly what
`pulumi up -s <env>` reads there. Encrypted
(`secure:`) values cannot be decrypted without the stack's secrets provider, so an offline plan
replaces each with a placeholder (or a value the caller plants) that stays marked secret all the way
through.

Everything a person can get wrong in a stack file (YAML syntax, a key written twice, the stack's
name, the environment value, a secret that is named but not set) is reported as one `SpecError`
paragraph before the program runs, so a plan either registers the whole environment or nothing.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from triplane.mocks import StackOutputs
from triplane.plan import Plan, run_program, stack_outputs_of
from triplane.project import current_project, find_project
from triplane.stacks.secrets import check_secrets
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.base import stack_name_problem
from triplane.stacks.spec.errors import ENVIRONMENT_KEY


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
        return source_of(self.path)

    def environment(self) -> Environment:
        if ENVIRONMENT_KEY in self.secret_keys:
            raise SpecError(
                self.source,
                [f"{ENVIRONMENT_KEY} is encrypted (`secure:`), so it cannot be read offline; it holds settings, "
                 "not secrets: write it as plain YAML and keep secrets in `*_secret` keys"],
            )
        result: Environment = validate_environment(self.config.get(ENVIRONMENT_KEY), self.source)
        return result

    def whole_environment(self) -> Environment:
        """The environment as its stages build it, for what reads a stack's whole picture (diagrams,
        costs, image pins): a use-case stack on the clouds and clusters of its platform stack (this
        project's), a platform stack with the use cases of the stacks it serves, a single stack as is."""
        from triplane.stacks.stages import (
            platform_stack_name,
            served_environment,
            shared_settings,
            use_case_environment,
        )

        environment = self.environment()
        if environment.kind == "platform":
            return served_environment(environment, self.name, self.source)
        if environment.kind == "use-case":
            assert environment.platform is not None
            platform = load_stack(platform_stack_name(environment.platform)).environment()
            return use_case_environment(environment, shared_settings(platform), self.source)
        return environment

    def is_set(self, key: str) -> bool:
        """`stacks.secrets.ConfigView`: the full key has a value in this file."""
        return key in self.config

    def is_secret(self, key: str) -> bool:
        """`stacks.secrets.ConfigView`: the full key's value is encrypted (`secure:`) in this file."""
        return key in self.secret_keys


def source_of(path: Path) -> str:
    """How errors name a stack file: relative to the root of the project in use, when inside it."""
    project = current_project()
    return project.relative(path) if project is not None else str(path)


def stack_names() -> list[str]:
    """The stacks of the project in use (its `Pulumi.<name>.yaml` files)."""
    return find_project().stack_names()


def resolve(stack: str) -> tuple[str, Path]:
    """A stack name (`dev`: the project's stack file) or a path to a stack file (`stacks/Pulumi.dev.yaml`)."""
    as_path = Path(stack)
    if as_path.suffix in (".yaml", ".yml") or "/" in stack:
        name = as_path.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
        return name, as_path
    return stack, find_project().stack_path(stack)


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice in one mapping, as Pulumi's own reader does."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str) and key in seen:
            first = seen[key].start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key `{key}` appears twice in one mapping (first at line {first}), and only one can count",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path) -> Any:
    """Parse a stack file; every YAML problem becomes one SpecError naming the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(source_of(path), [f"cannot be read ({exc.__class__.__name__}: {exc})"]) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        position = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        hint = "remove one of them" if "appears twice" in problem else "fix the indentation or quoting there"
        raise SpecError(source_of(path), [f"is not valid YAML{position}: {problem}; {hint}"]) from None


def check_stack_name(name: str, source: str) -> None:
    problem = stack_name_problem(name)
    if problem is not None:
        raise SpecError(source, [problem])


def load_stack(stack: str, secret_values: dict[str, str] | None = None) -> StackFile:
    """Read a stack file; `secure:` values become placeholders (or `secret_values[key]`), kept secret.

    `secret_values` maps full config keys (`triplane:openaiApiKey`) to the values to plant.
    """
    name, path = resolve(stack)
    if not path.is_file():
        project = current_project()
        known = ", ".join(project.stack_names()) if project is not None else ""
        raise SpecError(source_of(path), [f"no such stack file; known stacks: {known or 'none'}"])
    source = source_of(path)
    document = read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise SpecError(source, ["has no `config:` mapping; a stack file starts with `config:`"])
    check_stack_name(name, source)
    config: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in document["config"].items():
        if not isinstance(key, str):
            raise SpecError(source, [f"config key {key!r} is not a string; write keys as `triplane:<name>`"])
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = (secret_values or {}).get(key, placeholder(key))
            secret_keys.append(key)
        else:
            config[key] = value
    return StackFile(name=name, path=path, config=config, secret_keys=secret_keys)


class PlanFailed(Exception):
    """The program failed under the mock runtime for a reason other than bad input."""


def plan_stack(stack: str, secret_values: dict[str, str] | None = None) -> Plan:
    """Validate and plan a stack offline. Bad input raises SpecError before anything is registered.

    `secret_values` plants values for `secure:` keys (full keys, e.g. `triplane:openaiApiKey`).
    """
    stack_file = load_stack(stack, secret_values)
    return plan_file(stack_file, stack_file.environment())


def platform_outputs(
    stack_file: StackFile, environment: Environment, platform_plan: Path | None = None
) -> dict[str, StackOutputs]:
    """A use-case stack's platform outputs, by platform name: from `platform_plan` (a `triplane plan
    --json` of the platform stack), or from planning the platform stack of this project now. The use
    cases are checked against what it exports before anything runs."""
    from triplane.stacks.contract import OUTPUT, read_contract
    from triplane.stacks.stages import other_project, platform_stack_name, use_case_environment

    platform = environment.platform
    assert platform is not None
    if platform_plan is not None:
        try:
            document = json.loads(platform_plan.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            fix = f"write one with `triplane plan {platform_stack_name(platform)} --json FILE`"
            raise SpecError(str(platform_plan), [f"is not a readable plan JSON ({error}); {fix}"]) from None
        outputs = stack_outputs_of(document if isinstance(document, dict) else {})
    else:
        elsewhere = other_project(platform)
        if elsewhere is not None:
            project = find_project()
            raise SpecError(
                stack_file.source,
                [f"{ENVIRONMENT_KEY}.platform: {platform!r} is a stack of the project {elsewhere!r}, not of this "
                 f"one ({project.name!r}); plan it there with `triplane plan {platform_stack_name(platform)} "
                 "--json FILE` and pass `--platform-plan FILE`"],
            )
        outputs = plan_stack(platform_stack_name(platform)).stack_outputs()
    contract = read_contract(outputs.outputs.get(OUTPUT), platform, stack_file.source)
    contract.check_serves(stack_file.name, stack_file.source)
    use_case_environment(environment, contract.environment, stack_file.source)
    return {platform: outputs}


def plan_file(stack_file: StackFile, environment: Environment, platform_plan: Path | None = None) -> Plan:
    """Plan a stack file already read, with its environment already validated (`StackFile.environment`).

    The secrets it names are checked first, with the file's own name; the program then composes this
    environment as it is, without reading or validating it again. A use-case stack's platform is
    planned first (or read from `platform_plan`), and its stack reference answered with its outputs.
    """
    from triplane.stacks import program

    check_secrets(environment, stack_file.source, stack_file.name, stack_file)
    references = platform_outputs(stack_file, environment, platform_plan) if environment.kind == "use-case" else None
    if environment.kind == "platform":
        from triplane.stacks.stages import served_environment

        served_environment(environment, stack_file.name, stack_file.source)  # a use case's error names its file
    try:
        return run_program(
            functools.partial(program.main, environment),
            stack=stack_file.name,
            config=stack_file.config,
            secret_keys=stack_file.secret_keys,
            references=references,
        )
    except pulumi.RunError as error:
        raise SpecError(stack_file.source, [str(error).split(": ", 1)[-1]]) from None
    except SpecError as error:
        # Raised by a builder: name the file that was read, not the one the program assumes.
        raise SpecError(stack_file.source, error.problems) from None
