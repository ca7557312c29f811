"""Azure Monitor managed service for Prometheus for the AKS clusters Triplane creates.

Per cluster, `AzureManagedPrometheus` creates where the cluster's Prometheus forwards its samples:
an Azure Monitor workspace (public query access disabled), a data collection endpoint (public
ingestion disabled) and a data collection rule sending the `Microsoft-PrometheusMetrics` stream to
the workspace, the endpoint scoped into the VNet's Azure Monitor private link scope, and the
forwarder's identity: a user-assigned managed identity that only the `monitoring/triplane-prometheus`
service account may federate with, allowed only to publish to that rule ("Monitoring Metrics
Publisher", 3913510d-42f4-4e42-8a64-420c390055eb, Azure built-in roles). Given a Log Analytics
workspace, the rule's errors and the workspace's usage go there (the resource log categories Azure
Monitor lists for them). A workspace is encrypted with a Microsoft-managed key only ("Azure Monitor
workspace overview": no customer-managed key to give it). `AzurePrometheusRules`
evaluates the same alerting rules as the in-cluster PrometheusRules (`prometheus.rules`) as
Prometheus rule groups on the workspace, acting on the environment's action group.

Azure Monitor's private link is one scope per DNS ("Use a single AMPLS for all networks that share
the same DNS", Azure Monitor private link design): `AzureMonitorPrivateLink` is the VNet's, made
once and shared by every cluster's endpoint. Its private endpoint (group `azuremonitor`) writes its
records into the zones Azure lists for `Microsoft.Insights/privateLinkScopes` (Azure Private
Endpoint DNS zone values), all but the blob zone (`AZURE_MONITOR_ZONES` says why):
privatelink.monitor.azure.com (the endpoints' `*.metrics.ingest.monitor.azure.com`),
privatelink.oms.opinsights.azure.com, privatelink.ods.opinsights.azure.com and
privatelink.agentsvc.azure-automation.net. Adding a data collection endpoint to the scope adds its
records to those zones ("Enable network isolation for Azure Monitor Agent by using Private Link").
Ingestion is
`PrivateOnly`: the VNet may send telemetry only to Azure Monitor resources in the scope; queries
stay `Open` (a query sends nothing out, and the clusters' Log Analytics workspaces are not in the
scope).

Remote write (Azure Monitor, "Connect self-managed Prometheus to Azure Monitor managed service for
Prometheus"; its custom-DCE instructions for the URL): `<DCE metrics ingestion endpoint>/
dataCollectionRules/<DCR immutable ID>/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=
2023-04-24`, authenticated with `azureAd.workloadIdentity {clientId, tenantId}` (prometheus-operator
v0.93 `AzureWorkloadIdentity`, which needs Prometheus >= 3.7.0; Azure documents it for Prometheus
Operator with the pod label `azure.workload.identity/use: "true"`). The rule shape (a
`prometheusForwarder` source, a `monitoringAccounts` destination, a flow between them) is the one
Azure's managed Prometheus templates use. The identity's token exchange goes to Entra ID
(`login.microsoftonline.com`), which has no private endpoint: the stack lets the Prometheus out for
that host alone, as it does the Azure weights import.

Rule groups (`Microsoft.AlertsManagement/prometheusRuleGroups` 2023-03-01, Azure Monitor "Rule groups
in Azure Monitor managed service for Prometheus"): `for` and the interval are ISO 8601 durations,
severity 0-4, `clusterName` must equal the `cluster` label of the series. Remote-written series
carry only the labels the forwarding Prometheus gives them, and each cluster has a workspace of its
own, so the groups name no cluster unless one is given (then the forwarding Prometheus must set
that `cluster` external label).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
from pulumi_azure_native import alertsmanagement as azure_alertsmanagement
from pulumi_azure_native import authorization as azure_authorization
from pulumi_azure_native import managedidentity as azure_managedidentity
from pulumi_azure_native import monitor as azure_monitor

from triplane.components.naming import physical_name
from triplane.components.network.azure_private_link import (
    EndpointSubnet,
    PrivateDnsZone,
    linked_zone,
    private_endpoint_with_zones,
)
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.observability.forwarding import PROMETHEUS_SERVICE_ACCOUNT, PrometheusForwarding
from triplane.components.self_managed.addons import MONITORING_NAMESPACE
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

# --- the VNet's private link scope ----------------------------------------------------------------

AZURE_MONITOR_GROUP = "azuremonitor"
"""The private endpoint's target sub-resource on an Azure Monitor private link scope."""
AZURE_MONITOR_ZONES: tuple[PrivateDnsZone, ...] = (
    PrivateDnsZone("privatelink.monitor.azure.com", "monitor"),
    PrivateDnsZone("privatelink.oms.opinsights.azure.com", "oms"),
    PrivateDnsZone("privatelink.ods.opinsights.azure.com", "ods"),
    PrivateDnsZone("privatelink.agentsvc.azure-automation.net", "agentsvc"),
)
"""The zones Azure lists for the `azuremonitor` group, in its order, but its fifth,
`privatelink.blob.core.windows.net`: that one holds only the storage account Azure Monitor Agent
fetches its solution packs from, which nothing here runs, and a VNet has one zone of a name, which
an Azure Blob weights import's private endpoint makes for its storage account."""
INGESTION_ACCESS = "PrivateOnly"
QUERY_ACCESS = "Open"
PROMETHEUS_QUERY_GROUP = "prometheusMetrics"
"""A private endpoint's target sub-resource on an Azure Monitor workspace: its PromQL query endpoint."""


