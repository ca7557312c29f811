"""AwsEgressFirewall: the only way out of a Triplane VPC, allowing HTTPS/HTTP to listed hosts only.

Creates, per zone: a firewall subnet and a public subnet (layout blocks AWS_FIREWALL and AWS_PUBLIC),
a NAT gateway with an Elastic IP in the public subnet, and the routes
app subnet -> firewall endpoint -> NAT gateway -> internet gateway, with the return route for the
zone's app block through the same firewall endpoint (stateful inspection needs symmetric paths).
Once per VPC: the internet gateway, a stateful domain-list rule group (ALLOWLIST on TLS SNI and
HTTP Host), a strict-order firewall policy whose default actions drop and alert on everything else,
the Network Firewall, and ALERT and FLOW logs to CloudWatch log groups encrypted with a KMS key.

The Elastic IPs are the static egress addresses to give the SaaS vendor's IP allowlist.

Parts (`SubComponent`, their resources keeping the URNs they had as this component's own):
`AwsEgressFirewallLogs` (key and log groups), `AwsEgressFirewallPolicy` (rule group and policy),
and one `AwsEgressZone` per zone (its subnets, address, NAT gateway, route tables and routes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import networkfirewall as aws_networkfirewall
from pulumi_aws.get_caller_identity import get_caller_identity_output
from pulumi_aws.get_partition import get_partition_output

from triplane.components.keys import aws_key, log_key_policy
from triplane.components.network import layout
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.saas.providers import aws_domain, checked_hosts
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import SubComponent
from triplane.components.tagging import tagged

RULE_GROUP_CAPACITY = 1000
"""Fixed so that adding hosts never replaces the rule group (capacity cannot change in place)."""
TARGET_TYPES = ["TLS_SNI", "HTTP_HOST"]


@dataclass
class AwsEgressFirewallArgs:
    network: AwsNetworkRef
    hosts: Sequence[str]
    """Every host any workload on this network may reach (sorted, de-duplicated)."""
    owners: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Host -> who needs it and why (`owner (reason)`), shown in the rule group's description."""
    kms_key: pulumi.Input[str] | None = None
    """An existing KMS key ARN for the log groups; otherwise one is created."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    log_retention_days: int = 365


class AwsEgressFirewall(pulumi.ComponentResource):
    allowed_hosts: tuple[str, ...]
    egress_ips: pulumi.Output[list[str]]
    firewall_arn: pulumi.Output[str]
    alert_log_group: pulumi.Output[str]
    endpoint_ids: list[pulumi.Output[str]]
    ready: list[pulumi.Resource]
    """What a workload getting out through the firewall waits for: the app subnets' routes to it."""

    def __init__(self, name: str, args: AwsEgressFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:AwsEgressFirewall", name, None, tagged(opts, args.tags))
        network = args.network
        if network.cidr is None:
            raise ValueError(
                f"{name}: the VPC {network.vpc_id} was not created by Triplane, so its egress routing "
                "is not Triplane's to change; the egress firewall needs a network it creates"
            )
        zones = list(network.zones)
        if not zones or len(network.private_route_table_ids) != len(zones):
            raise ValueError(
                f"{name}: need one app route table per zone ({len(zones)} zones, "
                f"{len(network.private_route_table_ids)} route tables)"
            )
        if not args.hosts:
            raise ValueError(f"{name}: no hosts to allow; an egress firewall with an empty allowlist is useless")
        self.allowed_hosts = checked_hosts(name, "hosts", args.hosts)
        cidr = network.cidr
        log_groups = self._log_groups(name, args)
        policy = self._policy(name, args)
        gateway = aws_ec2.InternetGateway(
            f"{name}-igw", vpc_id=network.vpc_id, tags={"Name": f"{name}-igw"}, opts=pulumi.ResourceOptions(parent=self)
        )
        zone_parts: list[SubComponent] = []
        firewall_subnets: list[aws_ec2.Subnet] = []
        public_tables: list[aws_ec2.RouteTable] = []
        ips: list[pulumi.Output[str]] = []
        for index, zone in enumerate(zones):
            zone_part, firewall_subnet, public_table, ip = self._zone_egress(name, args, index, zone, gateway)
            zone_parts.append(zone_part)
            firewall_subnets.append(firewall_subnet)
            public_tables.append(public_table)
            ips.append(ip)
        firewall = self._firewall(name, args, policy, firewall_subnets, log_groups)

        endpoint_ids: list[pulumi.Output[str]] = []
        self.ready = []
        for index, zone in enumerate(zones):
            # The endpoint of each zone exists only once the firewall does: read it from its status.
            endpoint_id = _endpoint_id(firewall, firewall_subnets[index], zone)
            endpoint_ids.append(endpoint_id)
            in_zone = pulumi.ResourceOptions(parent=zone_parts[index])
            app_route = aws_ec2.Route(
                f"{name}-app-{zone}-egress",
                route_table_id=network.private_route_table_ids[index],
                destination_cidr_block="0.0.0.0/0",
                vpc_endpoint_id=endpoint_id,
                opts=in_zone,
            )
            self.ready.append(app_route)
            aws_ec2.Route(
                f"{name}-public-{zone}-return",
                route_table_id=public_tables[index].id,
                destination_cidr_block=layout.block(cidr, layout.AWS_APP + index),
                vpc_endpoint_id=endpoint_id,
                opts=in_zone,
            )
            zone_parts[index].register_outputs({})

        self.egress_ips = pulumi.Output.all(*ips).apply(list)
        self.firewall_arn = firewall.arn
        self.alert_log_group = log_groups["alert"].name
        self.endpoint_ids = endpoint_ids
        self.register_outputs(
            {
                "allowed_hosts": list(self.allowed_hosts),
                "egress_ips": self.egress_ips,
                "firewall_arn": firewall.arn,
                "alert_log_group": self.alert_log_group,
            }
        )

    def _log_groups(self, name: str, args: AwsEgressFirewallArgs) -> dict[str, aws_cloudwatch.LogGroup]:
        """The firewall's alert and flow log groups, encrypted with the given key or a new one."""
        network = args.network
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = get_caller_identity_output(opts=invoke)
        partition = get_partition_output(opts=invoke).partition
        part = SubComponent("triplane:saas:AwsEgressFirewallLogs", f"{name}-logging", self)
        log_names = {kind: f"/triplane/{name}/network-firewall/{kind}" for kind in ("alert", "flow")}
        if args.kms_key is not None:
            key_arn: pulumi.Output[str] = pulumi.Output.from_input(args.kms_key)
        else:
            key = aws_key(
                f"{name}-logs-key",
                parent=part,
                description=f"Encrypts the Network Firewall logs of {name}",
                policy=pulumi.Output.all(partition, identity.account_id).apply(
                    lambda v: log_key_policy(
                        v[1], network.region, list(log_names.values()), logs_sid="CloudWatchLogsForFirewallLogs",
                        partition=v[0],
                    )
                ),
                protect=args.protect_data,
            )
            key_arn = key.arn
        log_groups = {
            kind: aws_cloudwatch.LogGroup(
                f"{name}-{kind}-logs",
                name=log_name,
                retention_in_days=args.log_retention_days,
                kms_key_id=key_arn,
                opts=stateful_opts(part, args.protect_data),
            )
            for kind, log_name in log_names.items()
        }
        part.register_outputs({})
        return log_groups

    def _policy(self, name: str, args: AwsEgressFirewallArgs) -> aws_networkfirewall.FirewallPolicy:
        """The allowlist rule group (the hosts' domains, strict order) and the policy that drops and
        alerts on every other established flow."""
        part = SubComponent("triplane:saas:AwsEgressFirewallPolicy", f"{name}-rules", self)
        child = pulumi.ResourceOptions(parent=part)
        rule_group = aws_networkfirewall.RuleGroup(
            f"{name}-allowlist",
            name=f"{name}-allowlist",
            description=allowlist_description(self.allowed_hosts, args.owners),
            type="STATEFUL",
            capacity=RULE_GROUP_CAPACITY,
            rule_group=aws_networkfirewall.RuleGroupRuleGroupArgs(
                rules_source=aws_networkfirewall.RuleGroupRuleGroupRulesSourceArgs(
                    rules_source_list=aws_networkfirewall.RuleGroupRuleGroupRulesSourceRulesSourceListArgs(
                        generated_rules_type="ALLOWLIST",
                        target_types=TARGET_TYPES,
                        targets=sorted({aws_domain(h) for h in self.allowed_hosts}),
                    )
                ),
                stateful_rule_options=aws_networkfirewall.RuleGroupRuleGroupStatefulRuleOptionsArgs(
                    rule_order="STRICT_ORDER"
                ),
            ),
            opts=child,
        )
        policy = aws_networkfirewall.FirewallPolicy(
            f"{name}-policy",
            name=f"{name}-policy",
            description="Allow the listed hosts; drop and alert on every other established flow",
            firewall_policy=aws_networkfirewall.FirewallPolicyFirewallPolicyArgs(
                stateless_default_actions=["aws:forward_to_sfe"],
                stateless_fragment_default_actions=["aws:forward_to_sfe"],
                stateful_engine_options=aws_networkfirewall.FirewallPolicyFirewallPolicyStatefulEngineOptionsArgs(
                    rule_order="STRICT_ORDER"
                ),
                stateful_default_actions=["aws:drop_established", "aws:alert_established"],
                stateful_rule_group_references=[
                    aws_networkfirewall.FirewallPolicyFirewallPolicyStatefulRuleGroupReferenceArgs(
                        resource_arn=rule_group.arn, priority=100
                    )
                ],
            ),
            opts=child,
        )
        part.register_outputs({})
        return policy

    def _zone_egress(
        self, name: str, args: AwsEgressFirewallArgs, index: int, zone: str, gateway: aws_ec2.InternetGateway
    ) -> tuple[SubComponent, aws_ec2.Subnet, aws_ec2.RouteTable, pulumi.Output[str]]:
        """One zone's way out: its firewall subnet (routed to the NAT gateway) and public subnet (routed
        to the internet), the NAT gateway and its static address, in a part of its own (which also
        takes the zone's routes through the firewall). Returns the part, the firewall subnet, the
        public route table and the address."""
        network, cidr = args.network, args.network.cidr
        assert cidr is not None
        part = SubComponent("triplane:saas:AwsEgressZone", f"{name}-{zone}", self)
        child = pulumi.ResourceOptions(parent=part)
        firewall_subnet = aws_ec2.Subnet(
            f"{name}-firewall-{zone}",
            vpc_id=network.vpc_id,
            cidr_block=layout.block(cidr, layout.AWS_FIREWALL + index),
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags={"Name": f"{name}-firewall-{zone}"},
            opts=child,
        )
        public_subnet = aws_ec2.Subnet(
            f"{name}-public-{zone}",
            vpc_id=network.vpc_id,
            cidr_block=layout.block(cidr, layout.AWS_PUBLIC + index),
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags={"Name": f"{name}-public-{zone}"},
            opts=child,
        )
        # The vendor allowlists these addresses: never let a replacement change them silently.
        eip = aws_ec2.Eip(
            f"{name}-eip-{zone}",
            domain="vpc",
            tags={"Name": f"{name}-egress-{zone}"},
            opts=stateful_opts(part, args.protect_data),
        )
        nat = aws_ec2.NatGateway(
            f"{name}-nat-{zone}",
            allocation_id=eip.allocation_id,
            subnet_id=public_subnet.id,
            connectivity_type="public",
            tags={"Name": f"{name}-nat-{zone}"},
            opts=pulumi.ResourceOptions(parent=part, depends_on=[gateway]),
        )
        public_table = _default_route(
            f"{name}-public-{zone}", "internet", network.vpc_id, public_subnet, {"gateway_id": gateway.id}, child
        )
        _default_route(
            f"{name}-firewall-{zone}", "nat", network.vpc_id, firewall_subnet, {"nat_gateway_id": nat.id}, child
        )
        return part, firewall_subnet, public_table, eip.public_ip

    def _firewall(
        self,
        name: str,
        args: AwsEgressFirewallArgs,
        policy: aws_networkfirewall.FirewallPolicy,
        firewall_subnets: list[aws_ec2.Subnet],
        log_groups: dict[str, aws_cloudwatch.LogGroup],
    ) -> aws_networkfirewall.Firewall:
        """The firewall, one endpoint per firewall subnet, logging alerts and flows."""
        network = args.network
        child = pulumi.ResourceOptions(parent=self)
        firewall = aws_networkfirewall.Firewall(
            f"{name}-firewall",
            name=f"{name}-firewall",
            description="Egress allowlist of the network",
            vpc_id=network.vpc_id,
            firewall_policy_arn=policy.arn,
            subnet_mappings=[
                aws_networkfirewall.FirewallSubnetMappingArgs(subnet_id=subnet.id) for subnet in firewall_subnets
            ],
            delete_protection=args.protect_data,
            opts=child,
        )
        aws_networkfirewall.LoggingConfiguration(
            f"{name}-logging",
            firewall_arn=firewall.arn,
            logging_configuration=aws_networkfirewall.LoggingConfigurationLoggingConfigurationArgs(
                log_destination_configs=[
                    aws_networkfirewall.LoggingConfigurationLoggingConfigurationLogDestinationConfigArgs(
                        log_destination={"logGroup": log_groups[kind].name},
                        log_destination_type="CloudWatchLogs",
                        log_type=kind.upper(),
                    )
                    for kind in ("alert", "flow")
                ]
            ),
            opts=child,
        )
        return firewall


def _default_route(
    label: str,
    route: str,
    vpc_id: pulumi.Input[str],
    subnet: aws_ec2.Subnet,
    target: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> aws_ec2.RouteTable:
    """A subnet's own route table (`<label>-rt`), its default route to `target` (`<label>-<route>`)
    and the association (`<label>-rta`)."""
    table = aws_ec2.RouteTable(f"{label}-rt", vpc_id=vpc_id, tags={"Name": label}, opts=opts)
    aws_ec2.Route(
        f"{label}-{route}", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", **target, opts=opts
    )
    aws_ec2.RouteTableAssociation(f"{label}-rta", subnet_id=subnet.id, route_table_id=table.id, opts=opts)
    return table

DESCRIPTION_LIMIT = 512


def allowlist_description(hosts: Sequence[str], owners: Mapping[str, Sequence[str]]) -> str:
    """Who the allowlist serves, by owner, within the rule group's 512-character description."""
    needs = sorted({owner for host in hosts for owner in owners.get(host, ())})
    text = "Egress allowlist for " + "; ".join(needs) if needs else "Egress allowlist"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 3] + "..."


def _endpoint_id(firewall: aws_networkfirewall.Firewall, subnet: aws_ec2.Subnet, zone: str) -> pulumi.Output[str]:
    return pulumi.Output.all(firewall.firewall_statuses, subnet.id).apply(
        lambda values: endpoint_for_subnet(values[0], values[1], zone)
    )


def _field(value: Any, name: str, engine_name: str) -> Any:
    # Typed output objects (dict subclasses) answer by attribute; plain dicts by engine key.
    if type(value) is dict:
        return value.get(engine_name, value.get(name))
    return getattr(value, name, None)


def endpoint_for_subnet(statuses: Any, subnet_id: str, zone: str) -> str:
    """The firewall endpoint (`vpce-...`) attached to `subnet_id`, from the firewall's sync states."""
    for status in statuses or []:
        for sync in _field(status, "sync_states", "syncStates") or []:
            for attachment in _field(sync, "attachments", "attachments") or []:
                if _field(attachment, "subnet_id", "subnetId") == subnet_id:
                    endpoint = _field(attachment, "endpoint_id", "endpointId")
                    if endpoint:
                        return str(endpoint)
    raise ValueError(
        f"the Network Firewall reports no endpoint in {zone} (subnet {subnet_id}); "
        "its routes cannot be created until it does"
    )

