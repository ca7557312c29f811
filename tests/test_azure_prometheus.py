"""Azure Monitor managed Prometheus for an AKS cluster: the workspace, endpoint and rule take no public
traffic, the rule sends the Prometheus stream to the cluster's workspace, the endpoint is in the VNet's
private link scope whose endpoint writes every zone Azure lists, the forwarder's identity trusts only
Triplane's Prometheus service account and may only publish to that rule, the remote write goes to the
endpoint under the rule; and the rule groups evaluate exactly the PrometheusRules' alerts on the
workspace, acting on the channel."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi_azure_native import authorization as azure_authorization
from pulumi_azure_native import managedidentity as azure_managedidentity
from pulumi_azure_native import monitor as azure_monitor
from pulumi_azure_native import network as azure_network

from triplane.components.network.refs import AzureNetworkRef
from triplane.components.observability.alerts import Alert, GatewayRoute, ModelServer, MonitoredUseCase
from triplane.components.observability.azure import CRITERIA
from triplane.components.observability.azure_prometheus import (
    AZURE_MONITOR_ZONES,
    MONITORING_METRICS_PUBLISHER,
    SEVERITIES,
    AzureManagedPrometheus,
    AzureManagedPrometheusArgs,
    AzureMonitorPrivateLink,
    AzureMonitorPrivateLinkArgs,
    AzureMonitorScopeRef,
    AzurePrometheusRules,
    AzurePrometheusRulesArgs,
    iso_duration,
    remote_write_url,
    rule_group_rules,
)
from triplane.components.observability.prometheus import rule, rules
from triplane.plan import Plan, PlannedResource, run_program
from triplane.stacks.clouds.azure import SUBSCRIPTION_ID, TENANT_ID

ISSUER = "https://westeurope.oic.prod-aks.azure.com/11111111-1111-1111-1111-111111111111/abcd/"
VNET = "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet"
ENDPOINT_SUBNET = f"{VNET}/subnets/endpoints"
NETWORK = AzureNetworkRef(
    location="westeurope",
    resource_group_name="rg-net",
    vnet_id=VNET,
    vnet_name="vnet",
    app_subnet_id=f"{VNET}/subnets/app",
    endpoint_subnet_id=ENDPOINT_SUBNET,
    application_cidrs=["10.0.0.0/16"],
)
LOGS = "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.OperationalInsights/workspaces/gpu-logs"
CHANNEL = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/actionGroups/prod-alerts"

VLLM = ModelServer(cluster="gpu", namespace="llm-chat", app="chat-vllm", engine="vllm")
ROUTE = GatewayRoute(cluster="gpu", model="summarise")
CHAT = MonitoredUseCase(
    "chat",
    "self-managed",
    "confidential",
    VLLM,
    (
        Alert("chat", "error-rate", 3.5, "spec"),
        Alert("chat", "latency", 42.5, "spec"),
        Alert("chat", "queue", 6, "spec"),
        Alert("chat", "no-ready-replicas", 0, "spec"),
    ),
)
SUMMARISE = MonitoredUseCase(
    "summarise", "saas", "internal", ROUTE, (Alert("summarise", "throttling", 17, "spec"),)
)
BODIES = rules([CHAT, SUMMARISE])

WORKSPACE = "azure-native:monitor:AzureMonitorWorkspace"
DCE = "azure-native:monitor:DataCollectionEndpoint"
DCR = "azure-native:monitor:DataCollectionRule"
SCOPE = "azure-native:monitor:PrivateLinkScope"
SCOPED = "azure-native:monitor:PrivateLinkScopedResource"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE = "azure-native:privatedns:PrivateZone"
ZONE_LINK = "azure-native:privatedns:VirtualNetworkLink"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE = "azure-native:authorization:RoleAssignment"
RULE_GROUP = "azure-native:alertsmanagement:PrometheusRuleGroup"
DIAGNOSTICS = "azure-native:monitor:DiagnosticSetting"


# --- pure functions --------------------------------------------------------------------------------


def test_the_remote_write_url_is_the_endpoint_the_rule_and_the_prometheus_stream() -> None:
    url = remote_write_url("https://p-prometheus-ab12.westeurope-1.metrics.ingest.monitor.azure.com/", "dcr-0123abcd")
    assert url == (
        "https://p-prometheus-ab12.westeurope-1.metrics.ingest.monitor.azure.com/dataCollectionRules/dcr-0123abcd"
        "/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24"
    )


@pytest.mark.parametrize(
    ("duration", "iso"),
    [("5m", "PT5M"), ("15m", "PT15M"), ("1h", "PT1H"), ("1h30m", "PT1H30M"), ("90s", "PT1M30S"),
     ("1d", "P1D"), ("1d2h", "P1DT2H"), ("1w", "P7D"), ("0s", "PT0S")],
)  # fmt: skip
def test_prometheus_durations_become_iso_8601(duration: str, iso: str) -> None:
    assert iso_duration(duration) == iso


@pytest.mark.parametrize("duration", ["", "5", "m", "100ms", "5 m", "PT5M"])
def test_what_is_not_a_whole_second_prometheus_duration_is_refused(duration: str) -> None:
    with pytest.raises(ValueError, match="is not a Prometheus duration"):
        iso_duration(duration)


def test_each_alert_keeps_its_expression_for_labels_and_summary() -> None:
    [chat_body, _] = BODIES
    converted = rule_group_rules(chat_body, CHANNEL)
    assert [r["alert"] for r in converted] == [
        "TriplaneErrorRate", "TriplaneLatency", "TriplaneQueue", "TriplaneNoReadyReplicas"
    ]  # fmt: skip
    for alert, got in zip(CHAT.alerts, converted, strict=True):
        source = rule(alert, VLLM)
        assert got["expression"] == source["expr"]
        assert got["labels"] == source["labels"] and got["labels"]["use_case"] == "chat"
        assert got["annotations"] == {"summary": alert.summary}
        assert got["actions"] == [{"action_group_id": CHANNEL}]
        assert got["resolve_configuration"] == {"auto_resolved": True, "time_to_resolve": "PT10M"}
        assert got["enabled"] is True
    by_alert = {r["alert"]: r for r in converted}
    # The spec's thresholds reach the expressions.
    assert by_alert["TriplaneErrorRate"]["expression"].endswith("> 3.5")
    assert by_alert["TriplaneLatency"]["expression"].endswith("> 42.5")
    assert by_alert["TriplaneQueue"]["expression"].endswith("> 6")
    # Held conditions wait their window (queue 10 minutes, no replica 5); rates and latencies fire at once.
    assert by_alert["TriplaneQueue"]["for_"] == "PT10M" and by_alert["TriplaneNoReadyReplicas"]["for_"] == "PT5M"
    assert "for_" not in by_alert["TriplaneErrorRate"] and "for_" not in by_alert["TriplaneLatency"]
    # critical pages (Sev1), warning (Sev2).
    assert (by_alert["TriplaneErrorRate"]["severity"], by_alert["TriplaneNoReadyReplicas"]["severity"]) == (1, 1)
    assert (by_alert["TriplaneLatency"]["severity"], by_alert["TriplaneQueue"]["severity"]) == (2, 2)


def test_severities_match_the_azure_openai_alerts_of_the_same_kinds() -> None:
    assert SEVERITIES["critical"] == CRITERIA["error-rate"].severity == 1
    assert SEVERITIES["warning"] == CRITERIA["throttling"].severity == CRITERIA["latency"].severity == 2


def test_a_rule_with_an_unknown_severity_is_refused() -> None:
    body = {
        "metadata": {"name": "triplane-x"},
        "spec": {
            "groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "labels": {"severity": "page"}}]}]
        },
    }
    with pytest.raises(ValueError, match=r"triplane-x, alert A: severity label 'page' is not one of critical"):
        rule_group_rules(body, CHANNEL)


def test_a_rule_without_an_expression_is_refused() -> None:
    body = {"metadata": {"name": "triplane-x"}, "spec": {"groups": [{"name": "g", "rules": [{"alert": "A"}]}]}}
    with pytest.raises(ValueError, match="triplane-x: every rule needs `expr`"):
        rule_group_rules(body, CHANNEL)


# --- the components under mocks --------------------------------------------------------------------

BUILT: dict[str, Any] = {}


def program(*, existing_zone_ids: dict[str, str] | None = None, cluster_name: str | None = None) -> None:
    link = AzureMonitorPrivateLink(
        "t-amon",
        AzureMonitorPrivateLinkArgs(
            prefix="prod", network=NETWORK, existing_zone_ids=existing_zone_ids or {}, tags={"environment": "prod"}
        ),
    )
    managed = AzureManagedPrometheus(
        "t-gpu-prom",
        AzureManagedPrometheusArgs(
            prefix="prod-gpu",
            resource_group_name="rg-net",
            location="westeurope",
            oidc_issuer_url=ISSUER,
            scope=link.ref,
            log_workspace_id=LOGS,
            tags={"environment": "prod"},
        ),
    )
    AzurePrometheusRules(
        "t-gpu-rules",
        AzurePrometheusRulesArgs(
            prefix="prod-gpu",
            workspace_id=managed.workspace_id,
            resource_group_name="rg-net",
            location="westeurope",
            action_group_id=CHANNEL,
            rules=BODIES,
            cluster_name=cluster_name,
            tags={"environment": "prod"},
        ),
    )
    BUILT["forwarding"] = managed.forwarding
    pulumi.export("remote_write", managed.forwarding.remote_write)
    pulumi.export("annotations", managed.forwarding.service_account_annotations)
    pulumi.export("workspace_id", managed.workspace_id)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(program, stack="ts")


def of_type(plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type == type_]


def test_workspace_endpoint_and_rule_take_no_public_traffic(plan: Plan) -> None:
    [workspace] = of_type(plan, WORKSPACE)
    assert workspace.inputs["publicNetworkAccess"] == "Disabled"
    assert (workspace.inputs["azureMonitorWorkspaceName"], workspace.inputs["location"]) == (
        "prod-gpu-prometheus", "westeurope"
    )  # fmt: skip
    [endpoint] = of_type(plan, DCE)
    assert endpoint.inputs["networkAcls"] == {"publicNetworkAccess": "Disabled"}
    assert endpoint.inputs["location"] == "westeurope"
    assert workspace.inputs["tags"]["environment"] == endpoint.inputs["tags"]["environment"] == "prod"


def test_the_rule_sends_the_prometheus_stream_through_the_endpoint_to_the_workspace(plan: Plan) -> None:
    [rule_] = of_type(plan, DCR)
    workspace = plan.outputs["workspace_id"]
    assert workspace.endswith("/azureMonitorWorkspaces/prod-gpu-prometheus")
    assert rule_.inputs["destinations"] == {
        "monitoringAccounts": [{"name": "workspace", "accountResourceId": workspace}]
    }
    assert rule_.inputs["dataFlows"] == [{"streams": ["Microsoft-PrometheusMetrics"], "destinations": ["workspace"]}]
    assert rule_.inputs["dataSources"] == {
        "prometheusForwarder": [{"name": "prometheus", "streams": ["Microsoft-PrometheusMetrics"]}]
    }
    assert rule_.inputs["dataCollectionEndpointId"].endswith("/dataCollectionEndpoints/prod-gpu-prometheus")


def test_the_scope_takes_private_ingestion_only_and_holds_the_endpoint(plan: Plan) -> None:
    [scope] = of_type(plan, SCOPE)
    assert scope.inputs["accessModeSettings"] == {"ingestionAccessMode": "PrivateOnly", "queryAccessMode": "Open"}
    assert (scope.inputs["location"], scope.inputs["scopeName"]) == ("global", "prod-monitor-scope")
    [scoped] = of_type(plan, SCOPED)
    [endpoint] = of_type(plan, DCE)
    assert scoped.inputs["linkedResourceId"].endswith("/dataCollectionEndpoints/prod-gpu-prometheus")
    assert endpoint.urn in scoped.dependencies
    assert (scoped.inputs["scopeName"], scoped.inputs["resourceGroupName"]) == ("prod-monitor-scope", "rg-net")
    assert scoped.inputs["kind"] == "Resource"


QUERY_ZONE = "privatelink.westeurope.prometheus.monitor.azure.com"


def endpoint_to(plan: Plan, group_id: str) -> PlannedResource:
    connects = [e.inputs["privateLinkServiceConnections"][0]["groupIds"] for e in of_type(plan, ENDPOINT)]
    [found] = [e for e, groups in zip(of_type(plan, ENDPOINT), connects, strict=True) if groups == [group_id]]
    return found


def test_the_private_endpoint_connects_the_scope_and_writes_every_azure_monitor_zone(plan: Plan) -> None:
    endpoint = endpoint_to(plan, "azuremonitor")
    [connection] = endpoint.inputs["privateLinkServiceConnections"]
    assert connection["privateLinkServiceId"].endswith("/privateLinkScopes/prod-monitor-scope")
    assert endpoint.inputs["subnet"] == {"id": ENDPOINT_SUBNET}
    zones = {z.inputs["privateZoneName"]: z for z in of_type(plan, ZONE)}
    assert set(zones) == {
        "privatelink.monitor.azure.com",
        "privatelink.oms.opinsights.azure.com",
        "privatelink.ods.opinsights.azure.com",
        "privatelink.agentsvc.azure-automation.net",
        QUERY_ZONE,
    } == {z.zone for z in AZURE_MONITOR_ZONES} | {QUERY_ZONE}  # not the blob zone: a weights import's
    for link in of_type(plan, ZONE_LINK):
        assert link.inputs["virtualNetwork"] == {"id": VNET} and link.inputs["registrationEnabled"] is False
    assert {link.inputs["privateZoneName"] for link in of_type(plan, ZONE_LINK)} == set(zones)
    [group] = [g for g in of_type(plan, ZONE_GROUP) if g.inputs["privateDnsZoneGroupName"] == "azuremonitor"]
    configs = group.inputs["privateDnsZoneConfigs"]
    assert {c["privateDnsZoneId"].rsplit("/", 1)[-1] for c in configs} == set(zones) - {QUERY_ZONE}
    assert len({c["name"] for c in configs}) == 4
    monitor_links = [link for link in of_type(plan, ZONE_LINK) if link.inputs["privateZoneName"] != QUERY_ZONE]
    assert {link.urn for link in monitor_links} <= set(group.dependencies)


def test_the_workspace_answers_queries_only_through_its_private_endpoint_in_the_vnets_query_zone(plan: Plan) -> None:
    [workspace] = of_type(plan, "azure-native:monitor:AzureMonitorWorkspace")
    assert workspace.inputs["publicNetworkAccess"] == "Disabled"
    endpoint = endpoint_to(plan, "prometheusMetrics")
    [connection] = endpoint.inputs["privateLinkServiceConnections"]
    assert "/providers/Microsoft.Monitor/" in connection["privateLinkServiceId"]
    assert connection["privateLinkServiceId"].endswith("/prod-gpu-prometheus")  # the workspace
    assert endpoint.inputs["subnet"] == {"id": ENDPOINT_SUBNET}
    [group] = [g for g in of_type(plan, ZONE_GROUP) if g.inputs["privateDnsZoneGroupName"] == "prometheusMetrics"]
    [config] = group.inputs["privateDnsZoneConfigs"]
    # The VNet's one query zone (made by its private link, shared by every cluster's workspace).
    [zone] = [z for z in of_type(plan, ZONE) if z.inputs["privateZoneName"] == QUERY_ZONE]
    assert zone.parent == plan.one("triplane:observability:AzureMonitorPrivateLink", "t-amon").urn
    assert config["privateDnsZoneId"].rsplit("/", 1)[-1] == QUERY_ZONE


def test_a_zone_the_vnet_already_links_gets_the_records_instead_of_a_second_zone() -> None:
    ods = "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/privateDnsZones/" + (
        "privatelink.ods.opinsights.azure.com"
    )
    plan = run_program(lambda: program(existing_zone_ids={"privatelink.ods.opinsights.azure.com": ods}), stack="ts")
    names = {z.inputs["privateZoneName"] for z in of_type(plan, ZONE)}
    assert "privatelink.ods.opinsights.azure.com" not in names and len(names) == 3 + 1  # and the query zone
    [group] = [g for g in of_type(plan, ZONE_GROUP) if g.inputs["privateDnsZoneGroupName"] == "azuremonitor"]
    assert ods in [c["privateDnsZoneId"] for c in group.inputs["privateDnsZoneConfigs"]]


def test_a_zone_azure_monitor_does_not_use_is_refused() -> None:
    with pytest.raises(Exception, match=r"existing zones \['privatelink.vaultcore.azure.net'\] are not zones"):
        run_program(lambda: program(existing_zone_ids={"privatelink.vaultcore.azure.net": "z"}), stack="ts")


def test_the_identity_trusts_only_the_prometheus_service_account_of_this_cluster(plan: Plan) -> None:
    [identity] = of_type(plan, IDENTITY)
    [credential] = of_type(plan, CREDENTIAL)
    assert credential.inputs["issuer"] == ISSUER
    assert credential.inputs["subject"] == "system:serviceaccount:monitoring:triplane-prometheus"
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert credential.inputs["resourceName"] == identity.inputs["resourceName"] == "prod-gpu-prometheus"


def test_the_identity_may_only_publish_metrics_to_the_rule(plan: Plan) -> None:
    [role] = of_type(plan, ROLE)
    [rule_] = of_type(plan, DCR)
    assert MONITORING_METRICS_PUBLISHER == "3913510d-42f4-4e42-8a64-420c390055eb"
    assert role.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        "3913510d-42f4-4e42-8a64-420c390055eb"
    )
    assert role.inputs["scope"].endswith("/dataCollectionRules/prod-gpu-prometheus")
    assert rule_.urn in role.dependencies
    assert role.inputs["principalType"] == "ServicePrincipal"


def test_the_forwarder_writes_through_the_endpoint_under_the_rule_as_its_workload_identity(plan: Plan) -> None:
    [write] = plan.outputs["remote_write"]
    endpoint = "https://prod-gpu-prometheus-"
    assert write["url"].startswith(endpoint) and ".westeurope-1.metrics.ingest.monitor.azure.com/" in write["url"]
    immutable = write["url"].split("/dataCollectionRules/")[1].split("/")[0]
    assert immutable.startswith("dcr-") and len(immutable) == 36  # the mock's immutable ID of the rule
    assert write["url"].endswith("/streams/Microsoft-PrometheusMetrics/api/v1/write?api-version=2023-04-24")
    client_id = plan.outputs["annotations"]["azure.workload.identity/client-id"]
    assert write["azureAd"] == {
        "cloud": "AzurePublic",
        "workloadIdentity": {"clientId": client_id, "tenantId": TENANT_ID},
    }
    forwarding = BUILT["forwarding"]
    assert forwarding.pod_labels == {"azure.workload.identity/use": "true"}
    kinds = {type(r) for r in forwarding.depends_on}
    assert kinds == {
        azure_authorization.RoleAssignment,
        azure_managedidentity.FederatedIdentityCredential,
        azure_monitor.PrivateLinkScopedResource,
        azure_network.PrivateDnsZoneGroup,
    }


def test_one_rule_group_per_use_case_on_the_workspace_acting_on_the_channel(plan: Plan) -> None:
    groups = {g.inputs["ruleGroupName"]: g for g in of_type(plan, RULE_GROUP)}
    assert set(groups) == {"prod-gpu-triplane-chat", "prod-gpu-triplane-summarise"}
    workspace = plan.outputs["workspace_id"]
    for group in groups.values():
        assert group.inputs["scopes"] == [workspace]
        assert (group.inputs["interval"], group.inputs["enabled"]) == ("PT1M", True)
        assert "clusterName" not in group.inputs  # one cluster per workspace: every series is this cluster's
        assert group.inputs["location"] == "westeurope"
        for each in group.inputs["rules"]:
            assert each["actions"] == [{"actionGroupId": CHANNEL}]
            assert each["resolveConfiguration"] == {"autoResolved": True, "timeToResolve": "PT10M"}
    chat = groups["prod-gpu-triplane-chat"]
    assert [r["expression"] for r in chat.inputs["rules"]] == [rule(a, VLLM)["expr"] for a in CHAT.alerts]
    queue = next(r for r in chat.inputs["rules"] if r["alert"] == "TriplaneQueue")
    assert (queue["for"], queue["severity"]) == ("PT10M", 2)
    assert chat.inputs["tags"] == {
        "environment": "prod", "use-case": "chat", "pattern": "self-managed", "data-classification": "confidential"
    }  # fmt: skip
    [throttling] = groups["prod-gpu-triplane-summarise"].inputs["rules"]
    assert throttling["expression"] == rule(SUMMARISE.alerts[0], ROUTE)["expr"]
    assert throttling["expression"].endswith("> 17") and throttling["severity"] == 2


def test_a_cluster_label_narrows_the_groups_to_that_cluster() -> None:
    plan = run_program(lambda: program(cluster_name="prod-gpu"), stack="ts")
    assert {g.inputs["clusterName"] for g in of_type(plan, RULE_GROUP)} == {"prod-gpu"}


def test_an_existing_networks_scope_is_joined_not_made_again() -> None:
    def existing() -> None:
        AzureManagedPrometheus(
            "t-gpu-prom",
            AzureManagedPrometheusArgs(
                prefix="prod-gpu",
                resource_group_name="rg-app",
                location="westeurope",
                oidc_issuer_url=ISSUER,
                scope=AzureMonitorScopeRef(resource_group_name="rg-hub", scope_name="hub-ampls"),
            ),
        )

    plan = run_program(existing, stack="ts")
    [scoped] = of_type(plan, SCOPED)
    assert (scoped.inputs["resourceGroupName"], scoped.inputs["scopeName"]) == ("rg-hub", "hub-ampls")
    assert of_type(plan, SCOPE) == [] and of_type(plan, ENDPOINT) == [] and of_type(plan, ZONE) == []


def test_the_rule_and_the_workspace_log_to_the_clusters_workspace(plan: Plan) -> None:
    settings = {d.inputs["resourceUri"].rsplit("/", 2)[-2]: d.inputs for d in of_type(plan, DIAGNOSTICS)}
    assert set(settings) == {"dataCollectionRules", "azureMonitorWorkspaces"}
    for each in settings.values():
        assert each["workspaceId"] == LOGS
        assert each["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert settings["dataCollectionRules"]["metrics"] == [{"category": "AllMetrics", "enabled": True}]
    assert "metrics" not in settings["azureMonitorWorkspaces"]
