"""GPU metrics: NVIDIA's dcgm-exporter pulled through the cluster's cache, on GPU nodes only, as root
for the kubelet's pod-resources socket and nothing more, scraped by Triplane's Prometheus through a
monitor that validates against the pinned CRD and waits for the release installing it; on GKE a
PodMonitor of GKE's own exporter; wired on every shipped GPU cluster it can work on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_kubernetes import provider as k8s_provider

from tests.crd_support import SHARED, needs_shared, validate_crs
from triplane.components import images
from triplane.components.images import Mirror, PullThroughCache
from triplane.components.self_managed.addons import (
    MONITORING_NAMESPACE,
    SCRAPE_LABELS,
    ClusterAddons,
    ClusterAddonsArgs,
)
from triplane.components.self_managed.device_plugin import GPU_TOLERATION_KEYS
from triplane.components.self_managed.gpu_metrics import (
    COUNTERS,
    GKE_NAMESPACE,
    GKE_SELECTOR,
    GpuMetricsExporter,
    GpuMetricsExporterArgs,
    affinity,
    counters_csv,
)
from triplane.components.tagging import k8s_labels, standard_tags
from triplane.decide.cost import shared_lines
from triplane.decide.prices import load_prices
from triplane.gate import check_plan
from triplane.k8s_out import write_manifests
from triplane.plan import Plan, PlannedResource, run_program
from triplane.policies.deployability import runtime_paths
from triplane.runtime import plan_resources
from triplane.stackfile import load_stack
from triplane.stacks import program
from triplane.stacks.clusters import gpu_metrics_source, gpu_node_images
from triplane.stacks.egress import egress_allowlist
from triplane.stacks.spec import Environment

DAEMONSET = "kubernetes:apps/v1:DaemonSet"
SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
RELEASE = "kubernetes:helm.sh/v3:Release"
TAGS = k8s_labels(standard_tags(environment="ts", owner="platform-team", cost_center="cc-1"))
ACR = PullThroughCache("acmeimages.azurecr.io", {"nvcr.io": "nvcr", "quay.io": "quay"})


def _plan(source: str = "exporter", **overrides: Any) -> Plan:
    def program() -> None:
        provider = k8s_provider.Provider("ts-k8s", context="onprem")
        opts = pulumi.ResourceOptions(providers=[provider])
        addons = ClusterAddons("ts-addons", ClusterAddonsArgs(install={"prometheus-operator"}, images=ACR), opts=opts)
        args: dict[str, Any] = {
            "source": source,
            "image": ACR.ref(images.DCGM_EXPORTER) if source == "exporter" else None,
            "monitor_after": addons.releases["prometheus-operator"],
            "tags": TAGS,
            **overrides,
        }
        GpuMetricsExporter("ts-gpu-metrics", GpuMetricsExporterArgs(**args), opts=opts)

    return run_program(program, stack="ts")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan()


def _pod(plan: Plan) -> dict[str, Any]:
    return plan.one(DAEMONSET, "ts-gpu-metrics-daemonset").inputs["spec"]["template"]["spec"]


def _container(plan: Plan) -> dict[str, Any]:
    containers = _pod(plan)["containers"]
    assert len(containers) == 1
    return containers[0]


# --- the DaemonSet -------------------------------------------------------------------------------


def test_image_is_the_pinned_exporter_through_the_cluster_cache(plan: Plan) -> None:
    assert images.DCGM_EXPORTER.upstream == "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
    container = _container(plan)
    assert container["image"] == "acmeimages.azurecr.io/nvcr/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
    assert container["imagePullPolicy"] == "IfNotPresent"
    mirrored = _plan(image=Mirror("registry.corp/mirror").ref(images.DCGM_EXPORTER))
    assert (
        _container(mirrored)["image"] == "registry.corp/mirror/nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
    )


def test_runs_in_kube_system_on_gpu_nodes_only_tolerating_every_gpu_taint(plan: Plan) -> None:
    daemonset = plan.one(DAEMONSET, "ts-gpu-metrics-daemonset").inputs
    assert daemonset["metadata"]["namespace"] == "kube-system"
    pod = _pod(plan)
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "triplane.io/gpu-type", "operator": "Exists"}]}]
    assert pod["tolerations"] == [{"key": key, "operator": "Exists"} for key in GPU_TOLERATION_KEYS]
    assert {t["key"] for t in pod["tolerations"]} == {"nvidia.com/gpu", "sku", "kubernetes.azure.com/scalesetpriority"}
    assert pod["priorityClassName"] == "system-node-critical"
    selected = _plan(node_label=None, node_selector={"nvidia.com/gpu.product": "NVIDIA-L4", "pool": "gpu"})
    terms = _pod(selected)["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {
            "matchExpressions": [
                {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["NVIDIA-L4"]},
                {"key": "pool", "operator": "In", "values": ["gpu"]},
            ]
        }
    ]


def test_a_cluster_that_names_no_gpu_nodes_is_refused() -> None:
    # DCGM cannot start on a node without GPUs: running everywhere would crash-loop on CPU nodes.
    with pytest.raises(ValueError, match="name the GPU nodes"):
        affinity(None, {})


def test_runs_as_root_for_the_socket_with_every_other_restriction(plan: Plan) -> None:
    pod = _pod(plan)
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert not any(pod.get(field) for field in ("hostNetwork", "hostPID", "hostIPC"))
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert _container(plan)["securityContext"] == {
        "runAsUser": 0,
        "runAsNonRoot": False,
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    resources = _container(plan)["resources"]
    assert resources == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "512Mi"}}


def test_mounts_the_pod_resources_socket_read_only_and_its_counters(plan: Plan) -> None:
    pod = _pod(plan)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["pod-resources"]["hostPath"] == {"path": "/var/lib/kubelet/pod-resources", "type": "Directory"}
    assert volumes["counters"]["configMap"] == {"name": "dcgm-exporter-counters"}
    assert volumes["tmp"]["emptyDir"] == {"sizeLimit": "64Mi"}
    # The only host paths: the kubelet's socket directory, and /dev/null as the runtime's GPU request.
    assert [name for name, v in volumes.items() if "hostPath" in v] == ["pod-resources", "gpu-request"]
    assert volumes["gpu-request"]["hostPath"] == {"path": "/dev/null", "type": "CharDevice"}
    mounts = {m["name"]: m for m in _container(plan)["volumeMounts"]}
    assert mounts["pod-resources"] == {
        "name": "pod-resources",
        "mountPath": "/var/lib/kubelet/pod-resources",
        "readOnly": True,
    }
    # The NVIDIA toolkit reads a /dev/null mount under this directory as a request for the GPUs named by
    # the rest of the path (internal/config/image/cuda_image.go, requestsFromMounts).
    assert mounts["gpu-request"] == {
        "name": "gpu-request",
        "mountPath": "/var/run/nvidia-container-devices/all",
        "readOnly": True,
    }
    env = {e["name"]: e.get("value") for e in _container(plan)["env"]}
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert mounts["counters"]["readOnly"] is True
    args = _container(plan)["args"]
    assert args == ["-f", f"{mounts['counters']['mountPath']}/counters.csv"]
    config = plan.one(CONFIG_MAP, "ts-gpu-metrics-counters").inputs
    assert config["metadata"] == {
        "name": "dcgm-exporter-counters",
        "namespace": "kube-system",
        "labels": config["metadata"]["labels"],
    }
    assert config["data"] == {"counters.csv": counters_csv()}


def test_counters_are_device_gauges_with_utilisation_and_memory() -> None:
    lines = counters_csv().splitlines()
    fields = [line.split(",")[0] for line in lines]
    assert {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"} <= set(fields)
    # Profiling fields need CAP_SYS_ADMIN, which the exporter does not get.
    assert all(f.startswith("DCGM_FI_DEV_") for f in fields)
    assert lines[0] == "DCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (in %)."
    assert len(lines) == len(COUNTERS) and all(line.count(",") == 2 for line in lines)


def test_listens_on_9400_and_maps_gpus_to_pods(plan: Plan) -> None:
    container = _container(plan)
    assert container["ports"] == [{"name": "metrics", "containerPort": 9400, "protocol": "TCP"}]
    env = {e["name"]: e for e in container["env"]}
    assert env["DCGM_EXPORTER_KUBERNETES"]["value"] == "true"
    assert env["DCGM_EXPORTER_KUBERNETES_GPU_ID_TYPE"]["value"] == "uid"
    assert env["DCGM_EXPORTER_LISTEN"]["value"] == ":9400"
    assert env["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": 9400, "scheme": "HTTP"}


# --- the Service and the monitor -----------------------------------------------------------------


def test_service_monitor_selects_the_headless_service_and_carries_the_scrape_label(plan: Plan) -> None:
    service = plan.one(SERVICE, "ts-gpu-metrics-service").inputs
    pod_labels = plan.one(DAEMONSET, "ts-gpu-metrics-daemonset").inputs["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9400, "targetPort": "metrics", "protocol": "TCP"}]
    monitor = plan.one(SERVICE_MONITOR).inputs
    assert SCRAPE_LABELS.items() <= monitor["metadata"]["labels"].items()
    assert TAGS.items() <= monitor["metadata"]["labels"].items()
    spec = monitor["spec"]
    assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert spec["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"] == "kube-system"
    [endpoint] = spec["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert (endpoint["path"], endpoint["scheme"], endpoint["interval"]) == ("/metrics", "http", "30s")
    # The exporter's namespace/pod (the pod holding the GPU) are kept, not renamed exported_*.
    assert endpoint["honorLabels"] is True
    assert endpoint["relabelings"] == [
        {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node", "action": "replace"}
    ]


def test_the_monitor_waits_for_the_release_installing_its_crd(plan: Plan) -> None:
    release = plan.one(RELEASE, "ts-addons-prometheus-operator").urn
    assert release in plan.one(SERVICE_MONITOR).dependencies
    assert release not in plan.one(DAEMONSET, "ts-gpu-metrics-daemonset").dependencies
    gke = _plan(source="gke-managed")
    assert gke.one(RELEASE, "ts-addons-prometheus-operator").urn in gke.one(POD_MONITOR).dependencies


def test_gke_scrapes_the_managed_exporter_and_deploys_none() -> None:
    plan = _plan(source="gke-managed")
    assert plan.by_type(DAEMONSET) == [] and plan.by_type(SERVICE_MONITOR) == []
    assert [r for r in plan.by_type(SERVICE) if r.name.startswith("ts-gpu-metrics")] == []
    monitor = plan.one(POD_MONITOR).inputs
    assert monitor["metadata"]["namespace"] == MONITORING_NAMESPACE
    assert SCRAPE_LABELS.items() <= monitor["metadata"]["labels"].items()
    spec = monitor["spec"]
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "gke-managed-dcgm-exporter"}}
    assert spec["selector"]["matchLabels"] == GKE_SELECTOR
    assert spec["namespaceSelector"] == {"matchNames": [GKE_NAMESPACE]} == {"matchNames": ["gke-managed-system"]}
    [endpoint] = spec["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["honorLabels"]) == ("metrics", "/metrics", True)


def test_the_exporter_needs_its_image() -> None:
    with pytest.raises(ValueError, match="needs `image`"):
        _plan(image=None)


@needs_shared
@pytest.mark.parametrize("source", ["exporter", "gke-managed"])
def test_the_monitor_validates_against_the_pinned_crd(source: str, tmp_path: Path) -> None:
    assert SHARED is not None
    write_manifests(_plan(source=source), tmp_path)
    result = validate_crs(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 checked, 0 invalid, 0 of unknown kind" in result.stdout


@needs_shared
def test_a_broken_monitor_is_caught_by_the_crd(tmp_path: Path) -> None:
    write_manifests(_plan(), tmp_path)
    [path] = list(tmp_path.rglob("*servicemonitor*"))
    path.write_text(path.read_text().replace("honorLabels", "honourLabels"))
    result = validate_crs(tmp_path)
    assert result.returncode == 1 and "1 invalid" in result.stdout, result.stdout + result.stderr


# --- the shipped stacks --------------------------------------------------------------------------


def _exporters(plan: Plan) -> dict[str, PlannedResource]:
    return {r.name: r for r in plan.by_type("triplane:selfmanaged:GpuMetricsExporter")}


def test_prod_wires_gpu_metrics_on_every_cluster(prod_plan: Plan) -> None:
    # AKS: Triplane's exporter from the ACR cache; EKS: Triplane's exporter from nvcr.io through the egress
    # firewall (ECR cannot cache nvcr.io); GKE: GKE's exporter scraped.
    assert sorted(_exporters(prod_plan)) == [
        "prod-gpu-aws-gpu-metrics",
        "prod-gpu-azure-gpu-metrics",
        "prod-gpu-gcp-gpu-metrics",
    ]
    [daemonset] = [r for r in prod_plan.by_type(DAEMONSET) if r.name.startswith("prod-gpu-azure-gpu-metrics")]
    pod = daemonset.inputs["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == (
        "prodimagesrgtriplaneprod.azurecr.io/nvcr/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
    )
    plugin = prod_plan.one(DAEMONSET, "prod-gpu-azure-nvidia-daemonset")
    assert daemonset.provider == plugin.provider
    # Pulled from the registry's cache: it waits for no firewall route.
    assert [d for d in daemonset.dependencies if "ec2/route" in d or "Egress" in d] == []
    assert pod["affinity"] == plugin.inputs["spec"]["template"]["spec"]["affinity"]
    assert pod["tolerations"] == plugin.inputs["spec"]["template"]["spec"]["tolerations"]
    for cluster, kind in (("prod-gpu-aws", SERVICE_MONITOR), ("prod-gpu-azure", SERVICE_MONITOR),
                          ("prod-gpu-gcp", POD_MONITOR)):
        release = prod_plan.one(RELEASE, f"{cluster}-addons-prometheus-operator")
        [monitor] = [r for r in prod_plan.by_type(kind) if r.name.startswith(f"{cluster}-gpu-metrics")]
        assert release.urn in monitor.dependencies
        assert monitor.provider == release.provider
    eks = prod_plan.one(DAEMONSET, "prod-gpu-aws-gpu-metrics-daemonset").inputs["spec"]["template"]["spec"]
    assert eks["containers"][0]["image"] == "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
    # The EKS pool's nodes carry Triplane's GPU label, which the exporter's affinity selects.
    assert eks["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "triplane.io/gpu-type", "operator": "Exists"}]}]
    }
    # The GKE exporter scraped above runs because the cluster turns the DCGM package on (it needs managed
    # collection on): without it the PodMonitor would select nothing.
    gke = prod_plan.one("gcp:container/cluster:Cluster", "prod-gpu-gcp-cluster").inputs["monitoringConfig"]
    assert gke == {"enableComponents": ["SYSTEM_COMPONENTS", "DCGM"], "managedPrometheus": {"enabled": True}}


def test_prod_passes_the_gate_with_gpu_metrics(prod_plan: Plan) -> None:
    stack_file = load_stack("prod")
    result = check_plan(prod_plan, stack_config=stack_file.config)
    assert result.mandatory == [], result.render()
    needs = runtime_paths(plan_resources(prod_plan), stack_file.environment().model_dump(mode="json"))
    assert [n.message() for n in needs if not n.met] == []
    exporter = [n for n in needs if n.kind == "images" and "dcgm-exporter" in n.what]
    assert exporter and all(n.met for n in exporter)
    crds = [n for n in needs if n.kind == "crds" and "gpu-metrics" in (n.urn or "")]
    assert len(crds) == 3 and all(n.met for n in crds)
    # Each exporter reaches its node's GPUs in the form that node's NVIDIA runtime honours.
    paths = sorted(str(n.path).split(",")[0] for n in needs if n.kind == "gpus" and "dcgm-exporter" in n.workload)
    assert paths == [
        "NVIDIA_VISIBLE_DEVICES=all",
        "a volume-mount device request (the host's /dev/null under /var/run/nvidia-container-devices/)",
    ]


def test_the_eks_exporter_pulls_through_the_egress_firewall(dev_plan: Plan) -> None:
    [need] = [n for n in runtime_paths(plan_resources(dev_plan), load_stack("dev").environment().model_dump(
        mode="json")) if n.kind == "images" and "dcgm-exporter" in n.what]
    assert need.met and need.path == "the egress allowlist entries for nvcr.io, ngc.download.nvidia.com"
    # The DaemonSet waits for each zone's route through the firewall, so its first pull has a way out.
    routes = {r.urn for r in dev_plan.by_type("aws:ec2/route:Route") if r.name.startswith("dev-egress-app-")}
    assert len(routes) == 2
    assert routes <= set(dev_plan.one(DAEMONSET, "dev-gpu-gpu-metrics-daemonset").dependencies)


def test_a_cluster_naming_no_gpu_nodes_has_no_exporter(local_plan: Plan) -> None:
    # local names no GPU nodes (the exporter would crash-loop on its CPU nodes).
    assert _exporters(local_plan) == {}


# --- the EKS exporter's way to nvcr.io --------------------------------------------------------------


def _dev(**changes: Any) -> Environment:
    data = load_stack("dev").environment().model_dump(mode="json", exclude_unset=True)
    data.update(changes)
    return Environment.model_validate({k: v for k, v in data.items() if v is not None})


def _servers_only(weights: str) -> dict[str, Any]:
    """dev without its gateway, SaaS and Bedrock use cases, its server's weights from `weights`."""
    data = _dev().model_dump(mode="json", exclude_unset=True)
    data.pop("gateway")
    data["use_cases"] = [u for u in data["use_cases"] if u["pattern"] == "self-managed"]
    for use_case in data["use_cases"]:
        use_case["weights"] = {"source": weights}
        use_case.pop("consumers", None)
    return data


