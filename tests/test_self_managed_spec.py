"""The self-managed spec: the sizing guard, token budgets, engines, caches and environment-wide checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from triplane.components.self_managed import sizing
from triplane.stacks.clusters import plan_pool
from triplane.stacks.spec import SpecError, validate_environment
from triplane.stacks.spec.self_managed import SelfManagedUseCase

SOURCE = "stacks/Pulumi.test.yaml"
SHA = "0e9e39f249a16976918f6564b8830bc894c89659"
INSIDE = {"private_cidrs": ["10.99.0.0/24"]}
"""A deploy runner inside the network: the way in most fixtures declare."""


def use_case(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "chat",
        "pattern": "self-managed",
        "data_classification": "internal",
        "cluster": "gpu",
        "model": {"id": "meta-llama/Llama-3.1-8B-Instruct", "revision": SHA},
        "gpu": {"type": "nvidia-l4", "count": 1},
        "allowed_clients": {"namespaces": ["web"]},
    }
    base.update(overrides)
    return base


def environment(*use_cases: dict[str, Any], cloud: str = "aws", tier: str = "dev") -> dict[str, Any]:
    clouds = {
        "aws": {
            "region": "us-east-1",
            "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
        },
        "azure": {"location": "westeurope", "resource_group": "rg-t", "network": {"new": {"cidr": "10.20.0.0/16"}}},
        "gcp": {"project": "acme-genai-test", "region": "europe-west4", "network": {"new": {"cidr": "10.30.0.0/16"}}},
    }
    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "tier": tier,
        "clouds": {cloud: clouds[cloud]},
        "kubernetes": [{"name": "gpu", "version": "1.35", "new": {"cloud": cloud, "deployer": INSIDE}}],
        "use_cases": list(use_cases),
    }


def problems(env: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        validate_environment(env, SOURCE)
    return caught.value.problems


def only_problem(env: dict[str, Any]) -> str:
    found = problems(env)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_use_case_passes() -> None:
    parsed = validate_environment(environment(use_case()), SOURCE)
    chat = parsed.use_cases[0]
    assert isinstance(chat, SelfManagedUseCase)
    assert chat.engine == "tgi" and chat.exposure == "cluster-ip" and chat.monitoring == "annotations"


def test_sizing_guard_names_the_field_and_what_would_fit() -> None:
    big = use_case(model={"id": "meta-llama/Llama-3.1-70B-Instruct", "revision": SHA})
    message = only_problem(environment(big))
    assert message.startswith("triplane:environment.use_cases[0].gpu: meta-llama/Llama-3.1-70B-Instruct does not fit")
    assert "141.2 GB of bfloat16 weights" in message
    assert "1 x nvidia-l4 offer 21.6 GB" in message
    assert "gpu.count 8 of nvidia-l4" in message
    assert "model.quantize fp8 on 4 x nvidia-l4" in message
    assert "nvidia-h100-80gb" not in message.split("What would fit:")[0]


def test_sizing_guard_counts_the_kv_cache() -> None:
    # 8B in bfloat16 fits one L4 with the default budget, but not with a 64k-token KV cache.
    long = use_case(tokens={"max_total_tokens": 16384, "max_batch_total_tokens": 65536})
    message = only_problem(environment(long))
    assert "8.6 GB KV cache for 65536 tokens" in message
    assert "gpu.count 2 of nvidia-l4" in message


def test_quantization_makes_it_fit() -> None:
    fitted = use_case(
        model={"id": "meta-llama/Llama-3.1-70B-Instruct", "revision": SHA, "quantize": "fp8"},
        gpu={"type": "nvidia-l4", "count": 4},
    )
    validate_environment(environment(fitted), SOURCE)


def test_uncatalogued_models_declare_their_size() -> None:
    unknown = use_case(model={"id": "acme/house-model-13b", "revision": SHA})
    assert "parameters_billion: acme/house-model-13b is not in the model catalog" in only_problem(environment(unknown))
    two_l4 = {"type": "nvidia-l4", "count": 2}
    declared = use_case(model={"id": "acme/house-model-13b", "revision": SHA, "parameters_billion": 13}, gpu=two_l4)
    validate_environment(environment(declared), SOURCE)
    # Without an architecture the KV cache is taken as a fifth of the weights: 26 + 5.2 GB on one L4.
    one_l4 = use_case(model={"id": "acme/house-model-13b", "revision": SHA, "parameters_billion": 13})
    message = only_problem(environment(one_l4))
    assert "26.0 GB of bfloat16 weights + 5.2 GB KV cache" in message
    assert "gpu.count 2 of nvidia-l4" in message


def test_gpu_count_is_a_power_of_two() -> None:
    message = only_problem(environment(use_case(gpu={"type": "nvidia-l4", "count": 3})))
    assert message.startswith("triplane:environment.use_cases[0].gpu.count:")
    assert "use 1, 2, 4 or 8" in message


def test_unknown_gpu_type_lists_the_catalog() -> None:
    message = only_problem(environment(use_case(gpu={"type": "nvidia-b200", "count": 1})))
    assert "use_cases[0].gpu.type" in message and "nvidia-l4" in message


def test_token_budgets_must_be_ordered() -> None:
    message = only_problem(environment(use_case(tokens={"max_input_tokens": 8192, "max_total_tokens": 4096})))
    assert "use_cases[0].tokens.max_input_tokens: must be smaller than max_total_tokens" in message
    message = only_problem(
        environment(
            use_case(tokens={"max_input_tokens": 4000, "max_total_tokens": 8000, "max_batch_prefill_tokens": 2000})
        )
    )
    assert "tokens.max_batch_prefill_tokens: must be at least max_input_tokens" in message
    message = only_problem(environment(use_case(tokens={"max_total_tokens": 200_000})))
    assert "exceeds meta-llama/Llama-3.1-8B-Instruct's context of 131072 tokens" in message


def test_dtype_and_quantize_are_exclusive() -> None:
    clash = use_case(model={"id": "meta-llama/Llama-3.1-8B-Instruct", "dtype": "float16", "quantize": "eetq"})
    assert "use_cases[0].model.dtype: set either `dtype` or `quantize`" in only_problem(environment(clash))


def test_fp8_needs_ada_or_hopper() -> None:
    a10g = use_case(
        model={"id": "meta-llama/Llama-3.1-8B-Instruct", "quantize": "fp8"}, gpu={"type": "nvidia-a10g", "count": 1}
    )
    message = only_problem(environment(a10g))
    assert "use_cases[0].model.quantize: fp8 needs Ada or Hopper GPUs" in message


def test_vllm_refuses_what_it_lacks() -> None:
    eetq = use_case(engine="vllm", model={"id": "meta-llama/Llama-3.1-8B-Instruct", "quantize": "eetq"})
    assert "vLLM does not support eetq" in only_problem(environment(eetq))
    inputs = use_case(engine="vllm", tokens={"max_input_tokens": 1000, "max_total_tokens": 2000})
    assert "use_cases[0].tokens.max_input_tokens: vLLM has no separate input limit" in only_problem(environment(inputs))


def test_offline_needs_a_prefilled_cache() -> None:
    message = only_problem(environment(use_case(offline=True)))
    assert message.startswith("triplane:environment.use_cases[0].cache.existing_claim: offline serving")


def test_several_replicas_need_a_shared_cache() -> None:
    many = use_case(replicas={"min": 1, "max": 3})
    assert "use_cases[0].cache.access_mode: 3 replicas cannot share a ReadWriteOnce cache" in only_problem(
        environment(many)
    )
    shared = use_case(replicas={"min": 1, "max": 3}, cache={"access_mode": "ReadWriteMany"})
    validate_environment(environment(shared), SOURCE)


def test_autoscaling_needs_room_to_scale() -> None:
    message = only_problem(environment(use_case(autoscaling={"queue_size_target": 4})))
    assert "use_cases[0].autoscaling: replicas.max (1) must exceed replicas.min (1)" in message


def test_latest_is_not_a_version() -> None:
    message = only_problem(environment(use_case(image={"tag": "latest"})))
    assert "use_cases[0].image.tag" in message and "pin a tag" in message


def test_internal_load_balancer_needs_caller_cidrs() -> None:
    message = only_problem(environment(use_case(exposure="internal-load-balancer")))
    assert "use_cases[0].allowed_clients.cidrs: an internal load balancer needs" in message


def test_someone_must_be_allowed_to_call() -> None:
    message = only_problem(environment(use_case(allowed_clients={})))
    assert "use_cases[0].allowed_clients.namespaces: name at least one namespace" in message


def test_gpu_must_exist_on_the_clusters_cloud() -> None:
    message = only_problem(environment(use_case(gpu={"type": "nvidia-a10g", "count": 1}), cloud="azure"))
    assert message.startswith("triplane:environment.use_cases[0].gpu: azure has no machine with 1 x nvidia-a10g")
    assert "exists on aws" in message
    # H100 comes eight to a machine on AWS; a 2-GPU pod still fits one.
    two = use_case(gpu={"type": "nvidia-h100-80gb", "count": 2})
    validate_environment(environment(two), SOURCE)


def test_prod_pins_a_commit() -> None:
    floating = use_case(model={"id": "meta-llama/Llama-3.1-8B-Instruct", "revision": "main"})
    message = only_problem(environment(floating, tier="prod"))
    assert message.startswith("triplane:environment.use_cases[0].model.revision: prod serves a pinned commit")


def test_shared_services_must_agree() -> None:
    first = use_case(name="chat-a", shared_service="chat")
    second = use_case(name="chat-b", shared_service="chat", allowed_clients={"namespaces": ["batch"]})
    validate_environment(environment(first, second), SOURCE)
    other_model = copy.deepcopy(second)
    other_model["model"] = {"id": "mistralai/Mistral-7B-Instruct-v0.3", "revision": SHA}
    message = only_problem(environment(first, other_model))
    assert message.startswith("triplane:environment.use_cases[1].model: differs from use_cases[0] (chat-a)")
    restricted = dict(second, data_classification="restricted")
    assert "serves one data classification" in only_problem(environment(first, restricted))


def test_existing_cluster_without_cloud_cannot_make_an_internal_balancer() -> None:
    env = environment(use_case(exposure="internal-load-balancer", allowed_clients={"cidrs": ["10.1.0.0/16"]},
                               weights={"source": "hub"}))
    env["kubernetes"] = [{"name": "gpu", "existing": {"kubeconfig_context": "onprem", "registry": "upstream"}}]
    env["clouds"] = {}
    assert "use_cases[0].exposure: cluster 'gpu' is not in a known cloud" in only_problem(env)


def cluster_env(cloud: str, **new: Any) -> dict[str, Any]:
    """An environment whose one new cluster has exactly the given access settings."""
    env = environment(cloud=cloud)
    env["kubernetes"][0]["new"] = {"cloud": cloud, **new}
    return env


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_private_api_without_a_way_in_is_refused_with_the_options(cloud: str) -> None:
    message = only_problem(cluster_env(cloud))
    assert message.startswith(
        "triplane:environment.kubernetes[0].new.deployer: the API server is private and nothing says how deploys "
        "reach it"
    )
    assert "`deployer: {private_cidrs: [<the runner's private range>]}`" in message
    assert "`api_access: authorized-networks` with `api_authorized_cidrs:" in message
    assert ("`api_access: dns-endpoint`" in message) is (cloud == "gcp")


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_declared_ways_in_validate(cloud: str) -> None:
    inside = validate_environment(cluster_env(cloud, deployer={"private_cidrs": ["10.50.0.0/24"]}), SOURCE)
    new = inside.kubernetes[0].new
    assert new is not None and new.api_access == "private" and new.deployer.private_cidrs == ["10.50.0.0/24"]
    public = cluster_env(cloud, api_access="authorized-networks", api_authorized_cidrs=["203.0.113.0/28"])
    new = validate_environment(public, SOURCE).kubernetes[0].new
    assert new is not None and new.api_authorized_cidrs == ["203.0.113.0/28"] and new.deployer.principal is None


def test_dns_endpoint_is_gke_only() -> None:
    new = validate_environment(cluster_env("gcp", api_access="dns-endpoint"), SOURCE).kubernetes[0].new
    assert new is not None and new.api_access == "dns-endpoint"
    message = only_problem(cluster_env("aws", api_access="dns-endpoint"))
    assert message.startswith("triplane:environment.kubernetes[0].new.api_access: only GKE has a DNS-based")
    assert "`deployer: {private_cidrs:" in message and "`api_access: dns-endpoint`" not in message


def test_authorized_networks_are_narrow_public_blocks() -> None:
    message = only_problem(cluster_env("aws", api_access="authorized-networks"))
    assert "kubernetes[0].new.api_authorized_cidrs: list the public blocks" in message
    wide = cluster_env("aws", api_access="authorized-networks", api_authorized_cidrs=["198.51.0.0/16"])
    assert "198.51.0.0/16 opens the API server to too much of the internet" in only_problem(wide)
    assert "too much of the internet" in only_problem(
        cluster_env("azure", api_access="authorized-networks", api_authorized_cidrs=["0.0.0.0/0"])
    )
    # EKS and AKS apply authorized networks to the public endpoint only: a private range there does nothing.
    for cloud in ("aws", "azure", "gcp"):
        private = cluster_env(cloud, api_access="authorized-networks", api_authorized_cidrs=["10.50.0.0/24"])
        message = only_problem(private)
        assert "10.50.0.0/24 is not a public block" in message and "`deployer.private_cidrs`" in message
    shared = cluster_env("gcp", api_access="authorized-networks", api_authorized_cidrs=["100.64.1.0/24"])
    assert "100.64.1.0/24 is not a public block" in only_problem(shared)
    ipv6 = cluster_env("aws", api_access="authorized-networks", api_authorized_cidrs=["2001:db8::/64"])
    assert "list IPv4 blocks" in only_problem(ipv6)
    stray = cluster_env("aws", api_authorized_cidrs=["203.0.113.0/28"], deployer={"private_cidrs": ["10.5.0.0/24"]})
    assert "api_authorized_cidrs: only used with `api_access: authorized-networks`" in only_problem(stray)


def test_deployer_ranges_are_private() -> None:
    message = only_problem(cluster_env("gcp", deployer={"private_cidrs": ["203.0.113.0/28"]}))
    assert message.startswith("triplane:environment.kubernetes[0].new.deployer.private_cidrs")
    assert "not an RFC 1918 private network" in message


@pytest.mark.parametrize(
    ("cloud", "principal"),
    [
        ("aws", "arn:aws:iam::123456789012:role/ci/triplane-deploy"),
        ("aws", "arn:aws:iam::123456789012:user/deployer"),
        ("azure", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        ("gcp", "serviceAccount:ci-deploy@acme-genai-test.iam.gserviceaccount.com"),
        ("gcp", "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/subject/x"),
    ],
)
def test_deployer_principal_forms(cloud: str, principal: str) -> None:
    env = cluster_env(cloud, deployer={"private_cidrs": ["10.50.0.0/24"], "principal": principal})
    new = validate_environment(env, SOURCE).kubernetes[0].new
    assert new is not None and new.deployer.principal == principal


def test_deployer_principal_must_fit_the_cloud() -> None:
    session = "arn:aws:sts::123456789012:assumed-role/ci-deploy/run-42"
    message = only_problem(cluster_env("aws", deployer={"private_cidrs": ["10.5.0.0/24"], "principal": session}))
    assert message.startswith("triplane:environment.kubernetes[0].new.deployer.principal:")
    assert "an sts assumed-role ARN names a session: give the role's IAM ARN" in message
    role = "arn:aws:iam::123456789012:role/ci-deploy"
    message = only_problem(cluster_env("gcp", api_access="dns-endpoint", deployer={"principal": role}))
    assert "is not an IAM member, e.g. serviceAccount:" in message
    message = only_problem(cluster_env("azure", deployer={"private_cidrs": ["10.5.0.0/24"], "principal": "me"}))
    assert "is not the Entra ID object ID" in message


def test_existing_cluster_states_where_the_weights_come_from() -> None:
    env = environment(use_case())
    env["kubernetes"] = [{"name": "gpu", "existing": {"kubeconfig_context": "onprem", "registry": "upstream"}}]
    env["clouds"] = {}
    assert only_problem(env).startswith("triplane:environment.use_cases[0].weights.source: cluster 'gpu' exists")


def test_a_blob_import_needs_its_storage_account() -> None:
    source = "https://acme.blob.core.windows.net/models/llama"
    message = only_problem(environment(use_case(weights={"source": source}), cloud="azure"))
    assert "use_cases[0].weights.storage_account_id" in message


def test_an_s3_import_on_eks_is_accepted() -> None:
    validate_environment(environment(use_case(weights={"source": "s3://models/llama"})), SOURCE)


def test_offline_and_hub_contradict() -> None:
    message = only_problem(environment(use_case(offline=True, weights={"source": "hub"},
                                                cache={"existing_claim": "models"})))
    assert "use_cases[0].weights.source: hub fills the cache" in message


def test_one_new_cluster_per_cloud() -> None:
    """A second new cluster on a cloud would take the first one's subnets and endpoints."""
    env = environment(use_case())
    first = env["kubernetes"][0]
    env["kubernetes"].append({"name": "gpu-2", "new": dict(first["new"])})
    problem = only_problem(env)
    assert problem.startswith("triplane:environment.kubernetes[1].new.cloud: cluster 'gpu' already creates")
    assert "point its use cases at 'gpu'" in problem
    env["kubernetes"][1] = {"name": "gpu-2", "existing": {"kubeconfig_context": "other"}}
    validate_environment(env, SOURCE)


