"""The deployability pass: each kind of run-time need is met by its path, and unmet without it.

Small synthetic plans (a cluster, one workload, the path or not) go through `runtime_paths`
directly; one plan goes through the real `triplane` pack to show the `deployable-*` policies fail
the gate on a need with no path.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from triplane.components.images import UPSTREAM_HOSTS
from triplane.components.self_managed.gpu_node_pool import BOTTLEROCKET_GPU_SETTINGS
from triplane.policies.common import Res
from triplane.policies.deployability import PULL_HOSTS, Need, runtime_paths

STACK = "test"
ACCOUNT_ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::triplane::{type_}::{name}"


class PlanBuilder:
    """Resources of a synthetic plan, linked the way `stack_resources` links them."""

    def __init__(self) -> None:
        self.resources: list[Res] = []

    def add(self, type_: str, name: str, props: dict[str, Any] | None = None, *, provider: Res | None = None,
            deps: tuple[Res, ...] = (), parent: Res | None = None) -> Res:
        resource = Res(type=type_, name=name, urn=urn(type_, name), props=props or {}, parent=parent,
                       dependencies=[d.urn for d in deps], provider_urn=provider.urn if provider else None)
        self.resources.append(resource)
        return resource

    def eks(self, **cluster_props: Any) -> Res:
        props = {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/28"]},
                 "accessConfig": {"bootstrapClusterCreatorAdminPermissions": True}, **cluster_props}
        cluster = self.add("aws:eks/cluster:Cluster", f"{STACK}-gpu-cluster", props)
        return self.add("pulumi:providers:kubernetes", f"{STACK}-gpu-k8s", {"kubeconfig": "[secret]"},
                        deps=(cluster,))

    def existing(self) -> Res:
        return self.add("pulumi:providers:kubernetes", f"{STACK}-onprem-k8s", {"context": "lab"})

    def deployment(self, provider: Res, *, image: str = f"{ACCOUNT_ECR}/ghcr/huggingface/tgi:3.3.7",
                   gpus: int = 0, env: dict[str, str] | None = None, replicas: int | None = 1,
                   claim: str | None = None, deps: tuple[Res, ...] = (), server: bool = False,
                   name: str = "app") -> Res:
        container: dict[str, Any] = {"name": "main", "image": image,
                                     "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}
        if gpus:
            container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
        pod: dict[str, Any] = {"containers": [container]}
        if claim:
            pod["volumes"] = [{"name": "cache", "persistentVolumeClaim": {"claimName": claim}}]
        spec: dict[str, Any] = {"template": {"spec": pod}}
        if replicas is not None:
            spec["replicas"] = replicas
        labels = {"app.kubernetes.io/component": "model-server"} if server else {}
        return self.add("kubernetes:apps/v1:Deployment", name,
                        {"metadata": {"name": name, "namespace": "ns", "labels": labels}, "spec": spec},
                        provider=provider, deps=deps)

    def job(self, provider: Res, claim: str, *, env: dict[str, str] | None = None) -> Res:
        pod = {"containers": [{"name": "download", "image": f"{ACCOUNT_ECR}/ghcr/huggingface/tgi:3.3.7",
                               "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}],
               "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": claim}}]}
        return self.add("kubernetes:batch/v1:Job", "download",
                        {"metadata": {"name": "download", "namespace": "ns"}, "spec": {"template": {"spec": pod}}},
                        provider=provider)

    def ecr_rule(self, prefix: str = "ghcr") -> Res:
        return self.add("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", f"cache-{prefix}",
                        {"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": "ghcr.io"})

    def needs(self, kind: str, environment: dict[str, Any] | None = None) -> list[Need]:
        return [n for n in runtime_paths(self.resources, environment) if n.kind == kind]


def unmet(needs: list[Need]) -> list[str]:
    return [n.what for n in needs if not n.met]


# --- images --------------------------------------------------------------------------------------


def test_an_image_through_the_clouds_pull_through_cache_is_met() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.ecr_rule("ghcr")
    plan.deployment(provider)
    [need] = plan.needs("images")
    assert need.met and "ECR pull-through cache rule 'ghcr'" in (need.path or "")


def test_an_upstream_image_on_a_new_cluster_has_no_path() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.deployment(provider, image="ghcr.io/huggingface/text-generation-inference:3.3.7")
    [need] = plan.needs("images")
    assert not need.met
    assert "ImageSource" in need.fix and "Deployment ns/app" in need.message()


def test_a_cache_prefix_the_plan_lacks_has_no_path() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.ecr_rule("quay")
    plan.deployment(provider)
    assert unmet(plan.needs("images")) == [f"the image {ACCOUNT_ECR}/ghcr/huggingface/tgi:3.3.7"]


def _allowing(targets: list[str]) -> PlanBuilder:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("aws:networkfirewall/ruleGroup:RuleGroup", "allow",
             {"ruleGroup": {"rulesSource": {"rulesSourceList": {"targets": targets}}}})
    plan.deployment(provider, image="nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless")
    return plan


def test_an_allowlisted_upstream_registry_is_a_path() -> None:
    [need] = _allowing(["nvcr.io", "ngc.download.nvidia.com"]).needs("images")
    assert need.path == "the egress allowlist entries for nvcr.io, ngc.download.nvidia.com"
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("aws:networkfirewall/ruleGroup:RuleGroup", "allow",
             {"ruleGroup": {"rulesSource": {"rulesSourceList": {"targets": ["quay.io"]}}}})
    plan.deployment(provider, image="quay.io/prometheus/prometheus:v3.5.0")
    [need] = plan.needs("images")
    assert need.path == "the egress allowlist entry for quay.io"


def test_a_registry_without_its_layer_host_has_no_path() -> None:
    # NVIDIA's registry answers the manifest and sends the layers from ngc.download.nvidia.com.
    assert unmet(_allowing(["nvcr.io"]).needs("images")) == [
        "the image nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
    ]


def test_the_packs_pull_hosts_are_the_image_sources() -> None:
    assert PULL_HOSTS == UPSTREAM_HOSTS


def test_an_existing_clusters_mirror_is_an_assumption_and_its_absence_a_finding() -> None:
    environment = {"kubernetes": [{"name": "onprem", "existing": {"kubeconfig_context": "lab",
                                                                  "registry": "registry.corp/mirror"}}]}
    plan = PlanBuilder()
    provider = plan.existing()
    plan.deployment(provider, image="registry.corp/mirror/ghcr.io/huggingface/tgi:3.3.7")
    [need] = plan.needs("images", environment)
    assert need.met and need.assumption
    bare = {"kubernetes": [{"name": "onprem", "existing": {"kubeconfig_context": "lab"}}]}
    [need] = plan.needs("images", bare)
    assert not need.met and "`registry` on the existing cluster 'onprem'" in need.fix


# --- custom resources ----------------------------------------------------------------------------


def _service_monitor(plan: PlanBuilder, provider: Res, deps: tuple[Res, ...] = ()) -> Res:
    return plan.add("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "monitor",
                    {"metadata": {"name": "monitor", "namespace": "ns"}}, provider=provider, deps=deps)


def test_a_custom_resource_after_the_release_that_installs_its_crd_is_met() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    release = plan.add("kubernetes:helm.sh/v3:Release", "prometheus", {"chart": "kube-prometheus-stack"},
                       provider=provider)
    _service_monitor(plan, provider, deps=(release,))
    [need] = plan.needs("crds")
    assert need.met and "prometheus" in (need.path or "")


def test_a_custom_resource_without_its_crd_has_no_path() -> None:
    plan = PlanBuilder()
    _service_monitor(plan, plan.eks())
    [need] = plan.needs("crds")
    assert not need.met and need.what == "the ServiceMonitor CRD (monitoring.coreos.com)"


def test_a_custom_resource_not_ordered_after_its_release_has_no_path() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("kubernetes:helm.sh/v3:Release", "prometheus", {"chart": "kube-prometheus-stack"}, provider=provider)
    _service_monitor(plan, provider)
    [need] = plan.needs("crds")
    assert not need.met and need.fix.startswith("make monitor depend on the release")


def test_a_crd_an_existing_cluster_provides_is_an_assumption() -> None:
    environment = {"kubernetes": [{"name": "onprem", "existing": {"kubeconfig_context": "lab",
                                                                  "provides": ["prometheus-operator"]}}]}
    plan = PlanBuilder()
    _service_monitor(plan, plan.existing())
    [need] = plan.needs("crds", environment)
    assert need.met and need.assumption


# --- autoscaling ---------------------------------------------------------------------------------


def _scaled_object(plan: PlanBuilder, provider: Res, triggers: list[dict[str, Any]], minimum: int = 1) -> Res:
    return plan.add("kubernetes:keda.sh/v1alpha1:ScaledObject", "scaler",
                    {"metadata": {"name": "app", "namespace": "ns"},
                     "spec": {"scaleTargetRef": {"name": "app"}, "minReplicaCount": minimum, "triggers": triggers}},
                    provider=provider)


def test_an_hpa_on_a_pods_metric_without_an_adapter_has_no_path() -> None:
    plan = PlanBuilder()
    plan.add("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "hpa",
             {"metadata": {"name": "app", "namespace": "ns"},
              "spec": {"metrics": [{"type": "Pods", "pods": {"metric": {"name": "tgi_queue_size"}}}]}},
             provider=plan.eks())
    assert unmet(plan.needs("autoscaling")) == ["an adapter serving Pods metrics"]


def test_a_prometheus_trigger_needs_a_prometheus_on_the_cluster() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    _scaled_object(plan, provider, [{"type": "prometheus", "metadata": {"query": "sum(tgi_queue_size)"}}])
    assert unmet(plan.needs("autoscaling")) == ["a Prometheus server to query"]
    plan.add("kubernetes:helm.sh/v3:Release", "prometheus", {"chart": "kube-prometheus-stack"}, provider=provider)
    assert unmet(plan.needs("autoscaling")) == []


def test_scale_from_zero_needs_a_trigger_that_can_wake_it() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("kubernetes:helm.sh/v3:Release", "prometheus", {"chart": "kube-prometheus-stack"}, provider=provider)
    _scaled_object(plan, provider, [{"type": "prometheus"}], minimum=0)
    assert unmet(plan.needs("autoscaling")) == ["a trigger that can wake it from zero replicas"]

    woken = PlanBuilder()
    provider = woken.eks()
    _scaled_object(woken, provider, [{"type": "cron", "metadata": {"start": "0 8 * * 1-5"}}], minimum=0)
    [need] = woken.needs("autoscaling")
    assert need.met and need.path == "the cron trigger"


def test_a_deployment_at_zero_replicas_with_no_scaler_has_no_path() -> None:
    plan = PlanBuilder()
    plan.deployment(plan.eks(), replicas=0)
    assert unmet(plan.needs("autoscaling")) == ["something that scales it up from 0 replicas"]


# --- GPUs ----------------------------------------------------------------------------------------


def test_a_gpu_pod_needs_a_device_plugin_on_its_cluster() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.deployment(provider, gpus=1)
    assert unmet(plan.needs("gpus")) == ["nvidia.com/gpu announced on its nodes (a device plugin)"]
    plan.add("kubernetes:apps/v1:DaemonSet", "plugin",
             {"metadata": {"name": "nvidia-device-plugin", "namespace": "kube-system"},
              "spec": {"template": {"spec": {"containers": [
                  {"name": "p", "image": f"{ACCOUNT_ECR}/nvcr/nvidia/k8s-device-plugin:v0.17.4"}]}}}},
             provider=provider)
    [need] = plan.needs("gpus")
    assert need.met and need.path == "the device plugin DaemonSet plugin"


def test_gke_announces_gpus_itself_and_an_existing_cluster_may_declare_its_plugin() -> None:
    plan = PlanBuilder()
    cluster = plan.add("gcp:container/cluster:Cluster", "gke", {})
    provider = plan.add("pulumi:providers:kubernetes", "gke-k8s", {}, deps=(cluster,))
    plan.deployment(provider, gpus=1)
    assert unmet(plan.needs("gpus")) == []

    environment = {"kubernetes": [{"name": "onprem", "existing": {"kubeconfig_context": "lab",
                                                                  "provides": ["nvidia-device-plugin"]}}]}
    onprem = PlanBuilder()
    onprem.deployment(onprem.existing(), gpus=1)
    [need] = onprem.needs("gpus", environment)
    assert need.met and need.assumption


def _exporter(plan: PlanBuilder, provider: Res, *, env: dict[str, str], request: str | None) -> None:
    """A GPU metrics exporter DaemonSet holding no GPU, with the host's /dev/null mounted at `request`."""
    container: dict[str, Any] = {"name": "dcgm-exporter", "image": "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2",
                                 "env": [{"name": k, "value": v} for k, v in env.items()]}
    pod: dict[str, Any] = {"containers": [container]}
    if request is not None:
        container["volumeMounts"] = [{"name": "gpu-request", "mountPath": request, "readOnly": True}]
        pod["volumes"] = [{"name": "gpu-request", "hostPath": {"path": "/dev/null", "type": "CharDevice"}}]
    plan.add("kubernetes:apps/v1:DaemonSet", "exporter",
             {"metadata": {"name": "dcgm-exporter", "namespace": "kube-system"},
              "spec": {"template": {"spec": pod}}}, provider=provider)


