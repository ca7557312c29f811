"""The offline policy gate: run Triplane's policy packs against a plan, exactly as the engine would.

Each pack starts as its own process the way the Pulumi engine starts a Python policy pack
(`python -u -m pulumi.policy <engine address> .`, working directory the pack folder, stack
settings in `PULUMI_CONFIG`); it prints its port and serves the analyzer protocol. The gate then
plays the engine's part over gRPC: `Handshake` and `ConfigureStack` (tolerated when a pack does not
implement them), `GetAnalyzerInfo`, `Configure` with the policy configuration reconciled the way the
engine does it (schema defaults, then the pack's initial config, then the config file; `all` sets
every enforcement level; the result validated against each policy's schema), `Analyze` once per
resource and `AnalyzeStack` once with every resource. Properties are the engine inputs of the plan
with secret values in the engine's secret envelope.

Packs start in parallel, one process per pack per check, and are always stopped before
`check_plan` returns. A mandatory violation fails the gate.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policies.deployability import Need
from triplane.plan import STACK_TYPE, Plan, PlannedResource
from triplane.runtime import paths as runtime_paths
from triplane.runtime import render as render_runtime
from triplane.runtime import to_json as runtime_json

POLICIES_DIR = Path(__file__).resolve().parent.parent / "policies"
DEFAULT_PACKS = ("triplane",)
DEFAULT_CONFIG = POLICIES_DIR / "policy-config.json"
CHECK_FORMAT = "triplane-check/1"
ENGINE_ADDRESS = "127.0.0.1:0"
"""Passed where the engine passes its own address; the Python policy runtime never dials it."""
START_TIMEOUT = 90.0
RPC_TIMEOUT = 120.0
IN_FLIGHT = 16
_MAX_MESSAGE = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()}
SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "unspecified",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
SHARED = "shared"
STACK_LEVEL = "(stack)"


class GateError(Exception):
    """The gate could not run: a pack failed to start or answer, or the policy config is invalid."""


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyInfo:
    pack: str
    name: str
    description: str
    enforcement: str
    """The enforcement level in effect for this check (after configuration)."""
    severity: str
    kind: str
    remediation: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Violation:
    pack: str
    policy: str
    enforcement: str
    severity: str
    message: str
    description: str
    use_case: str
    urn: str | None
    resource_type: str | None
    resource_name: str | None
    remediation: str = ""
    references: tuple[str, ...] = ()

    @property
    def mandatory(self) -> bool:
        return self.enforcement == "mandatory"


@dataclass
class PackRun:
    name: str
    version: str
    path: str
    policies: list[PolicyInfo] = field(default_factory=list)


@dataclass
class GateResult:
    stack: str
    packs: list[PackRun]
    violations: list[Violation]
    resources: int
    exemptions: list[dict[str, str]] = field(default_factory=list)
    """Every exemption in effect, with its policy and reason (they are part of the record)."""
    runtime: list[Need] = field(default_factory=list)
    """Every run-time need of the plan and the path that meets it (the `deployable-*` policies judge them)."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.mandatory]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if not v.mandatory]

    @property
    def passed(self) -> bool:
        return not self.mandatory

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def policy_names(self, enforcement: str | None = None) -> set[str]:
        return {v.policy for v in self.violations if enforcement is None or v.enforcement == enforcement}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CHECK_FORMAT,
            "stack": self.stack,
            "passed": self.passed,
            "summary": {
                "mandatory": len(self.mandatory),
                "advisory": len(self.advisory),
                "resources": self.resources,
                "policies": sum(len(p.policies) for p in self.packs),
            },
            "packs": [
                {"name": p.name, "version": p.version, "path": p.path, "policies": len(p.policies)}
                for p in self.packs
            ],
            "violations": [
                {
                    "pack": v.pack,
                    "policy": v.policy,
                    "enforcementLevel": v.enforcement,
                    "severity": v.severity,
                    "useCase": v.use_case,
                    "urn": v.urn,
                    "resourceType": v.resource_type,
                    "resourceName": v.resource_name,
                    "message": v.message,
                    "description": v.description,
                    "remediation": v.remediation,
                    "references": list(v.references),
                }
                for v in self.violations
            ],
            "exemptions": self.exemptions,
            "runtime": runtime_json(self.runtime),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    def render(self) -> str:
        """Violations grouped by use case, then by resource; mandatory first."""
        lines: list[str] = []
        packs = ", ".join(f"{p.name} {p.version} ({len(p.policies)} policies)" for p in self.packs)
        lines.append(f"triplane check {self.stack}: {self.resources} resources, packs {packs}")
        groups: dict[str, dict[tuple[str, str], list[Violation]]] = {}
        for violation in self.violations:
            key = (violation.resource_type or "", violation.resource_name or "")
            groups.setdefault(violation.use_case, {}).setdefault(key, []).append(violation)
        for use_case in sorted(groups, key=lambda u: (u in (SHARED, STACK_LEVEL), u)):
            label = "shared resources" if use_case == SHARED else (
                "the stack as a whole" if use_case == STACK_LEVEL else f"use case {use_case}"
            )
            lines.append("")
            lines.append(label)
            for (type_, name), violations in sorted(groups[use_case].items()):
                lines.append(f"  {name or '(stack)'}" + (f"  [{type_}]" if type_ else ""))
                for v in sorted(violations, key=lambda v: (not v.mandatory, v.policy, v.message)):
                    level = "MANDATORY" if v.mandatory else "advisory "
                    refs = f" [{', '.join(v.references)}]" if v.references else ""
                    lines.append(f"    {level} {v.policy} ({v.severity}){refs}: {v.message}")
                    if v.remediation:
                        lines.append(f"              fix: {v.remediation}")
        if self.runtime:
            lines.append("")
            lines += render_runtime(self.runtime)
        if self.exemptions:
            lines.append("")
            lines.append("exemptions in effect")
            for exemption in self.exemptions:
                lines.append(f"  {exemption['policy']}: {exemption['resource']} - {exemption['reason']}")
        lines.append("")
        advisory = f"({len(self.advisory)} advisory)"
        if self.passed:
            lines.append(f"PASSED: no mandatory violations {advisory}")
        else:
            count = len(self.mandatory)
            lines.append(f"FAILED: {count} mandatory violation{'' if count == 1 else 's'} {advisory}")
        return "\n".join(lines)


