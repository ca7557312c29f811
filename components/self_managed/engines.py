"""The serving engines (TGI, vLLM): ports, metrics, and the security context each image supports.

What an engine needs at run time is a property of its image, read from its Dockerfile, so it lives
in one table here rather than in conditions spread over the workloads that run it:

- TGI (`ghcr.io/huggingface/text-generation-inference`): the image has no `USER`; `uv python install`
  runs as root, so the interpreter of `/usr/src/.venv` lives under `/root/.local/share/uv` (mode 700)
  and no other user can start it (huggingface/text-generation-inference issue #3082; the fix, PR
  #3197, is unmerged as of 3.3.7). It runs as root with every other restriction kept, in a namespace
  whose Pod Security level admits root (`baseline` enforced, `restricted` warned and audited).
- vLLM (`vllm/vllm-openai`): the deadsnakes system Python (`/usr/bin/python3`) with packages
  installed by `uv pip install --system` under `/usr/local/lib`, all world-readable, so it runs as
  an arbitrary non-root UID. It writes only under `$HOME` (`~/.cache`: Hugging Face, vLLM,
  FlashInfer; `~/.triton`; `~/.config/vllm`), `VLLM_CACHE_ROOT` and `/tmp` (torch inductor), all
  given writable volumes.

Both run with a read-only root filesystem: writable paths are the model cache (`/data`, the
`HF_HOME` both images use), `/tmp` (also `HOME`) and `/dev/shm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

CACHE_PATH = "/data"
"""The model cache (`HF_HOME`): the persistent volume both engines read the weights from."""
TMP_PATH = "/tmp"
"""Scratch space and `HOME`: every `~/.cache`, `~/.triton` and `~/.config` lands on a writable volume."""
NON_ROOT_UID = 10001
"""Above the range distributions give to users (< 10000), so it matches no account on any node."""


@dataclass(frozen=True)
class Runtime:
    """How an engine's image can run: as which user, and under which Pod Security level."""

    run_as_user: int
    """0 where the image works only as root."""
    pod_security: Literal["restricted", "baseline"]
    """The strictest Pod Security Standard the image can run under (enforced on its namespace)."""
    env: tuple[tuple[str, str], ...] = ()
    """Where the engine writes besides `HF_HOME` and `HOME`."""
    root_reason: str | None = None
    """Why the image needs root (the same reason the policy config's `rootImages` entry carries)."""

    @property
    def root(self) -> bool:
        return self.run_as_user == 0


@dataclass(frozen=True)
class Engine:
    name: str
    container: str
    port: int
    metrics_port: int
    queue_metric: str
    api_key_env: str
    runtime: Runtime


NON_ROOT = Runtime(run_as_user=NON_ROOT_UID, pod_security="restricted")
"""Images that run as any user (the bucket-import Jobs' cloud CLIs)."""

TGI_ROOT_REASON = (
    "The TGI image's Python lives under /root/.local/share/uv (mode 700), so only root can start it "
    "(huggingface/text-generation-inference#3082, fix #3197 unmerged as of 3.3.7)."
)

ENGINES: dict[str, Engine] = {
    "tgi": Engine(
        "text-generation-inference",
        "tgi",
        8080,
        9000,
        "tgi_queue_size",
        "API_KEY",
        Runtime(run_as_user=0, pod_security="baseline", root_reason=TGI_ROOT_REASON),
    ),
    "vllm": Engine(
        "vllm",
        "vllm",
        8000,
        8000,
        "vllm:num_requests_waiting",
        "VLLM_API_KEY",
        Runtime(
            run_as_user=NON_ROOT_UID,
            pod_security="restricted",
            env=(("VLLM_CACHE_ROOT", f"{CACHE_PATH}/vllm"), ("VLLM_CONFIG_ROOT", f"{TMP_PATH}/vllm-config")),
        ),
    ),
}


def base_env(engine: Engine) -> list[dict[str, Any]]:
    """The environment every container of the engine's image needs to write only where it may."""
    return [
        {"name": "HF_HOME", "value": CACHE_PATH},
        {"name": "HOME", "value": TMP_PATH},
        # Libraries that name cache folders after the user (torch inductor) fail on a UID without a
        # passwd entry unless USER is set.
        {"name": "USER", "value": engine.container},
        {"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"},
        *({"name": name, "value": value} for name, value in engine.runtime.env),
    ]


def pod_security_context(runtime: Runtime) -> dict[str, Any]:
    context: dict[str, Any] = {"seccomp_profile": {"type": "RuntimeDefault"}}
    if runtime.root:
        context.update({"run_as_user": 0, "run_as_group": 0})
    else:
        uid = runtime.run_as_user
        context.update(
            {
                "run_as_non_root": True,
                "run_as_user": uid,
                "run_as_group": uid,
                "fs_group": uid,
                "fs_group_change_policy": "OnRootMismatch",
            }
        )
    return context


def container_security_context(runtime: Runtime) -> dict[str, Any]:
    """Root or not, the same restrictions: no escalation, no capabilities, read-only root, seccomp."""
    context: dict[str, Any] = {
        "allow_privilege_escalation": False,
        "privileged": False,
        "read_only_root_filesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }
    if runtime.root:
        context.update({"run_as_user": 0, "run_as_group": 0})
    else:
        context.update(
            {"run_as_non_root": True, "run_as_user": runtime.run_as_user, "run_as_group": runtime.run_as_user}
        )
    return context


def namespace_labels(engine: Engine) -> dict[str, str]:
    """Enforce the strictest level the image allows; warn and audit at `restricted` regardless."""
    return {
        "pod-security.kubernetes.io/enforce": engine.runtime.pod_security,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