def _bottlerocket_eks(plan: PlanBuilder, settings: str = BOTTLEROCKET_GPU_SETTINGS) -> Res:
    provider = plan.eks()
    [cluster] = [r for r in plan.resources if r.type == "aws:eks/cluster:Cluster"]
    template = plan.add("aws:ec2/launchTemplate:LaunchTemplate", "gpu-lt",
                        {"userData": base64.b64encode(settings.encode()).decode()})
    plan.add("aws:eks/nodeGroup:NodeGroup", "gpu-nodes", {"amiType": "BOTTLEROCKET_x86_64_NVIDIA"},
             deps=(cluster, template))
    return provider


def test_the_gpu_exporter_on_bottlerocket_needs_a_volume_mount_request() -> None:
    # Bottlerocket's NVIDIA runtime ignores NVIDIA_VISIBLE_DEVICES in an unprivileged container.
    plan = PlanBuilder()
    _exporter(plan, _bottlerocket_eks(plan), env={"NVIDIA_VISIBLE_DEVICES": "all"}, request=None)
    assert unmet(plan.needs("gpus")) == ["every GPU of its node, without an allocation"]

    plan = PlanBuilder()
    _exporter(plan, _bottlerocket_eks(plan), env={}, request="/var/run/nvidia-container-devices/all")
    [need] = plan.needs("gpus")
    assert need.met and not need.assumption
    assert need.path is not None and need.path.startswith("a volume-mount device request")

    plan = PlanBuilder()  # /dev/null elsewhere is no request
    _exporter(plan, _bottlerocket_eks(plan), env={}, request="/run/gpus/all")
    assert unmet(plan.needs("gpus")) == ["every GPU of its node, without an allocation"]

    # Bottlerocket's device plugin names GPUs by index unless told otherwise, and the exporter maps the
    # pods holding them by UUID: without the setting, no metric would name its pod.
    plan = PlanBuilder()
    provider = _bottlerocket_eks(plan, settings='[settings.kubernetes]\nmax-pods = 110\n')
    _exporter(plan, provider, env={}, request="/var/run/nvidia-container-devices/all")
    assert unmet(plan.needs("gpus")) == ["every GPU of its node, without an allocation"]


