"""Images reach every cluster: each cloud's pull-through cache, the rewrite of every pod image to it,
an existing cluster's mirror, and upstream credentials that never leave the secret store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from triplane.components.images import (
    DCGM_EXPORTER,
    NVIDIA_DEVICE_PLUGIN,
    TGI,
    VLLM,
    Image,
    Mirror,
    PullThroughCache,
    Upstream,
    chart_image,
    cluster_autoscaler,
    split_reference,
)
from triplane.plan import Plan, PlannedResource, is_secret, run_program
from triplane.policies.common import Res
from triplane.policies.kubernetes import (
    ALLOWED_REGISTRIES_DEFAULT,
    CACHE_PREFIXES_DEFAULT,
    PULL_THROUGH_CACHES_DEFAULT,
    _image_registry,
    through_cache,
)
from triplane.stacks import program
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID
from triplane.stacks.clouds.azure import OBJECT_ID as AZURE_OBJECT_ID
from triplane.stacks.clouds.gcp import PROJECT_NUMBER as GCP_PROJECT_NUMBER
from triplane.stacks.spec import SpecError, validate_environment

SHA = "0e9e39f249a16976918f6564b8830bc894c89659"
ECR = f"{AWS_ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"
DOCKER_HUB_TOKEN = "dckr_pat_plantedDockerHubToken0001"
GHCR_TOKEN = "ghp_plantedGithubContainerToken000001"
RUNNER = {"private_cidrs": ["10.50.0.0/24"]}
"""The deployer's declared way in to a new cluster (a runner in a connected network)."""


def images_of(plan: Plan) -> Iterator[tuple[PlannedResource, str]]:
    """Every container image of every Kubernetes workload in the plan."""
    for resource in plan.resources:
        if not resource.type.startswith("kubernetes:"):
            continue
        spec = resource.inputs.get("spec") or {}
        pod = (
            (spec.get("template") or {}).get("spec")
            or spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
            or {}
        )
        for key in ("initContainers", "containers"):
            for container in pod.get(key) or []:
                yield resource, container["image"]


def use_case(name: str, cluster: str, gpu: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "pattern": "self-managed",
        "data_classification": "confidential",
        "cluster": cluster,
        "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3", "revision": SHA},
        "gpu": {"type": gpu, "count": 1},
        "allowed_clients": {"namespaces": [f"{name}-app"]},
    }
    base.update(overrides)
    return base


# --- the catalog and the sources ------------------------------------------------------------------


def test_cache_rewrites_known_upstreams_and_leaves_the_rest_upstream() -> None:
    cache = PullThroughCache(root=ECR, prefixes={"ghcr.io": "t-ghcr", "docker.io": "t-dockerhub"})
    seen: list[str] = []

    def program_() -> None:
        for image in (TGI, VLLM, NVIDIA_DEVICE_PLUGIN):
            pulumi.Output.from_input(cache.ref(image)).apply(seen.append)

    run_program(program_, stack="cache")
    assert sorted(seen) == [
        f"{ECR}/t-dockerhub/vllm/vllm-openai:v0.11.0",
        f"{ECR}/t-ghcr/huggingface/text-generation-inference:3.3.7",
        "nvcr.io/nvidia/k8s-device-plugin:v0.17.4",
    ]
    assert cache.upstream_hosts(TGI) == ()
    assert cache.upstream_hosts(NVIDIA_DEVICE_PLUGIN) == ("nvcr.io", "ngc.download.nvidia.com")
    assert Upstream().upstream_hosts(VLLM) == (
        "registry-1.docker.io",
        "auth.docker.io",
        "production.cloudflare.docker.com",
    )


def test_mirror_keeps_the_upstream_host_in_the_path() -> None:
    mirror = Mirror("registry.corp/mirror")
    assert mirror.ref(cluster_autoscaler("1.33")) == (
        "registry.corp/mirror/registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0"
    )
    pinned = Image("quay.io", "prometheus/prometheus", "v3.5.0", "sha256:" + "a" * 64)
    assert mirror.ref(pinned.with_version("v3.6.0")) == "registry.corp/mirror/quay.io/prometheus/prometheus:v3.6.0"
    assert mirror.upstream_hosts(TGI) == ()


