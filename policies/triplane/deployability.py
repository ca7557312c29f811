"""Deployability: every workload and cluster in the plan has a path to what it needs at run time.

A plan whose every input is valid can still leave a dead environment: an image no node can pull, a
custom resource whose CRD nothing installs, an autoscaler with no metrics, a GPU no device plugin
announces, a cluster the deployer cannot reach, a Google API never enabled. This pass reads what
each workload and cluster needs from the resources themselves (the images of its pods, the GPUs
they request, the custom resources and scalers around them, the cloud APIs its resources use) and
looks for the path in the same plan: the cache that serves the image, the release that installs the
CRD, the endpoint that carries the API call. A need with no path is a finding that names the
workload, the need and the fix.

A cluster Triplane did not create cannot be inspected: what its stack entry declares (`provides`,
`registry`) is taken as given and listed as an assumption, never silently.
"""

from __future__ import annotations

import base64
import fnmatch
import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .ai_gateway import IN_CLUSTER_SUFFIX, PROXY_NAMESPACE
from .aws import LAUNCH_TEMPLATE
from .cluster_addons import ADD_ON_GROUPS, CHART_GROUPS, PROMETHEUS_CHARTS
from .common import (
    HIGH,
    Res,
    as_list,
    environment_spec,
    get,
    is_unknown,
    json_document,
    platform_of,
    stack_policy,
    statements,
    truthy,
)
from .gcp_apis import SERVICE_AGENTS, SERVICE_IDENTITY_TYPE, SERVICE_TYPE, UnmappedGcpType, apis_for
from .kubernetes import containers, host_path_volumes, parse_image, pod_spec
from .monitoring import AMP_RULES, AWS_ALARM, AZURE_ALERT, AZURE_PROMETHEUS_RULES, GCP_POLICY, PROMETHEUS_RULE
from .runner_hosts import AWS_RUNNER_COMPONENT, AZURE_RUNNER_COMPONENT, GITHUB_HOSTS

K8S_PROVIDER = "pulumi:providers:kubernetes"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
CLUSTER_KINDS = {EKS_CLUSTER: "eks", AKS_CLUSTER: "aks", GKE_CLUSTER: "gke"}
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
POD_OWNERS = (
    "kubernetes:core/v1:Pod",
    DEPLOYMENT,
    "kubernetes:apps/v1:StatefulSet",
    DAEMON_SET,
    "kubernetes:apps/v1:ReplicaSet",
    JOB,
    "kubernetes:batch/v1:CronJob",
)
ECR_RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
ACR_REGISTRY = "azure-native:containerregistry:Registry"
ACR_CACHE_RULE = "azure-native:containerregistry:CacheRule"
AR_REPOSITORY = "gcp:artifactregistry/repository:Repository"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
EKS_ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS_ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
AWS_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
AZURE_VM = "azure-native:compute:VirtualMachine"
AZURE_NIC = "azure-native:network:NetworkInterface"
AZURE_VNET = "azure-native:network:VirtualNetwork"
AZURE_ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
GCP_SERVICE = "gcp:projects/service:Service"
GCP_SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"
GCP_DNS_ZONE = "gcp:dns/managedZone:ManagedZone"
AWS_RULE_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
AZURE_FIREWALL_POLICY_RULES = "azure-native:network:FirewallPolicyRuleCollectionGroup"
GCP_PROXY_RULE = "gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule"

BUILT_IN_GROUPS = frozenset(
    {
        "core", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
        "storage.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io",
        "scheduling.k8s.io", "node.k8s.io", "discovery.k8s.io", "certificates.k8s.io", "events.k8s.io",
        "flowcontrol.apiserver.k8s.io", "resource.k8s.io", "apiregistration.k8s.io", "helm.sh",
        "yaml", "kustomize",
    }
)  # fmt: skip
"""API groups every cluster serves (and the provider's own pseudo-groups): no CRD needed."""

WAKING_TRIGGERS = frozenset({"cron", "kafka", "rabbitmq", "aws-sqs-queue", "azure-servicebus", "gcp-pubsub", "redis"})
"""KEDA triggers whose signal exists while the workload has no pods: they can scale it up from zero."""
CUSTOM_METRIC_TYPES = frozenset({"Pods", "Object", "External"})
GPU = "nvidia.com/gpu"
DEVICE_PLUGIN_IMAGE = "k8s-device-plugin"
GPU_EXPORTER_IMAGE = "dcgm-exporter"
DEVICE_REQUESTS = "/var/run/nvidia-container-devices/"
"""Where a mount of the host's /dev/null asks the NVIDIA runtime for GPUs (its volume-mount requests)."""
HUB_HOST = "huggingface.co"
AKS_CLUSTER_ROLES = frozenset(
    {
        "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",  # Azure Kubernetes Service RBAC Cluster Admin
        "3498e952-d568-435e-9b2c-8d77e338d7f7",  # Azure Kubernetes Service RBAC Admin
    }
)
"""Azure roles that let an identity create cluster-scoped objects through Azure RBAC for Kubernetes."""
EKS_ADMIN_POLICIES = ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy")
GKE_DEPLOYER_ROLES = frozenset({"roles/container.admin"})
"""Project roles that reach Kubernetes objects of every kind through GKE's IAM authorizer."""
GCP_PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"

SERVICE_AGENT_DOMAINS = tuple(f"@{domain}" for domain in SERVICE_AGENTS.values())
"""How a grant to a Google service agent looks: `serviceAccount:service-<n>@<agent domain>`."""

_ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_AR_HOST = re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev$")


# --- what a finding looks like -------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """One thing a workload or cluster needs at run time, and the path the plan gives it (or none)."""

    kind: str
    """images, crds, autoscaling, gpus, weights, gateway, alerts, dashboards, cloud-apis, endpoints, deployer."""
    workload: str
    """Who needs it, as a person finds it: `Deployment code-review/dev-code-review`, `cluster dev-gpu`."""
    what: str
    path: str | None
    """How the plan meets it; None: it does not."""
    fix: str
    urn: str | None
    assumption: bool = False
    """Met only by what the stack file declares about a cluster Triplane cannot see."""

    @property
    def met(self) -> bool:
        return self.path is not None

    def message(self) -> str:
        return f"{self.workload} needs {self.what}, and nothing in the plan provides it. Fix: {self.fix}"


# --- the plan as a graph -------------------------------------------------------------------------


@dataclass
class Cluster:
    """A Kubernetes cluster the plan deploys to, known by its provider."""

    provider: Res
    kind: str
    """eks, aks, gke, or existing."""
    name: str
    resource: Res | None = None
    declared: Mapping[str, Any] = field(default_factory=dict)
    """The existing cluster's entry in the stack file (`provides`, `registry`, ...)."""
    members: list[Res] = field(default_factory=list)

    @property
    def provides(self) -> set[str]:
        return {str(p) for p in as_list(self.declared.get("provides"))}

    def label(self) -> str:
        return f"cluster {self.name}" + (" (existing)" if self.kind == "existing" else f" ({self.kind.upper()})")


class Graph:
    """Resources by URN and type, parents, descendants and what each waits for."""

    def __init__(self, resources: list[Res]) -> None:
        self.resources = resources
        self.by_urn = {r.urn: r for r in resources}
        self.children: dict[str, list[Res]] = {}
        for resource in resources:
            if resource.parent is not None:
                self.children.setdefault(resource.parent.urn, []).append(resource)
        self._waits: dict[str, frozenset[str]] = {}

    def of_type(self, *types: str) -> list[Res]:
        return [r for r in self.resources if r.type in types]

    def descendants(self, urn: str) -> Iterator[Res]:
        for child in self.children.get(urn, []):
            yield child
            yield from self.descendants(child.urn)

    def waits_for(self, resource: Res) -> frozenset[str]:
        """Every URN the engine creates before `resource`: its dependencies, theirs, and for a
        component dependency every resource under it (the engine waits for all of them)."""
        if resource.urn in self._waits:
            return self._waits[resource.urn]
        self._waits[resource.urn] = frozenset()  # cycles cannot occur in a plan; guard anyway
        found: set[str] = set()
        for urn in resource.dependencies:
            target = self.by_urn.get(urn)
            if target is None:
                continue
            found.add(urn)
            found |= self.waits_for(target)
            for child in self.descendants(urn):
                found.add(child.urn)
                found |= self.waits_for(child)
        result = frozenset(found)
        self._waits[resource.urn] = result
        return result


