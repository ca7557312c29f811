"""GkeCluster: a private, regional GKE Standard cluster for GPU model serving.

Creates: a Cloud KMS key ring and key (unless a key is given) for application-layer secrets
encryption and node boot disks, usable only by the GKE and Compute Engine service agents; a
least-privilege node service account (`roles/container.defaultNodeServiceAccount`; it reads images
only from the repositories the image cache grants it); the cluster with private nodes, a private
endpoint (a public one only for the authorized networks listed), authorized networks enforced on
the private endpoint too, Dataplane V2 (which enforces NetworkPolicy), Workload Identity, Shielded
Nodes, no client certificates, control-plane logs (API server, scheduler, controller manager,
system and workloads) to Cloud Logging, and the Filestore CSI driver when caches are shared; and a
small autoscaling system node pool.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp

from components.naming import physical_name
from components.network import layout
from components.network.refs import GcpNetworkRef
from components.self_managed.refs import GkeClusterRef
from components.tagging import gcp_labels

CONTROL_PLANE_LOGS = ["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"]
NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
"""Image pulls are granted per repository by the environment's image cache, not project-wide."""
KEY_ROTATION = "7776000s"
"""90 days."""


@dataclass
class GkeSystemNodes:
    machine_type: str = "e2-standard-4"
    min_nodes: int = 1
    max_nodes: int = 3
    disk_size_gb: int = 100


@dataclass
class GkeClusterArgs:
    network: GcpNetworkRef
    version: str
    api_access: Literal["private", "authorized-networks"] = "private"
    api_authorized_cidrs: Sequence[str] = ()
    system_nodes: GkeSystemNodes = field(default_factory=GkeSystemNodes)
    shared_cache: bool = False
    """Turn on the Filestore CSI driver (`standard-rwx` ReadWriteMany caches)."""
    kms_key: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    protect_data: bool = False


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that gets a token from gke-gcloud-auth-plugin (no long-lived credentials in it)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_data},
                }
            ],
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
) -> gcp.container.NodePoolNodeConfigArgsDict:
    config: gcp.container.NodePoolNodeConfigArgsDict = {
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

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:GkeCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        data = pulumi.ResourceOptions(parent=self, protect=args.protect_data, retain_on_delete=args.protect_data)
        network = args.network
        project, region = network.project, network.region
        cluster_name = physical_name(name, kind="gke")
        labels = gcp_labels(args.tags)
        number = gcp.organizations.get_project_output(
            project_id=project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).number

        if args.kms_key is not None:
            key_id: pulumi.Output[str] = pulumi.Output.from_input(args.kms_key)
        else:
            ring = gcp.kms.KeyRing(f"{name}-keyring", name=cluster_name, location=region, project=project, opts=data)
            key = gcp.kms.CryptoKey(
                f"{name}-key",
                name=f"{cluster_name}-secrets",
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=KEY_ROTATION,
                labels=labels,
                opts=data,
            )
            key_id = key.id
        grants = [
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-key-{agent}",
                crypto_key_id=key_id,
                role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                member=pulumi.Output.concat("serviceAccount:service-", number, "@", domain),
                opts=child,
            )
            for agent, domain in (
                ("gke", "container-engine-robot.iam.gserviceaccount.com"),
                ("compute", "compute-system.iam.gserviceaccount.com"),
            )
        ]

        node_account = gcp.serviceaccount.Account(
            f"{name}-nodes-sa",
            account_id=physical_name(name, "nodes", kind="gcp_service_account"),
            display_name=f"GKE nodes of {cluster_name}",
            project=project,
            opts=child,
        )
        roles = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[-1].lower()}",
                project=project,
                role=role,
                member=node_account.member,
                opts=child,
            )
            for role in NODE_ROLES
        ]

        private_cidrs = list(network.application_cidrs)
        if network.cidr is not None:
            private_cidrs = [network.cidr, *[c for c in private_cidrs if c != network.cidr]]
        authorized: list[gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgsDict] = [
            {"cidr_block": cidr, "display_name": "environment network"} for cidr in private_cidrs
        ]
        authorized += [{"cidr_block": cidr, "display_name": "authorized network"} for cidr in args.api_authorized_cidrs]
        if network.pods_range_name and network.services_range_name:
            ip_policy: gcp.container.ClusterIpAllocationPolicyArgsDict = {
                "cluster_secondary_range_name": network.pods_range_name,
                "services_secondary_range_name": network.services_range_name,
            }
        elif network.cidr is not None:
            ip_policy = {
                "cluster_ipv4_cidr_block": layout.block(network.cidr, layout.GCP_PODS, size=4),
                "services_ipv4_cidr_block": layout.block(network.cidr, layout.GCP_SERVICES),
            }
        else:
            ip_policy = {}  # an existing subnetwork: GKE picks free ranges itself
        # The default pool is removed once the cluster exists; until then it runs as the node account.
        default_pool: gcp.container.ClusterNodeConfigArgsDict = {
            "service_account": node_account.email,
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        }
        cluster = gcp.container.Cluster(
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
                "enable_private_endpoint": args.api_access == "private",
                "master_global_access_config": {"enabled": False},
            },
            master_authorized_networks_config={
                "cidr_blocks": authorized,
                "gcp_public_cidrs_access_enabled": False,
                "private_endpoint_enforcement_enabled": True,
            },
            ip_allocation_policy=ip_policy,
            datapath_provider="ADVANCED_DATAPATH",
            database_encryption={"state": "ENCRYPTED", "key_name": key_id},
            logging_config={"enable_components": CONTROL_PLANE_LOGS},
            workload_identity_config={"workload_pool": f"{project}.svc.id.goog"},
            enable_shielded_nodes=True,
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            addons_config={
                "gce_persistent_disk_csi_driver_config": {"enabled": True},
                "gcp_filestore_csi_driver_config": {"enabled": args.shared_cache},
            },
            deletion_protection=args.protect_data,
            resource_labels=labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*grants, *roles]),
        )
        system = args.system_nodes
        system_config = _node_config(node_account.email, system.disk_size_gb, system.machine_type, key_id, labels)
        system_config["labels"] = {"triplane.io/node-pool": "system"}
        gcp.container.NodePool(
            f"{name}-system",
            name="system",
            project=project,
            location=region,
            cluster=cluster.name,
            initial_node_count=system.min_nodes,
            autoscaling={"total_min_node_count": system.min_nodes, "total_max_node_count": system.max_nodes},
            management={"auto_repair": True, "auto_upgrade": True},
            network_config={"enable_private_nodes": True},
            node_config=system_config,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
        )

        self.kms_key_id = key_id
        self.ref = GkeClusterRef(
            name=cluster.name,
            project=project,
            location=region,
            version=args.version,
            node_service_account=node_account.email,
            boot_disk_kms_key=key_id,
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, cluster.master_auth).apply(
                lambda values: kubeconfig(values[0], values[1] or "", _ca(values[2]))
            )
        )
        self.register_outputs({"name": cluster.name, "kms_key_id": key_id})


def _ca(master_auth: Any) -> str:
    if master_auth is None:
        return ""
    if isinstance(master_auth, dict):
        return str(master_auth.get("cluster_ca_certificate") or master_auth.get("clusterCaCertificate") or "")
    return str(getattr(master_auth, "cluster_ca_certificate", "") or "")
