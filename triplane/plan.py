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
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi import _types as pulumi_types
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack

from triplane.mocks import CloudMocks

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"
PLAN_FORMAT = "triplane-plan/1"


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
    program: Callable[[], None],
    *,
    stack: str,
    config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    project: str = "triplane",
    mocks: pulumi_mocks.Mocks | None = None,
) -> Plan:
    """Run `program` as a Pulumi stack under mocks and return what it registered.

    `config` maps full keys (`triplane:environment`) to values; structured values are passed as
    JSON text, as the engine does. Keys in `secret_keys` behave as `secure:` values do in a real
    deployment: `Config.require_secret` and friends return secret outputs.
    """
    mock = mocks or CloudMocks(project=project, stack=stack)
    monitor = _RecordingMonitor(mock)
    collector = _LogCollector()
    logger = logging.getLogger(f"triplane.plan.{stack}")
    logger.propagate = False
    logger.handlers = [collector]
    logger.setLevel(logging.INFO)

    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
    set_all_config(encoded, list(secret_keys or []))
    pulumi_settings.configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=pulumi_mocks.MockEngine(logger),
            project=project,
            stack=stack,
            dry_run=True,
            organization="organization",
            callbacks=None,
        )
    )
    pulumi_settings.ROOT.set(None)
    with _collector_paused(), _offline_runtime():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            with _quiet_asyncio():
                try:
                    loop.run_until_complete(run_in_stack(program))
                finally:
                    _end_tasks(loop)
        finally:
            loop.close()
            asyncio.set_event_loop(None)
            pulumi_settings.ROOT.set(None)
    return Plan(
        project=project,
        stack=stack,
        # Registration order depends on the event loop; URN order does not. Same stack, same plan,
        # the stack itself first.
        resources=sorted(monitor.registrations, key=lambda r: (r.type != STACK_TYPE, r.urn)),
        outputs=monitor.stack_outputs,
        logs=collector.records,
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
def _offline_runtime() -> Iterator[None]:
    """Pieces of the SDK's runtime swapped for the length of an offline run; `pulumi up` and
    `pulumi preview` (the real language host) are untouched, and a plan registers the same requests.

    - Waiting for the program to settle: the SDK waits on every outstanding output at once, again
      each time one finishes (asyncio.wait), which costs outstanding outputs times rounds: tens of
      thousands of callbacks added and removed per round in a large environment. `_settle` awaits
      them one at a time, in linear time: the same end state, and a failed output still fails the run.
    - Source positions: for the CLI to point at a program line, the SDK walks and converts the whole
      call stack of every resource. A plan shows no source lines, so it sends none.
    - Type metadata: the SDK reads a resource class's type annotations again for every resource,
      and unwraps the same input types for every property. Both are pure functions of a class or a
      type, so they are worked out once per run.
    """
    saved: list[tuple[Any, str, Any]] = []
    for module, name, replace in _OFFLINE_SWAPS:
        original = getattr(module, name, None)
        if original is None:  # private to the SDK: a release that renames it leaves a slower, equal plan
            continue
        saved.append((module, name, original))
        setattr(module, name, replace(original))
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def _remembered(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`function` of one argument, computed once per (hashable) argument."""
    known: dict[Any, Any] = {}

    def lookup(argument: Any) -> Any:
        try:
            return known[argument]
        except KeyError:
            result = known[argument] = function(argument)
            return result
        except TypeError:  # unhashable: not remembered
            return function(argument)

    return lookup


_OFFLINE_SWAPS: list[tuple[Any, str, Callable[[Any], Any]]] = [
    # (SDK module, name, original -> what stands in for it during a run)
    (pulumi_stack, "wait_for_rpcs", lambda _: _settle),
    (pulumi_resource, "_get_stack_trace", lambda _: source_pb2.StackTrace),
    (pulumi_types, "resource_types", functools.cache),
    (pulumi_types, "unwrap_type", _remembered),
]


async def _settle(await_all_outstanding_tasks: bool = True) -> None:
    """Wait until no RPC and (by default) no output is outstanding; raise the first failure."""
    settings = pulumi_settings.SETTINGS
    rpc_manager = pulumi_settings._get_rpc_manager()
    while True:
        while rpc_manager.rpcs:
            await asyncio.sleep(0)  # let the RPCs just queued start before waiting on one
            try:
                await rpc_manager.rpcs.pop()
            except Exception as error:
                cause = rpc_manager.unhandled_exception
                if cause is not None:
                    raise error from cause.with_traceback(rpc_manager.exception_traceback)
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            while True:
                with settings.lock:
                    if not settings.outputs:
                        break
                    output = settings.outputs.pop()
                await output
        if not rpc_manager.rpcs:
            return


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