def test_chart_values_split_the_cached_reference() -> None:
    pinned = split_reference(f"{ECR}/quay/prometheus/prometheus:v3.5.0@sha256:{'b' * 64}", "sha")
    assert pinned == {"registry": ECR, "repository": "quay/prometheus/prometheus", "tag": "v3.5.0", "sha": "b" * 64}
    port = split_reference("mirror.local:5000/ai/ghcr.io/huggingface/text-generation-inference:3.3.7")
    assert port == {
        "registry": "mirror.local:5000",
        "repository": "ai/ghcr.io/huggingface/text-generation-inference",
        "tag": "3.3.7",
    }


def test_chart_image_follows_the_source() -> None:
    seen: list[dict[str, str]] = []

    def program_() -> None:
        chart_image(Mirror("registry.corp/m"), VLLM).apply(seen.append)

    run_program(program_, stack="helm")
    assert seen == [{"registry": "registry.corp", "repository": "m/docker.io/vllm/vllm-openai", "tag": "v0.11.0"}]


# --- AWS: ECR pull-through cache --------------------------------------------------------------------


def test_ecr_rules_cover_every_upstream_with_credentials_by_reference(dev_plan: Plan) -> None:
    rules = {
        r.inputs["ecrRepositoryPrefix"]: r.inputs
        for r in dev_plan.by_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    }
    assert {p: r["upstreamRegistryUrl"] for p, r in rules.items()} == {
        "dev-k8s": "registry.k8s.io",
        "dev-quay": "quay.io",
        "dev-ecrpublic": "public.ecr.aws",
        "dev-dockerhub": "registry-1.docker.io",
        "dev-ghcr": "ghcr.io",
    }
    with_credentials = {p for p, r in rules.items() if r.get("credentialArn")}
    assert with_credentials == {"dev-dockerhub", "dev-ghcr"}
    secrets = {r.inputs["name"]: r for r in dev_plan.by_type("aws:secretsmanager/secret:Secret") if "images" in r.name}
    assert set(secrets) == {
        "ecr-pullthroughcache/dev-aws-images-dockerhub",
        "ecr-pullthroughcache/dev-aws-images-ghcr",
    }
    key = dev_plan.one("aws:kms/key:Key", "dev-aws-images-key")
    assert key.inputs["enableKeyRotation"] is True
    key_arn = f"arn:aws:kms:us-east-1:{AWS_ACCOUNT_ID}:dev-aws-images-key"
    assert {s.inputs["kmsKeyId"] for s in secrets.values()} == {key_arn}
    for version in dev_plan.by_type("aws:secretsmanager/secretVersion:SecretVersion"):
        assert is_secret(version.inputs["secretString"])
    policy = json.loads(key.inputs["policy"])
    reader = next(s for s in policy["Statement"] if s["Sid"] == "PullThroughCacheReadsCredentials")
    assert reader["Action"] == "kms:Decrypt"
    assert reader["Condition"]["StringEquals"]["aws:PrincipalArn"].endswith(
        "pullthroughcache.ecr.amazonaws.com/AWSServiceRoleForECRPullThroughCache"
    )


def test_ecr_templates_encrypt_cached_repositories(dev_plan: Plan) -> None:
    templates = dev_plan.by_type("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert {t.inputs["prefix"] for t in templates} == {
        "dev-k8s",
        "dev-quay",
        "dev-ecrpublic",
        "dev-dockerhub",
        "dev-ghcr",
    }
    for template in templates:
        assert template.inputs["appliedFors"] == ["PULL_THROUGH_CACHE"]
        assert template.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
        assert template.inputs["encryptionConfigurations"][0]["kmsKey"].startswith("arn:aws:kms:")
        assert template.inputs["customRoleArn"]
        assert json.loads(template.inputs["lifecyclePolicy"])["rules"][0]["selection"]["tagStatus"] == "untagged"


