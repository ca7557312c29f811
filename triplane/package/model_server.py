"""`KubernetesModelServer`: Triplane's `ModelServer` (TGI or vLLM) on a cluster the caller already has.

Builds the internal component from plain inputs: its own namespace under Pod Security admission, a
service account without a token, the model cache volume and the Job that fills it from the hub, the
GPU Deployment with startup probes sized for cold starts and a disruption budget, a ClusterIP Service
(never a public load balancer) and NetworkPolicies that deny by default and admit only the named
clients. Tokens are Kubernetes secrets, kept secret end to end. The cluster is the program's
Kubernetes provider (the default one, or one passed in the resource options).
"""

from typing import NotRequired, TypedDict

import pulumi

from triplane.components.images import TGI, VLLM
from triplane.components.self_managed.model_server import CacheVolume, ClientAccess, ModelServer, ModelServerArgs
from triplane.components.tagging import k8s_labels
from triplane.package.inputs import Inputs

ENGINE_IMAGES = {"tgi": TGI.upstream, "vllm": VLLM.upstream}
DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
HUB_MODEL = r"[\w.-]+/[\w.-]+"
PINNED_IMAGE = r"[^\s@]+:(?!latest$)[\w][\w.-]{0,127}(@sha256:[0-9a-f]{64})?|[^\s@]+@sha256:[0-9a-f]{64}"


class KubernetesModelServerArgs(TypedDict):
    """The model, the engine and who may call it."""

    model_id: str
    """Hugging Face Hub model ID, e.g. `mistralai/Mistral-7B-Instruct-v0.3`."""
    revision: NotRequired[str]
    """Hub revision to serve; a commit hash pins the weights (default `main`)."""
    engine: NotRequired[str]
    """`tgi` (Text Generation Inference, the default) or `vllm` (recommended for new work)."""
    gpus: int
    """GPUs per pod: TGI `--num-shard`, vLLM `--tensor-parallel-size`."""
    namespace: str
    """Namespace created for the server (a DNS label)."""
    client_namespaces: NotRequired[list[str]]
    """Namespaces whose pods may call the server; with `clientPodLabels`, only those pods in them."""
    client_pod_labels: NotRequired[dict[str, str]]
    """Labels of the pods that may call the server. Give this, `clientNamespaces` or both."""
    image: NotRequired[str]
    (
        "Image reference with a version tag or digest (never `latest`); the engine's pinned upstream image "
        "when omitted."
    )
    replicas: NotRequired[int]
    """Number of server pods (default 1)."""
    cpu: NotRequired[int]
    """CPU cores requested per pod (default 4)."""
    memory_gib: NotRequired[int]
    """Memory per pod in GiB (default 16)."""
    cache_size_gb: NotRequired[int]
    """Size of the model cache volume in GB (default 100)."""
    storage_class: NotRequired[str]
    """Storage class of the cache volume; the cluster's default when omitted."""
    node_selector: NotRequired[dict[str, str]]
    """Node labels the pods must match, e.g. a GPU node pool's labels."""
    hf_token: NotRequired[pulumi.Input[str]]
    """Hugging Face token for gated models; stored as a Kubernetes secret."""
    api_key: NotRequired[pulumi.Input[str]]
    """API key the server requires on inference routes; stored as a Kubernetes secret."""
    protect_data: NotRequired[bool]
    """Protect the namespace and the cache volume from deletion (for production)."""
    tags: dict[str, str]
    (
        "Labels for every object: `owner`, `cost-center`, `environment`, `use-case` and "
        "`data-classification`; written as `triplane.io/<key>` labels with `pattern` and `managed-by`."
    )


class KubernetesModelServer(pulumi.ComponentResource):
    (
        "An open model served by TGI or vLLM on an existing Kubernetes cluster: its own namespace, a cached "
        "model, a GPU Deployment, an internal Service and deny-by-default network policies."
    )

    url: pulumi.Output[str]
    """In-cluster URL (`http://<service>.<namespace>.svc.cluster.local`)."""
    address: pulumi.Output[str]
    """The in-cluster host name clients connect to."""
    namespace: pulumi.Output[str]
    """The namespace holding the server."""
    service_name: pulumi.Output[str]
    """Name of the Service in front of the server."""

    def __init__(
        self, name: str, args: KubernetesModelServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("triplane:index:KubernetesModelServer", name, None, opts)
        given = Inputs("KubernetesModelServer", name, args)
        engine = given.choice("engine", "engine", tuple(ENGINE_IMAGES), "tgi")
        client_namespaces = given.strings("client_namespaces", "clientNamespaces", pattern=DNS_LABEL,
                                          hint="a namespace name")
        client_labels = given.mapping("client_pod_labels", "clientPodLabels")
        if not client_namespaces and not client_labels:
            raise given.error("clientNamespaces", "name the client namespaces or pod labels; no one could call "
                              "the server otherwise")
        hf_token, api_key = args.get("hf_token"), args.get("api_key")
        server = ModelServer(
            name,
            ModelServerArgs(
                model_id=given.text("model_id", "modelId", pattern=HUB_MODEL, hint="<organisation>/<model>"),
                revision=given.text("revision", "revision", "main"),
                gpus=given.integer("gpus", "gpus", minimum=1),
                namespace=given.text("namespace", "namespace", pattern=DNS_LABEL, hint="a DNS label"),
                access=ClientAccess(namespaces=client_namespaces, pod_labels=client_labels),
                image=given.text("image", "image", ENGINE_IMAGES[engine], pattern=PINNED_IMAGE,
                                 hint="a reference with a version tag or digest, not latest"),
                engine="vllm" if engine == "vllm" else "tgi",
                replicas=given.integer("replicas", "replicas", 1, minimum=1),
                cpu=given.integer("cpu", "cpu", 4, minimum=1),
                memory_gib=given.integer("memory_gib", "memoryGib", 16, minimum=1),
                node_selector=given.mapping("node_selector", "nodeSelector"),
                cache=CacheVolume(
                    size_gb=given.integer("cache_size_gb", "cacheSizeGb", 100, minimum=1),
                    storage_class=given.optional_text("storage_class", "storageClass"),
                ),
                hf_token=None if hf_token is None else pulumi.Output.secret(hf_token),
                api_key=None if api_key is None else pulumi.Output.secret(api_key),
                tags=k8s_labels(given.tags("self-managed")),
                protect_data=given.flag("protect_data", "protectData", False),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = server.url
        self.address = server.address
        self.namespace = server.namespace
        self.service_name = server.service_name
        self.register_outputs({
            "url": self.url,
            "address": self.address,
            "namespace": self.namespace,
            "service_name": self.service_name,
        })
