"""ClusterAutoscaler: scales EKS managed node groups between their minimum and maximum sizes.

GKE and AKS scale their node pools themselves; EKS managed node groups only carry min/max bounds,
so without this the GPU pools never grow when the model servers scale out, nor shrink to zero.
Creates in `kube-system`: the ServiceAccount (its AWS role comes through EKS Pod Identity, set up
by `EksCluster`), the ClusterRole/Role and bindings the autoscaler needs, and a Deployment on the
system nodes (pinned image matching the cluster's minor version, non-root, read-only root
filesystem) that discovers the cluster's node groups by their Auto Scaling tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes import apps as k8s_apps
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import rbac as k8s_rbac

SERVICE_ACCOUNT = "cluster-autoscaler"
NAMESPACE = "kube-system"

CLUSTER_RULES: list[k8s_rbac.v1.PolicyRuleArgsDict] = [
    {"api_groups": [""], "resources": ["events", "endpoints"], "verbs": ["create", "patch"]},
    {"api_groups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    {"api_groups": [""], "resources": ["pods/status"], "verbs": ["update"]},
    {
        "api_groups": [""],
        "resources": ["endpoints"],
        "resource_names": ["cluster-autoscaler"],
        "verbs": ["get", "update"],
    },
    {"api_groups": [""], "resources": ["nodes"], "verbs": ["watch", "list", "get", "update"]},
    {
        "api_groups": [""],
        "resources": [
            "namespaces",
            "pods",
            "services",
            "replicationcontrollers",
            "persistentvolumeclaims",
            "persistentvolumes",
        ],
        "verbs": ["watch", "list", "get"],
    },
    {"api_groups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["watch", "list"]},
    {
        "api_groups": ["apps"],
        "resources": ["statefulsets", "replicasets", "daemonsets"],
        "verbs": ["watch", "list", "get"],
    },
    {
        "api_groups": ["storage.k8s.io"],
        "resources": ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"],
        "verbs": ["watch", "list", "get"],
    },
    {"api_groups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["watch", "list", "get"]},
    {"api_groups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {
        "api_groups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resource_names": ["cluster-autoscaler"],
        "verbs": ["get", "update"],
    },
]
NAMESPACE_RULES: list[k8s_rbac.v1.PolicyRuleArgsDict] = [
    {"api_groups": [""], "resources": ["configmaps"], "verbs": ["create", "list", "watch"]},
    {
        "api_groups": [""],
        "resources": ["configmaps"],
        "resource_names": ["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"],
        "verbs": ["delete", "get", "update", "watch"],
    },
]


def _role_ref(kind: str) -> k8s_rbac.v1.RoleRefArgsDict:
    return {"api_group": "rbac.authorization.k8s.io", "kind": kind, "name": SERVICE_ACCOUNT}


@dataclass
class ClusterAutoscalerArgs:
    cluster_name: pulumi.Input[str]
    region: str
    image: pulumi.Input[str]
    """The reference the cluster pulls (`images.cluster_autoscaler(<minor version>)` through its source)."""
    node_selector: Mapping[str, str] = field(default_factory=lambda: {"triplane.io/node-pool": "system"})
    tags: Mapping[str, str] = field(default_factory=dict)


class ClusterAutoscaler(pulumi.ComponentResource):
    deployment_name: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:ClusterAutoscaler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        selector = {"app.kubernetes.io/name": "cluster-autoscaler"}
        labels = {**args.tags, **selector}

        def meta(namespaced: bool = True) -> Any:
            result: dict[str, Any] = {"name": SERVICE_ACCOUNT, "labels": labels}
            if namespaced:
                result["namespace"] = NAMESPACE
            return result

        subject: list[k8s_rbac.v1.SubjectArgsDict] = [
            {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}
        ]
        account = k8s_core.v1.ServiceAccount(f"{name}-sa", metadata=meta(), opts=child)
        cluster_role = k8s_rbac.v1.ClusterRole(
            f"{name}-clusterrole", metadata=meta(False), rules=CLUSTER_RULES, opts=child
        )
        k8s_rbac.v1.ClusterRoleBinding(
            f"{name}-clusterrolebinding",
            metadata=meta(False),
            role_ref=_role_ref("ClusterRole"),
            subjects=subject,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster_role]),
        )
        role = k8s_rbac.v1.Role(f"{name}-role", metadata=meta(), rules=NAMESPACE_RULES, opts=child)
        k8s_rbac.v1.RoleBinding(
            f"{name}-rolebinding",
            metadata=meta(),
            role_ref=_role_ref("Role"),
            subjects=subject,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )
        deployment = k8s_apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta(),
            spec={
                "replicas": 1,
                "selector": {"match_labels": selector},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "service_account_name": SERVICE_ACCOUNT,
                        "priority_class_name": "system-cluster-critical",
                        "node_selector": dict(args.node_selector),
                        "security_context": {
                            "run_as_non_root": True,
                            "run_as_user": 65534,
                            "fs_group": 65534,
                            "seccomp_profile": {"type": "RuntimeDefault"},
                        },
                        "containers": [_container(args)],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        self.deployment_name = deployment.metadata.apply(lambda m: m.name if m and m.name else SERVICE_ACCOUNT)
        self.register_outputs({"deployment_name": self.deployment_name})


def _container(args: ClusterAutoscalerArgs) -> Any:
    """The autoscaler: discovers this cluster's tagged groups, balances similar ones, waits for GPU
    nodes; non-root, read-only, no capabilities."""
    discovery = pulumi.Output.concat(
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/",
        args.cluster_name,
    )
    return {
        "name": "cluster-autoscaler",
        "image": args.image,
        "image_pull_policy": "IfNotPresent",
        "command": ["./cluster-autoscaler"],
        "args": [
            "--cloud-provider=aws",
            discovery,
            "--balance-similar-node-groups",
            "--expander=least-waste",
            "--skip-nodes-with-local-storage=false",
            "--skip-nodes-with-system-pods=false",
            # A GPU node that just joined needs minutes before its GPUs are advertised.
            "--max-node-provision-time=20m",
            "--scale-down-unneeded-time=15m",
        ],
        "env": [{"name": "AWS_REGION", "value": args.region}],
        "ports": [{"name": "metrics", "container_port": 8085, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "600Mi"},
            "limits": {"cpu": "500m", "memory": "600Mi"},
        },
        "security_context": {
            "allow_privilege_escalation": False,
            "privileged": False,
            "read_only_root_filesystem": True,
            "run_as_non_root": True,
            "run_as_user": 65534,
            "capabilities": {"drop": ["ALL"]},
        },
        "liveness_probe": {"http_get": {"path": "/health-check", "port": "metrics"}, "period_seconds": 30},
    }
