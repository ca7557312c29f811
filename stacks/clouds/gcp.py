"""Google Cloud: provider, VPC, Secure Web Proxy, Secret Manager, Artifact Registry cache, GKE and Vertex AI."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pulumi
from pulumi_gcp import provider as gcp_provider

from triplane.components.cloud_managed import (
    GoogleApisPrivateAccess,
    VertexEndpoint,
    VertexEndpointArgs,
    VertexProject,
    VertexProjectArgs,
    VpcServiceControlsArgs,
)
from triplane.components.image_cache.gcp import UPSTREAMS as CACHED_UPSTREAMS
from triplane.components.image_cache.gcp import ArtifactRegistryCache, ArtifactRegistryCacheArgs
from triplane.components.images import CLOUD_SDK, ImageSource
from triplane.components.naming import physical_name
from triplane.components.network import layout
from triplane.components.network.gcp import GcpNetwork, GcpNetworkArgs
from triplane.components.network.refs import GcpNetworkRef
from triplane.components.observability.alerts import MonitoredUseCase, VertexModels
from triplane.components.observability.forwarding import ManagedPrometheus
from triplane.components.references import AlertChannelReference, EgressReference
from triplane.components.saas.egress_gcp import GcpEgressProxy, GcpEgressProxyArgs
from triplane.components.saas.saas_egress import (
    EgressFirewall,
    KeyStoreBuilder,
    SaasEgressArgs,
    StoredKey,
    workload_account_id,
    workload_service_account,
)
from triplane.components.saas.secret_store import GcpApiKeyStore, GcpApiKeyStoreArgs
from triplane.components.self_managed.gke import GkeCluster, GkeClusterArgs
from triplane.components.self_managed.nodes import SystemNodes
from triplane.components.self_managed.refs import GkeClusterRef
from triplane.components.self_managed.weights_import import GcsImport, WeightsImport, gcs_import
from triplane.policies.gcp_apis import SERVICE_AGENTS
from triplane.stacks.cloud_apis import google_apis_for, register_gcp_apis
from triplane.stacks.clouds.seam import (
    CLOUD_MANAGED,
    CloudDiagram,
    CloudMonitoring,
    CloudPrices,
    CloudSeam,
    ClusterComponent,
    DiagramGraph,
    InCluster,
    ManagedModelService,
    NetworkRef,
    Path_,
    PlanMocks,
    WeightsJob,
    granted_endpoint,
    last_segment,
    narrowed,
)
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.secrets import require_secret
from triplane.stacks.spec import Environment, KubernetesCluster, SaasUseCase
from triplane.stacks.spec.cloud_managed import VertexUseCase
from triplane.stacks.spec.self_managed import SelfManagedUseCase

if TYPE_CHECKING:
    from triplane.components.observability.gcp_prometheus import GkeScope
    from triplane.stacks.clusters import ClusterHandle

CLOUD = "gcp"


def provider(stack: str, environment: Environment) -> pulumi.ProviderResource | None:
    gcp = environment.clouds.gcp
    return gcp_provider.Provider(f"{stack}-gcp", project=gcp.project, region=gcp.region) if gcp else None


def prepare(ctx: StackContext) -> None:
    """From here on, every Google Cloud resource waits for the APIs it needs (`stacks.cloud_apis`)."""
    register_gcp_apis(ctx)


def network(ctx: StackContext) -> GcpNetworkRef:
    """The environment's VPC: created on first use and shared afterwards, or the existing one."""
    return ctx.shared(("network", CLOUD), lambda: _network(ctx))


def _network(ctx: StackContext) -> GcpNetworkRef:
    gcp = ctx.environment.clouds.gcp
    if gcp is None:
        raise ValueError("clouds.gcp is not configured")
    if gcp.network.existing is not None:
        existing = gcp.network.existing
        return GcpNetworkRef(
            project=gcp.project,
            region=gcp.region,
            network_id=existing.network,
            subnetwork_id=existing.subnetwork,
            application_cidrs=list(existing.application_cidrs),
        )
    assert gcp.network.new is not None
    gke = any(c.new is not None and c.new.cloud == CLOUD for c in ctx.environment.kubernetes)
    return GcpNetwork(
        f"{ctx.stack}-{CLOUD}",
        GcpNetworkArgs(project=gcp.project, region=gcp.region, cidr=gcp.network.new.cidr, gke_ranges=gke),
        opts=ctx.opts(CLOUD),
    ).ref


