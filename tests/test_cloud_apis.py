"""The private paths to the clouds' own APIs: Google Cloud APIs and service agents, AWS interface
endpoints, and the googleapis path of every Google Cloud network."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pulumi_gcp import pubsub as gcp_pubsub

from tests.conftest import planned
from triplane.components.gcp_apis import enable_apis_for_stack
from triplane.components.network.aws_endpoints import endpoint_policy
from triplane.components.network.layout import psc_address
from triplane.plan import Plan, PlannedResource, run_program
from triplane.policies.gcp_apis import SERVICE_AGENTS, SERVICE_IDENTITY_TYPE, SERVICE_TYPE, UnmappedGcpType, apis_for
from triplane.stacks import program
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
AGENT_MEMBER = re.compile(r"^serviceAccount:service-\d+@(?P<domain>.+)$")


def _plan_environment(environment: dict[str, Any], secrets: dict[str, str]) -> Plan:
    config: dict[str, Any] = {"triplane:environment": environment}
    config.update({f"triplane:{key}": value for key, value in secrets.items()})
    return run_program(
        program.main, stack="apis", config=config, secret_keys=[f"triplane:{k}" for k in secrets]
    )


def _environment(clouds: dict[str, Any], use_case: dict[str, Any]) -> dict[str, Any]:
    return {"owner": "platform", "cost_center": "cc-1", "tier": "dev", "clouds": clouds, "use_cases": [use_case]}


def _saas(cloud: str, provider: str, principal: str) -> dict[str, Any]:
    return {
        "name": "notes",
        "pattern": "saas",
        "data_classification": "internal",
        "cloud": cloud,
        "provider": provider,
        "api_key_secret": "apiKey",
        "allowed_principals": [principal],
    }


@pytest.fixture(scope="module")
def gcp_saas_only() -> Plan:
    clouds = {"gcp": {"project": "acme-apis", "region": "europe-west4", "network": {"new": {"cidr": "10.50.0.0/16"}}}}
    use_case = _saas("gcp", "gemini", "serviceAccount:app@acme-apis.iam.gserviceaccount.com")
    return _plan_environment(_environment(clouds, use_case), {"apiKey": "AIza-test-key"})


@pytest.fixture(scope="module")
def aws_saas_only() -> Plan:
    network = {"new": {"cidr": "10.60.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}}
    use_case = _saas("aws", "openai", "arn:aws:iam::123456789012:role/notes-app")
    return _plan_environment(_environment({"aws": {"region": "us-east-1", "network": network}}, use_case), {
        "apiKey": "sk-test-key"
    })


def _services(plan: Plan) -> dict[str, PlannedResource]:
    services = plan.by_type(SERVICE_TYPE)
    by_api = {s.inputs["service"]: s for s in services}
    assert len(by_api) == len(services), "an API is enabled twice in one project"
    return by_api


# --- Google Cloud APIs --------------------------------------------------------------------------------


def test_every_planned_gcp_resource_waits_for_each_api_it_needs(prod_plan: Plan) -> None:
    services = _services(prod_plan)
    checked = 0
    for resource in prod_plan.resources:
        if not resource.type.startswith("gcp:") or resource.type == SERVICE_TYPE:
            continue
        for api in apis_for(resource.type, resource.inputs):
            assert api in services, f"{resource.name}: {api} is never enabled"
            assert services[api].urn in resource.dependencies, f"{resource.name} does not wait for {api}"
        checked += 1
    assert checked > 50
    assert {"compute.googleapis.com", "container.googleapis.com", "dns.googleapis.com", "cloudkms.googleapis.com",
            "secretmanager.googleapis.com", "aiplatform.googleapis.com", "networksecurity.googleapis.com",
            "networkservices.googleapis.com", "file.googleapis.com", "iam.googleapis.com",
            "logging.googleapis.com"} <= set(services)  # fmt: skip


def test_apis_stay_enabled_on_destroy_and_keep_their_dependents(prod_plan: Plan) -> None:
    for service in _services(prod_plan).values():
        assert service.inputs["project"] == "acme-genai-prod"
        assert service.inputs["disableOnDestroy"] is False
        assert service.inputs["disableDependentServices"] is False


def test_a_gcp_resource_type_without_an_api_mapping_stops_the_plan() -> None:
    with pytest.raises(UnmappedGcpType, match=r"gcp:pubsub/topic:Topic.*policies/triplane/gcp_apis\.py"):
        apis_for("gcp:pubsub/topic:Topic")

    def program() -> None:
        enable_apis_for_stack("acme-apis", "apis-gcp-apis")
        gcp_pubsub.Topic("apis-events", project="acme-apis")

    with pytest.raises(Exception, match="no Google Cloud API is known for resource type gcp:pubsub/topic:Topic"):
        run_program(program, stack="apis")


def test_a_filestore_backed_cluster_needs_the_filestore_api() -> None:
    cluster = "gcp:container/cluster:Cluster"
    with_filestore = {"addons_config": {"gcp_filestore_csi_driver_config": {"enabled": True}}}
    assert "file.googleapis.com" in apis_for(cluster, with_filestore)
    assert "file.googleapis.com" not in apis_for(cluster, {})


def test_service_agents_exist_before_anything_grants_them_a_role(prod_plan: Plan) -> None:
    identities = {r.urn: r for r in prod_plan.by_type(SERVICE_IDENTITY_TYPE)}
    grants = 0
    for resource in prod_plan.resources:
        if not resource.type.startswith("gcp:"):
            continue
        members = [resource.inputs.get("member"), *(resource.inputs.get("members") or [])]
        domains = sorted({m.group("domain") for m in (AGENT_MEMBER.match(str(x)) for x in members if x) if m})
        if not domains:
            continue
        grants += 1
        creators = [identities[d] for d in resource.dependencies if d in identities]
        assert sorted(SERVICE_AGENTS[c.inputs["service"]] for c in creators) == domains, resource.name
    assert grants >= 4  # Vertex, Secret Manager, GKE and Compute Engine agents on the CMEK keys


def test_service_agent_domains_are_the_published_ones() -> None:
    assert SERVICE_AGENTS["container.googleapis.com"] == "container-engine-robot.iam.gserviceaccount.com"
    assert SERVICE_AGENTS["aiplatform.googleapis.com"] == "gcp-sa-aiplatform.iam.gserviceaccount.com"
    assert SERVICE_AGENTS["compute.googleapis.com"] == "compute-system.iam.gserviceaccount.com"


# --- googleapis for every Google Cloud network ----------------------------------------------------------


def test_a_saas_only_gcp_environment_gets_the_private_googleapis_path(gcp_saas_only: Plan) -> None:
    assert not gcp_saas_only.by_type("triplane:cloudmanaged:VertexEndpoint")
    zone = gcp_saas_only.one("gcp:dns/managedZone:ManagedZone").inputs
    assert (zone["dnsName"], zone["visibility"]) == ("googleapis.com.", "private")
    records = {r.inputs["name"]: r.inputs for r in gcp_saas_only.by_type("gcp:dns/recordSet:RecordSet")}
    assert records["*.googleapis.com."]["type"] == "CNAME"
    assert records["*.googleapis.com."]["rrdatas"] == ["private.googleapis.com."]
    assert records["private.googleapis.com."]["type"] == "A"
    address = gcp_saas_only.one("gcp:compute/globalAddress:GlobalAddress").inputs
    assert address["address"] == psc_address("10.50.0.0/16")
    assert address["purpose"] == "PRIVATE_SERVICE_CONNECT"
    assert gcp_saas_only.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs["target"] == "all-apis"
    app = gcp_saas_only.one("gcp:compute/subnetwork:Subnetwork", "apis-gcp-app").inputs
    assert app["privateIpGoogleAccess"] is True
    dns_api = _services(gcp_saas_only)["dns.googleapis.com"]
    assert dns_api.urn in gcp_saas_only.one("gcp:dns/managedZone:ManagedZone").dependencies


# --- AWS interface endpoints ----------------------------------------------------------------------------


def _endpoints(plan: Plan) -> dict[str, list[PlannedResource]]:
    found: dict[str, list[PlannedResource]] = {}
    for endpoint in plan.by_type(ENDPOINT):
        found.setdefault(endpoint.inputs["serviceName"].rsplit(".", 1)[-1], []).append(endpoint)
    return found


def test_aws_saas_workloads_reach_secrets_manager_and_sts_privately(aws_saas_only: Plan) -> None:
    endpoints = _endpoints(aws_saas_only)
    assert not aws_saas_only.by_type("triplane:selfmanaged:EksCluster")
    group = aws_saas_only.one("aws:ec2/securityGroup:SecurityGroup", "apis-aws-endpoints-sg")
    for service in ("secretsmanager", "sts"):
        [endpoint] = endpoints[service]
        inputs = endpoint.inputs
        assert inputs["serviceName"] == f"com.amazonaws.us-east-1.{service}"
        assert (inputs["vpcEndpointType"], inputs["privateDnsEnabled"]) == ("Interface", True)
        assert len(inputs["subnetIds"]) == 2
        assert group.urn in endpoint.dependencies
        statements = json.loads(inputs["policy"])["Statement"]
        assert statements == endpoint_policy(service, "us-east-1", AWS_ACCOUNT_ID)
    assert group.inputs["egress"] == []
    rules = [r.inputs for r in aws_saas_only.by_type(INGRESS) if r.parent == group.parent]
    assert sorted(r["cidrIpv4"] for r in rules) == ["10.60.0.0/20", "10.60.16.0/20"]
    assert all((r["ipProtocol"], r["fromPort"], r["toPort"]) == ("tcp", 443, 443) for r in rules)


def test_endpoint_policies_keep_secrets_and_roles_to_this_account() -> None:
    [secrets] = endpoint_policy("secretsmanager", "us-east-1", "111122223333") or []
    assert secrets["Resource"] == "arn:aws:secretsmanager:us-east-1:111122223333:secret:*"
    assert secrets["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}
    sts = endpoint_policy("sts", "us-east-1", "111122223333") or []
    assert all(s["Condition"] for s in sts)
    assert {s["Resource"] for s in sts if s["Action"] != "sts:GetCallerIdentity"} == {
        "arn:aws:iam::111122223333:role/*"
    }
    assert endpoint_policy("ecr.api", "us-east-1", "111122223333") is None


def test_eks_and_saas_share_one_endpoint_per_service_in_the_vpc(dev_plan: Plan) -> None:
    endpoints = _endpoints(dev_plan)
    assert {"secretsmanager", "sts", "api", "dkr", "eks-auth", "bedrock-runtime"} <= set(endpoints)
    duplicated = {service: len(found) for service, found in endpoints.items() if len(found) > 1}
    assert duplicated == {}
    [sts] = endpoints["sts"]
    assert sts.name == "dev-aws-endpoints-sts"
    node_group = dev_plan.one("aws:eks/nodeGroup:NodeGroup", "dev-gpu-system")
    assert sts.urn in node_group.dependencies


def test_the_planned_endpoint_registry_is_planned_once() -> None:
    assert len(planned("prod").by_type("triplane:network:AwsInterfaceEndpoints")) == 1


def test_an_existing_gcp_network_gets_the_path_at_the_address_it_names() -> None:
    network = {
        "existing": {
            "network": "projects/acme-apis/global/networks/shared",
            "subnetwork": "projects/acme-apis/regions/europe-west4/subnetworks/apps",
            "application_cidrs": ["10.70.0.0/20"],
            "google_apis_address": "10.70.255.2",
        }
    }
    search = {
        "name": "search", "pattern": "cloud-managed", "data_classification": "internal", "cloud": "gcp",
        "models": [{"id": "gemini-3.5-flash"}],
    }  # fmt: skip
    clouds = {"gcp": {"project": "acme-apis", "region": "europe-west4", "network": network}}
    plan = _plan_environment(_environment(clouds, search), {})
    address = plan.one("gcp:compute/globalAddress:GlobalAddress").inputs
    assert (address["address"], address["network"]) == ("10.70.255.2", "projects/acme-apis/global/networks/shared")
    assert plan.one("gcp:dns/managedZone:ManagedZone").inputs["dnsName"] == "googleapis.com."
