"""GpuMetricsExporter: every GPU node's utilisation and memory in the cluster's Prometheus.

NVIDIA's dcgm-exporter reads each GPU through DCGM and serves `DCGM_FI_DEV_*` gauges on port 9400,
with the `namespace`, `pod` and `container` of the pod holding each GPU (from the kubelet's
pod-resources API). How it reaches the GPUs depends on how the node exposes them, so it comes in two
forms, chosen per cluster where the NVIDIA device plugin is (or would be) installed:

- `exporter` (AKS and EKS GPU pools; existing clusters that take Triplane's device plugin and name
  their GPU nodes in `gpu_node_selector`): the driver and the NVIDIA container runtime are on the
  host, and the exporter asks the runtime for every GPU of its node without asking the scheduler for
  one, in the two forms the NVIDIA container toolkit reads (`internal/config/image/cuda_image.go`):
  - a volume-mount request, the host's `/dev/null` mounted at
    `/var/run/nvidia-container-devices/all`. The toolkit honours it where
    `accept-nvidia-visible-devices-as-volume-mounts` is on, as on Bottlerocket's NVIDIA nodes
    (`settings.nvidia-container-runtime.visible-devices-as-volume-mounts`, on by default), which
    ignore the variable below in an unprivileged container. Only a pod allowed a hostPath of
    `/dev/null` can make this request, so other pods on the node cannot reach the GPUs this way.
  - `NVIDIA_VISIBLE_DEVICES=all`, which the toolkit honours in an unprivileged container by default
    (AKS's GPU nodes).
  Creates a ConfigMap of the counters, a DaemonSet in `kube-system` (GPU nodes only, every GPU taint
  tolerated, as the device plugin), a headless Service and a ServiceMonitor labelled for Triplane's
  Prometheus.
- `gke-managed` (GKE): GKE runs its own dcgm-exporter on GPU nodes (the DCGM metrics package, which
  Triplane's GKE cluster turns on in its `monitoring_config`) in the `gke-managed-system`
  namespace, where no one else may create objects. A self-deployed exporter would need
  `privileged: true` there (GKE nodes have no NVIDIA container runtime: Google's own manifest runs it
  privileged), which Triplane's pod security policy forbids. Creates a PodMonitor in the monitoring
  namespace that scrapes GKE's exporter pods.

The image is on nvcr.io, which ECR cannot cache: EKS nodes pull it through the network's egress
firewall (`stacks.egress`, which lists nvcr.io and its layer host).

Only `DCGM_FI_DEV_*` counters are collected: the profiling (`DCGM_FI_PROF_*`) ones need
CAP_SYS_ADMIN. The exporter runs as root (the kubelet's pod-resources socket is writable by root
alone, and without it no metric names its pod) with every capability dropped, no privilege
escalation, a read-only root filesystem, the RuntimeDefault seccomp profile and no service-account
token. Each monitor depends on the release installing its CRD when Triplane installs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_kubernetes import apiextensions as k8s_apiextensions
from pulumi_kubernetes import apps as k8s_apps
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import meta as k8s_meta

from triplane.components.self_managed.addons import MONITORING_NAMESPACE, SCRAPE_LABELS
from triplane.components.self_managed.device_plugin import GPU_TOLERATION_KEYS

NAME = "dcgm-exporter"
NAMESPACE = "kube-system"
PORT = 9400
PORT_NAME = "metrics"
SELECTOR = {"app.kubernetes.io/name": NAME}
POD_RESOURCES = "/var/lib/kubelet/pod-resources"
"""The kubelet's pod-resources socket directory: which pod holds which GPU."""
DEVICE_REQUEST = "/var/run/nvidia-container-devices/all"
"""Where a mount of the host's `/dev/null` asks the NVIDIA runtime for every GPU of the node."""
REQUESTS: Mapping[str, str] = {"cpu": "100m", "memory": "128Mi"}
"""The exporter's requests (the dcgm-exporter chart 4.8.2's): what `triplane cost` shows per GPU node."""
COUNTERS_DIR = "/etc/triplane-dcgm"
COUNTERS_FILE = "counters.csv"
SCRAPE_INTERVAL = "30s"

COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
)
"""Field, Prometheus type and help, as dcgm-exporter's own `etc/default-counters.csv` (4.5.3-4.8.2)
writes them: its device-level gauges, without the `DCGM_FI_PROF_*` fields that need CAP_SYS_ADMIN.
GPU memory in use is FB_USED / (FB_USED + FB_FREE)."""

GKE_NAMESPACE = "gke-managed-system"
GKE_SELECTOR = {"app.kubernetes.io/name": "gke-managed-dcgm-exporter"}
"""The pods of GKE's managed exporter and their container port `metrics` (9400), as GKE's own
ClusterPodMonitoring `gke-managed-dcgm-exporter` selects them (GKE deploys both with the DCGM
metrics package: https://cloud.google.com/kubernetes-engine/docs/how-to/dcgm-metrics)."""