def own(network: NetworkRef) -> GcpNetworkRef:
    return narrowed(network, GcpNetworkRef, "a Google Cloud")


def api_paths(ctx: StackContext) -> None:
    """Every Google Cloud network gets the private googleapis path, whatever patterns use it."""
    google_apis_for(ctx, network(ctx))


def egress(ctx: StackContext, network: NetworkRef, hosts: list[str], owners: dict[str, list[str]]) -> EgressFirewall:
    vpc = own(network)
    accounts = [
        workload_service_account(ctx.prefix(u), vpc.project)
        for u in ctx.environment.use_cases
        if isinstance(u, SaasUseCase) and u.cloud == CLOUD
    ]
    return GcpEgressProxy(
        f"{ctx.prefix()}-egress",
        GcpEgressProxyArgs(
            network=vpc,
            hosts=hosts,
            owners=owners,
            workload_service_accounts=accounts,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )


def egress_logs(firewall: EgressFirewall) -> pulumi.Input[str] | None:
    """The proxy logs to the project's Cloud Logging, which needs no reference."""
    return None


def saas_paths(ctx: StackContext, network: NetworkRef) -> None:
    """Nothing more: Secret Manager answers on the network's private googleapis path (`api_paths`)."""


def key_store(ctx: StackContext, use_case: SaasUseCase, network: NetworkRef) -> KeyStoreBuilder:
    """Secret Manager, on the network's private googleapis path (`api_paths`); the workload's calls go
    through the egress proxy, which it must name."""
    vpc = own(network)

    def build(name: str, args: SaasEgressArgs, opts: pulumi.ResourceOptions) -> StoredKey:
        if not isinstance(args.egress, GcpEgressProxy | EgressReference) or args.egress.proxy_address is None:
            raise TypeError(f"{name}: a Google Cloud workload gets out through the Secure Web Proxy")
        store = GcpApiKeyStore(
            name,
            GcpApiKeyStoreArgs(
                project=vpc.project,
                region=vpc.region,
                api_key=args.api_key,
                account_id=workload_account_id(name),
                allowed_principals=args.allowed_principals,
                external_rotation=args.external_rotation,
                kms_key=args.kms_key,
                tags=args.tags,
                protect_data=args.protect_data,
            ),
            opts=opts,
        )
        return StoredKey(
            secret_ref=store.secret_name,
            workload_identity=store.service_account_email,
            proxy=pulumi.Output.concat("http://", args.egress.proxy_address, ":443"),
        )

    return build


def image_cache_secrets(environment: Environment) -> Iterator[tuple[str, str]]:
    gcp = environment.clouds.gcp
    if gcp is not None and any(c.new is not None and c.new.cloud == CLOUD for c in environment.kubernetes):
        for field_name in ("docker_hub_secret", "ghcr_secret"):
            key = getattr(gcp.image_cache, field_name)
            if key is not None:
                yield f"clouds.gcp.image_cache.{field_name}", key


def _cache(ctx: StackContext, project: str, region: str) -> ArtifactRegistryCache:
    def build() -> ArtifactRegistryCache:
        gcp = ctx.environment.clouds.gcp
        assert gcp is not None
        keys = {"docker.io": gcp.image_cache.docker_hub_secret, "ghcr.io": gcp.image_cache.ghcr_secret}
        return ArtifactRegistryCache(
            f"{ctx.stack}-gcp-images",
            ArtifactRegistryCacheArgs(
                project=project,
                region=region,
                environment=ctx.stack,
                credentials={host: require_secret(key) for host, key in keys.items() if key is not None},
                tags=ctx.tags(),
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts(CLOUD),
        )

    return ctx.shared(("image-cache", CLOUD), build)


def image_cache(ctx: StackContext, name: str, component: ClusterComponent) -> ImageSource:
    assert isinstance(component, GkeCluster)
    vpc = network(ctx)
    artifact = _cache(ctx, vpc.project, vpc.region)
    member = pulumi.Output.from_input(component.ref.node_service_account).apply(lambda email: f"serviceAccount:{email}")
    artifact.grant_read(f"{name}-image-cache", member)
    return artifact.source()


def cluster(ctx: StackContext, spec: KubernetesCluster, system_nodes: SystemNodes, shared_cache: bool) -> GkeCluster:
    new = spec.new
    assert new is not None
    return GkeCluster(
        f"{ctx.stack}-{spec.name}",
        GkeClusterArgs(
            network=network(ctx),
            version=spec.version,
            api_access=new.api_access,
            api_authorized_cidrs=list(new.api_authorized_cidrs),
            deployer_cidrs=list(new.deployer.private_cidrs),
            deployer_principal=new.deployer.principal,
            system_nodes=system_nodes,
            shared_cache=shared_cache,
            kms_key=new.kms_key,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )


def cluster_extras(ctx: StackContext, component: ClusterComponent, cluster: InCluster) -> tuple[str, str | None]:
    """GKE scales its pools itself and brings the storage classes."""
    return "standard-rwo", "standard-rwx"


def weights_import(
    ctx: StackContext, handle: ClusterHandle, use_case: SelfManagedUseCase, job: WeightsJob
) -> WeightsImport:
    """Cloud Storage over the network's private googleapis path, with a Workload Identity account."""
    bucket = use_case.weights.bucket
    assert bucket is not None
    if isinstance(handle.ref, GkeClusterRef):
        project = handle.ref.project
    else:
        assert handle.reference is not None and handle.reference.project is not None
        project = handle.reference.project
    gcp = ctx.environment.clouds.gcp
    googleapis = google_apis_for(ctx, network(ctx))
    service = use_case.service_name
    return gcs_import(
        job.name,
        GcsImport(
            bucket=bucket.bucket,
            prefix=bucket.prefix,
            project=project,
            namespace=service,
            app=job.app,
            account_id=physical_name(ctx.stack, service, "weights", kind="gcp_service_account"),
            image=handle.images.ref(CLOUD_SDK),
            model_path=job.model_path,
            googleapis_address=googleapis.address if googleapis is not None else None,
            public_path="firewall" if gcp is not None and gcp.network.new is not None else "declared",
            timeout_seconds=job.timeout_seconds,
        ),
        ctx.opts(CLOUD),
    )


def vertex_shared(use_case: VertexUseCase, ctx: StackContext) -> tuple[GoogleApisPrivateAccess, VertexProject]:
    """The platform's part of a Vertex AI use case: the network's Google APIs endpoint
    (`stacks.cloud_apis`) and the project's settings, shared by every Vertex use case of the project."""
    vpc = network(ctx)
    access = google_apis_for(ctx, vpc)
    if access is None:
        raise ctx.error(
            f"use_cases[{ctx.use_case_index(use_case)}].vertex.psc_address",
            "the GCP network already exists, so name an unused internal IP for the Google APIs endpoint",
        )
    siblings = [u for u in ctx.environment.use_cases if isinstance(u, VertexUseCase)]
    vpc_sc = use_case.vertex_settings.vpc_service_controls

    def project_settings() -> VertexProject:
        return VertexProject(
            f"{ctx.stack}-vertex-project",
            VertexProjectArgs(
                project=vpc.project,
                vpc_service_controls=(
                    VpcServiceControlsArgs(
                        access_policy=vpc_sc.access_policy,
                        organization_id=vpc_sc.organization_id,
                        perimeter_name=vpc_sc.perimeter_name,
                    )
                    if vpc_sc is not None
                    else None
                ),
                data_caching=any(u.vertex_settings.data_caching for u in siblings),
            ),
            opts=ctx.opts(CLOUD),
        )

    project = ctx.shared((CLOUD_MANAGED, "vertex-project", vpc.project), project_settings)
    return access, project


def vertex(use_case: VertexUseCase, ctx: StackContext) -> Endpoint:
    """A Vertex AI use case's own endpoint, on the platform's Google APIs path and project settings."""
    vpc = network(ctx)
    settings = use_case.vertex_settings
    access, project = vertex_shared(use_case, ctx)
    component = VertexEndpoint(
        ctx.prefix(use_case),
        VertexEndpointArgs(
            network=vpc,
            models=[m.id for m in use_case.models],
            allowed_principals=list(use_case.allowed_principals),
            kms_key=settings.kms_key,
            tags=ctx.tags(use_case),
            protect_data=ctx.protect_data,
            log_retention_days=settings.log_retention_days,
            psc_target=settings.target,
            psc_address=settings.psc_address,
            private_access=access,
            project_settings=project,
        ),
        opts=ctx.component_opts(CLOUD, use_case),
    )
    return granted_endpoint(component, use_case.allowed_principals, "google-iam", component.service_account_email)


def diagram_network(graph: DiagramGraph, environment: Environment) -> Path_ | None:
    gcp = environment.clouds.gcp
    if gcp is None:
        return None
    graph.box((CLOUD,), f"Google Cloud {gcp.region}, project {gcp.project}", "cloud")
    if gcp.network.new is not None:
        cidr = gcp.network.new.cidr
        graph.box((CLOUD, "vpc"), f"VPC {cidr} (new)", "network")
        return graph.box((CLOUD, "vpc", "app"), f"application subnet\n{layout.block(cidr, layout.GCP_APP)}", "subnet")
    existing = gcp.network.existing
    assert existing is not None
    graph.box((CLOUD, "vpc"), f"VPC {last_segment(existing.network)} (existing)", "network")
    return graph.box(
        (CLOUD, "vpc", "app"),
        f"application subnet {last_segment(existing.subnetwork)}\napps " + ", ".join(existing.application_cidrs),
        "subnet",
    )


def vertex_diagram(
    graph: DiagramGraph, environment: Environment, use_case: VertexUseCase, name: str
) -> tuple[Path_, Path_]:
    gcp = environment.clouds.gcp
    assert gcp is not None
    target = use_case.vertex_settings.target
    vip = "restricted.googleapis.com" if target == "vpc-sc" else "private.googleapis.com"
    address = (
        layout.psc_address(gcp.network.new.cidr)
        if gcp.network.new is not None
        else use_case.vertex_settings.psc_address or "address from the stack"
    )
    endpoint = graph.box(
        (CLOUD, "vpc", "psc"), f"Private Service Connect\n{address} ({target}, {vip})", "cloud_managed"
    )
    graph.box((CLOUD, "vertex"), f"Vertex AI ({gcp.region})", "managed")
    model = graph.box(
        (CLOUD, "vertex", name), "\n".join([*(m.id for m in use_case.models), "Google IAM auth"]), "cloud_managed"
    )
    return endpoint, model


VERTEX_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-central1", "us-east1", "us-east4", "us-west1", "us-south1"),
    "eu": (
        "europe-west1",
        "europe-west3",
        "europe-west4",
        "europe-west8",
        "europe-west9",
        "europe-north1",
        "europe-southwest1",
    ),
    "uk": ("europe-west2",),
    "ch": ("europe-west6",),
    "ca": ("northamerica-northeast1",),
    "jp": ("asia-northeast1",),
    "au": ("australia-southeast1",),
    "in": ("asia-south1",),
    "br": ("southamerica-east1",),
    "kr": ("asia-northeast3",),
    "sg": ("asia-southeast1",),
}
"""As of 2025-05."""


def zones(environment: Environment) -> int:
    """The proxy, Cloud NAT and the PSC endpoint are regional: priced once."""
    return 1


# --- plan mocks ----------------------------------------------------------------------------------

PROJECT_NUMBER = "123456789"
DEPLOYER_EMAIL = "triplane-plan@triplane-plan.iam.gserviceaccount.com"
INVOKES: dict[str, dict[str, Any]] = {
    "gcp:organizations/getProject:getProject": {"number": PROJECT_NUMBER},
    "gcp:organizations/getClientOpenIdUserInfo:getClientOpenIdUserInfo": {
        "email": DEPLOYER_EMAIL,
        "id": DEPLOYER_EMAIL,
    },
    "gcp:logging/getProjectCmekSettings:getProjectCmekSettings": {
        "serviceAccountId": f"cmek-p{PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com",
        "id": "cmek-settings",
    },
}


def mock_resource(type_: str, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> str:
    state.setdefault("name", inputs.get("name", name))
    project = inputs.get("project", "project")
    resource_id = f"projects/{project}/{type_.split(':')[-1].lower()}s/{state['name']}"
    state.setdefault("selfLink", f"https://www.googleapis.com/{resource_id}")
    if type_ == "gcp:serviceaccount/account:Account":
        state["email"] = f"{inputs.get('accountId', name)}@{project}.iam.gserviceaccount.com"
        state["member"] = f"serviceAccount:{state['email']}"
    if type_ == "gcp:compute/address:Address" or type_ == "gcp:compute/globalAddress:GlobalAddress":
        state.setdefault("address", "10.255.255.10")
    if type_ == "gcp:container/cluster:Cluster":
        state["endpoint"] = "10.255.254.2"
        state["masterAuth"] = dict(inputs.get("masterAuth") or {}, clusterCaCertificate="Y2VydGlmaWNhdGU=")
        endpoints = dict(inputs.get("controlPlaneEndpointsConfig") or {})
        dns = dict(endpoints.get("dnsEndpointConfig") or {})
        dns["endpoint"] = f"gke-0123456789abcdef-{project}.{inputs.get('location', 'region')}.gke.goog"
        state["controlPlaneEndpointsConfig"] = dict(endpoints, dnsEndpointConfig=dns)
    if type_ == "gcp:projects/serviceIdentity:ServiceIdentity":
        service = str(inputs.get("service", "service"))
        domain = SERVICE_AGENTS.get(service, f"gcp-sa-{service.split('.')[0]}.iam.gserviceaccount.com")
        state["email"] = f"service-{PROJECT_NUMBER}@{domain}"
        state["member"] = f"serviceAccount:{state['email']}"
    return resource_id


def mock_call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    return dict(INVOKES[token]) if token in INVOKES else None


def alert_channel(
    ctx: StackContext, emails: list[str], alarm_stacks: Sequence[str], prometheus: bool
) -> AlertChannelReference:
    """An email notification channel per address (PromQL alert policies notify it like the others)."""
    from triplane.components.observability.gcp import GcpAlertChannel, GcpAlertChannelArgs

    assert ctx.environment.clouds.gcp is not None
    channel = GcpAlertChannel(
        f"{ctx.stack}-{CLOUD}-alerts",
        GcpAlertChannelArgs(
            name_prefix=ctx.stack, project=ctx.environment.clouds.gcp.project, emails=emails, tags=ctx.tags()
        ),
        opts=ctx.opts(CLOUD),
    )
    return AlertChannelReference(CLOUD, pulumi.Output.all(*channel.channel_names))


def alarms(ctx: StackContext, channel: AlertChannelReference, use_cases: Sequence[MonitoredUseCase]) -> object:
    """Cloud Monitoring alert policies on the Vertex AI use cases, notifying the channels, and their dashboard
    (with a row for each model server and gateway route whose GKE cluster's series Managed Service for
    Prometheus holds)."""
    from triplane.components.observability.gcp import GcpMonitoring, GcpMonitoringArgs
    from triplane.stacks.clusters import charted_clusters

    assert ctx.environment.clouds.gcp is not None
    servers = {handle.spec.name: gke_scope(ctx, handle) for handle in charted_clusters(ctx, use_cases, CLOUD)}
    return GcpMonitoring(
        f"{ctx.stack}-{CLOUD}-monitoring",
        GcpMonitoringArgs(
            name_prefix=ctx.stack,
            project=ctx.environment.clouds.gcp.project,
            channels=cast(list[str], channel.target),
            use_cases=use_cases,
            servers=servers,
            tags=ctx.tags(),
        ),
        opts=ctx.opts(CLOUD, depends_on=channel.ready),
    )


def gke_scope(ctx: StackContext, handle: ClusterHandle) -> GkeScope:
    """Where a GKE cluster's series are in Managed Service for Prometheus: its project, region and name
    (built in this stack, or the platform stack's, as its contract names it)."""
    from triplane.components.observability.gcp_prometheus import GkeScope

    gcp = ctx.environment.clouds.gcp
    assert gcp is not None
    if isinstance(handle.component, GkeCluster):
        name = handle.component.cluster_name
    else:
        assert handle.reference is not None
        name = str(handle.reference.name)
    return GkeScope(project=gcp.project, location=gcp.region, cluster=name)


def managed_prometheus(
    ctx: StackContext, spec: KubernetesCluster, cluster: ClusterComponent, channel: AlertChannelReference
) -> ManagedPrometheus:
    """GKE's managed collection (on in every cluster Triplane creates) keeps the series in the project's
    Managed Service for Prometheus: nothing to forward, the project is where the rules look."""
    gcp = ctx.environment.clouds.gcp
    assert gcp is not None
    return ManagedPrometheus(workspace=gcp.project)


def cluster_alerts(
    ctx: StackContext, handle: ClusterHandle, channel: AlertChannelReference, use_cases: Sequence[MonitoredUseCase]
) -> object:
    """The cluster's collectors scrape its model servers and gateway (PodMonitorings), and Cloud Monitoring
    evaluates their alerting rules as PromQL alert policies narrowed to the cluster, notifying the channels."""
    from triplane.components.observability.alerts import ModelServer
    from triplane.components.observability.gcp_prometheus import (
        GcpPodMonitors,
        GcpPodMonitorsArgs,
        GcpPrometheusAlerts,
        GcpPrometheusAlertsArgs,
    )
    from triplane.components.tagging import k8s_labels

    namespaces = {u.target.namespace for u in use_cases if isinstance(u.target, ModelServer)}
    servers = [value for key, value in ctx.built() if key[0] == "model-server" and key[1] in namespaces]
    GcpPodMonitors(
        f"{ctx.stack}-{handle.spec.name}-pod-monitors",
        GcpPodMonitorsArgs(
            use_cases=use_cases,
            provider=handle.provider,
            labels=k8s_labels(ctx.tags()),
            depends_on=servers,  # their namespaces, and the servers' own network policies
        ),
    )
    return GcpPrometheusAlerts(
        f"{ctx.stack}-{handle.spec.name}-prometheus-alerts",
        GcpPrometheusAlertsArgs(
            name_prefix=ctx.stack,
            scope=gke_scope(ctx, handle),
            channels=cast(list[str], channel.target),
            use_cases=use_cases,
            tags=ctx.tags(),
        ),
        opts=ctx.opts(CLOUD, depends_on=channel.ready),
    )


SEAM = CloudSeam(
    name=CLOUD,
    provider=provider,
    prepare=prepare,
    network=network,
    api_paths=api_paths,
    egress=egress,
    egress_sources=(),
    egress_logs=egress_logs,
    key_store=key_store,
    saas_paths=saas_paths,
    image_cache_secrets=image_cache_secrets,
    image_cache=image_cache,
    cached_registries=frozenset(CACHED_UPSTREAMS),
    cluster=cluster,
    cluster_extras=cluster_extras,
    weights_import=weights_import,
    load_balancer_annotations={"networking.gke.io/load-balancer-type": "Internal"},
    device_plugin_installed_by="gke",
    monitoring=CloudMonitoring(
        channel=alert_channel,
        alerts=alarms,
        target=VertexModels,
        prometheus=managed_prometheus,
        cluster_alerts=cluster_alerts,
        collects_servers=True,
        charts_servers=True,
    ),
    managed_models={
        "vertex": ManagedModelService(
            build=vertex,
            platform=vertex_shared,
            diagram=vertex_diagram,
            shared_endpoint="",
            price_vendor="gcp",
            regions=VERTEX_REGIONS,
        )
    },
    diagram=CloudDiagram(
        kubernetes="GKE",
        network_key="vpc",
        egress="Secure Web Proxy + Cloud NAT",
        secret_store="Secret Manager",
        network=diagram_network,
    ),
    prices=CloudPrices(
        egress_per_gb=("firewall", "nat_gateway"),
        egress_hourly=("firewall", "nat_gateway"),
        private_endpoint="psc_endpoint",
        own_endpoint=False,
        zones=zones,
    ),
    example_principal="serviceAccount:app@my-project.iam.gserviceaccount.com",
    mocks=PlanMocks(package="gcp", resource=mock_resource, call=mock_call),
)
"""GKE installs the device plugin with the driver (`gpu_driver_version` on its pools)."""