def _existing_clusters(environment: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """Existing clusters in the stack file by kubeconfig context."""
    found: dict[str, Mapping[str, Any]] = {}
    for cluster in as_list((environment or {}).get("kubernetes")):
        existing = cluster.get("existing") if isinstance(cluster, Mapping) else None
        if isinstance(existing, Mapping) and existing.get("kubeconfig_context"):
            found[str(existing["kubeconfig_context"])] = {"name": cluster.get("name"), **existing}
    return found


def clusters(graph: Graph, environment: Mapping[str, Any] | None) -> dict[str, Cluster]:
    """Every Kubernetes provider of the plan as a cluster, with the resources deployed through it."""
    existing = _existing_clusters(environment)
    found: dict[str, Cluster] = {}
    for provider in graph.of_type(K8S_PROVIDER):
        name = provider.name.removesuffix("-k8s")
        cluster = Cluster(provider=provider, kind="existing", name=name)
        for urn in provider.dependencies:
            target = graph.by_urn.get(urn)
            if target is not None and target.type in CLUSTER_KINDS:
                cluster.kind, cluster.resource = CLUSTER_KINDS[target.type], target
        context = provider.props.get("context")
        if cluster.kind == "existing" and isinstance(context, str) and context in existing:
            cluster.declared = existing[context]
            cluster.name = str(cluster.declared.get("name") or name)
        found[provider.urn] = cluster
    for resource in graph.resources:
        if resource.provider_urn in found:
            found[resource.provider_urn].members.append(resource)
    return found


def _workload(resource: Res) -> str:
    kind = resource.type.rsplit(":", 1)[-1]
    namespace = resource.props.get("metadata", {}).get("namespace") if isinstance(resource.props, dict) else None
    name = resource.props.get("metadata", {}).get("name") or resource.name
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _release_chart(resource: Res) -> str:
    return str(resource.props.get("chart") or "").rsplit("/", 1)[-1]


def _releases(cluster: Cluster) -> list[Res]:
    return [r for r in cluster.members if r.type == HELM_RELEASE]


# --- images --------------------------------------------------------------------------------------


def allowlisted_hosts(graph: Graph) -> set[str]:
    """Host names the plan's egress firewalls let through (AWS, Azure and Google Cloud forms)."""
    hosts: set[str] = set()
    for group in graph.of_type(AWS_RULE_GROUP):
        source = (group.props.get("ruleGroup") or {}).get("rulesSource") or {}
        hosts |= {str(t).lstrip(".") for t in as_list((source.get("rulesSourceList") or {}).get("targets"))}
    for collection in graph.of_type(AZURE_FIREWALL_POLICY_RULES):
        for rule_collection in as_list(collection.props.get("ruleCollections")):
            for rule in as_list(rule_collection.get("rules") if isinstance(rule_collection, Mapping) else None):
                if isinstance(rule, Mapping):
                    hosts |= {str(t) for t in as_list(rule.get("targetFqdns"))}
    for rule in graph.of_type(GCP_PROXY_RULE):
        hosts |= set(re.findall(r"host\(\)\s*==\s*'([^']+)'", str(rule.props.get("sessionMatcher") or "")))
    return hosts


def _cache_path(graph: Graph, cluster: Cluster, registry: str, repository: str) -> str | None:
    """The cache in the plan that serves `registry/repository` to this cluster's nodes, if any."""
    first = repository.split("/", 1)[0]
    if cluster.kind == "eks" and _ECR_HOST.match(registry):
        for rule in graph.of_type(ECR_RULE):
            if rule.props.get("ecrRepositoryPrefix") == first:
                return f"ECR pull-through cache rule {first!r} ({rule.props.get('upstreamRegistryUrl')})"
    if cluster.kind == "aks" and registry.endswith(".azurecr.io"):
        name = registry.removesuffix(".azurecr.io")
        if any(str(r.props.get("registryName", "")).lower() == name for r in graph.of_type(ACR_REGISTRY)):
            for rule in graph.of_type(ACR_CACHE_RULE):
                target = str(rule.props.get("targetRepository") or "")
                if _repository_matches(target, repository):
                    return f"ACR cache rule {target!r} from {rule.props.get('sourceRepository')}"
    if cluster.kind == "gke" and _AR_HOST.match(registry):
        parts = repository.split("/")
        if len(parts) > 2:
            for repo in graph.of_type(AR_REPOSITORY):
                if repo.props.get("repositoryId") == parts[1] and repo.props.get("mode") == "REMOTE_REPOSITORY":
                    return f"Artifact Registry remote repository {parts[1]!r}"
    return None


def _repository_matches(pattern: str, repository: str) -> bool:
    if pattern.endswith("/*"):
        return repository.startswith(pattern[:-1])
    return pattern == repository.split(":", 1)[0]


PULL_HOSTS: dict[str, tuple[str, ...]] = {
    "docker.io": ("registry-1.docker.io", "auth.docker.io", "production.cloudflare.docker.com"),
    "nvcr.io": ("nvcr.io", "ngc.download.nvidia.com"),
}
"""What a node pulling from a registry directly must reach, where that is more than the registry's own
name: Docker Hub's API, token and layer hosts; NVIDIA's registry and its layer host (the pack's copy of
`components.images.UPSTREAM_HOSTS`, which a test holds equal)."""


def _egress_path(registry: str, allowlist: set[str]) -> str | None:
    hosts = PULL_HOSTS.get(registry, (registry,))
    if not all(host in allowlist for host in hosts):
        return None
    return f"the egress allowlist entr{'ies' if len(hosts) > 1 else 'y'} for {', '.join(hosts)}"


def image_needs(graph: Graph, cluster: Cluster, allowlist: set[str]) -> Iterator[Need]:
    mirror = str(cluster.declared.get("registry") or "")
    for resource in cluster.members:
        spec = pod_spec(resource) if resource.type in POD_OWNERS else None
        if spec is None:
            continue
        for _where, container in containers(spec):
            image = container.get("image")
            if not isinstance(image, str) or is_unknown(image):
                continue
            registry, repository, _tag, _digest = parse_image(image)
            path: str | None = None
            assumption = False
            if cluster.kind == "existing":
                if mirror == "upstream":
                    path, assumption = f"{registry} directly (declared: registry upstream)", True
                elif mirror and image.startswith(mirror + "/"):
                    path, assumption = f"the registry mirror {mirror} (declared: it holds this image)", True
            else:
                path = _cache_path(graph, cluster, registry, repository)
                if path is None:
                    path = _egress_path(registry, allowlist)
            fix = (
                f"set `registry` on the existing cluster {cluster.name!r} to a mirror holding it, or to "
                "`upstream` if its nodes reach the public registries"
                if cluster.kind == "existing"
                else "take the image from the cluster's ImageSource (components/images.py), which rewrites it "
                "to the cloud's pull-through cache, or add its registry to the network's egress allowlist"
            )
            yield Need("images", _workload(resource), f"the image {image}", path, fix, resource.urn, assumption)


# --- custom resources ----------------------------------------------------------------------------


def _group_of(resource: Res) -> str | None:
    if not resource.type.startswith("kubernetes:"):
        return None
    api = resource.type.split(":")[1]
    group = api.rsplit("/", 1)[0] if "/" in api else "core"
    return None if group in BUILT_IN_GROUPS else group


GMP_GROUP = "monitoring.googleapis.com"
"""The CRDs of Google Cloud Managed Service for Prometheus (PodMonitoring, ...), served by GKE itself."""


def crd_needs(graph: Graph, cluster: Cluster) -> Iterator[Need]:
    installers: dict[str, list[Res]] = {}
    for release in _releases(cluster):
        for installed in CHART_GROUPS.get(_release_chart(release), ()):
            installers.setdefault(installed, []).append(release)
    for crd in (r for r in cluster.members if r.type == CRD):
        installers.setdefault(str((crd.props.get("spec") or {}).get("group") or ""), []).append(crd)
    declared = {group for add_on in cluster.provides for group in ADD_ON_GROUPS.get(add_on, ())}
    gke = cluster.resource
    # GKE's managed collection installs its operator's CRDs with the cluster, which its provider waits for.
    managed_collection = gke is not None and truthy(get(gke.props, "monitoringConfig.managedPrometheus.enabled"))
    for resource in cluster.members:
        group = _group_of(resource)
        if group is None:
            continue
        kind = resource.type.rsplit(":", 1)[-1]
        what = f"the {kind} CRD ({group})"
        waits = graph.waits_for(resource)
        ordered = [i for i in installers.get(group, []) if i.urn in waits]
        path: str | None = None
        assumption = False
        if ordered:
            path = f"installed by {ordered[0].type.rsplit(':', 1)[-1]} {ordered[0].name}, created first"
        elif group == GMP_GROUP and managed_collection:
            path = "installed by GKE's managed collection, with the cluster"
        elif group in declared:
            path, assumption = "the cluster (declared in `provides`)", True
        unordered = installers.get(group) and not ordered
        fix = (
            f"make {resource.name} depend on the release that installs {group}"
            if unordered
            else "install the add-on that serves it on this cluster (a Helm release in the cluster's add-ons), "
            "or list it in the existing cluster's `provides`, or do not render the resource"
        )
        yield Need("crds", _workload(resource), what, path, fix, resource.urn, assumption)


# --- autoscaling ---------------------------------------------------------------------------------


def _prometheus(cluster: Cluster) -> str | None:
    for release in _releases(cluster):
        if _release_chart(release) in PROMETHEUS_CHARTS:
            return f"the Prometheus of Helm release {release.name}"
    if "prometheus" in cluster.provides or "prometheus-operator" in cluster.provides:
        return "the cluster's Prometheus (declared in `provides`)"
    return None


def autoscaling_needs(cluster: Cluster) -> Iterator[Need]:
    scaled: dict[str, Res] = {}
    for scaler in (r for r in cluster.members if r.type == SCALED_OBJECT):
        spec = scaler.props.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {}).get("name")
        namespace = (scaler.props.get("metadata") or {}).get("namespace")
        scaled[f"{namespace}/{target}"] = scaler
        triggers = [t for t in as_list(spec.get("triggers")) if isinstance(t, Mapping)]
        if any(t.get("type") == "prometheus" for t in triggers):
            path = _prometheus(cluster)
            yield Need("autoscaling", _workload(scaler), "a Prometheus server to query", path,
                       "install Prometheus on the cluster (the add-ons do when a use case autoscales) or "
                       "declare `prometheus` in the existing cluster's `provides`", scaler.urn,
                       assumption=path is not None and "declared" in path)
        if int(spec.get("minReplicaCount", 1) or 0) == 0:
            waking = sorted({str(t.get("type")) for t in triggers} & WAKING_TRIGGERS)
            yield Need("autoscaling", _workload(scaler), "a trigger that can wake it from zero replicas",
                       f"the {waking[0]} trigger" if waking else None,
                       "add a trigger whose signal exists while no pod runs (e.g. `autoscaling.active_hours`, a "
                       "KEDA cron trigger), or set replicas.min to 1", scaler.urn)
    for hpa in (r for r in cluster.members if r.type == HPA):
        metrics = [m for m in as_list((hpa.props.get("spec") or {}).get("metrics")) if isinstance(m, Mapping)]
        custom = sorted({str(m.get("type")) for m in metrics} & CUSTOM_METRIC_TYPES)
        if custom:
            adapter = "metrics-adapter" in cluster.provides
            yield Need("autoscaling", _workload(hpa), f"an adapter serving {'/'.join(custom)} metrics",
                       "the cluster's metrics adapter (declared in `provides`)" if adapter else None,
                       "scale with a KEDA ScaledObject (Triplane's `autoscaling`), or declare `metrics-adapter` in "
                       "the existing cluster's `provides`", hpa.urn, assumption=adapter)
    for deployment in (r for r in cluster.members if r.type == DEPLOYMENT):
        spec = deployment.props.get("spec") or {}
        if "replicas" in spec and int(spec.get("replicas") or 0) == 0:
            metadata = deployment.props.get("metadata") or {}
            key = f"{metadata.get('namespace')}/{metadata.get('name')}"
            waker = scaled.get(key)
            yield Need("autoscaling", _workload(deployment), "something that scales it up from 0 replicas",
                       f"ScaledObject {waker.name}" if waker is not None else None,
                       "set replicas.min to at least 1, or autoscale it with a trigger that can wake it",
                       deployment.urn)


