"""The Pulumi program: read `triplane:environment`, validate it, compose the environment.

Runs the same way under `pulumi up` and under `triplane plan` (the mock runtime). Bad input stops
the run with one paragraph naming the stack file and field, before any resource is registered.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from triplane.project import current_project
from triplane.stacks.compose import (
    compose,
    compose_platform,
    compose_use_cases,
    export_endpoints,
    prepare_use_cases,
)
from triplane.stacks.context import StackContext
from triplane.stacks.contract import OUTPUT, platform_document, provide, read_contract
from triplane.stacks.providers import build_providers
from triplane.stacks.secrets import check_secrets
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.base import stack_name_problem
from triplane.stacks.stages import check_against_local_platform, served_environment, use_case_environment


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
    A single stack builds everything; a platform stack the shared pieces of the use cases it serves,
    exported as its `platform` output; a use-case stack its use cases on the platform's references.
    """
    stack = pulumi.get_stack()
    if environment is None:
        try:
            environment = load_environment(stack)
            if environment.kind == "use-case":
                check_against_local_platform(environment, stack, stack_file(stack))
        except SpecError as error:
            raise pulumi.RunError(str(error)) from None
    source = stack_file(stack)
    kind, serves = environment.kind, list(environment.use_case_stacks)
    try:
        if kind == "platform":
            environment = served_environment(environment, stack, source)
    except SpecError as error:
        raise pulumi.RunError(str(error)) from None
    if kind == "use-case":
        use_case_stack(stack, source, environment)
        return
    ctx = StackContext(
        stack=stack, source=source, environment=environment, providers=build_providers(stack, environment)
    )
    if kind == "platform":
        compose_platform(ctx, serves)
        pulumi.export(OUTPUT, platform_document(ctx, serves=serves))
        return
    export_endpoints(compose(ctx))


def use_case_stack(stack: str, source: str, own: Environment) -> None:
    """Read the platform's contract through a stack reference; build the use cases on its references.

    Everything is built once the contract is known (it is, in a preview too: the platform stack is
    deployed first). The contract is secret (it holds kubeconfigs); what is built from it is not,
    except the kubeconfigs, which the references wrap as secrets again.
    """
    assert own.platform is not None
    reference = pulumi.StackReference(own.platform)

    def build(value: Any) -> dict[str, Any]:
        contract = read_contract(value, own.platform or "", source)
        contract.check_serves(stack, source)
        environment = use_case_environment(own, contract.environment, source)
        ctx = StackContext(
            stack=stack, source=source, environment=environment, providers=build_providers(stack, environment)
        )
        prepare_use_cases(ctx)
        provide(ctx, contract)
        endpoints = compose_use_cases(ctx)
        # Left unflattened, an endpoint value not known yet (a load balancer's address) stays one leaf.
        return {name: e.as_output() for name, e in endpoints.items()}

    pulumi.export("endpoints", pulumi.Output.unsecret(reference.get_output(OUTPUT).apply(build)))