def test_eks_nodes_may_fill_the_cache_over_private_endpoints(dev_plan: Plan) -> None:
    grant = dev_plan.one("aws:iam/rolePolicy:RolePolicy", "dev-gpu-image-cache")
    statement = json.loads(grant.inputs["policy"])["Statement"][0]
    assert set(statement["Action"]) == {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}
    assert f"arn:aws:ecr:us-east-1:{AWS_ACCOUNT_ID}:repository/dev-ghcr/*" in statement["Resource"]
    assert "*" not in statement["Resource"]
    services = {
        r.inputs["serviceName"]: r.inputs["vpcEndpointType"]
        for r in dev_plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    assert services["com.amazonaws.us-east-1.ecr.api"] == "Interface"
    assert services["com.amazonaws.us-east-1.ecr.dkr"] == "Interface"
    assert services["com.amazonaws.us-east-1.s3"] == "Gateway"


# --- every image of a new cluster points at its cloud's cache ---------------------------------------


EKS_CLUSTER = {"dev": "gpu", "prod": "gpu-aws"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_new_clusters_pull_every_image_through_the_cache_or_the_firewall(
    stack: str, dev_plan: Plan, prod_plan: Plan
) -> None:
    plan = dev_plan if stack == "dev" else prod_plan
    found = list(images_of(plan))
    assert len(found) >= 3
    caches = (f"{ECR}/", "europe-west4-docker.pkg.dev/acme-genai-prod/", "prodimagesrgtriplaneprod.azurecr.io/")
    [firewall] = plan.by_type("aws:networkfirewall/ruleGroup:RuleGroup")
    allowed = set(firewall.inputs["ruleGroup"]["rulesSource"]["rulesSourceList"]["targets"])
    for resource, image in found:
        if image.startswith(caches):
            continue
        # ECR cannot front nvcr.io: EKS's GPU metrics exporter is pulled through the egress firewall.
        exporter = f"{stack}-{EKS_CLUSTER[stack]}-gpu-metrics-daemonset"
        assert (resource.name, image) == (exporter, DCGM_EXPORTER.upstream)
        assert {"nvcr.io", "ngc.download.nvidia.com"} <= allowed


def test_gke_pulls_through_remote_repositories(prod_plan: Plan) -> None:
    repositories = {
        r.inputs["repositoryId"]: r.inputs for r in prod_plan.by_type("gcp:artifactregistry/repository:Repository")
    }
    assert set(repositories) == {"prod-dockerhub", "prod-ghcr", "prod-nvcr", "prod-k8s", "prod-quay"}
    assert repositories["prod-dockerhub"]["remoteRepositoryConfig"]["dockerRepository"] == {
        "publicRepository": "DOCKER_HUB"
    }
    uris = {k: v["remoteRepositoryConfig"].get("commonRepository", {}).get("uri") for k, v in repositories.items()}
    assert uris == {
        "prod-dockerhub": None,
        "prod-ghcr": "https://ghcr.io",
        "prod-nvcr": "https://nvcr.io",
        "prod-k8s": "https://registry.k8s.io",
        "prod-quay": "https://quay.io",
    }
    for repository in repositories.values():
        assert (repository["mode"], repository["format"], repository["location"]) == (
            "REMOTE_REPOSITORY",
            "DOCKER",
            "europe-west4",
        )
        assert repository["kmsKeyName"]
    agent = prod_plan.one("gcp:projects/serviceIdentity:ServiceIdentity", "prod-gcp-images-agent")
    assert agent.inputs["service"] == "artifactregistry.googleapis.com"
    key_grant = prod_plan.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "prod-gcp-images-key-agent")
    assert key_grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert key_grant.inputs["member"] == (
        f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    )
    readers = prod_plan.by_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert len(readers) == 5
    assert {(r.inputs["role"], r.inputs["member"]) for r in readers} == {
        ("roles/artifactregistry.reader", "serviceAccount:prod-gpu-gcp-nodes@acme-genai-prod.iam.gserviceaccount.com")
    }


# --- Azure: a private registry with cache rules, the AKS cluster bootstraps from it -----------------

AZURE_ENVIRONMENT = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "tier": "dev",
    "clouds": {
        "azure": {
            "location": "westeurope",
            "resource_group": "rg-images",
            "network": {"new": {"cidr": "10.20.0.0/16"}},
        }
    },
    "kubernetes": [{"name": "gpu", "version": "1.35", "new": {"cloud": "azure", "deployer": RUNNER}}],
    "use_cases": [use_case("drafts", "gpu", "nvidia-a10", engine="vllm")],
}