def prometheus_query_zone(location: str) -> PrivateDnsZone:
    """The zone an Azure Monitor workspace's query endpoint resolves privately in, one per region
    ("Use private endpoints for Managed Prometheus and Azure Monitor workspace", Azure Monitor docs)."""
    return PrivateDnsZone(f"privatelink.{location}.prometheus.monitor.azure.com", "prometheus")


@dataclass(frozen=True)
class PrometheusQueryPath:
    """Where a workspace's private query endpoint goes: the VNet's endpoint subnet, and the query zone
    the VNet links, which each workspace's endpoint writes its record into."""

    subnet: EndpointSubnet
    zone: PrivateDnsZone
    zone_id: pulumi.Input[str]


@dataclass(frozen=True)
class AzureMonitorScopeRef:
    """An Azure Monitor private link scope that data collection endpoints join: the one
    `AzureMonitorPrivateLink` makes, or the one an existing network's DNS already answers for."""

    resource_group_name: pulumi.Input[str]
    scope_name: pulumi.Input[str]
    ready: Sequence[pulumi.Resource] = ()
    """What must exist before the VNet resolves Azure Monitor privately (the endpoint's zone group)."""
    query: PrometheusQueryPath | None = None
    """The VNet's path to the workspaces' PromQL query endpoints (public query access is off); None:
    the network's own DNS and endpoints serve the queries."""