# --- policy configuration ------------------------------------------------------------------------


def load_policy_config(source: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """A policy config (the `--policy-pack-config` format): `{policy: level | {enforcementLevel, ...}}`."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where = "policy config"
    else:
        path = Path(source)
        where = str(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.read_text(encoding="utf-8").strip() else {}
        except FileNotFoundError:
            raise GateError(f"{where}: no such policy config file") from None
        except json.JSONDecodeError as exc:
            raise GateError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise GateError(f"{where}: must be a JSON object mapping policy names to a level or settings")
    config: dict[str, Any] = {}
    for name, value in data.items():
        if name.startswith("$") or name.startswith("//"):
            continue  # `$schema`, `//` comments: documentation, not configuration
        if isinstance(value, str):
            if value not in LEVELS:
                raise GateError(f"{where}: {name}: {value!r} is not an enforcement level ({', '.join(LEVELS)})")
            config[name] = {"enforcementLevel": value}
        elif isinstance(value, dict):
            level = value.get("enforcementLevel")
            if level is not None and level not in LEVELS:
                raise GateError(f"{where}: {name}.enforcementLevel: {level!r} is not one of {', '.join(LEVELS)}")
            config[name] = dict(value)
        else:
            raise GateError(f"{where}: {name}: must be an enforcement level or an object")
    return config


def schema_errors(schema: Any, value: Any, path: str = "") -> list[str]:
    """The subset of JSON Schema policy configs use: type, enum, bounds, items, properties, required."""
    if not isinstance(schema, dict):
        return []
    here = path or "(root)"
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer(),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    }
    if isinstance(kind, str) and kind in checks and not checks[kind](value):
        shown = _number(value) if isinstance(value, float) else json.dumps(value)
        return [f"{here}: expected {kind}, got {shown}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{here}: {json.dumps(value)} is not one of {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{here}: {_number(value)} is below the minimum {_number(schema['minimum'])}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{here}: {_number(value)} is above the maximum {_number(schema['maximum'])}")
    if isinstance(value, str) and "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{here}: {json.dumps(value)} is shorter than {_number(schema['minLength'])} characters")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(schema["items"], item, f"{path}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for required in schema.get("required") or []:
            if required not in value:
                errors.append(f"{here}: {required} is required")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in properties:
                errors += schema_errors(properties[key], item, where)
            elif extra is False:
                errors.append(f"{here}: unknown property {key!r}")
            elif isinstance(extra, dict):
                errors += schema_errors(extra, item, where)
    return errors


def _number(value: Any) -> str:
    """Struct numbers are floats: print 10.0 as 10."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def reconcile(info: Any, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The engine's reconciliation: schema defaults, then the pack's initial config, then `config`."""
    result: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        properties = json_format.MessageToDict(policy.configSchema.properties)
        defaults = {k: v["default"] for k, v in properties.items() if isinstance(v, dict) and "default" in v}
        result[policy.name] = {"enforcementLevel": LEVEL_NAMES[policy.enforcementLevel], "properties": defaults}

    def apply(layer: Mapping[str, Any]) -> None:
        everything = layer.get("all")
        if isinstance(everything, dict) and everything.get("enforcementLevel"):
            for entry in result.values():
                entry["enforcementLevel"] = everything["enforcementLevel"]
        for name, given in layer.items():
            entry = result.setdefault(name, {"enforcementLevel": "advisory", "properties": {}})
            if given.get("enforcementLevel"):
                entry["enforcementLevel"] = given["enforcementLevel"]
            entry["properties"] = {**entry["properties"], **{k: v for k, v in given.items() if k != "enforcementLevel"}}

    # As in the engine, an initial config entry always carries a level (proto3: unset reads as advisory).
    initial = {
        name: {"enforcementLevel": LEVEL_NAMES[value.enforcementLevel], **json_format.MessageToDict(value.properties)}
        for name, value in info.initialConfig.items()
    }
    apply(initial)
    apply(config)
    errors = []
    for policy in info.policies:
        schema = {
            "type": "object",
            "properties": json_format.MessageToDict(policy.configSchema.properties),
            "required": list(policy.configSchema.required),
        }
        errors += [f"{policy.name}: {e}" for e in schema_errors(schema, result[policy.name]["properties"])]
    if errors:
        raise GateError(f"policy config for pack {info.name} is invalid: " + "; ".join(errors))
    return result


# --- pack processes ------------------------------------------------------------------------------

_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if hasattr(os, "killpg"):
                os.killpg(process.pid, signal.SIGTERM)
            else:  # pragma: no cover - Windows
                process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if hasattr(os, "killpg"):
                    os.killpg(process.pid, signal.SIGKILL)
                else:  # pragma: no cover - Windows
                    process.kill()
            process.wait(timeout=3)
    with _RUNNING_LOCK:
        _RUNNING.discard(process)


@atexit.register
def _stop_all() -> None:
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        _stop(process)


class PackProcess:
    """One policy pack, started the way the engine starts a Python pack."""

    def __init__(self, name: str, path: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.path = path
        if not (path / "PulumiPolicy.yaml").is_file():
            raise GateError(f"{path}: not a policy pack (no PulumiPolicy.yaml)")
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process: subprocess.Popen[bytes] = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."],
            cwd=path,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
        )
        with _RUNNING_LOCK:
            _RUNNING.add(self.process)
        self.channel: grpc.Channel | None = None

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return text[-2000:]

    def port(self, timeout: float = START_TIMEOUT) -> int:
        """The port the pack prints on its first line of output."""
        result: list[bytes] = []
        stdout = self.process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        line = result[0].decode("utf-8", "replace").strip() if result else ""
        if not line.isdigit():
            code = self.process.poll()
            if result and not result[0]:  # end of output: the process is exiting
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = self.process.wait(timeout=10)
            if code is not None:
                state = f"exited with code {code}"
            elif result:
                state = f"printed {line[:80]!r} instead of its port"
            else:
                state = f"printed no port within {timeout:.0f}s"
            tail = self.stderr_tail()
            raise GateError(f"policy pack {self.name} ({self.path}) {state}" + (f": {tail}" if tail else ""))
        # Keep draining stdout so a chatty policy never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in stdout], daemon=True).start()
        return int(line)

    def connect(self, port: int) -> analyzer_pb2_grpc.AnalyzerStub:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT)
        except grpc.FutureTimeoutError:
            raise GateError(f"policy pack {self.name} did not accept a connection on port {port}") from None
        return analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
        _stop(self.process)
        self._stderr.close()