Source = Literal["exporter", "gke-managed"]


@dataclass
class GpuMetricsExporterArgs:
    source: Source
    """`exporter`: Triplane's DaemonSet; `gke-managed`: scrape GKE's managed exporter."""
    image: pulumi.Input[str] | None = None
    """`exporter`: the reference the cluster pulls (`images.DCGM_EXPORTER` through its `ImageSource`)."""
    node_label: str | None = "triplane.io/gpu-type"
    """Runs only on nodes that have this label (set by GpuNodePool)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Instead of `node_label`: the labels of an existing cluster's GPU nodes."""
    toleration_keys: Sequence[str] = GPU_TOLERATION_KEYS
    monitor_after: pulumi.Resource | None = None
    """The release installing the ServiceMonitor/PodMonitor CRD (None: the cluster has it)."""
    pull_after: Sequence[pulumi.Resource] = ()
    """What the nodes' way to the image's registry waits for (the egress firewall's routes, where the
    cluster's cache cannot front it)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels (from `k8s_labels`) put on every object."""


def counters_csv() -> str:
    """The collectors file dcgm-exporter reads with `-f`: `field, type, help` per line."""
    return "".join(f"{name}, {kind}, {help_text}\n" for name, kind, help_text in COUNTERS)


def affinity(node_label: str | None, node_selector: Mapping[str, str]) -> k8s_core.v1.AffinityArgsDict:
    """GPU nodes only: those matching the node selector, else those carrying the GPU label. Unlike the
    device plugin, the exporter cannot idle on a node without GPUs (DCGM fails to start there), so a
    cluster that names neither gets no exporter."""
    terms: list[k8s_core.v1.NodeSelectorRequirementArgsDict]
    if node_selector:
        terms = [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(node_selector.items())]
    elif node_label:
        terms = [{"key": node_label, "operator": "Exists"}]
    else:
        raise ValueError(
            "GpuMetricsExporter: name the GPU nodes (node_label, or node_selector from the cluster's "
            "gpu_node_selector); on a node without GPUs the exporter cannot start"
        )
    return {
        "node_affinity": {
            "required_during_scheduling_ignored_during_execution": {
                "node_selector_terms": [{"match_expressions": terms}]
            }
        }
    }


