"""GkeCluster: a private, regional GKE Standard cluster for GPU model serving.

Creates: a Cloud KMS key ring and key (unless a key is given) for application-layer secrets
encryption and node boot disks, usable only by the GKE and Compute Engine service agents (each
created first with `gcp.projects.ServiceIdentity`); a least-privilege node service account
(`roles/container.defaultNodeServiceAccount`; it reads images only from the repositories the image
cache grants it); the cluster with private nodes, a private endpoint (a public one only for the
authorized networks listed), authorized networks enforced on the private endpoint too, Dataplane V2
(which enforces NetworkPolicy), Workload Identity, Shielded Nodes, no client certificates, control-
plane logs (API server, scheduler, controller manager, system and workloads) to Cloud Logging, and
the Filestore CSI driver when caches are shared; a small autoscaling system node pool; and the
deployer's way in: its private ranges among the authorized networks, or the DNS-based endpoint (IAM
checks every request, no network path needed), and Kubernetes Engine Admin on the project, which the
kubeconfig waits for. GKE authorizes the Kubernetes API with project IAM first; creating the cluster
needs only Kubernetes Engine Cluster Admin, which carries no Kubernetes object permissions, and
Kubernetes Engine Admin is the narrowest predefined role that may create cluster roles and CRDs.

The key ring, key, service agents and their grants are a part (`GkeSecretsKey`; `SubComponent`):
their resources keep the URNs they had as the cluster component's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_gcp import container as gcp_container
from pulumi_gcp import kms as gcp_kms
from pulumi_gcp import organizations as gcp_organizations
from pulumi_gcp import projects as gcp_projects
from pulumi_gcp import serviceaccount as gcp_serviceaccount

from triplane.components.keys import gcp_key
from triplane.components.naming import physical_name
from triplane.components.network import layout
from triplane.components.network.refs import GcpNetworkRef
from triplane.components.self_managed.nodes import SystemNodes
from triplane.components.self_managed.refs import GkeClusterRef
from triplane.components.subcomponent import SubComponent
from triplane.components.tagging import gcp_labels, tagged

CONTROL_PLANE_LOGS = ["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"]
METRICS = ["SYSTEM_COMPONENTS", "DCGM"]
"""System metrics, and GKE's managed DCGM exporter on the GPU nodes (Triplane's Prometheus scrapes it,
`gpu_metrics`); the DCGM package needs managed Prometheus collection on."""
NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
"""Image pulls are granted per repository by the environment's image cache, not project-wide."""
DEPLOYER_ROLE = "roles/container.admin"


@dataclass
class GkeClusterArgs:
    network: GcpNetworkRef
    version: str
    api_access: Literal["private", "authorized-networks", "dns-endpoint"] = "private"
    api_authorized_cidrs: Sequence[str] = ()
    deployer_cidrs: Sequence[str] = ()
    """Private ranges a deploy runner inside the network (or a connected one) reaches the API from."""
    deployer_principal: str | None = None
    """IAM member that deploys; the identity running `pulumi up` by default."""
    system_nodes: SystemNodes = field(default_factory=lambda: SystemNodes.default("gcp"))
    shared_cache: bool = False
    """Turn on the Filestore CSI driver (`standard-rwx` ReadWriteMany caches)."""
    kms_key: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    protect_data: bool = False


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str | None) -> str:
    """A kubeconfig that gets a token from gke-gcloud-auth-plugin (no long-lived credentials in it).

    Without CA data (the DNS-based endpoint) the server's publicly trusted certificate is checked.
    """
    server: dict[str, str] = {"server": f"https://{endpoint}"}
    if ca_data is not None:
        server["certificate-authority-data"] = ca_data
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": server}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "gke-gcloud-auth-plugin",
                            "provideClusterInfo": True,
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


def _node_config(
    service_account: pulumi.Input[str], disk_gb: int, machine: str, kms: Any, labels: dict[str, str]
) -> gcp_container.NodePoolNodeConfigArgsDict:
    config: gcp_container.NodePoolNodeConfigArgsDict = {
        "machine_type": machine,
        "disk_size_gb": disk_gb,
        "disk_type": "pd-balanced",
        "image_type": "COS_CONTAINERD",
        "service_account": service_account,
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "metadata": {"disable-legacy-endpoints": "true"},
        "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "resource_labels": labels,
    }
    if kms is not None:
        config["boot_disk_kms_key"] = kms
    return config


