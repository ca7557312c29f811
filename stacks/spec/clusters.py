"""Kubernetes clusters that serve self-managed models: created per cloud, or existing (on premises)."""

from __future__ import annotations

from pydantic import Field, model_validator

from stacks.spec.base import Cloud, Name, SpecModel


class NewCluster(SpecModel):
    cloud: Cloud = Field(description="EKS, AKS or GKE, in that cloud's environment network.")


class ExistingCluster(SpecModel):
    kubeconfig_context: str = Field(min_length=1, description="Context name in the kubeconfig.")
    kubeconfig_path: str | None = Field(default=None, description="Defaults to $KUBECONFIG or ~/.kube/config.")


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
