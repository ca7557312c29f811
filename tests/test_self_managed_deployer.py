"""The deployer's way in to each new cluster and its cluster role, granted before anything uses the cluster."""

from __future__ import annotations

import copy
import json

import pulumi
import pytest
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import provider as k8s_provider

from tests.conftest import without_gateway
from tests.test_self_managed_node_pools import AWS, AZURE, GCP
from triplane.components.self_managed.aks import AKS_RBAC_CLUSTER_ADMIN, AksCluster, AksClusterArgs
from triplane.components.self_managed.eks import EksCluster, EksClusterArgs
from triplane.components.self_managed.gke import GkeCluster, GkeClusterArgs
from triplane.plan import Plan, PlannedResource, run_program
from triplane.stackfile import load_stack
from triplane.stacks import program
from triplane.stacks.clouds.aws import CALLER_ARN as AWS_CALLER_ARN
from triplane.stacks.clouds.aws import DEPLOYER_ROLE_ARN as AWS_DEPLOYER_ROLE_ARN
from triplane.stacks.clouds.azure import OBJECT_ID as AZURE_OBJECT_ID
from triplane.stacks.clouds.azure import SUBSCRIPTION_ID as AZURE_SUBSCRIPTION_ID
from triplane.stacks.clouds.gcp import DEPLOYER_EMAIL as GCP_DEPLOYER_EMAIL
from triplane.stacks.spec import validate_environment

CI_ROLE = "arn:aws:iam::123456789012:role/ci/triplane-deploy"
CI_OBJECT_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
CI_SERVICE_ACCOUNT = "serviceAccount:ci-deploy@acme-genai-test.iam.gserviceaccount.com"


def _in_cluster(name: str, kubeconfig: pulumi.Output[str]) -> None:
    """What stacks/clusters.py does: a provider from the kubeconfig, and an object through it."""
    provider = k8s_provider.Provider(f"{name}-k8s", kubeconfig=kubeconfig)
    k8s_core.v1.Namespace(
        f"{name}-ns", metadata={"name": f"{name}-ns"}, opts=pulumi.ResourceOptions(provider=provider)
    )


def _program() -> None:
    inside = EksCluster("d-eks", EksClusterArgs(network=AWS, version="1.35", deployer_cidrs=["10.50.0.0/24"]))
    _in_cluster("d-eks", inside.kubeconfig)
    EksCluster(
        "d-eks-ci",
        EksClusterArgs(
            network=AWS,
            version="1.35",
            api_access="authorized-networks",
            api_authorized_cidrs=["203.0.113.0/28"],
            deployer_principal=CI_ROLE,
            service_endpoints=False,
        ),
    )
    aks = AksCluster("d-aks", AksClusterArgs(network=AZURE, version="1.35", vault_name="d-aks-kms-0001"))
    _in_cluster("d-aks", aks.kubeconfig)
    AksCluster(
        "d-aks-ci",
        AksClusterArgs(network=AZURE, version="1.35", vault_name="d-aks-kms-0002", deployer_principal=CI_OBJECT_ID),
    )
    dns = GkeCluster("d-gke", GkeClusterArgs(network=GCP, version="1.35", api_access="dns-endpoint"))
    _in_cluster("d-gke", dns.kubeconfig)
    ci = GkeCluster(
        "d-gke-ci",
        GkeClusterArgs(
            network=GCP, version="1.35", deployer_cidrs=["10.60.0.0/24"], deployer_principal=CI_SERVICE_ACCOUNT
        ),
    )
    _in_cluster("d-gke-ci", ci.kubeconfig)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(_program, stack="test")


def assert_provider_waits(plan: Plan, cluster: str, grant: PlannedResource) -> None:
    provider = plan.one("pulumi:providers:kubernetes", f"{cluster}-k8s")
    assert grant.urn in provider.dependencies
    namespace = plan.one("kubernetes:core/v1:Namespace", f"{cluster}-ns")
    assert namespace.provider is not None and namespace.provider.startswith(provider.urn)


# --- EKS ------------------------------------------------------------------------------------------


