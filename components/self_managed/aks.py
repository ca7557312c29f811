"""AksCluster: a private, network-isolated AKS cluster for GPU model serving.

Creates: a node subnet (the network layout's AKS block, after the network's last subnet, since
Azure rejects concurrent subnet writes; an existing network's app subnet otherwise); a
user-assigned control-plane identity with Network Contributor on that subnet; a Key Vault (RBAC,
purge protection, public access disabled) and key for KMS encryption of Kubernetes secrets over a
private link, with Key Vault Crypto User and Contributor for the identity (unless a key is given);
the cluster with a private API server (or authorized networks only), Entra ID with Azure RBAC and
local accounts disabled, Azure CNI overlay with Cilium (which enforces NetworkPolicy), no outbound
path of its own (`outboundType: none`, bootstrap artifacts from the cache: the environment's
registry when one is given, with a kubelet identity that may pull from it; `userDefinedRouting` would
make the cluster itself depend on the firewall and its allowlist on every AKS-required host, so the node
subnet shares the app subnet's route table instead, and only workloads with an allowlist entry get out
through the network's egress firewall), workload identity, image
cleaner, and an autoscaling system pool without public IPs; a Log Analytics workspace and the
diagnostic setting that sends control-plane logs (API server, admin audit, controller manager,
scheduler, autoscaler, Entra guard) there; and "Azure Kubernetes Service RBAC Cluster Admin" on the
cluster for the deployer, which the kubeconfig waits for (with local accounts disabled, Azure RBAC is the
only way into the Kubernetes API).

The vault and key with their grants, the kubelet identity with its grants, and the workspace with its
diagnostic setting are parts (`AksSecretsKey`, `AksKubeletIdentity`, `AksLogs`; `SubComponent`):
their resources keep the URNs they had as the cluster component's own.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import yaml
from pulumi_azure_native import authorization as azure_authorization
from pulumi_azure_native import containerservice as azure_containerservice
from pulumi_azure_native import keyvault as azure_keyvault
from pulumi_azure_native import managedidentity as azure_managedidentity
from pulumi_azure_native import monitor as azure_monitor
from pulumi_azure_native import network as azure_network
from pulumi_azure_native import operationalinsights as azure_operationalinsights

from triplane.components.keys import azure_key
from triplane.components.naming import physical_name
from triplane.components.network import layout
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.self_managed.nodes import SystemNodes
from triplane.components.self_managed.refs import AksClusterRef
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import SubComponent
from triplane.components.tagging import tagged

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4e44-a8e3-6d5b0d9cc8e5"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
"""Cluster roles, CRDs and kube-system daemons are cluster-scoped: the narrower AKS roles cannot."""
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The Entra ID application of the AKS API server: the audience of every user token."""
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
CONTROL_PLANE_LOGS = (
    "kube-apiserver",
    "kube-audit-admin",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)
SERVICE_CIDR = "172.16.0.0/16"
DNS_SERVICE_IP = "172.16.0.10"
POD_CIDR = "172.18.0.0/16"
"""Overlay ranges, outside the 10.x blocks environments give their networks."""
NETWORK_PROFILE: Any = {
    "network_plugin": "azure",
    "network_plugin_mode": "overlay",
    "network_dataplane": "cilium",
    "network_policy": "cilium",
    "outbound_type": "none",
    "pod_cidr": POD_CIDR,
    "service_cidr": SERVICE_CIDR,
    "dns_service_ip": DNS_SERVICE_IP,
}
"""Azure CNI overlay with Cilium (network policy enforced), no outbound path of the cluster's own."""


