"""NvidiaDevicePlugin: advertises `nvidia.com/gpu` on GPU nodes whose cloud does not do it itself.

EKS's NVIDIA AMIs and AKS GPU pools carry the driver and container toolkit but not the device
plugin; GKE installs its own (with `gpu_driver_version`). An existing cluster gets one unless it
declares `nvidia-device-plugin` in `provides`. Creates one DaemonSet in `kube-system` (a plain
DaemonSet with a pinned image rather than a Helm release, so it renders and validates offline),
scheduled only on GPU nodes (Triplane's node-pool label, or an existing cluster's GPU node labels;
on every node if it names none: the plugin idles where it finds no GPU) and tolerating the GPU
taints of every cloud by key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_kubernetes import apps as k8s_apps

GPU_TOLERATION_KEYS = ("nvidia.com/gpu", "sku", "kubernetes.azure.com/scalesetpriority")
"""GPU taints differ per cloud (`nvidia.com/gpu=present`, `sku=gpu`, the AKS spot taint): tolerate by key."""


@dataclass
class NvidiaDevicePluginArgs:
    image: pulumi.Input[str]
    """The reference the cluster pulls (`images.NVIDIA_DEVICE_PLUGIN` through its `ImageSource`)."""
    node_label: str | None = "triplane.io/gpu-type"
    """Runs only on nodes that have this label (set by GpuNodePool)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Instead of `node_label`: the labels of an existing cluster's GPU nodes."""
    tags: Mapping[str, str] = field(default_factory=dict)
    toleration_keys: Sequence[str] = GPU_TOLERATION_KEYS


class NvidiaDevicePlugin(pulumi.ComponentResource):
    daemonset_name: pulumi.Output[str]

    def __init__(self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:NvidiaDevicePlugin", name, None, opts)
        selector = {"app.kubernetes.io/name": "nvidia-device-plugin"}
        labels: dict[str, str] = {**args.tags, **selector}
        daemonset = k8s_apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata={"name": "nvidia-device-plugin", "namespace": "kube-system", "labels": labels},
            spec={
                "selector": {"match_labels": selector},
                "update_strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 1}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "priority_class_name": "system-node-critical",
                        "automount_service_account_token": False,
                        "enable_service_links": False,
                        "affinity": _affinity(args),
                        "tolerations": [{"key": key, "operator": "Exists"} for key in args.toleration_keys],
                        "security_context": {"seccomp_profile": {"type": "RuntimeDefault"}},
                        "containers": [_container(args)],
                        "volumes": [
                            {
                                "name": "device-plugins",
                                "host_path": {"path": "/var/lib/kubelet/device-plugins", "type": "Directory"},
                            }
                        ],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.daemonset_name = daemonset.metadata.apply(lambda m: m.name if m and m.name else "nvidia-device-plugin")
        self.register_outputs({"daemonset_name": self.daemonset_name})


def _affinity(args: NvidiaDevicePluginArgs) -> Any:
    """GPU nodes only: those matching the node selector, else those carrying the GPU label."""
    if args.node_selector:
        terms = [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(args.node_selector.items())]
    elif args.node_label:
        terms = [{"key": args.node_label, "operator": "Exists"}]
    else:
        terms = []
    return (
        {
            "node_affinity": {
                "required_during_scheduling_ignored_during_execution": {
                    "node_selector_terms": [{"match_expressions": terms}]
                }
            }
        }
        if terms
        else {}
    )


def _container(args: NvidiaDevicePluginArgs) -> Any:
    """The plugin registers through the kubelet's socket directory, which only root may write: it runs
    as root, but with no capabilities, no escalation and a read-only root filesystem."""
    return {
        "name": "nvidia-device-plugin",
        "image": args.image,
        "image_pull_policy": "IfNotPresent",
        "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
        "security_context": {
            "allow_privilege_escalation": False,
            "privileged": False,
            "read_only_root_filesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "256Mi"},
        },
        "volume_mounts": [
            {
                "name": "device-plugins",
                "mount_path": "/var/lib/kubelet/device-plugins",
            }
        ],
    }
