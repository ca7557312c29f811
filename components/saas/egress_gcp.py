"""GcpEgressProxy: Secure Web Proxy as the only way out of a Triplane VPC, to listed hosts only.

Creates (the project's APIs come from its `ProjectApis`, `components.gcp_apis`): the proxy-only
subnet (layout block GCP_PROXY_ONLY, purpose REGIONAL_MANAGED_PROXY) the proxy runs in; a reserved
internal address in the app subnet for the proxy; a gateway security policy with one ALLOW rule per
host (`host() == '...'`; anything that matches no rule is denied); the Secure Web Proxy gateway
(explicit proxy on 443); a Cloud Router and a Cloud NAT for Secure Web Proxy endpoints only, using
reserved static external addresses (the static egress addresses for the vendor's allowlist); the
VPC's default route to the internet gateway (Triplane networks are created without one; VMs still
have no NAT, so only the proxy gets out); and for the workload service accounts, a VPC firewall rule
that denies all egress except HTTPS to the proxy and to Google APIs' private addresses.

Workloads send provider traffic through the proxy (`HTTPS_PROXY=http://<proxy_address>:443`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import compute as gcp_compute
from pulumi_gcp import networksecurity as gcp_networksecurity
from pulumi_gcp import networkservices as gcp_networkservices

from triplane.components.naming import physical_name
from triplane.components.network import layout
from triplane.components.network.refs import GcpNetworkRef
from triplane.components.saas.providers import checked_hosts, swp_session_matcher
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

GOOGLE_APIS_RANGES = ("199.36.153.8/30", "199.36.153.4/30")
"""private.googleapis.com and restricted.googleapis.com: Secret Manager stays reachable."""
PROXY_PORT = 443
RULE_PRIORITY_BASE = 1000


@dataclass
class GcpEgressProxyArgs:
    network: GcpNetworkRef
    hosts: Sequence[str]
    """Every host any workload on this network may reach (sorted, de-duplicated)."""
    owners: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Host -> who needs it and why (`owner (reason)`), shown in each rule's description."""
    workload_service_accounts: Sequence[str] = ()
    """Emails of the workload service accounts whose other egress is denied."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    nat_addresses: int = 2


def rule_description(host: str, owners: Mapping[str, Sequence[str]]) -> str:
    needs = owners.get(host)
    return f"Allow {host} for {'; '.join(needs)}" if needs else f"Allow {host}"


class GcpEgressProxy(pulumi.ComponentResource):
    allowed_hosts: tuple[str, ...]
    egress_ips: pulumi.Output[list[str]]
    proxy_address: pulumi.Output[str]
    gateway_id: pulumi.Output[str]
    ready: list[pulumi.Resource]
    """What a workload getting out through the proxy waits for: the gateway."""

    def __init__(self, name: str, args: GcpEgressProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:GcpEgressProxy", name, None, tagged(opts, args.tags))
        ref = args.network
        if ref.cidr is None:
            raise ValueError(
                f"{name}: the network {ref.network_id} was not created by Triplane, so its proxy-only "
                "subnet and routes are not Triplane's to change; the egress proxy needs a network it "
                "creates"
            )
        if not args.hosts:
            raise ValueError(f"{name}: no hosts to allow; an egress proxy with an empty allowlist is useless")
        if args.nat_addresses < 1:
            raise ValueError(f"{name}: nat_addresses must be at least 1")
        self.allowed_hosts = checked_hosts(name, "hosts", args.hosts)
        child = pulumi.ResourceOptions(parent=self)
        project, region = ref.project, ref.region

        proxy_subnet = gcp_compute.Subnetwork(
            f"{name}-proxy-only",
            name=physical_name(name, "proxy-only", kind="gcp"),
            project=project,
            region=region,
            network=ref.network_id,
            ip_cidr_range=layout.block(ref.cidr, layout.GCP_PROXY_ONLY),
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
            opts=child,
        )
        proxy_address = gcp_compute.Address(
            f"{name}-proxy-address",
            name=physical_name(name, "proxy", kind="gcp"),
            project=project,
            region=region,
            subnetwork=ref.subnetwork_id,
            address_type="INTERNAL",
            description="Secure Web Proxy address the workloads send provider traffic to",
            opts=child,
        )
        nat_ips, nat = self._nat(name, args)
        policy = self._policy(name, args)
        gateway = gcp_networkservices.Gateway(
            f"{name}-gateway",
            name=physical_name(name, "swp", kind="gcp"),
            project=project,
            location=region,
            type="SECURE_WEB_GATEWAY",
            routing_mode="EXPLICIT_ROUTING_MODE",
            addresses=[proxy_address.address],
            ports=[PROXY_PORT],
            gateway_security_policy=policy.id,
            network=ref.network_id,
            subnetwork=ref.subnetwork_id,
            delete_swg_autogen_router_on_destroy=True,
            # The policy comes with `gateway_security_policy`; the rules need not
            # exist first (until they do, the gateway denies). The proxy-only subnet and the NAT must, or
            # the gateway fails or creates a NAT of its own with addresses nobody allowlisted.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[proxy_subnet, nat]),
        )
        if args.workload_service_accounts:
            self._workload_firewall(name, args, proxy_address)

        # Not the rules: written one after another, they finish while a cluster is still being created,
        # and a workload's retries cover one still missing; waiting would serialise it behind them all.
        self.ready = [gateway]
        self.egress_ips = pulumi.Output.all(*[address.address for address in nat_ips]).apply(list)
        self.proxy_address = proxy_address.address
        self.gateway_id = gateway.id
        self.register_outputs(
            {
                "allowed_hosts": list(self.allowed_hosts),
                "egress_ips": self.egress_ips,
                "proxy_address": proxy_address.address,
                "gateway_id": gateway.id,
            }
        )

    def _nat(
        self, name: str, args: GcpEgressProxyArgs
    ) -> tuple[list[gcp_compute.Address], gcp_compute.RouterNat]:
        """The proxy's way out: static addresses (the vendor allowlists them), the default route, and a
        Cloud NAT for the Secure Web Proxy only, logging every flow."""
        ref = args.network
        project, region = ref.project, ref.region
        child = pulumi.ResourceOptions(parent=self)
        nat_ips = [
            gcp_compute.Address(
                f"{name}-egress-{index}",
                name=physical_name(name, "egress", str(index), kind="gcp"),
                project=project,
                region=region,
                address_type="EXTERNAL",
                network_tier="PREMIUM",
                description="Static egress address of the Secure Web Proxy (give it to the API vendor)",
                # The vendor allowlists these addresses: never let a replacement change them silently.
                opts=stateful_opts(self, args.protect_data),
            )
            for index in range(args.nat_addresses)
        ]
        gcp_compute.Route(
            f"{name}-internet",
            name=physical_name(name, "internet", kind="gcp"),
            project=project,
            network=ref.network_id,
            dest_range="0.0.0.0/0",
            next_hop_gateway="default-internet-gateway",
            priority=1000,
            description="Default route for the Secure Web Proxy's Cloud NAT",
            opts=child,
        )
        router = gcp_compute.Router(
            f"{name}-router",
            name=physical_name(name, "router", kind="gcp"),
            project=project,
            region=region,
            network=ref.network_id,
            opts=child,
        )
        nat = gcp_compute.RouterNat(
            f"{name}-nat",
            name=physical_name(name, "nat", kind="gcp"),
            project=project,
            region=region,
            router=router.name,
            endpoint_types=["ENDPOINT_TYPE_SWG"],
            nat_ip_allocate_option="MANUAL_ONLY",
            nat_ips=[address.self_link for address in nat_ips],
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=gcp_compute.RouterNatLogConfigArgs(enable=True, filter="ALL"),
            opts=child,
        )
        return nat_ips, nat

    def _policy(self, name: str, args: GcpEgressProxyArgs) -> gcp_networksecurity.GatewaySecurityPolicy:
        """The gateway's policy: one allow rule per host, written one after another; the rest denied."""
        project, region = args.network.project, args.network.region
        child = pulumi.ResourceOptions(parent=self)
        policy = gcp_networksecurity.GatewaySecurityPolicy(
            f"{name}-policy",
            name=physical_name(name, "policy", kind="gcp"),
            project=project,
            location=region,
            description="Allow the listed AI API hosts; everything else is denied",
            opts=child,
        )
        previous: list[pulumi.Resource] = []
        for index, host in enumerate(self.allowed_hosts):
            slug = re.sub(r"[^a-z0-9]+", "-", host.replace("*", "any")).strip("-")
            rule = gcp_networksecurity.GatewaySecurityPolicyRule(
                f"{name}-allow-{slug}",
                name=physical_name("allow", slug, kind="gcp"),
                project=project,
                location=region,
                gateway_security_policy=policy.name,
                enabled=True,
                priority=RULE_PRIORITY_BASE + index,
                session_matcher=swp_session_matcher(host),
                basic_profile="ALLOW",
                description=rule_description(host, args.owners),
                # Rules written in parallel race inside one policy: create them one after another.
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [rule]
        return policy

    def _workload_firewall(self, name: str, args: GcpEgressProxyArgs, proxy_address: gcp_compute.Address) -> None:
        """The workloads' service accounts reach the proxy and Google APIs' private addresses, nothing else."""
        ref = args.network
        assert ref.cidr is not None
        project = ref.project
        child = pulumi.ResourceOptions(parent=self)
        accounts = sorted(set(args.workload_service_accounts))
        destinations: list[pulumi.Input[str]] = [
            pulumi.Output.concat(proxy_address.address, "/32"),
            *GOOGLE_APIS_RANGES,
            f"{layout.psc_address(ref.cidr)}/32",
        ]
        gcp_compute.Firewall(
            f"{name}-workload-allow",
            name=physical_name(name, "workload-allow", kind="gcp"),
            project=project,
            network=ref.network_id,
            direction="EGRESS",
            priority=900,
            allows=[gcp_compute.FirewallAllowArgs(protocol="tcp", ports=["443"])],
            destination_ranges=destinations,
            target_service_accounts=accounts,
            description="SaaS workloads reach the egress proxy and Google APIs' private addresses",
            log_config=gcp_compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=child,
        )
        gcp_compute.Firewall(
            f"{name}-workload-deny",
            name=physical_name(name, "workload-deny", kind="gcp"),
            project=project,
            network=ref.network_id,
            direction="EGRESS",
            priority=1000,
            denies=[gcp_compute.FirewallDenyArgs(protocol="all")],
            destination_ranges=["0.0.0.0/0"],
            target_service_accounts=accounts,
            description="SaaS workloads have no other way out",
            log_config=gcp_compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=child,
        )
