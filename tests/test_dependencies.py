"""Ordering: every wait the clouds need, and none they do not (it would lengthen `pulumi up`).

Planned once: the benchmark's generator with every pattern on every cloud (nine use cases).
"""

from __future__ import annotations

import itertools

import pytest

from benchmarks import environments, run
from benchmarks.chain import longest_chain
from benchmarks.floor import Captured, capturing
from triplane.plan import Plan, PlannedResource
from triplane.stackfile import plan_stack

SUBNET = "azure-native:network:Subnet"


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Captured]:
    path = environments.write_stack(tmp_path_factory.mktemp("deps"), 9, environments.PATTERNS)
    with capturing() as captured:
        return plan_stack(str(path)), captured


@pytest.fixture(scope="module")
def plan(planned: tuple[Plan, Captured]) -> Plan:
    return planned[0]


def waits_on(plan: Plan, resource: PlannedResource) -> set[str]:
    """The types and names of what `resource` waits for."""
    return {f"{plan.get(urn).type} {plan.get(urn).name}" for urn in resource.dependencies}


def test_a_vnets_subnets_are_written_one_after_another(plan: Plan) -> None:
    """Azure refuses concurrent writes to one VNet's subnets: app, endpoints, firewall, AKS nodes."""
    subnets = {r.name: r for r in plan.by_type(SUBNET)}
    chain = ["bench-azure-app", "bench-azure-endpoints", "bench-egress-subnet", "bench-gpu-azure-nodes-subnet"]
    assert sorted(subnets) == chain
    for before, after in itertools.pairwise(chain):
        assert subnets[before].urn in subnets[after].dependencies, (before, after)


API_SERVICE = "gcp:projects/service:Service"
"""Every Google Cloud resource names the APIs it needs (`components.gcp_apis`), even where another
wait implies them: its API dependency then stays right whatever its inputs become."""


def test_no_explicit_dependency_is_redundant(planned: tuple[Plan, Captured]) -> None:
    """A `depends_on` that another wait already implies: harmless, but noise in every graph."""
    summary = run.explicit_summary(*planned)
    assert summary["explicit"]  # there are explicit dependencies to judge
    redundant = {pair: n for pair, n in summary["redundant"].items() if not pair.endswith(f" -> {API_SERVICE}")}
    assert redundant == {}


def test_the_gcp_key_store_waits_for_the_apis_it_calls_only(plan: Plan) -> None:
    services = {r.urn: r.inputs["service"] for r in plan.by_type(API_SERVICE)}
    secret = next(r for r in plan.by_type("gcp:secretmanager/secret:Secret"))
    store = plan.get(secret.parent or "")
    assert store.type == "triplane:saas:GcpApiKeyStore"
    children = [r for r in plan.resources if r.parent == store.urn]
    waits = {r.type: sorted(services[u] for u in r.dependencies if u in services) for r in children}
    assert waits["gcp:secretmanager/secret:Secret"] == ["secretmanager.googleapis.com"]
    assert waits["gcp:kms/cryptoKey:CryptoKey"] == ["cloudkms.googleapis.com"]
    assert waits["gcp:projects/serviceIdentity:ServiceIdentity"] == ["secretmanager.googleapis.com"]
    assert waits["gcp:serviceaccount/account:Account"] == ["iam.googleapis.com"]


def test_the_secure_web_proxy_waits_for_its_subnet_and_nat_not_for_its_rules(plan: Plan) -> None:
    gateway = plan.one("gcp:networkservices/gateway:Gateway")
    waits = waits_on(plan, gateway)
    assert "gcp:compute/subnetwork:Subnetwork bench-egress-proxy-only" in waits
    assert "gcp:compute/routerNat:RouterNat bench-egress-nat" in waits
    assert "gcp:networksecurity/gatewaySecurityPolicy:GatewaySecurityPolicy bench-egress-policy" in waits
    assert not any("GatewaySecurityPolicyRule" in w for w in waits)


def test_the_vertex_audit_sink_does_not_wait_for_the_audit_config(plan: Plan) -> None:
    sink = plan.one("gcp:logging/projectSink:ProjectSink")
    assert not any("IAMAuditConfig" in w for w in waits_on(plan, sink))
    assert any(w.startswith("gcp:logging/projectBucketConfig:ProjectBucketConfig") for w in waits_on(plan, sink))


def test_a_model_server_deployment_waits_for_its_weights_download_only(plan: Plan) -> None:
    """The Job fills the cache first (and waits for the claim, hence the namespace); not for the service
    account: the API server refuses pods until it exists, and they are retried."""
    servers = [d for d in plan.by_type("kubernetes:apps/v1:Deployment") if plan.get(d.parent or "").type
               == "triplane:selfmanaged:ModelWorkload"]
    assert len(servers) == 3  # one per cloud
    for deployment in servers:
        assert [plan.get(u).type for u in deployment.dependencies] == ["kubernetes:batch/v1:Job"]
        job = plan.get(deployment.dependencies[0])
        assert "kubernetes:core/v1:PersistentVolumeClaim" in {plan.get(u).type for u in job.dependencies}


def test_eks_csi_drivers_wait_for_the_system_nodes(plan: Plan) -> None:
    ebs = plan.one("aws:eks/addon:Addon", "bench-gpu-aws-aws-ebs-csi-driver")
    assert waits_on(plan, ebs) >= {"aws:eks/nodeGroup:NodeGroup bench-gpu-aws-system"}
    assert not any(w.startswith("aws:eks/addon:Addon") for w in waits_on(plan, ebs))


def test_the_longest_chain(plan: Plan) -> None:
    """Resource group to model server: thirteen creations that no cloud lets run at once (the deployer's
    role comes before any Kubernetes object; the weights download fills the cache claim before the server
    starts)."""
    chain = longest_chain(plan)
    assert chain.length == 13
    assert chain.describe(plan) == [
        "azure-native:resources:ResourceGroup bench-azure-rg",
        "azure-native:network:NetworkSecurityGroup bench-azure-app-nsg",  # the subnet names it
        "azure-native:network:Subnet bench-azure-app",
        "azure-native:network:Subnet bench-azure-endpoints",
        "azure-native:network:Subnet bench-egress-subnet",
        "azure-native:network:Subnet bench-gpu-azure-nodes-subnet",
        "azure-native:authorization:RoleAssignment bench-gpu-azure-subnet-access",  # AKS needs it to start
        "azure-native:containerservice:ManagedCluster bench-gpu-azure-cluster",
        # Kubernetes objects wait for the deployer's role: without it the API refuses them.
        "azure-native:authorization:RoleAssignment bench-gpu-azure-deployer-admin",
        "kubernetes:core/v1:Namespace bench-uc0007-namespace",
        "kubernetes:core/v1:PersistentVolumeClaim bench-uc0007-cache",
        "kubernetes:batch/v1:Job bench-uc0007-weights",
        "kubernetes:apps/v1:Deployment bench-uc0007-deployment",
    ]
