"""Cluster add-ons: custom resources only where their CRDs exist, autoscaling that can scale (KEDA on
a scraped queue metric, woken from zero by a cron trigger), and a device plugin on every GPU cluster.

Each check below is a function over a plan, run on the shipped stacks (no findings) and on a plan
that has the fault (a finding), so each fault would be caught again.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi_kubernetes import autoscaling as k8s_autoscaling
from pulumi_kubernetes import provider as k8s_provider

from tests.crd_support import SHARED, needs_shared, validate_crs
from triplane.components import images
from triplane.components.images import Mirror
from triplane.components.self_managed.addons import (
    CHARTS,
    IMAGES,
    PROMETHEUS_URL,
    SCRAPE_LABELS,
    ClusterAddons,
    ClusterAddonsArgs,
)
from triplane.components.self_managed.autoscaling import ActiveHours, QueueScaling, queue_query, scaled_object_spec
from triplane.components.self_managed.model_server import ClientAccess, TgiService, TgiServiceArgs
from triplane.k8s_out import manifest, write_manifests
from triplane.plan import Plan, PlannedResource, run_program
from triplane.policies.deployability import runtime_paths
from triplane.runtime import plan_resources
from triplane.stackfile import load_stack, plan_stack
from triplane.stacks import program
from triplane.stacks.clouds import SEAMS
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.self_managed import SelfManagedUseCase

STACKS = ("dev", "prod", "local")
SOURCE = "stacks/Pulumi.test.yaml"
SHA = "0e9e39f249a16976918f6564b8830bc894c89659"
HOURS = {"timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 19 * * 1-5"}
RELEASE = "kubernetes:helm.sh/v3:Release"




# --- the checks ----------------------------------------------------------------------------------


def cluster_of(resource: PlannedResource) -> str:
    """The Kubernetes provider's name (`<stack>-<cluster>-k8s`) a resource is created through."""
    parts = (resource.provider or "").split("::")
    return parts[3] if len(parts) >= 4 else ""


def unmet(plan: Plan, environment: Environment | None, kind: str) -> list[str]:
    """What the gate's deployability pass finds without a path, for one kind of need."""
    spec = environment.model_dump(mode="json") if environment is not None else None
    return [n.message() for n in runtime_paths(plan_resources(plan), spec) if n.kind == kind and not n.met]


# --- the shipped stacks --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, tuple[Environment, Plan]]:
    result = {}
    for stack in STACKS:
        stack_file = load_stack(stack)
        secrets = {key: "planted" for key in stack_file.secret_keys}
        result[stack] = (load_stack(stack, secrets).environment(), plan_stack(stack, secret_values=secrets))
    return result


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_have_every_crd_and_a_device_plugin(stack: str, shipped: dict[str, Any]) -> None:
    environment, plan = shipped[stack]
    assert unmet(plan, environment, "crds") == []
    assert unmet(plan, environment, "autoscaling") == []
    assert not [r for r in plan.resources if r.type.endswith(":HorizontalPodAutoscaler")]
    assert unmet(plan, environment, "gpus") == []


def test_prod_runs_every_cluster_kind(shipped: dict[str, Any]) -> None:
    environment, plan = shipped["prod"]
    assert {c.new.cloud for c in environment.kubernetes if c.new is not None} == {"aws", "azure", "gcp"}
    # AKS installs only the driver: Triplane's plugin runs there; EKS's Bottlerocket AMI and GKE bring their own.
    plugins = {cluster_of(r) for r in plan.by_type("kubernetes:apps/v1:DaemonSet") if "nvidia" in r.name}
    assert plugins == {"prod-gpu-azure-k8s"}
    pool = plan.one("azure-native:containerservice:AgentPool").inputs
    assert pool["vmSize"] == "Standard_NC8as_T4_v3"
    assert pool["nodeTaints"] == ["sku=gpu:NoSchedule"]
    local_env, _ = shipped["local"]
    assert local_env.kubernetes[0].existing is not None