class GkeCluster(pulumi.ComponentResource):
    ref: GkeClusterRef
    kubeconfig: pulumi.Output[str]
    kms_key_id: pulumi.Output[str]
    cluster_name: str
    """The cluster's name in Google Cloud, known before it exists (queries and labels name it)."""
    deployer_access: gcp_projects.IAMMember
    """The deployer's Kubernetes Engine Admin grant; the kubeconfig waits for it."""

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:GkeCluster", name, None, tagged(opts, args.tags))
        network = args.network
        project, region = network.project, network.region
        cluster_name = physical_name(name, kind="gke")
        labels = gcp_labels(args.tags)

        key_id, grants = self._secrets_key(name, args, cluster_name)
        node_account, roles = self._node_account(name, args, cluster_name)
        dns_endpoint = args.api_access == "dns-endpoint"
        cluster = self._cluster(name, args, cluster_name, node_account, key_id, [*grants, *roles])
        self._system_pool(name, args, cluster, node_account.email, key_id, labels)

        self.kms_key_id = key_id
        self.cluster_name = cluster_name
        self.ref = GkeClusterRef(
            name=cluster.name,
            project=project,
            location=region,
            version=args.version,
            node_service_account=node_account.email,
            boot_disk_kms_key=key_id,
        )
        deployer_admin = self._deployer(name, args)
        self.deployer_access = deployer_admin
        # The provider built from this kubeconfig waits for the deployer's role (its ID is an input).
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name,
                cluster.endpoint,
                cluster.master_auth,
                cluster.control_plane_endpoints_config,
                deployer_admin.id,
            ).apply(lambda values: _cluster_kubeconfig(values[0], values[1], values[2], values[3], dns_endpoint))
        )
        self.register_outputs({"name": cluster.name, "kms_key_id": key_id})

    def _cluster(
        self,
        name: str,
        args: GkeClusterArgs,
        cluster_name: str,
        node_account: gcp_serviceaccount.Account,
        key_id: pulumi.Output[str],
        after: list[pulumi.Resource],
    ) -> gcp_container.Cluster:
        """The cluster: private nodes and endpoint, authorized networks enforced, Dataplane V2, Workload
        Identity, secrets under the key, control-plane logs; the default pool removed."""
        network = args.network
        project, region = network.project, network.region
        dns_endpoint = args.api_access == "dns-endpoint"
        # The default pool is removed once the cluster exists; until then it runs as the node account.
        default_pool: gcp_container.ClusterNodeConfigArgsDict = {
            "service_account": node_account.email,
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        }
        return gcp_container.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            project=project,
            location=region,
            network=network.network_id,
            subnetwork=network.subnetwork_id,
            min_master_version=args.version,
            release_channel={"channel": "REGULAR"},
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=default_pool,
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": args.api_access != "authorized-networks",
                "master_global_access_config": {"enabled": False},
            },
            master_authorized_networks_config={
                "cidr_blocks": _authorized_networks(args),
                "gcp_public_cidrs_access_enabled": False,
                "private_endpoint_enforcement_enabled": True,
            },
            # The DNS-based endpoint takes traffic from anywhere, but only requests IAM allows.
            control_plane_endpoints_config={"dns_endpoint_config": {"allow_external_traffic": dns_endpoint}},
            ip_allocation_policy=_ip_policy(network),
            datapath_provider="ADVANCED_DATAPATH",
            database_encryption={"state": "ENCRYPTED", "key_name": key_id},
            logging_config={"enable_components": CONTROL_PLANE_LOGS},
            monitoring_config={"enable_components": METRICS, "managed_prometheus": {"enabled": True}},
            workload_identity_config={"workload_pool": f"{project}.svc.id.goog"},
            enable_shielded_nodes=True,
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            addons_config={
                "gce_persistent_disk_csi_driver_config": {"enabled": True},
                "gcp_filestore_csi_driver_config": {"enabled": args.shared_cache},
            },
            deletion_protection=args.protect_data,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )

    def _secrets_key(
        self, name: str, args: GkeClusterArgs, cluster_name: str
    ) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
        """The key encrypting Kubernetes secrets (the given one, or a new one) and the grants that let
        the GKE and Compute Engine service agents use it."""
        project, region = args.network.project, args.network.region
        part = SubComponent("triplane:selfmanaged:GkeSecretsKey", f"{name}-secrets-key", self)
        if args.kms_key is not None:
            key_id: pulumi.Output[str] = pulumi.Output.from_input(args.kms_key)
        else:
            key = gcp_key(
                name,
                parent=part,
                project=project,
                location=region,
                ring_name=cluster_name,
                key_name=f"{cluster_name}-secrets",
                protect=args.protect_data,
            )
            key_id = key.id
        # The GKE and Compute Engine service agents exist only once created: create them, then grant.
        grants: list[pulumi.Resource] = []
        for agent, api in (("gke", "container.googleapis.com"), ("compute", "compute.googleapis.com")):
            identity = gcp_projects.ServiceIdentity(
                f"{name}-{agent}-agent", project=project, service=api, opts=pulumi.ResourceOptions(parent=part)
            )
            grants.append(
                gcp_kms.CryptoKeyIAMMember(
                    f"{name}-key-{agent}",
                    crypto_key_id=key_id,
                    role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                    member=identity.member,
                    opts=pulumi.ResourceOptions(parent=part, depends_on=[identity]),
                )
            )
        part.register_outputs({})
        return key_id, grants

    def _node_account(
        self, name: str, args: GkeClusterArgs, cluster_name: str
    ) -> tuple[gcp_serviceaccount.Account, list[pulumi.Resource]]:
        """The service account every node runs as, and its project roles."""
        project = args.network.project
        node_account = gcp_serviceaccount.Account(
            f"{name}-nodes-sa",
            account_id=physical_name(name, "nodes", kind="gcp_service_account"),
            display_name=f"GKE nodes of {cluster_name}",
            project=project,
            opts=pulumi.ResourceOptions(parent=self),
        )
        roles: list[pulumi.Resource] = [
            gcp_projects.IAMMember(
                f"{name}-nodes-{role.split('/')[-1].lower()}",
                project=project,
                role=role,
                member=node_account.member,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role in NODE_ROLES
        ]
        return node_account, roles

    def _system_pool(
        self,
        name: str,
        args: GkeClusterArgs,
        cluster: gcp_container.Cluster,
        node_account: pulumi.Output[str],
        key_id: pulumi.Output[str],
        labels: dict[str, str],
    ) -> gcp_container.NodePool:
        """The small system node pool (shielded, workload metadata only, boot disks under the key)."""
        system = args.system_nodes
        system_config = _node_config(node_account, system.disk_size_gb, system.machine_type, key_id, labels)
        system_config["labels"] = {"triplane.io/node-pool": "system"}
        return gcp_container.NodePool(
            f"{name}-system",
            name="system",
            project=args.network.project,
            location=args.network.region,
            cluster=cluster.name,
            initial_node_count=system.min_nodes,
            autoscaling={"total_min_node_count": system.min_nodes, "total_max_node_count": system.max_nodes},
            management={"auto_repair": True, "auto_upgrade": True},
            network_config={"enable_private_nodes": True},
            node_config=system_config,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
        )

    def _deployer(self, name: str, args: GkeClusterArgs) -> gcp_projects.IAMMember:
        """Kubernetes Engine Admin for the deployer, granted alongside the cluster so it has propagated by the
        time the Kubernetes provider first calls."""
        if args.deployer_principal is not None:
            member: pulumi.Output[str] = pulumi.Output.from_input(args.deployer_principal)
        else:
            caller = gcp_organizations.get_client_open_id_user_info_output(opts=pulumi.InvokeOutputOptions(parent=self))
            member = caller.email.apply(_member)
        return gcp_projects.IAMMember(
            f"{name}-deployer-admin",
            project=args.network.project,
            role=DEPLOYER_ROLE,
            member=member,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _authorized_networks(
    args: GkeClusterArgs,
) -> list[gcp_container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgsDict]:
    """Who may reach the control plane: the environment's network first, then deploy runners and
    the authorized networks."""
    network = args.network
    private_cidrs = list(network.application_cidrs)
    if network.cidr is not None:
        private_cidrs = [network.cidr, *[c for c in private_cidrs if c != network.cidr]]
    authorized: list[gcp_container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgsDict] = [
        {"cidr_block": cidr, "display_name": "environment network"} for cidr in private_cidrs
    ]
    authorized += [{"cidr_block": cidr, "display_name": "deploy runner"} for cidr in args.deployer_cidrs]
    authorized += [{"cidr_block": cidr, "display_name": "authorized network"} for cidr in args.api_authorized_cidrs]
    return authorized


def _ip_policy(network: GcpNetworkRef) -> gcp_container.ClusterIpAllocationPolicyArgsDict:
    """Pod and service ranges: the subnetwork's named secondary ranges, blocks of the network's CIDR,
    or (an existing subnetwork) free ranges GKE picks itself."""
    if network.pods_range_name and network.services_range_name:
        return {
            "cluster_secondary_range_name": network.pods_range_name,
            "services_secondary_range_name": network.services_range_name,
        }
    if network.cidr is not None:
        return {
            "cluster_ipv4_cidr_block": layout.block(network.cidr, layout.GCP_PODS, size=4),
            "services_ipv4_cidr_block": layout.block(network.cidr, layout.GCP_SERVICES),
        }
    return {}


def _cluster_kubeconfig(name: str, endpoint: str | None, master_auth: Any, endpoints: Any, dns: bool) -> str:
    """Through the DNS-based endpoint when deploys use it, otherwise the IP endpoint and its CA."""
    host = _dns_endpoint(endpoints) if dns else None
    if host:
        return kubeconfig(name, host, None)
    return kubeconfig(name, endpoint or "", _ca(master_auth))


def _member(email: str) -> str:
    """The IAM member of the credentials' email: a service account's, or a user's."""
    kind = "serviceAccount" if email.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{email}"


def _dns_endpoint(config: Any) -> str | None:
    if config is None:
        return None
    key = "dns_endpoint_config"
    dns = config.get(key) if isinstance(config, dict) else getattr(config, key, None)
    if dns is None:
        return None
    endpoint = dns.get("endpoint") if isinstance(dns, dict) else getattr(dns, "endpoint", None)
    return str(endpoint) if endpoint else None


def _ca(master_auth: Any) -> str:
    if master_auth is None:
        return ""
    if isinstance(master_auth, dict):
        return str(master_auth.get("cluster_ca_certificate") or master_auth.get("clusterCaCertificate") or "")
    return str(getattr(master_auth, "cluster_ca_certificate", "") or "")
