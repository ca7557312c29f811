"""The model weights' one path in: a Job that downloads a pinned revision into the model cache once.

The model server never reaches the Hugging Face hub: it runs with `HF_HUB_OFFLINE=1` and a
NetworkPolicy that lets it resolve names and nothing more, so a restart (or a new replica) reads the
cache and never downloads again. The weights come from a claim already filled, from a bucket
(`weights_import`, the air-gapped path), or from this Job, which the server's Deployment waits for. It:

- runs the server's own image (no extra image to pull or allow): TGI's
  `text-generation-server download-weights`, or for vLLM `huggingface_hub.snapshot_download`
  through `python3 -c`; both keep what is already in the cache, and the vLLM one finishes
  without touching the network once a completion marker for the revision exists;
- lands on the GPU pool's nodes (same node selector and tolerations, no GPU request), so a
  `WaitForFirstConsumer` volume is created in a zone that has GPU nodes;
- is the only pod of the namespace allowed out: HTTPS to public addresses (NetworkPolicy cannot name
  a host; the network's egress firewall narrows it to `HUB_HOSTS`), or only to the explicit proxy
  where the cloud's egress gateway is one (Google Cloud's Secure Web Proxy) or the stack names one
  (`weights.https_proxy`); its NetworkPolicy says which (`EGRESS_PATH_ANNOTATION`). It selects the
  Job's pods alone, so once the cache is filled no pod of the service has a way out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes import batch as k8s_batch
from pulumi_kubernetes import networking as k8s_networking

from triplane.components.self_managed.engines import (
    CACHE_PATH,
    TMP_PATH,
    Engine,
    base_env,
    container_security_context,
    pod_security_context,
)

HUB_HOSTS = ("huggingface.co", "*.huggingface.co", "*.hf.co")
"""The hub's API host and the storage hosts its downloads redirect to, as Hugging Face's own firewall
guidance lists them: LFS CDNs (`cdn-lfs*.huggingface.co`, `cdn-lfs-*.hf.co`), Xet storage
(`cas-server.xethub.hf.co`, `transfer.xethub.hf.co`, `cas-bridge.xethub.hf.co`) and CDN edges
(`*.cdn.hf.co`). Both storage domains belong to Hugging Face and their host names change as storage
moves, so the entries are the two domains rather than today's names."""

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")
"""Excluded from download egress: the hub is on the internet; nothing private (nor the metadata server) is."""

MARKER_DIR = f"{CACHE_PATH}/.triplane"
"""Where the vLLM download records each revision it has completed."""

SNAPSHOT_SCRIPT = """\
import os, sys
from huggingface_hub import snapshot_download
repo, revision, marker = sys.argv[1], sys.argv[2], sys.argv[3]
if os.path.exists(marker):
    print(f"{repo}@{revision} is already in the cache; nothing to download")
    sys.exit(0)
path = snapshot_download(
    repo_id=repo,
    revision=revision,
    ignore_patterns=["original/*", "*.pth", "*.gguf", "*.onnx", "*.msgpack", "*.h5", "*.ot"],
)
os.makedirs(os.path.dirname(marker), exist_ok=True)
with open(marker, "w") as done:
    done.write(path + "\\n")
print(f"{repo}@{revision} downloaded to {path}")
"""
"""Downloads one revision; what a previous, interrupted run fetched is kept and not fetched again."""

TGI_DOWNLOADER = "/usr/src/.venv/bin/text-generation-server"
"""TGI's own downloader (`server/pyproject.toml` script), in the image's venv."""
VLLM_PYTHON = "/usr/bin/python3"
"""The vLLM image's system Python, where `huggingface_hub` is installed."""


@dataclass
class WeightsDownload:
    """How the download Job gets out, and how long it may take."""

    timeout_seconds: int = 3600
    """The Job's deadline: sized to the weights by the caller."""
    https_proxy: pulumi.Input[str] | None = None
    """`http://<address>:<port>` of an explicit egress proxy (Google Cloud's Secure Web Proxy)."""
    proxy_cidr: pulumi.Input[str] | None = None
    """The proxy's address as a /32, the one destination (besides DNS) the Job may then reach."""
    proxy_port: int = 443
    after: Sequence[pulumi.Resource] = field(default_factory=list)
    """The egress path (the network's firewall) that must exist before the Job runs."""


