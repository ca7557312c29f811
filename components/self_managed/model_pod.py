"""The model server's pod: its environment, container and pod spec, and the engine's launcher arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from triplane.components.self_managed.engines import (
    CACHE_PATH,
    ENGINES,
    TMP_PATH,
    Engine,
    base_env,
    container_security_context,
    pod_security_context,
)
from triplane.components.self_managed.server_names import ServerNames

if TYPE_CHECKING:
    from triplane.components.self_managed.model_server import ModelServerArgs

GRACEFUL_TERMINATION_SECONDS = 90
TERMINATION_GRACE_SECONDS = GRACEFUL_TERMINATION_SECONDS + 30
"""Longer than the server's own drain, so in-flight requests finish before the kill."""
PROBE_PERIOD_SECONDS = 10


def server_env(engine_key: str, engine: Engine) -> list[Any]:
    """The server's environment before its API key: offline, no telemetry."""
    env = base_env(engine)
    # The server only ever reads the cache: the download Job (or an import) filled it.
    env.append({"name": "HF_HUB_OFFLINE", "value": "1"})
    if engine_key == "vllm":
        env += [
            {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
            {"name": "DO_NOT_TRACK", "value": "1"},
        ]
    return env


def server_container(args: ModelServerArgs, engine: Engine, env: list[Any]) -> dict[str, Any]:
    """The server's container: pinned image, launcher args only, GPUs per pod, probes."""
    ports = [{"name": "http", "container_port": engine.port, "protocol": "TCP"}]
    if engine.metrics_port != engine.port:
        ports.append({"name": "metrics", "container_port": engine.metrics_port, "protocol": "TCP"})
    gpu = str(args.gpus)
    resources = {
        "requests": {"cpu": str(args.cpu), "memory": f"{args.memory_gib}Gi", "nvidia.com/gpu": gpu},
        "limits": {"cpu": str(args.cpu), "memory": f"{args.memory_gib}Gi", "nvidia.com/gpu": gpu},
    }
    return {
        "name": engine.container,
        "image": args.image,
        "image_pull_policy": "IfNotPresent",
        "args": server_args(args),
        "env": env,
        "ports": ports,
        "resources": resources,
        "security_context": container_security_context(engine.runtime),
        # Model download and shard loading can take tens of minutes: only the startup probe
        # waits that long; readiness and liveness take over once it has passed.
        "startup_probe": _health_probe(
            PROBE_PERIOD_SECONDS, 5, max(1, args.startup_timeout_seconds // PROBE_PERIOD_SECONDS)
        ),
        "readiness_probe": _health_probe(PROBE_PERIOD_SECONDS, 5, 3),
        "liveness_probe": _health_probe(30, 10, 5),
        "volume_mounts": [
            {"name": "model-cache", "mount_path": CACHE_PATH},
            {"name": "dshm", "mount_path": "/dev/shm"},
            {"name": "tmp", "mount_path": TMP_PATH},
        ],
    }


def _health_probe(period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "http_get": {"path": "/health", "port": "http"},
        "period_seconds": period,
        "timeout_seconds": timeout,
        "failure_threshold": failures,
    }


def pod_spec(
    server: ServerNames, args: ModelServerArgs, engine: Engine, container: dict[str, Any], claim_name: str
) -> dict[str, Any]:
    """The server's pod: no API token, the engine's user, GPU nodes, spread across hosts."""
    # A memory-backed /dev/shm counts against the memory limit; NCCL needs well over the 64 MB
    # default once the model is sharded.
    shm_gib = min(8, 2 * args.gpus)
    spec: dict[str, Any] = {
        "service_account_name": server.app,
        "automount_service_account_token": False,
        "enable_service_links": False,
        "termination_grace_period_seconds": TERMINATION_GRACE_SECONDS,
        "security_context": pod_security_context(engine.runtime),
        "node_selector": dict(args.node_selector),
        "tolerations": [{"key": key, "operator": "Exists"} for key in args.toleration_keys],
        "topology_spread_constraints": [
            {
                "max_skew": 1,
                "topology_key": "kubernetes.io/hostname",
                "when_unsatisfiable": "ScheduleAnyway",
                "label_selector": {"match_labels": server.selector},
            }
        ],
        "containers": [container],
        "volumes": [
            {"name": "model-cache", "persistent_volume_claim": {"claim_name": claim_name}},
            {"name": "dshm", "empty_dir": {"medium": "Memory", "size_limit": f"{shm_gib}Gi"}},
            {"name": "tmp", "empty_dir": {"size_limit": "20Gi"}},
        ],
    }
    if not spec["node_selector"]:
        del spec["node_selector"]
    return spec


def server_args(args: ModelServerArgs) -> list[str]:
    """The launcher arguments (the images' entrypoints start the server: pass only args)."""
    tokens = args.tokens
    engine = ENGINES[args.engine]
    # An imported snapshot is a local directory, which both engines load in place of a hub ID.
    imported = args.weights_import
    model = imported.model_path if imported is not None else args.model_id
    revision = [] if imported is not None else ["--revision", args.revision]
    if args.engine == "tgi":
        argv = [
            "--model-id", model,
            *revision,
            "--num-shard", str(args.gpus),
            "--port", str(engine.port),
            "--prometheus-port", str(engine.metrics_port),
            "--usage-stats", "off",
            "--graceful-termination-timeout", str(GRACEFUL_TERMINATION_SECONDS),
            "--max-concurrent-requests", str(tokens.max_concurrent_requests),
            "--json-output",
        ]  # fmt: skip
        optional = {
            "--quantize": args.quantize,
            "--dtype": args.dtype,
            "--max-input-tokens": tokens.max_input_tokens,
            "--max-total-tokens": tokens.max_total_tokens,
            "--max-batch-prefill-tokens": tokens.max_batch_prefill_tokens,
            "--max-batch-total-tokens": tokens.max_batch_total_tokens,
        }
    else:
        argv = [
            "--model", model,
            *revision,
            "--served-model-name", args.model_id,
            "--tensor-parallel-size", str(args.gpus),
            "--port", str(engine.port),
            "--max-num-seqs", str(tokens.max_concurrent_requests),
        ]  # fmt: skip
        optional = {
            "--quantization": args.quantize,
            "--dtype": args.dtype,
            "--max-model-len": tokens.max_total_tokens,
            "--max-num-batched-tokens": tokens.max_batch_prefill_tokens,
        }
    for flag, value in optional.items():
        if value is not None:
            argv += [flag, str(value)]
    return argv