def test_the_gpu_exporter_elsewhere_asks_by_environment_variable() -> None:
    plan = PlanBuilder()
    cluster = plan.add("azure-native:containerservice:ManagedCluster", "aks", {})
    provider = plan.add("pulumi:providers:kubernetes", "aks-k8s", {}, deps=(cluster,))
    _exporter(plan, provider, env={}, request="/var/run/nvidia-container-devices/all")
    assert unmet(plan.needs("gpus")) == ["every GPU of its node, without an allocation"]

    plan = PlanBuilder()
    cluster = plan.add("azure-native:containerservice:ManagedCluster", "aks", {})
    provider = plan.add("pulumi:providers:kubernetes", "aks-k8s", {}, deps=(cluster,))
    _exporter(plan, provider, env={"NVIDIA_VISIBLE_DEVICES": "all"}, request=None)
    [need] = plan.needs("gpus")
    assert need.met and not need.assumption and need.path is not None
    assert need.path.startswith("NVIDIA_VISIBLE_DEVICES=all")


# --- weights -------------------------------------------------------------------------------------


def test_a_server_filled_by_a_job_before_it_starts_and_run_offline_is_met() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("kubernetes:core/v1:PersistentVolumeClaim", "cache", {"metadata": {"name": "cache", "namespace": "ns"}},
             provider=provider)
    plan.add("aws:networkfirewall/ruleGroup:RuleGroup", "allow",
             {"ruleGroup": {"rulesSource": {"rulesSourceList": {"targets": ["huggingface.co"]}}}})
    job = plan.job(provider, "cache")
    plan.deployment(provider, server=True, env={"HF_HUB_OFFLINE": "1"}, claim="cache", deps=(job,))
    assert unmet(plan.needs("weights")) == []