def resolve_pack(name_or_path: str) -> tuple[str, Path]:
    """`triplane-aws` (a pack under policies/) or a path to any pack folder."""
    candidate = Path(name_or_path)
    if "/" in name_or_path or (candidate.is_dir() and (candidate / "PulumiPolicy.yaml").is_file()):
        return candidate.resolve().name, candidate.resolve()
    path = POLICIES_DIR / name_or_path
    if not (path / "PulumiPolicy.yaml").is_file():
        known = sorted(p.parent.name for p in POLICIES_DIR.glob("*/PulumiPolicy.yaml"))
        raise GateError(f"no policy pack named {name_or_path!r}; known packs: {', '.join(known)}")
    return name_or_path, path


# --- requests ------------------------------------------------------------------------------------


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(dict(value), message)
    return message


def _options(resource: PlannedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        additionalSecretOutputs=list(resource.additional_secret_outputs),
        aliases=list(resource.aliases),
        parent=resource.parent or "",
    )


class _Requests:
    """Analyzer messages for a plan's resources, built once and shared by every pack."""

    def __init__(self, plan: Plan) -> None:
        providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
        self.analyze: list[analyzer_pb2.AnalyzeRequest] = []
        self.stack: list[analyzer_pb2.AnalyzerResource] = []
        for resource in plan.resources:
            properties = _struct(resource.inputs)
            provider = None
            if resource.provider:
                provider_urn = resource.provider.rsplit("::", 1)[0]
                owner = providers.get(provider_urn)
                if owner is not None:
                    provider = analyzer_pb2.AnalyzerProviderResource(
                        type=owner.type, properties=_struct(owner.inputs), urn=owner.urn, name=owner.name
                    )
            self.analyze.append(
                analyzer_pb2.AnalyzeRequest(
                    type=resource.type,
                    properties=properties,
                    urn=resource.urn,
                    name=resource.name,
                    options=_options(resource),
                    provider=provider,
                )
            )
            self.stack.append(
                analyzer_pb2.AnalyzerResource(
                    type=resource.type,
                    properties=properties,
                    urn=resource.urn,
                    name=resource.name,
                    options=_options(resource),
                    provider=provider,
                    parent=resource.parent or "",
                    dependencies=list(resource.dependencies),
                )
            )


