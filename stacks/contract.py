"""The platform contract: what a platform stack exports and its use-case stacks read, versioned.

A platform stack builds the shared pieces of every use case it serves (`compose_platform`) and
exports them as one stack output, `platform`: a `PlatformContract`. A use-case stack reads it through
a `pulumi.StackReference`, turns each piece back into what the use-case parts take (`provide`), and
runs those parts unchanged. The document holds:

- `environment`: the platform's `clouds` and `kubernetes` settings, against which a use-case stack's
  use cases are validated (a use case naming a cloud or cluster the platform lacks is refused);
- `shared`: every shared piece a use-case part reads, under the key it is built with
  (`StackContext.shared`), as the outputs it reads: networks (ids, subnets, application CIDRs, region,
  location, project), egress firewalls (allowlist, egress IPs, proxy address, log destination),
  private DNS zones and paths, per-account settings, and each cluster (its kubeconfig, as a secret,
  image source, storage classes, load balancer annotations, GPU selectors, Prometheus, add-ons) with
  its GPU pools' selectors;
- `owns`: what only the platform stack may own (each network's egress allowlist, each region's
  Bedrock invocation logging), by name.

A new format is a new `FORMAT`; a use-case stack refuses one it does not know.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import pulumi
from pulumi_kubernetes import provider as k8s_provider
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from triplane.components.cloud_managed import (
    AzureOpenAIPrivateDns,
    BedrockPrivateLink,
    GoogleApisPrivateAccess,
    VertexProject,
)
from triplane.components.cloud_managed.bedrock_logging import BedrockInvocationLogging
from triplane.components.gcp_apis import ProjectApis
from triplane.components.image_cache.aws import EcrPullThroughCache
from triplane.components.image_cache.azure import AcrCache
from triplane.components.image_cache.gcp import ArtifactRegistryCache
from triplane.components.images import ImageSource, Mirror, PullThroughCache, Upstream
from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints
from triplane.components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from triplane.components.observability.azure_prometheus import AzureMonitorPrivateLink
from triplane.components.references import (
    AlertChannelReference,
    BedrockLoggingReference,
    BedrockPrivateLinkReference,
    EgressReference,
    GoogleApisReference,
    PrivateDnsZoneReference,
    VertexProjectReference,
)
from triplane.components.saas.egress_aws import AwsEgressFirewall
from triplane.components.saas.egress_azure import AzureEgressFirewall
from triplane.components.saas.egress_gcp import GcpEgressProxy
from triplane.components.saas.secret_store import AzureVaultDnsZone
from triplane.components.self_managed.aks import AksCluster
from triplane.components.self_managed.eks import EksCluster
from triplane.components.self_managed.gke import GkeCluster
from triplane.components.self_managed.gpu_node_pool import GpuNodePool
from triplane.stacks.clusters import ClusterHandle, ClusterReference, PoolReference, existing_cluster_provider
from triplane.stacks.context import StackContext
from triplane.stacks.spec import SpecError

FORMAT = "triplane-platform/1"
OUTPUT = "platform"
"""The platform stack's output holding the contract."""

NETWORKS: dict[str, type[AwsNetworkRef | AzureNetworkRef | GcpNetworkRef]] = {
    cls.__name__: cls for cls in (AwsNetworkRef, AzureNetworkRef, GcpNetworkRef)
}
PLATFORM_ONLY = (
    ProjectApis,
    AwsInterfaceEndpoints,
    EcrPullThroughCache,
    AcrCache,
    ArtifactRegistryCache,
    AzureMonitorPrivateLink,
    dict,
)
"""Shared pieces only platform parts use (API enablement, interface endpoints, image caches: a
cluster's image source carries what its pods need of the cache; the private link a cluster's managed
Prometheus is written to through)."""


class Piece(BaseModel):
    """One shared piece: the key it is built under, what it is, and the outputs its users read."""

    model_config = ConfigDict(extra="forbid")

    key: list[str]
    kind: str
    fields: dict[str, Any] = Field(default_factory=dict)