# --- GPUs ----------------------------------------------------------------------------------------


def _requests_gpu(spec: Mapping[str, Any]) -> bool:
    for _where, container in containers(dict(spec)):
        resources = container.get("resources") or {}
        for section in ("limits", "requests"):
            if GPU in (resources.get(section) or {}):
                return True
    return False


def _gpu_node_groups(graph: Graph, cluster: Cluster) -> list[Res]:
    if cluster.kind != "eks" or cluster.resource is None:
        return []
    groups = [g for g in graph.of_type(EKS_NODE_GROUP) if cluster.resource.urn in graph.waits_for(g)]
    return [g for g in groups if "NVIDIA" in str(g.props.get("amiType", ""))]


def _all_bottlerocket(groups: list[Res]) -> bool:
    """The GPU node groups (`_gpu_node_groups`) are all Bottlerocket NVIDIA nodes, and there are some."""
    return bool(groups) and all(str(g.props.get("amiType", "")).startswith("BOTTLEROCKET") for g in groups)


def _bottlerocket_setting(graph: Graph, group: Res, table: str, key: str) -> Any:
    """A Bottlerocket setting (`settings.<table>.<key>`) in the user data of the group's launch template."""
    for urn in graph.waits_for(group):
        template = graph.by_urn.get(urn)
        if template is None or template.type != LAUNCH_TEMPLATE or is_unknown(template.props.get("userData")):
            continue
        try:
            settings = tomllib.loads(base64.b64decode(str(template.props.get("userData") or "")).decode())
        except (ValueError, tomllib.TOMLDecodeError):
            return None
        found: Any = settings.get("settings") or {}
        for part in (*table.split("."), key):
            found = found.get(part) if isinstance(found, Mapping) else None
        return found
    return None


def _device_plugin(graph: Graph, cluster: Cluster) -> tuple[str | None, bool]:
    for daemonset in (r for r in cluster.members if r.type == DAEMON_SET):
        spec = pod_spec(daemonset) or {}
        if any(DEVICE_PLUGIN_IMAGE in str(c.get("image", "")) for _w, c in containers(spec)):
            return f"the device plugin DaemonSet {daemonset.name}", False
    if cluster.kind == "gke":
        return "GKE's own device plugin (GPU node pools with a driver installation)", False
    if _all_bottlerocket(_gpu_node_groups(graph, cluster)):
        return "the Bottlerocket NVIDIA AMI's built-in device plugin", False
    if "nvidia-device-plugin" in cluster.provides or "nvidia-gpu-operator" in cluster.provides:
        return "the cluster's device plugin (declared in `provides`)", True
    return None, False


def _mounts_device_request(spec: dict[str, Any], container: Mapping[str, Any]) -> bool:
    """The container mounts the host's /dev/null under the NVIDIA runtime's device-request directory."""
    null_volumes = {name for name, path in host_path_volumes(spec).items() if path == "/dev/null"}
    return any(
        isinstance(m, Mapping) and m.get("name") in null_volumes
        and str(m.get("mountPath", "")).startswith(DEVICE_REQUESTS)
        for m in as_list(container.get("volumeMounts"))
    )


def _unallocated_gpu_path(graph: Graph, cluster: Cluster, spec: dict[str, Any],
                          container: Mapping[str, Any]) -> tuple[str | None, bool]:
    """How a container that holds no GPU allocation (the GPU metrics exporter) reaches its node's GPUs."""
    mounted = _mounts_device_request(spec, container)
    groups = _gpu_node_groups(graph, cluster)
    if _all_bottlerocket(groups):
        # Bottlerocket's NVIDIA runtime ignores NVIDIA_VISIBLE_DEVICES in an unprivileged container, and
        # its device plugin names GPUs by index unless told otherwise: the exporter maps pods by UUID.
        by_uuid = all(
            _bottlerocket_setting(graph, g, "kubelet-device-plugins.nvidia", "device-id-strategy") == "uuid"
            for g in groups
        )
        return ("a volume-mount device request (the host's /dev/null under /var/run/nvidia-container-devices/), "
                "which Bottlerocket's NVIDIA runtime honours, on nodes whose device plugin names GPUs by UUID"
                if mounted and by_uuid else None), False
    if _env(container).get("NVIDIA_VISIBLE_DEVICES") == "all":
        known = cluster.kind in ("aks", "eks")
        return ("NVIDIA_VISIBLE_DEVICES=all, which the NVIDIA container toolkit honours in an unprivileged "
                "container by default" + ("" if known else " (assumed of the existing cluster's nodes)")), not known
    return None, False


def gpu_needs(graph: Graph, cluster: Cluster) -> Iterator[Need]:
    plugin: tuple[str | None, bool] | None = None
    for resource in cluster.members:
        spec = pod_spec(resource) if resource.type in POD_OWNERS else None
        if spec is None:
            continue
        if not _requests_gpu(spec):
            for _where, container in containers(spec):
                if GPU_EXPORTER_IMAGE in str(container.get("image", "")):
                    path, assumption = _unallocated_gpu_path(graph, cluster, spec, container)
                    yield Need("gpus", _workload(resource), "every GPU of its node, without an allocation", path,
                               "mount the host's /dev/null (hostPath, CharDevice, read-only) at "
                               "/var/run/nvidia-container-devices/all (components/self_managed/gpu_metrics.py); "
                               "on Bottlerocket, set settings.kubelet-device-plugins.nvidia.device-id-strategy "
                               "to uuid in the GPU nodes' launch template", resource.urn, assumption)
            continue
        if plugin is None:
            plugin = _device_plugin(graph, cluster)
        path, assumption = plugin
        yield Need("gpus", _workload(resource), f"{GPU} announced on its nodes (a device plugin)", path,
                   "deploy the NVIDIA device plugin on the cluster (the add-ons do on EKS, AKS and existing "
                   "clusters), or declare `nvidia-device-plugin` in the existing cluster's `provides`",
                   resource.urn, assumption)


# --- weights -------------------------------------------------------------------------------------


def _env_on(value: Any) -> bool:
    """How huggingface_hub reads a boolean variable: 1, ON, YES or TRUE, in any case."""
    return str(value).strip().upper() in {"1", "ON", "YES", "TRUE"}


def _env(container: Mapping[str, Any]) -> dict[str, Any]:
    return {str(e.get("name")): e.get("value") for e in as_list(container.get("env")) if isinstance(e, Mapping)}


def _claims(spec: Mapping[str, Any]) -> set[str]:
    return {
        str(v["persistentVolumeClaim"].get("claimName"))
        for v in as_list(spec.get("volumes"))
        if isinstance(v, Mapping) and isinstance(v.get("persistentVolumeClaim"), Mapping)
    }


def _hub_services(environment: Mapping[str, Any] | None, cluster: str | None) -> dict[str, str]:
    """The services (namespaces) whose use cases declare a path to the hub -> that path; only those on
    `cluster` when named (a service's namespace is unique in the environment)."""
    found = {}
    for use_case in as_list((environment or {}).get("use_cases")):
        if not isinstance(use_case, Mapping) or (cluster is not None and use_case.get("cluster") != cluster):
            continue
        weights = use_case.get("weights") or {}
        if weights.get("source") == "hub":
            proxy = weights.get("https_proxy")
            found[str(use_case.get("shared_service") or use_case.get("name"))] = (
                f"the HTTPS proxy {proxy} (declared: weights.https_proxy)"
                if proxy
                else "the cluster's own path to the hub (declared: weights.source hub)"
            )
    return found


