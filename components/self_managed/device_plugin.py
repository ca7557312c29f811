"""NvidiaDevicePlugin: advertises `nvidia.com/gpu` on GPU nodes whose cloud does not do it itself.

EKS's NVIDIA AMIs carry the driver and container toolkit but not the device plugin; GKE and AKS
install their own. Creates one DaemonSet in `kube-system` (a plain DaemonSet with a pinned image
rather than a Helm release, so it renders and validates offline), scheduled only on nodes carrying
the GPU node-pool label and tolerating the GPU taints of every cloud by key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

GPU_TOLERATION_KEYS = ("nvidia.com/gpu", "sku", "kubernetes.azure.com/scalesetpriority")
"""GPU taints differ per cloud (`nvidia.com/gpu=present`, `sku=gpu`, the AKS spot taint): tolerate by key."""


@dataclass
class NvidiaDevicePluginArgs:
    image: pulumi.Input[str]
    """The reference the cluster pulls (`images.NVIDIA_DEVICE_PLUGIN` through its `ImageSource`)."""
    node_label: str = "triplane.io/gpu-type"
    """Runs only on nodes that have this label (set by GpuNodePool)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    toleration_keys: Sequence[str] = GPU_TOLERATION_KEYS


class NvidiaDevicePlugin(pulumi.ComponentResource):
    daemonset_name: pulumi.Output[str]

    def __init__(self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:NvidiaDevicePlugin", name, None, opts)
        selector = {"app.kubernetes.io/name": "nvidia-device-plugin"}
        labels = {**args.tags, **selector}
        daemonset = k8s.apps.v1.DaemonSet(
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
                        "affinity": {
                            "node_affinity": {
                                "required_during_scheduling_ignored_during_execution": {
                                    "node_selector_terms": [
                                        {"match_expressions": [{"key": args.node_label, "operator": "Exists"}]}
                                    ]
                                }
                            }
                        },
                        "tolerations": [{"key": key, "operator": "Exists"} for key in args.toleration_keys],
                        "security_context": {"seccomp_profile": {"type": "RuntimeDefault"}},
                        "containers": [
                            {
                                "name": "nvidia-device-plugin",
                                "image": args.image,
                                "image_pull_policy": "IfNotPresent",
                                "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
                                # The plugin registers through the kubelet's socket directory, which
                                # only root may write: it runs as root, but with no capabilities.
                                "security_context": {
                                    "allow_privilege_escalation": False,
                                    "privileged": False,
                                    "capabilities": {"drop": ["ALL"]},
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
                        ],
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