def test_kv_cache_arithmetic() -> None:
    llama8b = sizing.MODELS["meta-llama/Llama-3.1-8B-Instruct"]
    assert llama8b.architecture is not None
    assert llama8b.architecture.kv_bytes_per_token() == 2 * 32 * 8 * 128 * 2
    need = sizing.need(8.03, llama8b.architecture, "bfloat16", 4096, None)
    assert need.kv_tokens == 4 * 4096
    assert need.weights_gb == pytest.approx(16.06)
    assert need.kv_cache_gb == pytest.approx(16384 * 131072 / 1e9)
    assert sizing.need(8.03, None, "awq", None, None).kv_cache_gb == pytest.approx(8.03 * 0.5625 * 0.2)


def test_pool_is_sized_for_every_service_on_it() -> None:
    env = validate_environment(
        environment(
            use_case(name="small", replicas={"min": 1, "max": 2}, cache={"access_mode": "ReadWriteMany"}),
            use_case(
                name="large",
                model={"id": "meta-llama/Llama-3.1-70B-Instruct", "revision": SHA, "quantize": "fp8"},
                gpu={"type": "nvidia-l4", "count": 4},
                replicas={"min": 0, "max": 1},
                autoscaling={"active_hours": {"timezone": "UTC", "start": "0 8 * * 1-5", "end": "0 18 * * 1-5"}},
                node_pool={"disk_size_gb": 500},
            ),
        ),
        SOURCE,
    )
    pool = plan_pool("aws", "nvidia-l4", [u for u in env.use_cases if isinstance(u, SelfManagedUseCase)])
    assert pool.machine_type == "g6.12xlarge"  # the largest pod (4 GPUs) picks the machine
    assert pool.gpus_per_node == 4
    assert pool.min_nodes == 1  # 1 x 1 GPU
    assert pool.max_nodes == 2  # (2 + 1 surge) x 1 GPU + 1 x 4 GPUs = 7 GPUs
    assert pool.disk_size_gb == 500