def weights_needs(
    graph: Graph, cluster: Cluster, allowlist: set[str], environment: Mapping[str, Any] | None
) -> Iterator[Need]:
    """A model server serves from a cache filled before it starts, and never downloads itself."""
    jobs = [r for r in cluster.members if r.type == JOB]
    created_claims = {
        f"{(c.props.get('metadata') or {}).get('namespace')}/{(c.props.get('metadata') or {}).get('name')}"
        for c in cluster.members
        if c.type == PVC
    }
    for server in cluster.members:
        if server.type != DEPLOYMENT:
            continue
        labels = (server.props.get("metadata") or {}).get("labels") or {}
        if labels.get("app.kubernetes.io/component") != "model-server":
            continue
        spec = pod_spec(server) or {}
        namespace = (server.props.get("metadata") or {}).get("namespace")
        offline = any(_env_on(_env(c).get("HF_HUB_OFFLINE")) for _w, c in containers(spec))
        workload = _workload(server)
        yield Need("weights", workload, "to serve without downloading at start (HF_HUB_OFFLINE=1)",
                   "HF_HUB_OFFLINE=1" if offline else None,
                   "fill the model cache before the server starts and run the server offline", server.urn)
        waits = graph.waits_for(server)
        for claim in sorted(_claims(spec)):
            fillers = [
                j for j in jobs
                if (j.props.get("metadata") or {}).get("namespace") == namespace
                and claim in _claims(pod_spec(j) or {})
            ]  # fmt: skip
            ordered = [j for j in fillers if j.urn in waits]
            if ordered:
                path: str | None = f"Job {ordered[0].name}, which completes before the server starts"
                assumption = False
            elif f"{namespace}/{claim}" not in created_claims:
                path, assumption = f"the existing claim {claim} (declared pre-filled: cache.existing_claim)", True
            else:
                path, assumption = None, False
            yield Need("weights", workload, f"the model weights in the cache claim {claim}", path,
                       "download the pinned revision into the claim with a Job the server depends on, or name a "
                       "pre-filled claim in cache.existing_claim", server.urn, assumption)
        for job in [j for j in jobs if (j.props.get("metadata") or {}).get("namespace") == namespace]:
            annotations = (job.props.get("metadata") or {}).get("annotations") or {}
            if annotations.get(WEIGHTS_SOURCE_ANNOTATION) == "bucket":
                yield bucket_need(graph, cluster, job, annotations)
                yield from sign_in_needs(cluster, job, annotations, allowlist)
                continue
            job_spec = pod_spec(job) or {}
            downloads = any(not _env_on(_env(c).get("HF_HUB_OFFLINE")) for _w, c in containers(job_spec))
            if not downloads:
                continue
            if cluster.kind == "existing" or annotations.get(EGRESS_PATH_ANNOTATION) == "declared":
                on = cluster.name if cluster.kind == "existing" else None
                path = _hub_services(environment, on).get(str(namespace))
                reach = path is not None
                yield Need("weights", _workload(job), f"a path to {HUB_HOST}", path,
                           "declare `weights.source: hub` on the use case if the cluster reaches the hub, or "
                           "serve from a pre-filled claim (`existing-claim`)", job.urn, assumption=reach)
            else:
                path = f"the egress allowlist entry for {HUB_HOST}" if HUB_HOST in allowlist else None
                yield Need("weights", _workload(job), f"a path to {HUB_HOST}", path,
                           "add the hub hosts to the network's egress allowlist for this use case", job.urn)


WEIGHTS_SOURCE_ANNOTATION = "triplane.io/weights-source"
WEIGHTS_BUCKET_ANNOTATION = "triplane.io/weights-bucket"
WEIGHTS_PATH_ANNOTATION = "triplane.io/weights-path"
EGRESS_HOSTS_ANNOTATION = "triplane.io/egress-hosts"
EGRESS_PATH_ANNOTATION = "triplane.io/egress-path"
"""What a bucket import Job carries (`components.self_managed.weights_import`): it fills the claim from a
bucket over the cloud's private path, and needs no hub allowlist entry."""


def bucket_need(graph: Graph, cluster: Cluster, job: Res, annotations: Mapping[str, Any]) -> Need:
    """A bucket import reaches its bucket over the cloud's private path: the S3 gateway endpoint on EKS,
    Private Google Access through the private `googleapis.com.` zone on GKE, the storage account's blob
    private endpoint on AKS."""
    uri = str(annotations.get(WEIGHTS_BUCKET_ANNOTATION) or "")
    what = f"a private path to {uri or 'its bucket'}"
    fix = ("import from the cluster's own cloud over its private path (the S3 gateway endpoint, the private "
           "googleapis.com. zone, the storage account's blob private endpoint), or pre-fill the claim and use "
           "`weights.source: existing-claim`")
    if cluster.kind == "existing":
        return Need("weights", _workload(job), what, None, fix, job.urn)
    if annotations.get(WEIGHTS_PATH_ANNOTATION) == "declared":
        return Need("weights", _workload(job), what, "the cluster's service endpoints (declared: existing)", fix,
                    job.urn, assumption=True)
    path: str | None = None
    if uri.startswith("s3://") and cluster.kind == "eks":
        gateways = [e for e in graph.of_type(VPC_ENDPOINT)
                    if str(e.props.get("serviceName", "")).endswith(".s3")
                    and e.props.get("vpcEndpointType") == "Gateway"]  # fmt: skip
        path = "the S3 gateway endpoint" if gateways else None
    elif uri.startswith("gs://") and cluster.kind == "gke":
        path = "Private Google Access (the private googleapis.com. zone)" if _googleapis_zone(graph) else None
    elif ".blob.core.windows.net/" in uri and cluster.kind == "aks":
        path = "the storage account's blob private endpoint" if "blob" in _azure_private_endpoints(graph) else None
    return Need("weights", _workload(job), what, path, fix, job.urn)


def sign_in_needs(cluster: Cluster, job: Res, annotations: Mapping[str, Any], allowlist: set[str]) -> Iterator[Need]:
    """Hosts an import's identity needs beyond the private path (AKS: Entra ID's sign-in)."""
    hosts = [h for h in str(annotations.get(EGRESS_HOSTS_ANNOTATION) or "").split(",") if h]
    for host in hosts:
        if annotations.get(EGRESS_PATH_ANNOTATION) == "declared":
            yield Need("weights", _workload(job), f"a path to {host}", f"the network's own path to {host} (declared)",
                       "", job.urn, assumption=True)
            continue
        path = f"the egress allowlist entry for {host}" if host in allowlist else None
        yield Need("weights", _workload(job), f"a path to {host}", path,
                   f"add {host} to the network's egress allowlist for this use case", job.urn)


# --- deployer access -----------------------------------------------------------------------------


def _declared_runner(environment: Mapping[str, Any] | None, name: str) -> list[str]:
    """The private ranges a new cluster's stack entry says its deploys run from (`deployer.private_cidrs`)."""
    for cluster in as_list((environment or {}).get("kubernetes")):
        if isinstance(cluster, Mapping) and cluster.get("name") == name:
            new = cluster.get("new") or {}
            deployer = new.get("deployer") if isinstance(new, Mapping) else None
            if isinstance(deployer, Mapping):
                return [str(c) for c in as_list(deployer.get("private_cidrs"))]
    return []


def _reach(cluster: Cluster, environment: Mapping[str, Any] | None) -> str | None:
    props = cluster.resource.props if cluster.resource is not None else {}
    if cluster.kind == "eks":
        vpc = props.get("vpcConfig") or {}
        cidrs = [str(c) for c in as_list(vpc.get("publicAccessCidrs"))]
        if truthy(vpc.get("endpointPublicAccess")) and cidrs and "0.0.0.0/0" not in cidrs:
            return f"the public endpoint, open to {', '.join(cidrs)}"
    elif cluster.kind == "aks":
        profile = props.get("apiServerAccessProfile") or {}
        ranges = [str(c) for c in as_list(profile.get("authorizedIPRanges"))]
        if not truthy(profile.get("enablePrivateCluster")) and ranges:
            return f"the API server, open to {', '.join(ranges)}"
    elif cluster.kind == "gke":
        dns = ((props.get("controlPlaneEndpointsConfig") or {}).get("dnsEndpointConfig") or {})
        if truthy(dns.get("allowExternalTraffic")):
            return "the DNS-based control-plane endpoint (IAM-authorised)"
        private = props.get("privateClusterConfig") or {}
        blocks = ((props.get("masterAuthorizedNetworksConfig") or {}).get("cidrBlocks")) or []
        cidrs = [str(b.get("cidrBlock")) for b in as_list(blocks) if isinstance(b, Mapping)]
        if not truthy(private.get("enablePrivateEndpoint")) and cidrs:
            return f"the public endpoint, open to {', '.join(cidrs)}"
    return None


def runners(graph: Graph) -> list[Res]:
    """The deploy runners' machines: private (no public address) instances and VMs running a runner."""
    found = []
    for machine in graph.of_type(AWS_INSTANCE, AZURE_VM):
        parent = machine.parent.type if machine.parent is not None else None
        if machine.type == AWS_INSTANCE and parent == AWS_RUNNER_COMPONENT:
            if not truthy(machine.props.get("associatePublicIpAddress")):
                found.append(machine)
        elif machine.type == AZURE_VM and parent == AZURE_RUNNER_COMPONENT and not _public_nic(graph, machine):
            found.append(machine)
    return found


def _public_nic(graph: Graph, vm: Res) -> bool:
    nics = [graph.by_urn[u] for u in graph.waits_for(vm) if graph.by_urn[u].type == AZURE_NIC]
    return any(
        isinstance(c, Mapping) and c.get("publicIPAddress")
        for nic in nics for c in as_list(nic.props.get("ipConfigurations"))
    )


def _runner_reach(graph: Graph, cluster: Cluster) -> str | None:
    """A private API reached from a deploy runner: on EKS, an HTTPS ingress rule on the cluster's
    security group whose source is the runner instance's security group; on AKS, a runner VM in the
    cluster's own virtual network, where the private cluster's DNS zone resolves its endpoint."""
    if cluster.resource is None:
        return None
    if cluster.kind == "eks":
        groups = {g.urn for g in graph.of_type(AWS_SECURITY_GROUP)}
        for rule in graph.of_type(AWS_INGRESS_RULE):
            ports = (rule.props.get("fromPort"), rule.props.get("toPort"))
            if cluster.resource.urn not in graph.waits_for(rule) or ports != (443, 443):
                continue
            for machine in runners(graph):
                if graph.waits_for(rule) & graph.waits_for(machine) & groups:
                    return f"the deploy runner {machine.name}, inside the VPC (its security group is admitted on 443)"
    elif cluster.kind == "aks":
        networks = {n.urn for n in graph.of_type(AZURE_VNET)} & graph.waits_for(cluster.resource)
        for machine in runners(graph):
            if networks & graph.waits_for(machine):
                return f"the deploy runner {machine.name}, inside the cluster's virtual network"
    return None