@pytest.fixture(scope="module")
def azure_plan() -> Plan:
    return run_program(program.main, stack="az", config={"triplane:environment": AZURE_ENVIRONMENT})


def test_acr_is_private_premium_with_cache_rules(azure_plan: Plan) -> None:
    registry = azure_plan.one("azure-native:containerregistry:Registry").inputs
    assert registry["sku"] == {"name": "Premium"}
    assert registry["publicNetworkAccess"] == "Disabled"
    assert registry["adminUserEnabled"] is False and registry["anonymousPullEnabled"] is False
    assert registry["zoneRedundancy"] == "Enabled"
    assert registry["policies"]["exportPolicy"] == {"status": "disabled"}
    rules = {
        r.inputs["sourceRepository"]: r.inputs["targetRepository"]
        for r in azure_plan.by_type("azure-native:containerregistry:CacheRule")
    }
    assert rules == {
        "docker.io/*": "dockerhub/*",
        "ghcr.io/*": "ghcr/*",
        "nvcr.io/*": "nvcr/*",
        "registry.k8s.io/*": "k8s/*",
        "quay.io/*": "quay/*",
        "mcr.microsoft.com/*": "aks-managed-repository/*",
    }
    endpoint = azure_plan.one("azure-native:network:PrivateEndpoint", "az-azure-images-pe").inputs
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["registry"]
    zone = azure_plan.one("azure-native:privatedns:PrivateZone", "az-azure-images-zone").inputs
    assert zone["privateZoneName"] == "privatelink.azurecr.io"
    link = azure_plan.one("azure-native:privatedns:VirtualNetworkLink", "az-azure-images-zone-link").inputs
    assert link["registrationEnabled"] is False
    group = azure_plan.one("azure-native:network:PrivateDnsZoneGroup", "az-azure-images-pe-dns").inputs
    assert group["privateDnsZoneConfigs"][0]["privateDnsZoneId"].endswith("privatelink.azurecr.io")


def test_aks_bootstraps_from_the_registry_and_its_kubelet_pulls(azure_plan: Plan) -> None:
    registry = azure_plan.one("azure-native:containerregistry:Registry")
    cluster = azure_plan.one("azure-native:containerservice:ManagedCluster").inputs
    assert cluster["bootstrapProfile"]["artifactSource"] == "Cache"
    assert cluster["bootstrapProfile"]["containerRegistryId"].endswith(
        "/providers/Microsoft.Containerregistry/registrys/" + registry.inputs["registryName"]
    )
    kubelet = cluster["identityProfile"]["kubeletidentity"]
    assert kubelet["resourceId"].endswith("-kubelet") and kubelet["objectId"] == AZURE_OBJECT_ID
    pull = azure_plan.one("azure-native:authorization:RoleAssignment", "az-gpu-kubelet-acr-pull").inputs
    assert pull["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")
    assert pull["scope"] == cluster["bootstrapProfile"]["containerRegistryId"]
    root = f"{registry.inputs['registryName']}.azurecr.io"
    # The server and its weights Job, and the device plugin AKS GPU pools need (without `monitoring`, no
    # GPU metrics exporter: prod's exporter is pulled from the same cache, test_gpu_metrics.py).
    assert sorted({image for _, image in images_of(azure_plan)}) == [
        f"{root}/dockerhub/vllm/vllm-openai:v0.11.0",
        f"{root}/nvcr/nvidia/k8s-device-plugin:v0.17.4",
    ]


# --- existing clusters: one mirror for every image --------------------------------------------------


def existing_environment(registry: str | None) -> dict[str, Any]:
    existing: dict[str, Any] = {"kubeconfig_context": "kind-x", "provides": ["nvidia-device-plugin"]}
    if registry is not None:
        existing["registry"] = registry
    hub = {"source": "hub"}
    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "tier": "dev",
        "kubernetes": [{"name": "onprem", "version": "1.31", "existing": existing}],
        "use_cases": [
            use_case("chat", "onprem", "nvidia-l4", weights=hub),
            use_case("batch", "onprem", "nvidia-l4", engine="vllm", image={"tag": "v0.10.2"}, weights=hub),
        ],
    }