def test_prod_installs_only_what_its_use_cases_need(shipped: dict[str, Any]) -> None:
    _, plan = shipped["prod"]
    # patient-records (EKS) autoscales; every server is scraped for its alerts (prod has `monitoring`), and
    # the AKS and GKE GPU metrics reach the same Prometheus (gpu_metrics).
    installed = sorted((cluster_of(r), r.inputs["chart"]) for r in plan.by_type(RELEASE))
    assert installed == [
        ("prod-gpu-aws-k8s", "keda"),
        ("prod-gpu-aws-k8s", "kube-prometheus-stack"),
        ("prod-gpu-azure-k8s", "kube-prometheus-stack"),
        ("prod-gpu-gcp-k8s", "kube-prometheus-stack"),
    ]


def test_dev_code_review_scales_from_zero_on_its_active_hours(shipped: dict[str, Any]) -> None:
    _, plan = shipped["dev"]
    scaled = plan.one("kubernetes:keda.sh/v1alpha1:ScaledObject", "dev-code-review-scaledobject").inputs
    spec = scaled["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 2)
    queue, hours = spec["triggers"]
    assert queue["type"] == "prometheus" and queue["metricType"] == "AverageValue"
    assert queue["metadata"] == {
        "serverAddress": "http://triplane-prometheus.monitoring.svc.cluster.local:9090",
        "query": 'sum(tgi_queue_size{namespace="code-review",service="dev-code-review-metrics"})',
        "threshold": "8",
        "activationThreshold": "0",
        "ignoreNullValues": "true",
    }
    assert hours == {
        "type": "cron",
        "name": "active-hours",
        "metadata": {
            "timezone": "America/New_York",
            "start": "0 8 * * 1-5",
            "end": "0 19 * * 1-5",
            "desiredReplicas": "1",
        },
    }
    # The queue is scraped: a ServiceMonitor Triplane's Prometheus selects, on the metrics Service the
    # query names, and the server's NetworkPolicy admits the monitoring namespace on that port.
    monitor = plan.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "dev-code-review-servicemonitor").inputs
    assert SCRAPE_LABELS.items() <= monitor["metadata"]["labels"].items()
    metrics = plan.one("kubernetes:core/v1:Service", "dev-code-review-metrics").inputs
    assert metrics["metadata"]["name"] == "dev-code-review-metrics"
    assert metrics["spec"]["ports"][0]["port"] == 9000
    ingress = plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "dev-code-review-ingress").inputs
    scrape = {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"protocol": "TCP", "port": 9000}],
    }
    assert scrape in ingress["spec"]["ingress"]
    assert "replicas" not in plan.one("kubernetes:apps/v1:Deployment", "dev-code-review-deployment").inputs["spec"]