def runner_needs(graph: Graph, allowlist: set[str]) -> Iterator[Need]:
    """Each deploy runner reaches GitHub through the network's egress allowlist, or never registers."""
    # AWS writes a wildcard `.x`, Azure `*.x`: compare the domains.
    domains = {entry.lstrip("*").lstrip(".") for entry in allowlist}
    for instance in runners(graph):
        for host in GITHUB_HOSTS:
            path = f"the egress allowlist entry for {host}" if host.lstrip("*").lstrip(".") in domains else None
            yield Need("deployer", f"deploy runner {instance.name}", f"HTTPS to {host} (GitHub Actions)", path,
                       f"add {host} to the egress allowlist of the runner's network", instance.urn)


def _stack_prefix(cluster: Cluster) -> str:
    urn = cluster.provider.urn
    stack = urn.split("::")[0].removeprefix("urn:pulumi:")
    return f"{stack}-"


def _role(graph: Graph, cluster: Cluster) -> str | None:
    resource = cluster.resource
    if resource is None:
        return None
    if cluster.kind == "eks":
        access = resource.props.get("accessConfig") or {}
        for association in graph.of_type(EKS_ACCESS_POLICY):
            policy = str(association.props.get("policyArn") or "")
            if any(policy.endswith(p) for p in EKS_ADMIN_POLICIES) and resource.urn in graph.waits_for(association):
                return f"access entry with {policy.rsplit('/', 1)[-1]}"
        if truthy(access.get("bootstrapClusterCreatorAdminPermissions")):
            return "cluster-creator admin (bootstrapClusterCreatorAdminPermissions)"
    elif cluster.kind == "aks":
        aad = resource.props.get("aadProfile") or {}
        if not truthy(aad.get("enableAzureRBAC")) and not truthy(resource.props.get("disableLocalAccounts")):
            return "the cluster's local admin credentials"
        for assignment in graph.of_type(AZURE_ROLE_ASSIGNMENT):
            role = str(assignment.props.get("roleDefinitionId") or "").rsplit("/", 1)[-1]
            if role in AKS_CLUSTER_ROLES and resource.urn in graph.waits_for(assignment):
                return "an Azure Kubernetes Service RBAC role assignment on the cluster"
    elif cluster.kind == "gke":
        for member in graph.of_type(GCP_PROJECT_IAM_MEMBER):
            if member.props.get("role") in GKE_DEPLOYER_ROLES:
                return f"{member.props.get('role')} for the deployer"
    return None


def deployer_needs(graph: Graph, cluster: Cluster, environment: Mapping[str, Any] | None) -> Iterator[Need]:
    if cluster.kind == "existing":
        context = cluster.provider.props.get("context")
        yield Need("deployer", cluster.label(), "a way in for the deployer",
                   f"the kubeconfig context {context} (declared: the deployer's context reaches it)",
                   "", cluster.provider.urn, assumption=True)
        return
    reach = _reach(cluster, environment) or _runner_reach(graph, cluster)
    runner = _declared_runner(environment, cluster.name.removeprefix(_stack_prefix(cluster)))
    if reach is None and runner:
        reach = f"a runner inside the network, in {', '.join(runner)} (declared: deployer.private_cidrs)"
    yield Need("deployer", cluster.label(), "a network path from the deployer to the API server", reach,
               "let Triplane create a deploy runner in the network (`deployer.runner`, aws), open the API server "
               "to the deployer's public CIDRs (`api_access: authorized-networks`), use the GKE DNS endpoint "
               "(`api_access: dns-endpoint`), or declare the private ranges deploys run from "
               "(`deployer.private_cidrs`)", cluster.resource.urn if cluster.resource else cluster.provider.urn,
               assumption=bool(runner) and reach is not None and "declared" in reach)
    role = _role(graph, cluster)
    waits = graph.waits_for(cluster.provider)
    ordered = role is not None and _grant_before(graph, cluster, waits)
    yield Need("deployer", cluster.label(), "a Kubernetes role for the deployer, granted before the first object",
               role if ordered else None,
               "grant the deploying identity cluster access (EKS access entry, AKS RBAC Cluster Admin, GKE IAM) "
               "and build the Kubernetes provider from an output that waits for the grant",
               cluster.provider.urn)


def _grant_before(graph: Graph, cluster: Cluster, waits: frozenset[str]) -> bool:
    grants = {"eks": (EKS_ACCESS_POLICY,), "aks": (AZURE_ROLE_ASSIGNMENT,), "gke": (GCP_PROJECT_IAM_MEMBER,)}[
        cluster.kind]
    if cluster.kind == "eks" and cluster.resource is not None:
        access = cluster.resource.props.get("accessConfig") or {}
        if truthy(access.get("bootstrapClusterCreatorAdminPermissions")):
            return True
    if cluster.kind == "aks" and cluster.resource is not None:
        aad = cluster.resource.props.get("aadProfile") or {}
        if not truthy(aad.get("enableAzureRBAC")):
            return True
    return any(r.urn in waits for r in graph.of_type(*grants))


# --- cloud APIs and private endpoints ------------------------------------------------------------


def cloud_api_needs(graph: Graph) -> Iterator[Need]:
    """Google Cloud: each resource's APIs enabled in its project, and enabled before the resource."""
    services = {str(s.props.get("service")): s for s in graph.of_type(SERVICE_TYPE)}
    identities = graph.of_type(SERVICE_IDENTITY_TYPE)
    for resource in graph.resources:
        if not resource.type.startswith("gcp:") or resource.type == SERVICE_TYPE:
            continue
        workload = f"{resource.type.rsplit(':', 1)[-1]} {resource.name}"
        try:
            apis = apis_for(resource.type, resource.props)
        except UnmappedGcpType as error:
            yield Need("cloud-apis", workload, "a known Google Cloud API", None, str(error), resource.urn)
            continue
        waits = graph.waits_for(resource)
        for api in apis:
            service = services.get(api)
            enabled = service is not None and service.urn in waits
            yield Need("cloud-apis", workload, f"the API {api} enabled first",
                       f"Service {service.name}" if enabled and service is not None else None,
                       f"enable {api} with gcp.projects.Service and make the resource depend on it", resource.urn)
        members = [str(m) for key in ("member", "members") for m in as_list(resource.props.get(key))]
        if any(agent in m for m in members for agent in SERVICE_AGENT_DOMAINS):
            made = [i for i in identities if i.urn in waits]
            yield Need("cloud-apis", workload, "its service agent created before it is granted anything",
                       f"ServiceIdentity {made[0].name}" if made else None,
                       "create the agent with gcp.projects.ServiceIdentity and grant its `member` output",
                       resource.urn)


EKS_NODE_ENDPOINTS = ("ecr.api", "ecr.dkr", "s3", "sts", "ec2", "eks-auth")
"""What private EKS nodes call to join, pull images and get pod credentials (Pod Identity)."""
EFS_PROVISIONER = "efs.csi.aws.com"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
AZURE_PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"


def _googleapis_zone(graph: Graph) -> Res | None:
    """The private `googleapis.com.` zone that sends Google API calls over the private path, if any."""
    return next((z for z in graph.of_type(GCP_DNS_ZONE) if str(z.props.get("dnsName")) == "googleapis.com."), None)


def _aws_endpoints(graph: Graph) -> dict[str, Res]:
    """VPC endpoints by service (`ecr.dkr`, `s3`, ...): interface ones with private DNS, and gateways."""
    found: dict[str, Res] = {}
    for endpoint in graph.of_type(VPC_ENDPOINT):
        name = str(endpoint.props.get("serviceName", ""))
        service = name.split(".", 3)[-1] if name.startswith("com.amazonaws.") else name
        if truthy(endpoint.props.get("privateDnsEnabled")) or endpoint.props.get("vpcEndpointType") == "Gateway":
            found[service] = endpoint
    return found


def _azure_private_endpoints(graph: Graph) -> set[str]:
    """Group IDs (`vault`, `registry`, `account`) some private endpoint of the plan connects."""
    groups: set[str] = set()
    for endpoint in graph.of_type(AZURE_PRIVATE_ENDPOINT):
        for connection in as_list(endpoint.props.get("privateLinkServiceConnections")):
            if isinstance(connection, Mapping):
                groups |= {str(g) for g in as_list(connection.get("groupIds"))}
    return groups


def endpoint_needs(graph: Graph, cluster_list: Iterable[Cluster]) -> Iterator[Need]:
    """Cloud APIs called from subnets without internet go through private endpoints."""
    aws = _aws_endpoints(graph)

    def aws_need(workload: str, service: str, urn: str) -> Need:
        endpoint = aws.get(service)
        return Need("endpoints", workload, f"the {service} API over a private endpoint",
                    f"VPC endpoint {endpoint.name}" if endpoint is not None else None,
                    f"create the com.amazonaws.<region>.{service} endpoint in the VPC, with private DNS", urn)

    azure = _azure_private_endpoints(graph)
    for component in graph.of_type("triplane:saas:SaasEgress"):
        below = list(graph.descendants(component.urn))
        if any(d.type.startswith("aws:secretsmanager/") for d in below):
            for service in ("secretsmanager", "sts"):
                yield aws_need(f"SaaS {component.name}", service, component.urn)
        if any(d.type == "azure-native:keyvault:Vault" for d in below):
            yield Need("endpoints", f"SaaS {component.name}", "its Key Vault over a private endpoint",
                       "a private endpoint to the vault" if "vault" in azure else None,
                       "connect the vault with a private endpoint (group `vault`) and privatelink.vaultcore.azure.net",
                       component.urn)
    for cluster in cluster_list:
        if cluster.kind != "eks" or cluster.resource is None:
            continue
        services = list(EKS_NODE_ENDPOINTS)
        if any(r.type == DEPLOYMENT and (r.props.get("metadata") or {}).get("name") == "cluster-autoscaler"
               for r in cluster.members):
            services.append("autoscaling")
        if any(r.type == STORAGE_CLASS and r.props.get("provisioner") == EFS_PROVISIONER for r in cluster.members):
            services.append("elasticfilesystem")
        for service in services:
            yield aws_need(cluster.label(), service, cluster.resource.urn)
    if any(r.type.startswith("gcp:") for r in graph.resources):
        zone = _googleapis_zone(graph)
        yield Need("endpoints", "Google Cloud workloads", "Google APIs over the private googleapis path",
                   f"private DNS zone {zone.name}" if zone is not None else None,
                   "create the private `googleapis.com.` zone (CNAME to private.googleapis.com) on the network",
                   None)


