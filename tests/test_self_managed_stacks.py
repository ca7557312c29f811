"""The self-managed pattern through the whole program: clusters and pools built once, shared services,
endpoints, and what each use case's server is given."""

from __future__ import annotations

from typing import Any

import pytest

from triplane.components.self_managed import sizing
from triplane.plan import Plan, PlannedResource, is_secret, run_program
from triplane.stacks import program

SHA = "0e9e39f249a16976918f6564b8830bc894c89659"
API_KEY = "planted-api-key-for-chat"


def use_case(name: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "pattern": "self-managed",
        "data_classification": "confidential",
        "cluster": "gpu",
        "model": {"id": "meta-llama/Llama-3.1-8B-Instruct", "revision": SHA},
        "gpu": {"type": "nvidia-l4", "count": 1},
        "allowed_clients": {"namespaces": [f"{name}-app"]},
    }
    base.update(overrides)
    return base


ENVIRONMENT = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "tier": "dev",
    "clouds": {
        "aws": {
            "region": "us-east-1",
            "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
        }
    },
    "kubernetes": [
        {"name": "gpu", "version": "1.35", "new": {"cloud": "aws", "deployer": {"private_cidrs": ["10.99.0.0/24"]}}}
    ],
    "use_cases": [
        use_case("chat-web", shared_service="chat", api_key_secret="chatApiKey"),
        use_case("chat-batch", shared_service="chat", api_key_secret="chatApiKey"),
        use_case(
            "summaries",
            replicas={"min": 1, "max": 3},
            cache={"access_mode": "ReadWriteMany"},
            autoscaling={"queue_size_target": 4},
        ),
        use_case(
            "nightly",
            node_pool={"capacity_type": "spot"},
            replicas={"min": 0, "max": 1},
            autoscaling={"active_hours": {"timezone": "Europe/Berlin", "start": "0 1 * * *", "end": "0 5 * * *"}},
        ),
    ],
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(
        program.main,
        stack="st",
        config={
            "triplane:environment": ENVIRONMENT,
            "triplane:chatApiKey": API_KEY,
            "triplane:dockerHubCredentials": '{"username": "u", "accessToken": "dckr_pat_planted"}',
            "triplane:ghcrCredentials": '{"username": "u", "accessToken": "ghp_plantedplantedplantedplanted00"}',
        },
        secret_keys=["triplane:chatApiKey", "triplane:dockerHubCredentials", "triplane:ghcrCredentials"],
    )


def k8s(plan: Plan, kind: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}")]


def test_cluster_is_built_once_with_its_provider(plan: Plan) -> None:
    assert len(plan.by_type("triplane:selfmanaged:EksCluster")) == 1
    providers = plan.by_type("pulumi:providers:kubernetes")
    assert [p.name for p in providers] == ["st-gpu-k8s"]
    assert is_secret(providers[0].inputs["kubeconfig"])
    # Every Kubernetes object goes to that cluster, never to an ambient kubeconfig.
    for resource in plan.resources:
        if resource.custom and resource.type.startswith("kubernetes:"):
            assert resource.provider is not None and "::st-gpu-k8s::" in resource.provider, resource.name


def test_pools_are_shared_per_gpu_and_capacity_type(plan: Plan) -> None:
    pools = sorted(r.name for r in plan.by_type("triplane:selfmanaged:GpuNodePool"))
    assert pools == ["st-gpu-l4-od", "st-gpu-l4-spot"]
    on_demand = plan.one("aws:eks/nodeGroup:NodeGroup", "st-gpu-l4-od-nodes").inputs
    # chat (1 replica) + summaries (1..3, plus a surge pod) on 1-GPU g6.2xlarge nodes.
    assert on_demand["instanceTypes"] == ["g6.2xlarge"]
    assert on_demand["scalingConfig"]["minSize"] == 2
    assert on_demand["scalingConfig"]["maxSize"] == 5
    spot = plan.one("aws:eks/nodeGroup:NodeGroup", "st-gpu-l4-spot-nodes").inputs
    assert spot["capacityType"] == "SPOT"
    assert (spot["scalingConfig"]["minSize"], spot["scalingConfig"]["maxSize"]) == (0, 1)


def test_shared_service_is_deployed_once_for_both_use_cases(plan: Plan) -> None:
    servers = sorted(r.name for r in plan.by_type("triplane:selfmanaged:ModelServer"))
    assert servers == ["st-chat", "st-nightly", "st-summaries"]
    ingress = plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "st-chat-ingress").inputs["spec"]["ingress"][0]
    namespaces = [peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in ingress["from"]]
    assert namespaces == ["chat-batch-app", "chat-web-app"]
    labels = plan.one("kubernetes:apps/v1:Deployment", "st-chat-deployment").inputs["metadata"]["labels"]
    assert labels["triplane.io/use-case"] == "chat"
    assert labels["triplane.io/data-classification"] == "confidential"


