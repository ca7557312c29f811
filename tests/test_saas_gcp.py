"""SaaS egress on Google Cloud: Secret Manager with CMEK, the workload account, and Secure Web Proxy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triplane.components.network.refs import GcpNetworkRef
from triplane.plan import Plan, is_secret, reveal, run_program
from triplane.stacks.cloud_apis import register_gcp_apis
from triplane.stacks.clouds.gcp import PROJECT_NUMBER as GCP_PROJECT_NUMBER
from triplane.stacks.compose import export_endpoints
from triplane.stacks.context import StackContext
from triplane.stacks.patterns.saas import build_on
from triplane.stacks.providers import build_providers
from triplane.stacks.spec import validate_environment

SOURCE = "stacks/Pulumi.test.yaml"
PROJECT = "acme-test-proj"
PLANTED = {"geminiKey": "AIza-PLANTED-gemini-3f1e", "partnerKey": "PLANTED-gcp-partner-0c0c"}
APP = f"serviceAccount:app@{PROJECT}.iam.gserviceaccount.com"
KSA = f"serviceAccount:{PROJECT}.svc.id.goog[apps/notes]"
NETWORK = GcpNetworkRef(
    project=PROJECT,
    region="europe-west4",
    network_id=f"projects/{PROJECT}/global/networks/test-vpc",
    subnetwork_id=f"projects/{PROJECT}/regions/europe-west4/subnetworks/test-app",
    application_cidrs=["10.30.0.0/20"],
    cidr="10.30.0.0/16",
)


def environment() -> dict[str, Any]:
    def saas(name: str, provider: str, key: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "pattern": "saas",
            "data_classification": "internal",
            "cloud": "gcp",
            "provider": provider,
            "api_key_secret": key,
            "allowed_principals": [APP, KSA],
            **extra,
        }

    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "clouds": {"gcp": {"project": PROJECT, "region": "europe-west4", "network": {"new": {"cidr": "10.30.0.0/16"}}}},
        "use_cases": [
            saas("notes", "gemini", "geminiKey"),
            saas(
                "partner",
                "custom",
                "partnerKey",
                key_rotation="external",
                custom_provider={
                    "base_url": "https://api.partner.example",
                    "hosts": ["api.partner.example", "*.files.partner.example"],
                },
            ),
        ],
    }


@pytest.fixture(scope="module")
def plan() -> Plan:
    def program() -> None:
        spec = validate_environment(environment(), SOURCE)
        ctx = StackContext(stack="test", source=SOURCE, environment=spec, providers=build_providers("test", spec))
        register_gcp_apis(ctx)
        export_endpoints({u.name: build_on(u, ctx, NETWORK) for u in spec.use_cases})

    return run_program(
        program,
        stack="test",
        config={f"triplane:{k}": v for k, v in PLANTED.items()},
        secret_keys=[f"triplane:{k}" for k in PLANTED],
    )


def endpoints(plan: Plan) -> dict[str, Any]:
    return reveal(plan.outputs["endpoints"])


def test_one_proxy_allowing_exactly_the_provider_hosts(plan: Plan) -> None:
    assert len(plan.by_type("gcp:networkservices/gateway:Gateway")) == 1
    rules = plan.by_type("gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule")
    assert sorted(r.inputs["sessionMatcher"] for r in rules) == [
        "host() == 'api.partner.example'",
        "host() == 'generativelanguage.googleapis.com'",
        "host().endsWith('.files.partner.example')",
    ]
    assert all(r.inputs["basicProfile"] == "ALLOW" and r.inputs["enabled"] is True for r in rules)
    assert len({r.inputs["priority"] for r in rules}) == len(rules)
    # Rules are chained: each waits for the one before (parallel writes to one policy race).
    assert sum(1 for r in rules if any("GatewaySecurityPolicyRule" in d for d in r.dependencies)) == len(rules) - 1


def test_gateway_is_an_explicit_secure_web_proxy_in_the_app_subnet(plan: Plan) -> None:
    gateway = plan.one("gcp:networkservices/gateway:Gateway").inputs
    assert gateway["type"] == "SECURE_WEB_GATEWAY"
    assert gateway["routingMode"] == "EXPLICIT_ROUTING_MODE"
    assert gateway["ports"] == [443]
    assert gateway["location"] == "europe-west4"
    assert gateway["network"] == NETWORK.network_id
    assert gateway["subnetwork"] == NETWORK.subnetwork_id
    assert gateway["addresses"] == ["10.255.255.10"]
    proxy_only = plan.one("gcp:compute/subnetwork:Subnetwork").inputs
    assert proxy_only["purpose"] == "REGIONAL_MANAGED_PROXY"
    assert proxy_only["role"] == "ACTIVE"
    assert proxy_only["ipCidrRange"] == "10.30.16.0/20"


def test_static_egress_addresses_behind_a_nat_for_the_proxy_only(plan: Plan) -> None:
    external = [a for a in plan.by_type("gcp:compute/address:Address") if a.inputs.get("addressType") == "EXTERNAL"]
    assert len(external) == 2
    nat = plan.one("gcp:compute/routerNat:RouterNat").inputs
    assert nat["endpointTypes"] == ["ENDPOINT_TYPE_SWG"]
    assert nat["natIpAllocateOption"] == "MANUAL_ONLY"
    assert len(nat["natIps"]) == 2 and all(ip.endswith(("egress-0", "egress-1")) for ip in nat["natIps"])
    route = plan.one("gcp:compute/route:Route").inputs
    assert route["destRange"] == "0.0.0.0/0" and route["nextHopGateway"] == "default-internet-gateway"
    assert endpoints(plan)["notes"]["egress_ips"] == ["10.255.255.10", "10.255.255.10"]
    assert endpoints(plan)["notes"]["proxy"] == "http://10.255.255.10:443"


def test_workload_accounts_can_only_reach_the_proxy_and_google_apis(plan: Plan) -> None:
    rules = {r.name: r.inputs for r in plan.by_type("gcp:compute/firewall:Firewall")}
    accounts = [
        f"test-notes-saas@{PROJECT}.iam.gserviceaccount.com",
        f"test-partner-saas@{PROJECT}.iam.gserviceaccount.com",
    ]
    deny = rules["test-egress-workload-deny"]
    assert deny["direction"] == "EGRESS" and deny["priority"] == 1000
    assert deny["denies"] == [{"protocol": "all"}]
    assert deny["destinationRanges"] == ["0.0.0.0/0"]
    assert deny["targetServiceAccounts"] == accounts
    allow = rules["test-egress-workload-allow"]
    assert allow["priority"] < deny["priority"]
    assert allow["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
    assert allow["destinationRanges"][0] == "10.255.255.10/32"
    assert allow["targetServiceAccounts"] == accounts
    emails = {a.inputs["accountId"] for a in plan.by_type("gcp:serviceaccount/account:Account")}
    assert {f"{e}@{PROJECT}.iam.gserviceaccount.com" for e in emails} == set(accounts)


def test_secret_is_regional_and_encrypted_with_a_rotating_cmek(plan: Plan) -> None:
    key = plan.one("gcp:kms/cryptoKey:CryptoKey", "test-notes-key").inputs
    assert key["rotationPeriod"] == "7776000s" and key["purpose"] == "ENCRYPT_DECRYPT"
    key_id = f"projects/project/cryptokeys/{key['name']}"  # the mock's id for the crypto key
    secret = plan.one("gcp:secretmanager/secret:Secret", "test-notes-api-key").inputs
    assert "auto" not in secret["replication"]
    assert secret["replication"]["userManaged"]["replicas"] == [
        {"location": "europe-west4", "customerManagedEncryption": {"kmsKeyName": key_id}}
    ]
    grant = plan.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "test-notes-key-secretmanager").inputs
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert (
        grant["member"] == f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gcp-sa-secretmanager.iam.gserviceaccount.com"
    )
    assert grant["cryptoKeyId"] == key_id


def test_accessor_role_is_bound_to_the_workload_account_only(plan: Plan) -> None:
    for name in ("notes", "partner"):
        binding = plan.one("gcp:secretmanager/secretIamBinding:SecretIamBinding", f"test-{name}-api-key-accessor")
        assert binding.inputs["role"] == "roles/secretmanager.secretAccessor"
        assert binding.inputs["members"] == [f"serviceAccount:test-{name}-saas@{PROJECT}.iam.gserviceaccount.com"]
    roles = {
        r.inputs["role"]: r.inputs["members"]
        for r in plan.by_type("gcp:serviceaccount/iAMBinding:IAMBinding")
        if r.name.startswith("test-notes-")
    }
    assert roles == {"roles/iam.serviceAccountTokenCreator": [APP], "roles/iam.workloadIdentityUser": [KSA]}


def test_secret_value_is_secret_everywhere_and_rotation_is_respected(plan: Plan) -> None:
    notes = plan.one("gcp:secretmanager/secretVersion:SecretVersion", "test-notes-api-key-value")
    partner = plan.one("gcp:secretmanager/secretVersion:SecretVersion", "test-partner-api-key-value")
    assert is_secret(notes.inputs["secretData"]) and notes.secret_paths() == ["secretData"]
    assert notes.ignore_changes == ()
    assert partner.ignore_changes == ("secretData",)
    for value in PLANTED.values():
        assert value not in json.dumps(plan.to_json())
        assert value not in json.dumps(plan.outputs)


def test_endpoint_names_the_secret_and_the_service_account(plan: Plan) -> None:
    notes = endpoints(plan)["notes"]
    assert notes["url"] == "https://generativelanguage.googleapis.com/v1beta"
    assert notes["secret_ref"] == "projects/acme-test-proj/secrets/test-notes-api-key"
    assert notes["identity"] == f"test-notes-saas@{PROJECT}.iam.gserviceaccount.com"
    assert endpoints(plan)["partner"]["url"] == "https://api.partner.example/"


def test_project_apis_enabled_once_and_never_disabled_on_destroy(plan: Plan) -> None:
    services = plan.by_type("gcp:projects/service:Service")
    assert sorted(s.inputs["service"] for s in services) == [
        "certificatemanager.googleapis.com",
        "cloudkms.googleapis.com",
        "compute.googleapis.com",
        "iam.googleapis.com",
        "networksecurity.googleapis.com",
        "networkservices.googleapis.com",
        "secretmanager.googleapis.com",
    ]
    assert all(s.inputs["disableOnDestroy"] is False for s in services)
    assert all(s.inputs["disableDependentServices"] is False for s in services)
