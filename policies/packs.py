"""Which policies each pack serves, and serving one (what a pack's `__main__.py` calls).

- `triplane`: every policy (AWS, Azure, Google Cloud, Kubernetes and stack-level).
- `triplane-aws`, `triplane-azure`, `triplane-gcp`: one cloud's policies, the cluster API range rule and the
  stack-level ones.
- `triplane-kubernetes`: the Kubernetes (self-managed serving) policies only.

Enable `triplane`, or one cloud pack plus `triplane-kubernetes`; two cloud packs together would run
the stack-level policies twice.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi_policy import Policy, PolicyPack

from policies import aws, azure, cluster_api, deployability, gcp, kubernetes, stack

PACKS_DIR = Path(__file__).resolve().parent
RUNTIME_KUBERNETES = [deployability.POLICIES[kind] for kind in deployability.KUBERNETES_KINDS]
RUNTIME_CLOUD = [deployability.POLICIES[kind] for kind in deployability.CLOUD_KINDS]
PACK_POLICIES: dict[str, list[Policy]] = {
    "triplane": [
        *aws.POLICIES, *azure.POLICIES, *gcp.POLICIES, *cluster_api.POLICIES, *kubernetes.POLICIES,
        *stack.POLICIES, *RUNTIME_KUBERNETES, *RUNTIME_CLOUD,
    ],
    "triplane-aws": [*aws.POLICIES, *cluster_api.POLICIES, *stack.POLICIES, *RUNTIME_CLOUD],
    "triplane-azure": [*azure.POLICIES, *cluster_api.POLICIES, *stack.POLICIES, *RUNTIME_CLOUD],
    "triplane-gcp": [*gcp.POLICIES, *cluster_api.POLICIES, *stack.POLICIES, *RUNTIME_CLOUD],
    "triplane-kubernetes": [*kubernetes.POLICIES, *RUNTIME_KUBERNETES],
}
DESCRIPTIONS = {
    "triplane": "Every Triplane policy: cloud-managed, self-managed and SaaS safeguards on all clouds.",
    "triplane-aws": "Triplane policies for AWS (Bedrock, Secrets Manager, Network Firewall, EKS) and the stack.",
    "triplane-azure": "Triplane policies for Azure (Azure OpenAI, Key Vault, Azure Firewall, AKS) and the stack.",
    "triplane-gcp": "Triplane policies for Google Cloud (Vertex AI, Secret Manager, Secure Web Proxy, GKE) "
    "and the stack.",
    "triplane-kubernetes": "Triplane policies for model servers on Kubernetes.",
}


def pack_dir(name: str) -> Path:
    return PACKS_DIR / name


class _Remembered:
    """A pure conversion that answers again from memory for a value it has just converted.

    Values are recognised by `key` (default: the object itself, kept alive so its id cannot be
    reused); the last `size` results are kept.
    """

    def __init__(self, convert: Callable[[Any], Any], key: Callable[[Any], Any] | None = None, size: int = 20_000):
        self._convert = convert
        self._key = key
        self._size = size
        self._results: dict[Any, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return self._convert(value, *args, **kwargs)
        key = id(value) if self._key is None else self._key(value)
        with self._lock:
            found = self._results.get(key)
        if found is not None and (self._key is not None or found[0] is value):
            return found[1]
        result = self._convert(value)
        with self._lock:
            self._results[key] = (value if self._key is None else None, result)
            if len(self._results) > self._size:
                del self._results[next(iter(self._results))]
        return result


def _serialized(message: Any) -> bytes:
    data: bytes = message.SerializeToString(deterministic=True)
    return data


class _JsonFormat(ModuleType):
    def __init__(self, module: ModuleType) -> None:
        super().__init__(module.__name__)
        self._module = module
        # By content: the stack request hands each resource over as a new message object per policy.
        self.MessageToDict = _Remembered(module.MessageToDict, key=_serialized)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _convert_once_per_request() -> None:
    """Convert each request's properties once, not once per policy.

    The policy SDK turns a resource's properties (and its provider's) from protobuf into proxied
    dicts inside its loop over policies, and re-reads the stack configuration on every request:
    with 50 policies that was 80% of the gate's time, and the configuration part grew with the
    environment. The conversions are pure and Triplane's checks only read them (they copy with
    `plain`), so the same request gets the same converted value for every policy.
    """
    from pulumi.runtime import config as runtime_config
    from pulumi_policy import policy as sdk

    if isinstance(sdk.json_format, _JsonFormat):
        return
    sdk.json_format = _JsonFormat(sdk.json_format)
    sdk.deserialize_properties = _Remembered(sdk.deserialize_properties)  # type: ignore[assignment]
    sdk.unknown_checking_proxy = _Remembered(sdk.unknown_checking_proxy)  # type: ignore[assignment]
    sdk.signature = functools.cache(sdk.signature)
    environment = functools.cache(runtime_config.get_config_env)
    sdk.pulumi.runtime.get_config_env = lambda: dict(environment())  # the pack's environment is fixed


def serve(name: str) -> None:
    """Start the pack's analyzer server, print its port and block (as the engine expects)."""
    _convert_once_per_request()
    PolicyPack(name=name, policies=PACK_POLICIES[name], description=DESCRIPTIONS[name])
