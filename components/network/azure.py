"""AzureNetwork: a private VNet for an environment's Azure workloads.

Creates: the resource group; a VNet whose subnets are separate resources (so later components can
add theirs, such as `AzureFirewallSubnet`, without the VNet owning them); an app subnet and a
private-endpoint subnet, both without default outbound internet access, each behind its own NSG
(the endpoint subnet admits HTTPS from the application ranges only); a route table on the app
subnet to which egress routes are added, never a default internet route.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network as azure_network
from pulumi_azure_native import resources as azure_resources

from triplane.components.network import layout
from triplane.components.network.refs import AzureNetworkRef, SubnetSequence
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

network = azure_network


@dataclass
class AzureNetworkArgs:
    location: str
    resource_group: str
    cidr: str
    tags: dict[str, str] = field(default_factory=dict)
    protect_data: bool = False
    """Protect the resource group: deleting it deletes every vault, key and log workspace inside."""


def _endpoint_rules(application_cidrs: Sequence[str]) -> list[network.SecurityRuleArgs]:
    return [
        network.SecurityRuleArgs(
            name="allow-https-from-applications",
            priority=100,
            direction="Inbound",
            access="Allow",
            protocol="Tcp",
            source_address_prefixes=list(application_cidrs),
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_range="443",
        ),
        network.SecurityRuleArgs(
            name="deny-all-other-inbound",
            priority=4096,
            direction="Inbound",
            access="Deny",
            protocol="*",
            source_address_prefix="*",
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_range="*",
        ),
    ]


class AzureNetwork(pulumi.ComponentResource):
    ref: AzureNetworkRef
    vnet_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:network:AzureNetwork", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        # Retaining a vault or log workspace means nothing if its resource group can be deleted under it.
        group = azure_resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group,
            location=args.location,
            opts=stateful_opts(self, args.protect_data),
        )
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=group.name,
            location=args.location,
            virtual_network_name=f"{name}-vnet",
            address_space=network.AddressSpaceArgs(address_prefixes=[args.cidr]),
            opts=child,
        )
        app_cidr = layout.block(args.cidr, layout.AZURE_APP)
        app_nsg = network.NetworkSecurityGroup(
            f"{name}-app-nsg",
            resource_group_name=group.name,
            location=args.location,
            network_security_group_name=f"{name}-app-nsg",
            security_rules=[
                deny_inbound("deny-internet-inbound", "Internet")
            ],
            opts=child,
        )
        endpoint_nsg = network.NetworkSecurityGroup(
            f"{name}-endpoints-nsg",
            resource_group_name=group.name,
            location=args.location,
            network_security_group_name=f"{name}-endpoints-nsg",
            security_rules=_endpoint_rules([app_cidr]),
            opts=child,
        )
        app_routes = network.RouteTable(
            f"{name}-app-rt",
            resource_group_name=group.name,
            location=args.location,
            route_table_name=f"{name}-app-rt",
            disable_bgp_route_propagation=True,
            opts=child,
        )
        app_subnet = network.Subnet(
            f"{name}-app",
            resource_group_name=group.name,
            virtual_network_name=vnet.name,
            subnet_name="app",
            address_prefix=app_cidr,
            default_outbound_access=False,
            network_security_group=network.NetworkSecurityGroupArgs(id=app_nsg.id),
            route_table=network.RouteTableArgs(id=app_routes.id),
            opts=child,
        )
        # Subnets of one VNet are created one after another: Azure rejects concurrent subnet writes.
        endpoint_subnet = network.Subnet(
            f"{name}-endpoints",
            resource_group_name=group.name,
            virtual_network_name=vnet.name,
            subnet_name="private-endpoints",
            address_prefix=layout.block(args.cidr, layout.AZURE_ENDPOINTS),
            default_outbound_access=False,
            private_endpoint_network_policies="Enabled",
            network_security_group=network.NetworkSecurityGroupArgs(id=endpoint_nsg.id),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[app_subnet]),
        )
        self.vnet_id = vnet.id
        self.ref = AzureNetworkRef(
            location=args.location,
            resource_group_name=group.name,
            vnet_id=vnet.id,
            vnet_name=vnet.name,
            app_subnet_id=app_subnet.id,
            endpoint_subnet_id=endpoint_subnet.id,
            application_cidrs=[app_cidr],
            app_route_table_name=app_routes.name,
            app_route_table_id=app_routes.id,
            subnets=SubnetSequence(endpoint_subnet),
            cidr=args.cidr,
        )
        self.register_outputs({"vnet_id": vnet.id})


def deny_inbound(name: str, source: str, description: str | None = None) -> network.SecurityRuleArgs:
    """A rule at priority 4000 denying every inbound flow from `source` (`Internet`, or `*` for all):
    below it Azure's defaults would let the VNet and the load balancer in."""
    return network.SecurityRuleArgs(
        name=name,
        description=description,
        priority=4000,
        direction="Inbound",
        access="Deny",
        protocol="*",
        source_address_prefix=source,
        source_port_range="*",
        destination_address_prefix="*",
        destination_port_range="*",
    )
