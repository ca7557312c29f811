"""The Pulumi program: read `triplane:environment`, validate it, compose the environment.

Runs the same way under `pulumi up` and under `triplane plan` (the mock runtime). Bad input stops
the run with one paragraph naming the stack file and field, before any resource is registered.
"""

from __future__ import annotations

import json

import pulumi

from triplane.project import current_project
from triplane.stacks.compose import compose, export_endpoints
from triplane.stacks.context import StackContext
from triplane.stacks.providers import build_providers
from triplane.stacks.secrets import check_secrets
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.base import stack_name_problem


def stack_file(stack: str) -> str:
    """How errors name the stack's file: under `pulumi up` the program runs in the project root, and the
    file is `Pulumi.<stack>.yaml` in the project's `stackConfigDir` (`stacks/Pulumi.<stack>.yaml` here)."""
    project = current_project()
    if project is None:
        return f"Pulumi.{stack}.yaml"
    return project.relative(project.stack_path(stack))


def load_environment(stack: str) -> Environment:
    raw = pulumi.Config("triplane").get("environment")
    source = stack_file(stack)
    if (problem := stack_name_problem(stack)) is not None:
        raise SpecError(source, [problem])
    try:
        value = json.loads(raw) if raw is not None else None
    except json.JSONDecodeError as exc:
        raise SpecError(source, [f"triplane:environment is not valid structured config ({exc})"]) from None
    environment: Environment = validate_environment(value, source)
    check_secrets(environment, source, stack)
    return environment


def main(environment: Environment | None = None) -> None:
    """Compose the stack's environment, read from its config unless the caller already validated it.

    `triplane plan` reads and validates the stack file once, checks its secrets, and passes the result.
    """
    stack = pulumi.get_stack()
    if environment is None:
        try:
            environment = load_environment(stack)
        except SpecError as error:
            raise pulumi.RunError(str(error)) from None
    ctx = StackContext(
        stack=stack,
        source=stack_file(stack),
        environment=environment,
        providers=build_providers(stack, environment),
    )
    export_endpoints(compose(ctx))
