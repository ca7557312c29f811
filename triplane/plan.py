"""Offline planning: run a Pulumi program in-process under the SDK's mock runtime.

The program runs exactly as the Python language host runs it (`run_in_stack` on a fresh event
loop), but the resource monitor is a recording mock: every registration is kept with the inputs
the engine would see (engine property names, secrets still flagged), its parent, dependencies,
provider and protection. Nothing leaves the process: no CLI, no credentials, no network.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import Settings, configure, reset_options, run_in_stack, set_all_config
from pulumi.runtime import mocks as pulumi_mocks

from triplane.mocks import CloudMocks, StackOutputs

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"
PLAN_FORMAT = "triplane-plan/1"
ORGANIZATION = "organization"
"""The organization a plan runs in (the mock runtime's default; no URN or input carries it)."""


@dataclass(frozen=True)
class PlannedResource:
    """One resource as the engine would register it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    inputs: dict[str, Any]
    """Engine property names; secret values are kept, wrapped in the engine's secret envelope."""
    dependencies: tuple[str, ...]
    protect: bool
    retain_on_delete: bool
    provider: str | None
    aliases: tuple[str, ...]
    ignore_changes: tuple[str, ...]
    additional_secret_outputs: tuple[str, ...]

    @property
    def provider_urn(self) -> str | None:
        """The URN of the provider resource (`provider` is `<urn>::<id>`, as the engine writes it)."""
        return self.provider.rsplit("::", 1)[0] if self.provider else None

    def redacted_inputs(self) -> dict[str, Any]:
        """The inputs with every secret value replaced by a marker."""
        return redact(self.inputs)

    def secret_paths(self) -> list[str]:
        """Dotted paths of every input that carries the secret flag."""
        return sorted(_secret_paths(self.inputs, ""))


@dataclass
class Plan:
    """Everything one run of a stack's program registered, in registration order."""

    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack outputs; secret values are wrapped in the engine's secret envelope."""
    logs: list[tuple[str, str]] = field(default_factory=list)

    def by_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> PlannedResource:
        """The single resource of a type (and name suffix); a test helper that fails loudly."""
        found = [r for r in self.by_type(type_) if name is None or r.name == name or r.name.endswith(name)]
        if len(found) != 1:
            names = [r.name for r in self.by_type(type_)]
            raise LookupError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def get(self, urn: str) -> PlannedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def children(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]

    def to_json(self) -> dict[str, Any]:
        """The documented, machine-readable plan (see README, "Plan JSON")."""
        return {
            "format": PLAN_FORMAT,
            "project": self.project,
            "stack": self.stack,
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "custom": r.custom,
                    "parent": r.parent,
                    "inputs": r.redacted_inputs(),
                    "secretInputs": r.secret_paths(),
                    "dependencies": list(r.dependencies),
                    "protect": r.protect,
                    "retainOnDelete": r.retain_on_delete,
                    "provider": r.provider,
                    "aliases": list(r.aliases),
                    "ignoreChanges": list(r.ignore_changes),
                    "additionalSecretOutputs": list(r.additional_secret_outputs),
                }
                for r in self.resources
            ],
            "outputs": redact(self.outputs),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    def stack_outputs(self) -> StackOutputs:
        """The outputs as another stack's `pulumi.StackReference` reads them."""
        return StackOutputs(
            outputs=reveal(self.outputs),
            secret_names=sorted(name for name, value in self.outputs.items() if _has_secret(value)),
        )


def stack_outputs_of(document: Mapping[str, Any]) -> StackOutputs:
    """A plan JSON's outputs (`Plan.to_json`), as a stack reference reads them: a secret is the marker."""
    outputs = dict(document.get("outputs") or {})
    return StackOutputs(outputs=outputs, secret_names=sorted(n for n, v in outputs.items() if _has_marker(v)))


def _has_secret(value: Any) -> bool:
    return next(_secret_paths(value, ""), None) is not None


def _has_marker(value: Any) -> bool:
    if value == REDACTED:
        return True
    if isinstance(value, dict):
        return any(_has_marker(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_marker(v) for v in value)
    return False


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def redact(value: Any) -> Any:
    if is_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """Strip the secret envelopes (for code that needs the placeholder values, never for output)."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _secret_paths(value: Any, path: str) -> Iterator[str]:
    if is_secret(value):
        yield path or "."
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_paths(item, f"{path}[{index}]")


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping the full registration requests."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        self.registrations.append(
            PlannedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                inputs=json_format.MessageToDict(request.object),
                # The SDK sends a set as a list, in hash order; sorted, the plan is the same every run.
                dependencies=tuple(sorted(request.dependencies)),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                provider=request.provider or None,
                aliases=tuple(a.urn or self.alias_urn(a.spec, request) for a in request.aliases),
                ignore_changes=tuple(request.ignoreChanges),
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
            )
        )
        return response

    def ReadResource(self, request: Any) -> Any:
        """A resource read, not created (a stack reference): in the plan too, with its inputs."""
        response = super().ReadResource(request)
        self.registrations.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                parent=request.parent or None,
                inputs=json_format.MessageToDict(request.properties),
                dependencies=tuple(sorted(request.dependencies)),
                protect=False,
                retain_on_delete=False,
                provider=request.provider or None,
                aliases=(),
                ignore_changes=(),
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
            )
        )
        return response

    def alias_urn(self, spec: Any, request: Any) -> str:
        """The URN an alias given by parts stands for, as the engine computes it: a part left out is
        the resource's own (the provider SDKs add one such alias per former type of a resource)."""
        parent = "" if spec.noParent else spec.parentUrn or request.parent
        stack, project, type_, name = self.make_urn(parent, spec.type or request.type, spec.name or request.name)[
            len("urn:pulumi:") :
        ].split("::", 3)
        return f"urn:pulumi:{spec.stack or stack}::{spec.project or project}::{type_}::{name}"

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == STACK_TYPE:
            self.stack_outputs = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)


