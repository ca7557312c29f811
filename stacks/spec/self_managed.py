"""The self-managed pattern: open models served on GPUs the organisation controls.

A use case names a cluster (under `kubernetes`), a model and the GPUs of one serving pod. The model
is checked to fit those GPUs here, during validation, before any resource is registered. Checks
that need the whole environment (the cluster's cloud, use cases sharing one service) are in
`check_environment`, called from the environment's own validation.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from triplane.components import images
from triplane.components.self_managed import sizing
from triplane.policies.kubernetes import FULL_VERSION
from triplane.stacks.spec.base import CLASSIFICATION_RANK, ConfigKey, Name, SpecModel
from triplane.stacks.spec.networks import private_cidr
from triplane.stacks.spec.use_case import UseCaseBase

if TYPE_CHECKING:
    from collections.abc import Iterable

    from triplane.stacks.spec.clusters import KubernetesCluster
    from triplane.stacks.spec.environment import Environment

Engine = Literal["tgi", "vllm"]
Dtype = Literal["float16", "bfloat16"]
Quantize = Literal[
    "awq",
    "gptq",
    "marlin",
    "eetq",
    "exl2",
    "bitsandbytes",
    "bitsandbytes-nf4",
    "bitsandbytes-fp4",
    "fp8",
    "compressed-tensors",
]
GpuTypeName = Literal[
    "nvidia-t4",
    "nvidia-a10g",
    "nvidia-a10",
    "nvidia-l4",
    "nvidia-l40s",
    "nvidia-a100-40gb",
    "nvidia-a100-80gb",
    "nvidia-h100-80gb",
]
DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
LabelKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
    ),
]
LabelValue = Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]

VLLM_QUANTIZE: dict[str, str] = {
    "awq": "awq",
    "gptq": "gptq",
    "marlin": "marlin",
    "bitsandbytes-nf4": "bitsandbytes",
    "fp8": "fp8",
    "compressed-tensors": "compressed-tensors",
}
"""TGI quantization names and their vLLM `--quantization` equivalents (vLLM lacks the others)."""


class Architecture(SpecModel):
    """For a model outside the catalog: what sizes its KV cache (from its config.json)."""

    layers: int = Field(ge=1, le=512, description="num_hidden_layers.")
    kv_heads: int = Field(ge=1, le=512, description="num_key_value_heads.")
    head_dim: int = Field(ge=8, le=1024, description="head_dim (hidden_size / num_attention_heads).")


class OpenModel(SpecModel):
    id: str = Field(
        pattern=r"^[\w.-]+/[\w.-]+$",
        description="Hugging Face model ID, e.g. meta-llama/Llama-3.1-8B-Instruct.",
    )
    revision: str = Field(
        default="main",
        pattern=r"^[\w./-]{1,128}$",
        description="Commit SHA or tag; pin a commit SHA in production.",
    )
    parameters_billion: float | None = Field(
        default=None,
        gt=0,
        le=2000,
        description="Parameter count in billions; required for models outside the catalog.",
    )
    architecture: Architecture | None = Field(
        default=None,
        description="Layers, KV heads and head dim, for a KV-cache estimate of an uncatalogued model.",
    )
    dtype: Dtype | None = Field(default=None, description="Weights dtype; not combined with `quantize`.")
    quantize: Quantize | None = Field(
        default=None, description="Quantization (TGI names); not combined with `dtype`."
    )

    @model_validator(mode="after")
    def _dtype_or_quantize(self) -> OpenModel:
        if self.dtype is not None and self.quantize is not None:
            raise ValueError(
                "dtype: set either `dtype` or `quantize`, not both (the server rejects the pair)"
            )
        if self.id not in sizing.MODELS and self.parameters_billion is None:
            known = ", ".join(sorted(sizing.MODELS))
            raise ValueError(
                f"parameters_billion: {self.id} is not in the model catalog; declare its size, e.g. "
                f"`parameters_billion: 8.0` (catalog: {known})"
            )
        return self

    @property
    def info(self) -> sizing.ModelInfo:
        known = sizing.MODELS.get(self.id)
        architecture = (
            sizing.Architecture(
                self.architecture.layers, self.architecture.kv_heads, self.architecture.head_dim
            )
            if self.architecture is not None
            else (known.architecture if known else None)
        )
        return sizing.ModelInfo(
            parameters_billion=self.parameters_billion or (known.parameters_billion if known else 0.0),
            architecture=architecture,
            context=known.context if known else None,
            quantized=known.quantized if known else None,
        )

    @property
    def weight_format(self) -> str:
        return sizing.weight_format(self.dtype, self.quantize, self.info)


class Gpu(SpecModel):
    type: GpuTypeName = Field(description="GPU model of the node pool.")
    count: int = Field(
        ge=1, le=8, description="GPUs per serving pod (TGI --num-shard, vLLM --tensor-parallel-size)."
    )

    @field_validator("count")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value not in sizing.GPU_COUNTS:
            raise ValueError(f"{value} GPUs cannot split attention heads evenly; use 1, 2, 4 or 8")
        return value


class TokenBudgets(SpecModel):
    """Token budgets: the limits that decide memory use (and OOMs) at serving time."""

    max_input_tokens: int | None = Field(
        default=None, ge=1, le=1_048_576, description="TGI --max-input-tokens."
    )
    max_total_tokens: int | None = Field(
        default=None,
        ge=2,
        le=1_048_576,
        description="Prompt plus generated tokens (TGI --max-total-tokens, vLLM --max-model-len).",
    )
    max_batch_prefill_tokens: int | None = Field(
        default=None,
        ge=1,
        le=4_194_304,
        description="TGI --max-batch-prefill-tokens, vLLM --max-num-batched-tokens.",
    )
    max_batch_total_tokens: int | None = Field(
        default=None,
        ge=1,
        le=67_108_864,
        description="TGI --max-batch-total-tokens: the KV-cache budget of a pod.",
    )
    max_concurrent_requests: int = Field(
        default=128, ge=1, le=10_000, description="TGI --max-concurrent-requests, vLLM --max-num-seqs."
    )

    @model_validator(mode="after")
    def _ordered(self) -> TokenBudgets:
        if self.max_input_tokens and self.max_total_tokens and self.max_input_tokens >= self.max_total_tokens:
            raise ValueError(
                "max_input_tokens: must be smaller than max_total_tokens (room is needed to generate)"
            )
        if (
            self.max_input_tokens
            and self.max_batch_prefill_tokens
            and self.max_batch_prefill_tokens < self.max_input_tokens
        ):
            raise ValueError(
                "max_batch_prefill_tokens: must be at least max_input_tokens, or a long prompt never runs"
            )
        if (
            self.max_total_tokens
            and self.max_batch_total_tokens
            and self.max_batch_total_tokens < self.max_total_tokens
        ):
            raise ValueError("max_batch_total_tokens: must be at least max_total_tokens")
        return self


class Replicas(SpecModel):
    min: int = Field(
        default=1,
        ge=0,
        le=100,
        description="0 lets the GPU pool scale to zero when idle (needs autoscaling.active_hours to start again).",
    )
    max: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Replicas:
        if self.min > self.max:
            raise ValueError(f"min: {self.min} is more than max ({self.max})")
        return self


CRON = r"^[\w*/,-]+( [\w*/,-]+){4}$"


class ActiveHours(SpecModel):
    """Hours the server runs whatever its queue: a KEDA cron trigger, which is what starts a server
    that has scaled to zero (a queue metric cannot wake a deployment with no pods)."""

    timezone: str = Field(min_length=1, description="IANA time zone, e.g. Europe/Berlin.")
    start: str = Field(pattern=CRON, description="Cron expression that starts them, e.g. `0 8 * * 1-5`.")
    end: str = Field(pattern=CRON, description="Cron expression that ends them, e.g. `0 19 * * 1-5`.")
    replicas: int = Field(default=1, ge=1, le=100, description="Pods kept running during the active hours.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zones = zoneinfo.available_timezones()
        if zones and value not in zones:
            raise ValueError(f"{value!r} is not an IANA time zone; use e.g. Europe/Berlin or UTC")
        return value


class Autoscaling(SpecModel):
    """Scaling on the server's queue (`tgi_queue_size`, `vllm:num_requests_waiting`) with KEDA.

    The queue metric is scraped by Prometheus (a ServiceMonitor); KEDA queries it and drives the
    HorizontalPodAutoscaler. Triplane installs both on the cluster unless it `provides` them. CPU is
    never used: it spikes during model load and scales the deployment away.
    """

    queue_size_target: int = Field(
        default=8, ge=1, le=10_000, description="Average waiting requests per pod."
    )
    scale_down_delay_seconds: int = Field(
        default=600, ge=0, le=3600, description="Stabilization window for scale-down (and cool-down to zero)."
    )
    active_hours: ActiveHours | None = Field(
        default=None, description="Required with replicas.min 0: when the server is started."
    )


class NodePoolSettings(SpecModel):
    capacity_type: Literal["on-demand", "spot"] = Field(
        default="on-demand",
        description="Spot is cheaper and can be reclaimed; pools are split by capacity type.",
    )
    disk_size_gb: int = Field(
        default=200, ge=50, le=16_384, description="Node disk: images and ephemeral storage."
    )


class ModelCache(SpecModel):
    """The persistent Hugging Face cache, so restarts do not download the weights again."""

    size_gb: int | None = Field(
        default=None, ge=10, le=65_536, description="Defaults to 1.5 x the weights plus 20 GB."
    )
    storage_class: DnsLabel | None = Field(
        default=None, description="Defaults to the cluster's (Triplane's on EKS)."
    )
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = Field(
        default="ReadWriteOnce",
        description="ReadWriteMany (EFS, Filestore, Azure Files): replicas on several nodes share one cache.",
    )
    existing_claim: DnsLabel | None = Field(
        default=None,
        description="A PersistentVolumeClaim (in the service's namespace) already holding the model.",
    )


class AllowedClients(SpecModel):
    """Who may call the model server; everything else is denied by NetworkPolicy."""

    namespaces: list[DnsLabel] = Field(default_factory=list, description="Namespaces whose pods may call.")
    pod_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        description="Only pods with these labels (in those namespaces, or in any if none listed).",
    )
    cidrs: list[str] = Field(
        default_factory=list,
        description="Private CIDR blocks outside the cluster, for an internal load balancer.",
    )

    @field_validator("cidrs")
    @classmethod
    def _private(cls, values: list[str]) -> list[str]:
        return [private_cidr(v) for v in values]

    @model_validator(mode="after")
    def _someone(self) -> AllowedClients:
        if not (self.namespaces or self.pod_labels or self.cidrs):
            raise ValueError(
                "namespaces: name at least one namespace, pod label or CIDR allowed to call the model"
            )
        return self


class Image(SpecModel):
    @model_validator(mode="before")
    @classmethod
    def _no_registry(cls, value: object) -> object:
        if isinstance(value, dict) and "registry" in value:
            raise ValueError(
                "registry: a mirror is set once per cluster, for every image on it: "
                "kubernetes[].existing.registry (clusters Triplane creates pull through their cloud's cache)"
            )
        return value

    tag: str | None = Field(
        default=None, pattern=r"^[\w][\w.-]{0,127}$", description="Overrides the pinned version."
    )

    digest: str | None = Field(
        default=None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description=(
            "The registry's digest of `tag` (its multi-platform index), e.g. as `triplane pin <stack>` "
            "prints it: nodes pull by digest, so a re-pushed tag cannot change what runs."
        ),
    )

    @model_validator(mode="after")
    def _digest_names_its_tag(self) -> Image:
        if self.digest is not None and self.tag is None:
            raise ValueError(
                "tag: a digest belongs to one version; set the tag it was resolved from beside it (as "
                "`triplane pin <stack>` prints both), so a new catalog version is never paired with an old digest"
            )
        return self

    @field_validator("tag")
    @classmethod
    def _not_latest(cls, value: str | None) -> str | None:
        if value is not None and not FULL_VERSION.match(value):
            raise ValueError(
                f"{value!r} is not a full version: pin a tag such as 3.3.7 (major.minor.patch) so every node "
                "runs the same server; `latest`, `main`, `3` or `3.3` move as releases land"
            )
        return value


BUCKET_CLOUDS = {"s3": "aws", "gs": "gcp", "https": "azure"}
"""Bucket URI scheme -> the cloud whose clusters import from it over that cloud's private path."""
_BLOB_URI = re.compile(
    r"^https://(?P<account>[a-z0-9]{3,24})\.blob\.core\.windows\.net/"
    r"(?P<container>[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?)/(?P<prefix>[A-Za-z0-9_.=/-]+?)/?$"
)
_STORAGE_ACCOUNT_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w().-]{1,90}/providers/Microsoft\.Storage/"
    r"storageAccounts/(?P<name>[a-z0-9]{3,24})$"
)
_BUCKET_URI = re.compile(
    r"^(?P<scheme>s3|gs)://(?P<bucket>[a-z0-9][a-z0-9._-]{1,61}[a-z0-9])/(?P<prefix>[A-Za-z0-9_.=/-]+?)/?$"
)
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
PROXY_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
"""Where an explicit proxy may live: private networks (never loopback, link-local or the metadata server)."""
_PROXY_URL = re.compile(r"^http://(?P<address>\d{1,3}(?:\.\d{1,3}){3}):(?P<port>\d{1,5})/?$")


