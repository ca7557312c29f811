"""What Triplane needs from a cloud, in one place: a `CloudSeam` per cloud, filled by its own module.

Stacks dispatch through `SEAMS[cloud]` (`stacks.clouds`) instead of comparing cloud names, so a new
cloud is one new module filling every entry here, and a new managed-model service on a cloud already
supported is one more entry in that cloud's `managed_models`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pulumi

from triplane.components.images import ImageSource
from triplane.components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from triplane.components.observability.alerts import MonitoredUseCase
from triplane.components.observability.forwarding import ManagedPrometheus
from triplane.components.references import AlertChannelReference
from triplane.components.saas.saas_egress import EgressFirewall, KeyStoreBuilder
from triplane.components.self_managed.aks import AksCluster
from triplane.components.self_managed.eks import EksCluster
from triplane.components.self_managed.gke import GkeCluster
from triplane.components.self_managed.nodes import SystemNodes
from triplane.components.self_managed.weights_import import WeightsImport
from triplane.stacks.context import Endpoint

if TYPE_CHECKING:
    from triplane.stacks.clusters import ClusterHandle
    from triplane.stacks.context import StackContext
    from triplane.stacks.spec import Environment, KubernetesCluster, SaasUseCase
    from triplane.stacks.spec.self_managed import SelfManagedUseCase

NetworkRef = AwsNetworkRef | AzureNetworkRef | GcpNetworkRef
"""A cloud network, created by Triplane or existing: what every component takes as its `network`."""
ClusterComponent = EksCluster | GkeCluster | AksCluster

CLOUD_MANAGED = "cloud-managed"
"""`cloud-managed`: the pattern of every managed-model service a seam offers."""

Ref = TypeVar("Ref", AwsNetworkRef, AzureNetworkRef, GcpNetworkRef)


def narrowed(network: NetworkRef, kind: type[Ref], cloud: str) -> Ref:
    """`network` as the cloud's own reference; another cloud's network is a programming error."""
    if not isinstance(network, kind):
        raise TypeError(f"{cloud} resource needs {cloud} network, not a {type(network).__name__}")
    return network


def granted_endpoint(component: Any, principals: Iterable[str], auth: str, identity: pulumi.Input[str]) -> Endpoint:
    """A managed-model endpoint after granting each allowed principal its invoke permission."""
    for principal in principals:
        component.grant_invoke(principal)
    return Endpoint(pattern=CLOUD_MANAGED, url=component.url, auth=auth, identity=identity, logs=component.logs)


@dataclass(frozen=True, order=True)
class EgressEntry:
    """One host of a network's egress allowlist, with who needs it and why (`stacks.egress`)."""

    host: str
    owner: str
    """The use case (or shared service) that needs the host."""
    reason: str


@dataclass(frozen=True)
class WeightsJob:
    """A bucket import of a service's weights, whichever cloud's store it reads."""

    name: str
    app: str
    """The service's app label (the import's pods and identity carry it)."""
    model_path: str
    """Where on the cache volume the weights go."""
    tags: dict[str, str]
    timeout_seconds: int


Path_ = tuple[str, ...]
"""A D2 object path of the environment diagram, one key per level (`("aws", "vpc", "app")`)."""


class DiagramGraph(Protocol):
    """The environment diagram a seam draws its cloud's boxes into (`triplane.decide.diagram`)."""

    def box(self, path: Path_, label: str, *classes: str) -> Path_:
        """Declare a box once, under its declared parent; returns its path."""
        ...


def last_segment(resource_id: str) -> str:
    """The name at the end of a cloud resource ID, as a diagram shows an existing resource."""
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ManagedModelService:
    """One managed-model service of a cloud (Bedrock, Azure OpenAI, Vertex AI), everything about it."""

    build: Callable[[Any, StackContext], Endpoint]
    """`(use case, ctx) -> Endpoint`; the use case is the service's own spec model. Its shared pieces
    come from `platform` (created there once, or the platform stack's references)."""
    platform: Callable[[Any, StackContext], object]
    """`(use case, ctx)`: the platform's part, what the service's use cases share (created once)."""
    diagram: Callable[[DiagramGraph, Environment, Any, str], tuple[Path_, Path_]]
    """Draws the use case (its diagram key last): (the private endpoint in the network, the model)."""
    shared_endpoint: str | None
    """The cost line of the endpoint the service's use cases share per network ("": the sheet's unit);
    None when each use case has its own (priced per use case)."""
    price_vendor: str
    """The service's key in the price sheet's `tokens.cloud-managed` table."""
    regions: Mapping[str, tuple[str, ...]]
    """Regions the service runs in, by geography (`us`, `eu`, ...), for the recommendation's residency
    check. A provider adds regions often, so a missing region is a reason to check, not proof of absence."""
    deployment_skus: bool = False
    """Its tokens are priced by deployment SKU (the sheet's `azure_sku` rules)."""


