"""A policy pack run the way the Pulumi engine runs it, to compare with the in-process gate.

The pack starts as the engine starts a Python pack (`python -u -m pulumi.policy <engine address> .`
in the pack folder, the stack's settings in `PULUMI_CONFIG`), prints its port and serves the
analyzer protocol. `analyze` plays the engine's part over gRPC: `Handshake` and `ConfigureStack`
(tolerated when not implemented), `GetAnalyzerInfo`, `Configure` with each policy's level and
properties, `Analyze` per resource and `AnalyzeStack` once, with the plan's inputs as the engine
sends them (secret values in the engine's secret envelope).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from triplane.plan import Plan, PlannedResource

ENGINE_ADDRESS = "127.0.0.1:0"
"""Passed where the engine passes its own address; the Python policy runtime never dials it."""
TIMEOUT = 120.0
LEVELS = {"advisory": analyzer_pb2.ADVISORY, "mandatory": analyzer_pb2.MANDATORY,
          "disabled": analyzer_pb2.DISABLED, "remediate": analyzer_pb2.REMEDIATE}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()}
SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "unspecified",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_CHANNEL = [("grpc.max_receive_message_length", 400 * 1024 * 1024),
            ("grpc.max_send_message_length", 400 * 1024 * 1024)]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One violation as the pack reported it (the message without the policy description in front)."""

    policy: str
    urn: str
    """Empty for the stack as a whole."""
    enforcement: str
    severity: str
    message: str


@dataclass
class Analysis:
    info: analyzer_pb2.AnalyzerInfo
    diagnostics: list[Diagnostic]


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(dict(value), message)
    return message


def _options(resource: PlannedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect, ignoreChanges=list(resource.ignore_changes),
        additionalSecretOutputs=list(resource.additional_secret_outputs), aliases=list(resource.aliases),
        parent=resource.parent or "",
    )


@contextlib.contextmanager
def _pack_process(path: Path, env: Mapping[str, str], python: str) -> Iterator[int]:
    """The pack's server, started in `path` by `python`; yields its port and stops it on the way out."""
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    process = subprocess.Popen([python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."], cwd=path,
                               env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                               start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            stderr.seek(0)
            raise RuntimeError(f"pack {path.name} printed {line!r}: {stderr.read().decode()[-2000:]}")
        stdout = process.stdout
        threading.Thread(target=lambda: [None for _ in stdout], daemon=True).start()
        yield int(line)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        stderr.close()


def _tolerate_unimplemented(call: Any, request: Any) -> None:
    try:
        call(request, timeout=TIMEOUT)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise


def analyze(path: Path, plan: Plan, effective: Mapping[str, Mapping[str, Any]],
            stack_config: Mapping[str, Any] | None = None, python: str = sys.executable) -> Analysis:
    """Every diagnostic the pack in `path` reports on `plan`, configured with `effective`
    (`{policy: {"enforcementLevel", "properties"}}`, what the engine sends after reconciling).
    `python` is the interpreter of the pack's virtualenv (by default this one)."""
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (stack_config or {}).items()}
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(config), "PULUMI_PROJECT": plan.project,
           "PULUMI_STACK": plan.stack, "PULUMI_ORGANIZATION": "organization", "PULUMI_DRY_RUN": "true"}
    providers = {r.urn: r for r in plan.resources if r.type.startswith("pulumi:providers:")}
    with (_pack_process(path, env, python) as port,
          grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL) as channel):
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        _tolerate_unimplemented(stub.Handshake, analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=ENGINE_ADDRESS, root_directory=str(path), program_directory=str(path)))
        _tolerate_unimplemented(stub.ConfigureStack, analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=plan.stack, project=plan.project, organization="organization", dry_run=True, config=config))
        info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=TIMEOUT)
        stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
            name: analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[entry["enforcementLevel"]],
                                            properties=_struct(entry["properties"]))
            for name, entry in effective.items()
        }), timeout=TIMEOUT)
        diagnostics: list[analyzer_pb2.AnalyzeDiagnostic] = []
        resources = []
        for resource in plan.resources:
            owner = providers.get(resource.provider_urn or "")
            provider = None if owner is None else analyzer_pb2.AnalyzerProviderResource(
                type=owner.type, properties=_struct(owner.inputs), urn=owner.urn, name=owner.name)
            common = {"type": resource.type, "properties": _struct(resource.inputs), "urn": resource.urn,
                      "name": resource.name, "options": _options(resource), "provider": provider}
            diagnostics += stub.Analyze(analyzer_pb2.AnalyzeRequest(**common), timeout=TIMEOUT).diagnostics
            resources.append(analyzer_pb2.AnalyzerResource(**common, parent=resource.parent or "",
                                                           dependencies=list(resource.dependencies)))
        diagnostics += stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources),
                                         timeout=TIMEOUT).diagnostics
    return Analysis(info, [_diagnostic(d) for d in diagnostics])


def _diagnostic(diagnostic: analyzer_pb2.AnalyzeDiagnostic) -> Diagnostic:
    message = diagnostic.message
    if diagnostic.description and message.startswith(diagnostic.description):
        message = message[len(diagnostic.description):].lstrip("\n") or diagnostic.description
    level = LEVEL_NAMES[diagnostic.enforcementLevel]
    return Diagnostic(policy=diagnostic.policyName, urn=diagnostic.urn,
                      enforcement="mandatory" if level == "remediate" else level,
                      severity=SEVERITY_NAMES[diagnostic.severity], message=message)