def test_prometheus_release_serves_the_url_and_selects_the_monitors(shipped: dict[str, Any]) -> None:
    _, plan = shipped["dev"]
    release = plan.one(RELEASE, "dev-gpu-addons-prometheus-operator").inputs
    values = release["values"]
    service = f"{values['fullnameOverride']}-prometheus.{release['namespace']}.svc.cluster.local"
    assert f"http://{service}:9090" == PROMETHEUS_URL
    prometheus = values["prometheus"]["prometheusSpec"]
    assert prometheus["serviceMonitorSelector"] == {"matchLabels": SCRAPE_LABELS}
    assert prometheus["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert prometheus["version"] == "v3.13.2"
    for off in ("alertmanager", "grafana", "kubeStateMetrics", "nodeExporter", "kubernetesServiceMonitors"):
        assert values[off] == {"enabled": False}


# --- the releases --------------------------------------------------------------------------------


def test_chart_versions_ship_the_crd_versions_we_target() -> None:
    assert (CHARTS["prometheus-operator"].name, CHARTS["prometheus-operator"].version) == (
        "kube-prometheus-stack",
        "88.3.0",
    )
    assert CHARTS["prometheus-operator"].app_version == images.PROMETHEUS_OPERATOR.tag == "v0.93.0"
    assert (CHARTS["keda"].name, CHARTS["keda"].version, CHARTS["keda"].app_version) == ("keda", "2.20.2", "2.20.2")
    assert images.KEDA.tag == CHARTS["keda"].app_version


@needs_shared
def test_pinned_crd_folders_match_the_charts() -> None:
    assert SHARED is not None
    folders = {p.name for p in (SHARED / "crds").iterdir() if p.is_dir()}
    assert f"prometheus-operator-{CHARTS['prometheus-operator'].app_version}" in folders
    assert f"keda-v{CHARTS['keda'].app_version}" in folders


def _addons_program() -> None:
    ClusterAddons(
        "t-addons",
        ClusterAddonsArgs(install={"keda", "prometheus-operator"}, images=Mirror("registry.corp.example/mirror")),
    )


@pytest.fixture(scope="module")
def addons_plan() -> Plan:
    return run_program(_addons_program, stack="ts")


def test_releases_are_pinned_in_their_own_namespaces(addons_plan: Plan) -> None:
    for addon, chart in CHARTS.items():
        release = addons_plan.one(RELEASE, f"t-addons-{addon}")
        inputs = release.inputs
        assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]) == (
            chart.name,
            chart.version,
            {"repo": chart.repository},
        )
        assert inputs["namespace"] == {"prometheus-operator": "monitoring", "keda": "keda"}[addon]
        assert inputs["createNamespace"] is False and inputs["atomic"] is True
        namespace = addons_plan.one("kubernetes:core/v1:Namespace", f"t-addons-{addon}-namespace")
        assert namespace.urn in release.dependencies
        assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_release_images_come_from_the_cluster_source(addons_plan: Plan) -> None:
    keda = addons_plan.one(RELEASE, "t-addons-keda").inputs["values"]
    assert keda["image"]["keda"] == {
        "registry": "registry.corp.example",
        "repository": "mirror/ghcr.io/kedacore/keda",
        "tag": "2.20.2",
    }
    assert keda["image"]["metricsApiServer"]["repository"] == "mirror/ghcr.io/kedacore/keda-metrics-apiserver"
    assert keda["image"]["webhooks"]["repository"] == "mirror/ghcr.io/kedacore/keda-admission-webhooks"
    prometheus = addons_plan.one(RELEASE, "t-addons-prometheus-operator").inputs["values"]
    operator = prometheus["prometheusOperator"]
    assert operator["image"] == {
        "registry": "registry.corp.example",
        "repository": "mirror/quay.io/prometheus-operator/prometheus-operator",
        "tag": "v0.93.0",
        "sha": "",
    }
    assert operator["prometheusConfigReloader"]["image"]["repository"] == (
        "mirror/quay.io/prometheus-operator/prometheus-config-reloader"
    )
    assert prometheus["prometheus"]["prometheusSpec"]["image"]["repository"] == "mirror/quay.io/prometheus/prometheus"
    # Every image an add-on pulls is one of the values set above.
    set_in_values = {
        f"{v['repository'].removeprefix('mirror/')}:{v['tag']}"
        for v in (
            *(keda["image"][k] for k in ("keda", "metricsApiServer", "webhooks")),
            operator["image"],
            operator["prometheusConfigReloader"]["image"],
            prometheus["prometheus"]["prometheusSpec"]["image"],
        )
    }
    assert set_in_values == {f"{i.host}/{i.repository}:{i.tag}" for found in IMAGES.values() for i in found}


def test_release_pods_run_as_non_root(addons_plan: Plan) -> None:
    keda = addons_plan.one(RELEASE, "t-addons-keda").inputs["values"]
    prometheus = addons_plan.one(RELEASE, "t-addons-prometheus-operator").inputs["values"]
    pods = [
        *keda["podSecurityContext"].values(),
        prometheus["prometheusOperator"]["securityContext"],
        prometheus["prometheus"]["prometheusSpec"]["securityContext"],
    ]
    assert len(pods) == 5
    for pod in pods:
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in [*keda["securityContext"].values(), prometheus["prometheusOperator"]["containerSecurityContext"]]:
        assert container["allowPrivilegeEscalation"] is False
        assert container["readOnlyRootFilesystem"] is True
        assert container["capabilities"] == {"drop": ["ALL"]}