@dataclass(frozen=True)
class CloudMonitoring:
    """The cloud's native alerting: its channel, and the alerts and dashboard of a stack's use cases."""

    channel: Callable[[StackContext, list[str], Sequence[str], bool], AlertChannelReference]
    """`(ctx, emails, alarm stacks, prometheus)`: the channel mailing `emails` that the alerts of `alarm
    stacks` notify (and, with `prometheus`, the alerts of the clusters' managed Prometheus)."""
    alerts: Callable[[StackContext, AlertChannelReference, Sequence[MonitoredUseCase]], object]
    """`(ctx, channel, use cases)`: the alerts and dashboard of the use cases whose target is `target`."""
    target: type
    """The `MonitoredUseCase` target the cloud's monitoring watches (`BedrockModels`, ...)."""
    prometheus: Callable[[StackContext, KubernetesCluster, ClusterComponent, AlertChannelReference], ManagedPrometheus]
    """`(ctx, spec, cluster, channel)`: a new cluster's managed Prometheus, notifying `channel`."""
    cluster_alerts: Callable[[StackContext, ClusterHandle, AlertChannelReference, Sequence[MonitoredUseCase]], object]
    """`(ctx, cluster, channel, use cases)`: the alerts of the model servers and gateway routes on a
    cluster with a managed Prometheus, evaluated there and notifying `channel`."""
    collects_servers: bool = False
    """The cloud's own collectors scrape the model servers into its managed Prometheus (GKE's managed
    collection); else the cluster's Prometheus forwards what it scrapes."""
    charts_servers: bool = False
    """The cloud's dashboard draws a row for each model server and gateway route on a cluster with its
    managed Prometheus, in PromQL over that Prometheus's series."""


@dataclass(frozen=True)
class CloudPrices:
    """Which priced items (`fixed.<cloud>.<item>` of the price sheet) the cloud's paths are made of."""

    egress_per_gb: tuple[str, ...]
    """What a SaaS use case's traffic is processed by on its way out, per GB."""
    egress_hourly: tuple[str, ...]
    """What the network's shared egress costs by the hour, once per zone (`zones`)."""
    private_endpoint: str
    """The item of the private path to a managed service (interface, private or PSC endpoint)."""
    own_endpoint: bool
    """Each use case's key vault or model account has its own private endpoint, billed by the hour; else
    the use case pays an encryption key and the network's endpoints are shared."""
    zones: Callable[[Environment], int]
    """How many zones carry per-zone resources (endpoints, firewall endpoints, NAT gateways)."""
    prometheus_path: str | None = None
    """The item of the private path a cluster's Prometheus forwards through (as many as `zones`); None:
    the cloud's collectors need none of their own."""
    prometheus_monthly: tuple[str, ...] = ()
    """Monthly items of each cluster's managed Prometheus (its workspace's key)."""
    prometheus_query_path: str | None = None
    """The item of each cluster's managed Prometheus's private query path (its dashboard reads through
    it); None: the dashboard reads it without one."""
    prometheus_charts: tuple[str, ...] = ()
    """Monthly items of what draws each cluster's managed Prometheus on the cloud's dashboard (AWS: the chart
    function and its logs' key); none where the dashboard queries the managed Prometheus itself."""


@dataclass(frozen=True)
class PlanMocks:
    """How `triplane plan` stands in for the cloud's provider: stable IDs and the attributes read back."""

    package: str
    """The Pulumi package whose resource types these answer (`aws`, `azure-native`, `gcp`)."""
    resource: Callable[[str, str, dict[str, Any], dict[str, Any]], str]
    """`(type, name, inputs, state)`: fills `state` with the computed attributes; returns the ID."""
    call: Callable[[str, Mapping[str, Any]], dict[str, Any] | None]
    """`(token, arguments)`: an invoke's fixed answer (None: not the cloud's)."""