def test_eks_deployer_is_the_callers_role_with_cluster_admin(plan: Plan) -> None:
    cluster = plan.one("aws:eks/cluster:Cluster", "d-eks-cluster").inputs
    # One way in: the explicit entry; a bootstrap entry for the creator would collide with it.
    assert cluster["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entry = plan.one("aws:eks/accessEntry:AccessEntry", "d-eks-deployer").inputs
    # The plan runs as a role session: the entry names the role, never the sts session ARN.
    assert entry["principalArn"] == AWS_DEPLOYER_ROLE_ARN != AWS_CALLER_ARN
    assert entry["clusterName"] == "d-eks" and entry["type"] == "STANDARD"
    association = plan.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "d-eks-deployer-admin")
    assert association.inputs == {
        "clusterName": "d-eks",
        "principalArn": AWS_DEPLOYER_ROLE_ARN,
        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        "accessScope": {"type": "cluster"},
    }
    assert_provider_waits(plan, "d-eks", association)


def test_eks_runner_inside_the_network_reaches_the_private_endpoint(plan: Plan) -> None:
    vpc = plan.one("aws:eks/cluster:Cluster", "d-eks-cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False and "publicAccessCidrs" not in vpc
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "d-eks-api-from-deployer-0").inputs
    assert rule["securityGroupId"] == "sg-d-eks-cluster"
    assert (rule["cidrIpv4"], rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("10.50.0.0/24", "tcp", 443, 443)


def test_eks_named_ci_role_and_authorized_networks(plan: Plan) -> None:
    vpc = plan.one("aws:eks/cluster:Cluster", "d-eks-ci-cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/28"]
    assert plan.one("aws:eks/accessEntry:AccessEntry", "d-eks-ci-deployer").inputs["principalArn"] == CI_ROLE
    association = plan.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "d-eks-ci-deployer-admin")
    assert association.inputs["principalArn"] == CI_ROLE
    rules = [r.name for r in plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")]
    assert not any(name.startswith("d-eks-ci-api-from-deployer") for name in rules)


# --- AKS ------------------------------------------------------------------------------------------


def test_aks_deployer_gets_rbac_cluster_admin_on_the_cluster(plan: Plan) -> None:
    cluster = plan.one("azure-native:containerservice:ManagedCluster", "d-aks-cluster")
    grant = plan.one("azure-native:authorization:RoleAssignment", "d-aks-deployer-admin")
    assert grant.inputs["scope"] == (
        f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/"
        "Microsoft.Containerservice/managedClusters/d-aks"
    )
    assert cluster.urn in grant.dependencies
    assert grant.inputs["principalId"] == AZURE_OBJECT_ID  # the identity running `pulumi up`
    assert grant.inputs["roleDefinitionId"] == (
        f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
    )
    assert AKS_RBAC_CLUSTER_ADMIN == "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
    assert_provider_waits(plan, "d-aks", grant)


def test_aks_named_deployer_gets_its_own_assignment(plan: Plan) -> None:
    mine = plan.one("azure-native:authorization:RoleAssignment", "d-aks-ci-deployer-admin").inputs
    theirs = plan.one("azure-native:authorization:RoleAssignment", "d-aks-deployer-admin").inputs
    assert mine["principalId"] == CI_OBJECT_ID
    assert mine["scope"].endswith("/managedClusters/d-aks-ci")
    # The name follows the principal, so another deployer is a new assignment rather than an update.
    assert mine["roleAssignmentName"] != theirs["roleAssignmentName"]


def test_aks_kubeconfig_signs_in_without_local_accounts_or_a_prompt(plan: Plan) -> None:
    cluster = plan.one("azure-native:containerservice:ManagedCluster", "d-aks-cluster").inputs
    assert cluster["disableLocalAccounts"] is True and cluster["aadProfile"]["enableAzureRBAC"] is True
    provider = plan.one("pulumi:providers:kubernetes", "d-aks-k8s")
    kubeconfig = json.loads(provider.inputs["kubeconfig"]["value"])
    exec_ = kubeconfig["users"][0]["user"]["exec"]
    assert exec_["command"] == "kubelogin" and exec_["interactiveMode"] == "Never"
    assert exec_["args"] == ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]


# --- GKE ------------------------------------------------------------------------------------------