class ClusterFacts(BaseModel):
    """A cluster as a use case's model server sees it."""

    model_config = ConfigDict(extra="forbid")

    cloud: str | None = None
    """None for an existing cluster whose cloud the stack does not name."""
    kubeconfig: str | None = None
    """A new cluster's kubeconfig (secret); None for an existing one, reached through its own context."""
    images: dict[str, Any]
    """`{kind: upstream}`, `{kind: mirror, root}` or `{kind: cache, root, prefixes}`."""
    read_write_once: str | None = None
    read_write_many: str | None = None
    load_balancer_annotations: dict[str, str] = Field(default_factory=dict)
    gpu_node_selector: dict[str, str] = Field(default_factory=dict)
    prometheus_url: str
    addons: list[str] = Field(default_factory=list)
    """The add-ons the platform installed there (their CRDs exist before any use-case stack runs)."""
    name: str | None = None
    """A new cluster's name in its cloud."""
    project: str | None = None
    oidc_issuer_url: str | None = None
    prometheus_workspace: str | None = None
    """The managed Prometheus evaluating the cluster's alerts (`ClusterHandle.prometheus_workspace`)."""


class PlatformContract(BaseModel):
    """The `platform` output of a platform stack."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["triplane-platform/1"]
    stack: str
    environment: dict[str, Any]
    """The platform's `clouds` and `kubernetes` settings (and `tier`, `monitoring`), as written in its stack
    file."""
    serves: list[str]
    """The use-case stacks the platform was built for (its `use_case_stacks`)."""
    shared: list[Piece]
    owns: dict[str, list[str]] = Field(default_factory=dict)

    def check_serves(self, stack: str, source: str) -> None:
        """A use-case stack the platform does not list was not sized for: its requests never reached it."""
        if stack not in self.serves:
            raise SpecError(
                source,
                [
                    f"triplane:environment.platform: the platform stack {self.stack!r} does not serve the stack "
                    f"{stack!r} (it serves: {', '.join(self.serves) or 'none'}); add {stack!r} to its "
                    "`use_case_stacks`, so its pools, add-ons and allowlists are built for these use cases"
                ],
            )

    def clouds(self) -> list[str]:
        return sorted(self.environment.get("clouds") or {})

    def clusters(self) -> list[str]:
        return sorted(c["name"] for c in self.environment.get("kubernetes") or [])


def read_contract(value: Any, platform: str, source: str) -> PlatformContract:
    """The contract a platform stack exported, or a SpecError naming the platform and the fix."""
    if value is None:
        raise SpecError(
            source,
            [
                f"triplane:environment.platform: the stack {platform!r} exports no `{OUTPUT}` output; it is not a "
                "platform stack (list this stack under its `use_case_stacks`) or it has not been deployed yet"
            ],
        )
    found = value.get("format") if isinstance(value, dict) else None
    if found != FORMAT:
        raise SpecError(
            source,
            [
                f"triplane:environment.platform: the stack {platform!r} exports the format {found!r}; this Triplane "
                f"reads {FORMAT!r}: upgrade Triplane in this stack or the platform's to the same version"
            ],
        )
    try:
        return PlatformContract.model_validate(value)
    except ValidationError as error:
        raise SpecError(
            source,
            [
                f"triplane:environment.platform: the `{OUTPUT}` output of {platform!r} is not a "
                f"valid {FORMAT} document ({error.error_count()} problems: {error})"
            ],
        ) from None


# What the platform exports ------------------------------------------------------------------------


def _fields(value: Any, *names: str) -> dict[str, Any]:
    return {name: getattr(value, name) for name in names if getattr(value, name, None) is not None}


def _images(source: ImageSource) -> dict[str, Any]:
    if isinstance(source, PullThroughCache):
        return {"kind": "cache", "root": source.root, "prefixes": dict(source.prefixes)}
    if isinstance(source, Mirror):
        return {"kind": "mirror", "root": source.root}
    return {"kind": "upstream"}


def _cluster(handle: ClusterHandle) -> dict[str, Any]:
    component = handle.component
    facts: dict[str, Any] = {
        "cloud": handle.cloud,
        "images": _images(handle.images),
        "load_balancer_annotations": dict(handle.load_balancer_annotations),
        "gpu_node_selector": dict(handle.gpu_node_selector),
        "prometheus_url": handle.prometheus_url,
        "addons": sorted(handle.addons.releases) if handle.addons is not None else [],
        **_fields(handle, "read_write_once", "read_write_many", "prometheus_workspace"),
    }
    if isinstance(component, EksCluster | GkeCluster | AksCluster) and handle.ref is not None:
        facts["kubeconfig"] = component.kubeconfig
        facts["name"] = handle.ref.name
        facts.update(_fields(handle.ref, "project"))
        facts.update(_fields(component, "oidc_issuer_url"))
    return facts


def _network(ref: AwsNetworkRef | AzureNetworkRef | GcpNetworkRef) -> dict[str, Any]:
    return {f.name: getattr(ref, f.name) for f in dataclasses.fields(ref) if f.name != "subnets"}


def _piece(key: tuple[Any, ...], value: Any) -> Piece | None:
    """The exported form of a shared piece; None for one only the platform uses."""
    names = [str(part) for part in key]
    if value is None:
        return Piece(key=names, kind="none")
    if isinstance(value, AwsNetworkRef | AzureNetworkRef | GcpNetworkRef):
        return Piece(key=names, kind=f"network:{type(value).__name__}", fields=_network(value))
    if isinstance(value, AwsEgressFirewall | AzureEgressFirewall | GcpEgressProxy):
        fields = {"allowed_hosts": list(value.allowed_hosts), "egress_ips": value.egress_ips}
        fields.update(_fields(value, "proxy_address", "log_workspace_id", "alert_log_group"))
        return Piece(key=names, kind="egress", fields=fields)
    if isinstance(value, AzureVaultDnsZone | AzureOpenAIPrivateDns):
        return Piece(key=names, kind="dns-zone", fields={"zone_id": value.zone_id})
    if isinstance(value, BedrockPrivateLink):
        return Piece(key=names, kind="bedrock-private-link", fields={"runtime_url": value.runtime_url})
    if isinstance(value, BedrockInvocationLogging):
        return Piece(key=names, kind="bedrock-logging", fields={"logs": value.logs})
    if isinstance(value, GoogleApisPrivateAccess):
        return Piece(key=names, kind="googleapis", fields={"address": value.address, "ready": value.ready})
    if isinstance(value, VertexProject):
        return Piece(key=names, kind="vertex-project", fields={"agent_member": value.agent.member})
    if isinstance(value, ClusterHandle):
        return Piece(key=names, kind="cluster", fields=_cluster(value))
    if isinstance(value, AlertChannelReference):
        return Piece(key=names, kind="alert-channel", fields={"cloud": value.cloud, "target": value.target})
    if isinstance(value, tuple) and value and isinstance(value[0], GpuNodePool):
        return Piece(key=names, kind="gpu-pool", fields={"node_selector": dict(value[0].node_selector)})
    if isinstance(value, PLATFORM_ONLY):
        return None
    raise TypeError(f"the shared piece {key!r} ({type(value).__name__}) has no place in the {FORMAT} contract")


def platform_document(ctx: StackContext, serves: list[str]) -> dict[str, Any]:
    """The contract of the platform stack `ctx` composed, for `pulumi.export`: plain values and Outputs
    (checked as a `PlatformContract` where it is read, once they are values)."""
    environment = ctx.environment
    pieces = [piece for key, value in ctx.built() if (piece := _piece(key, value)) is not None]
    owns: dict[str, list[str]] = {
        "egress_allowlist": sorted(p.key[1] for p in pieces if p.kind == "egress"),
        "bedrock_invocation_logging": sorted(p.key[2] for p in pieces if p.key[1:2] == ["bedrock-logging"]),
    }
    return {
        "format": FORMAT,
        "stack": ctx.stack,
        "environment": {
            "tier": environment.tier,
            "clouds": environment.clouds.model_dump(mode="json", exclude_unset=True),
            "kubernetes": [c.model_dump(mode="json", exclude_unset=True) for c in environment.kubernetes],
            **(
                {"monitoring": environment.monitoring.model_dump(mode="json")}
                if environment.monitoring is not None
                else {}
            ),
        },
        "serves": list(serves),
        "shared": [{"key": p.key, "kind": p.kind, "fields": p.fields} for p in pieces],
        "owns": owns,
    }


# What a use-case stack makes of it ----------------------------------------------------------------


def _image_source(facts: dict[str, Any]) -> ImageSource:
    kind = facts.get("kind")
    if kind == "cache":
        return PullThroughCache(root=facts["root"], prefixes=dict(facts["prefixes"]))
    if kind == "mirror":
        return Mirror(facts["root"])
    return Upstream()


def _cluster_handle(ctx: StackContext, name: str, facts: ClusterFacts) -> ClusterHandle:
    """A cluster of the platform stack: a Kubernetes provider and what the server reads, no resources."""
    spec = ctx.environment.cluster(name)
    if facts.kubeconfig is not None:
        provider = k8s_provider.Provider(f"{ctx.stack}-{name}-k8s", kubeconfig=pulumi.Output.secret(facts.kubeconfig))
    else:
        provider = existing_cluster_provider(ctx, spec)
    return ClusterHandle(
        spec=spec,
        cloud=facts.cloud,
        provider=provider,
        read_write_once=facts.read_write_once,
        read_write_many=facts.read_write_many,
        load_balancer_annotations=dict(facts.load_balancer_annotations),
        gpu_node_selector=dict(facts.gpu_node_selector),
        images=_image_source(facts.images),
        prometheus_url=facts.prometheus_url,
        prometheus_workspace=facts.prometheus_workspace,
        reference=(
            ClusterReference(name=facts.name, project=facts.project, oidc_issuer_url=facts.oidc_issuer_url)
            if facts.name is not None
            else None
        ),
    )


def _egress(fields: dict[str, Any]) -> EgressReference:
    return EgressReference(
        allowed_hosts=list(fields["allowed_hosts"]),
        egress_ips=pulumi.Output.from_input(list(fields.get("egress_ips") or [])),
        proxy_address=fields.get("proxy_address"),
        log_workspace_id=fields.get("log_workspace_id"),
        alert_log_group=fields.get("alert_log_group"),
    )


REFERENCES: dict[str, Callable[[StackContext, Piece], Any]] = {
    "none": lambda ctx, p: None,
    "egress": lambda ctx, p: _egress(p.fields),
    "dns-zone": lambda ctx, p: PrivateDnsZoneReference(zone_id=p.fields["zone_id"]),
    "bedrock-private-link": lambda ctx, p: BedrockPrivateLinkReference(
        runtime_url=pulumi.Output.from_input(p.fields["runtime_url"])
    ),
    "bedrock-logging": lambda ctx, p: BedrockLoggingReference(logs=pulumi.Output.from_input(p.fields["logs"])),
    "googleapis": lambda ctx, p: GoogleApisReference(address=p.fields["address"], ready=p.fields["ready"]),
    "vertex-project": lambda ctx, p: VertexProjectReference(agent_member=p.fields["agent_member"]),
    "cluster": lambda ctx, p: _cluster_handle(ctx, p.key[1], ClusterFacts.model_validate(p.fields)),
    "gpu-pool": lambda ctx, p: (PoolReference(node_selector=dict(p.fields["node_selector"])), None),
    "alert-channel": lambda ctx, p: AlertChannelReference(cloud=p.fields["cloud"], target=p.fields["target"]),
}
"""Piece kind -> its reference constructor (a network's is `network:<its ref class>`)."""


def reference(ctx: StackContext, piece: Piece) -> Any:
    if piece.kind.startswith("network:"):
        cls = NETWORKS[piece.kind.removeprefix("network:")]
        return cls(**piece.fields)
    return REFERENCES[piece.kind](ctx, piece)


def provide(ctx: StackContext, contract: PlatformContract) -> None:
    """Stand every shared piece of the platform in, as a reference, before the use-case parts run."""
    used = {c for u in ctx.environment.use_cases if (c := getattr(u, "cluster", None)) is not None}
    for piece in contract.shared:
        if piece.kind in ("cluster", "gpu-pool") and piece.key[1] not in used:
            continue  # no provider for a cluster none of the stack's use cases runs on
        ctx.provide(tuple(piece.key), reference(ctx, piece))
