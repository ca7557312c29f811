"""AcrCache: a private Azure Container Registry caching the public registries Triplane pulls from.

Creates: a Premium, zone-redundant registry (admin user off, anonymous pull off, public network
access disabled, exports disabled, untagged manifests deleted after a week); its private endpoint
(group `registry`) in the VNet's endpoint subnet, the `privatelink.azurecr.io` zone linked to the VNet
and the endpoint's DNS zone group; one cache rule per upstream (Docker Hub, GHCR, nvcr.io,
registry.k8s.io, Quay) and the `mcr.microsoft.com` rule a network-isolated AKS cluster bootstraps
from (`aks-managed-repository/*`). `grant_pull` gives an identity AcrPull on the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import containerregistry as azure_containerregistry

from triplane.components.images import PullThroughCache
from triplane.components.naming import physical_name
from triplane.components.network.azure_private_link import EndpointSubnet, PrivateLinkService, private_endpoint_with_dns
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

REGISTRY_ZONE = "privatelink.azurecr.io"
REGISTRY_LINK = PrivateLinkService(zone=REGISTRY_ZONE, group_id="registry", zone_config="azurecr", stem="acr")
UPSTREAMS: dict[str, str] = {
    "docker.io": "dockerhub",
    "ghcr.io": "ghcr",
    "nvcr.io": "nvcr",
    "registry.k8s.io": "k8s",
    "quay.io": "quay",
}
"""Upstream host -> the repository namespace the registry caches it under."""
AKS_BOOTSTRAP = ("mcr.microsoft.com/*", "aks-managed-repository/*")
"""What a network-isolated AKS cluster with its own registry pulls its components through."""
UNTAGGED_DAYS = 7


@dataclass
class AcrCacheArgs:
    network: AzureNetworkRef
    registry_name: str
    """5-50 letters and digits, globally unique."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


def _rule_name(target: str) -> str:
    return physical_name("cache", target)


class AcrCache(pulumi.ComponentResource):
    registry_id: pulumi.Output[str]
    login_server: str
    ready: list[pulumi.CustomResource]
    """The private endpoint's DNS (which waits for the endpoint) and every cache rule: what a first pull needs."""

    def __init__(self, name: str, args: AcrCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:imagecache:AcrCache", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        network = args.network
        group = network.resource_group_name
        tags = dict(args.tags)
        registry = azure_containerregistry.Registry(
            f"{name}-registry",
            resource_group_name=group,
            location=network.location,
            registry_name=args.registry_name,
            sku={"name": "Premium"},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled",
            network_rule_bypass_options="None",
            zone_redundancy="Enabled",
            policies={
                "export_policy": {"status": "disabled"},
                "retention_policy": {"status": "enabled", "days": UNTAGGED_DAYS},
            },
            opts=stateful_opts(self, args.protect_data),
        )
        dns = private_endpoint_with_dns(
            name,
            name,
            REGISTRY_LINK,
            registry.id,
            EndpointSubnet(group, network.location, network.vnet_id, network.endpoint_subnet_id),
            tags,
            child,
        )
        # The name as created (the plan's stand-in reports a logical one), once the registry exists.
        registry_name = registry.id.apply(lambda _: args.registry_name)
        rules: list[pulumi.CustomResource] = []
        for source, target in [
            *((f"{host}/*", f"{prefix}/*") for host, prefix in UPSTREAMS.items()),
            AKS_BOOTSTRAP,
        ]:
            namespace = target.removesuffix("/*")
            rules.append(
                azure_containerregistry.CacheRule(
                    f"{name}-{namespace}",
                    resource_group_name=group,
                    registry_name=registry_name,
                    cache_rule_name=_rule_name(namespace),
                    source_repository=source,
                    target_repository=target,
                    opts=child,
                )
            )
        self.registry_id = registry.id
        # The login server of a registry in Azure's public cloud: its name, lowercased, under azurecr.io.
        self.login_server = f"{args.registry_name.lower()}.azurecr.io"
        self.ready = [dns, *rules]
        self.register_outputs({"registry_id": registry.id, "login_server": self.login_server})

    def source(self) -> PullThroughCache:
        """The `ImageSource` of a cluster pulling through this registry."""
        # MCR's images come through the bootstrap rule the cluster itself uses (`aks-managed-repository`).
        mcr = {AKS_BOOTSTRAP[0].removesuffix("/*"): AKS_BOOTSTRAP[1].removesuffix("/*")}
        return PullThroughCache(root=self.login_server, prefixes={**UPSTREAMS, **mcr})
