"""VertexEndpoint under the mock runtime: API, PSC for Google APIs, DNS, IAM, CMEK, audit logs, VPC-SC."""

from __future__ import annotations

import re

import pytest

from tests.cloud_managed_support import (
    GCP_APP,
    GCP_NETWORK,
    GCP_WORKLOAD_IDENTITY,
    gcp_perimeter_plan,
    gcp_plan,
)
from triplane.components.network.layout import psc_address
from triplane.plan import Plan
from triplane.stacks.clouds.gcp import PROJECT_NUMBER as GCP_PROJECT_NUMBER

PROJECT = GCP_NETWORK.project
SA_EMAIL = f"test-search-vertex@{PROJECT}.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return gcp_plan()


@pytest.fixture(scope="module")
def perimeter_plan() -> Plan:
    return gcp_perimeter_plan()


class TestProjectSettings:
    def test_enables_vertex_ai_and_keeps_it_on_destroy(self, plan: Plan) -> None:
        api = plan.one("gcp:projects/service:Service", "test-gcp-apis-aiplatform").inputs
        assert (api["service"], api["project"], api["disableOnDestroy"]) == (
            "aiplatform.googleapis.com",
            PROJECT,
            False,
        )
        cache = plan.one("gcp:vertex/aiCacheConfig:AiCacheConfig")
        assert plan.one("gcp:projects/service:Service", "test-gcp-apis-aiplatform").urn in cache.dependencies

    def test_the_vertex_agent_exists_before_it_is_granted_the_key(self, plan: Plan) -> None:
        agent = plan.one("gcp:projects/serviceIdentity:ServiceIdentity")
        assert agent.inputs["service"] == "aiplatform.googleapis.com"
        grant = plan.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "test-search-key-vertex")
        assert agent.urn in grant.dependencies
        assert grant.inputs["member"] == (
            f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gcp-sa-aiplatform.iam.gserviceaccount.com"
        )

    def test_data_access_audit_logs_are_on(self, plan: Plan) -> None:
        audit = plan.one("gcp:projects/iAMAuditConfig:IAMAuditConfig").inputs
        assert audit["service"] == "aiplatform.googleapis.com"
        assert [c["logType"] for c in audit["auditLogConfigs"]] == ["ADMIN_READ", "DATA_READ", "DATA_WRITE"]
        assert all("exemptedMembers" not in c for c in audit["auditLogConfigs"])

    def test_data_caching_is_off(self, plan: Plan) -> None:
        assert plan.one("gcp:vertex/aiCacheConfig:AiCacheConfig").inputs["disableCache"] is True


class TestPrivateServiceConnect:
    def test_address_is_internal_psc_in_the_reserved_block(self, plan: Plan) -> None:
        address = plan.one("gcp:compute/globalAddress:GlobalAddress").inputs
        assert address["purpose"] == "PRIVATE_SERVICE_CONNECT"
        assert address["addressType"] == "INTERNAL"
        assert address["address"] == psc_address(GCP_NETWORK.cidr or "") == "10.40.240.2"
        assert address["network"] == GCP_NETWORK.network_id

    def test_forwarding_rule_targets_all_apis(self, plan: Plan) -> None:
        rule = plan.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs
        assert rule["target"] == "all-apis"
        assert rule["loadBalancingScheme"] == ""
        assert re.fullmatch(r"[a-z][a-z0-9]{0,19}", rule["name"])
        assert rule["ipAddress"].endswith("/globaladdresss/test-search-googleapis-googleapis")

    def test_private_zone_sends_googleapis_to_the_endpoint(self, plan: Plan) -> None:
        zone = plan.one("gcp:dns/managedZone:ManagedZone").inputs
        assert zone["dnsName"] == "googleapis.com."
        assert zone["visibility"] == "private"
        assert zone["privateVisibilityConfig"] == {"networks": [{"networkUrl": GCP_NETWORK.network_id}]}
        records = {r.inputs["name"]: r.inputs for r in plan.by_type("gcp:dns/recordSet:RecordSet")}
        assert records["private.googleapis.com."]["type"] == "A"
        assert records["private.googleapis.com."]["rrdatas"] == ["10.40.240.2"]
        assert records["*.googleapis.com."]["type"] == "CNAME"
        assert records["*.googleapis.com."]["rrdatas"] == ["private.googleapis.com."]

    def test_url_is_the_regional_endpoint_once_dns_is_ready(self, plan: Plan) -> None:
        assert plan.outputs["search"]["url"] == "https://europe-west4-aiplatform.googleapis.com"


class TestIdentity:
    def test_workload_account_has_aiplatform_user_only(self, plan: Plan) -> None:
        bindings = plan.by_type("gcp:projects/iAMMember:IAMMember")
        assert [(b.inputs["role"], b.inputs["member"]) for b in bindings] == [
            ("roles/aiplatform.user", f"serviceAccount:{SA_EMAIL}")
        ]
        assert plan.outputs["search"]["identity"] == SA_EMAIL

    def test_allowed_principals_may_act_as_the_workload_account(self, plan: Plan) -> None:
        grants = {g.inputs["member"]: g.inputs for g in plan.by_type("gcp:serviceaccount/iAMMember:IAMMember")}
        assert grants[GCP_APP]["role"] == "roles/iam.serviceAccountTokenCreator"
        assert grants[GCP_WORKLOAD_IDENTITY]["role"] == "roles/iam.workloadIdentityUser"
        assert {g["serviceAccountId"] for g in grants.values()} == {f"projects/{PROJECT}/serviceAccounts/{SA_EMAIL}"}


