"""Azure: provider, VNet, Azure Firewall, Key Vault, ACR cache, AKS and Azure OpenAI."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import pulumi
from pulumi_azure_native import provider as azure_provider

from triplane.components.cloud_managed import (
    AzureContentFilterArgs,
    AzureOpenAIDeployment,
    AzureOpenAIEndpoint,
    AzureOpenAIEndpointArgs,
    AzureOpenAIPrivateDns,
    AzureOpenAIPrivateDnsArgs,
)
from triplane.components.deploy_runner.azure import DEFAULT_VM_SIZE, AzureDeployRunner, AzureDeployRunnerArgs
from triplane.components.deploy_runner.github import RunnerRegistration, runner_labels
from triplane.components.image_cache.azure import UPSTREAMS as CACHED_UPSTREAMS
from triplane.components.image_cache.azure import AcrCache, AcrCacheArgs
from triplane.components.images import AZURE_CLI, ImageSource
from triplane.components.naming import physical_name
from triplane.components.network import layout
from triplane.components.network.azure import AzureNetwork, AzureNetworkArgs
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.observability.alerts import AzureOpenAIDeployments, MonitoredUseCase
from triplane.components.observability.forwarding import ManagedPrometheus
from triplane.components.references import AlertChannelReference, EgressReference
from triplane.components.saas.egress_azure import AzureEgressFirewall, AzureEgressFirewallArgs
from triplane.components.saas.saas_egress import EgressFirewall, KeyStoreBuilder, SaasEgressArgs, StoredKey
from triplane.components.saas.secret_store import (
    VAULT_DNS_ZONE,
    AzureApiKeyStore,
    AzureApiKeyStoreArgs,
    AzureVaultDnsZone,
    AzureVaultDnsZoneArgs,
)
from triplane.components.self_managed.aks import AksCluster, AksClusterArgs
from triplane.components.self_managed.nodes import SystemNodes
from triplane.components.self_managed.weights_import import BlobImport, WeightsImport, blob_import
from triplane.stacks.clouds.seam import (
    CLOUD_MANAGED,
    CloudDiagram,
    CloudMonitoring,
    CloudPrices,
    CloudSeam,
    ClusterComponent,
    DiagramGraph,
    EgressEntry,
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
from triplane.stacks.spec.cloud_managed import AzureOpenAIUseCase, version_upgrade
from triplane.stacks.spec.self_managed import SelfManagedUseCase, in_new_network

if TYPE_CHECKING:
    from triplane.stacks.clusters import ClusterHandle

CLOUD = "azure"


def provider(stack: str, environment: Environment) -> pulumi.ProviderResource | None:
    azure = environment.clouds.azure
    return azure_provider.Provider(f"{stack}-azure", location=azure.location) if azure else None


def prepare(ctx: StackContext) -> None:
    """Nothing: Azure resource providers are registered per subscription, outside the stack."""


def network(ctx: StackContext) -> AzureNetworkRef:
    """The environment's VNet: created on first use and shared afterwards, or the existing one."""
    return ctx.shared(("network", CLOUD), lambda: _network(ctx))