def _pack_env(plan: Plan, stack_config: Mapping[str, Any] | None) -> dict[str, str]:
    env = dict(os.environ)
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (stack_config or {}).items()}
    env.update(
        {
            "PULUMI_CONFIG": json.dumps(config),
            "PULUMI_PROJECT": plan.project,
            "PULUMI_STACK": plan.stack,
            "PULUMI_ORGANIZATION": "organization",
            "PULUMI_DRY_RUN": "true",
        }
    )
    return env


def _tolerate_unimplemented(call: Any, request: Any) -> None:
    try:
        call(request, timeout=RPC_TIMEOUT)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise


def _drive(
    pack: PackProcess,
    port: int,
    plan: Plan,
    requests: _Requests,
    config: Mapping[str, Any],
    stack_config: Mapping[str, Any] | None,
    secret_keys: Sequence[str],
) -> tuple[PackRun, list[analyzer_pb2.AnalyzeDiagnostic], dict[str, dict[str, Any]]]:
    stub = pack.connect(port)
    directory = str(pack.path)
    _tolerate_unimplemented(
        stub.Handshake,
        analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=ENGINE_ADDRESS, root_directory=directory, program_directory=directory
        ),
    )
    _tolerate_unimplemented(
        stub.ConfigureStack,
        analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=plan.stack,
            project=plan.project,
            organization="organization",
            dry_run=True,
            config={k: v if isinstance(v, str) else json.dumps(v) for k, v in (stack_config or {}).items()},
            config_secret_keys=list(secret_keys),
        ),
    )
    info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    version = _pack_version(pack.path) or info.version
    effective = reconcile(info, config)
    if info.supportsConfig:
        stub.Configure(
            analyzer_pb2.ConfigureAnalyzerRequest(
                policyConfig={
                    name: analyzer_pb2.PolicyConfig(
                        enforcementLevel=LEVELS[entry["enforcementLevel"]], properties=_struct(entry["properties"])
                    )
                    for name, entry in effective.items()
                }
            ),
            timeout=RPC_TIMEOUT,
        )
    diagnostics: list[analyzer_pb2.AnalyzeDiagnostic] = []
    pending: list[Any] = []
    for request in requests.analyze:
        pending.append(stub.Analyze.future(request, timeout=RPC_TIMEOUT))
        if len(pending) >= IN_FLIGHT:
            diagnostics += pending.pop(0).result().diagnostics
    for future in pending:
        diagnostics += future.result().diagnostics
    stack_response = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=requests.stack), timeout=RPC_TIMEOUT)
    diagnostics += stack_response.diagnostics
    run = PackRun(
        name=info.name,
        version=version,
        path=directory,
        policies=[
            PolicyInfo(
                pack=info.name,
                name=p.name,
                description=p.description,
                enforcement=effective.get(p.name, {}).get("enforcementLevel", LEVEL_NAMES[p.enforcementLevel]),
                severity=SEVERITY_NAMES.get(p.severity, "unspecified"),
                kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                remediation=p.remediation_steps,
                references=tuple(_references(p)),
            )
            for p in info.policies
        ],
    )
    return run, diagnostics, effective