def test_the_eks_exporters_registry_is_on_its_networks_allowlist_as_the_clusters() -> None:
    # ECR has no nvcr.io upstream: the GPU nodes pull the exporter through the egress firewall.
    entries = [(e.host, e.owner, e.reason) for e in egress_allowlist(_dev(), "aws") if e.owner.startswith("cluster")]
    assert entries == [
        ("ngc.download.nvidia.com", "cluster gpu", "image nvidia/k8s/dcgm-exporter"),
        ("nvcr.io", "cluster gpu", "image nvidia/k8s/dcgm-exporter"),
    ]
    # ACR and Artifact Registry cache nvcr.io: nothing goes out for it there.
    prod = load_stack("prod").environment()
    assert [e for cloud in ("azure", "gcp") for e in egress_allowlist(prod, cloud) if "nvidia" in e.host] == []


def test_without_monitoring_no_exporter_and_no_way_out_for_it() -> None:
    environment = _dev(monitoring=None)
    [cluster] = environment.kubernetes
    assert gpu_metrics_source(environment, cluster) is None and gpu_node_images(environment, cluster) == ()
    assert [e.host for e in egress_allowlist(environment, "aws") if "nvidia" in e.host] == []


def test_an_eks_cluster_in_an_existing_vpc_has_no_exporter() -> None:
    # Its way out is not Triplane's to route, so nothing proves a path to nvcr.io there.
    data = _servers_only("hub")
    data["clouds"]["aws"]["network"] = {"existing": {
        "vpc_id": "vpc-0123456789abcdef0",
        "app_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        "application_cidrs": ["10.40.0.0/20"],
    }}
    environment = Environment.model_validate(data)
    [cluster] = environment.kubernetes
    assert gpu_metrics_source(environment, cluster) is None
    assert gpu_metrics_source(_dev(), cluster) == "exporter"