def test_a_server_that_downloads_itself_or_starts_before_its_cache_is_filled_has_no_path() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("kubernetes:core/v1:PersistentVolumeClaim", "cache", {"metadata": {"name": "cache", "namespace": "ns"}},
             provider=provider)
    plan.job(provider, "cache")
    plan.deployment(provider, server=True, claim="cache")
    assert unmet(plan.needs("weights")) == [
        "to serve without downloading at start (HF_HUB_OFFLINE=1)",
        "the model weights in the cache claim cache",
        "a path to huggingface.co",
    ]


def import_job(plan: PlanBuilder, provider: Res, uri: str = "s3://models/llama/rev") -> Res:
    pod = {"containers": [{"name": "import", "image": f"{ACCOUNT_ECR}/ecrpublic/aws-cli/aws-cli:2.27.50",
                           "command": ["aws", "s3", "sync", uri, "/data/models/x"]}],
           "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "cache"}}]}
    annotations = {"triplane.io/weights-source": "bucket", "triplane.io/weights-bucket": uri,
                   "triplane.io/weights-path": "created"}
    return plan.add("kubernetes:batch/v1:Job", "import",
                    {"metadata": {"name": "import", "namespace": "ns", "annotations": annotations},
                     "spec": {"template": {"spec": pod}}}, provider=provider)


def test_a_bucket_import_over_the_s3_gateway_fills_the_claim_without_a_hub_entry() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("kubernetes:core/v1:PersistentVolumeClaim", "cache", {"metadata": {"name": "cache", "namespace": "ns"}},
             provider=provider)
    plan.add("aws:ec2/vpcEndpoint:VpcEndpoint", "s3",
             {"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway"})
    job = import_job(plan, provider)
    plan.deployment(provider, server=True, env={"HF_HUB_OFFLINE": "1"}, claim="cache", deps=(job,))
    needs = plan.needs("weights")
    assert unmet(needs) == []
    assert ("a private path to s3://models/llama/rev", "the S3 gateway endpoint") in {(n.what, n.path) for n in needs}
    assert not [n for n in needs if "huggingface.co" in n.what]


def test_a_bucket_import_without_a_private_path_has_none() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("kubernetes:core/v1:PersistentVolumeClaim", "cache", {"metadata": {"name": "cache", "namespace": "ns"}},
             provider=provider)
    job = import_job(plan, provider)
    plan.deployment(provider, server=True, env={"HF_HUB_OFFLINE": "1"}, claim="cache", deps=(job,))
    assert unmet(plan.needs("weights")) == ["a private path to s3://models/llama/rev"]
    # A bucket of another cloud has no path from EKS, gateway endpoint or not.
    plan.add("aws:ec2/vpcEndpoint:VpcEndpoint", "s3",
             {"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway"})
    other = PlanBuilder()
    other.resources = list(plan.resources)
    other.resources = [r for r in other.resources if r.name != "import"]
    import_job(other, provider, "gs://models/llama/rev")
    assert unmet(other.needs("weights")) == ["a private path to gs://models/llama/rev"]


def test_a_pre_filled_claim_is_an_assumption() -> None:
    plan = PlanBuilder()
    plan.deployment(plan.eks(), server=True, env={"HF_HUB_OFFLINE": "1"}, claim="filled-by-hand")
    claims = [n for n in plan.needs("weights") if "claim" in n.what]
    assert [(n.met, n.assumption) for n in claims] == [(True, True)]


# --- the deployer --------------------------------------------------------------------------------


def test_a_private_cluster_with_no_declared_path_in_has_no_path() -> None:
    plan = PlanBuilder()
    plan.eks(vpcConfig={"endpointPublicAccess": False, "endpointPrivateAccess": True})
    assert unmet(plan.needs("deployer")) == ["a network path from the deployer to the API server"]
    inside = {"kubernetes": [{"name": "gpu", "new": {"cloud": "aws", "deployer": {"private_cidrs": ["10.50.0.0/24"]}}}]}
    [reach] = [n for n in plan.needs("deployer", inside) if "network path" in n.what]
    assert reach.met and reach.assumption and "10.50.0.0/24" in (reach.path or "")


def test_an_aks_cluster_with_azure_rbac_needs_a_role_for_the_deployer_before_the_provider() -> None:
    plan = PlanBuilder()
    cluster = plan.add("azure-native:containerservice:ManagedCluster", "aks",
                       {"aadProfile": {"enableAzureRBAC": True, "managed": True}, "disableLocalAccounts": True,
                        "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/28"]}})
    provider = plan.add("pulumi:providers:kubernetes", "aks-k8s", {}, deps=(cluster,))
    assert unmet(plan.needs("deployer")) == [
        "a Kubernetes role for the deployer, granted before the first object"
    ]
    grant = plan.add("azure-native:authorization:RoleAssignment", "deployer",
                     {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
                                          "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"}, deps=(cluster,))
    provider.dependencies.append(grant.urn)
    assert unmet(plan.needs("deployer")) == []


