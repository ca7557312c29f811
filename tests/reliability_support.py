"""Shared helpers for the reliability tests: stack copies, planted secrets, recorded runs, leak search."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from triplane.mocks import CloudMocks
from triplane.plan import Plan, is_secret, run_program
from triplane.stackfile import load_stack, resolve
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID
from triplane.stacks.secrets import check_secrets
from triplane.stacks.spec.errors import ENVIRONMENT_KEY

SHIPPED_STACKS = ("dev", "prod", "local")
PLANT_SUFFIX = "7f3a"
PROVIDER_PREFIX = "pulumi:providers:"


def stack_path(stack: str) -> Path:
    return resolve(stack)[1]


def ref(stack: str) -> str:
    """What `load_stack` / `plan_stack` take for a shipped stack: its name."""
    return stack


def stack_document(stack: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(stack_path(stack).read_text(encoding="utf-8"))
    return document


def write_stack(directory: Path, name: str, document: dict[str, Any]) -> Path:
    """Write a stack file `Pulumi.<name>.yaml`; the file name is the stack name."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def variant(
    directory: Path, stack: str, change: Callable[[dict[str, Any]], None], *, secrets: dict[str, str] | None = None
) -> Path:
    """A copy of a shipped stack under the same stack name, its environment changed in place by `change`.

    `secrets` adds `secure:` config keys (full key -> anything; the value is planted or a placeholder).
    """
    document = copy.deepcopy(stack_document(stack))
    change(document["config"][ENVIRONMENT_KEY])
    for key in secrets or {}:
        document["config"][key] = {"secure": "v1:placeholder"}
    return write_stack(directory, stack, document)


def secure_keys(stack: str) -> list[str]:
    """Every `secure:` config key of a stack file: its secret slots."""
    return list(load_stack(ref(stack)).secret_keys)


def planted(key: str) -> str:
    """A recognisable secret value for config key `triplane:<name>`."""
    return f"PLANTED-{key.split(':', 1)[-1]}-{PLANT_SUFFIX}"


def planted_values(stack: str) -> dict[str, str]:
    return {key: planted(key) for key in secure_keys(stack)}


# --- recorded runs ---------------------------------------------------------------------------------


class RecordingMocks(CloudMocks):
    """CloudMocks that remember the type of every custom resource the program asked for."""

    def __init__(self, project: str = "triplane", stack: str = "stack") -> None:
        super().__init__(project=project, stack=stack)
        self.created: list[str] = []

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args.typ)
        return super().new_resource(args)

    def beyond_providers(self) -> list[str]:
        return [t for t in self.created if not t.startswith(PROVIDER_PREFIX)]


def plan_recorded(stack: str, secret_values: dict[str, str] | None = None) -> tuple[Plan, RecordingMocks]:
    """`plan_stack`, step by step, with a recording mock: the caller sees what was created before a failure.

    Raises what `plan_stack` raises; the mocks are attached to the exception as `recorded`.
    """
    from triplane.stacks import program

    stack_file = load_stack(stack, secret_values)
    environment = stack_file.environment()
    check_secrets(environment, stack_file.source, stack_file.name, stack_file)
    mocks = RecordingMocks(stack=stack_file.name)
    try:
        plan = run_program(
            functools.partial(program.main, environment),
            stack=stack_file.name,
            config=stack_file.config,
            secret_keys=stack_file.secret_keys,
            mocks=mocks,
        )
    except BaseException as error:
        error.recorded = mocks  # type: ignore[attr-defined]
        raise
    return plan, mocks


# --- leaks ------------------------------------------------------------------------------------------


def unwrapped_paths(value: Any, needles: tuple[str, ...], path: str = "") -> Iterator[str]:
    """Paths where a needle occurs in `value` outside every secret envelope."""
    if is_secret(value):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if any(n in str(key) for n in needles):
                yield f"{path}.{key}(key)"
            yield from unwrapped_paths(item, needles, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unwrapped_paths(item, needles, f"{path}[{index}]")
    elif isinstance(value, str) and any(n in value for n in needles):
        yield path or "."


def contains(value: Any, needles: tuple[str, ...]) -> bool:
    """Whether a needle occurs anywhere in `value`, inside envelopes or not."""
    if isinstance(value, dict):
        return any(contains(k, needles) or contains(v, needles) for k, v in value.items())
    if isinstance(value, list):
        return any(contains(v, needles) for v in value)
    return isinstance(value, str) and any(n in value for n in needles)


def shipped_plan(stack: str) -> Plan:
    """The shipped stack's plan, shared with every other test module of the session."""
    from tests.conftest import planned

    return planned(stack)


# --- real-shaped ARNs for the IAM linter -----------------------------------------------------------


class ArnMocks(CloudMocks):
    """CloudMocks whose AWS ARNs have the services' real shapes, so a linter can match them to actions."""

    def __init__(self, stack: str, region: str) -> None:
        super().__init__(stack=stack)
        self.region = region

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        region, account, inputs = self.region, AWS_ACCOUNT_ID, dict(args.inputs)
        name = str(inputs.get("name") or args.name)
        arns = {
            "aws:iam/role:Role": f"arn:aws:iam::{account}:role/{name}",
            "aws:iam/policy:Policy": f"arn:aws:iam::{account}:policy/{name}",
            "aws:kms/key:Key": f"arn:aws:kms:{region}:{account}:key/{args.name}-key-id",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}",
            "aws:secretsmanager/secret:Secret": f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf",
            "aws:s3/bucket:Bucket": f"arn:aws:s3:::{inputs.get('bucket', args.name)}",
            "aws:bedrock/guardrail:Guardrail": f"arn:aws:bedrock:{region}:{account}:guardrail/{args.name}-id",
            "aws:eks/cluster:Cluster": f"arn:aws:eks:{region}:{account}:cluster/{name}",
            "aws:efs/fileSystem:FileSystem": f"arn:aws:elasticfilesystem:{region}:{account}:file-system/fs-0123abcd",
            "aws:sqs/queue:Queue": f"arn:aws:sqs:{region}:{account}:{name}",
        }
        if args.typ in arns:
            state["arn"] = arns[args.typ]
        if args.typ == "aws:bedrock/guardrail:Guardrail":
            state["guardrailArn"] = arns[args.typ]
        return resource_id, state


def plan_with_arns(stack: str, region: str) -> Plan:
    from triplane.stacks import program

    stack_file = load_stack(ref(stack))
    return run_program(
        program.main,
        stack=stack_file.name,
        config=stack_file.config,
        secret_keys=stack_file.secret_keys,
        mocks=ArnMocks(stack_file.name, region),
    )


@functools.cache
def planted_plan(stack: str) -> Plan:
    """The shipped stack planned with a recognisable value in every secret slot."""
    from triplane.stackfile import plan_stack

    return plan_stack(ref(stack), secret_values=planted_values(stack))