class Bucket(SpecModel):
    """A bucket prefix holding one model snapshot (config.json, tokenizer, safetensors)."""

    scheme: Literal["s3", "gs", "https"]
    bucket: str
    """The S3 or Cloud Storage bucket; on Azure, the blob container."""
    prefix: str
    account: str | None = None
    """The Azure storage account."""

    @property
    def cloud(self) -> str:
        return BUCKET_CLOUDS[self.scheme]

    @property
    def uri(self) -> str:
        if self.account is not None:
            return f"https://{self.account}.blob.core.windows.net/{self.bucket}/{self.prefix}"
        return f"{self.scheme}://{self.bucket}/{self.prefix}"


def parse_bucket(value: str) -> Bucket | None:
    """`s3://bucket/prefix`, `gs://bucket/prefix` or an Azure blob container's prefix
    (`https://<account>.blob.core.windows.net/<container>/<prefix>`), a trailing slash dropped; None if
    it is none of them."""
    blob = _BLOB_URI.match(value)
    if blob is not None:
        prefix = blob["prefix"]
        if ".." in prefix or prefix.startswith("/") or "//" in prefix or "--" in blob["container"]:
            return None
        return Bucket(scheme="https", bucket=blob["container"], prefix=prefix, account=blob["account"])
    match = _BUCKET_URI.match(value)
    if match is None or ".." in match["prefix"] or match["prefix"].startswith("/") or "//" in match["prefix"]:
        return None
    if match["scheme"] == "s3" and "_" in match["bucket"]:
        return None  # S3 bucket names have no underscores (Cloud Storage's may)
    return Bucket(scheme=match["scheme"], bucket=match["bucket"], prefix=match["prefix"])  # type: ignore[arg-type]


