"""Every container image Triplane deploys, pinned in one place, and where a cluster pulls it from.

Nodes of the networks Triplane creates have no general internet path, so no workload names an
upstream registry directly: each cluster has an `ImageSource` that turns an upstream image into the
reference its nodes can pull. A cloud's pull-through cache (ECR pull-through cache rules, ACR cache
rules, Artifact Registry remote repositories) rewrites the host and path; an existing cluster's
`registry` mirror puts every image under one prefix; `Upstream` leaves the image as it is, for a
cluster that reaches the public registries itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import pulumi


@dataclass(frozen=True)
class Image:
    """An upstream image: registry host, repository and a full version tag (optionally its digest)."""

    host: str
    """The upstream registry's host, e.g. ghcr.io, docker.io, nvcr.io, registry.k8s.io, quay.io."""
    repository: str
    """The repository on that host, e.g. huggingface/text-generation-inference (docker.io: with `library/`)."""
    tag: str
    digest: str | None = None
    """`sha256:...`: when set, nodes pull by digest and the tag only documents the version."""

    @property
    def version(self) -> str:
        """`:tag` or `:tag@digest`, the part after the repository in any reference."""
        return f":{self.tag}@{self.digest}" if self.digest else f":{self.tag}"

    @property
    def upstream(self) -> str:
        return f"{self.host}/{self.repository}{self.version}"

    def with_version(self, tag: str | None = None, digest: str | None = None) -> Image:
        """The same image at another version (a stack's override); a new tag drops the pinned digest."""
        if tag is None and digest is None:
            return self
        return Image(self.host, self.repository, tag or self.tag, digest if tag is None or digest else None)


class ImageSource(Protocol):
    """Where one cluster's nodes pull images from."""

    def ref(self, image: Image) -> pulumi.Input[str]:
        """The reference a pod spec names for `image`."""
        ...

    def upstream_hosts(self, image: Image) -> tuple[str, ...]:
        """The upstream hosts the nodes themselves must reach to pull `image` (none through a cache)."""
        ...


@dataclass(frozen=True)
class Upstream:
    """No cache: nodes pull from the upstream registry (they need a path to its hosts)."""

    def ref(self, image: Image) -> pulumi.Input[str]:
        return image.upstream

    def upstream_hosts(self, image: Image) -> tuple[str, ...]:
        return pull_hosts(image.host)


@dataclass(frozen=True)
class Mirror:
    """A registry mirror holding every upstream under `<root>/<upstream host>/<repository>`.

    This is the layout of a pull-through proxy keyed by upstream (Harbor, Zot, Artifactory remote
    repositories named after the host) and of an air-gapped registry filled by `skopeo sync`.
    """

    root: str

    def ref(self, image: Image) -> pulumi.Input[str]:
        return f"{self.root}/{image.host}/{image.repository}{image.version}"

    def upstream_hosts(self, image: Image) -> tuple[str, ...]:
        return ()


UPSTREAM_HOSTS: dict[str, tuple[str, ...]] = {
    "docker.io": ("registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"),
    "nvcr.io": ("nvcr.io", "ngc.download.nvidia.com"),
}
"""Hosts a pull touches beyond the registry's own name, where they differ (Docker Hub serves its API
from registry-1.docker.io, tokens from auth.docker.io and layers from its CDN; NVIDIA's registry
serves layers from ngc.download.nvidia.com, the two hosts NVIDIA names for pulls through a firewall)."""


def pull_hosts(host: str) -> tuple[str, ...]:
    """What a node must reach to pull from `host` directly."""
    return UPSTREAM_HOSTS.get(host, (host,))


@dataclass(frozen=True)
class PullThroughCache:
    """A cloud registry caching each upstream under its own path: `<root>/<prefix>/<repository>`.

    ECR pull-through cache rules (`<account>.dkr.ecr.<region>.amazonaws.com/<prefix>`), ACR cache rules
    (`<registry>.azurecr.io/<target>`) and Artifact Registry remote repositories
    (`<region>-docker.pkg.dev/<project>/<repository>`) all have this shape. An upstream the cache cannot
    front is pulled from upstream, and `upstream_hosts` names what the nodes must reach for it.
    """

    root: pulumi.Input[str]
    prefixes: Mapping[str, str]
    """Upstream host -> the path the cache serves it under."""

    def ref(self, image: Image) -> pulumi.Input[str]:
        # No wait on the cache's rules or grants: a pod pulling before they exist is retried by the kubelet.
        prefix = self.prefixes.get(image.host)
        if prefix is None:
            return image.upstream
        rest = f"{prefix}/{image.repository}{image.version}"
        if isinstance(self.root, str):
            return f"{self.root}/{rest}"
        return pulumi.Output.concat(self.root, "/", rest)

    def upstream_hosts(self, image: Image) -> tuple[str, ...]:
        return () if image.host in self.prefixes else pull_hosts(image.host)