# --- cloud APIs and endpoints --------------------------------------------------------------------


def test_a_google_resource_needs_its_api_enabled_before_it() -> None:
    plan = PlanBuilder()
    service = plan.add("gcp:projects/service:Service", "compute", {"service": "compute.googleapis.com"})
    plan.add("gcp:compute/network:Network", "vpc", {}, deps=(service,))
    plan.add("gcp:compute/subnetwork:Subnetwork", "subnet", {})
    plan.add("gcp:dns/managedZone:ManagedZone", "googleapis", {"dnsName": "googleapis.com."}, deps=(service,))
    missing = [(n.workload, n.what) for n in plan.needs("cloud-apis") if not n.met]
    assert missing == [
        ("Subnetwork subnet", "the API compute.googleapis.com enabled first"),
        ("ManagedZone googleapis", "the API dns.googleapis.com enabled first"),
    ]


def test_a_service_agent_granted_before_its_identity_exists_has_no_path() -> None:
    plan = PlanBuilder()
    kms = plan.add("gcp:projects/service:Service", "kms", {"service": "cloudkms.googleapis.com"})
    member = "serviceAccount:service-1@gcp-sa-aiplatform.iam.gserviceaccount.com"
    plan.add("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "grant", {"member": member}, deps=(kms,))
    assert unmet(plan.needs("cloud-apis")) == ["its service agent created before it is granted anything"]
    identity = plan.add("gcp:projects/serviceIdentity:ServiceIdentity", "vertex", {})
    plan.resources[-2].dependencies.append(identity.urn)
    assert unmet(plan.needs("cloud-apis")) == []


def test_every_google_module_the_components_use_has_an_api() -> None:
    unmapped = PlanBuilder()
    unmapped.add("gcp:somethingnew/thing:Thing", "new", {})
    [need] = unmapped.needs("cloud-apis")
    assert not need.met and "policies/triplane/gcp_apis.py" in need.fix


@pytest.mark.parametrize(("service", "met"), [("secretsmanager", True), ("kms", False)])
def test_a_saas_key_on_aws_is_read_over_a_secrets_manager_endpoint(service: str, met: bool) -> None:
    plan = PlanBuilder()
    saas = plan.add("triplane:saas:SaasEgress", "chat", {})
    plan.add("aws:secretsmanager/secret:Secret", "chat-key", {}, parent=saas)
    for name in (service, "sts"):
        plan.add("aws:ec2/vpcEndpoint:VpcEndpoint", name,
                 {"serviceName": f"com.amazonaws.us-east-1.{name}", "privateDnsEnabled": True})
    found = {n.what: n.met for n in plan.needs("endpoints")}
    assert found == {"the secretsmanager API over a private endpoint": met, "the sts API over a private endpoint": True}


def test_google_cloud_workloads_need_the_private_googleapis_zone() -> None:
    plan = PlanBuilder()
    plan.add("gcp:compute/network:Network", "vpc", {})
    assert unmet(plan.needs("endpoints")) == ["Google APIs over the private googleapis path"]


# --- through the gate ----------------------------------------------------------------------------


def test_the_gate_fails_on_a_need_with_no_path_and_lists_the_met_ones() -> None:
    from triplane.gate import check_plan
    from triplane.plan import Plan, PlannedResource

    def planned(type_: str, name: str, inputs: dict[str, Any], *, provider: str | None = None,
                deps: tuple[str, ...] = ()) -> PlannedResource:
        return PlannedResource(urn=urn(type_, name), type=type_, name=name, custom=True, parent=None, inputs=inputs,
                               dependencies=deps, protect=False, retain_on_delete=False, provider=provider,
                               aliases=(), ignore_changes=(), additional_secret_outputs=())

    cluster = planned("aws:eks/cluster:Cluster", "test-gpu-cluster",
                      {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/28"]},
                       "accessConfig": {"bootstrapClusterCreatorAdminPermissions": True}})
    provider = planned("pulumi:providers:kubernetes", "test-gpu-k8s", {}, deps=(cluster.urn,))
    deployment = planned(
        "kubernetes:apps/v1:Deployment", "app",
        {"metadata": {"name": "app", "namespace": "ns"},
         "spec": {"replicas": 0, "template": {"spec": {"containers": [{"name": "m", "image": "ghcr.io/a/b:1.2.3"}]}}}},
        provider=f"{provider.urn}::id",
    )
    plan = Plan(project="triplane", stack=STACK, resources=[cluster, provider, deployment])
    result = check_plan(plan, config={})
    failed = {v.policy for v in result.mandatory}
    assert {"deployable-images", "deployable-autoscaling"} <= failed
    assert "deployable-deployer" not in failed
    assert [n.kind for n in result.runtime if n.met] == ["deployer", "deployer"]
    assert result.to_json()["runtime"][0]["fix"] is not None


def test_private_eks_nodes_need_their_service_endpoints() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    plan.add("kubernetes:apps/v1:Deployment", "autoscaler", {"metadata": {"name": "cluster-autoscaler"}},
             provider=provider)
    for service in ("ecr.api", "ecr.dkr", "sts", "ec2", "eks-auth"):
        plan.add("aws:ec2/vpcEndpoint:VpcEndpoint", service,
                 {"serviceName": f"com.amazonaws.us-east-1.{service}", "privateDnsEnabled": True})
    plan.add("aws:ec2/vpcEndpoint:VpcEndpoint", "s3",
             {"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway"})
    assert unmet(plan.needs("endpoints")) == ["the autoscaling API over a private endpoint"]


# --- the shipped stacks --------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_every_need_of_the_shipped_stacks_has_a_path(stack: str) -> None:
    from triplane import runtime
    from triplane.stackfile import load_stack, plan_stack

    needs = runtime.paths(plan_stack(stack), load_stack(stack).config)
    assert [n.message() for n in needs if not n.met] == []
    kinds = {n.kind for n in needs}
    if stack == "local":
        # An existing cluster: what it pulls, reaches and runs is declared in the stack file, and listed.
        assert kinds == {"images", "weights", "gpus", "deployer"}
        assumed = {(n.kind, n.path) for n in needs if n.assumption}
        assert ("images", "ghcr.io directly (declared: registry upstream)") in assumed
        # Restricted data: the hub only through the site's proxy, which the stack names.
        assert ("weights", "the HTTPS proxy http://10.0.0.10:3128 (declared: weights.https_proxy)") in assumed
    else:
        assert {"images", "weights", "gpus", "deployer", "endpoints"} <= kinds
        assert not [n for n in needs if n.assumption and n.kind != "deployer"]


def test_a_bucket_import_over_declared_service_endpoints_is_an_assumption() -> None:
    plan = PlanBuilder()
    provider = plan.eks()
    job = import_job(plan, provider)
    job.props["metadata"]["annotations"]["triplane.io/weights-path"] = "declared"
    plan.deployment(provider, server=True, env={"HF_HUB_OFFLINE": "1"}, claim="cache", deps=(job,))
    [need] = [n for n in plan.needs("weights") if "private path" in n.what]
    assert (need.met, need.assumption) == (True, True)


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_each_policy_computes_exactly_its_own_kind(stack: str) -> None:
    from triplane.policies.deployability import KINDS
    from triplane.runtime import environment_of, plan_resources
    from triplane.stackfile import load_stack, plan_stack

    resources = plan_resources(plan_stack(stack))
    environment = environment_of(load_stack(stack).config)
    every = runtime_paths(resources, environment)
    for kind in KINDS:
        assert runtime_paths(resources, environment, kinds=(kind,)) == [n for n in every if n.kind == kind]


def test_a_download_on_a_new_cluster_through_the_stacks_proxy_is_declared() -> None:
    """A new cluster in an existing network: no allowlist entry, the stack names the proxy (or says `hub`)."""
    plan = PlanBuilder()
    provider = plan.eks()
    job = plan.job(provider, "cache")
    job.props["metadata"]["annotations"] = {"triplane.io/egress-path": "declared"}
    plan.deployment(provider, server=True, env={"HF_HUB_OFFLINE": "1"}, claim="cache", deps=(job,))
    hub = {"name": "ns", "cluster": "gpu", "weights": {"source": "hub", "https_proxy": "http://10.0.0.10:3128"}}
    [need] = [n for n in plan.needs("weights", {"use_cases": [hub]}) if "huggingface.co" in n.what]
    assert (need.met, need.assumption) == (True, True)
    assert need.path == "the HTTPS proxy http://10.0.0.10:3128 (declared: weights.https_proxy)"
    # Nothing declared for that service: no path.
    [need] = [n for n in plan.needs("weights", {"use_cases": []}) if "huggingface.co" in n.what]
    assert not need.met


# --- the AI gateway: its releases' CRDs, its images through the cache ----------------------------


def _gateway_plan(*, pooled: bool) -> list[Res]:
    """The AI gateway installed on an EKS cluster with images from the ECR pull-through cache, and its
    routes (one pooled self-managed server when `pooled`), as the gate sees the plan."""
    import pulumi
    from pulumi_aws import ecr as aws_ecr
    from pulumi_aws import eks as aws_eks
    from pulumi_kubernetes import apiextensions as k8s_apiextensions
    from pulumi_kubernetes import provider as k8s_provider

    from triplane.components.gateway import routes
    from triplane.components.gateway.install import AIGatewayInstall, AIGatewayInstallArgs
    from triplane.components.images import PullThroughCache
    from triplane.components.self_managed.addons import ClusterAddons, ClusterAddonsArgs
    from triplane.gate import PlanView
    from triplane.plan import run_program

    def program() -> None:
        cluster = aws_eks.Cluster(f"{STACK}-gpu-cluster", role_arn="arn:aws:iam::123456789012:role/eks",
                                  vpc_config={"subnet_ids": ["subnet-1", "subnet-2"]})
        provider = k8s_provider.Provider(f"{STACK}-gpu-k8s", kubeconfig="{}",
                                         opts=pulumi.ResourceOptions(depends_on=[cluster]))
        for prefix, upstream in (("dockerhub", "registry-1.docker.io"), ("quay", "quay.io")):
            aws_ecr.PullThroughCacheRule(f"cache-{prefix}", ecr_repository_prefix=f"{STACK}-{prefix}",
                                         upstream_registry_url=upstream)
        source = PullThroughCache(ACCOUNT_ECR, {"docker.io": f"{STACK}-dockerhub", "quay.io": f"{STACK}-quay"})
        on_cluster = pulumi.ResourceOptions(providers=[provider])
        addons = ClusterAddons("addons", ClusterAddonsArgs(install={"prometheus-operator"}, images=source),
                               opts=on_cluster)
        gateway = AIGatewayInstall("gw", AIGatewayInstallArgs(
            hostname="ai.internal.example.com", tls_certificate="chain", tls_private_key="key",
            source_ranges=["10.20.0.0/16"],
            load_balancer_annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
            provider=provider, images=source, cloud="aws",
            crd_releases={"monitoring.coreos.com": addons.releases["prometheus-operator"]}))
        server = routes.InClusterServer("notes-vllm", "uc-notes", 80, replicas=2 if pooled else 1,
                                        selector={"app": "notes-vllm"}, target_port=8000)
        spec = routes.RouteSpec("notes", "restricted", routes.Backend("notes", "llama", "OpenAI", server),
                                (routes.Consumer("notes-app", "api-key", 1_000, 10_000),))
        for body in routes.render("ai-gateway", "ai-gateway", [spec]):
            group = body["apiVersion"].rsplit("/", 1)[0]
            waits = [gateway.crd_releases[group]] if group in gateway.crd_releases else [gateway]
            k8s_apiextensions.CustomResource(
                f"route-{body['kind'].lower()}-{body['metadata']['name']}", api_version=body["apiVersion"],
                kind=body["kind"], metadata=body["metadata"], spec=body["spec"],
                opts=pulumi.ResourceOptions(provider=provider, depends_on=waits))

    return PlanView(run_program(program, stack=STACK)).stack()


@pytest.fixture(scope="module")
def gateway_needs() -> list[Need]:
    return runtime_paths(_gateway_plan(pooled=False), None, kinds=("images", "crds"))


def test_the_gateway_releases_install_every_crd_its_objects_need(gateway_needs: list[Need]) -> None:
    crds = [n for n in gateway_needs if n.kind == "crds"]
    assert [n.message() for n in crds if not n.met] == []
    paths = {n.what: n.path for n in crds}
    envoy_gateway = "installed by Release gw-envoy-gateway, created first"
    assert paths["the Gateway CRD (gateway.networking.k8s.io)"] == envoy_gateway
    assert paths["the EnvoyProxy CRD (gateway.envoyproxy.io)"] == envoy_gateway
    assert paths["the AIGatewayRoute CRD (aigateway.envoyproxy.io)"] == (
        "installed by Release gw-ai-gateway-crds, created first"
    )


def test_the_gateway_images_and_redis_come_through_the_pull_through_cache(gateway_needs: list[Need]) -> None:
    images = [n for n in gateway_needs if n.kind == "images"]
    assert [n.message() for n in images if not n.met] == []
    [redis] = [n for n in images if n.workload == "Deployment envoy-gateway-system/redis"]
    assert redis.what == f"the image {ACCOUNT_ECR}/{STACK}-dockerhub/library/redis:8.2.4-alpine3.22"
    assert redis.path == f"ECR pull-through cache rule '{STACK}-dockerhub' (registry-1.docker.io)"


def test_an_inference_pool_has_no_installer() -> None:
    needs = runtime_paths(_gateway_plan(pooled=True), None, kinds=("crds",))
    assert [n.message() for n in needs if not n.met] == [
        "InferencePool uc-notes/notes-vllm needs the InferencePool CRD (inference.networking.k8s.io), and nothing in "
        "the plan provides it. Fix: install the add-on that serves it on this cluster (a Helm release in the "
        "cluster's add-ons), or list it in the existing cluster's `provides`, or do not render the resource"
    ]


def test_an_ai_gateway_chart_without_its_crds_chart_installs_no_crd() -> None:
    """`ai-gateway-helm` runs the controller; only `ai-gateway-crds-helm` installs aigateway.envoyproxy.io."""
    plan = PlanBuilder()
    provider = plan.eks()
    release = plan.add("kubernetes:helm.sh/v3:Release", "ai-gateway",
                       {"chart": "oci://docker.io/envoyproxy/ai-gateway-helm"}, provider=provider)
    plan.add("kubernetes:aigateway.envoyproxy.io/v1beta1:AIGatewayRoute", "route",
             {"metadata": {"name": "chat", "namespace": "ai-gateway"}}, provider=provider, deps=(release,))
    assert unmet(plan.needs("crds")) == ["the AIGatewayRoute CRD (aigateway.envoyproxy.io)"]
    crds = plan.add("kubernetes:helm.sh/v3:Release", "ai-gateway-crds",
                    {"chart": "oci://docker.io/envoyproxy/ai-gateway-crds-helm"}, provider=provider)
    plan.resources[-2].dependencies.append(crds.urn)
    assert unmet(plan.needs("crds")) == []


def test_the_installers_crd_map_is_the_gates() -> None:
    """components/gateway/install.py's CRD_GROUPS says what the pack's CHART_GROUPS says of its charts."""
    from triplane.components.gateway.install import CHARTS, CRD_GROUPS
    from triplane.policies.cluster_addons import CHART_GROUPS

    derived = {group: key for key, chart in CHARTS.items() for group in CHART_GROUPS.get(chart.name, ())}
    assert derived == CRD_GROUPS
