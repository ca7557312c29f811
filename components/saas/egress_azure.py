"""AzureEgressFirewall: Azure Firewall as the only way out of the app subnet, HTTPS to listed FQDNs only.

Creates: `AzureFirewallSubnet` in the VNet (layout block AZURE_FIREWALL), a Standard static public
IP (the static egress address for the vendor's allowlist), a firewall policy (threat intelligence in
deny mode) with one application rule collection allowing HTTPS:443 from the app subnet to the listed
FQDNs (anything unmatched is denied by Azure Firewall's default), the firewall, a 0.0.0.0/0 route in
the app subnet's route table to the firewall's private IP, and a Log Analytics workspace receiving
all the firewall's logs and metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import monitor as azure_monitor
from pulumi_azure_native import network as azure_network
from pulumi_azure_native import operationalinsights as azure_operationalinsights

from triplane.components.naming import physical_name
from triplane.components.network import layout
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.saas.providers import checked_hosts
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

network = azure_network

RULE_COLLECTION_GROUP = "saas-egress"
RULE_COLLECTION = "allow-ai-apis"


@dataclass
class AzureEgressFirewallArgs:
    network: AzureNetworkRef
    hosts: Sequence[str]
    """Every FQDN any workload on this network may reach (sorted, de-duplicated)."""
    owners: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Host -> who needs it and why (`owner (reason)`): one application rule per owner."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    log_retention_days: int = 90


class AzureEgressFirewall(pulumi.ComponentResource):
    allowed_hosts: tuple[str, ...]
    egress_ips: pulumi.Output[list[str]]
    private_ip: pulumi.Output[str]
    log_workspace_id: pulumi.Output[str]
    ready: list[pulumi.Resource]
    """What a workload getting out through the firewall waits for: the app subnet's route to it."""

    def __init__(self, name: str, args: AzureEgressFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:AzureEgressFirewall", name, None, tagged(opts, args.tags))
        ref = args.network
        if ref.cidr is None or ref.app_route_table_name is None:
            raise ValueError(
                f"{name}: the VNet {ref.vnet_name} was not created by Triplane, so the app subnet's "
                "routes are not Triplane's to change; the egress firewall needs a network it creates"
            )
        if not args.hosts:
            raise ValueError(f"{name}: no hosts to allow; an egress firewall with an empty allowlist is useless")
        self.allowed_hosts = checked_hosts(name, "hosts", args.hosts)
        child = pulumi.ResourceOptions(parent=self)
        data = stateful_opts(self, args.protect_data)
        group = ref.resource_group_name

        subnet = network.Subnet(
            f"{name}-subnet",
            resource_group_name=group,
            virtual_network_name=ref.vnet_name,
            subnet_name="AzureFirewallSubnet",  # the name Azure Firewall requires
            address_prefix=layout.block(ref.cidr, layout.AZURE_FIREWALL),
            opts=pulumi.ResourceOptions(parent=self, depends_on=ref.subnets.after()),
        )
        ref.subnets.add(subnet)
        public_ip = network.PublicIPAddress(
            f"{name}-ip",
            resource_group_name=group,
            location=ref.location,
            public_ip_address_name=physical_name(name, "ip"),
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            # The vendor allowlists this address: never let a replacement change it silently.
            opts=data,
        )
        workspace = azure_operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=group,
            location=ref.location,
            workspace_name=physical_name(name, "logs"),
            sku=azure_operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            opts=data,
        )
        policy, rules = self._rules(name, args)
        firewall = network.AzureFirewall(
            f"{name}-firewall",
            resource_group_name=group,
            location=ref.location,
            azure_firewall_name=physical_name(name, "firewall"),
            sku=network.AzureFirewallSkuArgs(name="AZFW_VNet", tier="Standard"),
            firewall_policy=network.SubResourceArgs(id=policy.id),
            ip_configurations=[
                network.AzureFirewallIPConfigurationArgs(
                    name="egress",
                    subnet=network.SubResourceArgs(id=subnet.id),
                    public_ip_address=network.SubResourceArgs(id=public_ip.id),
                )
            ],
            # The policy is updated by its rule collection group; the firewall waits for both.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[rules]),
        )
        azure_monitor.DiagnosticSetting(
            f"{name}-diagnostics",
            name="firewall-to-log-analytics",
            resource_uri=firewall.id,
            workspace_id=workspace.id,
            log_analytics_destination_type="Dedicated",
            logs=[azure_monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)],
            metrics=[azure_monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)],
            opts=child,
        )
        private_ip = firewall.ip_configurations.apply(lambda configs: firewall_private_ip(configs, name))
        route = network.Route(
            f"{name}-app-default",
            resource_group_name=group,
            route_table_name=ref.app_route_table_name,
            route_name="default-via-egress-firewall",
            address_prefix="0.0.0.0/0",
            next_hop_type="VirtualAppliance",
            next_hop_ip_address=private_ip,
            opts=child,
        )
        self.ready = [route]
        self.egress_ips = public_ip.ip_address.apply(lambda ip: [ip] if ip else [])
        self.private_ip = private_ip
        self.log_workspace_id = workspace.id
        self.register_outputs(
            {
                "allowed_hosts": list(self.allowed_hosts),
                "egress_ips": self.egress_ips,
                "private_ip": private_ip,
                "log_workspace_id": workspace.id,
            }
        )

    def _rules(
        self, name: str, args: AzureEgressFirewallArgs
    ) -> tuple[network.FirewallPolicy, network.FirewallPolicyRuleCollectionGroup]:
        """The firewall policy (threat intelligence denies) and its allowlist: one HTTPS application rule
        per owner, from the app subnet and the AKS nodes."""
        ref = args.network
        assert ref.cidr is not None
        group = ref.resource_group_name
        child = pulumi.ResourceOptions(parent=self)
        policy = network.FirewallPolicy(
            f"{name}-policy",
            resource_group_name=group,
            location=ref.location,
            firewall_policy_name=physical_name(name, "policy"),
            sku=network.FirewallPolicySkuArgs(tier="Standard"),
            threat_intel_mode="Deny",
            opts=child,
        )
        rules = network.FirewallPolicyRuleCollectionGroup(
            f"{name}-rules",
            resource_group_name=group,
            firewall_policy_name=policy.name,
            rule_collection_group_name=RULE_COLLECTION_GROUP,
            priority=200,
            rule_collections=[
                network.FirewallPolicyFilterRuleCollectionArgs(
                    rule_collection_type="FirewallPolicyFilterRuleCollection",
                    name=RULE_COLLECTION,
                    priority=100,
                    action=network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
                    rules=[
                        network.ApplicationRuleArgs(
                            rule_type="ApplicationRule",
                            name=rule_name,
                            description=f"Egress for {owner}"[:140],
                            # The app subnet and the AKS nodes' (overlay pods leave with their node's address).
                            source_addresses=[
                                layout.block(ref.cidr, layout.AZURE_APP),
                                layout.block(ref.cidr, layout.AZURE_AKS),
                            ],
                            protocols=[
                                network.FirewallPolicyRuleApplicationProtocolArgs(protocol_type="Https", port=443)
                            ],
                            target_fqdns=fqdns,
                        )
                        for rule_name, owner, fqdns in rules_by_owner(self.allowed_hosts, args.owners)
                    ],
                )
            ],
            opts=child,
        )
        return policy, rules


def rules_by_owner(
    hosts: Sequence[str], owners: Mapping[str, Sequence[str]]
) -> list[tuple[str, str, list[str]]]:
    """(rule name, owner, FQDNs): one application rule per owner, so the plan shows who needs each host.

    Hosts without a named owner share the rule `ai-api-hosts`."""
    grouped: dict[str, set[str]] = {}
    for host in hosts:
        for owner in owners.get(host) or ["ai-api-hosts"]:
            grouped.setdefault(owner, set()).add(host)
    return [
        (owner.split(" (")[0], owner, sorted(fqdns))
        for owner, fqdns in sorted(grouped.items())
    ]


def firewall_private_ip(configs: Any, name: str) -> str:
    """The firewall's private address, the next hop of the app subnet's default route."""
    for config in configs or []:
        # Typed output objects (dict subclasses) answer by attribute; plain dicts by engine key.
        address = config.get("privateIPAddress") if type(config) is dict else config.private_ip_address
        if address:
            return str(address)
    raise ValueError(f"{name}: Azure Firewall reports no private IP address; the default route cannot be set")