TGI = Image("ghcr.io", "huggingface/text-generation-inference", "3.3.7")
VLLM = Image("docker.io", "vllm/vllm-openai", "v0.11.0")
NVIDIA_DEVICE_PLUGIN = Image("nvcr.io", "nvidia/k8s-device-plugin", "v0.17.4")
DCGM_EXPORTER = Image("nvcr.io", "nvidia/k8s/dcgm-exporter", "4.5.3-4.8.2-distroless")
"""NVIDIA's GPU metrics exporter: DCGM 4.5.3 with exporter 4.8.2, the image its Helm chart of that release
defaults to."""
AWS_CLI = Image("public.ecr.aws", "aws-cli/aws-cli", "2.27.50")
"""The weights import from S3 (`aws s3 sync`): ECR Public, which ECR's pull-through cache fronts."""
AZURE_CLI = Image("mcr.microsoft.com", "azure-cli", "2.75.0")
"""The weights import from Azure Blob Storage (`az storage blob download-batch`): MCR, which the ACR
cache fronts through the rule the cluster bootstraps from."""
CLOUD_SDK = Image("docker.io", "google/cloud-sdk", "530.0.0-slim")
"""The weights import from Cloud Storage (`gcloud storage rsync`): Docker Hub, which the Artifact
Registry cache fronts (gcr.io's google-cloud-cli image has no remote repository there)."""


KEDA = Image("ghcr.io", "kedacore/keda", "2.20.2")
KEDA_METRICS_SERVER = Image("ghcr.io", "kedacore/keda-metrics-apiserver", "2.20.2")
KEDA_WEBHOOKS = Image("ghcr.io", "kedacore/keda-admission-webhooks", "2.20.2")
"""KEDA's three images, at the version of the pinned `keda` chart (2.20.2)."""
PROMETHEUS_OPERATOR = Image("quay.io", "prometheus-operator/prometheus-operator", "v0.93.0")
PROMETHEUS_CONFIG_RELOADER = Image("quay.io", "prometheus-operator/prometheus-config-reloader", "v0.93.0")
PROMETHEUS = Image("quay.io", "prometheus/prometheus", "v3.13.2-distroless")
"""The operator, its config reloader and the Prometheus server of the pinned kube-prometheus-stack chart (88.3.0)."""

ENVOY_GATEWAY = Image("docker.io", "envoyproxy/gateway", "v1.9.0")
"""Envoy Gateway's controller, and the shutdown manager it runs beside every Envoy proxy (gateway-helm v1.9.0)."""
ENVOY_PROXY = Image("docker.io", "envoyproxy/envoy", "distroless-v1.39.0")
"""The Envoy proxy Envoy Gateway v1.9.0 deploys by default (its `DefaultEnvoyProxyImage`)."""
ENVOY_RATELIMIT = Image("docker.io", "envoyproxy/ratelimit", "17b1956c")
"""Envoy's global rate limit service, at the commit gateway-helm v1.9.0 pins (the project tags no releases)."""
AI_GATEWAY_CONTROLLER = Image("docker.io", "envoyproxy/ai-gateway-controller", "v1.1.0")
AI_GATEWAY_EXTPROC = Image("docker.io", "envoyproxy/ai-gateway-extproc", "v1.1.0")
"""Envoy AI Gateway's controller and the external processor it injects into every Envoy proxy pod (v1.1.0)."""
REDIS = Image("docker.io", "library/redis", "8.2.4-alpine3.22")
"""The rate limit counters' store: the Redis the AI gateway's token rate limit example pins (v1.1.0)."""


def cluster_autoscaler(kubernetes_version: str) -> Image:
    """The autoscaler release follows the cluster's minor version (`1.33` -> v1.33.0)."""
    return Image("registry.k8s.io", "autoscaling/cluster-autoscaler", f"v{kubernetes_version}.0")


def split_reference(reference: str, digest: Literal["in-tag", "sha"] = "in-tag") -> dict[str, str]:
    """A reference as Helm charts take it: `registry` (host), `repository` and `tag`.

    Most charts join them as `<registry>/<repository>:<tag>`, so a digest rides along in the tag
    (`in-tag`); kube-prometheus-stack takes it apart, as `sha` (the hex digits after `sha256:`).
    """
    host, _, rest = reference.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost"):
        raise ValueError(f"{reference!r} does not start with a registry host")
    name, _, pinned = rest.partition("@")
    repository, colon, tag = name.rpartition(":")
    if not colon or "/" in tag:
        raise ValueError(f"{reference!r} has no tag: Triplane pins every image")
    if digest == "sha":
        return {"registry": host, "repository": repository, "tag": tag, "sha": pinned.removeprefix("sha256:")}
    return {"registry": host, "repository": repository, "tag": f"{tag}@{pinned}" if pinned else tag}


def chart_image(
    source: ImageSource, image: Image, digest: Literal["in-tag", "sha"] = "in-tag"
) -> pulumi.Output[dict[str, str]]:
    """`image` through a cluster's source, split for a Helm chart's `image:` values."""
    return pulumi.Output.from_input(source.ref(image)).apply(lambda ref: split_reference(ref, digest))


__all__ = [
    "AI_GATEWAY_CONTROLLER",
    "AI_GATEWAY_EXTPROC",
    "AWS_CLI",
    "AZURE_CLI",
    "CLOUD_SDK",
    "DCGM_EXPORTER",
    "ENVOY_GATEWAY",
    "ENVOY_PROXY",
    "ENVOY_RATELIMIT",
    "KEDA",
    "KEDA_METRICS_SERVER",
    "KEDA_WEBHOOKS",
    "NVIDIA_DEVICE_PLUGIN",
    "PROMETHEUS",
    "PROMETHEUS_CONFIG_RELOADER",
    "PROMETHEUS_OPERATOR",
    "REDIS",
    "TGI",
    "VLLM",
    "Image",
    "ImageSource",
    "Mirror",
    "PullThroughCache",
    "Upstream",
    "chart_image",
    "cluster_autoscaler",
    "pull_hosts",
    "split_reference",
]