def marker_path(model_id: str, revision: str) -> str:
    return f"{MARKER_DIR}/{model_id.replace('/', '--')}@{revision}.complete"


def download_command(engine_key: str, model_id: str, revision: str) -> list[str]:
    """The command that fills the cache, per engine (each image brings its own downloader)."""
    if engine_key == "tgi":
        return [TGI_DOWNLOADER, "download-weights", model_id, "--revision", revision, "--json-output"]
    return [VLLM_PYTHON, "-c", SNAPSHOT_SCRIPT, model_id, revision, marker_path(model_id, revision)]


@dataclass
class DownloadJobArgs:
    engine_key: str
    engine: Engine
    image: pulumi.Input[str]
    model_id: str
    revision: str
    namespace: str
    app: str
    claim_name: str
    download: WeightsDownload
    labels: Mapping[str, str]
    node_selector: Mapping[str, str]
    toleration_keys: Sequence[str]
    token_secret: str | None = None
    """The Secret holding `HF_TOKEN` (gated models)."""


TOKEN_MOUNT = "/var/run/secrets/huggingface"
TOKEN_FILE = "token"

DOWNLOAD_COMPONENT = "weights-download"
EGRESS_HOSTS_ANNOTATION = "triplane.io/egress-hosts"
EGRESS_PATH_ANNOTATION = "triplane.io/egress-path"
"""`firewall`: through the network's egress firewall; `declared`: a path the stack states (existing cluster).
On a NetworkPolicy it says where the public addresses it allows lead: `firewall` (a network Triplane creates,
whose only way out is its host allowlist), `proxy` (only an explicit proxy's address), `private` (only the
cloud's private endpoint) or `declared` (the stack's word; never for restricted data)."""


def download_selector(app: str) -> dict[str, str]:
    """Labels of the Job's pods: never the server's, so its Service and policies do not select them."""
    return {"app.kubernetes.io/name": "model-weights", "app.kubernetes.io/instance": app}


def download_job(name: str, args: DownloadJobArgs, opts: pulumi.ResourceOptions) -> k8s_batch.v1.Job:
    """The Job (and the NetworkPolicy that lets only it out) that fills the cache before the server starts."""
    selector = download_selector(args.app)
    labels: dict[str, str] = {**args.labels, **selector, "app.kubernetes.io/component": DOWNLOAD_COMPONENT}
    download = args.download
    pod_spec = _download_pod_spec(args)
    egress, path = _download_egress(download)
    k8s_networking.v1.NetworkPolicy(
        f"{name}-weights-egress",
        metadata={
            "name": f"{args.app}-weights-egress",
            "namespace": args.namespace,
            "labels": labels,
            # What the policy pack checks for restricted data: where the allowed egress leads.
            "annotations": {EGRESS_PATH_ANNOTATION: path, EGRESS_HOSTS_ANNOTATION: ",".join(HUB_HOSTS)},
        },
        spec={"pod_selector": {"match_labels": selector}, "policy_types": ["Egress"], "egress": egress},
        opts=opts,
    )
    # Node scale-up (a GPU pool at zero) comes on top of the download itself.
    wait = download.timeout_seconds + 900
    return k8s_batch.v1.Job(
        f"{name}-weights",
        metadata={
            "name": f"{args.app}-weights",
            "namespace": args.namespace,
            "labels": labels,
            "annotations": {
                "pulumi.com/timeoutSeconds": str(wait),
                # What the policy pack checks against the network's egress allowlist.
                EGRESS_HOSTS_ANNOTATION: ",".join(HUB_HOSTS),
                EGRESS_PATH_ANNOTATION: "firewall" if download.after else "declared",
            },
        },
        spec={
            "backoff_limit": 4,
            "active_deadline_seconds": wait,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
        # A Job's pod template cannot change in place: a new revision replaces it under the same name.
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(delete_before_replace=True, depends_on=list(download.after))
        ),
    )