def test_existing_cluster_mirror_rewrites_every_image() -> None:
    plan = run_program(
        program.main, stack="ex", config={"triplane:environment": existing_environment("registry.corp/mirror")}
    )
    assert sorted({image for _, image in images_of(plan)}) == [
        "registry.corp/mirror/docker.io/vllm/vllm-openai:v0.10.2",
        "registry.corp/mirror/ghcr.io/huggingface/text-generation-inference:3.3.7",
    ]


def test_existing_cluster_must_say_where_its_nodes_pull_from() -> None:
    with pytest.raises(SpecError) as error:
        validate_environment(existing_environment(None), "stacks/Pulumi.x.yaml")
    assert "kubernetes[0].existing.registry: cluster 'onprem' exists already" in str(error.value)
    assert "`upstream`" in str(error.value)


def test_existing_cluster_that_reaches_the_registries_pulls_upstream() -> None:
    plan = run_program(program.main, stack="ex", config={"triplane:environment": existing_environment("upstream")})
    assert sorted({image for _, image in images_of(plan)}) == [
        "docker.io/vllm/vllm-openai:v0.10.2",
        "ghcr.io/huggingface/text-generation-inference:3.3.7",
    ]


def test_use_case_registry_is_refused_with_the_cluster_setting() -> None:
    environment = existing_environment("upstream")
    environment["use_cases"][0]["image"] = {"registry": "registry.corp/mirror"}
    with pytest.raises(SpecError) as error:
        validate_environment(environment, "stacks/Pulumi.x.yaml")
    assert "use_cases[0].image" in str(error.value) and "kubernetes[].existing.registry" in str(error.value)


# --- credentials stay secret ---------------------------------------------------------------------------


def test_upstream_credentials_never_appear_in_the_plan() -> None:
    environment = json.loads(json.dumps(AZURE_ENVIRONMENT))
    environment["clouds"] = {
        "aws": {
            "region": "us-east-1",
            "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
        }
    }
    environment["kubernetes"] = [{"name": "gpu", "version": "1.35", "new": {"cloud": "aws", "deployer": RUNNER}}]
    environment["use_cases"] = [use_case("drafts", "gpu", "nvidia-l4")]
    plan = run_program(
        program.main,
        stack="cr",
        config={
            "triplane:environment": environment,
            "triplane:dockerHubCredentials": json.dumps({"username": "acme", "accessToken": DOCKER_HUB_TOKEN}),
            "triplane:ghcrCredentials": json.dumps({"username": "acme", "accessToken": GHCR_TOKEN}),
        },
        secret_keys=["triplane:dockerHubCredentials", "triplane:ghcrCredentials"],
    )
    text = plan.dumps()
    assert DOCKER_HUB_TOKEN not in text and GHCR_TOKEN not in text
    versions = [r for r in plan.by_type("aws:secretsmanager/secretVersion:SecretVersion") if "images" in r.name]
    assert len(versions) == 2 and all(is_secret(v.inputs["secretString"]) for v in versions)


def test_plain_text_credentials_are_refused() -> None:
    environment = {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "tier": "dev",
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
            }
        },
        "kubernetes": [{"name": "gpu", "version": "1.35", "new": {"cloud": "aws", "deployer": RUNNER}}],
        "use_cases": [use_case("drafts", "gpu", "nvidia-l4")],
    }
    with pytest.raises(pulumi.RunError, match=r"dockerHubCredentials` .* plain text"):
        run_program(
            program.main,
            stack="pt",
            config={
                "triplane:environment": environment,
                "triplane:dockerHubCredentials": "{}",
                "triplane:ghcrCredentials": "{}",
            },
            secret_keys=["triplane:ghcrCredentials"],
        )


# --- the policy judges a cached image by its upstream ---------------------------------------------