def test_pod_resources_fit_every_machine_of_the_gpu() -> None:
    for cloud in ("aws", "azure", "gcp"):
        for gpu_type, gpu in sizing.GPUS.items():
            for count in gpu.machines(cloud):
                cpu, memory = sizing.pod_resources(cloud, gpu_type, count)
                for machine_type in gpu.machines(cloud).values():
                    machine = sizing.MACHINES[machine_type]
                    pods = machine.gpus // count
                    if pods:
                        assert cpu * pods < machine.vcpus and memory * pods < machine.memory_gib, machine_type
    assert sizing.pod_resources(None, "nvidia-l4", 2) == (8, 32)


@pytest.mark.parametrize("tag", ["latest", "main", "3", "3.3", "v0.11"])
def test_image_tags_must_name_a_full_version(tag: str) -> None:
    message = only_problem(environment(use_case(image={"tag": tag})))
    assert "use_cases[0].image.tag" in message and f"{tag!r} is not a full version" in message


@pytest.mark.parametrize("tag", ["3.3.7", "v0.11.0", "530.0.0-slim", "v3.13.2-distroless"])
def test_full_versions_are_accepted(tag: str) -> None:
    validated = validate_environment(environment(use_case(image={"tag": tag})), SOURCE)
    assert validated.use_cases[0].image.tag == tag  # type: ignore[union-attr]