class Weights(SpecModel):
    """Where the model server's cache gets the weights; the server itself never downloads."""

    source: str | None = Field(
        default=None,
        description="`hub`: a Job downloads the pinned revision once through the network's egress "
        "allowlist (the default on clusters Triplane creates); `s3://bucket/prefix` (EKS) or "
        "`gs://bucket/prefix` (GKE): a Job copies the snapshot under that prefix once from an in-region "
        "bucket over the cloud's private path, as a workload identity that may read only that prefix "
        "(air-gapped sites), or `https://<account>.blob.core.windows.net/<container>/<prefix>` (AKS) the "
        "same way over the storage account's private endpoint; `existing-claim`: cache.existing_claim is "
        "already filled. Required on an existing cluster.",
    )
    kms_key: str | None = Field(
        default=None,
        description="The KMS key ARN encrypting the S3 objects (SSE-KMS): the import may then decrypt with it.",
    )
    storage_account_id: str | None = Field(
        default=None,
        description="Azure: the resource ID of the storage account named in the blob URI (Triplane cannot "
        "derive it): the scope of the reader role and the target of the private endpoint.",
    )
    private_endpoint: Literal["create", "existing"] = Field(
        default="existing",
        description="Azure: `create` the storage account's blob private endpoint and the "
        "privatelink.blob.core.windows.net zone on the network, or `existing`: the network already has them.",
    )
    https_proxy: str | None = Field(
        default=None,
        description="`http://<private IPv4>:<port>` of an explicit HTTPS proxy that allows only the hub's hosts "
        "(huggingface.co, *.huggingface.co, *.hf.co): the download Job sends its HTTPS there and its "
        "NetworkPolicy allows that address and port alone. For `hub` outside a network Triplane creates; "
        "required there for restricted data. An IP address, because a NetworkPolicy cannot name a host.",
    )

    @field_validator("source")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is None or value in ("hub", "existing-claim"):
            return value
        if value.startswith(("s3://", "gs://")):
            if parse_bucket(value) is None:
                raise ValueError(
                    f"{value!r} is not a bucket prefix; name the bucket and the folder holding the model "
                    "snapshot, e.g. s3://models-eu/meta-llama/Llama-3.1-8B-Instruct/<revision> (S3 and Cloud "
                    "Storage bucket names: 3 to 63 lowercase letters, digits, dots and hyphens)"
                )
            return value
        if value.startswith("https://"):
            if parse_bucket(value) is None:
                raise ValueError(
                    f"{value!r} is not a blob container prefix; use https://<account>.blob.core.windows.net/"
                    "<container>/<folder holding the model snapshot> (account: 3 to 24 lowercase letters and "
                    "digits; container: 3 to 63 lowercase letters, digits and single hyphens)"
                )
            return value
        raise ValueError(
            f"{value!r} is not a weights source; use `hub`, `existing-claim`, `s3://bucket/prefix`, "
            "`gs://bucket/prefix` or `https://<account>.blob.core.windows.net/<container>/<prefix>`"
        )

    @field_validator("kms_key")
    @classmethod
    def _key_arn(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_KEY_ARN.match(value):
            raise ValueError(
                f"{value!r} is not a KMS key ARN; use arn:aws:kms:<region>:<account>:key/<key id> (the key the "
                "bucket's objects are encrypted with)"
            )
        return value

    @field_validator("https_proxy")
    @classmethod
    def _proxy_address(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from ipaddress import ip_address, ip_network

        match = _PROXY_URL.match(value)
        address = None
        if match is not None and int(match["port"]) in range(1, 65536):
            try:
                address = ip_address(match["address"])
            except ValueError:
                address = None
        if address is None:
            raise ValueError(
                f"{value!r} is not a proxy address; use http://<IPv4 address>:<port>, e.g. http://10.0.0.10:3128 "
                "(an address, not a host name: the NetworkPolicy allows the Job that address alone)"
            )
        if not any(address in ip_network(block) for block in PROXY_RANGES):
            raise ValueError(
                f"{address} is not an address in your network; name the proxy by its private IPv4 address (in "
                f"{', '.join(PROXY_RANGES)}), a proxy that allows the hub's hosts only"
            )
        return value

    @property
    def proxy(self) -> tuple[str, int] | None:
        """The proxy's address and port, or None."""
        match = _PROXY_URL.match(self.https_proxy) if self.https_proxy else None
        return (match["address"], int(match["port"])) if match else None

    @model_validator(mode="after")
    def _key_for_s3(self) -> Weights:
        if self.https_proxy is not None and self.source not in (None, "hub"):
            how = "is already in the cache" if self.source == "existing-claim" else "comes over a private path"
            raise ValueError(f"https_proxy: only a hub download goes through a proxy; `{self.source}` {how}; remove it")
        if self.kms_key is not None and not (self.source or "").startswith("s3://"):
            raise ValueError("kms_key: only an `s3://` import decrypts with a KMS key; remove it")
        bucket = self.bucket
        blob = bucket is not None and bucket.account is not None
        if blob and self.storage_account_id is None:
            raise ValueError(
                "storage_account_id: name the storage account's resource ID, /subscriptions/<id>/resourceGroups/"
                f"<group>/providers/Microsoft.Storage/storageAccounts/{bucket.account if bucket else ''}: the "
                "reader role is scoped to its container and the private endpoint targets it"
            )
        if not blob and (self.storage_account_id is not None or "private_endpoint" in self.model_fields_set):
            raise ValueError(
                "storage_account_id: only an Azure blob import (https://<account>.blob.core.windows.net/...) uses "
                "it and private_endpoint; remove them"
            )
        if blob and bucket is not None and self.storage_account_id is not None:
            match = _STORAGE_ACCOUNT_ID.match(self.storage_account_id)
            if match is None:
                raise ValueError(
                    f"storage_account_id: {self.storage_account_id!r} is not a storage account's resource ID "
                    "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Storage/storageAccounts/<name>)"
                )
            if match["name"] != bucket.account:
                raise ValueError(
                    f"storage_account_id: names the account {match['name']!r}, but the source reads from "
                    f"{bucket.account!r}; name the same account in both"
                )
        return self

    @property
    def bucket(self) -> Bucket | None:
        return parse_bucket(self.source) if self.source else None


class Resources(SpecModel):
    cpu: int = Field(ge=1, le=512, description="CPU cores per pod (request = limit).")
    memory_gib: int = Field(ge=4, le=4096, description="Memory per pod in GiB (request = limit).")


class SelfManagedUseCase(UseCaseBase):
    pattern: Literal["self-managed"]
    cluster: Name = Field(description="Name of a cluster under `kubernetes`.")
    engine: Engine = Field(default="tgi", description="tgi (Text Generation Inference) or vllm.")
    model: OpenModel
    gpu: Gpu
    tokens: TokenBudgets = Field(default_factory=TokenBudgets)
    replicas: Replicas = Field(default_factory=Replicas)
    autoscaling: Autoscaling | None = Field(
        default=None, description="Scale between replicas.min and max on queue size (KEDA)."
    )
    node_pool: NodePoolSettings = Field(default_factory=NodePoolSettings)
    cache: ModelCache = Field(default_factory=ModelCache)
    resources: Resources | None = Field(
        default=None, description="Defaults to the pod's share of its GPU machine."
    )
    offline: bool = Field(
        default=False,
        description="Never reach the hub, not even to fill the cache: the same as weights.source "
        "`existing-claim` (cache.existing_claim pre-filled). The server runs HF_HUB_OFFLINE=1 either way.",
    )
    weights: Weights = Field(default_factory=Weights)
    hf_token_secret: ConfigKey | None = Field(
        default=None, description="Stack config key holding a Hugging Face token, for gated models."
    )
    api_key_secret: ConfigKey | None = Field(
        default=None, description="Stack config key holding an API key the server requires of callers."
    )
    shared_service: Name | None = Field(
        default=None,
        description="Use cases naming the same shared service share one deployment of one model.",
    )
    exposure: Literal["cluster-ip", "internal-load-balancer"] = Field(
        default="cluster-ip", description="Never public: a ClusterIP service, or an internal load balancer."
    )
    allowed_clients: AllowedClients
    monitoring: Literal["none", "annotations", "service-monitor"] = Field(
        default="annotations",
        description=(
            "Prometheus scrape annotations, or a ServiceMonitor (Prometheus Operator, installed unless the "
            "cluster provides it). Autoscaled servers always get a ServiceMonitor."
        ),
    )
    monitoring_namespace: DnsLabel = Field(
        default="monitoring", description="Where Prometheus runs (allowed to scrape)."
    )
    image: Image = Field(default_factory=Image)
    startup_timeout_minutes: int | None = Field(
        default=None,
        ge=5,
        le=180,
        description="Startup probe budget; defaults from the model size (15 to 60 minutes).",
    )

    @property
    def service_name(self) -> str:
        return self.shared_service or self.name

    @property
    def server_image(self) -> images.Image:
        """The engine's catalog image at the stack's version (`image.tag`, `image.digest`), if any."""
        catalog = images.TGI if self.engine == "tgi" else images.VLLM
        return catalog.with_version(self.image.tag, self.image.digest)

    @property
    def weights_source(self) -> str:
        """`hub`, `bucket` or `existing-claim`, with `offline` and the default resolved."""
        if self.offline:
            return "existing-claim"
        if self.weights.bucket is not None:
            return "bucket"
        return self.weights.source or "hub"

    @model_validator(mode="after")
    def _consistent(self) -> SelfManagedUseCase:
        tokens, model = self.tokens, self.model
        if self.autoscaling is not None and self.replicas.max <= self.replicas.min:
            raise ValueError(
                f"autoscaling: replicas.max ({self.replicas.max}) must exceed replicas.min "
                f"({self.replicas.min}) to scale"
            )
        if self.replicas.min == 0 and (self.autoscaling is None or self.autoscaling.active_hours is None):
            raise ValueError(
                "replicas.min: 0 leaves the server without pods and nothing would ever start one (a queue "
                "metric cannot wake a deployment that has no pods); declare when it runs with "
                "`autoscaling.active_hours` (a KEDA cron trigger, e.g. {timezone: Europe/Berlin, start: "
                "'0 8 * * 1-5', end: '0 19 * * 1-5'}), or set replicas.min: 1"
            )
        if self.autoscaling is not None and self.monitoring == "none":
            raise ValueError(
                "monitoring: autoscaling reads the queue metric from Prometheus; use `service-monitor` (or "
                "`annotations`: autoscaled servers get a ServiceMonitor either way), or remove autoscaling"
            )
        hours = self.autoscaling.active_hours if self.autoscaling is not None else None
        if hours is not None and hours.replicas > self.replicas.max:
            raise ValueError(
                f"autoscaling.active_hours.replicas: {hours.replicas} is more than replicas.max "
                f"({self.replicas.max})"
            )
        if self.offline and self.weights.source is not None and self.weights.source != "existing-claim":
            raise ValueError(
                f"weights.source: {self.weights.source} fills the cache, which `offline: true` says nothing "
                "does (cache.existing_claim is pre-filled); drop one of them"
            )
        if self.offline and self.weights.https_proxy is not None:
            raise ValueError(
                "weights.https_proxy: `offline: true` downloads nothing, so nothing goes through a proxy; remove it"
            )
        if self.weights_source == "existing-claim" and self.cache.existing_claim is None:
            raise ValueError(
                "cache.existing_claim: offline serving (HF_HUB_OFFLINE=1) never downloads; name the "
                "PersistentVolumeClaim pre-filled with the model"
            )
        if (
            self.cache.access_mode == "ReadWriteOnce"
            and self.replicas.max > 1
            and self.cache.existing_claim is None
        ):
            raise ValueError(
                f"cache.access_mode: {self.replicas.max} replicas cannot share a ReadWriteOnce cache across "
                "nodes; set `ReadWriteMany` with a storage class that supports it (EFS, Filestore, Azure "
                "Files), or replicas.max 1"
            )
        if self.exposure == "internal-load-balancer" and not self.allowed_clients.cidrs:
            raise ValueError(
                "allowed_clients.cidrs: an internal load balancer needs the private CIDR blocks allowed to "
                "reach it"
            )
        gpu = sizing.GPUS[self.gpu.type]
        if model.dtype == "bfloat16" and not gpu.bfloat16:
            raise ValueError(f"model.dtype: {self.gpu.type} has no bfloat16; use float16")
        if model.quantize == "fp8" and not gpu.fp8:
            fp8 = ", ".join(g for g, spec in sizing.GPUS.items() if spec.fp8)
            raise ValueError(f"model.quantize: fp8 needs Ada or Hopper GPUs ({fp8}), not {self.gpu.type}")
        if self.engine == "vllm":
            if model.quantize is not None and model.quantize not in VLLM_QUANTIZE:
                allowed = ", ".join(VLLM_QUANTIZE)
                raise ValueError(
                    f"model.quantize: vLLM does not support {model.quantize}; use one of {allowed}"
                )
            if tokens.max_input_tokens is not None:
                raise ValueError(
                    "tokens.max_input_tokens: vLLM has no separate input limit; set max_total_tokens"
                )
            if tokens.max_batch_total_tokens is not None:
                raise ValueError(
                    "tokens.max_batch_total_tokens: vLLM sizes its KV cache from free memory; leave it unset"
                )
        info = model.info
        if (
            info.context is not None
            and tokens.max_total_tokens is not None
            and tokens.max_total_tokens > info.context
        ):
            raise ValueError(
                f"tokens.max_total_tokens: {tokens.max_total_tokens} exceeds {model.id}'s context of "
                f"{info.context} tokens"
            )
        self._check_fit()
        return self

    def _check_fit(self) -> None:
        """The sizing guard: weights plus KV-cache headroom must fit the pod's GPUs."""
        info, fmt = self.model.info, self.model.weight_format
        required = sizing.need(
            info.parameters_billion,
            info.architecture,
            fmt,
            self.tokens.max_total_tokens,
            self.tokens.max_batch_total_tokens,
        )
        if sizing.fits(required, self.gpu.type, self.gpu.count):
            return
        options = sizing.suggestions(
            info.parameters_billion,
            info.architecture,
            fmt,
            self.tokens.max_total_tokens,
            self.tokens.max_batch_total_tokens,
            self.gpu.type,
            quantize_options=tuple(
                q for q in sizing.ON_THE_FLY if self.engine == "tgi" or q in VLLM_QUANTIZE
            ),
        )
        gpu = sizing.GPUS[self.gpu.type]
        raise ValueError(
            f"gpu: {self.model.id} does not fit. It needs about {required.total_gb:.1f} GB "
            f"({required.weights_gb:.1f} GB of {fmt} weights + {required.kv_cache_gb:.1f} GB KV cache for "
            f"{required.kv_tokens} tokens), but {self.gpu.count} x {self.gpu.type} offer "
            f"{sizing.usable_gb(self.gpu.type, self.gpu.count):.1f} GB "
            f"({int(sizing.USABLE_FRACTION * 100)}% of "
            f"{gpu.memory_gb * self.gpu.count:g} GB). What would fit: " + "; ".join(options)
        )


SHARED_SETTINGS = (
    "cluster",
    "engine",
    "model",
    "gpu",
    "tokens",
    "replicas",
    "autoscaling",
    "node_pool",
    "cache",
    "resources",
    "offline",
    "weights",
    "hf_token_secret",
    "api_key_secret",
    "exposure",
    "monitoring",
    "monitoring_namespace",
    "image",
    "startup_timeout_minutes",
    "data_classification",
)
"""What use cases sharing one service must agree on (only `allowed_clients` and descriptions may differ)."""


def addons_needed(use_cases: Iterable[SelfManagedUseCase]) -> set[str]:
    """The cluster add-ons these use cases' custom resources need (the device plugin aside)."""
    needed: set[str] = set()
    for use_case in use_cases:
        if use_case.autoscaling is not None:
            needed |= {"prometheus-operator", "keda"}
        elif use_case.monitoring == "service-monitor":
            needed.add("prometheus-operator")
    return needed


def _check_addons(environment: Environment) -> None:
    """What a cluster provides and what Triplane installs there must add up for its use cases."""
    from triplane.components.self_managed.addons import MONITORING_NAMESPACE  # the Kubernetes SDK, only when needed

    for k, cluster in enumerate(environment.kubernetes):
        on_cluster = [
            (i, u)
            for i, u in enumerate(environment.use_cases)
            if isinstance(u, SelfManagedUseCase) and u.cluster == cluster.name
        ]
        provides = set(cluster.existing.provides) if cluster.existing is not None else set()
        for i, use_case in on_cluster:
            needed = addons_needed([use_case])
            if "prometheus-operator" not in needed:
                continue
            if "prometheus-operator" not in provides:
                if use_case.monitoring_namespace != MONITORING_NAMESPACE:
                    raise ValueError(
                        f"use_cases[{i}].monitoring_namespace: Triplane installs Prometheus on cluster "
                        f"{cluster.name!r} in the `{MONITORING_NAMESPACE}` namespace, which the server's "
                        f"NetworkPolicy must admit; set monitoring_namespace: {MONITORING_NAMESPACE}, or declare "
                        "the cluster's own in kubernetes[].existing.provides"
                    )
            elif (
                use_case.autoscaling is not None
                and cluster.existing is not None
                and cluster.existing.prometheus_url is None
            ):
                raise ValueError(
                    f"kubernetes[{k}].existing.prometheus_url: use case {use_case.name!r} autoscales on its "
                    "queue, which KEDA reads from the cluster's Prometheus; name it (e.g. "
                    "http://prometheus.monitoring.svc.cluster.local:9090), or remove prometheus-operator from "
                    "`provides` to let Triplane install its own"
                )


def in_new_network(environment: Environment, cluster: KubernetesCluster) -> bool:
    """Whether the cluster is one Triplane creates in a network Triplane creates: the network's only way
    out is then its egress firewall, which lets through the allowlisted hosts alone."""
    if cluster.new is None:
        return False
    settings = getattr(environment.clouds, cluster.new.cloud, None)
    return settings is not None and settings.network.new is not None


def _check_weights_path(
    environment: Environment, i: int, use_case: SelfManagedUseCase, cluster: KubernetesCluster
) -> None:
    """The cache's way in: an explicit proxy only where Triplane's firewall is not the path, and for
    restricted data only a path that names hosts (a NetworkPolicy cannot)."""
    source, weights = use_case.weights_source, use_case.weights
    hosts = "huggingface.co, *.huggingface.co and *.hf.co"
    if weights.https_proxy is not None and in_new_network(environment, cluster):
        raise ValueError(
            f"use_cases[{i}].weights.https_proxy: cluster {cluster.name!r} is in a network Triplane creates, whose "
            f"egress firewall already allows {hosts} and nothing else; remove https_proxy"
        )
    if use_case.data_classification != "restricted":
        return
    if source == "hub" and weights.https_proxy is None and not in_new_network(environment, cluster):
        where = (
            f"cluster {cluster.name!r} exists already"
            if cluster.new is None
            else f"the {cluster.new.cloud} network exists already"
        )
        raise ValueError(
            f"use_cases[{i}].weights.https_proxy: restricted data may reach only the hosts its weights need, but "
            f"{where}, so nothing Triplane builds filters the download's HTTPS by host (a NetworkPolicy cannot "
            f"name one); name the proxy that allows only {hosts} (http://<private IPv4>:<port>), or pre-fill the "
            "cache (`weights.source: existing-claim` with cache.existing_claim)"
        )
    if source == "bucket" and cluster.new is not None and not in_new_network(environment, cluster):
        gcp = environment.clouds.gcp
        if cluster.new.cloud == "gcp" and gcp is not None and gcp.network.existing is not None:
            if gcp.network.existing.google_apis_address is not None:
                return  # the import reaches that one address and nothing public
            raise ValueError(
                f"use_cases[{i}].weights.source: restricted data: the import may reach only the private "
                "googleapis.com endpoint, whose address Triplane does not know on an existing network; set "
                "clouds.gcp.network.existing.google_apis_address, or pre-fill the cache (`existing-claim`)"
            )
        raise ValueError(
            f"use_cases[{i}].weights.source: restricted data: the {cluster.new.cloud} network exists already, so "
            "what the import's HTTPS reaches beyond the bucket's private path is not filtered by host (a "
            "NetworkPolicy cannot name the storage service's addresses); run the cluster in a network Triplane "
            "creates, or pre-fill the cache (`weights.source: existing-claim` with cache.existing_claim)"
        )


def check_environment(environment: Environment) -> None:
    """Checks that need the whole environment; messages name the field from the environment root."""
    _check_addons(environment)
    clusters = {c.name: c for c in environment.kubernetes}
    clusters_index = {c.name: i for i, c in enumerate(environment.kubernetes)}
    services: dict[str, tuple[int, SelfManagedUseCase]] = {}
    names = {u.name for u in environment.use_cases}
    for i, use_case in enumerate(environment.use_cases):
        if not isinstance(use_case, SelfManagedUseCase):
            continue
        cluster = clusters.get(use_case.cluster)
        if cluster is None:
            continue  # reported by the environment
        bucket = use_case.weights.bucket
        if bucket is not None and cluster.new is None:
            raise ValueError(
                f"use_cases[{i}].weights.source: cluster {cluster.name!r} exists already, so Triplane cannot "
                f"give it a private path or a workload identity for {bucket.uri}; copy the snapshot into a "
                "PersistentVolumeClaim in the service's namespace yourself and set `source: existing-claim` "
                "with cache.existing_claim"
            )
        if bucket is not None and cluster.new is not None and bucket.cloud != cluster.new.cloud:
            raise ValueError(
                f"use_cases[{i}].weights.source: {bucket.uri} is a {bucket.cloud} bucket, but cluster "
                f"{cluster.name!r} runs on {cluster.new.cloud}; import from an in-region bucket of the "
                f"cluster's own cloud (" + ", ".join(f"{s}:// on {c}" for s, c in BUCKET_CLOUDS.items()) + ")"
            )
        _check_weights_path(environment, i, use_case, cluster)
        key = use_case.weights.kms_key
        aws = environment.clouds.aws
        if bucket is not None and key is not None and aws is not None and key.split(":")[3] != aws.region:
            raise ValueError(
                f"use_cases[{i}].weights.kms_key: the key is in {key.split(':')[3]}, so the bucket it encrypts "
                f"is too, but the cluster runs in {aws.region}; the S3 gateway endpoint reaches only buckets "
                "of its own region: copy the snapshot to a bucket there"
            )
        if cluster.new is not None:
            cloud = cluster.new.cloud
            settings = getattr(environment.clouds, cloud, None)
            if (
                settings is not None
                and settings.network.existing is not None
                and use_case.weights.source is None
                and not use_case.offline
            ):
                raise ValueError(
                    f"use_cases[{i}].weights.source: the {cloud} network exists already, so Triplane builds "
                    "no egress firewall for the weights download; state where the weights come from: `hub` "
                    "(the network reaches huggingface.co and its storage hosts) or `existing-claim` "
                    "(cache.existing_claim is pre-filled)"
                )
            if sizing.machine_for(cloud, use_case.gpu.type, use_case.gpu.count) is None:
                offered = [
                    f"{g} (up to {max(spec.machines(cloud))})"
                    for g, spec in sizing.GPUS.items()
                    if spec.machines(cloud)
                ]
                where = sizing.clouds_offering(use_case.gpu.type, use_case.gpu.count)
                elsewhere = (
                    f"; {use_case.gpu.type} x {use_case.gpu.count} exists on {', '.join(where)}"
                    if where
                    else ""
                )
                raise ValueError(
                    f"use_cases[{i}].gpu: {cloud} has no machine with "
                    f"{use_case.gpu.count} x {use_case.gpu.type}; "
                    f"GPUs on {cloud}: {', '.join(offered)}{elsewhere}"
                )
        elif cluster.existing is not None and cluster.existing.registry is None:
            raise ValueError(
                f"kubernetes[{clusters_index[cluster.name]}].existing.registry: cluster {cluster.name!r} exists "
                "already, so Triplane cannot see where its nodes pull images from; state it: a mirror holding "
                "every image under `<registry>/<upstream host>/<repository>` (e.g. registry.corp/mirror), or "
                "`upstream` when the nodes reach the public registries themselves"
            )
        elif use_case.weights.source is None and not use_case.offline:
            raise ValueError(
                f"use_cases[{i}].weights.source: cluster {cluster.name!r} exists already, so Triplane gives "
                "it no path to the Hugging Face hub; state where the weights come from: `hub` (the cluster "
                "reaches huggingface.co and its storage hosts) or `existing-claim` (cache.existing_claim "
                "is pre-filled)"
            )
        elif (
            use_case.exposure == "internal-load-balancer"
            and cluster.existing is not None
            and cluster.existing.cloud is None
            and not cluster.existing.load_balancer_annotations
        ):
            raise ValueError(
                f"use_cases[{i}].exposure: cluster {cluster.name!r} is not in a known cloud, so Triplane "
                "cannot make its load balancer internal; set kubernetes[].existing.cloud or "
                "existing.load_balancer_annotations"
            )
        if environment.tier == "prod" and not re.fullmatch(r"[0-9a-f]{40}", use_case.model.revision):
            raise ValueError(
                f"use_cases[{i}].model.revision: prod serves a pinned commit; set the 40-character "
                "commit SHA "
                f"of {use_case.model.id} instead of {use_case.model.revision!r}"
            )
        if use_case.shared_service is None:
            continue
        if use_case.shared_service in names and use_case.shared_service != use_case.name:
            raise ValueError(
                f"use_cases[{i}].shared_service: {use_case.shared_service!r} is also a use case's name; "
                "pick a name no use case has"
            )
        first = services.get(use_case.shared_service)
        if first is None:
            services[use_case.shared_service] = (i, use_case)
            continue
        j, other = first
        for setting in SHARED_SETTINGS:
            if getattr(use_case, setting) != getattr(other, setting):
                hint = (
                    "; a shared service serves one data classification, so give the more sensitive "
                    "one its own"
                    if setting == "data_classification"
                    and CLASSIFICATION_RANK[use_case.data_classification]
                    != CLASSIFICATION_RANK[other.data_classification]
                    else ""
                )
                raise ValueError(
                    f"use_cases[{i}].{setting}: differs from use_cases[{j}] ({other.name}), which shares the "
                    f"service {use_case.shared_service!r}; use cases sharing a service must agree on it{hint}"
                )