@dataclass
class AksClusterArgs:
    network: AzureNetworkRef
    version: str
    api_access: Literal["private", "authorized-networks"] = "private"
    api_authorized_cidrs: Sequence[str] = ()
    deployer_principal: str | None = None
    """Entra ID object ID that deploys; the identity running `pulumi up` by default."""
    system_nodes: SystemNodes = field(default_factory=lambda: SystemNodes.default("azure"))
    kms_key: tuple[str, str] | None = None
    """(key vault resource ID, key identifier with version) of an existing key."""
    vault_name: str | None = None
    """Key Vault names are global: pass one made unique (e.g. with the resource group in it)."""
    log_retention_days: int = 365
    registry_id: pulumi.Input[str] | None = None
    """A private Premium registry caching `mcr.microsoft.com/*` as `aks-managed-repository/*`: the
    cluster bootstraps from it and its kubelet identity may pull from it. None: AKS makes its own."""
    registry_ready: Sequence[pulumi.Resource] = ()
    """What the registry needs before nodes bootstrap from it (private endpoint, DNS, cache rules)."""
    tags: dict[str, str] = field(default_factory=dict)
    protect_data: bool = False


def _assignment_name(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "triplane/" + "/".join(parts)))


class AksCluster(pulumi.ComponentResource):
    ref: AksClusterRef
    kubeconfig: pulumi.Output[str]
    """Secret: the user kubeconfig with a kubelogin exec stanza (Entra ID; no local accounts)."""
    workspace_id: pulumi.Output[str]
    deployer_access: azure_authorization.RoleAssignment
    """The deployer's RBAC Cluster Admin assignment; the kubeconfig waits for it."""

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:AksCluster", name, None, tagged(opts, args.tags))
        network = args.network
        group = network.resource_group_name
        cluster_name = physical_name(name, kind="default")
        client = azure_authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self._name, self._args, self._cluster_name = name, args, cluster_name
        self._subscription = client.subscription_id

        node_subnet_id = self._node_subnet()
        identity = azure_managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=group,
            location=network.location,
            resource_name_=f"{cluster_name}-control-plane",
            opts=pulumi.ResourceOptions(parent=self),
        )
        grants = [
            azure_authorization.RoleAssignment(
                f"{name}-subnet-access",
                scope=node_subnet_id,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=self._role(NETWORK_CONTRIBUTOR),
                role_assignment_name=_assignment_name(name, "subnet"),
                opts=pulumi.ResourceOptions(parent=self),
            )
        ]
        vault_id, key_uri = self._secrets_key(client.tenant_id, identity, grants)
        cluster_after: list[pulumi.Resource] = [*grants]
        kubelet_profile = self._kubelet_identity(identity, cluster_after) if args.registry_id is not None else None
        private = args.api_access == "private"
        cluster = self._managed_cluster(identity, node_subnet_id, vault_id, key_uri, kubelet_profile, cluster_after)
        workspace = self._logs(cluster)
        deployer_admin = self._deployer(cluster, client.object_id)
        self.deployer_access = deployer_admin
        credentials = azure_containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group,
            resource_name=cluster.name,
            format="exec",
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[cluster]),
        )
        # The provider built from this kubeconfig waits for the deployer's role (its ID is an input).
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                credentials.kubeconfigs,
                cluster.name,
                cluster.private_fqdn if private else cluster.fqdn,
                deployer_admin.id,
            ).apply(lambda values: kubeconfig(*values[:3]))
        )
        self.workspace_id = workspace.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda profile: profile.issuer_url if profile else "")
        """The issuer workload identities' federated credentials trust (a weights import's among them)."""
        self.ref = AksClusterRef(
            name=cluster.name, resource_group_name=group, version=args.version, node_subnet_id=node_subnet_id
        )
        self.register_outputs({"name": cluster.name, "workspace_id": workspace.id})

    def _managed_cluster(
        self,
        identity: azure_managedidentity.UserAssignedIdentity,
        node_subnet_id: pulumi.Input[str],
        vault_id: pulumi.Input[str],
        key_uri: pulumi.Input[str],
        kubelet_profile: dict[str, azure_containerservice.UserAssignedIdentityArgsDict] | None,
        cluster_after: list[pulumi.Resource],
    ) -> azure_containerservice.ManagedCluster:
        """The cluster: Entra ID with Azure RBAC and no local accounts, the private API server, the
        overlay network, bootstrap from the cache, secrets under the key, the system pool."""
        name, args, cluster_name = self._name, self._args, self._cluster_name
        network = args.network
        group = network.resource_group_name
        return azure_containerservice.ManagedCluster(
            f"{name}-cluster",
            resource_group_name=group,
            location=network.location,
            resource_name_=cluster_name,
            dns_prefix=cluster_name,
            kubernetes_version=args.version,
            identity={
                "type": azure_containerservice.ResourceIdentityType.USER_ASSIGNED,
                "user_assigned_identities": [identity.id],
            },
            # The uptime SLA (Standard tier) where data is protected, i.e. production.
            sku={"name": "Base", "tier": "Standard" if args.protect_data else "Free"},
            enable_rbac=True,
            aad_profile={"managed": True, "enable_azure_rbac": True},
            disable_local_accounts=True,
            api_server_access_profile=self._access_profile(),
            network_profile=NETWORK_PROFILE,
            bootstrap_profile=self._bootstrap_profile(),
            identity_profile=kubelet_profile,
            agent_pool_profiles=[self._system_pool(node_subnet_id)],
            security_profile=_security_profile(key_uri, vault_id),
            oidc_issuer_profile={"enabled": True},
            auto_upgrade_profile={"upgrade_channel": "patch", "node_os_upgrade_channel": "NodeImage"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=cluster_after),
        )

    def _role(self, role_id: str) -> pulumi.Output[str]:
        """The subscription's definition of a built-in role."""
        return self._subscription.apply(
            lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
        )

    def _node_subnet(self) -> pulumi.Input[str]:
        """The nodes' own subnet in a network Triplane lays out, else the network's app subnet."""
        name, network, cluster_name = self._name, self._args.network, self._cluster_name
        if network.cidr is None:
            return network.app_subnet_id
        subnet = azure_network.Subnet(
            f"{name}-nodes-subnet",
            resource_group_name=network.resource_group_name,
            virtual_network_name=network.vnet_name,
            subnet_name=f"aks-{cluster_name}",
            address_prefix=layout.block(network.cidr, layout.AZURE_AKS),
            default_outbound_access=False,
            # The app subnet's routes: where the network has an egress firewall, workloads with an
            # allowlist entry (a weights download) get out through it, and nothing else does.
            route_table=(
                azure_network.RouteTableArgs(id=network.app_route_table_id)
                if network.app_route_table_id is not None
                else None
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=network.subnets.after()),
        )
        network.subnets.add(subnet)
        return subnet.id

    def _secrets_key(
        self,
        tenant_id: pulumi.Input[str],
        identity: azure_managedidentity.UserAssignedIdentity,
        grants: list[azure_authorization.RoleAssignment],
    ) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        """(vault ID, versioned key URI) of the key encrypting Kubernetes secrets: the given one, or a
        new private vault and key the control plane may use (its grants added to `grants`)."""
        name, args = self._name, self._args
        if args.kms_key is not None:
            return args.kms_key[0], args.kms_key[1]
        part = SubComponent("triplane:selfmanaged:AksSecretsKey", f"{name}-secrets-key", self)
        group = args.network.resource_group_name
        vault_properties: azure_keyvault.VaultPropertiesArgsDict = {
            "tenant_id": tenant_id,
            "sku": {"family": "A", "name": azure_keyvault.SkuName.STANDARD},
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": 90,
            "enable_purge_protection": True,
            "public_network_access": "Disabled",
            "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
        }
        vault = azure_keyvault.Vault(
            f"{name}-vault",
            resource_group_name=group,
            location=args.network.location,
            vault_name=args.vault_name or physical_name(name, "kms", kind="key_vault"),
            properties=vault_properties,
            opts=stateful_opts(part, args.protect_data),
        )
        key = azure_key(
            f"{name}-key",
            parent=part,
            resource_group_name=group,
            vault_name=vault.name,
            key_name="kubernetes-secrets",
            protect=args.protect_data,
            key_size=2048,
            key_ops=["encrypt", "decrypt", "wrapKey", "unwrapKey"],
            rotate=False,
        )
        grants += [
            azure_authorization.RoleAssignment(
                f"{name}-vault-{label}",
                scope=vault.id,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=self._role(role_id),
                role_assignment_name=_assignment_name(name, "vault", label),
                opts=pulumi.ResourceOptions(parent=part),
            )
            # Crypto User to wrap the data keys; Contributor so AKS can add its private endpoint.
            for label, role_id in (("crypto", KEY_VAULT_CRYPTO_USER), ("contributor", KEY_VAULT_CONTRIBUTOR))
        ]
        part.register_outputs({})
        return vault.id, key.key_uri_with_version

    def _kubelet_identity(
        self, identity: azure_managedidentity.UserAssignedIdentity, cluster_after: list[pulumi.Resource]
    ) -> dict[str, azure_containerservice.UserAssignedIdentityArgsDict]:
        """The kubelet identity pulling from the registry, with its grants (added to `cluster_after`).

        Nodes pull from the registry while they bootstrap, so the kubelet identity (and its AcrPull)
        must exist before the cluster: bring it, and let the control plane assign it.
        """
        name, args = self._name, self._args
        assert args.registry_id is not None
        part = SubComponent("triplane:selfmanaged:AksKubeletIdentity", f"{name}-kubelet", self)
        kubelet = azure_managedidentity.UserAssignedIdentity(
            f"{name}-kubelet-identity",
            resource_group_name=args.network.resource_group_name,
            location=args.network.location,
            resource_name_=f"{self._cluster_name}-kubelet",
            opts=pulumi.ResourceOptions(parent=part),
        )
        cluster_after += [
            azure_authorization.RoleAssignment(
                f"{name}-kubelet-operator",
                scope=kubelet.id,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=self._role(MANAGED_IDENTITY_OPERATOR),
                role_assignment_name=_assignment_name(name, "kubelet-operator"),
                opts=pulumi.ResourceOptions(parent=part),
            ),
            azure_authorization.RoleAssignment(
                f"{name}-kubelet-acr-pull",
                scope=args.registry_id,
                principal_id=kubelet.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=self._role(ACR_PULL),
                role_assignment_name=_assignment_name(name, "kubelet-acr-pull"),
                opts=pulumi.ResourceOptions(parent=part),
            ),
            *args.registry_ready,
        ]
        part.register_outputs({})
        return {
            "kubeletidentity": {
                "resource_id": kubelet.id,
                "client_id": kubelet.client_id,
                "object_id": kubelet.principal_id,
            }
        }

    def _bootstrap_profile(self) -> azure_containerservice.ManagedClusterBootstrapProfileArgsDict:
        """Nodes bootstrap from the artifact cache: the given registry's, else one AKS makes."""
        bootstrap: azure_containerservice.ManagedClusterBootstrapProfileArgsDict = {"artifact_source": "Cache"}
        if self._args.registry_id is not None:
            bootstrap["container_registry_id"] = self._args.registry_id
        return bootstrap

    def _access_profile(self) -> azure_containerservice.ManagedClusterAPIServerAccessProfileArgsDict:
        args = self._args
        private = args.api_access == "private"
        access_profile: azure_containerservice.ManagedClusterAPIServerAccessProfileArgsDict = {
            "enable_private_cluster": private,
            "enable_private_cluster_public_fqdn": False,
            "disable_run_command": True,
        }
        if not private:
            access_profile["authorized_ip_ranges"] = list(args.api_authorized_cidrs)
        return access_profile

    def _system_pool(
        self, node_subnet_id: pulumi.Input[str]
    ) -> azure_containerservice.ManagedClusterAgentPoolProfileArgsDict:
        system = self._args.system_nodes
        return {
            "name": "system",
            "mode": "System",
            "vm_size": system.machine_type,
            "os_type": "Linux",
            "os_sku": "AzureLinux",
            "os_disk_size_gb": system.disk_size_gb,
            "os_disk_type": "Managed",
            "count": system.min_nodes,
            "min_count": system.min_nodes,
            "max_count": system.max_nodes,
            "enable_auto_scaling": True,
            "enable_node_public_ip": False,
            "vnet_subnet_id": node_subnet_id,
            "node_labels": {"triplane.io/node-pool": "system"},
        }

    def _logs(self, cluster: azure_containerservice.ManagedCluster) -> azure_operationalinsights.Workspace:
        """The workspace receiving every control-plane log category and the cluster's metrics."""
        name, args = self._name, self._args
        part = SubComponent("triplane:selfmanaged:AksLogs", f"{name}-logging", self)
        workspace = azure_operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=args.network.resource_group_name,
            location=args.network.location,
            workspace_name=f"{self._cluster_name}-logs",
            sku={"name": "PerGB2018"},
            retention_in_days=args.log_retention_days,
            opts=stateful_opts(part, args.protect_data),
        )
        azure_monitor.DiagnosticSetting(
            f"{name}-diagnostics",
            name="control-plane-logs",
            resource_uri=cluster.id,
            workspace_id=workspace.id,
            log_analytics_destination_type="Dedicated",
            logs=[{"category": category, "enabled": True} for category in CONTROL_PLANE_LOGS],
            metrics=[{"category": "AllMetrics", "enabled": True}],
            opts=pulumi.ResourceOptions(parent=part),
        )
        part.register_outputs({})
        return workspace

    def _deployer(
        self, cluster: azure_containerservice.ManagedCluster, caller: pulumi.Output[str]
    ) -> azure_authorization.RoleAssignment:
        """The deployer's (the caller's by default) RBAC Cluster Admin role on the cluster."""
        name = self._name
        deployer = self._args.deployer_principal if self._args.deployer_principal is not None else caller
        return azure_authorization.RoleAssignment(
            f"{name}-deployer-admin",
            scope=cluster.id,
            principal_id=deployer,
            role_definition_id=self._role(AKS_RBAC_CLUSTER_ADMIN),
            # Named after the principal: another deployer is a new assignment, not an (impossible) update.
            role_assignment_name=pulumi.Output.from_input(deployer).apply(
                lambda principal: _assignment_name(name, "deployer", str(principal))
            ),
            description="Triplane deployer: creates the Kubernetes objects of this environment",
            opts=pulumi.ResourceOptions(parent=self),
        )