@dataclass(frozen=True)
class AzureMonitorPrivateLinkArgs:
    prefix: str
    """Names the scope (`<prefix>-monitor-scope`) and the endpoint."""
    network: AzureNetworkRef
    """The VNet: its resource group holds the scope and zones, its endpoint subnet the endpoint; its
    region names the workspaces' query zone."""
    existing_zone_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Zones of `AZURE_MONITOR_ZONES` the VNet already links (zone name -> resource ID), e.g. a
    `privatelink.blob.core.windows.net` another endpoint made: the records go there instead."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureMonitorPrivateLink(pulumi.ComponentResource):
    """The VNet's one Azure Monitor private link scope, its private endpoint and DNS zones, and the zone
    its Azure Monitor workspaces' private query endpoints answer in."""

    scope_id: pulumi.Output[str]
    ref: AzureMonitorScopeRef
    """For `AzureManagedPrometheusArgs.scope`; `ready` is the endpoint's zone group."""

    def __init__(
        self, name: str, args: AzureMonitorPrivateLinkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("triplane:observability:AzureMonitorPrivateLink", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        network = args.network
        scope_name = physical_name(args.prefix, "monitor-scope")
        scope = azure_monitor.PrivateLinkScope(
            f"{name}-scope",
            scope_name=scope_name,
            resource_group_name=network.resource_group_name,
            location="global",
            access_mode_settings={"ingestion_access_mode": INGESTION_ACCESS, "query_access_mode": QUERY_ACCESS},
            opts=child,
        )
        where = EndpointSubnet(
            network.resource_group_name, network.location, network.vnet_id, network.endpoint_subnet_id
        )
        zone_group = private_endpoint_with_zones(
            f"{name}-monitor",
            args.prefix,
            AZURE_MONITOR_GROUP,
            AZURE_MONITOR_ZONES,
            scope.id,
            where,
            {},
            child,
            existing_zone_ids=args.existing_zone_ids,
        )
        query_zone = prometheus_query_zone(network.location)
        zone, _ = linked_zone(
            f"{name}-{query_zone.stem}",
            query_zone.zone,
            physical_name(args.prefix, f"{query_zone.stem}-link"),
            where,
            {},
            child,
        )
        self.scope_id = scope.id
        self.ref = AzureMonitorScopeRef(
            resource_group_name=network.resource_group_name,
            scope_name=scope.id.apply(lambda _: scope_name),
            ready=(zone_group,),
            query=PrometheusQueryPath(where, query_zone, zone.id),
        )
        self.register_outputs({"scope_id": scope.id})


# --- per cluster: workspace, ingestion, forwarder identity -----------------------------------------

PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
INGESTION_API_VERSION = "2023-04-24"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
ENTRA_TOKEN_AUDIENCE = "api://AzureADTokenExchange"
AZURE_CLOUD = "AzurePublic"
WORKSPACE_DESTINATION = "workspace"
"""The rule's name for its one destination, which its flow names."""
FEDERATED_CREDENTIAL = "prometheus-remote-write"


def remote_write_url(metrics_endpoint: str, rule_immutable_id: str) -> str:
    """Where a Prometheus remote-writes into the workspace through the endpoint, under the rule."""
    return (
        f"{metrics_endpoint.rstrip('/')}/dataCollectionRules/{rule_immutable_id}"
        f"/streams/{PROMETHEUS_STREAM}/api/v1/write?api-version={INGESTION_API_VERSION}"
    )


def forwarder_subject() -> str:
    """The service account token the forwarder's identity trusts: Triplane's Prometheus's."""
    return f"system:serviceaccount:{MONITORING_NAMESPACE}:{PROMETHEUS_SERVICE_ACCOUNT}"


def _assignment_name(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "triplane/" + "/".join(parts)))


def _metrics_endpoint(ingestion: Any) -> str:
    """The `endpoint` of a data collection endpoint's `metricsIngestion`."""
    endpoint = getattr(ingestion, "endpoint", None) if ingestion is not None else None
    if endpoint is None and isinstance(ingestion, Mapping):
        endpoint = ingestion.get("endpoint")
    if not endpoint:
        raise ValueError("the data collection endpoint reports no metrics ingestion endpoint")
    return str(endpoint)


@dataclass(frozen=True)
class AzureManagedPrometheusArgs:
    prefix: str
    """Names every resource (`<prefix>-prometheus`, ...): give each cluster its own (`<stack>-<cluster>`)."""
    resource_group_name: pulumi.Input[str]
    location: str
    """The cluster's region: the workspace, endpoint and rule live there."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's service account issuer (`AksCluster.oidc_issuer_url`)."""
    scope: AzureMonitorScopeRef
    """The VNet's private link scope (`AzureMonitorPrivateLink.ref`, one per VNet's DNS): the endpoint
    joins it, the forwarder waits for its DNS."""
    log_workspace_id: pulumi.Input[str] | None = None
    """A Log Analytics workspace (the cluster's, `AksCluster.workspace_id`) receiving the rule's errors
    and metrics and the workspace's usage details; None: no diagnostic settings."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    """Protect the workspace (the metrics it keeps) from deletion."""


class AzureManagedPrometheus(pulumi.ComponentResource):
    """One cluster's managed Prometheus, its private ingestion and its write-only forwarder identity."""

    workspace_id: pulumi.Output[str]
    forwarding: PrometheusForwarding
    """For `ClusterAddonsArgs.forwarding`: the remote write, the service account's identity, the pod label."""

    def __init__(self, name: str, args: AzureManagedPrometheusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AzureManagedPrometheus", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        group, location = args.resource_group_name, args.location
        base = physical_name(args.prefix, "prometheus", kind="azure_monitor")
        workspace = azure_monitor.AzureMonitorWorkspace(
            f"{name}-workspace",
            azure_monitor_workspace_name=base,
            resource_group_name=group,
            location=location,
            public_network_access="Disabled",
            opts=stateful_opts(self, args.protect_data),
        )
        endpoint = azure_monitor.DataCollectionEndpoint(
            f"{name}-dce",
            data_collection_endpoint_name=base,
            resource_group_name=group,
            location=location,
            kind="Linux",
            description="Private ingestion of the cluster's Prometheus samples",
            network_acls={"public_network_access": "Disabled"},
            opts=child,
        )
        rule = azure_monitor.DataCollectionRule(
            f"{name}-dcr",
            data_collection_rule_name=base,
            resource_group_name=group,
            location=location,
            kind="Linux",
            description="The cluster's Prometheus samples, remote-written, to its Azure Monitor workspace",
            data_collection_endpoint_id=endpoint.id,
            data_sources={"prometheus_forwarder": [{"name": "prometheus", "streams": [PROMETHEUS_STREAM]}]},
            destinations={
                "monitoring_accounts": [{"name": WORKSPACE_DESTINATION, "account_resource_id": workspace.id}]
            },
            data_flows=[{"streams": [PROMETHEUS_STREAM], "destinations": [WORKSPACE_DESTINATION]}],
            opts=child,
        )
        scope = args.scope
        scoped = azure_monitor.PrivateLinkScopedResource(
            f"{name}-dce-scoped",
            resource_group_name=scope.resource_group_name,
            scope_name=scope.scope_name,
            name=physical_name(args.prefix, "prometheus-dce"),
            kind="Resource",
            linked_resource_id=endpoint.id,
            opts=child,
        )
        identity_name = physical_name(args.prefix, "prometheus")
        identity = azure_managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=identity_name,
            resource_group_name=group,
            location=location,
            opts=child,
        )
        credential = azure_managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            resource_group_name=group,
            resource_name_=identity.id.apply(lambda _: identity_name),
            federated_identity_credential_resource_name=FEDERATED_CREDENTIAL,
            issuer=args.oidc_issuer_url,
            subject=forwarder_subject(),
            audiences=[ENTRA_TOKEN_AUDIENCE],
            opts=child,
        )
        publisher = azure_authorization.RoleAssignment(
            f"{name}-publisher",
            scope=rule.id,
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=rule.id.apply(
                lambda rule_id: f"/subscriptions/{rule_id.split('/')[2]}/providers/Microsoft.Authorization"
                f"/roleDefinitions/{MONITORING_METRICS_PUBLISHER}"
            ),
            role_assignment_name=_assignment_name(name, "metrics-publisher"),
            description="Triplane's Prometheus: remote-writes the cluster's samples through this rule only",
            opts=child,
        )
        if args.log_workspace_id is not None:
            # Resource logs (Azure Monitor supported logs): the rule's `Log Errors`, the workspace's
            # `Metrics Usage Details`; data collection endpoints have none.
            for target, resource_id, metrics in (("dcr", rule.id, True), ("workspace", workspace.id, False)):
                azure_monitor.DiagnosticSetting(
                    f"{name}-{target}-diagnostics",
                    name="triplane-logs",
                    resource_uri=resource_id,
                    workspace_id=args.log_workspace_id,
                    logs=[{"category_group": "allLogs", "enabled": True}],
                    metrics=[{"category": "AllMetrics", "enabled": True}] if metrics else None,
                    opts=child,
                )
        if scope.query is not None:
            # Public query access is off: the workbook's PromQL reaches the workspace through the VNet.
            private_endpoint_with_zones(
                f"{name}-query",
                args.prefix,
                PROMETHEUS_QUERY_GROUP,
                [scope.query.zone],
                workspace.id,
                scope.query.subnet,
                {},
                child,
                existing_zone_ids={scope.query.zone.zone: scope.query.zone_id},
            )
        url = pulumi.Output.all(endpoint.metrics_ingestion, rule.immutable_id).apply(
            lambda values: remote_write_url(_metrics_endpoint(values[0]), str(values[1]))
        )
        self.workspace_id = workspace.id
        self.forwarding = PrometheusForwarding(
            remote_write=[
                {
                    "url": url,
                    "azureAd": {
                        "cloud": AZURE_CLOUD,
                        "workloadIdentity": {"clientId": identity.client_id, "tenantId": identity.tenant_id},
                    },
                }
            ],
            service_account_annotations={"azure.workload.identity/client-id": identity.client_id},
            pod_labels={"azure.workload.identity/use": "true"},
            depends_on=[publisher, credential, scoped, *scope.ready],
        )
        self.register_outputs({"workspace_id": workspace.id, "remote_write_url": url})