def _references(policy: Any) -> list[str]:
    found = []
    for tag in policy.tags:
        framework, _, ident = tag.partition(":")
        if ident and framework == "Checkov":
            found.append(ident)
        elif ident and framework.startswith("CIS "):
            found.append(f"{framework} {ident}")
    return found


def _pack_version(path: Path) -> str | None:
    """The version in PulumiPolicy.yaml (what the engine reports for Python packs)."""
    try:
        for line in (path / "PulumiPolicy.yaml").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "version" and not line.startswith(" "):
                return value.strip().strip("'\"")
    except OSError:
        return None
    return None


# --- use cases -----------------------------------------------------------------------------------


class _UseCases:
    """Which use case each resource belongs to: its tags/labels, else those of its use case's component."""

    def __init__(self, plan: Plan) -> None:
        self.by_urn = {r.urn: r for r in plan.resources}
        self.stack = plan.stack
        self.tagged: dict[str, str] = {}
        for resource in plan.resources:
            value = _use_case_tag(resource)
            if value:
                self.tagged[resource.urn] = value
        self.component_case: dict[str, str] = {}
        for urn, value in self.tagged.items():
            top = self._top_component(urn)
            if top is not None and value != SHARED:
                self.component_case.setdefault(top, value)

    def _top_component(self, urn: str) -> str | None:
        top = None
        current: str | None = urn
        seen = 0
        while current and current in self.by_urn and seen < 100:
            resource = self.by_urn[current]
            if resource.type.startswith("triplane:"):
                top = current
            current = resource.parent
            seen += 1
        return top

    def of(self, urn: str | None) -> str:
        if not urn:
            return STACK_LEVEL
        if urn in self.tagged:
            return self.tagged[urn]
        top = self._top_component(urn)
        if top is not None:
            return self.component_case.get(top, SHARED)
        return SHARED


def _use_case_tag(resource: PlannedResource) -> str | None:
    from triplane.plan import reveal

    inputs = reveal(resource.inputs)
    candidates = [inputs.get("tags"), inputs.get("labels"), inputs.get("resourceLabels")]
    metadata = inputs.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("labels"), dict):
        candidates.append({k.removeprefix("triplane.io/"): v for k, v in metadata["labels"].items()})
    for tags in candidates:
        if isinstance(tags, dict) and isinstance(tags.get("use-case"), str) and tags["use-case"]:
            return str(tags["use-case"])
    return None


# --- the gate ------------------------------------------------------------------------------------