def container(image: pulumi.Input[str]) -> k8s_core.v1.ContainerArgsDict:
    """The exporter: root for the pod-resources socket, and nothing else a root container could use."""

    def health() -> k8s_core.v1.ProbeArgsDict:
        return {
            "http_get": {"path": "/health", "port": PORT, "scheme": "HTTP"},
            "initial_delay_seconds": 45,
            "period_seconds": 10,
        }

    return {
        "name": NAME,
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "args": ["-f", f"{COUNTERS_DIR}/{COUNTERS_FILE}"],
        "env": [
            {"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"},
            # The NVIDIA device plugin names GPUs by UUID to the kubelet: map pods by UUID too.
            {"name": "DCGM_EXPORTER_KUBERNETES_GPU_ID_TYPE", "value": "uid"},
            {"name": "DCGM_EXPORTER_LISTEN", "value": f":{PORT}"},
            # The image's own value, stated: the request runtimes honour that read no volume mounts.
            {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
            {"name": "NODE_NAME", "value_from": {"field_ref": {"field_path": "spec.nodeName"}}},
        ],
        "ports": [{"name": PORT_NAME, "container_port": PORT, "protocol": "TCP"}],
        "security_context": {
            "run_as_user": 0,
            "run_as_non_root": False,
            "privileged": False,
            "allow_privilege_escalation": False,
            "read_only_root_filesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": dict(REQUESTS),
            "limits": {"cpu": "200m", "memory": "512Mi"},
        },
        # DCGM starts its host engine before serving: the chart waits 45 s before probing.
        "liveness_probe": health(),
        "readiness_probe": health(),
        "volume_mounts": [
            {"name": "pod-resources", "mount_path": POD_RESOURCES, "read_only": True},
            {"name": "gpu-request", "mount_path": DEVICE_REQUEST, "read_only": True},
            {"name": "counters", "mount_path": COUNTERS_DIR, "read_only": True},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
    }


def _endpoint() -> dict[str, Any]:
    """The exporter's own `namespace`/`pod`/`container` labels (the pod holding the GPU) win over the
    target's, and `node` names the GPU's node."""
    return {
        "port": PORT_NAME,
        "path": "/metrics",
        "scheme": "http",
        "interval": SCRAPE_INTERVAL,
        "honorLabels": True,
        "relabelings": [
            {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node", "action": "replace"}
        ],
    }


def service_monitor_spec() -> dict[str, Any]:
    """Scrape every exporter pod behind the headless Service."""
    return {
        "selector": {"matchLabels": dict(SELECTOR)},
        "namespaceSelector": {"matchNames": [NAMESPACE]},
        "endpoints": [_endpoint()],
    }


def gke_pod_monitor_spec() -> dict[str, Any]:
    """Scrape GKE's managed exporter pods in their own namespace (a PodMonitor may select another's)."""
    return {
        "selector": {"matchLabels": dict(GKE_SELECTOR)},
        "namespaceSelector": {"matchNames": [GKE_NAMESPACE]},
        "podMetricsEndpoints": [_endpoint()],
    }


class GpuMetricsExporter(pulumi.ComponentResource):
    """The GPU metrics of one cluster, scraped by its Prometheus."""

    monitor_name: pulumi.Output[str]
    """The ServiceMonitor's name (in kube-system) or the PodMonitor's (in the monitoring namespace)."""

    def __init__(self, name: str, args: GpuMetricsExporterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:GpuMetricsExporter", name, None, opts)
        monitor_opts = pulumi.ResourceOptions(
            parent=self, depends_on=[args.monitor_after] if args.monitor_after is not None else []
        )
        labels = {**args.tags, **SELECTOR}
        if args.source == "exporter":
            if args.image is None:
                raise ValueError("GpuMetricsExporter: the `exporter` source needs `image` (images.DCGM_EXPORTER)")
            self._exporter(name, args, args.image, labels)
            monitor_name = NAME
            k8s_apiextensions.CustomResource(
                f"{name}-servicemonitor",
                api_version="monitoring.coreos.com/v1",
                kind="ServiceMonitor",
                metadata={"name": NAME, "namespace": NAMESPACE, "labels": {**labels, **SCRAPE_LABELS}},
                spec=service_monitor_spec(),
                opts=monitor_opts,
            )
        elif args.source == "gke-managed":
            monitor_name = "gke-managed-dcgm-exporter"
            k8s_apiextensions.CustomResource(
                f"{name}-podmonitor",
                api_version="monitoring.coreos.com/v1",
                kind="PodMonitor",
                metadata={
                    "name": monitor_name,
                    "namespace": MONITORING_NAMESPACE,
                    "labels": {**args.tags, **SCRAPE_LABELS},
                },
                spec=gke_pod_monitor_spec(),
                opts=monitor_opts,
            )
        else:
            raise ValueError(f"GpuMetricsExporter: unknown source {args.source!r}; known: exporter, gke-managed")
        self.monitor_name = pulumi.Output.from_input(monitor_name)
        self.register_outputs({"monitor_name": self.monitor_name})

    def _exporter(
        self, name: str, args: GpuMetricsExporterArgs, image: pulumi.Input[str], labels: dict[str, str]
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        counters = k8s_core.v1.ConfigMap(
            f"{name}-counters",
            metadata={"name": f"{NAME}-counters", "namespace": NAMESPACE, "labels": labels},
            data={COUNTERS_FILE: counters_csv()},
            opts=child,
        )
        spec: k8s_apps.v1.DaemonSetSpecArgsDict = {
            "selector": {"match_labels": dict(SELECTOR)},
            "update_strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "priority_class_name": "system-node-critical",
                    "automount_service_account_token": False,
                    "enable_service_links": False,
                    "affinity": affinity(args.node_label, args.node_selector),
                    "tolerations": [{"key": key, "operator": "Exists"} for key in args.toleration_keys],
                    "security_context": {"seccomp_profile": {"type": "RuntimeDefault"}},
                    "containers": [container(image)],
                    "volumes": [
                        {"name": "pod-resources", "host_path": {"path": POD_RESOURCES, "type": "Directory"}},
                        {"name": "gpu-request", "host_path": {"path": "/dev/null", "type": "CharDevice"}},
                        {"name": "counters", "config_map": {"name": f"{NAME}-counters"}},
                        {"name": "tmp", "empty_dir": {"size_limit": "64Mi"}},
                    ],
                },
            },
        }
        metadata: k8s_meta.v1.ObjectMetaArgsDict = {"name": NAME, "namespace": NAMESPACE, "labels": labels}
        k8s_apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata=metadata,
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[counters, *args.pull_after]),
        )
        k8s_core.v1.Service(
            f"{name}-service",
            metadata={"name": NAME, "namespace": NAMESPACE, "labels": labels},
            spec={
                "cluster_ip": "None",
                "selector": dict(SELECTOR),
                "ports": [{"name": PORT_NAME, "port": PORT, "target_port": PORT_NAME, "protocol": "TCP"}],
            },
            opts=child,
        )


__all__ = [
    "COUNTERS",
    "GKE_NAMESPACE",
    "GKE_SELECTOR",
    "NAME",
    "NAMESPACE",
    "PORT",
    "GpuMetricsExporter",
    "GpuMetricsExporterArgs",
    "affinity",
    "container",
    "counters_csv",
    "gke_pod_monitor_spec",
    "service_monitor_spec",
]