def test_endpoints(plan: Plan) -> None:
    endpoints = plan.outputs["endpoints"]
    assert endpoints["chat-web"]["url"] == endpoints["chat-batch"]["url"] == "http://st-chat.chat.svc.cluster.local"
    assert endpoints["chat-web"]["auth"] == "api-key"
    assert endpoints["chat-web"]["secret_ref"] == "kubernetes://chat/secrets/st-chat-api-key"
    assert endpoints["summaries"]["auth"] == "network-policy"
    assert "secret_ref" not in endpoints["summaries"]
    assert API_KEY not in str(plan.to_json())


def test_servers_land_on_their_pool_with_its_share_of_the_machine(plan: Plan) -> None:
    deployment = plan.one("kubernetes:apps/v1:Deployment", "st-nightly-deployment").inputs
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"triplane.io/gpu-type": "nvidia-l4", "triplane.io/capacity-type": "spot"}
    cpu, memory = sizing.pod_resources("aws", "nvidia-l4", 1)
    assert (cpu, memory) == (6, 24)  # three quarters of a g6.2xlarge (8 vCPU, 32 GiB per GPU)
    assert pod["containers"][0]["resources"]["limits"] == {
        "cpu": str(cpu),
        "memory": f"{memory}Gi",
        "nvidia.com/gpu": "1",
    }
    assert "replicas" not in deployment["spec"]  # KEDA owns the count: 0 off its active hours


def test_cache_storage_classes(plan: Plan) -> None:
    claims = {r.name: r.inputs["spec"] for r in k8s(plan, "PersistentVolumeClaim")}
    assert claims["st-chat-cache"]["storageClassName"] == "triplane-gp3"
    assert claims["st-summaries-cache"]["storageClassName"] == "triplane-efs"
    assert claims["st-summaries-cache"]["accessModes"] == ["ReadWriteMany"]
    # 8B in bfloat16 is 16 GB: 1.5 x that plus 20 GB.
    assert claims["st-chat-cache"]["resources"]["requests"]["storage"] == "45Gi"
    classes = {r.inputs["metadata"]["name"]: r.inputs for r in k8s(plan, "StorageClass")}
    assert classes["triplane-gp3"]["parameters"]["encrypted"] == "true"
    # The access point's owner: the non-root UID the engines use (root writes through it too).
    assert classes["triplane-efs"]["parameters"]["uid"] == "10001"


def test_autoscaled_service_scales_on_queue(plan: Plan) -> None:
    scaled = plan.one("kubernetes:keda.sh/v1alpha1:ScaledObject", "st-summaries-scaledobject").inputs["spec"]
    assert scaled["triggers"][0]["metadata"]["query"] == (
        'sum(tgi_queue_size{namespace="summaries",service="st-summaries-metrics"})'
    )
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (1, 3)
    assert len(k8s(plan, "ScaledObject")) == 2  # summaries, and nightly from zero
    assert not k8s(plan, "HorizontalPodAutoscaler")


def test_eks_gets_the_cluster_autoscaler(plan: Plan) -> None:
    deployment = plan.one("kubernetes:apps/v1:Deployment", "st-gpu-autoscaler-deployment").inputs
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/st-k8s/autoscaling/cluster-autoscaler:v1.35.0"
    )
    assert (
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/st-gpu"
        in (container["args"])
    )
    assert container["securityContext"]["runAsNonRoot"] is True
    assert deployment["spec"]["template"]["spec"]["nodeSelector"] == {"triplane.io/node-pool": "system"}


def test_hub_hosts_are_on_the_networks_allowlist_for_each_downloading_service(plan: Plan) -> None:
    from triplane.components.saas.providers import aws_domain
    from triplane.components.self_managed.weights import HUB_HOSTS

    group = plan.one("aws:networkfirewall/ruleGroup:RuleGroup").inputs
    targets = group["ruleGroup"]["rulesSource"]["rulesSourceList"]["targets"]
    assert {"huggingface.co", ".huggingface.co", ".hf.co"} == {aws_domain(h) for h in HUB_HOSTS} <= set(targets)
    # The plan names who needs the hosts.
    assert "chat (model weights of" in group["description"]
    for job in k8s(plan, "Job"):
        assert job.inputs["metadata"]["annotations"]["triplane.io/egress-path"] == "firewall"
        # The Job starts once the app subnets route through the firewall.
        assert any("aws:ec2/route:Route::st-egress-app-" in d for d in job.dependencies)