def test_a_network_whose_only_way_out_is_the_exporter_gets_its_firewall_and_its_price() -> None:
    # dev's server alone, its weights from a bucket: nothing else leaves the VPC.
    data = _servers_only("s3://acme-models/mistral/e0bc86c23ce5aae1db576c8cca6f06f1f73af2db")
    environment = Environment.model_validate(data)
    assert [e.host for e in egress_allowlist(environment, "aws")] == ["ngc.download.nvidia.com", "nvcr.io"]
    credentials = {
        "triplane:dockerHubCredentials": '{"username": "u", "accessToken": "dckr_pat_planted"}',
        "triplane:ghcrCredentials": '{"username": "u", "accessToken": "ghp_plantedplantedplantedplanted00"}',
    }
    plan = run_program(program.main, stack="st", config={"triplane:environment": data, **credentials},
                       secret_keys=list(credentials))
    [rules] = plan.by_type("aws:networkfirewall/ruleGroup:RuleGroup")
    targets = rules.inputs["ruleGroup"]["rulesSource"]["rulesSourceList"]["targets"]
    assert targets == ["ngc.download.nvidia.com", "nvcr.io"]
    items = [line.item for line in shared_lines(environment, load_prices())]
    assert "aws egress: Network Firewall endpoint per zone" in items