# --- the AI gateway's upstreams ------------------------------------------------------------------

AI_SERVICE_BACKEND = "kubernetes:aigateway.envoyproxy.io/v1beta1:AIServiceBackend"
BACKEND_SECURITY_POLICY = "kubernetes:aigateway.envoyproxy.io/v1beta1:BackendSecurityPolicy"
EG_BACKEND = "kubernetes:gateway.envoyproxy.io/v1alpha1:Backend"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
SECRET = "kubernetes:core/v1:Secret"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
GCP_PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"


def _meta(resource: Res) -> tuple[str, str]:
    metadata = resource.props.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _proxy_account(graph: Graph) -> str | None:
    for proxy in graph.of_type(ENVOY_PROXY):
        account = ((proxy.props.get("spec") or {}).get("provider") or {}).get("kubernetes", {})
        name = (account.get("envoyServiceAccount") or {}).get("name") if isinstance(account, Mapping) else None
        if name:
            return str(name)
    return None


def _admits_proxies(graph: Graph, namespace: str) -> str | None:
    """How the gateway's proxies get into a namespace: no ingress NetworkPolicy there, or one admitting their
    namespace (policies add up: one admitting them is enough)."""
    policies = [
        p for p in graph.of_type(NETWORK_POLICY)
        if _meta(p)[0] == namespace and "Ingress" in as_list((p.props.get("spec") or {}).get("policyTypes"))
    ]
    if not policies:
        return f"no ingress policy in namespace {namespace}"
    for policy in policies:
        for rule in as_list((policy.props.get("spec") or {}).get("ingress")):
            for peer in as_list(rule.get("from") if isinstance(rule, Mapping) else None):
                labels = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {}) if isinstance(
                    peer, Mapping) else {}
                if labels.get("kubernetes.io/metadata.name") == PROXY_NAMESPACE and not peer.get("podSelector"):
                    return f"network policy {_meta(policy)[1]} admits namespace {PROXY_NAMESPACE}"
    return None


def _credential_path(graph: Graph, policy: Res, account: str | None) -> tuple[str, str | None, str]:
    """(what the credential is, how the proxies hold it, the fix) for one BackendSecurityPolicy."""
    spec = policy.props.get("spec") or {}
    kind = str(spec.get("type") or "")
    namespace = _meta(policy)[0]
    if kind == "APIKey":
        ref = ((spec.get("apiKey") or {}).get("secretRef") or {})
        name, where = str(ref.get("name") or ""), str(ref.get("namespace") or namespace)
        found = [s for s in graph.of_type(SECRET) if _meta(s) == (where, name)]
        return (f"the upstream API key in Secret {where}/{name}", f"Secret {name}" if found else None,
                "create the Secret from the use case's secret config")
    if kind == "AWSCredentials":
        for association in graph.of_type(POD_IDENTITY):
            props = association.props
            if props.get("namespace") == PROXY_NAMESPACE and props.get("serviceAccount") == account:
                return ("AWS credentials by workload identity", f"EKS Pod Identity association {association.name}",
                        "")
        return ("AWS credentials by workload identity", None,
                f"associate a role with the proxies' service account {PROXY_NAMESPACE}/{account} (EKS Pod Identity)")
    if kind == "GCPCredentials":
        subject = f"/ns/{PROXY_NAMESPACE}/sa/{account}"
        for member in graph.of_type(GCP_PROJECT_MEMBER):
            if str(member.props.get("member") or "").endswith(subject) and member.props.get("role") == (
                    "roles/aiplatform.user"):
                return ("Google credentials by workload identity", f"roles/aiplatform.user for {subject}", "")
        return ("Google credentials by workload identity", None,
                f"grant roles/aiplatform.user to the proxies' Workload Identity principal ({subject})")
    return (f"{kind or 'a'} credential", None, "use a credential type the gateway's proxies can hold without a key")


def gateway_needs(graph: Graph, allowlist: set[str]) -> Iterator[Need]:
    """Each upstream of the AI gateway is reachable from its proxies, with a credential they hold: a SaaS
    host on the egress allowlist, Bedrock over the VPC's endpoint, Vertex AI over private googleapis, a
    model server whose network policy admits the proxies; an API key Secret, or a workload identity."""
    backends = {_meta(b): b for b in graph.of_type(EG_BACKEND)}
    account = _proxy_account(graph)
    aws = _aws_endpoints(graph)
    google = _googleapis_zone(graph)
    credentials: dict[tuple[str, str], Res] = {}
    for security in graph.of_type(BACKEND_SECURITY_POLICY):
        for ref in as_list((security.props.get("spec") or {}).get("targetRefs")):
            if isinstance(ref, Mapping):
                credentials[(_meta(security)[0], str(ref.get("name")))] = security
    for service in graph.of_type(AI_SERVICE_BACKEND):
        namespace, name = _meta(service)
        ref = (service.props.get("spec") or {}).get("backendRef") or {}
        backend = backends.get((str(ref.get("namespace") or namespace), str(ref.get("name") or "")))
        endpoint = (as_list((backend.props.get("spec") or {}).get("endpoints")) or [{}])[0] if backend else {}
        host = str(((endpoint or {}).get("fqdn") or {}).get("hostname") or "")
        who = f"gateway backend {name}"
        if host.endswith(IN_CLUSTER_SUFFIX):
            target = host.split(".")[1]
            yield Need("gateway", who, f"the proxies reach {host}", _admits_proxies(graph, target),
                       f"admit namespace {PROXY_NAMESPACE} in the server's network policy", service.urn)
        elif host.startswith("bedrock-runtime."):
            runtime = aws.get("bedrock-runtime")
            yield Need("gateway", who, f"the proxies reach {host} privately",
                       f"VPC endpoint {runtime.name}" if runtime is not None else None,
                       "create the bedrock-runtime interface endpoint with private DNS", service.urn)
        elif host.endswith("-aiplatform.googleapis.com"):
            yield Need("gateway", who, f"the proxies reach {host} privately",
                       f"private DNS zone {google.name}" if google is not None else None,
                       "create the private `googleapis.com.` zone on the network", service.urn)
        else:
            yield Need("gateway", who, f"the proxies reach {host or 'its upstream'} through the egress firewall",
                       f"the egress allowlist entry for {host}" if host in allowlist else None,
                       f"add {host} to the egress allowlist of the gateway's network", service.urn)
        credential = credentials.get((namespace, name))
        if credential is not None:
            what, held, fix = _credential_path(graph, credential, account)
            yield Need("gateway", who, what, held, fix, credential.urn)


# --- the pass ------------------------------------------------------------------------------------


def runtime_paths(
    resources: list[Res], environment: Mapping[str, Any] | None, kinds: Collection[str] | None = None
) -> list[Need]:
    """Every run-time need of the plan (or of the given kinds only), met or not, in a stable order."""
    wanted = set(KINDS) if kinds is None else set(kinds)
    graph = Graph(resources)
    found = clusters(graph, environment)
    allowlist = allowlisted_hosts(graph) if wanted & {"images", "weights", "deployer", "gateway"} else set()
    needs: list[Need] = []
    for cluster in found.values():
        if "images" in wanted:
            needs += image_needs(graph, cluster, allowlist)
        if "crds" in wanted:
            needs += crd_needs(graph, cluster)
        if "autoscaling" in wanted:
            needs += autoscaling_needs(cluster)
        if "gpus" in wanted:
            needs += gpu_needs(graph, cluster)
        if "weights" in wanted:
            needs += weights_needs(graph, cluster, allowlist, environment)
        if "deployer" in wanted:
            needs += deployer_needs(graph, cluster, environment)
    if "deployer" in wanted:
        needs += runner_needs(graph, allowlist)
    if "gateway" in wanted:
        needs += gateway_needs(graph, allowlist)
    if "cloud-apis" in wanted:
        needs += cloud_api_needs(graph)
    if "endpoints" in wanted:
        needs += endpoint_needs(graph, found.values())
    if "alerts" in wanted:
        needs += alert_needs(graph, found.values())
    if "dashboards" in wanted:
        needs += dashboard_needs(graph)
    platform = platform_of(environment)
    if platform is not None:
        # A use-case stack's paths run through what its platform built for the stacks it serves.
        given = f"the platform stack {platform}"
        needs = [need if need.met else replace(need, path=given, assumption=True) for need in needs]
    return needs


# --- alerts ----------------------------------------------------------------------------------------

SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KMS_KEY = "aws:kms/key:Key"
AZURE_ACTION_GROUP = "azure-native:monitor:ActionGroup"
GCP_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
ALARM_PUBLISHER = "cloudwatch.amazonaws.com"
AMP_WORKSPACE = "aws:amp/workspace:Workspace"
AMP_ALERT_MANAGER = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
AMP_PUBLISHER = "aps.amazonaws.com"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MONITORING = "monitoring"
"""The namespace of Triplane's Prometheus (components.self_managed.addons.MONITORING_NAMESPACE)."""
AZURE_FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
METRICS_PUBLISHER_ROLE = "3913510d-42f4-4e42-8a64-420c390055eb"
"""Monitoring Metrics Publisher: what a workload identity needs to write to a data collection rule."""


