"""Kubernetes clusters that serve self-managed models: created per cloud, or existing (on premises)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from stacks.spec.base import Cloud, Name, SpecModel

LabelKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
    ),
]
LabelValue = Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]


class SystemNodes(SpecModel):
    """The small always-on pool for cluster services (DNS, CNI, metrics); GPU pools come from use cases."""

    machine_type: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{2,64}$",
        description="Defaults: m6i.large (AWS), Standard_D4ds_v5 (Azure), e2-standard-4 (GCP).",
    )
    min: int = Field(default=2, ge=1, le=20)
    max: int = Field(default=3, ge=1, le=100)
    disk_size_gb: int = Field(default=100, ge=30, le=2048)

    @model_validator(mode="after")
    def _ordered(self) -> SystemNodes:
        if self.min > self.max:
            raise ValueError(f"min: {self.min} is more than max ({self.max})")
        return self


class NewCluster(SpecModel):
    cloud: Cloud = Field(description="EKS, AKS or GKE, in that cloud's environment network.")
    api_access: Literal["private", "authorized-networks"] = Field(
        default="private",
        description=(
            "`private`: the API server has only a private endpoint (deploy from inside the network). "
            "`authorized-networks`: also a public endpoint, open only to `api_authorized_cidrs`."
        ),
    )
    api_authorized_cidrs: list[str] = Field(
        default_factory=list,
        description="Public CIDR blocks (e.g. a CI runner's) allowed to reach the API server.",
    )
    system_nodes: SystemNodes = Field(default_factory=SystemNodes)
    service_endpoints: Literal["create", "existing"] = Field(
        default="create",
        description=(
            "AWS: the interface endpoints private nodes need (ECR, S3, STS, EC2, EKS, ...) are created, or "
            "the "
            "VPC already has them (or a NAT path)."
        ),
    )
    kms_key: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "Existing key for secrets encryption (AWS key ARN, GCP crypto key ID, Azure key URI with its "
            "version); otherwise one is created."
        ),
    )
    kms_key_vault: str | None = Field(
        default=None, min_length=1, description="Azure: resource ID of the Key Vault holding `kms_key`."
    )
    log_retention_days: int = Field(default=365, ge=1, le=3653, description="Control-plane log retention.")

    @field_validator("api_authorized_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            try:
                network = ipaddress.ip_network(value, strict=True)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a CIDR block ({exc})") from None
            if network.prefixlen < 8:
                raise ValueError(f"{value} opens the API server to too much of the internet; use a narrow block")
            cleaned.append(str(network))
        return cleaned

    @model_validator(mode="after")
    def _access(self) -> NewCluster:
        if self.api_access == "authorized-networks" and not self.api_authorized_cidrs:
            raise ValueError("api_authorized_cidrs: list the CIDR blocks allowed to reach the public API endpoint")
        if self.api_access == "private" and self.api_authorized_cidrs:
            raise ValueError("api_authorized_cidrs: only used with `api_access: authorized-networks`")
        if self.cloud == "azure" and (self.kms_key is None) != (self.kms_key_vault is None):
            raise ValueError("kms_key_vault: an existing Azure key needs both `kms_key` and `kms_key_vault`")
        if self.kms_key_vault is not None and self.cloud != "azure":
            raise ValueError("kms_key_vault: only Azure keys live in a vault; remove it")
        if self.service_endpoints == "existing" and self.cloud != "aws":
            raise ValueError("service_endpoints: only AWS clusters create service endpoints; remove it")
        return self


class ExistingCluster(SpecModel):
    kubeconfig_context: str = Field(min_length=1, description="Context name in the kubeconfig.")
    kubeconfig_path: str | None = Field(default=None, description="Defaults to $KUBECONFIG or ~/.kube/config.")
    cloud: Cloud | None = Field(
        default=None, description="The cloud running it, if any: sets the internal load balancer annotations."
    )
    load_balancer_annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Annotations that make a Service's load balancer internal on this cluster.",
    )
    gpu_node_selector: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        description="Node labels of the GPU nodes, e.g. nvidia.com/gpu.product: NVIDIA-L4.",
    )
    storage_class: str | None = Field(
        default=None, description="Storage class for model caches; cluster default if unset."
    )
    registry: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)*$",
        description=(
            "Registry mirror every image on this cluster is pulled from, laid out as "
            "`<registry>/<upstream host>/<repository>` (e.g. registry.corp/mirror -> "
            "registry.corp/mirror/ghcr.io/huggingface/text-generation-inference). Unset: images are "
            "pulled from their upstream registries."
        ),
    )


class KubernetesCluster(SpecModel):
    name: Name
    version: str = Field(default="1.31", pattern=r"^1\.\d{2}$", description="Kubernetes minor version, e.g. 1.31.")
    new: NewCluster | None = None
    existing: ExistingCluster | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> KubernetesCluster:
        if (self.new is None) == (self.existing is None):
            raise ValueError("set exactly one of `new` (Triplane creates the cluster) or `existing`")
        return self