def test_split_reference() -> None:
    assert images.split_reference("ghcr.io/kedacore/keda:2.20.2") == {
        "registry": "ghcr.io",
        "repository": "kedacore/keda",
        "tag": "2.20.2",
    }
    pinned = "123456789012.dkr.ecr.us-east-1.amazonaws.com/quay/prometheus/prometheus:v3.13.2@sha256:ab12"
    assert images.split_reference(pinned)["tag"] == "v3.13.2@sha256:ab12"
    assert images.split_reference(pinned, "sha") == {
        "registry": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "repository": "quay/prometheus/prometheus",
        "tag": "v3.13.2",
        "sha": "ab12",
    }
    assert images.split_reference("localhost:5000/keda:2.20.2")["registry"] == "localhost:5000"
    with pytest.raises(ValueError, match="no tag"):
        images.split_reference("ghcr.io/kedacore/keda")
    with pytest.raises(ValueError, match="registry host"):
        images.split_reference("kedacore/keda:2.20.2")


# --- plans with the faults -----------------------------------------------------------------------


ENVIRONMENT: dict[str, Any] = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "tier": "dev",
    "clouds": {
        "azure": {"location": "westeurope", "resource_group": "rg-t", "network": {"new": {"cidr": "10.20.0.0/16"}}}
    },
    "kubernetes": [
        {"name": "gpu", "version": "1.35", "new": {"cloud": "azure", "deployer": {"private_cidrs": ["10.50.0.0/24"]}}}
    ],
    "use_cases": [
        {
            "name": "chat",
            "pattern": "self-managed",
            "data_classification": "internal",
            "cluster": "gpu",
            "model": {"id": "meta-llama/Llama-3.2-3B-Instruct", "revision": SHA, "dtype": "float16"},
            "gpu": {"type": "nvidia-t4", "count": 1},
            "replicas": {"min": 0, "max": 2},
            "cache": {"access_mode": "ReadWriteMany"},
            "autoscaling": {"queue_size_target": 4, "active_hours": HOURS},
            "allowed_clients": {"namespaces": ["web"]},
        }
    ],
}


def _plan(environment: dict[str, Any]) -> Plan:
    return run_program(program.main, stack="ts", config={"triplane:environment": environment})


def _env(environment: dict[str, Any]) -> Environment:
    return validate_environment(environment, SOURCE)


def test_aks_gets_addons_and_device_plugin() -> None:
    plan = _plan(ENVIRONMENT)
    env = _env(ENVIRONMENT)
    assert unmet(plan, env, "crds") == []
    assert unmet(plan, env, "gpus") == []
    assert sorted(r.inputs["chart"] for r in plan.by_type(RELEASE)) == ["keda", "kube-prometheus-stack"]


def test_a_gpu_cluster_without_its_device_plugin_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    # As before: AKS taken to install its own plugin, which it does not.
    monkeypatch.setitem(SEAMS, "azure", dataclasses.replace(SEAMS["azure"], device_plugin_installed_by="aks"))
    plan = _plan(ENVIRONMENT)
    [finding] = unmet(plan, _env(ENVIRONMENT), "gpus")
    assert finding.startswith("Deployment chat/ts-chat needs nvidia.com/gpu announced on its nodes (a device plugin)")


def _existing(provides: list[str], **extra: Any) -> dict[str, Any]:
    environment = copy.deepcopy(ENVIRONMENT)
    environment["clouds"] = {}
    environment["kubernetes"] = [
        {
            "name": "gpu",
            "version": "1.35",
            "existing": {"kubeconfig_context": "onprem", "registry": "upstream", "provides": provides, **extra},
        }
    ]
    environment["use_cases"][0]["cache"] = {"access_mode": "ReadWriteMany", "storage_class": "cephfs"}
    environment["use_cases"][0]["weights"] = {"source": "hub"}
    return environment