class _LogCollector(logging.Handler):
    """Keeps what the program logs at info and above (the engine shows debug only with --debug)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelname.lower(), record.getMessage()))


def run_program(
    program: Callable[[], Awaitable[None] | None],
    *,
    stack: str,
    config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    project: str = "triplane",
    mocks: pulumi_mocks.Mocks | None = None,
    drain: bool = True,
    references: Mapping[str, StackOutputs] | None = None,
) -> Plan:
    """Run `program` as a Pulumi stack under mocks and return what it registered.

    `config` maps full keys (`triplane:environment`) to values; structured values are passed as
    JSON text, as the engine does. Keys in `secret_keys` behave as `secure:` values do in a real
    deployment: `Config.require_secret` and friends return secret outputs. With `drain=False` the
    SDK alone waits for the program's work to finish (see `_settled`): the stock runtime, unchanged.
    `references` answers the program's stack references, by stack name (a use-case stack's platform).
    """
    mock = mocks or CloudMocks(project=project, stack=stack, references=references)
    monitor = _RecordingMonitor(mock)
    collector = _LogCollector()
    logger = logging.getLogger(f"triplane.plan.{stack}")
    logger.propagate = False
    logger.handlers = [collector]
    logger.setLevel(logging.INFO)

    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        _configure(monitor, logger, project=project, stack=stack)
        set_all_config(encoded, list(secret_keys or []))
        with _collector_paused(), _quiet_asyncio():
            try:
                loop.run_until_complete(run_in_stack(functools.partial(_settled, program) if drain else program))
            finally:
                _end_tasks(loop)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return Plan(
        project=project,
        stack=stack,
        # Registration order depends on the event loop; URN order does not. Same stack, same plan,
        # the stack itself first.
        resources=sorted(monitor.registrations, key=lambda r: (r.type != STACK_TYPE, r.urn)),
        outputs=monitor.stack_outputs,
        logs=collector.records,
    )


async def _settled(program: Callable[[], Awaitable[None] | None]) -> None:
    """Run `program`, then wait until the work it started has finished, before the SDK's own wait.

    `run_in_stack` awaits what a program returns, then waits for the outstanding RPCs and outputs
    itself. That wait is complete (an output or registration that failed fails the run there), but
    it waits on every outstanding output at once and starts over each time one finishes: outstanding
    outputs times rounds, tens of thousands of callbacks added and removed per round in a large
    environment. Waiting here first, a round at a time on everything then pending, costs each task
    once; the SDK's wait then finds nothing left. Failures are left where they are, for that wait to
    raise, so the run succeeds or fails exactly as it would without this.
    """
    result = program()
    if inspect.isawaitable(result):
        await result
    await _drain()


DRAIN_PATIENCE = 1.0
"""Seconds a round may pass with no task finishing before the drain leaves the rest to the SDK."""


async def _drain() -> None:
    """Wait until no other task of the loop is pending, or until a round makes no progress.

    A task that finishes only after the program (none in a Triplane program) costs one idle
    `DRAIN_PATIENCE`, never a hang: the SDK's wait, which follows, decides what the run waits for.
    """
    current = asyncio.current_task()
    while True:
        pending = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
        if not pending:
            return
        done, _ = await asyncio.wait(pending, timeout=DRAIN_PATIENCE)
        if not done:
            return


def _configure(monitor: _RecordingMonitor, logger: logging.Logger, *, project: str, stack: str) -> None:
    """Point the SDK's runtime at the recording monitor, as a preview (`dry_run`), with no root stack yet.

    Only calls `pulumi.runtime` exports: `reset_options` (which also forgets an earlier root stack),
    `configure` and `Settings`, as `set_mocks` itself configures the runtime. Not `set_mocks`: it also
    registers a root stack of its own at once, finished with no outputs, after which `run_in_stack`
    (how the language host runs a program, and what registers the stack's outputs) refuses to start
    ("Only one root Pulumi Stack may be active at once"); the one exported call that clears a root,
    `reset_options`, also drops the mocks. The monitor's features are asked by `run_in_stack` itself.
    """
    reset_options(project=project, stack=stack, preview=True, organization=ORGANIZATION)
    configure(
        Settings(
            project=project,
            stack=stack,
            monitor=monitor,
            engine=pulumi_mocks.MockEngine(logger),
            dry_run=True,
            organization=ORGANIZATION,
        )
    )


def _end_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what a failed run left pending, and take every task's error, as `asyncio.run` does.

    Otherwise the tasks are finalized whenever the collector next finds them, logging from inside
    whatever runs then (Python 3.11 turns that into a SystemError if it is a compile).
    """
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled():
            task.exception()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Run without the cyclic garbage collector, then collect the run's garbage once.

    A run makes hundreds of thousands of futures, tasks and outputs that refer to each other and
    stay alive until the last registration resolves. With the collector on, every collection
    rescans them (and the provider SDKs' large module state): about 60% of a plan's time, growing
    faster than the number of resources. Paused, they are scanned once, when the run is over.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


@contextlib.contextmanager
def _quiet_asyncio() -> Iterator[None]:
    """The language host silences asyncio's complaints about unobserved futures; so do we."""
    asyncio_logger = logging.getLogger("asyncio")
    level = asyncio_logger.level
    asyncio_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        asyncio_logger.setLevel(level)
