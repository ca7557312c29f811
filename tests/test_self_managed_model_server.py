"""TgiService under the mock runtime: the Kubernetes objects it registers, for TGI and for vLLM."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from triplane.components.images import TGI, VLLM, Mirror
from triplane.components.self_managed.autoscaling import QueueScaling
from triplane.components.self_managed.model_server import (
    CacheVolume,
    ClientAccess,
    TgiService,
    TgiServiceArgs,
    TokenLimits,
)
from triplane.plan import Plan, PlannedResource, is_secret, run_program

HF_TOKEN = "hf_plantedTokenValue123"
API_KEY = "planted-api-key-456"


def _program() -> None:
    TgiService(
        "t-tgi",
        TgiServiceArgs(
            model_id="meta-llama/Llama-3.1-8B-Instruct",
            revision="0e9e39f249a16976918f6564b8830bc894c89659",
            gpus=2,
            namespace="chat",
            access=ClientAccess(namespaces=["web", "batch"], pod_labels={"app": "caller"}),
            image=TGI.upstream,
            tokens=TokenLimits(
                max_input_tokens=6144, max_total_tokens=8192, max_batch_prefill_tokens=8192, max_concurrent_requests=64
            ),
            quantize="fp8",
            replicas=2,
            autoscaling=QueueScaling(min_replicas=2, max_replicas=4, queue_target=8, scale_down_seconds=600),
            cpu=6,
            memory_gib=24,
            node_selector={"triplane.io/gpu-type": "nvidia-l4"},
            cache=CacheVolume(size_gb=60, storage_class="triplane-efs", access_mode="ReadWriteMany"),
            hf_token=pulumi.Output.secret(HF_TOKEN),
            api_key=pulumi.Output.secret(API_KEY),
            monitoring="service-monitor",
            startup_timeout_seconds=1800,
            tags={"triplane.io/use-case": "chat"},
        ),
    )
    TgiService(
        "t-vllm",
        TgiServiceArgs(
            model_id="mistralai/Mistral-7B-Instruct-v0.3",
            gpus=1,
            namespace="fraud",
            engine="vllm",
            image=VLLM.upstream,
            access=ClientAccess(
                namespaces=["fraud-apps"],
                cidrs=["10.30.0.0/20"],
                exposure="internal-load-balancer",
                load_balancer_annotations={"networking.gke.io/load-balancer-type": "Internal"},
            ),
            dtype="bfloat16",
            tokens=TokenLimits(max_total_tokens=8192, max_batch_prefill_tokens=4096),
            api_key=pulumi.Output.secret(API_KEY),
        ),
    )
    TgiService(
        "t-offline",
        TgiServiceArgs(
            model_id="mistralai/Mistral-7B-Instruct-v0.3",
            gpus=1,
            namespace="vault",
            access=ClientAccess(pod_labels={"team": "legal"}),
            cache=CacheVolume(existing_claim="prefilled-models"),
            download=None,
            monitoring="none",
            image=Mirror("registry.corp.example/mirror").ref(TGI),
        ),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(_program, stack="test")


def one(plan: Plan, type_suffix: str, name: str) -> PlannedResource:
    return plan.one(f"kubernetes:{type_suffix}", name)


def container(plan: Plan, name: str) -> dict[str, Any]:
    deployment = one(plan, "apps/v1:Deployment", f"{name}-deployment")
    containers = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def job_pod(plan: Plan, name: str) -> dict[str, Any]:
    result: dict[str, Any] = one(plan, "batch/v1:Job", f"{name}-weights").inputs["spec"]["template"]["spec"]
    return result


def pod_spec(plan: Plan, name: str) -> dict[str, Any]:
    result: dict[str, Any] = one(plan, "apps/v1:Deployment", f"{name}-deployment").inputs["spec"]["template"]["spec"]
    return result


def flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def test_tgi_image_is_pinned_and_only_args_are_passed(plan: Plan) -> None:
    tgi = container(plan, "t-tgi")
    assert tgi["image"] == "ghcr.io/huggingface/text-generation-inference:3.3.7"
    assert "command" not in tgi
    assert not tgi["image"].endswith(":latest")


def test_tgi_args(plan: Plan) -> None:
    args = container(plan, "t-tgi")["args"]
    assert flag(args, "--model-id") == "meta-llama/Llama-3.1-8B-Instruct"
    assert flag(args, "--revision") == "0e9e39f249a16976918f6564b8830bc894c89659"
    assert flag(args, "--num-shard") == "2"
    assert flag(args, "--quantize") == "fp8"
    assert "--dtype" not in args
    assert flag(args, "--max-input-tokens") == "6144"
    assert flag(args, "--max-total-tokens") == "8192"
    assert flag(args, "--max-batch-prefill-tokens") == "8192"
    assert "--max-batch-total-tokens" not in args
    assert flag(args, "--max-concurrent-requests") == "64"
    assert flag(args, "--usage-stats") == "off"
    assert flag(args, "--port") == "8080"
    assert flag(args, "--prometheus-port") == "9000"
    assert flag(args, "--graceful-termination-timeout") == "90"
    assert "--api-key" not in args  # the key comes from a Secret, never the command line


def test_probes_have_a_long_startup_budget(plan: Plan) -> None:
    tgi = container(plan, "t-tgi")
    startup = tgi["startupProbe"]
    assert startup["httpGet"] == {"path": "/health", "port": "http"}
    assert startup["periodSeconds"] * startup["failureThreshold"] == 1800
    assert tgi["readinessProbe"]["httpGet"]["path"] == "/health"
    assert tgi["livenessProbe"]["httpGet"]["path"] == "/health"
    assert tgi["livenessProbe"]["periodSeconds"] * tgi["livenessProbe"]["failureThreshold"] < 1800


def test_termination_grace_outlasts_tgi_drain(plan: Plan) -> None:
    grace = pod_spec(plan, "t-tgi")["terminationGracePeriodSeconds"]
    drain = int(flag(container(plan, "t-tgi")["args"], "--graceful-termination-timeout") or 0)
    assert grace > drain


def _locked_down(context: dict[str, Any]) -> None:
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_tgi_runs_as_root_because_its_python_is_under_root(plan: Plan) -> None:
    """TGI's interpreter lives under /root/.local/share/uv: planned non-root, every TGI pod crash-loops."""
    for workload in (pod_spec(plan, "t-tgi"), job_pod(plan, "t-tgi")):
        assert workload["securityContext"] == {
            "runAsUser": 0,
            "runAsGroup": 0,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        assert workload["automountServiceAccountToken"] is False
        [main] = workload["containers"]
        assert main["securityContext"]["runAsUser"] == 0 and "runAsNonRoot" not in main["securityContext"]
        _locked_down(main["securityContext"])


def test_vllm_runs_as_a_high_non_root_uid(plan: Plan) -> None:
    for workload in (pod_spec(plan, "t-vllm"), job_pod(plan, "t-vllm")):
        assert workload["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        [main] = workload["containers"]
        _locked_down(main["securityContext"])
        env = {e["name"]: e["value"] for e in main["env"] if "value" in e}
        # Everything it writes lands on a writable volume: the cache or /tmp (HOME).
        assert env["HOME"] == "/tmp" and env["HF_HOME"] == "/data"
        assert env["VLLM_CACHE_ROOT"] == "/data/vllm" and env["VLLM_CONFIG_ROOT"].startswith("/tmp/")
        assert {m["mountPath"] for m in main["volumeMounts"]} >= {"/data", "/tmp"}


def test_volumes_shm_cache_and_tmp(plan: Plan) -> None:
    volumes = {v["name"]: v for v in pod_spec(plan, "t-tgi")["volumes"]}
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
    assert volumes["model-cache"]["persistentVolumeClaim"] == {"claimName": "t-tgi-cache"}
    assert "medium" not in volumes["tmp"]["emptyDir"]
    mounts = {m["mountPath"]: m["name"] for m in container(plan, "t-tgi")["volumeMounts"]}
    assert mounts == {"/data": "model-cache", "/dev/shm": "dshm", "/tmp": "tmp"}
    env = {e["name"]: e for e in container(plan, "t-tgi")["env"]}
    assert env["HF_HOME"]["value"] == "/data"


def test_cache_claim(plan: Plan) -> None:
    claim = one(plan, "core/v1:PersistentVolumeClaim", "t-tgi-cache")
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim.inputs["spec"]["storageClassName"] == "triplane-efs"
    assert claim.inputs["spec"]["resources"] == {"requests": {"storage": "60Gi"}}
    # A shared cache lets a new pod start before the old one stops.
    strategy = one(plan, "apps/v1:Deployment", "t-tgi-deployment").inputs["spec"]["strategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_gpu_resources_and_placement(plan: Plan) -> None:
    resources = container(plan, "t-tgi")["resources"]
    assert resources["limits"] == {"cpu": "6", "memory": "24Gi", "nvidia.com/gpu": "2"}
    assert resources["requests"] == resources["limits"]
    pod = pod_spec(plan, "t-tgi")
    assert pod["nodeSelector"] == {"triplane.io/gpu-type": "nvidia-l4"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists"} in pod["tolerations"]
    assert all(t["operator"] == "Exists" and "value" not in t for t in pod["tolerations"])


def test_secrets_by_reference_and_marked_secret(plan: Plan) -> None:
    env = {e["name"]: e for e in container(plan, "t-tgi")["env"]}
    # The server runs offline: the Hugging Face token is the download Job's alone, as a file.
    assert not {"HF_TOKEN", "HF_TOKEN_PATH"} & set(env)
    assert env["API_KEY"] == {
        "name": "API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "t-tgi-api-key", "key": "API_KEY"}},
    }
    token = one(plan, "core/v1:Secret", "t-tgi-hf-token")
    assert is_secret(token.inputs["stringData"])
    assert token.secret_paths() == ["stringData"]
    for resource in plan.resources:
        text = str(resource.redacted_inputs())
        assert HF_TOKEN not in text and API_KEY not in text
    assert not plan.by_type("kubernetes:core/v1:ConfigMap")


def test_network_policies(plan: Plan) -> None:
    deny = one(plan, "networking.k8s.io/v1:NetworkPolicy", "t-tgi-default-deny").inputs["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ingress = one(plan, "networking.k8s.io/v1:NetworkPolicy", "t-tgi-ingress").inputs["spec"]
    assert ingress["policyTypes"] == ["Ingress"]
    clients, scrape = ingress["ingress"]
    assert clients["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert clients["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
            "podSelector": {"matchLabels": {"app": "caller"}},
        }
        for ns in ("web", "batch")
    ]
    assert scrape == {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"protocol": "TCP", "port": 9000}],
    }
    egress = one(plan, "networking.k8s.io/v1:NetworkPolicy", "t-tgi-egress").inputs["spec"]["egress"]
    # The server resolves names and nothing more: only the download Job reaches the hub.
    [dns] = egress
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert {p["port"] for p in dns["ports"]} == {53}
    download = one(plan, "networking.k8s.io/v1:NetworkPolicy", "t-tgi-weights-egress").inputs["spec"]
    assert download["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "model-weights", "app.kubernetes.io/instance": "t-tgi"}
    }
    _, hub = download["egress"]
    assert hub["ports"] == [{"protocol": "TCP", "port": 443}]
    block = hub["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(block["except"])


def test_no_server_has_internet_egress(plan: Plan) -> None:
    for name in ("t-tgi", "t-vllm", "t-offline"):
        egress = one(plan, "networking.k8s.io/v1:NetworkPolicy", f"{name}-egress").inputs["spec"]["egress"]
        assert [peer for rule in egress for peer in rule["to"] if "ipBlock" in peer] == [], name
        env = {e["name"]: e.get("value") for e in container(plan, name)["env"]}
        # A restart reads the cache: the server never downloads.
        assert env["HF_HUB_OFFLINE"] == "1", name


def test_download_job_runs_before_the_server_on_the_gpu_nodes(plan: Plan) -> None:
    job = one(plan, "batch/v1:Job", "t-tgi-weights")
    deployment = one(plan, "apps/v1:Deployment", "t-tgi-deployment")
    assert job.urn in deployment.dependencies
    pod = job_pod(plan, "t-tgi")
    assert pod["nodeSelector"] == {"triplane.io/gpu-type": "nvidia-l4"}
    assert pod["tolerations"] == pod_spec(plan, "t-tgi")["tolerations"]
    [download] = pod["containers"]
    assert "nvidia.com/gpu" not in download["resources"]["limits"]
    assert download["image"] == container(plan, "t-tgi")["image"]
    assert download["command"] == [
        "/usr/src/.venv/bin/text-generation-server", "download-weights", "meta-llama/Llama-3.1-8B-Instruct",
        "--revision", "0e9e39f249a16976918f6564b8830bc894c89659", "--json-output",
    ]  # fmt: skip
    env = {e["name"]: e for e in download["env"]}
    assert "HF_TOKEN" not in env
    assert env["HF_TOKEN_PATH"] == {"name": "HF_TOKEN_PATH", "value": "/var/run/secrets/huggingface/token"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["model-cache"] == {"name": "model-cache", "persistentVolumeClaim": {"claimName": "t-tgi-cache"}}
    assert volumes["hf-token"]["secret"] == {
        "secretName": "t-tgi-hf-token", "items": [{"key": "HF_TOKEN", "path": "token"}], "defaultMode": 0o440,
    }  # fmt: skip
    mounts = {m["name"]: m for m in download["volumeMounts"]}
    assert mounts["hf-token"] == {"name": "hf-token", "mountPath": "/var/run/secrets/huggingface", "readOnly": True}
    annotations = job.inputs["metadata"]["annotations"]
    assert int(annotations["pulumi.com/timeoutSeconds"]) == job.inputs["spec"]["activeDeadlineSeconds"] > 3600
    assert "pulumi.com/skipAwait" not in annotations
    assert "huggingface.co" in annotations["triplane.io/egress-hosts"].split(",")


def test_vllm_download_is_idempotent(plan: Plan) -> None:
    [download] = job_pod(plan, "t-vllm")["containers"]
    command = download["command"]
    assert command[:2] == ["/usr/bin/python3", "-c"]
    assert command[3:5] == ["mistralai/Mistral-7B-Instruct-v0.3", "main"]
    assert command[5] == "/data/.triplane/mistralai--Mistral-7B-Instruct-v0.3@main.complete"
    assert "os.path.exists(marker)" in command[2] and "sys.exit(0)" in command[2]


def test_prefilled_claim_gets_no_download(plan: Plan) -> None:
    assert not [r for r in plan.by_type("kubernetes:batch/v1:Job") if r.name.startswith("t-offline")]
    dependencies = one(plan, "apps/v1:Deployment", "t-offline-deployment").dependencies
    assert not [d for d in dependencies if "batch/v1:Job" in d]


def test_disruption_budget_and_scaled_object(plan: Plan) -> None:
    pdb = one(plan, "policy/v1:PodDisruptionBudget", "t-tgi-pdb").inputs["spec"]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "t-tgi"
    # KEDA drives the autoscaler: no HPA of Triplane's own, which would need a custom-metrics adapter.
    assert not [r for r in plan.resources if r.type.endswith(":HorizontalPodAutoscaler")]
    scaled = one(plan, "keda.sh/v1alpha1:ScaledObject", "t-tgi-scaledobject").inputs["spec"]
    assert scaled["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "t-tgi"}
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (2, 4)
    assert [t["type"] for t in scaled["triggers"]] == ["prometheus"]  # never CPU
    assert scaled["triggers"][0]["metadata"]["query"] == 'sum(tgi_queue_size{namespace="chat",service="t-tgi-metrics"})'
    assert (
        scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
        == 600
    )
    # The autoscaler owns the replica count.
    assert "replicas" not in one(plan, "apps/v1:Deployment", "t-tgi-deployment").inputs["spec"]


def test_service_monitor_selects_the_metrics_service(plan: Plan) -> None:
    monitor = one(plan, "monitoring.coreos.com/v1:ServiceMonitor", "t-tgi-servicemonitor").inputs
    metrics = one(plan, "core/v1:Service", "t-tgi-metrics").inputs
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= metrics["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == metrics["spec"]["ports"][0]["name"] == "metrics"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["chat"]}
    assert (
        "prometheus.io/scrape"
        not in one(plan, "apps/v1:Deployment", "t-tgi-deployment").inputs["spec"]["template"]["metadata"]["annotations"]
    )


def test_service_is_cluster_ip_by_default(plan: Plan) -> None:
    service = one(plan, "core/v1:Service", "t-tgi-service").inputs
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert "annotations" not in service["metadata"]


def test_namespace_enforces_the_strictest_level_the_engine_allows(plan: Plan) -> None:
    # TGI runs as root: `restricted` would refuse its pods, so the namespace enforces `baseline`.
    labels = one(plan, "core/v1:Namespace", "t-tgi-namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "restricted"
    vllm = one(plan, "core/v1:Namespace", "t-vllm-namespace").inputs["metadata"]["labels"]
    assert vllm["pod-security.kubernetes.io/enforce"] == "restricted"
    account = one(plan, "core/v1:ServiceAccount", "t-tgi-sa").inputs
    assert account["automountServiceAccountToken"] is False


def test_vllm_variant(plan: Plan) -> None:
    vllm = container(plan, "t-vllm")
    assert vllm["image"] == "docker.io/vllm/vllm-openai:v0.11.0"
    args = vllm["args"]
    assert flag(args, "--model") == "mistralai/Mistral-7B-Instruct-v0.3"
    assert flag(args, "--tensor-parallel-size") == "1"
    assert flag(args, "--dtype") == "bfloat16"
    assert flag(args, "--max-model-len") == "8192"
    assert flag(args, "--max-num-batched-tokens") == "4096"
    assert flag(args, "--port") == "8000"
    assert "--model-id" not in args and "--num-shard" not in args
    env = {e["name"]: e for e in vllm["env"]}
    assert env["VLLM_NO_USAGE_STATS"]["value"] == "1"
    assert env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "t-vllm-api-key", "key": "VLLM_API_KEY"}
    assert vllm["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert vllm["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    annotations = one(plan, "apps/v1:Deployment", "t-vllm-deployment").inputs["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert annotations["prometheus.io/port"] == "8000"
    # A ReadWriteOnce cache: the old pod releases the volume before the new one starts.
    assert one(plan, "apps/v1:Deployment", "t-vllm-deployment").inputs["spec"]["strategy"] == {"type": "Recreate"}


def test_internal_load_balancer_is_never_public(plan: Plan) -> None:
    service = one(plan, "core/v1:Service", "t-vllm-service").inputs
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {"networking.gke.io/load-balancer-type": "Internal"}
    assert service["spec"]["loadBalancerSourceRanges"] == ["10.30.0.0/20"]
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    ingress = one(plan, "networking.k8s.io/v1:NetworkPolicy", "t-vllm-ingress").inputs["spec"]["ingress"][0]
    assert {"ipBlock": {"cidr": "10.30.0.0/20"}} in ingress["from"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8000}]


def test_offline_serves_from_the_existing_cache_without_hub_egress(plan: Plan) -> None:
    env = {e["name"]: e for e in container(plan, "t-offline")["env"]}
    assert env["HF_HUB_OFFLINE"]["value"] == "1"
    assert "HF_TOKEN" not in env
    volumes = {v["name"]: v for v in pod_spec(plan, "t-offline")["volumes"]}
    assert volumes["model-cache"]["persistentVolumeClaim"] == {"claimName": "prefilled-models"}
    assert not [r for r in plan.by_type("kubernetes:core/v1:PersistentVolumeClaim") if r.name.startswith("t-offline")]
    egress = one(plan, "networking.k8s.io/v1:NetworkPolicy", "t-offline-egress").inputs["spec"]["egress"]
    assert len(egress) == 1 and {p["port"] for p in egress[0]["ports"]} == {53}
    ingress = one(plan, "networking.k8s.io/v1:NetworkPolicy", "t-offline-ingress").inputs["spec"]["ingress"]
    assert ingress == [
        {
            "from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"team": "legal"}}}],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]
    assert container(plan, "t-offline")["image"] == (
        "registry.corp.example/mirror/ghcr.io/huggingface/text-generation-inference:3.3.7"
    )
    annotations = one(plan, "apps/v1:Deployment", "t-offline-deployment").inputs["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert not any(key.startswith("prometheus.io/") for key in annotations)


def test_root_is_allowed_only_for_listed_images_that_keep_every_other_restriction(plan: Plan) -> None:
    from triplane.policies.common import Res
    from triplane.policies.kubernetes import _non_root

    config = {"rootImages": [{"repository": "huggingface/text-generation-inference", "reason": "python under /root"}]}
    deployment = one(plan, "apps/v1:Deployment", "t-tgi-deployment")
    res = Res(type=deployment.type, name=deployment.name, urn=deployment.urn, props=deployment.inputs)
    assert list(_non_root(res, config)) == []
    assert ["runs as user 0 (root)" in m for m in _non_root(res, {"rootImages": []})] == [True]
    loose = json.loads(json.dumps(deployment.inputs))
    loose["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    [message] = _non_root(Res(type=deployment.type, name="loose", urn="loose", props=loose), config)
    assert "readOnlyRootFilesystem true" in message
    # Served from a pull-through cache, the image still matches by repository.
    cached = json.loads(json.dumps(deployment.inputs))
    cached["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/ghcr/huggingface/text-generation-inference:3.3.7"
    )
    assert list(_non_root(Res(type=deployment.type, name="c", urn="c", props=cached), config)) == []