def _grants(document: Any, service: str, actions: Collection[str], alarm: str | None = None) -> bool:
    """Whether a resource policy lets `service` do every one of `actions` (for an alarm named `alarm`,
    when a statement narrows the alarms by `aws:SourceArn`)."""
    granted: set[str] = set()
    for statement in statements(json_document(document, "policy")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        services = as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
        if service not in services:
            continue
        patterns = [str(p) for p in as_list(get(statement, "Condition.ArnLike.aws:SourceArn"))]
        if alarm is not None and patterns and not any(fnmatch.fnmatchcase(f"alarm:{alarm}", p.split(":", 5)[-1])
                                                      for p in patterns):
            continue
        for action in as_list(statement.get("Action")):
            granted |= {a for a in actions if fnmatch.fnmatchcase(a, str(action))}
    return granted == set(actions)


def _waited(graph: Graph, resource: Res, type_: str) -> list[Res]:
    waits = graph.waits_for(resource)
    return [r for r in graph.of_type(type_) if r.urn in waits]


def _alarm_path(graph: Graph, alarm: Res) -> str | None:
    name = str(alarm.props.get("name") or alarm.name)
    for topic in _waited(graph, alarm, SNS_TOPIC):
        if _topic_admits(graph, topic, ALARM_PUBLISHER, name):
            return f"SNS topic {topic.name}, whose policy and key let CloudWatch publish"
    return None


def _topic_admits(graph: Graph, topic: Res, service: str, alarm: str | None = None) -> bool:
    """Whether `service` may publish to the SNS topic (its policy) and encrypt for it (its key)."""
    policies = [p for p in graph.of_type(SNS_TOPIC_POLICY) if topic.urn in graph.waits_for(p)]
    if not any(_grants(p.props.get("policy"), service, ("sns:Publish",), alarm) for p in policies):
        return False
    if not topic.props.get("kmsMasterKeyId"):
        return True
    return any(_grants(k.props.get("policy"), service, ("kms:Decrypt", "kms:GenerateDataKey"))
               for k in _waited(graph, topic, KMS_KEY))


def _amp_path(graph: Graph, rules: Res) -> str | None:
    """A rule groups namespace's way out: its workspace's alert manager, to a topic AMP may publish to."""
    for workspace in _waited(graph, rules, AMP_WORKSPACE):
        for definition in (d for d in graph.of_type(AMP_ALERT_MANAGER) if workspace.urn in graph.waits_for(d)):
            if any(_topic_admits(graph, t, AMP_PUBLISHER) for t in _waited(graph, definition, SNS_TOPIC)):
                return f"alert manager {definition.name}, to an SNS topic whose policy and key let AMP publish"
    return None


def _forwarder(values: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    """(the Prometheus service account, its remote-write entries) from kube-prometheus-stack values."""
    account = str(get(values, "prometheus.serviceAccount.name") or "")
    entries = as_list(get(values, "prometheus.prometheusSpec.remoteWrite"))
    return account, [e for e in entries if isinstance(e, Mapping)]


def _may_write(graph: Graph, association: Res) -> bool:
    """Whether the association's role has an inline policy allowing remote write."""
    roles = {r.urn for r in _waited(graph, association, IAM_ROLE)}
    for grant in graph.of_type(IAM_ROLE_POLICY):
        if not roles & graph.waits_for(grant):
            continue
        for statement in statements(json_document(grant.props.get("policy"), "policy")):
            if statement.get("Effect") == "Allow" and "aps:RemoteWrite" in as_list(statement.get("Action")):
                return True
    return False


def _forwarding_identity(graph: Graph, account: str, entry: Mapping[str, Any]) -> tuple[str, str | None, str]:
    """(what the remote write needs, the path found, the fix) for one remote-write entry."""
    if isinstance(entry.get("sigv4"), Mapping):
        for association in graph.of_type(POD_IDENTITY):
            props = association.props
            if props.get("namespace") == MONITORING and props.get("serviceAccount") == account and _may_write(
                    graph, association):
                return ("an AWS identity that may remote-write", f"EKS Pod Identity association {association.name}",
                        "")
        return ("an AWS identity that may remote-write", None,
                f"associate a role allowed aps:RemoteWrite with {MONITORING}/{account} (EKS Pod Identity)")
    if isinstance(get(entry, "azureAd.workloadIdentity"), Mapping):
        subject = f"system:serviceaccount:{MONITORING}:{account}"
        credentials = [c for c in graph.of_type(AZURE_FEDERATED_CREDENTIAL) if c.props.get("subject") == subject]
        publishers = [a for a in graph.of_type(AZURE_ROLE_ASSIGNMENT)
                      if str(a.props.get("roleDefinitionId") or "").endswith(METRICS_PUBLISHER_ROLE)]
        found = f"federated credential {credentials[0].name}" if credentials and publishers else None
        return ("an Entra workload identity that may publish metrics", found,
                f"federate an identity with {subject} and grant it Monitoring Metrics Publisher on the rule")
    return ("a credential the managed Prometheus accepts", None, "sign remote write with sigv4 or azureAd")


def forwarding_needs(graph: Graph, cluster: Cluster) -> Iterator[Need]:
    """A cluster's Prometheus that forwards to a managed Prometheus holds an identity allowed to write there."""
    for release in _releases(cluster):
        values = release.props.get("values")
        if _release_chart(release) not in PROMETHEUS_CHARTS or not isinstance(values, Mapping):
            continue
        account, entries = _forwarder(values)
        for entry in entries:
            what, path, fix = _forwarding_identity(graph, account, entry)
            yield Need("alerts", f"Prometheus of Helm release {release.name} (remote write)", what, path, fix,
                       release.urn)


def _prometheus_loads(cluster: Cluster, rule: Res) -> str | None:
    labels = get(rule.props, "metadata.labels") or {}
    for release in _releases(cluster):
        if _release_chart(release) not in PROMETHEUS_CHARTS:
            continue
        values = release.props.get("values") or {}
        selector = get(values, "prometheus.prometheusSpec.ruleSelector.matchLabels") if isinstance(
            values, Mapping) else None
        if isinstance(selector, Mapping) and all(labels.get(k) == v for k, v in selector.items()):
            return f"the Prometheus of Helm release {release.name} (its ruleSelector)"
    if "prometheus" in cluster.provides or "prometheus-operator" in cluster.provides:
        return "the cluster's Prometheus (declared in `provides`)"
    return None


def _action_group_need(graph: Graph, alert: Res, what: str) -> Need:
    """An Azure alert (a metric alert, a Prometheus rule group) acts on an enabled action group with a receiver."""
    groups = [g for g in _waited(graph, alert, AZURE_ACTION_GROUP)
              if truthy(g.props.get("enabled")) and as_list(g.props.get("emailReceivers"))]
    return Need("alerts", f"{what} {alert.name}", "an enabled action group with a receiver",
                f"action group {groups[0].name}" if groups else None,
                "act on the environment's action group (monitoring.notify)", alert.urn)


def alert_needs(graph: Graph, cluster_list: Iterable[Cluster]) -> Iterator[Need]:
    """Every alert reaches its channel: a CloudWatch alarm's SNS topic lets CloudWatch publish (and its key
    lets CloudWatch encrypt), an AMP rule file's workspace has an alert manager sending to a topic AMP may
    publish to, an Azure alert's action group is enabled with a receiver, a Cloud Monitoring policy's
    channels exist; a forwarding Prometheus holds its identity; every PrometheusRule is loaded by its
    cluster's Prometheus."""
    for rules in graph.of_type(AMP_RULES):
        yield Need("alerts", f"AMP rule groups namespace {rules.name}", "an alert manager publishing to a topic",
                   _amp_path(graph, rules),
                   "give the workspace an alert manager definition sending to an SNS topic whose policy admits "
                   "aps.amazonaws.com (and whose KMS key lets it encrypt): Triplane's alert channel", rules.urn)
    for group in graph.of_type(AZURE_PROMETHEUS_RULES):
        yield _action_group_need(graph, group, "Azure Prometheus rule group")
    for cluster in cluster_list:
        yield from forwarding_needs(graph, cluster)
    for alarm in graph.of_type(AWS_ALARM):
        yield Need("alerts", f"CloudWatch alarm {alarm.name}", "a topic CloudWatch may publish to",
                   _alarm_path(graph, alarm),
                   "notify an SNS topic whose policy admits cloudwatch.amazonaws.com for this alarm (and whose "
                   "KMS key lets it encrypt): Triplane's alert channel", alarm.urn)
    for alert in graph.of_type(AZURE_ALERT):
        yield _action_group_need(graph, alert, "Azure metric alert")
    for policy in graph.of_type(GCP_POLICY):
        channels = _waited(graph, policy, GCP_CHANNEL)
        yield Need("alerts", f"Cloud Monitoring policy {policy.name}", "a notification channel",
                   f"{len(channels)} notification channel(s)" if channels else None,
                   "notify the environment's channels (monitoring.notify)", policy.urn)
    for cluster in cluster_list:
        for rule in (r for r in cluster.members if r.type == PROMETHEUS_RULE):
            path = _prometheus_loads(cluster, rule)
            yield Need("alerts", f"PrometheusRule {_workload(rule)}", "a Prometheus that loads it", path,
                       "label the rule for the cluster's Prometheus (its ruleSelector), or install it",
                       rule.urn, assumption=path is not None and "declared" in path)


# --- dashboards ------------------------------------------------------------------------------------

LAMBDA_FUNCTION = "aws:lambda/function:Function"
CHART_QUERY_URL = "AMP_QUERY_URL"
"""The variable naming a chart function's workspace (components.observability.amp_chart.QUERY_URL_VARIABLE)."""
QUERY_ACTION = "aps:QueryMetrics"
ENDPOINT_APS = "aps-workspaces"
"""The interface endpoint of the managed Prometheus APIs (remote write, query)."""
AZURE_WORKBOOK = "azure-native:applicationinsights:Workbook"
AZURE_MONITOR_WORKSPACE = "azure-native:monitor:AzureMonitorWorkspace"
AZURE_PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
PROMETHEUS_QUERY_GROUP = "prometheusMetrics"
"""A private endpoint's sub-resource on an Azure Monitor workspace: its PromQL query endpoint."""
WORKBOOK_PROMQL = 16
"""A workbook query item's `queryType` for PromQL against an Azure Monitor workspace."""


def _chart_network_path(graph: Graph, function: Res) -> str | None:
    """A chart function's way to its workspace: subnets of a VPC with the `aps-workspaces` endpoint."""
    if not as_list(get(function.props, "vpcConfig.subnetIds")):
        return None
    endpoint = _aws_endpoints(graph).get(ENDPOINT_APS)
    return f"its VPC's aps-workspaces endpoint {endpoint.name}" if endpoint is not None else None


def _queried_workspace(url: Any) -> str | None:
    """The workspace ID in a query URL (`.../workspaces/<id>/api/v1/query_range`); None if not yet known."""
    if not isinstance(url, str) or is_unknown(url):
        return None
    parts = url.split("/workspaces/", 1)
    return parts[1].split("/", 1)[0] if len(parts) == 2 and parts[1] else None


def _chart_grant(graph: Graph, function: Res) -> str | None:
    """The inline policy of a chart function's role that allows querying its workspace."""
    workspace = _queried_workspace(get(function.props, f"environment.variables.{CHART_QUERY_URL}"))
    roles = {r.urn for r in _waited(graph, function, IAM_ROLE)}
    for grant in graph.of_type(IAM_ROLE_POLICY):
        if not roles & graph.waits_for(grant):
            continue
        for statement in statements(json_document(grant.props.get("policy"), "policy")):
            if statement.get("Effect") != "Allow" or QUERY_ACTION not in as_list(statement.get("Action")):
                continue
            resources = [str(r) for r in as_list(statement.get("Resource"))]
            if any(r.endswith(f":workspace/{workspace}") if workspace else ":workspace/" in r for r in resources):
                return f"role policy {grant.name}"
    return None


def chart_needs(graph: Graph) -> Iterator[Need]:
    """A function charting a managed Prometheus for the dashboard reaches its workspace privately and may
    query it."""
    for function in graph.of_type(LAMBDA_FUNCTION):
        if CHART_QUERY_URL not in (get(function.props, "environment.variables") or {}):
            continue
        yield Need("dashboards", f"chart function {function.name} (network path)",
                   "a private path to its managed Prometheus", _chart_network_path(graph, function),
                   "run it in the VPC's app subnets, where the com.amazonaws.<region>.aps-workspaces endpoint is "
                   "(with private DNS)", function.urn)
        yield Need("dashboards", f"chart function {function.name} (query grant)",
                   f"a role allowed {QUERY_ACTION} on its workspace", _chart_grant(graph, function),
                   f"give its role an inline policy allowing {QUERY_ACTION} on the workspace's ARN", function.urn)


def _workbook_reads_prometheus(workbook: Res) -> bool:
    definition = json_document(workbook.props.get("serializedData"), "serializedData")
    items = definition.get("items") if isinstance(definition, Mapping) else None
    return any(isinstance(i, Mapping) and get(i, "content.queryType") == WORKBOOK_PROMQL for i in as_list(items))


def _query_path(graph: Graph, workspace: Res) -> str | None:
    """How a PromQL client reaches the workspace: its public query endpoint, or a private endpoint to it."""
    if str(workspace.props.get("publicNetworkAccess", "Enabled")) != "Disabled":
        return "its public query endpoint"
    for endpoint in graph.of_type(AZURE_PRIVATE_ENDPOINT):
        groups = [g for c in as_list(endpoint.props.get("privateLinkServiceConnections"))
                  for g in as_list(get(c, "groupIds"))]
        if PROMETHEUS_QUERY_GROUP in groups and workspace.urn in graph.waits_for(endpoint):
            return f"private endpoint {endpoint.name} (public query access is off)"
    return None


def dashboard_needs(graph: Graph) -> Iterator[Need]:
    """Every dashboard panel can read its data: a CloudWatch dashboard's chart function reaches its AMP
    workspace (`chart_needs`); a workbook's PromQL reaches each Azure Monitor workspace it reads (whose
    public query access Triplane turns off) through a private endpoint in the VNet."""
    yield from chart_needs(graph)
    for workbook in graph.of_type(AZURE_WORKBOOK):
        if not _workbook_reads_prometheus(workbook):
            continue
        workspaces = _waited(graph, workbook, AZURE_MONITOR_WORKSPACE)
        if not workspaces:
            yield Need("dashboards", f"Azure workbook {workbook.name}", "the Azure Monitor workspaces it queries",
                       None, "read workspaces of this plan (the clusters' managed Prometheus)", workbook.urn)
        for workspace in workspaces:
            yield Need("dashboards", f"Azure workbook {workbook.name}",
                       f"a query path to Azure Monitor workspace {workspace.name}", _query_path(graph, workspace),
                       "give the workspace a private endpoint (prometheusMetrics) in the VNet the operators "
                       "reach, with its privatelink.<region>.prometheus.monitor.azure.com zone", workbook.urn)


def _check(kind: str) -> Callable[[list[Res], dict[str, Any]], Iterator[tuple[str, str | None]]]:
    """One policy's check: the needs of its own kind only (each `deployable-*` policy runs on its own)."""

    def check(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
        for need in runtime_paths(resources, environment_spec(), kinds=(kind,)):
            if not need.met:
                yield need.message(), need.urn

    return check


KINDS: dict[str, tuple[str, str]] = {
    "images": ("Every container image is pulled through a path the cluster's nodes have (a pull-through cache, "
               "a declared mirror, or an allowlisted registry).",
               "Take images from the cluster's ImageSource; on an existing cluster set `registry`."),
    "crds": ("Every custom resource's CRD is installed on its cluster before it (or declared provided).",
             "Install the add-on with the cluster's add-ons, or list it in `provides`, or do not render it."),
    "autoscaling": ("Every autoscaler has its metrics source, and a workload at zero replicas has a trigger that "
                    "can wake it.",
                    "Autoscale with `autoscaling` (KEDA with Prometheus); scale from zero only with active hours."),
    "gpus": ("Every pod that requests GPUs runs on a cluster where a device plugin announces them; the GPU "
             "metrics exporter, which holds none, asks the node's NVIDIA runtime for them in a form it honours.",
             "Deploy the NVIDIA device plugin, or declare it in `provides`; mount /dev/null as the exporter's "
             "device request on Bottlerocket nodes."),
    "weights": ("Every model server serves offline from a cache filled before it starts; the filler has a path "
                "to the hub, or to its bucket over the cloud's private path.",
                "Let Triplane's download or import Job fill the cache, or name a pre-filled claim."),
    "deployer": ("The deployer can reach every cluster it deploys to and holds a Kubernetes role there before "
                 "the first object.",
                 "Declare the way in (`api_access`, `deployer.private_cidrs`) and keep the access grants."),
    "cloud-apis": ("Every Google Cloud resource's API is enabled before it, and service agents exist before "
                   "they are granted.",
                   "Enable the API with gcp.projects.Service (depends_on) and create agents with ServiceIdentity."),
    "endpoints": ("Cloud APIs called from private subnets have a private endpoint (Secrets Manager and STS for "
                  "SaaS on AWS, ECR/S3/STS for EKS nodes, private googleapis on Google Cloud).",
                  "Create the interface endpoints / private DNS zone on the network."),
    "alerts": ("Every alert reaches its channel (a CloudWatch alarm's SNS topic admits CloudWatch and its key "
               "lets it encrypt; an AMP rule file's workspace has an alert manager sending to a topic that admits "
               "AMP; an Azure alert's or Prometheus rule group's action group is enabled with a receiver; a Cloud "
               "Monitoring policy has its channels); every PrometheusRule is loaded by its cluster's Prometheus, "
               "and a Prometheus forwarding to a managed Prometheus holds an identity allowed to write there.",
               "Notify Triplane's alert channel (monitoring.notify); label rules for the cluster's Prometheus; "
               "give the forwarder its workload identity."),
    "dashboards": ("Every dashboard can read what it draws: a CloudWatch dashboard's chart function reaches its "
                   "AMP workspace over the aps-workspaces endpoint with a role allowed aps:QueryMetrics there; an "
                   "Azure workbook's PromQL reaches each Azure Monitor workspace it queries through a private "
                   "endpoint, public query access being off.",
                   "Run chart functions in the VPC with their query grant; give each workspace a workbook reads its "
                   "private query endpoint."),
    "gateway": ("Every upstream of the AI gateway is reachable from its proxies (the egress allowlist, a private "
                "endpoint, a network policy admitting them) with a credential they hold (a Secret of the plan, "
                "or a workload identity bound to their service account).",
                "Add the path or credential the need names."),
}

KUBERNETES_KINDS = ("images", "crds", "autoscaling", "gpus", "weights", "gateway", "alerts")
CLOUD_KINDS = ("deployer", "cloud-apis", "endpoints", "dashboards")

POLICIES = {
    kind: stack_policy(
        name=f"deployable-{kind}",
        description=description,
        check=_check(kind),
        severity=HIGH,
        remediation=remediation,
        tags=["deployability"],
    )
    for kind, (description, remediation) in KINDS.items()
}