def test_existing_cluster_gets_what_it_does_not_provide() -> None:
    environment = _existing([])
    plan = _plan(environment)
    assert sorted(r.inputs["chart"] for r in plan.by_type(RELEASE)) == ["keda", "kube-prometheus-stack"]
    assert [cluster_of(r) for r in plan.by_type("kubernetes:apps/v1:DaemonSet")] == ["ts-gpu-k8s"]
    assert unmet(plan, _env(environment), "crds") == []
    assert unmet(plan, _env(environment), "gpus") == []


def test_existing_cluster_that_provides_everything_gets_nothing_installed() -> None:
    url = "http://prometheus-k8s.observability.svc.cluster.local:9090"
    environment = _existing(["prometheus-operator", "keda", "nvidia-device-plugin"], prometheus_url=url)
    plan = _plan(environment)
    assert plan.by_type(RELEASE) == [] and plan.by_type("kubernetes:apps/v1:DaemonSet") == []
    assert unmet(plan, _env(environment), "crds") == []
    assert unmet(plan, _env(environment), "gpus") == []
    scaled = plan.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
    assert scaled["triggers"][0]["metadata"]["serverAddress"] == url


def _bare_server(crd_releases: dict[str, pulumi.Resource] | None = None) -> None:
    provider = k8s_provider.Provider("ts-gpu-k8s", context="onprem")
    TgiService(
        "t-chat",
        TgiServiceArgs(
            model_id="meta-llama/Llama-3.2-3B-Instruct",
            image=images.TGI.upstream,
            gpus=1,
            namespace="chat",
            access=ClientAccess(namespaces=["web"]),
            autoscaling=QueueScaling(min_replicas=1, max_replicas=2, queue_target=4),
            crd_releases=crd_releases or {},
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )


def test_a_custom_resource_without_its_crd_is_found() -> None:
    environment = _env(_existing([]))
    plan = run_program(_bare_server, stack="ts")
    assert [finding.split(", and")[0] for finding in unmet(plan, environment, "crds")] == [
        "ScaledObject chat/t-chat needs the ScaledObject CRD (keda.sh)",
        "ServiceMonitor chat/t-chat needs the ServiceMonitor CRD (monitoring.coreos.com)",
    ]


def test_a_custom_resource_that_does_not_wait_for_its_crd_is_found() -> None:
    def program_() -> None:
        provider = k8s_provider.Provider("ts-gpu-k8s", context="onprem")
        ClusterAddons(
            "t-addons",
            ClusterAddonsArgs(install={"keda", "prometheus-operator"}),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        _bare_server()

    plan = run_program(program_, stack="ts")
    findings = unmet(plan, _env(_existing([])), "crds")
    assert len(findings) == 2
    assert all("depend on the release that installs" in f for f in findings)


def test_an_hpa_on_a_pods_metric_is_found() -> None:
    def program_() -> None:
        provider = k8s_provider.Provider("ts-gpu-k8s", context="onprem")
        k8s_autoscaling.v2.HorizontalPodAutoscaler(
            "t-hpa",
            metadata={"name": "t", "namespace": "chat"},
            spec={
                "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": "t"},
                "min_replicas": 1,
                "max_replicas": 3,
                "metrics": [
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "tgi_queue_size"},
                            "target": {"type": "AverageValue", "average_value": "8"},
                        },
                    }
                ],
            },
            opts=pulumi.ResourceOptions(provider=provider),
        )

    plan = run_program(program_, stack="ts")
    assert [f.split(", and")[0] for f in unmet(plan, None, "autoscaling")] == [
        "HorizontalPodAutoscaler chat/t needs an adapter serving Pods metrics"
    ]


# --- the ScaledObject ----------------------------------------------------------------------------