def _network(ctx: StackContext) -> AzureNetworkRef:
    azure = ctx.environment.clouds.azure
    if azure is None:
        raise ValueError("clouds.azure is not configured")
    if azure.network.existing is not None:
        existing = azure.network.existing
        return AzureNetworkRef(
            location=azure.location,
            resource_group_name=azure.resource_group,
            vnet_id=existing.vnet_id,
            vnet_name=existing.vnet_id.rsplit("/", 1)[-1],
            app_subnet_id=existing.app_subnet_id,
            endpoint_subnet_id=existing.endpoint_subnet_id,
            application_cidrs=list(existing.application_cidrs),
        )
    assert azure.network.new is not None
    return AzureNetwork(
        f"{ctx.stack}-{CLOUD}",
        AzureNetworkArgs(
            location=azure.location,
            resource_group=azure.resource_group,
            cidr=azure.network.new.cidr,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    ).ref


def own(network: NetworkRef) -> AzureNetworkRef:
    return narrowed(network, AzureNetworkRef, "an Azure")


def api_paths(ctx: StackContext) -> None:
    """Private endpoints are added by the components needing them."""


def egress(ctx: StackContext, network: NetworkRef, hosts: list[str], owners: dict[str, list[str]]) -> EgressFirewall:
    return AzureEgressFirewall(
        f"{ctx.prefix()}-egress",
        AzureEgressFirewallArgs(
            network=own(network), hosts=hosts, owners=owners, tags=ctx.tags(), protect_data=ctx.protect_data
        ),
        opts=ctx.opts(CLOUD),
    )


ENTRA_HOSTS = ("login.microsoftonline.com",)
"""Where an AKS workload identity exchanges its service-account token for an Entra ID token: Entra ID
has no private endpoint for that, so an Azure blob import gets out for it (and only for it)."""


def imports_through_firewall(environment: Environment, use_case: SelfManagedUseCase) -> bool:
    """Whether a service's Azure blob import signs in to Entra ID through Triplane's egress firewall."""
    bucket = use_case.weights.bucket
    if use_case.weights_source != "bucket" or bucket is None or bucket.cloud != CLOUD:
        return False
    cluster = next((c for c in environment.kubernetes if c.name == use_case.cluster), None)
    if cluster is None or cluster.new is None or cluster.new.cloud != CLOUD:
        return False
    return in_new_network(environment, cluster)


def prometheus_signs_in_through_firewall(environment: Environment) -> bool:
    """Whether a cluster's Prometheus forwards to Azure Monitor as a workload identity that signs in to
    Entra ID through Triplane's egress firewall (its clusters' alerts are evaluated there)."""
    if environment.monitoring is None:
        return False
    from triplane.stacks.observability import prometheus_clusters  # monitoring loads only when there is some

    settings = environment.clouds.azure
    on_azure = CLOUD in prometheus_clusters(environment).values()
    return on_azure and settings is not None and settings.network.new is not None


def entra_entries(environment: Environment) -> Iterable[EgressEntry]:
    if prometheus_signs_in_through_firewall(environment):
        for host in ENTRA_HOSTS:
            yield EgressEntry(host, "monitoring", "Entra ID sign-in of the Prometheus forwarding to Azure Monitor")
    seen: set[str] = set()
    for use_case in environment.use_cases:
        if not isinstance(use_case, SelfManagedUseCase) or use_case.service_name in seen:
            continue
        seen.add(use_case.service_name)
        if imports_through_firewall(environment, use_case):
            for host in ENTRA_HOSTS:
                yield EgressEntry(host, use_case.service_name, "Entra ID sign-in of the weights import")


def weights_import(
    ctx: StackContext, handle: ClusterHandle, use_case: SelfManagedUseCase, job: WeightsJob
) -> WeightsImport:
    """Blob Storage over the account's private endpoint; Entra ID sign-in through the egress firewall."""
    from triplane.stacks.egress import egress_for  # the egress firewall is built through this seam

    weights = use_case.weights
    bucket = weights.bucket
    assert bucket is not None and bucket.account is not None and weights.storage_account_id is not None
    if isinstance(handle.component, AksCluster):
        issuer: pulumi.Input[str] = handle.component.oidc_issuer_url
    else:
        assert handle.reference is not None and handle.reference.oidc_issuer_url is not None
        issuer = handle.reference.oidc_issuer_url
    vnet = network(ctx)
    egress_after = list(egress_for(ctx, CLOUD).ready) if imports_through_firewall(ctx.environment, use_case) else []
    return blob_import(
        job.name,
        BlobImport(
            account=bucket.account,
            container=bucket.bucket,
            prefix=bucket.prefix,
            storage_account_id=weights.storage_account_id,
            resource_group_name=vnet.resource_group_name,
            location=vnet.location,
            oidc_issuer_url=issuer,
            namespace=use_case.service_name,
            app=job.app,
            image=handle.images.ref(AZURE_CLI),
            model_path=job.model_path,
            # The private endpoint takes an address in the VNet; an existing network's range is not known.
            private_cidrs=[vnet.cidr] if vnet.cidr else ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
            create_endpoint=weights.private_endpoint == "create",
            vnet_id=vnet.vnet_id,
            endpoint_subnet_id=vnet.endpoint_subnet_id,
            egress_after=egress_after,
            tags=job.tags,
            timeout_seconds=job.timeout_seconds,
        ),
        ctx.opts(CLOUD),
    )


def egress_logs(firewall: EgressFirewall) -> pulumi.Input[str] | None:
    return firewall.log_workspace_id if isinstance(firewall, AzureEgressFirewall | EgressReference) else None


def saas_paths(ctx: StackContext, network: NetworkRef) -> AzureVaultDnsZone:
    """The VNet's one `privatelink.vaultcore.azure.net` zone, every key vault's (the platform's)."""
    vnet = own(network)
    return ctx.shared(
        ("private-dns-zone", CLOUD, VAULT_DNS_ZONE),
        lambda: AzureVaultDnsZone(
            f"{ctx.prefix()}-vaultcore",
            AzureVaultDnsZoneArgs(network=vnet, tags=ctx.tags()),
            opts=ctx.opts(CLOUD),
        ),
    )


def key_store(ctx: StackContext, use_case: SaasUseCase, network: NetworkRef) -> KeyStoreBuilder:
    """Key Vault behind a private endpoint in the VNet's one `privatelink.vaultcore.azure.net` zone."""
    vnet = own(network)
    zone = saas_paths(ctx, vnet)
    vault_name = _vault_name(ctx, use_case)

    def build(name: str, args: SaasEgressArgs, opts: pulumi.ResourceOptions) -> StoredKey:
        if not isinstance(args.egress, AzureEgressFirewall | EgressReference) or args.egress.log_workspace_id is None:
            raise TypeError(f"{name}: an Azure key store logs to the Azure Firewall's workspace")
        store = AzureApiKeyStore(
            name,
            AzureApiKeyStoreArgs(
                network=vnet,
                api_key=args.api_key,
                vault_name=vault_name,
                private_dns_zone_id=zone.zone_id,
                allowed_principals=args.allowed_principals,
                external_rotation=args.external_rotation,
                log_workspace_id=args.egress.log_workspace_id,
                tags=args.tags,
                protect_data=args.protect_data,
            ),
            opts=opts,
        )
        return StoredKey(secret_ref=store.secret_uri, workload_identity=store.client_id)

    return build


def _vault_name(ctx: StackContext, use_case: SaasUseCase) -> str:
    """Key Vault names are global: a short digest of the resource group keeps two tenants' `dev-chat` apart."""
    azure = ctx.environment.clouds.azure
    scope = f"{azure.resource_group}/{azure.location}" if azure else ""
    digest = hashlib.sha256(scope.encode()).hexdigest()[:5]
    return physical_name(ctx.stack, use_case.name, digest, kind="key_vault")


def image_cache_secrets(environment: Environment) -> Iterator[tuple[str, str]]:
    """ACR's cache rules in use need no credentials."""
    return iter(())


def _cache(ctx: StackContext) -> AcrCache:
    def build() -> AcrCache:
        azure = ctx.environment.clouds.azure
        assert azure is not None
        return AcrCache(
            f"{ctx.stack}-azure-images",
            AcrCacheArgs(
                network=network(ctx),
                registry_name=ctx.name("images", azure.resource_group, kind="acr"),
                tags=ctx.tags(),
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts(CLOUD),
        )

    return ctx.shared(("image-cache", CLOUD), build)


def image_cache(ctx: StackContext, name: str, component: ClusterComponent) -> ImageSource:
    """AKS pulls with the kubelet identity the cluster grants on the registry itself."""
    return _cache(ctx).source()


def deploy_runner(ctx: StackContext, spec: KubernetesCluster, vnet: AzureNetworkRef) -> AzureDeployRunner | None:
    """The GitHub Actions runner inside the VNet that the cluster's `deployer.runner` asks for."""
    from triplane.stacks.egress import egress_for  # the egress firewall is built through this seam

    assert spec.new is not None
    runner = spec.new.deployer.runner
    if runner is None:
        return None
    assert runner.ssh_public_key is not None  # the spec requires it on azure
    azure = ctx.environment.clouds.azure
    resource_group = azure.resource_group if azure is not None else ""
    firewall = egress_for(ctx, CLOUD)  # the runner's only way out, and its vault's audit log
    workspace = egress_logs(firewall)
    assert workspace is not None
    return AzureDeployRunner(
        f"{ctx.stack}-{spec.name}-deploy",
        AzureDeployRunnerArgs(
            network=vnet,
            registration=RunnerRegistration(runner.github, runner_labels(ctx.stack, runner.labels)),
            github_token=require_secret(runner.token_secret),
            ssh_public_key=runner.ssh_public_key,
            vault_name=ctx.name(spec.name, "runner", resource_group, kind="key_vault"),
            private_dns_zone_id=saas_paths(ctx, vnet).zone_id,
            log_workspace_id=workspace,
            vm_size=runner.machine_type or DEFAULT_VM_SIZE,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )


def cluster(ctx: StackContext, spec: KubernetesCluster, system_nodes: SystemNodes, shared_cache: bool) -> AksCluster:
    new = spec.new
    assert new is not None
    azure = ctx.environment.clouds.azure
    resource_group = azure.resource_group if azure is not None else ""
    key = (new.kms_key_vault, new.kms_key) if new.kms_key and new.kms_key_vault else None
    vnet = network(ctx)
    deploy_runner(ctx, spec, vnet)
    registry = _cache(ctx)
    return AksCluster(
        f"{ctx.stack}-{spec.name}",
        AksClusterArgs(
            network=vnet,
            version=spec.version,
            api_access="authorized-networks" if new.api_access == "authorized-networks" else "private",
            api_authorized_cidrs=list(new.api_authorized_cidrs),
            deployer_principal=new.deployer.principal,
            system_nodes=system_nodes,
            kms_key=key,
            vault_name=ctx.name(spec.name, resource_group, kind="key_vault"),
            log_retention_days=new.log_retention_days,
            registry_id=registry.registry_id,
            registry_ready=registry.ready,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )


def cluster_extras(ctx: StackContext, component: ClusterComponent, cluster: InCluster) -> tuple[str, str | None]:
    """AKS scales its pools itself and brings the storage classes."""
    return "managed-csi-premium", "azurefile-csi-premium"


def azure_openai_dns(use_case: AzureOpenAIUseCase, ctx: StackContext) -> AzureOpenAIPrivateDns:
    """The platform's part of an Azure OpenAI use case: the VNet's one OpenAI private DNS zone."""
    vnet = network(ctx)
    return ctx.shared(
        (CLOUD_MANAGED, "azure-openai-dns", CLOUD),
        lambda: AzureOpenAIPrivateDns(
            f"{ctx.stack}-openai-dns",
            AzureOpenAIPrivateDnsArgs(network=vnet, tags=ctx.tags()),
            opts=ctx.opts(CLOUD),
        ),
    )


def azure_openai(use_case: AzureOpenAIUseCase, ctx: StackContext) -> Endpoint:
    """An Azure OpenAI use case's own account, on the platform's private DNS zone."""
    vnet = network(ctx)
    settings = use_case.azure_settings
    dns = azure_openai_dns(use_case, ctx)
    content_filter = settings.content_filter
    component = AzureOpenAIEndpoint(
        ctx.prefix(use_case),
        AzureOpenAIEndpointArgs(
            network=vnet,
            deployments=[
                AzureOpenAIDeployment(
                    name=use_case.deployment_name(m),
                    model=m.id,
                    version=m.version,
                    sku=m.sku or "Standard",
                    capacity=m.capacity or 10,
                )
                for m in use_case.models
            ],
            allowed_principals=list(use_case.allowed_principals),
            kms_key=settings.kms_key,
            customer_managed_key=settings.customer_managed_key,
            tags=ctx.tags(use_case),
            protect_data=ctx.protect_data,
            version_upgrade_option=version_upgrade(use_case, ctx.environment.tier),
            content_filter=(
                AzureContentFilterArgs(
                    severity_threshold=content_filter.severity_threshold,
                    prompt_shields=content_filter.prompt_shields,
                    protected_material=content_filter.protected_material,
                )
                if content_filter is not None
                else None
            ),
            allowed_outbound_fqdns=list(settings.allowed_outbound_fqdns),
            log_workspace_id=settings.log_workspace_id,
            log_retention_days=settings.log_retention_days,
            private_dns=dns,
        ),
        opts=ctx.component_opts(CLOUD, use_case),
    )
    return granted_endpoint(component, use_case.allowed_principals, "entra-id", component.account_id)


def diagram_network(graph: DiagramGraph, environment: Environment) -> Path_ | None:
    azure = environment.clouds.azure
    if azure is None:
        return None
    graph.box((CLOUD,), f"Azure {azure.location}, resource group {azure.resource_group}", "cloud")
    if azure.network.new is not None:
        cidr = azure.network.new.cidr
        graph.box((CLOUD, "vnet"), f"VNet {cidr} (new)", "network")
        return graph.box(
            (CLOUD, "vnet", "app"), f"application subnet\n{layout.block(cidr, layout.AZURE_APP)}", "subnet"
        )
    existing = azure.network.existing
    assert existing is not None
    graph.box((CLOUD, "vnet"), f"VNet {last_segment(existing.vnet_id)} (existing)", "network")
    return graph.box(
        (CLOUD, "vnet", "app"),
        f"application subnet {last_segment(existing.app_subnet_id)}\napps " + ", ".join(existing.application_cidrs),
        "subnet",
    )


def azure_openai_diagram(
    graph: DiagramGraph, environment: Environment, use_case: AzureOpenAIUseCase, name: str
) -> tuple[Path_, Path_]:
    azure = environment.clouds.azure
    assert azure is not None
    if azure.network.new is not None:
        subnet = f"endpoint subnet\n{layout.block(azure.network.new.cidr, layout.AZURE_ENDPOINTS)}"
    else:
        assert azure.network.existing is not None
        subnet = f"endpoint subnet {last_segment(azure.network.existing.endpoint_subnet_id)}"
    graph.box((CLOUD, "vnet", "endpoints"), subnet, "subnet")
    endpoint = graph.box(
        (CLOUD, "vnet", "endpoints", name),
        f"private endpoint ({use_case.name})\nprivatelink.openai.azure.com",
        "cloud_managed",
    )
    graph.box((CLOUD, "openai"), f"Azure OpenAI ({azure.location})", "managed")
    deployments = [
        m.id + (f" {m.version}" if m.version else "") + (f" ({m.sku})" if m.sku else "") for m in use_case.models
    ]
    model = graph.box(
        (CLOUD, "openai", name),
        "\n".join([f"account for {use_case.name}", *deployments, "Entra ID auth"]),
        "cloud_managed",
    )
    return endpoint, model


AZURE_OPENAI_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("eastus", "eastus2", "westus", "westus3", "northcentralus", "southcentralus"),
    "eu": (
        "westeurope",
        "swedencentral",
        "francecentral",
        "germanywestcentral",
        "spaincentral",
        "polandcentral",
        "italynorth",
    ),
    "uk": ("uksouth",),
    "ch": ("switzerlandnorth",),
    "ca": ("canadaeast",),
    "jp": ("japaneast",),
    "au": ("australiaeast",),
    "in": ("southindia",),
    "br": ("brazilsouth",),
    "kr": ("koreacentral",),
}
"""As of 2025-05."""


def zones(environment: Environment) -> int:
    """Azure Firewall and private endpoints are priced per instance, not per zone."""
    return 1


# --- plan mocks ----------------------------------------------------------------------------------

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
OBJECT_ID = "22222222-2222-2222-2222-222222222222"
FIREWALL_PRIVATE_IP = "10.255.0.4"
INVOKES: dict[str, dict[str, Any]] = {
    "azure-native:authorization:getClientConfig": {
        "clientId": OBJECT_ID,
        "objectId": OBJECT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    },
}


def _resource_id(type_: str, name: str, inputs: dict[str, Any]) -> str:
    # azure-native:network:VirtualNetwork -> Microsoft.Network/virtualNetworks/<name>
    _, module, kind = type_.split(":")
    group = inputs.get("resourceGroupName", "rg")
    namespace = "Microsoft." + module[:1].upper() + module[1:]
    resource_name = next(
        (str(v) for k, v in inputs.items() if k.endswith("Name") and k != "resourceGroupName" and v), name
    )
    return (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}/providers/"
        f"{namespace}/{kind[:1].lower()}{kind[1:]}s/{resource_name}"
    )


def mock_resource(type_: str, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> str:
    state.setdefault("name", name)
    if "identity" in inputs:
        state["identity"] = dict(inputs["identity"], principalId=OBJECT_ID, tenantId=TENANT_ID)
        assigned = inputs["identity"].get("userAssignedIdentities")
        if isinstance(assigned, list):
            # Inputs list the identities' IDs; the service answers with a map keyed by them.
            state["identity"]["userAssignedIdentities"] = {
                str(i): {"principalId": OBJECT_ID, "clientId": OBJECT_ID} for i in assigned
            }
    if type_ == "azure-native:managedidentity:UserAssignedIdentity":
        state.update(principalId=OBJECT_ID, clientId=OBJECT_ID, tenantId=TENANT_ID)
    if type_ == "azure-native:network:PublicIPAddress":
        state["ipAddress"] = "198.51.100.10"
    if type_ == "azure-native:network:AzureFirewall":
        state["ipConfigurations"] = [
            dict(config, privateIPAddress=FIREWALL_PRIVATE_IP) for config in inputs.get("ipConfigurations") or []
        ]
    if type_ == "azure-native:containerservice:ManagedCluster":
        prefix = inputs.get("dnsPrefix", name)
        location = inputs.get("location", "westeurope")
        private = (inputs.get("apiServerAccessProfile") or {}).get("enablePrivateCluster")
        host = f"{prefix}-00000000.{'privatelink.' if private else 'hcp.'}{location}.azmk8s.io"
        state["privateFQDN" if private else "fqdn"] = host
    if type_ == "azure-native:monitor:DataCollectionEndpoint":
        # `<name>-<4 characters>.<region>-1.metrics.ingest.monitor.azure.com`, as the service answers.
        endpoint = inputs.get("dataCollectionEndpointName", name)
        location = inputs.get("location", "westeurope")
        suffix = hashlib.sha256(endpoint.encode()).hexdigest()[:4]
        state["metricsIngestion"] = {
            "endpoint": f"https://{endpoint}-{suffix}.{location}-1.metrics.ingest.monitor.azure.com"
        }
        state["logsIngestion"] = {"endpoint": f"https://{endpoint}-{suffix}.{location}-1.ingest.monitor.azure.com"}
    if type_ == "azure-native:monitor:DataCollectionRule":
        rule = inputs.get("dataCollectionRuleName", name)
        state["immutableId"] = "dcr-" + hashlib.sha256(rule.encode()).hexdigest()[:32]
    if type_ == "azure-native:keyvault:Secret":
        vault = inputs.get("vaultName", "vault")
        state["properties"] = {"secretUri": f"https://{vault}.vault.azure.net/secrets/{inputs.get('secretName', name)}"}
    return _resource_id(type_, name, inputs)


def mock_call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    return dict(INVOKES[token]) if token in INVOKES else None


def alert_channel(
    ctx: StackContext, emails: list[str], alarm_stacks: Sequence[str], prometheus: bool
) -> AlertChannelReference:
    """An action group mailing `emails` (any alert of the subscription may act on it, Prometheus rule
    groups included)."""
    from triplane.components.observability.azure import AzureAlertChannel, AzureAlertChannelArgs

    channel = AzureAlertChannel(
        f"{ctx.stack}-{CLOUD}-alerts",
        AzureAlertChannelArgs(
            prefix=ctx.stack, resource_group_name=network(ctx).resource_group_name, emails=emails, tags=ctx.tags()
        ),
        opts=ctx.opts(CLOUD),
    )
    return AlertChannelReference(CLOUD, channel.action_group_id)


def alarms(ctx: StackContext, channel: AlertChannelReference, use_cases: Sequence[MonitoredUseCase]) -> object:
    """Azure Monitor metric alerts on the Azure OpenAI use cases, acting on the group, and the workbook
    (with a row for each model server and gateway route whose AKS cluster has an Azure Monitor workspace)."""
    from triplane.components.observability.azure import AzureMonitoring, AzureMonitoringArgs
    from triplane.stacks.clusters import charted_clusters

    assert ctx.environment.clouds.azure is not None
    servers = {
        handle.spec.name: handle.prometheus_workspace
        for handle in charted_clusters(ctx, use_cases, CLOUD)
        if handle.prometheus_workspace is not None
    }
    return AzureMonitoring(
        f"{ctx.stack}-{CLOUD}-monitoring",
        AzureMonitoringArgs(
            prefix=ctx.stack,
            resource_group_name=network(ctx).resource_group_name,
            location=ctx.environment.clouds.azure.location,
            action_group_id=cast(str, channel.target),
            use_cases=use_cases,
            servers=servers,
            tags=ctx.tags(),
        ),
        opts=ctx.opts(CLOUD, depends_on=channel.ready),
    )


def managed_prometheus(
    ctx: StackContext, spec: KubernetesCluster, cluster: ClusterComponent, channel: AlertChannelReference
) -> ManagedPrometheus:
    """The AKS cluster's Azure Monitor workspace, written to through the VNet's Azure Monitor private link
    by a workload identity that signs in to Entra ID through the egress firewall."""
    from triplane.components.observability.azure_prometheus import (
        AzureManagedPrometheus,
        AzureManagedPrometheusArgs,
        AzureMonitorPrivateLink,
        AzureMonitorPrivateLinkArgs,
    )
    from triplane.stacks.egress import egress_for  # the egress firewall is built through this seam

    assert isinstance(cluster, AksCluster)
    settings = ctx.environment.clouds.azure
    assert settings is not None
    vnet = network(ctx)
    link = ctx.shared(
        ("azure-monitor-private-link", CLOUD),
        lambda: AzureMonitorPrivateLink(
            f"{ctx.stack}-azure-monitor",
            AzureMonitorPrivateLinkArgs(prefix=ctx.stack, network=vnet, tags=ctx.tags()),
            opts=ctx.opts(CLOUD),
        ),
    )
    managed = AzureManagedPrometheus(
        f"{ctx.stack}-{spec.name}-prometheus",
        AzureManagedPrometheusArgs(
            prefix=f"{ctx.stack}-{spec.name}",
            resource_group_name=vnet.resource_group_name,
            location=settings.location,
            oidc_issuer_url=cluster.oidc_issuer_url,
            scope=link.ref,
            log_workspace_id=cluster.workspace_id,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )
    forwarding = managed.forwarding
    if prometheus_signs_in_through_firewall(ctx.environment):
        forwarding = replace(forwarding, depends_on=[*forwarding.depends_on, *egress_for(ctx, CLOUD).ready])
    return ManagedPrometheus(workspace=managed.workspace_id, forwarding=forwarding)


def cluster_alerts(
    ctx: StackContext, handle: ClusterHandle, channel: AlertChannelReference, use_cases: Sequence[MonitoredUseCase]
) -> object:
    """The alerting rules of the cluster's servers and gateway routes, as Prometheus rule groups on its
    Azure Monitor workspace acting on the action group."""
    from triplane.components.observability.azure_prometheus import AzurePrometheusRules, AzurePrometheusRulesArgs
    from triplane.components.observability.prometheus import rules

    settings = ctx.environment.clouds.azure
    assert settings is not None and handle.prometheus_workspace is not None
    return AzurePrometheusRules(
        f"{ctx.stack}-{handle.spec.name}-prometheus-rules",
        AzurePrometheusRulesArgs(
            prefix=ctx.stack,
            workspace_id=handle.prometheus_workspace,
            resource_group_name=network(ctx).resource_group_name,
            location=settings.location,
            action_group_id=cast(str, channel.target),
            rules=rules(use_cases),
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
    egress_sources=(entra_entries,),
    egress_logs=egress_logs,
    key_store=key_store,
    saas_paths=saas_paths,
    image_cache_secrets=image_cache_secrets,
    image_cache=image_cache,
    cached_registries=frozenset(CACHED_UPSTREAMS),
    cluster=cluster,
    cluster_extras=cluster_extras,
    weights_import=weights_import,
    load_balancer_annotations={"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
    device_plugin_installed_by="triplane",
    monitoring=CloudMonitoring(
        channel=alert_channel,
        alerts=alarms,
        target=AzureOpenAIDeployments,
        prometheus=managed_prometheus,
        cluster_alerts=cluster_alerts,
        charts_servers=True,
    ),
    managed_models={
        "azure-openai": ManagedModelService(
            build=azure_openai,
            platform=azure_openai_dns,
            diagram=azure_openai_diagram,
            shared_endpoint=None,
            price_vendor="azure",
            regions=AZURE_OPENAI_REGIONS,
            deployment_skus=True,
        )
    },
    diagram=CloudDiagram(
        kubernetes="AKS",
        network_key="vnet",
        egress="Azure Firewall",
        secret_store="Key Vault",
        network=diagram_network,
    ),
    prices=CloudPrices(
        egress_per_gb=("firewall",),
        egress_hourly=("firewall", "public_ip"),
        private_endpoint="private_endpoint",
        own_endpoint=True,
        zones=zones,
        prometheus_path="private_endpoint",  # the VNet's Azure Monitor private link
        prometheus_query_path="private_endpoint",  # each workspace's, for the workbook's PromQL
    ),
    example_principal="00000000-0000-0000-0000-000000000000",
    mocks=PlanMocks(package="azure-native", resource=mock_resource, call=mock_call),
)
"""AKS GPU pools have only the driver: Triplane installs the NVIDIA device plugin."""