def _security_profile(
    key_uri: pulumi.Input[str], vault_id: pulumi.Input[str]
) -> azure_containerservice.ManagedClusterSecurityProfileArgsDict:
    """Secrets encrypted with the key through the vault's private endpoint; workload identity; image cleaner."""
    return {
        "azure_key_vault_kms": {
            "enabled": True,
            "key_id": key_uri,
            "key_vault_network_access": "Private",
            "key_vault_resource_id": vault_id,
        },
        "workload_identity": {"enabled": True},
        "image_cleaner": {"enabled": True, "interval_hours": 168},
    }


def kubeconfig(kubeconfigs: Any, cluster_name: str, host: str | None) -> str:
    """The listed user kubeconfig's server and CA, signed in through kubelogin from the Azure CLI login.

    The listed one signs in with an interactive device code, which a deploy cannot answer; the Azure
    CLI login is the one `pulumi up` itself runs under (locally, or after `azure/login` in CI).
    Without a listed one (a plan), the server is the API server's name and the CA is left out.
    """
    server = f"https://{host or cluster_name}:443"
    cluster: dict[str, Any] = {"server": server}
    listed = _listed_cluster(kubeconfigs)
    if listed:
        cluster = {key: listed[key] for key in ("server", "certificate-authority-data") if key in listed}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": cluster}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "kubelogin",
                            "args": ["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_ID],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


def _listed_cluster(kubeconfigs: Any) -> dict[str, Any] | None:
    """The cluster entry of the first kubeconfig `listClusterUserCredential` returned."""
    if not kubeconfigs:
        return None
    first = kubeconfigs[0]
    value = first.get("value") if isinstance(first, dict) else getattr(first, "value", None)
    if not value:
        return None
    document = yaml.safe_load(base64.b64decode(value).decode("utf-8")) or {}
    clusters = document.get("clusters") or []
    return dict(clusters[0].get("cluster") or {}) if clusters else None