def test_scaled_object_trigger_query_and_target() -> None:
    spec = scaled_object_spec(
        "t-chat", "chat", "vllm:num_requests_waiting", QueueScaling(min_replicas=1, max_replicas=4, queue_target=6)
    )
    assert spec["triggers"] == [
        {
            "type": "prometheus",
            "name": "queue",
            "metricType": "AverageValue",
            "metadata": {
                "serverAddress": PROMETHEUS_URL,
                "query": 'sum(vllm:num_requests_waiting{namespace="chat",service="t-chat-metrics"})',
                "threshold": "6",
                "activationThreshold": "0",
                "ignoreNullValues": "true",
            },
        }
    ]
    assert queue_query("tgi_queue_size", "a", "b") == 'sum(tgi_queue_size{namespace="a",service="b"})'
    with pytest.raises(ValueError, match="cannot wake"):
        scaled_object_spec("t", "chat", "tgi_queue_size", QueueScaling(min_replicas=0, max_replicas=1, queue_target=1))
    woken = scaled_object_spec(
        "t",
        "chat",
        "tgi_queue_size",
        QueueScaling(
            min_replicas=0, max_replicas=1, queue_target=1, active_hours=ActiveHours("UTC", "0 8 * * *", "0 9 * * *")
        ),
    )
    assert woken["triggers"][1]["type"] == "cron" and woken["minReplicaCount"] == 0


# --- the spec ------------------------------------------------------------------------------------


def _problem(environment: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as caught:
        validate_environment(environment, SOURCE)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def _with(**overrides: Any) -> dict[str, Any]:
    environment = copy.deepcopy(ENVIRONMENT)
    environment["use_cases"][0].update(overrides)
    return environment


def test_min_zero_without_a_waking_trigger_is_refused_with_the_fix() -> None:
    message = _problem(_with(autoscaling=None))
    assert message.startswith("triplane:environment.use_cases[0].replicas.min: 0 leaves the server without pods")
    assert "autoscaling.active_hours" in message and "replicas.min: 1" in message
    assert "replicas.min: 0" in _problem(_with(autoscaling={"queue_size_target": 4}))
    accepted = _env(ENVIRONMENT).use_cases[0]
    assert isinstance(accepted, SelfManagedUseCase)
    assert accepted.autoscaling is not None and accepted.autoscaling.active_hours is not None


def test_autoscaling_needs_its_metric_scraped() -> None:
    message = _problem(_with(monitoring="none"))
    assert message.startswith("triplane:environment.use_cases[0].monitoring: autoscaling reads the queue metric")
    elsewhere = _problem(_with(monitoring_namespace="observability"))
    assert elsewhere.startswith("triplane:environment.use_cases[0].monitoring_namespace: Triplane installs Prometheus")


def test_active_hours_are_checked() -> None:
    assert "IANA time zone" in _problem(_with(autoscaling={"active_hours": {**HOURS, "timezone": "Mars/Olympus"}}))
    assert "active_hours.start" in _problem(_with(autoscaling={"active_hours": {**HOURS, "start": "8am"}}))
    assert "more than replicas.max" in _problem(_with(autoscaling={"active_hours": {**HOURS, "replicas": 3}}))


def test_existing_cluster_provides_are_checked() -> None:
    message = _problem(_existing(["prometheus-operator"]))
    assert message.startswith("triplane:environment.kubernetes[0].existing.prometheus_url: use case 'chat' autoscales")
    assert "prometheus_url" in _problem(_existing([], prometheus_url="http://prometheus.monitoring:9090"))
    assert "provides" in _problem(_existing(["keda", "keda"]))
    assert "provides" in _problem(_existing(["cert-manager"]))


# --- against the CRDs ----------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("stack", STACKS)
def test_rendered_custom_resources_validate_against_their_crds(
    stack: str, shipped: dict[str, Any], tmp_path: Path
) -> None:
    assert SHARED is not None
    _, plan = shipped[stack]
    write_manifests(plan, tmp_path)
    result = validate_crs(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 invalid, 0 of unknown kind" in result.stdout


@needs_shared
def test_crd_validation_is_strict(shipped: dict[str, Any], tmp_path: Path) -> None:
    assert SHARED is not None
    _, plan = shipped["dev"]
    scaled = manifest(plan.one("kubernetes:keda.sh/v1alpha1:ScaledObject"))
    assert scaled is not None
    broken = {**scaled, "spec": {**scaled["spec"], "minReplicas": 0}}
    (tmp_path / "scaledobject.yaml").write_text(yaml.safe_dump(broken))
    result = validate_crs(tmp_path)
    assert result.returncode == 1 and "minReplicas" in result.stdout + result.stderr