# --- rule groups -----------------------------------------------------------------------------------

SEVERITIES: Mapping[str, int] = {"critical": 1, "warning": 2, "info": 3}
"""A rule's `severity` label as Azure's alert severity (0 Critical .. 4 Verbose): the same numbers the
Azure OpenAI metric alerts of the same kinds carry (`azure.CRITERIA`), so a failing model pages alike
whatever serves it."""
INTERVAL = "PT1M"
TIME_TO_RESOLVE = "PT10M"
"""How long a condition must stay false before its alert resolves: a 5-minute rate dipping under its
threshold for one evaluation does not resolve and re-fire."""
_DURATION_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_UNIT_SECONDS = {"y": 365 * 86_400, "w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60, "s": 1}


def iso_duration(duration: str) -> str:
    """A Prometheus duration (`5m`, `1h30m`, `1d`) as ISO 8601 (`PT5M`, `PT1H30M`, `P1D`)."""
    parts = _DURATION_PART.findall(duration)
    if not duration or "".join(n + u for n, u in parts) != duration or any(u == "ms" for _, u in parts):
        raise ValueError(f"{duration!r} is not a Prometheus duration in whole seconds (e.g. 5m, 1h30m)")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    date = f"{days}D" if days else ""
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    if not date and not time:
        return "PT0S"
    return f"P{date}" + (f"T{time}" if time else "")


def rule_group_rules(body: Mapping[str, Any], action_group_id: pulumi.Input[str]) -> list[dict[str, Any]]:
    """The rules of one PrometheusRule (`prometheus.rules`) as a Prometheus rule group's, in the SDK's
    names: the same alert, expression, `for`, labels and annotations, Azure's severity, acting on
    `action_group_id` and resolving on their own."""
    name = (body.get("metadata") or {}).get("name", "?")
    converted: list[dict[str, Any]] = []
    for group in (body.get("spec") or {}).get("groups") or []:
        for each in group.get("rules") or []:
            if "expr" not in each or not ("alert" in each or "record" in each):
                raise ValueError(f"PrometheusRule {name}: every rule needs `expr` and `alert` (or `record`)")
            labels = dict(each.get("labels") or {})
            if "record" in each:
                converted.append({"record": each["record"], "expression": each["expr"], "labels": labels})
                continue
            severity = str(labels.get("severity", ""))
            if severity not in SEVERITIES:
                raise ValueError(
                    f"PrometheusRule {name}, alert {each['alert']}: severity label {severity!r} is not one of "
                    f"{', '.join(SEVERITIES)}"
                )
            rule: dict[str, Any] = {
                "alert": each["alert"],
                "expression": each["expr"],
                "severity": SEVERITIES[severity],
                "labels": labels,
                "annotations": dict(each.get("annotations") or {}),
                "enabled": True,
                "actions": [{"action_group_id": action_group_id}],
                "resolve_configuration": {"auto_resolved": True, "time_to_resolve": TIME_TO_RESOLVE},
            }
            if each.get("for"):
                rule["for_"] = iso_duration(str(each["for"]))
            converted.append(rule)
    if not converted:
        raise ValueError(f"PrometheusRule {name}: no rules to evaluate")
    return converted


OWNER_LABELS = ("use-case", "pattern", "data-classification")
"""The owner tags (`alerts.owner_tags`) a PrometheusRule carries as `triplane.io/` labels."""


def rule_group_tags(body: Mapping[str, Any]) -> dict[str, str]:
    """A rule group's own tags: whose alerts it holds, read back from its PrometheusRule's labels."""
    labels = (body.get("metadata") or {}).get("labels") or {}
    return {key: str(labels[f"triplane.io/{key}"]) for key in OWNER_LABELS if f"triplane.io/{key}" in labels}


@dataclass(frozen=True)
class AzurePrometheusRulesArgs:
    prefix: str
    """Rule groups are `<prefix>-<PrometheusRule name>` (one per use case)."""
    workspace_id: pulumi.Input[str]
    """The cluster's workspace (`AzureManagedPrometheus.workspace_id`): the groups' one scope."""
    resource_group_name: pulumi.Input[str]
    location: str
    """The workspace's region."""
    action_group_id: pulumi.Input[str]
    """The environment's channel (`AzureAlertChannel.action_group_id`)."""
    rules: Sequence[Mapping[str, Any]]
    """What `prometheus.rules(...)` rendered for the cluster's use cases."""
    cluster_name: str | None = None
    """The `cluster` label of the series, when the forwarding Prometheus sets one (external label);
    None: the workspace holds one cluster's series, all of which the groups evaluate."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AzurePrometheusRules(pulumi.ComponentResource):
    """The cluster's alerting rules as Prometheus rule groups on its workspace, acting on the channel."""

    rule_group_ids: pulumi.Output[dict[str, str]]
    """By PrometheusRule name."""

    def __init__(self, name: str, args: AzurePrometheusRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AzurePrometheusRules", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        groups: dict[str, pulumi.Output[str]] = {}
        for body in args.rules:
            rule_name = body["metadata"]["name"]
            if rule_name in groups:
                raise ValueError(f"PrometheusRule {rule_name} is given twice; give each use case its own")
            use_case = rule_group_tags(body).get("use-case", rule_name)
            converted = rule_group_rules(body, args.action_group_id)  # in the SDK's (TypedDict) names
            groups[rule_name] = azure_alertsmanagement.PrometheusRuleGroup(
                f"{name}-{rule_name}",
                rule_group_name=physical_name(args.prefix, rule_name),
                resource_group_name=args.resource_group_name,
                location=args.location,
                description=f"Triplane alerts of use case {use_case}",
                scopes=[args.workspace_id],
                cluster_name=args.cluster_name,
                interval=INTERVAL,
                enabled=True,
                rules=cast(list[azure_alertsmanagement.PrometheusRuleArgsDict], converted),
                tags=rule_group_tags(body),
                opts=child,
            ).id
        self.rule_group_ids = pulumi.Output.all(**groups) if groups else pulumi.Output.from_input(dict[str, str]())
        self.register_outputs({"rule_group_ids": self.rule_group_ids})


__all__ = [
    "AZURE_MONITOR_GROUP",
    "AZURE_MONITOR_ZONES",
    "MONITORING_METRICS_PUBLISHER",
    "SEVERITIES",
    "AzureManagedPrometheus",
    "AzureManagedPrometheusArgs",
    "AzureMonitorPrivateLink",
    "AzureMonitorPrivateLinkArgs",
    "AzureMonitorScopeRef",
    "AzurePrometheusRules",
    "AzurePrometheusRulesArgs",
    "forwarder_subject",
    "iso_duration",
    "remote_write_url",
    "rule_group_rules",
    "rule_group_tags",
]