def test_gke_dns_endpoint_and_the_callers_admin_role(plan: Plan) -> None:
    cluster = plan.one("gcp:container/cluster:Cluster", "d-gke-cluster").inputs
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert cluster["controlPlaneEndpointsConfig"] == {"dnsEndpointConfig": {"allowExternalTraffic": True}}
    grant = plan.one("gcp:projects/iAMMember:IAMMember", "d-gke-deployer-admin")
    assert grant.inputs == {
        "project": "acme-genai-test",
        "role": "roles/container.admin",
        "member": f"serviceAccount:{GCP_DEPLOYER_EMAIL}",
    }
    assert_provider_waits(plan, "d-gke", grant)
    # The DNS endpoint presents a publicly trusted certificate: no cluster CA is pinned for it.
    kubeconfig = json.loads(plan.one("pulumi:providers:kubernetes", "d-gke-k8s").inputs["kubeconfig"]["value"])
    assert "certificate-authority-data" not in kubeconfig["clusters"][0]["cluster"]
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"


def test_gke_runner_ranges_are_authorized_on_the_private_endpoint(plan: Plan) -> None:
    cluster = plan.one("gcp:container/cluster:Cluster", "d-gke-ci-cluster").inputs
    assert cluster["controlPlaneEndpointsConfig"] == {"dnsEndpointConfig": {"allowExternalTraffic": False}}
    networks = cluster["masterAuthorizedNetworksConfig"]
    assert {"cidrBlock": "10.60.0.0/24", "displayName": "deploy runner"} in networks["cidrBlocks"]
    assert networks["privateEndpointEnforcementEnabled"] is True
    grant = plan.one("gcp:projects/iAMMember:IAMMember", "d-gke-ci-deployer-admin").inputs
    assert (grant["role"], grant["member"]) == ("roles/container.admin", CI_SERVICE_ACCOUNT)
    assert_provider_waits(plan, "d-gke-ci", plan.one("gcp:projects/iAMMember:IAMMember", "d-gke-ci-deployer-admin"))
    # Through the private IP endpoint, the cluster's own CA is pinned.
    kubeconfig = json.loads(plan.one("pulumi:providers:kubernetes", "d-gke-ci-k8s").inputs["kubeconfig"]["value"])
    assert kubeconfig["clusters"][0]["cluster"] == {
        "server": "https://10.255.254.2",
        "certificate-authority-data": "Y2VydGlmaWNhdGU=",
    }


# --- Stacks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_declare_a_way_in_to_every_new_cluster(stack: str) -> None:
    environment = validate_environment(load_stack(stack).config["triplane:environment"], stack)
    new = [c.new for c in environment.kubernetes if c.new is not None]
    assert new
    for cluster in new:
        assert (
            cluster.deployer.private_cidrs
            or (cluster.api_access == "authorized-networks" and cluster.api_authorized_cidrs)
            or cluster.api_access == "dns-endpoint"
        )


def test_stack_provider_waits_for_the_deployers_access() -> None:
    """stacks/clusters.py builds the provider from the kubeconfig, which carries the grant."""
    environment = without_gateway(copy.deepcopy(load_stack("dev").config["triplane:environment"]))
    environment["use_cases"] = [u for u in environment["use_cases"] if u["pattern"] == "self-managed"]
    environment["kubernetes"][0]["new"] = {"cloud": "aws", "deployer": {"private_cidrs": ["10.50.0.0/24"]}}
    secrets = {f"triplane:{key}": "planted" for key in ("dockerHubCredentials", "ghcrCredentials")}
    plan = run_program(program.main, stack="dp", config={"triplane:environment": environment, **secrets},
                       secret_keys=list(secrets))
    association = plan.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "dp-gpu-deployer-admin")
    assert association.inputs["principalArn"] == AWS_DEPLOYER_ROLE_ARN
    provider = plan.one("pulumi:providers:kubernetes", "dp-gpu-k8s")
    assert association.urn in provider.dependencies
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "dp-gpu-api-from-deployer-0")
    assert rule.inputs["cidrIpv4"] == "10.50.0.0/24"
    # Every in-cluster object goes through that provider, so none is created before the grant.
    in_cluster = [r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert in_cluster and all(r.provider is not None and r.provider.startswith(provider.urn) for r in in_cluster)