def registry_findings(image: str) -> list[str]:
    resource = Res(
        type="kubernetes:apps/v1:Deployment",
        name="d",
        urn="urn:d",
        props={"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}},
    )
    config = {
        "allowedRegistries": ALLOWED_REGISTRIES_DEFAULT,
        "pullThroughCaches": PULL_THROUGH_CACHES_DEFAULT,
        "cachePrefixes": CACHE_PREFIXES_DEFAULT,
    }
    return list(_image_registry(resource, config))


@pytest.mark.parametrize(
    "image",
    [
        f"{ECR}/prod-ghcr/huggingface/text-generation-inference:3.3.7",
        f"{ECR}/k8s/autoscaling/cluster-autoscaler:v1.31.0",
        "europe-west4-docker.pkg.dev/acme/prod-dockerhub/vllm/vllm-openai:v0.11.0",
        "acmeimages.azurecr.io/nvcr/nvidia/k8s-device-plugin:v0.17.4",
    ],
)
def test_policy_accepts_caches_of_allowed_upstreams(image: str) -> None:
    assert registry_findings(image) == []


@pytest.mark.parametrize(
    "image",
    [
        f"{ECR}/dev-dockerhub/library/nginx:1.27",  # cached, but not an allowed upstream image
        f"{ECR}/team/app:1.0",  # not a cache prefix
        "evil.example/ghcr/huggingface/text-generation-inference:3.3.7",  # not a cache host
    ],
)
def test_policy_refuses_what_the_upstream_allowlist_refuses(image: str) -> None:
    assert len(registry_findings(image)) == 1


def test_through_cache_maps_back_to_the_upstream() -> None:
    assert (
        through_cache(
            "europe-west4-docker.pkg.dev",
            "acme/dev-ghcr/huggingface/text-generation-inference",
            PULL_THROUGH_CACHES_DEFAULT,
            CACHE_PREFIXES_DEFAULT,
        )
        == "ghcr.io/huggingface/text-generation-inference"
    )
    assert (
        through_cache("europe-west4-docker.pkg.dev", "acme/ghcr", PULL_THROUGH_CACHES_DEFAULT, CACHE_PREFIXES_DEFAULT)
        is None
    )


GCP_ENVIRONMENT = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "tier": "dev",
    "clouds": {
        "gcp": {
            "project": "acme-genai-dev",
            "region": "europe-west4",
            "network": {"new": {"cidr": "10.30.0.0/16"}},
            "image_cache": {"docker_hub_secret": "dockerHubCredentials"},
        }
    },
    "kubernetes": [{"name": "gpu", "version": "1.35", "new": {"cloud": "gcp", "deployer": RUNNER}}],
    "use_cases": [use_case("drafts", "gpu", "nvidia-l4", engine="vllm")],
}


def test_gcp_docker_hub_credentials_live_in_secret_manager() -> None:
    plan = run_program(
        program.main,
        stack="gc",
        config={
            "triplane:environment": GCP_ENVIRONMENT,
            "triplane:dockerHubCredentials": json.dumps({"username": "acme", "accessToken": DOCKER_HUB_TOKEN}),
        },
        secret_keys=["triplane:dockerHubCredentials"],
    )
    assert DOCKER_HUB_TOKEN not in plan.dumps()
    secret = plan.one("gcp:secretmanager/secret:Secret", "gc-gcp-images-dockerhub-token").inputs
    replica = secret["replication"]["userManaged"]["replicas"][0]
    assert replica["location"] == "europe-west4" and replica["customerManagedEncryption"]["kmsKeyName"]
    version = plan.one("gcp:secretmanager/secretVersion:SecretVersion", "gc-gcp-images-dockerhub-token-value")
    assert is_secret(version.inputs["secretData"])
    reader = plan.one("gcp:secretmanager/secretIamMember:SecretIamMember", "gc-gcp-images-dockerhub-token-reader")
    assert reader.inputs["role"] == "roles/secretmanager.secretAccessor"
    assert reader.inputs["member"] == (
        f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    )
    hub = plan.one("gcp:artifactregistry/repository:Repository", "gc-gcp-images-dockerhub")
    assert hub.secret_paths() == ["remoteRepositoryConfig.upstreamCredentials.usernamePasswordCredentials.username"]
    credentials = hub.inputs["remoteRepositoryConfig"]["upstreamCredentials"]["usernamePasswordCredentials"]
    assert credentials["passwordSecretVersion"] == version.name  # the version, never the token
    ghcr = plan.one("gcp:artifactregistry/repository:Repository", "gc-gcp-images-ghcr").inputs
    assert "upstreamCredentials" not in ghcr["remoteRepositoryConfig"]
    assert {image for _, image in images_of(plan)} == {
        "europe-west4-docker.pkg.dev/acme-genai-dev/gc-dockerhub/vllm/vllm-openai:v0.11.0"
    }
