"""The AI gateway's installation: pinned charts, cached images, hardened Redis, a secret TLS key, an
internal load balancer per cloud, workload identity on the signing pods, and custom resources that
validate against their CRDs and wait for the releases installing them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_kubernetes import provider as k8s_provider

from tests.crd_support import SHARED, needs_shared, validate_crs
from triplane.components import images
from triplane.components.gateway.install import (
    CHARTS,
    CRD_GROUPS,
    IMAGES,
    REDIS_UID,
    AIGatewayInstall,
    AIGatewayInstallArgs,
    custom_resources,
)
from triplane.components.images import ImageSource, Mirror, PullThroughCache
from triplane.components.self_managed.addons import SCRAPE_LABELS, ClusterAddons, ClusterAddonsArgs
from triplane.components.tagging import k8s_labels, standard_tags
from triplane.k8s_out import write_manifests
from triplane.plan import Plan, PlannedResource, run_program
from triplane.stacks.clouds import SEAMS

RELEASE = "kubernetes:helm.sh/v3:Release"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
KEY = "-----BEGIN PRIVATE KEY-----\nplanted-gateway-key\n-----END PRIVATE KEY-----"
AZURE_CLIENT = "11111111-2222-3333-4444-555555555555"
TAGS = k8s_labels(standard_tags(environment="ts", owner="platform-team", cost_center="cc-1"))
MIRROR = Mirror("registry.corp.example/mirror")
CACHE = PullThroughCache("123456789012.dkr.ecr.eu-west-1.amazonaws.com", {"docker.io": "docker-hub"})




def _args(**overrides: Any) -> AIGatewayInstallArgs:
    base: dict[str, Any] = {
        "hostname": "ai.internal.example.com",
        "tls_certificate": "-----BEGIN CERTIFICATE-----\nchain\n-----END CERTIFICATE-----",
        "tls_private_key": KEY,
        "source_ranges": ["10.20.0.0/16", "10.30.0.0/24"],
        "load_balancer_annotations": dict(SEAMS["azure"].load_balancer_annotations),
        "images": MIRROR,
        "cloud": "azure",
        "service_account_annotations": {"azure.workload.identity/client-id": AZURE_CLIENT},
        "pod_labels": {"azure.workload.identity/use": "true"},
        "node_selector": {"kubernetes.azure.com/mode": "system"},
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
        "tags": TAGS,
    }
    return AIGatewayInstallArgs(**{**base, **overrides})


def _plan(monitoring: bool = False, **overrides: Any) -> Plan:
    def program() -> None:
        provider = k8s_provider.Provider("ts-gw-k8s", context="onprem")
        crd_releases: dict[str, pulumi.Resource] = {}
        if monitoring:
            addons = ClusterAddons(
                "t-addons",
                ClusterAddonsArgs(install={"prometheus-operator"}, tags=TAGS),
                opts=pulumi.ResourceOptions(providers=[provider]),
            )
            crd_releases["monitoring.coreos.com"] = addons.releases["prometheus-operator"]
        AIGatewayInstall("t-gw", _args(provider=provider, crd_releases=crd_releases, **overrides))

    return run_program(program, stack="ts")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan(monitoring=True)


def _values(plan: Plan, release: str) -> dict[str, Any]:
    return plan.one(RELEASE, f"t-gw-{release}").inputs["values"]


def _gateway_resources(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.name.startswith("t-gw")]


# --- the releases --------------------------------------------------------------------------------


def test_charts_are_the_projects_oci_charts_at_the_pinned_versions(plan: Plan) -> None:
    pinned = {key: (c.name, c.version, c.repository) for key, c in CHARTS.items()}
    assert pinned == {
        "envoy-gateway": ("gateway-helm", "v1.9.0", "oci://docker.io/envoyproxy"),
        "ai-gateway-crds": ("ai-gateway-crds-helm", "v1.1.0", "oci://docker.io/envoyproxy"),
        "ai-gateway": ("ai-gateway-helm", "v1.1.0", "oci://docker.io/envoyproxy"),
    }
    expected = {
        "envoy-gateway": ("oci://docker.io/envoyproxy/gateway-helm", "v1.9.0", "envoy-gateway-system"),
        "ai-gateway-crds": ("oci://docker.io/envoyproxy/ai-gateway-crds-helm", "v1.1.0", "envoy-ai-gateway-system"),
        "ai-gateway": ("oci://docker.io/envoyproxy/ai-gateway-helm", "v1.1.0", "envoy-ai-gateway-system"),
    }
    for key, (chart, version, namespace) in expected.items():
        release = plan.one(RELEASE, f"t-gw-{key}")
        inputs = release.inputs
        assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (chart, version, namespace)
        assert "repositoryOpts" not in inputs
        assert inputs["createNamespace"] is False and inputs["atomic"] is True and inputs["skipCrds"] is False
        assert release.provider is not None and release.provider.split("::")[3] == "ts-gw-k8s"
    # The controller starts after Envoy Gateway's CRDs and its own exist.
    controller = plan.one(RELEASE, "t-gw-ai-gateway").dependencies
    assert plan.one(RELEASE, "t-gw-envoy-gateway").urn in controller
    assert plan.one(RELEASE, "t-gw-ai-gateway-crds").urn in controller
    assert [c.app_version for c in CHARTS.values()] == ["v1.9.0", "v1.1.0", "v1.1.0"]
    assert images.ENVOY_GATEWAY.tag == CHARTS["envoy-gateway"].app_version
    assert images.AI_GATEWAY_CONTROLLER.tag == images.AI_GATEWAY_EXTPROC.tag == CHARTS["ai-gateway"].app_version


def test_namespaces_enforce_restricted_pod_security(plan: Plan) -> None:
    namespaces = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
        for r in plan.by_type("kubernetes:core/v1:Namespace")
        if r.name.startswith("t-gw")
    }
    assert sorted(namespaces) == ["ai-gateway", "envoy-ai-gateway-system", "envoy-gateway-system"]
    for labels in namespaces.values():
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_kubernetes_object_carries_the_environment_labels(plan: Plan) -> None:
    objects = [r for r in _gateway_resources(plan) if r.custom and r.type != RELEASE]
    assert len(objects) == 11
    for resource in objects:
        assert TAGS.items() <= resource.inputs["metadata"]["labels"].items(), resource.name


def test_envoy_gateway_is_configured_for_the_ai_gateway_and_redis(plan: Plan) -> None:
    config = _values(plan, "envoy-gateway")["config"]["envoyGateway"]
    manager = config["extensionManager"]
    assert manager["service"]["fqdn"] == {
        "hostname": "ai-gateway-controller.envoy-ai-gateway-system.svc.cluster.local",
        "port": 1063,
    }
    assert manager["hooks"]["xdsTranslator"]["post"] == ["Translation", "Cluster", "Route"]
    assert all(v == {"includeAll": True} for v in manager["hooks"]["xdsTranslator"]["translation"].values())
    assert "backendResources" not in manager
    assert config["extensionApis"] == {"enableEnvoyPatchPolicy": True, "enableBackend": True}
    assert config["rateLimit"] == {
        "backend": {"type": "Redis", "redis": {"url": "redis.envoy-gateway-system.svc.cluster.local:6379"}}
    }
    ai = _values(plan, "ai-gateway")
    # The extension server Envoy Gateway calls is this controller's Service, in this namespace.
    assert ai["controller"]["fullnameOverride"] == "ai-gateway-controller"
    assert ai["envoyGateway"] == {"namespace": "envoy-gateway-system"}


def test_inference_pools_are_routed_only_when_asked() -> None:
    manager = _values(_plan(inference_pools=True), "envoy-gateway")["config"]["envoyGateway"]["extensionManager"]
    assert manager["backendResources"] == [
        {"group": "inference.networking.k8s.io", "kind": "InferencePool", "version": "v1"}
    ]


# --- images ----------------------------------------------------------------------------------------


def _every_image(plan: Plan) -> set[str]:
    eg = _values(plan, "envoy-gateway")["global"]["images"]
    ai = _values(plan, "ai-gateway")
    proxy = plan.one(ENVOY_PROXY).inputs["spec"]["provider"]["kubernetes"]["envoyDeployment"]["container"]
    redis = plan.one("kubernetes:apps/v1:Deployment", "t-gw-redis").inputs["spec"]["template"]["spec"]
    return {
        eg["envoyGateway"]["image"],
        eg["ratelimit"]["image"],
        eg["envoyProxy"]["image"],
        f"{ai['controller']['image']['repository']}:{ai['controller']['image']['tag']}",
        f"{ai['extProc']['image']['repository']}:{ai['extProc']['image']['tag']}",
        proxy["image"],
        *(c["image"] for c in redis["containers"]),
    }


@pytest.mark.parametrize("source", [MIRROR, CACHE], ids=["mirror", "pull-through-cache"])
def test_every_pod_pulls_from_the_cluster_source(source: ImageSource) -> None:
    plan = _plan(images=source)
    pulled = {*(i for found in IMAGES.values() for i in found), images.REDIS}
    assert _every_image(plan) == {source.ref(i) for i in pulled}
    assert all(i.host == "docker.io" for i in pulled)
    assert not any(ref.startswith("docker.io/") for ref in _every_image(plan))


def test_images_are_the_charts_own_pins(plan: Plan) -> None:
    assert _every_image(plan) == {
        "registry.corp.example/mirror/docker.io/envoyproxy/gateway:v1.9.0",
        "registry.corp.example/mirror/docker.io/envoyproxy/ratelimit:17b1956c",
        "registry.corp.example/mirror/docker.io/envoyproxy/envoy:distroless-v1.39.0",
        "registry.corp.example/mirror/docker.io/envoyproxy/ai-gateway-controller:v1.1.0",
        "registry.corp.example/mirror/docker.io/envoyproxy/ai-gateway-extproc:v1.1.0",
        "registry.corp.example/mirror/docker.io/library/redis:8.2.4-alpine3.22",
    }


# --- pod security and placement --------------------------------------------------------------------


def test_redis_runs_as_a_user_no_host_account_has_locked_down(plan: Plan) -> None:
    spec = plan.one("kubernetes:apps/v1:Deployment", "t-gw-redis").inputs["spec"]["template"]["spec"]
    assert REDIS_UID == 10001
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    [container] = spec["containers"]
    security = container["securityContext"]
    assert security["runAsUser"] == 10001 and security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True and security["capabilities"] == {"drop": ["ALL"]}
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert spec["volumes"][0]["emptyDir"] == {"sizeLimit": "256Mi"}
    assert container["args"][:5] == ["redis-server", "--save", "", "--appendonly", "no"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["nodeSelector"] == {"kubernetes.azure.com/mode": "system"}


def test_only_the_rate_limit_pods_reach_redis(plan: Plan) -> None:
    policy = plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "t-gw-redis").inputs["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["egress"] == []
    assert policy["ingress"] == [
        {
            "from": [
                {
                    "podSelector": {
                        "matchLabels": {
                            "app.kubernetes.io/name": "envoy-ratelimit",
                            "app.kubernetes.io/component": "ratelimit",
                            "app.kubernetes.io/managed-by": "envoy-gateway",
                        }
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": 6379}],
        }
    ]
    service = plan.one("kubernetes:core/v1:Service", "t-gw-redis").inputs["spec"]
    assert service["type"] == "ClusterIP" and service["selector"] == policy["podSelector"]["matchLabels"]


def test_every_gateway_pod_runs_non_root_on_system_nodes(plan: Plan) -> None:
    eg = _values(plan, "envoy-gateway")
    ai = _values(plan, "ai-gateway")["controller"]
    proxy = plan.one(ENVOY_PROXY).inputs["spec"]["provider"]["kubernetes"]["envoyDeployment"]
    ratelimit = eg["config"]["envoyGateway"]["provider"]["kubernetes"]["rateLimitDeployment"]["pod"]
    pods = {
        "envoy-gateway": eg["deployment"]["pod"],
        "certgen": eg["certgen"]["job"],
        "ratelimit": ratelimit,
        "ai-gateway": ai,
        "proxy": proxy["pod"],
    }
    for where, pod in pods.items():
        assert pod["nodeSelector"] == {"kubernetes.azure.com/mode": "system"}, where
        assert pod["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}], where
    for security in (
        eg["deployment"]["pod"]["securityContext"],
        eg["certgen"]["job"]["pod"]["securityContext"],
        ratelimit["securityContext"],
        ai["podSecurityContext"],
        proxy["pod"]["securityContext"],
    ):
        assert security["runAsNonRoot"] is True and security["runAsUser"] in (65532, 65534)
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert ai["securityContext"]["readOnlyRootFilesystem"] is True
    assert proxy["container"]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert proxy["container"]["securityContext"]["allowPrivilegeEscalation"] is False


# --- TLS -------------------------------------------------------------------------------------------


def test_tls_key_is_secret_in_state_and_never_in_plain_text(plan: Plan) -> None:
    secret = plan.one("kubernetes:core/v1:Secret", "t-gw-tls")
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert secret.inputs["metadata"] == {"name": "ai-gateway-tls", "namespace": "ai-gateway", "labels": TAGS}
    assert "stringData" in secret.secret_paths()
    assert {"data", "stringData"} <= set(secret.additional_secret_outputs)
    assert "planted-gateway-key" not in json.dumps(plan.to_json())
    listener = plan.one(GATEWAY).inputs["spec"]["listeners"][0]
    assert listener["tls"] == {
        "mode": "Terminate",
        "certificateRefs": [{"group": "", "kind": "Secret", "name": "ai-gateway-tls"}],
    }
    assert plan.one("kubernetes:core/v1:Secret", "t-gw-tls").urn in plan.one(GATEWAY).dependencies


def test_gateway_listens_on_https_for_its_own_namespace(plan: Plan) -> None:
    gateway = plan.one(GATEWAY).inputs
    assert gateway["metadata"] == {"name": "ai-gateway", "namespace": "ai-gateway", "labels": TAGS}
    assert gateway["spec"]["gatewayClassName"] == "triplane-ai-gateway"
    [listener] = gateway["spec"]["listeners"]
    assert (listener["protocol"], listener["port"], listener["hostname"]) == ("HTTPS", 443, "ai.internal.example.com")
    assert listener["allowedRoutes"]["namespaces"] == {"from": "Same"}
    klass = plan.one("kubernetes:gateway.networking.k8s.io/v1:GatewayClass").inputs["spec"]
    assert klass["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": "ai-gateway",
        "namespace": "envoy-gateway-system",
    }


# --- the load balancer and workload identity -------------------------------------------------------


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_proxy_service_is_an_internal_load_balancer_for_the_application_networks(cloud: str) -> None:
    annotations = dict(SEAMS[cloud].load_balancer_annotations)
    plan = _plan(load_balancer_annotations=annotations, cloud=cloud, service_account_annotations={}, pod_labels={})
    service = plan.one(ENVOY_PROXY).inputs["spec"]["provider"]["kubernetes"]["envoyService"]
    assert service == {
        "name": "ai-gateway",
        "type": "LoadBalancer",
        "annotations": annotations,
        "loadBalancerSourceRanges": ["10.20.0.0/16", "10.30.0.0/24"],
        "externalTrafficPolicy": "Local",
    }
    assert "infrastructure" not in plan.one(GATEWAY).inputs["spec"]


def test_a_public_load_balancer_or_network_is_refused() -> None:
    with pytest.raises(ValueError, match=r"load_balancer_annotations: none makes the load balancer internal"):
        _plan(load_balancer_annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"})
    with pytest.raises(ValueError, match=r"source_ranges: 8.8.8.0/24 is not a private network"):
        _plan(source_ranges=["8.8.8.0/24"])
    with pytest.raises(ValueError, match=r"source_ranges: empty"):
        _plan(source_ranges=[])


@pytest.mark.parametrize(
    ("cloud", "annotations", "labels"),
    [
        ("aws", {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/ai-gateway"}, {}),
        ("azure", {"azure.workload.identity/client-id": AZURE_CLIENT}, {"azure.workload.identity/use": "true"}),
        ("gcp", {"iam.gke.io/gcp-service-account": "ai-gateway@proj.iam.gserviceaccount.com"}, {}),
    ],
)
def test_workload_identity_reaches_the_proxy_pods(
    cloud: str, annotations: dict[str, str], labels: dict[str, str]
) -> None:
    plan = _plan(
        cloud=cloud,
        load_balancer_annotations=dict(SEAMS[cloud].load_balancer_annotations),
        service_account_annotations=annotations,
        pod_labels=labels,
    )
    kubernetes = plan.one(ENVOY_PROXY).inputs["spec"]["provider"]["kubernetes"]
    assert kubernetes["envoyServiceAccount"] == {"name": "ai-gateway-proxy"}
    assert kubernetes["envoyDeployment"]["pod"].get("labels", {}) == labels
    assert plan.one(GATEWAY).inputs["spec"]["infrastructure"] == {"annotations": annotations}


def test_workload_identity_mistakes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"pod_labels: Azure workload identity .* azure.workload.identity/use"):
        _plan(pod_labels={})
    with pytest.raises(ValueError, match=r"service_account_annotations: \['azure.workload.identity/client-id'\]"):
        _plan(cloud="aws", load_balancer_annotations=dict(SEAMS["aws"].load_balancer_annotations))


def test_gpu_nodes_and_bad_host_names_are_refused() -> None:
    with pytest.raises(ValueError, match=r"node_selector: \['cloud.google.com/gke-accelerator'\] select GPU"):
        _plan(node_selector={"cloud.google.com/gke-accelerator": "nvidia-l4"})
    with pytest.raises(ValueError, match=r"tolerations: .* lets gateway pods onto GPU nodes"):
        _plan(tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}])
    with pytest.raises(ValueError, match=r"tolerations: .* GPU nodes"):
        _plan(tolerations=[{"operator": "Exists"}])
    with pytest.raises(ValueError, match=r"hostname: 'https://ai.example.com' is not a host name"):
        _plan(hostname="https://ai.example.com")


# --- custom resources: scrape, CRD order, validation -----------------------------------------------


def test_pod_monitor_scrapes_the_genai_metrics(plan: Plan) -> None:
    monitor = plan.one("kubernetes:monitoring.coreos.com/v1:PodMonitor").inputs
    assert SCRAPE_LABELS.items() <= monitor["metadata"]["labels"].items()
    assert monitor["metadata"]["namespace"] == "envoy-gateway-system"
    spec = monitor["spec"]
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "envoy",
        "app.kubernetes.io/component": "proxy",
        "app.kubernetes.io/managed-by": "envoy-gateway",
        "gateway.envoyproxy.io/owning-gateway-name": "ai-gateway",
        "gateway.envoyproxy.io/owning-gateway-namespace": "ai-gateway",
    }
    assert spec["podMetricsEndpoints"][0] == {
        "port": "aigw-admin",
        "path": "/metrics",
        "interval": "30s",
        "scheme": "http",
    }


def test_every_custom_resource_waits_for_the_release_installing_its_crd(plan: Plan) -> None:
    releases = {key: plan.one(RELEASE, f"t-gw-{key}").urn for key in CHARTS}
    prometheus = plan.one(RELEASE, "t-addons-prometheus-operator").urn
    checked = 0
    for resource in _gateway_resources(plan):
        api = resource.type.split(":")[1]
        group = api.rsplit("/", 1)[0] if "/" in api else ""
        if group in CRD_GROUPS:
            assert releases[CRD_GROUPS[group]] in resource.dependencies, resource.name
            checked += 1
        elif group == "monitoring.coreos.com":
            assert prometheus in resource.dependencies
            checked += 1
    assert checked == 4


@needs_shared
def test_rendered_custom_resources_validate_against_their_crds(plan: Plan, tmp_path: Path) -> None:
    assert SHARED is not None
    write_manifests(plan, tmp_path)
    result = validate_crs(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 checked, 0 invalid, 0 of unknown kind" in result.stdout


@needs_shared
def test_custom_resources_function_matches_the_plan_and_validates(plan: Plan, tmp_path: Path) -> None:
    assert SHARED is not None
    rendered = custom_resources(_args())
    assert [r["kind"] for r in rendered] == ["EnvoyProxy", "GatewayClass", "Gateway", "PodMonitor"]
    for body in rendered:
        (tmp_path / f"{body['kind'].lower()}.yaml").write_text(json.dumps(body))
    broken = {**rendered[2], "spec": {**rendered[2]["spec"], "listener": []}}
    (tmp_path / "broken.yaml").write_text(json.dumps(broken))
    result = validate_crs(tmp_path)
    assert result.returncode == 1 and "1 invalid" in result.stdout, result.stdout + result.stderr
    assert "listener" in result.stdout
