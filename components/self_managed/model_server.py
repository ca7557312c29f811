"""ModelServer: an open model served by Text Generation Inference or vLLM on any Kubernetes cluster.

Creates its own namespace (Pod Security enforced at the strictest level the engine's image
supports, `restricted` warned and audited; see `engines`) and, in it, three parts:
`ModelWorkload` (service account, secrets, the model cache and the Job filling it, the Deployment,
its disruption budget; `model_workload`), `ModelExposure` (the Service, never a public load
balancer, and the NetworkPolicies: deny by default, ingress only from the named clients; the
download Job alone may reach the hub, the import Job alone its bucket; `model_exposure`) and, when
the server is autoscaled or scraped by a ServiceMonitor, `ModelAutoscaling` (`autoscaling`).

The same interface serves both engines: `engine="vllm"` swaps the image, arguments, port and
queue metric (TGI upstream is in maintenance mode; vLLM is the maintained alternative). The
component was `TgiService` (type `triplane:selfmanaged:TgiService`): both names still work, and a
stack deployed under the old type keeps every resource (`RenamedComponent`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_kubernetes import core as k8s_core

from triplane.components.self_managed.autoscaling import ModelAutoscaling, QueueScaling
from triplane.components.self_managed.engines import ENGINES, namespace_labels
from triplane.components.self_managed.model_exposure import ModelExposure
from triplane.components.self_managed.model_pod import server_args
from triplane.components.self_managed.model_workload import ModelWorkload
from triplane.components.self_managed.server_names import ServerNames
from triplane.components.self_managed.weights import WeightsDownload
from triplane.components.self_managed.weights_import import WeightsImport
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import RenamedComponent

__all__ = [
    "CacheVolume",
    "ClientAccess",
    "ModelServer",
    "ModelServerArgs",
    "TgiService",
    "TgiServiceArgs",
    "TokenLimits",
    "server_args",
]


@dataclass
class TokenLimits:
    max_input_tokens: int | None = None
    max_total_tokens: int | None = None
    max_batch_prefill_tokens: int | None = None
    max_batch_total_tokens: int | None = None
    max_concurrent_requests: int = 128


@dataclass
class CacheVolume:
    size_gb: int = 100
    storage_class: str | None = None
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = "ReadWriteOnce"
    existing_claim: str | None = None
    """A claim to use instead of creating one (pre-filled when `download` is None)."""


@dataclass
class ClientAccess:
    """Who may call the server. A namespace list, pod labels, or both (pods with those labels in those
    namespaces); CIDRs for callers outside the cluster through an internal load balancer."""

    namespaces: Sequence[str] = ()
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    cidrs: Sequence[str] = ()
    exposure: Literal["cluster-ip", "internal-load-balancer"] = "cluster-ip"
    load_balancer_annotations: Mapping[str, str] = field(default_factory=dict)
    """The cloud's annotations that make a load balancer internal (required for that exposure)."""
    gateway_namespace: str | None = None
    """The AI gateway's proxies' namespace, admitted beside the clients when the gateway fronts the server."""


@dataclass
class ModelServerArgs:
    model_id: str
    gpus: int
    """GPUs per pod: TGI `--num-shard`, vLLM `--tensor-parallel-size`."""
    namespace: str
    access: ClientAccess
    image: pulumi.Input[str]
    """The reference the cluster pulls (`images.TGI` / `images.VLLM` through its `ImageSource`)."""
    engine: Literal["tgi", "vllm"] = "tgi"
    revision: str = "main"
    dtype: str | None = None
    quantize: str | None = None
    """Quantization in the engine's own vocabulary."""
    tokens: TokenLimits = field(default_factory=TokenLimits)
    replicas: int = 1
    autoscaling: QueueScaling | None = None
    """A KEDA ScaledObject on the queue metric (which is then scraped) instead of fixed `replicas`."""
    cpu: int = 4
    memory_gib: int = 16
    node_selector: Mapping[str, str] = field(default_factory=dict)
    toleration_keys: Sequence[str] = ("nvidia.com/gpu", "sku")
    cache: CacheVolume = field(default_factory=CacheVolume)
    download: WeightsDownload | None = field(default_factory=WeightsDownload)
    """The Job that fills the cache from the hub; None when `cache.existing_claim` is already filled."""
    weights_import: WeightsImport | None = None
    """The Job that copies the snapshot from a bucket instead (then `download` is None); the server
    loads the directory it fills."""
    hf_token: pulumi.Input[str] | None = None
    api_key: pulumi.Input[str] | None = None
    monitoring: Literal["none", "annotations", "service-monitor"] = "annotations"
    monitoring_namespace: str = "monitoring"
    crd_releases: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """API group -> the Helm release installing its CRD on this cluster (absent where the cluster has it)."""
    startup_timeout_seconds: int = 1800
    tags: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels (from `k8s_labels`) put on every object."""
    protect_data: bool = False


class ModelServer(RenamedComponent):
    """One model server deployment: its namespace, workload, exposure and scaling."""

    url: pulumi.Output[str]
    """In-cluster URL (`http://<service>.<namespace>.svc.cluster.local`)."""
    address: pulumi.Output[str]
    """The internal load balancer's address when exposed that way, else the in-cluster host name."""
    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: ModelServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:ModelServer", "triplane:selfmanaged:TgiService", name, opts)
        engine = ENGINES[args.engine]
        server = ServerNames.of(name, args.namespace, engine, args.tags)
        ns, app = server.namespace, server.app

        namespace = k8s_core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns,
                "labels": {**args.tags, **namespace_labels(engine)},
            },
            # Deleting a namespace deletes the cache claim in it: protected with the claim.
            opts=stateful_opts(self, args.protect_data),
        )
        workload = ModelWorkload(server, self, args, namespace)
        exposure = ModelExposure(
            server,
            self,
            engine=engine,
            access=args.access,
            monitoring=args.monitoring,
            monitoring_namespace=args.monitoring_namespace,
            namespace=namespace,
        )
        if args.autoscaling is not None or args.monitoring == "service-monitor":
            ModelAutoscaling(
                server,
                self,
                engine=engine,
                scaling=args.autoscaling,
                namespace=namespace,
                deployment=workload.deployment,
                crd_releases=args.crd_releases,
            )

        self.url = pulumi.Output.from_input(f"http://{app}.{ns}.svc.cluster.local")
        self.namespace = namespace.metadata.apply(lambda m: m.name if m is not None and m.name else ns)
        self.service_name = exposure.service.metadata.apply(lambda m: m.name if m is not None and m.name else app)
        self.address = exposure.address
        self.register_outputs({"url": self.url, "address": self.address, "namespace": self.namespace})


TgiService = ModelServer
"""The component's former name."""
TgiServiceArgs = ModelServerArgs