def check_plan(
    plan: Plan,
    packs: Iterable[str] = DEFAULT_PACKS,
    config: str | Path | Mapping[str, Any] | None = None,
    *,
    stack_config: Mapping[str, Any] | None = None,
    secret_keys: Sequence[str] = (),
) -> GateResult:
    """Run each pack (name under policies/ or a folder) against `plan`; return every violation.

    `config` is a policy config file or mapping (the `--policy-pack-config` format); None means the
    shipped `policies/policy-config.json`, `{}` no configuration at all. `stack_config` is the stack's
    settings, passed to the packs as the engine does (`PULUMI_CONFIG`).
    """
    user_config = load_policy_config(DEFAULT_CONFIG if config is None and DEFAULT_CONFIG.is_file() else config)
    selected = [resolve_pack(p) for p in dict.fromkeys(packs)]
    if not selected:
        raise GateError("no policy packs selected")
    requests = _Requests(plan)
    env = _pack_env(plan, stack_config)
    with _terminate_as_exit():
        result = _run(plan, selected, requests, env, user_config, stack_config, secret_keys)
    result.runtime = runtime_paths(plan, stack_config)
    return result


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C does, so the `finally` below still stops the packs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(
    plan: Plan,
    selected: list[tuple[str, Path]],
    requests: _Requests,
    env: dict[str, str],
    user_config: dict[str, Any],
    stack_config: Mapping[str, Any] | None,
    secret_keys: Sequence[str],
) -> GateResult:
    processes: list[PackProcess] = []
    pool = ThreadPoolExecutor(max_workers=len(selected))
    try:
        for name, path in selected:
            processes.append(PackProcess(name, path, env))
        ports = [process.port() for process in processes]
        futures = [
            pool.submit(_drive, process, port, plan, requests, user_config, stack_config, secret_keys)
            for process, port in zip(processes, ports, strict=True)
        ]
        outcomes = []
        for process, future in zip(processes, futures, strict=True):
            try:
                outcomes.append(future.result())
            except grpc.RpcError as error:
                detail = error.details() if hasattr(error, "details") else str(error)
                tail = process.stderr_tail()
                raise GateError(
                    f"policy pack {process.name} failed: {detail}" + (f"\n{tail}" if tail else "")
                ) from None
    finally:
        # Packs first: a call still in flight then fails at once instead of holding the pool open.
        for process in processes:
            process.stop()
        pool.shutdown(wait=True, cancel_futures=True)
    return _result(plan, outcomes)


def _result(
    plan: Plan, outcomes: list[tuple[PackRun, list[analyzer_pb2.AnalyzeDiagnostic], dict[str, dict[str, Any]]]]
) -> GateResult:
    cases = _UseCases(plan)
    violations: list[Violation] = []
    exemptions: list[dict[str, str]] = []
    for run, diagnostics, effective in outcomes:
        infos = {p.name: p for p in run.policies}
        for name, entry in sorted(effective.items()):
            if name not in infos:
                continue
            for exemption in entry["properties"].get("exemptions") or []:
                exemptions.append(
                    {"pack": run.name, "policy": name, "resource": str(exemption.get("resource", "")),
                     "reason": str(exemption.get("reason", ""))}
                )
            # Images allowed to run as root (`k8s-run-as-non-root`) are exemptions too, with their reason.
            for image in entry["properties"].get("rootImages") or []:
                exemptions.append(
                    {"pack": run.name, "policy": name, "resource": f"image */{image.get('repository', '')} as root",
                     "reason": str(image.get("reason", ""))}
                )
        for diagnostic in diagnostics:
            level = LEVEL_NAMES.get(diagnostic.enforcementLevel, "advisory")
            if level == "disabled":
                continue
            level = "mandatory" if level == "remediate" else level
            info = infos.get(diagnostic.policyName)
            message = diagnostic.message
            if diagnostic.description and message.startswith(diagnostic.description):
                message = message[len(diagnostic.description):].lstrip("\n") or diagnostic.description
            resource = cases.by_urn.get(diagnostic.urn) if diagnostic.urn else None
            violations.append(
                Violation(
                    pack=run.name,
                    policy=diagnostic.policyName,
                    enforcement=level,
                    severity=SEVERITY_NAMES.get(diagnostic.severity, info.severity if info else "unspecified"),
                    message=message,
                    description=diagnostic.description,
                    use_case=cases.of(diagnostic.urn or None),
                    urn=diagnostic.urn or None,
                    resource_type=resource.type if resource else None,
                    resource_name=resource.name if resource else None,
                    remediation=info.remediation if info else "",
                    references=info.references if info else (),
                )
            )
    violations.sort(key=lambda v: (not v.mandatory, v.use_case, v.resource_name or "", v.policy, v.message))
    resources = len([r for r in plan.resources if r.type != STACK_TYPE])
    return GateResult(stack=plan.stack, packs=[o[0] for o in outcomes], violations=violations,
                      resources=resources, exemptions=exemptions)


__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_PACKS",
    "GateError",
    "GateResult",
    "PackRun",
    "PolicyInfo",
    "Violation",
    "check_plan",
    "load_policy_config",
    "reconcile",
    "schema_errors",
]
