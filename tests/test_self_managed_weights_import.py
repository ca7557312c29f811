"""Weights imported from an in-region bucket: the Job, its identity and grant, its private path, the
server that loads what it copied, and the spec that refuses what Triplane cannot build."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from triplane.components.network.layout import psc_address
from triplane.components.self_managed.weights_import import s3_read_policy
from triplane.plan import Plan, run_program
from triplane.stacks import program
from triplane.stacks.spec.environment import Environment

SHA = "0e9e39f249a16976918f6564b8830bc894c89659"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
MODEL_DIR = f"/data/models/meta-llama--Llama-3.1-8B-Instruct/{SHA}"
RUNNER = {"private_cidrs": ["10.99.0.0/24"]}
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def use_case(name: str, source: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "pattern": "self-managed",
        "data_classification": "restricted",
        "cluster": "gpu",
        "model": {"id": MODEL, "revision": SHA},
        "gpu": {"type": "nvidia-l4", "count": 1},
        "allowed_clients": {"namespaces": [f"{name}-app"]},
        "weights": {"source": source},
    }
    base.update(overrides)
    return base


def aws_environment(*use_cases: dict[str, Any]) -> dict[str, Any]:
    return {
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
        "use_cases": list(use_cases),
    }


def gcp_environment(*use_cases: dict[str, Any]) -> dict[str, Any]:
    return {
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
        "use_cases": list(use_cases),
    }


ACCOUNT_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-models/providers/Microsoft.Storage/"
    "storageAccounts/acmemodels"
)
BLOB = f"https://acmemodels.blob.core.windows.net/models/llama/{SHA}"


def azure_environment(*use_cases: dict[str, Any]) -> dict[str, Any]:
    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "tier": "dev",
        "clouds": {
            "azure": {"location": "westeurope", "resource_group": "rg-t", "network": {"new": {"cidr": "10.20.0.0/16"}}}
        },
        "kubernetes": [{"name": "gpu", "version": "1.35", "new": {"cloud": "azure", "deployer": RUNNER}}],
        "use_cases": list(use_cases),
    }


def blob_use_case(name: str = "drafts", **weights: Any) -> dict[str, Any]:
    return use_case(name, BLOB, engine="vllm", gpu={"type": "nvidia-a10", "count": 1},
                    weights={"source": BLOB, "storage_account_id": ACCOUNT_ID, **weights})


CREDENTIALS = {
    "triplane:dockerHubCredentials": '{"username": "u", "accessToken": "dckr_pat_planted"}',
    "triplane:ghcrCredentials": '{"username": "u", "accessToken": "ghp_plantedplantedplantedplanted00"}',
}


def plan_of(environment: dict[str, Any]) -> Plan:
    return run_program(
        program.main,
        stack="st",
        config={"triplane:environment": environment, **CREDENTIALS},
        secret_keys=list(CREDENTIALS),
    )


@pytest.fixture(scope="module")
def aws_plan() -> Plan:
    return plan_of(
        aws_environment(
            use_case("records", f"s3://acme-models/llama/{SHA}",
                     weights={"source": f"s3://acme-models/llama/{SHA}", "kms_key": KEY}),
            use_case("drafts", f"s3://acme-models/llama-vllm/{SHA}/", engine="vllm"),
        )
    )


@pytest.fixture(scope="module")
def gcp_plan() -> Plan:
    return plan_of(gcp_environment(use_case("drafts", f"gs://acme-models-eu/llama/{SHA}", engine="vllm")))


def container(plan: Plan, type_: str, name: str) -> dict[str, Any]:
    spec = plan.one(type_, name).inputs["spec"]["template"]["spec"]
    [first] = spec["containers"]
    return first


# --- AWS -----------------------------------------------------------------------------------------


def test_s3_import_job_copies_the_prefix_with_the_cached_aws_cli(aws_plan: Plan) -> None:
    job = aws_plan.one("kubernetes:batch/v1:Job", "st-records-weights-import").inputs
    assert job["metadata"]["annotations"]["triplane.io/weights-source"] == "bucket"
    assert job["metadata"]["annotations"]["triplane.io/weights-bucket"] == f"s3://acme-models/llama/{SHA}"
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "st-records-weights"
    [main] = pod["containers"]
    # ECR Public through the cluster's pull-through cache rule, never the upstream host.
    assert main["image"].endswith(".amazonaws.com/st-ecrpublic/aws-cli/aws-cli:2.27.50")
    assert main["command"] == ["aws", "s3", "sync", f"s3://acme-models/llama/{SHA}", MODEL_DIR, "--only-show-errors"]
    env = {e["name"]: e["value"] for e in main["env"]}
    assert env["AWS_REGION"] == "us-east-1" and "HF_HUB_OFFLINE" not in env
    assert main["securityContext"]["runAsNonRoot"] is True
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "st-records-cache"


def test_s3_import_role_reads_only_the_prefix(aws_plan: Plan) -> None:
    policy = json.loads(aws_plan.one("aws:iam/rolePolicy:RolePolicy", "st-records-weights-read").inputs["policy"])
    assert policy["Statement"] == [
        {"Sid": "ReadSnapshot", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [f"arn:aws:s3:::acme-models/llama/{SHA}/*"]},
        {"Sid": "ListSnapshot", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": ["arn:aws:s3:::acme-models"],
         "Condition": {"StringLike": {"s3:prefix": [f"llama/{SHA}", f"llama/{SHA}/*"]}}},
        {"Sid": "DecryptSnapshot", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY],
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
    ]  # fmt: skip
    # No key named: no KMS statement at all.
    drafts = json.loads(aws_plan.one("aws:iam/rolePolicy:RolePolicy", "st-drafts-weights-read").inputs["policy"])
    assert [s["Sid"] for s in drafts["Statement"]] == ["ReadSnapshot", "ListSnapshot"]
    trust = json.loads(aws_plan.one("aws:iam/role:Role", "st-records-weights-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def test_s3_import_identity_is_bound_to_the_jobs_service_account_only(aws_plan: Plan) -> None:
    association = aws_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "st-records-weights-identity")
    assert association.inputs["namespace"] == "records"
    assert association.inputs["serviceAccount"] == "st-records-weights"
    agent = aws_plan.one("aws:eks/addon:Addon", "st-gpu-eks-pod-identity-agent")
    assert agent.urn in association.dependencies
    # The server's own ServiceAccount is another one, bound to nothing.
    server = aws_plan.one("kubernetes:apps/v1:Deployment", "st-records-deployment").inputs
    assert server["spec"]["template"]["spec"]["serviceAccountName"] == "st-records"


def test_s3_import_egress_is_dns_the_credential_agent_and_https(aws_plan: Plan) -> None:
    policy = aws_plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "st-records-weights-import-egress")
    spec = policy.inputs["spec"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "model-weights-import"
    rules = spec["egress"]
    assert rules[1] == {"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}], "ports": [{"protocol": "TCP", "port": 80}]}
    assert rules[2]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "10.0.0.0/8" in rules[2]["to"][0]["ipBlock"]["except"]
    assert len(rules) == 3
    # The S3 gateway endpoint the cluster already has is the private path.
    gateway = aws_plan.one("aws:ec2/vpcEndpoint:VpcEndpoint", "st-gpu-s3").inputs
    assert gateway["vpcEndpointType"] == "Gateway" and gateway["serviceName"] == "com.amazonaws.us-east-1.s3"


def test_no_hub_allowlist_entry_for_imports(aws_plan: Plan) -> None:
    assert "huggingface.co" not in json.dumps(
        [r.inputs for r in aws_plan.resources if r.type == "aws:networkfirewall/ruleGroup:RuleGroup"]
    )


def test_servers_load_the_imported_directory_after_the_job(aws_plan: Plan) -> None:
    job = aws_plan.one("kubernetes:batch/v1:Job", "st-records-weights-import")
    deployment = aws_plan.one("kubernetes:apps/v1:Deployment", "st-records-deployment")
    assert job.urn in deployment.dependencies
    tgi = container(aws_plan, "kubernetes:apps/v1:Deployment", "st-records-deployment")
    assert tgi["args"][:2] == ["--model-id", MODEL_DIR] and "--revision" not in tgi["args"]
    assert {"name": "HF_HUB_OFFLINE", "value": "1"} in tgi["env"]
    vllm = container(aws_plan, "kubernetes:apps/v1:Deployment", "st-drafts-deployment")
    assert vllm["args"][:4] == ["--model", MODEL_DIR, "--served-model-name", MODEL]
    # The trailing slash of the URI is dropped, so the prefix grant and the copy agree.
    drafts_job = container(aws_plan, "kubernetes:batch/v1:Job", "st-drafts-weights-import")
    assert drafts_job["command"][3] == f"s3://acme-models/llama-vllm/{SHA}"
    # Neither service has a hub download Job.
    assert not [r for r in aws_plan.resources if r.name.endswith("-weights") and r.type == "kubernetes:batch/v1:Job"]


def test_s3_read_policy_without_a_key() -> None:
    policy = json.loads(s3_read_policy("b", "p/q"))
    assert [s["Action"] for s in policy["Statement"]] == [["s3:GetObject"], ["s3:ListBucket"]]


# --- Google Cloud --------------------------------------------------------------------------------


def test_gcs_import_job_uses_workload_identity_and_the_cached_cloud_sdk(gcp_plan: Plan) -> None:
    job = gcp_plan.one("kubernetes:batch/v1:Job", "st-drafts-weights-import").inputs
    [main] = job["spec"]["template"]["spec"]["containers"]
    assert main["image"] == "europe-west4-docker.pkg.dev/acme-genai-dev/st-dockerhub/google/cloud-sdk:530.0.0-slim"
    assert main["command"] == ["gcloud", "storage", "rsync", "--recursive", f"gs://acme-models-eu/llama/{SHA}",
                               MODEL_DIR]  # fmt: skip
    account = gcp_plan.one("kubernetes:core/v1:ServiceAccount", "st-drafts-weights-sa").inputs
    assert account["metadata"]["name"] == "st-drafts-weights"
    assert "iam.gke.io/gcp-service-account" in account["metadata"]["annotations"]
    binding = gcp_plan.one("gcp:serviceaccount/iAMMember:IAMMember", "st-drafts-weights-workload-identity").inputs
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"] == "serviceAccount:acme-genai-dev.svc.id.goog[drafts/st-drafts-weights]"
    reader = gcp_plan.one("gcp:storage/bucketIAMMember:BucketIAMMember", "st-drafts-weights-read").inputs
    assert (reader["bucket"], reader["role"]) == ("acme-models-eu", "roles/storage.objectViewer")
    egress = gcp_plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "st-drafts-weights-import-egress")
    cidrs = [rule["to"][0].get("ipBlock", {}).get("cidr") for rule in egress.inputs["spec"]["egress"]]
    # The PSC address every *.googleapis.com name resolves to, and nothing public.
    assert cidrs[1:] == ["169.254.169.254/32", "169.254.169.252/32", f"{psc_address('10.30.0.0/16')}/32"]
    assert egress.inputs["metadata"]["annotations"]["triplane.io/egress-path"] == "private"
    vllm = container(gcp_plan, "kubernetes:apps/v1:Deployment", "st-drafts-deployment")
    assert vllm["args"][:2] == ["--model", MODEL_DIR]


# --- Azure ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def azure_plan() -> Plan:
    return plan_of(azure_environment(blob_use_case(private_endpoint="create")))


def test_blob_import_job_signs_in_as_the_workload_identity_and_downloads_the_prefix(azure_plan: Plan) -> None:
    job = azure_plan.one("kubernetes:batch/v1:Job", "st-drafts-weights-import").inputs
    annotations = job["metadata"]["annotations"]
    assert annotations["triplane.io/weights-bucket"] == BLOB
    assert annotations["triplane.io/egress-hosts"] == "login.microsoftonline.com"
    assert annotations["triplane.io/egress-path"] == "firewall"
    template = job["spec"]["template"]
    assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    [main] = template["spec"]["containers"]
    # MCR through the ACR cache rule the cluster bootstraps from.
    assert main["image"].endswith(".azurecr.io/aks-managed-repository/azure-cli:2.75.0")
    assert main["command"][:2] == ["bash", "-c"]
    assert main["command"][3:] == ["import", MODEL_DIR, "acmemodels", "models", f"llama/{SHA}"]
    assert "download-batch --auth-mode login" in main["command"][2]
    account = azure_plan.one("kubernetes:core/v1:ServiceAccount", "st-drafts-weights-sa").inputs
    assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]


def test_blob_reader_is_scoped_to_the_container_and_trusted_for_the_jobs_service_account(azure_plan: Plan) -> None:
    reader = azure_plan.one("azure-native:authorization:RoleAssignment", "st-drafts-weights-read").inputs
    assert reader["scope"] == f"{ACCOUNT_ID}/blobServices/default/containers/models"
    assert reader["roleDefinitionId"] == (
        "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/"
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
    )
    assert reader["principalType"] == "ServicePrincipal"
    federation = azure_plan.one(
        "azure-native:managedidentity:FederatedIdentityCredential", "st-drafts-weights-federation"
    ).inputs
    assert federation["subject"] == "system:serviceaccount:drafts:st-drafts-weights"
    assert federation["audiences"] == ["api://AzureADTokenExchange"]


def test_blob_private_endpoint_and_zone_and_the_sign_in_entry(azure_plan: Plan) -> None:
    endpoint = azure_plan.one("azure-native:network:PrivateEndpoint", "st-drafts-blob-pe").inputs
    [connection] = endpoint["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["blob"] and connection["privateLinkServiceId"] == ACCOUNT_ID
    zone = azure_plan.one("azure-native:privatedns:PrivateZone", "st-drafts-blob-zone").inputs
    assert zone["privateZoneName"] == "privatelink.blob.core.windows.net"
    rules = json.dumps([r.inputs for r in azure_plan.resources
                        if r.type == "azure-native:network:FirewallPolicyRuleCollectionGroup"])
    assert "login.microsoftonline.com" in rules and "huggingface.co" not in rules
    egress = azure_plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "st-drafts-weights-import-egress")
    assert {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 443}]} in (
        egress.inputs["spec"]["egress"]
    )


def test_check_is_clean_on_a_blob_import_stack() -> None:
    from triplane.gate import check_plan

    environment = azure_environment(blob_use_case(private_endpoint="create"))
    result = check_plan(plan_of(environment), stack_config={"triplane:environment": environment})
    assert [v.message for v in result.mandatory] == []
    weights = {(n.what, n.path) for n in result.runtime if n.kind == "weights"}
    assert (f"a private path to {BLOB}", "the storage account's blob private endpoint") in weights
    entra = "login.microsoftonline.com"
    assert (f"a path to {entra}", f"the egress allowlist entry for {entra}") in weights
    assert [n.message() for n in result.runtime if not n.met] == []


def test_a_declared_blob_endpoint_is_an_assumption() -> None:
    from triplane import runtime

    environment = azure_environment(blob_use_case())
    needs = runtime.paths(plan_of(environment), {"triplane:environment": environment})
    [private] = [n for n in needs if n.what == f"a private path to {BLOB}"]
    assert (private.met, private.assumption) == (True, True)


def test_blob_spec_names_the_account_it_reads() -> None:
    with pytest.raises(ValidationError, match="storage_account_id: name the storage account"):
        Environment.model_validate(azure_environment(use_case("drafts", BLOB)))
    other = ACCOUNT_ID.replace("acmemodels", "othermodels")
    with pytest.raises(ValidationError, match="names the account 'othermodels'"):
        Environment.model_validate(azure_environment(blob_use_case(storage_account_id=other)))
    with pytest.raises(ValidationError, match="only an Azure blob import"):
        Environment.model_validate(aws_environment(use_case("records", "s3://acme-models/llama", weights={
            "source": "s3://acme-models/llama", "storage_account_id": ACCOUNT_ID})))


# --- the spec ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("s3://acme-models", "is not a bucket prefix"),
        ("s3://Acme_Models/llama", "is not a bucket prefix"),
        ("gs://acme/../etc", "is not a bucket prefix"),
        ("s3://acme-models/llama/*", "is not a bucket prefix"),
        ("s3://acme_models/llama", "is not a bucket prefix"),
        ("https://acme.blob.core.windows.net/models", "is not a blob container prefix"),
        ("https://acme.example.com/models/llama", "is not a blob container prefix"),
        ("ftp://acme/llama", "is not a weights source"),
    ],
)
def test_bad_bucket_uris_are_refused_with_the_fix(source: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Environment.model_validate(aws_environment(use_case("records", source)))


def test_a_bucket_of_another_cloud_is_refused() -> None:
    with pytest.raises(ValidationError, match="is a gcp bucket, but cluster 'gpu' runs on aws"):
        Environment.model_validate(aws_environment(use_case("records", "gs://acme-models/llama")))


def test_a_kms_key_is_for_s3_only_and_must_be_an_arn() -> None:
    with pytest.raises(ValidationError, match="is not a KMS key ARN"):
        Environment.model_validate(
            aws_environment(use_case("records", "s3://acme-models/llama", weights={
                "source": "s3://acme-models/llama", "kms_key": "alias/models"}))
        )
    with pytest.raises(ValidationError, match="only an `s3://` import"):
        Environment.model_validate(
            gcp_environment(use_case("records", "gs://acme-models/llama", weights={
                "source": "gs://acme-models/llama", "kms_key": KEY}))
        )


def test_a_key_of_another_region_means_a_bucket_the_gateway_cannot_reach() -> None:
    key = KEY.replace("us-east-1", "eu-west-1")
    with pytest.raises(ValidationError, match="the key is in eu-west-1"):
        Environment.model_validate(
            aws_environment(use_case("records", "s3://acme-models/llama", weights={
                "source": "s3://acme-models/llama", "kms_key": key}))
        )


def test_bucket_and_offline_contradict() -> None:
    with pytest.raises(ValidationError, match="which `offline: true` says nothing"):
        Environment.model_validate(
            aws_environment(use_case("records", "s3://acme-models/llama", offline=True,
                                     cache={"existing_claim": "filled"}))
        )


def test_an_existing_cluster_is_pointed_at_existing_claim() -> None:
    environment = aws_environment(use_case("records", "s3://acme-models/llama"))
    environment["clouds"] = {}
    environment["kubernetes"] = [
        {"name": "gpu", "version": "1.35", "existing": {"kubeconfig_context": "lab", "registry": "upstream"}}
    ]
    with pytest.raises(ValidationError, match="set `source: existing-claim`"):
        Environment.model_validate(environment)


# --- the gate ------------------------------------------------------------------------------------


def test_check_is_clean_on_an_import_stack(aws_plan: Plan) -> None:
    from triplane.gate import check_plan

    environment = aws_environment(use_case("records", f"s3://acme-models/llama/{SHA}"))
    result = check_plan(plan_of(environment), stack_config={"triplane:environment": environment})
    assert [v.message for v in result.mandatory] == []
    weights = [n for n in result.runtime if n.kind == "weights"]
    assert [n.message() for n in weights if not n.met] == []
    assert ("a private path to s3://acme-models/llama/" + SHA, "the S3 gateway endpoint") in {
        (n.what, n.path) for n in weights
    }


def test_the_model_allowlist_judges_an_imported_directory_as_its_hub_id() -> None:
    from triplane.policies.common import Res
    from triplane.policies.stack import models_named

    def server(model: str) -> Res:
        pod = {"containers": [{"name": "tgi", "image": "x", "args": ["--model-id", model]}]}
        return Res(type="kubernetes:apps/v1:Deployment", name="s", urn="urn:s", props={
            "spec": {"template": {"spec": pod}}}, parent=None, dependencies=[], provider_urn=None)

    assert models_named(server(MODEL_DIR)) == [MODEL]
    # Any other local path is judged as itself, and so matches no allowlist entry.
    assert models_named(server("/mnt/somewhere/llama")) == ["/mnt/somewhere/llama"]


def test_check_is_clean_on_a_gcs_import_stack() -> None:
    from triplane.gate import check_plan

    environment = gcp_environment(use_case("drafts", f"gs://acme-models-eu/llama/{SHA}", engine="vllm"))
    result = check_plan(plan_of(environment), stack_config={"triplane:environment": environment})
    assert [v.message for v in result.mandatory] == []
    weights = [n for n in result.runtime if n.kind == "weights"]
    assert [n.message() for n in weights if not n.met] == []
    assert (f"a private path to gs://acme-models-eu/llama/{SHA}",
            "Private Google Access (the private googleapis.com. zone)") in {(n.what, n.path) for n in weights}


def test_a_monitored_blob_import_leaves_the_blob_zone_to_its_private_endpoint() -> None:
    """With monitoring, the AKS cluster's Azure Monitor private link writes into the VNet's Azure Monitor
    zones, never a second `privatelink.blob.core.windows.net` beside the import's (a VNet has one zone of
    a name: two would fail the deploy)."""
    environment = azure_environment(blob_use_case(private_endpoint="create"))
    environment["monitoring"] = {"notify": {"email": ["oncall@example.com"]}}
    plan = plan_of(environment)
    zones = [r.inputs["privateZoneName"] for r in plan.by_type("azure-native:privatedns:PrivateZone")]
    assert len(zones) == len(set(zones)), zones
    assert {"privatelink.blob.core.windows.net", "privatelink.monitor.azure.com"} <= set(zones)
    assert plan.by_type("azure-native:alertsmanagement:PrometheusRuleGroup")  # the server's alerts are there