class TestEncryptionAndLogs:
    def test_key_rotates_and_is_protected(self, plan: Plan) -> None:
        key = plan.one("gcp:kms/cryptoKey:CryptoKey")
        assert key.inputs["rotationPeriod"] == "7776000s"
        assert key.protect and key.retain_on_delete
        ring = plan.one("gcp:kms/keyRing:KeyRing").inputs
        assert ring["location"] == GCP_NETWORK.region

    def test_key_is_usable_by_vertex_and_logging_only(self, plan: Plan) -> None:
        members = sorted(m.inputs["member"] for m in plan.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"))
        assert members == [
            f"serviceAccount:cmek-p{GCP_PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com",
            f"serviceAccount:service-{GCP_PROJECT_NUMBER}@gcp-sa-aiplatform.iam.gserviceaccount.com",
        ]
        roles = {m.inputs["role"] for m in plan.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
        assert roles == {"roles/cloudkms.cryptoKeyEncrypterDecrypter"}

    def test_log_bucket_is_cmek_encrypted_after_the_grant(self, plan: Plan) -> None:
        bucket = plan.one("gcp:logging/projectBucketConfig:ProjectBucketConfig")
        grant = plan.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "-key-logging")
        assert bucket.inputs["cmekSettings"]["kmsKeyName"] == grant.inputs["cryptoKeyId"]
        assert grant.inputs["cryptoKeyId"].endswith("/vertex")
        assert bucket.inputs["location"] == GCP_NETWORK.region
        assert bucket.inputs["retentionDays"] == 365
        assert grant.urn in bucket.dependencies
        assert bucket.protect

    def test_sink_copies_this_use_cases_vertex_records(self, plan: Plan) -> None:
        sink = plan.one("gcp:logging/projectSink:ProjectSink").inputs
        assert sink["destination"] == (
            f"logging.googleapis.com/projects/{PROJECT}/locations/europe-west4/buckets/test-search-vertex-audit"
        )
        assert sink["filter"] == (
            'protoPayload.serviceName="aiplatform.googleapis.com" AND '
            f'protoPayload.authenticationInfo.principalEmail="{SA_EMAIL}"'
        )
        assert (
            plan.outputs["search"]["logs"]
            == f"projects/{PROJECT}/locations/europe-west4/buckets/test-search-vertex-audit"
        )


class TestPerimeter:
    def test_perimeter_restricts_vertex_ai_around_the_project(self, perimeter_plan: Plan) -> None:
        perimeter = perimeter_plan.one("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter").inputs
        assert perimeter["status"]["restrictedServices"] == ["aiplatform.googleapis.com"]
        assert perimeter["status"]["resources"] == [f"projects/{GCP_PROJECT_NUMBER}"]
        assert perimeter["perimeterType"] == "PERIMETER_TYPE_REGULAR"
        assert perimeter["name"].startswith("accessPolicies/") and perimeter["name"].endswith(
            "/servicePerimeters/triplane_vertex"
        )
        policy = perimeter_plan.one("gcp:accesscontextmanager/accessPolicy:AccessPolicy").inputs
        assert policy["parent"] == "organizations/123456789012"
        assert policy["scopes"] == f"projects/{GCP_PROJECT_NUMBER}"

    def test_restricted_bundle_and_vip(self, perimeter_plan: Plan) -> None:
        rule = perimeter_plan.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs
        assert rule["target"] == "vpc-sc"
        records = {r.inputs["name"]: r.inputs for r in perimeter_plan.by_type("gcp:dns/recordSet:RecordSet")}
        assert records["*.googleapis.com."]["rrdatas"] == ["restricted.googleapis.com."]
        assert "restricted.googleapis.com." in records and "private.googleapis.com." not in records

    def test_shared_pieces_exist_once_for_two_use_cases(self, perimeter_plan: Plan) -> None:
        services = [s.inputs["service"] for s in perimeter_plan.by_type("gcp:projects/service:Service")]
        assert sorted(services) == sorted(set(services))
        assert "accesscontextmanager.googleapis.com" in services and "aiplatform.googleapis.com" in services
        assert len(perimeter_plan.by_type("gcp:dns/managedZone:ManagedZone")) == 1
        assert len(perimeter_plan.by_type("gcp:serviceaccount/account:Account")) == 2

    def test_existing_key_is_used_and_none_created(self, perimeter_plan: Plan) -> None:
        assert not perimeter_plan.by_type("gcp:kms/cryptoKey:CryptoKey")
        keys = {b.inputs["cmekSettings"]["kmsKeyName"] for b in perimeter_plan.by_type(
            "gcp:logging/projectBucketConfig:ProjectBucketConfig")}  # fmt: skip
        assert keys == {"projects/acme-ml-prod/locations/europe-west4/keyRings/ml/cryptoKeys/vertex"}