@dataclass(frozen=True)
class CloudDiagram:
    """How the environment diagram shows the cloud."""

    kubernetes: str
    """The managed Kubernetes service's name."""
    network_key: str
    """The network's key under the cloud's box."""
    egress: str
    """What the egress firewall is made of."""
    secret_store: str
    network: Callable[[DiagramGraph, Environment], Path_ | None]
    """Draws the cloud, its network and application subnet; returns the subnet (None: not configured)."""


@dataclass(frozen=True)
class InCluster:
    """What a new cluster's builder gets to add its cloud's in-cluster pieces."""

    name: str
    version: str
    images: ImageSource
    labels: dict[str, str]
    opts: pulumi.ResourceOptions


@dataclass(frozen=True)
class CloudSeam:
    """Every per-cloud decision of a stack. A test lists these fields: a new cloud fills all of them."""

    name: str
    provider: Callable[[str, Environment], pulumi.ProviderResource | None]
    """The cloud's one provider of the stack (None when `clouds.<name>` is not configured)."""
    prepare: Callable[[StackContext], None]
    """What must be in place before any of the cloud's resources (Google Cloud: its API registry)."""
    network: Callable[[StackContext], NetworkRef]
    """The environment's network in this cloud, new or existing, created once."""
    api_paths: Callable[[StackContext], None]
    """What every network of the cloud gets, whatever its use cases: the private path to its APIs."""
    egress: Callable[[StackContext, NetworkRef, list[str], dict[str, list[str]]], EgressFirewall]
    """The network's egress firewall allowing `hosts`, its rules naming `owners`."""
    egress_sources: tuple[Callable[[Environment], Iterable[EgressEntry]], ...]
    """Hosts the cloud's own services need out of its network, besides the patterns' (`stacks.egress`)."""
    egress_logs: Callable[[EgressFirewall], pulumi.Input[str] | None]
    """Where the egress firewall's alerts go (an endpoint's `logs`)."""
    saas_paths: Callable[[StackContext, NetworkRef], object]
    """The private paths every SaaS key store of the network needs (the platform's, created once)."""
    key_store: Callable[[StackContext, SaasUseCase, NetworkRef], KeyStoreBuilder]
    """A SaaS use case's key store (Secrets Manager, Key Vault, Secret Manager), after the private paths
    it and the workload's role need, created once per network."""
    image_cache_secrets: Callable[[Environment], Iterator[tuple[str, str]]]
    """(field path, config key) of the registry credentials the pull-through cache needs."""
    image_cache: Callable[[StackContext, str, ClusterComponent], ImageSource]
    """The cloud's pull-through cache, with the cluster's nodes allowed to pull through it."""
    cached_registries: frozenset[str]
    """The upstream registry hosts that cache fronts; nodes pull any other through the egress firewall."""
    cluster: Callable[[StackContext, KubernetesCluster, SystemNodes, bool], ClusterComponent]
    """A new Kubernetes cluster in the environment's network (`bool`: it needs a shared cache)."""
    cluster_extras: Callable[[StackContext, ClusterComponent, InCluster], tuple[str, str | None]]
    """What the cloud's new cluster lacks (EKS: autoscaler, storage classes); its (RWO, RWX) storage classes."""
    weights_import: Callable[[StackContext, ClusterHandle, SelfManagedUseCase, WeightsJob], WeightsImport]
    """A service's weights copied from the cloud's object store onto its cache (the spec has checked the
    bucket is on the cluster's cloud)."""
    load_balancer_annotations: Mapping[str, str]
    """The annotations making a Service's load balancer internal."""
    device_plugin_installed_by: str
    """Who runs the NVIDIA device plugin on a new cluster's GPU nodes (`triplane`: Triplane installs it)."""
    managed_models: Mapping[str, ManagedModelService]
    monitoring: CloudMonitoring
    """Managed-model service (a `cloud-managed` use case's `service`) -> its builder and diagram."""
    diagram: CloudDiagram
    prices: CloudPrices
    mocks: PlanMocks
    example_principal: str
    """An identity of the cloud's form, for a stack-file block the reader completes."""