def _download_env(args: DownloadJobArgs) -> list[Any]:
    """The engine's base environment, the hub timeout, the token's file, and the proxy if there is one."""
    download = args.download
    env = [
        *base_env(args.engine),
        {"name": "HF_HUB_DOWNLOAD_TIMEOUT", "value": "60"},
    ]
    if args.token_secret is not None:
        # huggingface_hub reads the token from the file HF_TOKEN_PATH names: it never sits in the
        # environment, where a process listing or a crash dump would show it.
        env.append({"name": "HF_TOKEN_PATH", "value": f"{TOKEN_MOUNT}/{TOKEN_FILE}"})
    if download.https_proxy is not None:
        # Python's and Rust's HTTP clients (hf_transfer, hf_xet) read either spelling.
        for variable in ("HTTPS_PROXY", "https_proxy"):
            env.append({"name": variable, "value": download.https_proxy})
        for variable in ("NO_PROXY", "no_proxy"):
            env.append({"name": variable, "value": ".svc,.cluster.local,localhost,127.0.0.1"})
    return env


def _download_pod_spec(args: DownloadJobArgs) -> Any:
    """The download's pod: the engine's image and user, the cache claim and, if given, the token as a file."""
    env = _download_env(args)
    container: Any = {
        "name": "download",
        "image": args.image,
        "image_pull_policy": "IfNotPresent",
        "command": download_command(args.engine_key, args.model_id, args.revision),
        "env": env,
        "resources": {
            "requests": {"cpu": "2", "memory": "8Gi"},
            "limits": {"cpu": "2", "memory": "8Gi"},
        },
        "security_context": container_security_context(args.engine.runtime),
        "volume_mounts": [
            {"name": "model-cache", "mount_path": CACHE_PATH},
            {"name": "tmp", "mount_path": TMP_PATH},
        ],
    }
    volumes: list[Any] = [
        {"name": "model-cache", "persistent_volume_claim": {"claim_name": args.claim_name}},
        {"name": "tmp", "empty_dir": {"size_limit": "20Gi"}},
    ]
    if args.token_secret is not None:
        container["volume_mounts"].append({"name": "hf-token", "mount_path": TOKEN_MOUNT, "read_only": True})
        # Owner and group read only: the pod's fsGroup is the group of a non-root engine's user.
        volumes.append(
            {
                "name": "hf-token",
                "secret": {
                    "secret_name": args.token_secret,
                    "items": [{"key": "HF_TOKEN", "path": TOKEN_FILE}],
                    "default_mode": 0o440,
                },
            }
        )
    pod_spec: Any = {
        "service_account_name": args.app,
        "automount_service_account_token": False,
        "enable_service_links": False,
        "restart_policy": "OnFailure",
        "security_context": pod_security_context(args.engine.runtime),
        "tolerations": [{"key": key, "operator": "Exists"} for key in args.toleration_keys],
        "containers": [container],
        "volumes": volumes,
    }
    if args.node_selector:
        pod_spec["node_selector"] = dict(args.node_selector)
    return pod_spec


def _download_egress(download: WeightsDownload) -> tuple[list[Any], str]:
    """The Job's egress rules and the path they lead out by (`proxy`, `firewall` or `declared`)."""
    egress: list[Any] = [dns_egress_rule()]
    if download.proxy_cidr is not None:
        proxy = {"ip_block": {"cidr": download.proxy_cidr}}
        egress.append({"to": [proxy], "ports": [{"protocol": "TCP", "port": download.proxy_port}]})
        path = "proxy"
    else:
        # NetworkPolicy cannot name a host: HTTPS to public addresses only; the network's egress
        # firewall narrows it to the hub's names.
        egress.append(public_https_egress_rule())
        path = "firewall" if download.after else "declared"
    return egress, path


def public_https_egress_rule() -> dict[str, Any]:
    """HTTPS to any public address (nothing private, nor the metadata server): what a NetworkPolicy can say
    where the destination is a host name; the network's routing or firewall decides the rest."""
    return {
        "to": [{"ip_block": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    }


def dns_egress_rule() -> dict[str, Any]:
    """Name resolution through the cluster's DNS, the one egress every pod of the namespace keeps."""
    return {
        "to": [
            {
                "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "kube-system"}},
                "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
