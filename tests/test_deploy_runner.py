"""The deploy runner: the way in Triplane creates for a private EKS API, and what it must reach.

prod-platform's gpu-aws declares `deployer.runner`; its plan holds a private EC2 instance running a
GitHub Actions runner, admitted to the cluster's API by security group, with its GitHub token in its
own secret store and the egress it needs on the firewall's allowlist.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import SHIPPED_STACKS, planned
from triplane.cli import cli
from triplane.components.deploy_runner.control_planes import control_plane_hosts, unlisted_modules
from triplane.components.deploy_runner.github import RUNNER_PACKAGE, RUNNER_SHA256, RunnerRegistration
from triplane.first_deploy import cloud_first
from triplane.plan import Plan, PlannedResource
from triplane.policies.common import Res
from triplane.policies.deployability import runtime_paths
from triplane.policies.runner_hosts import GITHUB_HOSTS, PULUMI_HOSTS
from triplane.stacks.spec import Environment, SpecError

RUNNER = "prod-platform-gpu-aws-deploy"
TOKEN = "ghp_" + "x" * 36


@pytest.fixture(scope="module")
def platform() -> Plan:
    return planned("prod-platform")


def one(plan: Plan, type_: str, name: str) -> PlannedResource:
    [found] = [r for r in plan.resources if r.type == type_ and r.name == name]
    return found


def test_the_runner_is_a_private_instance_with_imdsv2_and_an_encrypted_disk(platform: Plan) -> None:
    instance = one(platform, "aws:ec2/instance:Instance", f"{RUNNER}-instance").inputs
    assert instance["associatePublicIpAddress"] is False
    assert instance["metadataOptions"] == {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1,
                                           "httpTokens": "required"}
    key = one(platform, "aws:kms/key:Key", f"{RUNNER}-key")
    assert instance["rootBlockDevice"]["encrypted"] is True
    assert instance["rootBlockDevice"]["kmsKeyId"].endswith(f"{RUNNER}-key") and key.inputs["enableKeyRotation"]
    assert instance["subnetId"] == "prod-platform-aws-app-us-east-1a-id"
    group = one(platform, "aws:ec2/securityGroup:SecurityGroup", f"{RUNNER}-sg")
    assert instance["vpcSecurityGroupIds"] == [f"{group.name}-id"]
    # No inbound rule anywhere names the runner's group as its target; one outbound rule, HTTPS.
    rules = [r for r in platform.resources
             if r.type.startswith("aws:vpc/securityGroup") and r.inputs.get("securityGroupId") == f"{RUNNER}-sg-id"]
    assert not [r for r in rules if r.type.endswith("IngressRule")]
    [out] = [r for r in rules if r.type.endswith("EgressRule")]
    assert (out.inputs["fromPort"], out.inputs["toPort"], out.inputs["ipProtocol"]) == (443, 443, "tcp")
    # A later AMI never replaces the machine a deploy may be running on.
    assert one(platform, "aws:ec2/instance:Instance", f"{RUNNER}-instance").ignore_changes == ("ami",)


def test_the_boot_script_registers_the_pinned_runner_and_never_holds_the_token(platform: Plan) -> None:
    script = one(platform, "aws:ec2/instance:Instance", f"{RUNNER}-instance").inputs["userData"]
    assert f"curl -fsSL --retry 5 -o runner.tar.gz {RUNNER_PACKAGE}" in script
    assert f'echo "{RUNNER_SHA256}  runner.tar.gz" | sha256sum --check --strict -' in script
    assert script.index("sha256sum") < script.index("tar xzf")
    assert ("aws secretsmanager get-secret-value --region us-east-1 --secret-id "
            f"arn:aws:secretsmanager:us-east-1:123456789012:{RUNNER}-github-token") in script
    assert "-H @- https://api.github.com/repos/acme/genai-platform/actions/runners/registration-token" in script
    assert "sudo -u runner ./config.sh --unattended --replace --url https://github.com/acme/genai-platform" in script
    assert "--labels triplane-prod-platform" in script
    assert "./svc.sh install runner" in script
    assert "replace-with-pulumi-config-set-secret" not in json.dumps([r.redacted_inputs() for r in platform.resources])


def test_the_instance_role_may_use_session_manager_and_read_its_token_only(platform: Plan) -> None:
    role = one(platform, "aws:iam/role:Role", f"{RUNNER}-instance").inputs
    trust = json.loads(role["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]
    attached = [r.inputs["policyArn"] for r in platform.resources
                if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and r.name.startswith(RUNNER)]
    assert attached == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    policy = json.loads(one(platform, "aws:iam/rolePolicy:RolePolicy", f"{RUNNER}-read-token").inputs["policy"])
    resources = [s["Resource"] for s in policy["Statement"]]
    assert resources == [f"arn:aws:secretsmanager:us-east-1:123456789012:{RUNNER}-github-token",
                         f"arn:aws:kms:us-east-1:123456789012:{RUNNER}-key"]
    secret = json.loads(one(platform, "aws:secretsmanager/secretPolicy:SecretPolicy",
                            f"{RUNNER}-github-token-policy").inputs["policy"])
    deny = next(s for s in secret["Statement"] if s["Effect"] == "Deny")
    # The instance role, and the role running `pulumi up` (the plan's caller), whose provider reads it back.
    assert deny["Condition"]["StringNotEquals"]["aws:PrincipalArn"] == sorted(
        [f"arn:aws:iam:us-east-1:123456789012:{RUNNER}-instance", "arn:aws:iam::123456789012:role/triplane-plan"])
    value = one(platform, "aws:secretsmanager/secretVersion:SecretVersion", f"{RUNNER}-github-token-value")
    assert "secretString" in value.redacted_inputs() and value.redacted_inputs()["secretString"] != TOKEN


def test_the_cluster_admits_the_runner_and_the_endpoints_session_manager_needs(platform: Plan) -> None:
    rule = one(platform, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
               "prod-platform-gpu-aws-api-from-deploy-runner").inputs
    assert rule["referencedSecurityGroupId"] == f"{RUNNER}-sg-id"
    assert rule["securityGroupId"] == "sg-prod-platform-gpu-aws-cluster"
    assert (rule["fromPort"], rule["toPort"]) == (443, 443)
    services = {r.inputs["serviceName"] for r in platform.resources if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint"}
    assert {f"com.amazonaws.us-east-1.{s}" for s in ("ssm", "ssmmessages", "ec2messages", "secretsmanager", "sts")} <= (
        services)


def test_the_egress_allowlist_carries_github_pulumi_the_control_planes_and_the_listed_hosts(platform: Plan) -> None:
    [group] = [r for r in platform.resources if r.type == "aws:networkfirewall/ruleGroup:RuleGroup"
               and "allowlist" in r.name]
    targets = set(group.inputs["ruleGroup"]["rulesSource"]["rulesSourceList"]["targets"])
    expected = {h.removeprefix("*") for h in (*GITHUB_HOSTS, *PULUMI_HOSTS)}
    expected |= {h.removeprefix("*") for h in control_plane_hosts(
        {"aws": "us-east-1", "azure": "westeurope", "gcp": "europe-west4"}, gke_dns_endpoint=True)}
    expected |= {"productionresultssa0.blob.core.windows.net", "productionresultssa1.blob.core.windows.net"}
    assert expected <= targets
    assert {"iam.amazonaws.com", "eks.us-east-1.amazonaws.com", "management.azure.com",
            "container.googleapis.com", "europe-west4-aiplatform.googleapis.com", ".gke.goog"} <= targets


@pytest.mark.parametrize("stack", [*SHIPPED_STACKS, "prod-platform", "prod-apps", "prod-clinical"])
def test_every_provider_module_a_stack_uses_has_its_api_host_listed(stack: str) -> None:
    assert unlisted_modules(r.type for r in planned(stack).resources) == set()


def test_a_new_module_would_be_caught() -> None:
    assert unlisted_modules(["aws:rds/instance:Instance", "gcp:pubsub/topic:Topic", "aws:eks/cluster:Cluster"]) == {
        "aws:rds", "gcp:pubsub"}


def test_the_runner_is_created_by_the_first_deploy_from_anywhere(platform: Plan) -> None:
    first = set(cloud_first(platform))
    runner_types = {r.type for r in platform.resources if r.name.startswith(RUNNER) and r.urn in first}
    assert {"aws:ec2/instance:Instance", "aws:secretsmanager/secretVersion:SecretVersion",
            "aws:iam/instanceProfile:InstanceProfile"} <= runner_types
    result = CliRunner().invoke(cli, ["first-deploy", "prod-platform", "--targets"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == cloud_first(platform)


def test_the_check_proves_the_runner_path_from_the_plan(platform: Plan) -> None:
    result = CliRunner().invoke(cli, ["check", "prod-platform"])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output


# --- the deployability pass on small plans --------------------------------------------------------


def res(type_: str, name: str, props: dict[str, Any] | None = None, *, deps: tuple[Res, ...] = (),
        parent: Res | None = None) -> Res:
    return Res(type=type_, name=name, urn=f"urn:pulumi:t::triplane::{type_}::{name}", props=props or {},
               parent=parent, dependencies=[d.urn for d in deps])


def runner_plan(*, admitted: bool = True, public: bool = False, hosts: tuple[str, ...] = GITHUB_HOSTS) -> list[Res]:
    cluster = res("aws:eks/cluster:Cluster", "t-gpu-cluster", {"vpcConfig": {"endpointPublicAccess": False}})
    provider = res("pulumi:providers:kubernetes", "t-gpu-k8s", deps=(cluster,))
    component = res("triplane:deploy:AwsDeployRunner", "t-gpu-deploy")
    group = res("aws:ec2/securityGroup:SecurityGroup", "t-gpu-deploy-sg", parent=component)
    instance = res("aws:ec2/instance:Instance", "t-gpu-deploy-instance", {"associatePublicIpAddress": public},
                   deps=(group,), parent=component)
    rules = res("aws:networkfirewall/ruleGroup:RuleGroup", "t-aws-egress-allowlist", {"ruleGroup": {"rulesSource": {
        "rulesSourceList": {"targets": [h.removeprefix("*") for h in hosts]}}}})
    found = [cluster, provider, component, group, instance, rules]
    if admitted:
        found.append(res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "t-gpu-api-from-deploy-runner",
                         {"fromPort": 443, "toPort": 443}, deps=(cluster, group)))
    return found


def reach(resources: list[Res]) -> str | None:
    [need] = [n for n in runtime_paths(resources, None, kinds=("deployer",)) if "network path" in n.what]
    return need.path


def test_a_runner_admitted_by_the_cluster_is_the_way_in() -> None:
    assert reach(runner_plan()) == (
        "the deploy runner t-gpu-deploy-instance, inside the VPC (its security group is admitted on 443)")
    assert reach(runner_plan(admitted=False)) is None
    assert reach(runner_plan(public=True)) is None


def test_a_runner_that_cannot_reach_github_is_unmet() -> None:
    needs = [n for n in runtime_paths(runner_plan(hosts=GITHUB_HOSTS[1:]), None, kinds=("deployer",))
             if n.what.startswith("HTTPS to")]
    assert [n.what for n in needs if not n.met] == ["HTTPS to github.com (GitHub Actions)"]
    assert len(needs) == len(GITHUB_HOSTS)


# --- the spec --------------------------------------------------------------------------------------


def environment(cloud: str, runner: dict[str, Any], **new: Any) -> dict[str, Any]:
    zones = ["us-east-1a", "us-east-1b"]
    clouds = {"aws": {"region": "us-east-1", "network": {"new": {"cidr": "10.10.0.0/16", "zones": zones}}},
              "azure": {"location": "westeurope", "resource_group": "rg",
                        "network": {"new": {"cidr": "10.20.0.0/16"}}},
              "gcp": {"project": "p-123456", "region": "europe-west4",
                      "network": {"new": {"cidr": "10.30.0.0/16"}}}}
    return {"owner": "team", "cost_center": "cc1", "clouds": {cloud: clouds[cloud]},
            "kubernetes": [{"name": "gpu", "version": "1.35",
                            "new": {"cloud": cloud, "deployer": {"runner": runner}, **new}}]}


RUNNER_SPEC = {"github": "https://github.com/acme/platform", "token_secret": "githubRunnerToken"}
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0dTriplaneRunnerAdminKeyForTestsOnly0000 admin@acme"


def test_a_runner_is_a_way_in_to_a_private_eks_api() -> None:
    spec = Environment.model_validate(environment("aws", RUNNER_SPEC))
    runner = spec.kubernetes[0].new.deployer.runner  # type: ignore[union-attr]
    assert runner is not None and runner.labels == [] and runner.machine_type is None


def test_a_runner_on_gcp_is_refused_with_the_dns_endpoint_as_the_fix() -> None:
    with pytest.raises(ValueError, match=r"deployer\.runner: Triplane creates deploy runners in aws and azure networks;"
                                         r".*use `api_access: dns-endpoint`"):
        Environment.model_validate(environment("gcp", RUNNER_SPEC))


def test_an_azure_runner_needs_the_ssh_key_azure_requires_and_an_aws_one_refuses_it() -> None:
    with pytest.raises(ValueError, match=r"deployer\.runner\.ssh_public_key: Azure requires an SSH public key"):
        Environment.model_validate(environment("azure", RUNNER_SPEC))
    with pytest.raises(ValueError, match=r"deployer\.runner\.ssh_public_key: only Azure VMs take one; remove it"):
        Environment.model_validate(environment("aws", {**RUNNER_SPEC, "ssh_public_key": SSH_KEY}))


@pytest.mark.parametrize("url", ["https://gitlab.com/acme", "http://github.com/acme", "https://github.com/a/b/c"])
def test_a_runner_registers_with_github_only(url: str) -> None:
    with pytest.raises(ValueError, match="github"):
        Environment.model_validate(environment("aws", {**RUNNER_SPEC, "github": url}))


def test_a_wildcard_over_shared_storage_is_refused() -> None:
    with pytest.raises(ValueError, match=r"productionresultssa\*\.blob\.core\.windows\.net|blob.core.windows.net"):
        Environment.model_validate(environment("aws", {
            **RUNNER_SPEC, "egress_hosts": ["*.blob.core.windows.net"]}))


def test_registration_goes_to_the_repository_or_the_organization() -> None:
    assert RunnerRegistration("https://github.com/acme/platform", ()).token_endpoint == (
        "https://api.github.com/repos/acme/platform/actions/runners/registration-token")
    assert RunnerRegistration("https://github.com/acme", ()).token_endpoint == (
        "https://api.github.com/orgs/acme/actions/runners/registration-token")


def test_the_token_must_be_set_as_a_secret(tmp_path: Any) -> None:
    from triplane.stacks.secrets import check_secrets

    class Plain:
        def is_set(self, key: str) -> bool:
            return True

        def is_secret(self, key: str) -> bool:
            return key != "triplane:githubRunnerToken"

    spec = Environment.model_validate(environment("aws", RUNNER_SPEC))
    named = r"triplane:githubRunnerToken.*kubernetes\[0\]\.new\.deployer\.runner\.token_secret"
    with pytest.raises(SpecError, match=named):
        check_secrets(spec, "Pulumi.t.yaml", "t", Plain())


# --- the Azure runner ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def azure_plan() -> Plan:
    from pathlib import Path

    from triplane.stackfile import StackFile, plan_file

    spec = environment("azure", {**RUNNER_SPEC, "ssh_public_key": SSH_KEY})
    spec["use_cases"] = [{
        "name": "drafts", "pattern": "self-managed", "data_classification": "confidential", "cluster": "gpu",
        "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3", "revision": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"},
        "gpu": {"type": "nvidia-a100-80gb", "count": 1}, "allowed_clients": {"namespaces": ["drafts-app"]},
    }]
    secret = "triplane:githubRunnerToken"
    stack_file = StackFile(name="azrun", path=Path("stacks/Pulumi.azrun.yaml"),
                           config={"triplane:environment": spec, secret: TOKEN}, secret_keys=[secret])
    return plan_file(stack_file, stack_file.environment())


def test_the_azure_runner_is_a_private_vm_with_its_own_identity_and_no_inbound(azure_plan: Plan) -> None:
    vm = one(azure_plan, "azure-native:compute:VirtualMachine", "azrun-gpu-deploy-vm")
    nic = one(azure_plan, "azure-native:network:NetworkInterface", "azrun-gpu-deploy-nic").inputs
    assert [c.get("publicIPAddress") for c in nic["ipConfigurations"]] == [None]
    nsg = one(azure_plan, "azure-native:network:NetworkSecurityGroup", "azrun-gpu-deploy-nsg").inputs
    assert [(r["direction"], r["access"], r["sourceAddressPrefix"], r["destinationPortRange"])
            for r in nsg["securityRules"]] == [("Inbound", "Deny", "*", "*")]
    inputs = vm.inputs
    assert inputs["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert inputs["securityProfile"] == {"securityType": "TrustedLaunch",
                                         "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    assert inputs["storageProfile"]["imageReference"] == {"offer": "ubuntu-24_04-lts", "publisher": "Canonical",
                                                          "sku": "server", "version": "latest"}
    assert inputs["identity"]["type"] == "UserAssigned" and len(inputs["identity"]["userAssignedIdentities"]) == 1
    assert vm.ignore_changes == ("storageProfile.imageReference",)
    # The identity's only role: reading the token secret, in a vault with no public access.
    grants = [r for r in azure_plan.resources if r.type == "azure-native:authorization:RoleAssignment"
              and r.name.startswith("azrun-gpu-deploy-")]
    assert [g.name for g in grants] == ["azrun-gpu-deploy-token-secrets-user"]
    vault = next(r for r in azure_plan.resources if r.type == "azure-native:keyvault:Vault"
                 and r.name.startswith("azrun-gpu-deploy-")).inputs
    assert vault["properties"]["publicNetworkAccess"] == "Disabled"


def test_the_azure_boot_script_reads_the_token_through_the_vm_identity(azure_plan: Plan) -> None:
    import base64
    import subprocess

    vm = one(azure_plan, "azure-native:compute:VirtualMachine", "azrun-gpu-deploy-vm")
    script = base64.b64decode(vm.inputs["osProfile"]["customData"]).decode()
    assert "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01" in script
    assert "resource=https%3A%2F%2Fvault.azure.net&client_id=" in script
    assert "/secrets/api-key?api-version=7.4" in script
    assert "apt-get install -y --no-install-recommends libkrb5-3 zlib1g libicu74 git" in script
    assert TOKEN not in script and TOKEN not in json.dumps([r.redacted_inputs() for r in azure_plan.resources])
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_the_aks_api_is_reached_from_the_runner_in_its_vnet(azure_plan: Plan) -> None:
    result = CliRunner().invoke(cli, ["check", "prod-platform"])  # the AWS runner; the Azure one below
    assert result.exit_code == 0, result.output
    from triplane.gate import check_plan

    report = check_plan(azure_plan)
    assert report.passed, [v.message for v in report.mandatory]
    paths = [n for n in report.runtime if n.kind == "deployer" and "network path" in n.what]
    assert [n.path for n in paths] == ["the deploy runner azrun-gpu-deploy-vm, inside the cluster's virtual network"]
    allowed = {n.what for n in report.runtime if n.what.startswith("HTTPS to") and n.met}
    assert allowed == {f"HTTPS to {h} (GitHub Actions)" for h in GITHUB_HOSTS}


def test_the_aws_boot_script_is_valid_bash(platform: Plan) -> None:
    import subprocess

    script = one(platform, "aws:ec2/instance:Instance", f"{RUNNER}-instance").inputs["userData"]
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr


# --- one place to deploy from ----------------------------------------------------------------------


def two_clouds(azure_deployer: dict[str, Any]) -> dict[str, Any]:
    spec = environment("aws", RUNNER_SPEC)
    both = environment("azure", {})
    spec["clouds"].update(both["clouds"])
    spec["kubernetes"].append({"name": "gpu-azure", "version": "1.35",
                               "new": {"cloud": "azure", "deployer": azure_deployer}})
    return spec


def test_a_private_cluster_elsewhere_must_be_reachable_from_the_runner() -> None:
    with pytest.raises(ValueError, match=r"kubernetes\[1\]\.new\.deployer\.private_cidrs: this stack deploys from "
                                         r"the runner of 'gpu' \(10\.10\.0\.0/20, 10\.10\.16\.0/20\), and "
                                         r"'gpu-azure''s API is private"):
        Environment.model_validate(two_clouds({"private_cidrs": ["10.50.0.0/24"]}))
    connected = Environment.model_validate(two_clouds({"private_cidrs": ["10.10.0.0/16"]}))
    assert [c.name for c in connected.kubernetes] == ["gpu", "gpu-azure"]


def test_two_runners_in_one_stack_are_refused() -> None:
    with pytest.raises(ValueError, match=r"kubernetes\[1\]\.new\.deployer\.runner: 'gpu' already creates this "
                                         r"stack's deploy runner, and one `pulumi up` runs in one place"):
        Environment.model_validate(two_clouds({"runner": {**RUNNER_SPEC, "ssh_public_key": SSH_KEY}}))


def test_a_runner_needs_a_network_triplane_creates() -> None:
    spec = environment("aws", RUNNER_SPEC)
    spec["clouds"]["aws"]["network"] = {"existing": {
        "vpc_id": "vpc-0123456789abcdef0", "app_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "application_cidrs": ["10.0.0.0/16"]}}
    with pytest.raises(ValueError, match=r"kubernetes\[0\]\.new\.deployer\.runner: the runner's only way out is "
                                         r"the egress firewall Triplane builds"):
        Environment.model_validate(spec)


def test_the_runner_is_priced_with_the_platform() -> None:
    from triplane.decide.cost import shared_lines
    from triplane.decide.prices import load_prices
    from triplane.stackfile import load_stack

    environment = load_stack("prod-platform").environment()
    [line] = [line for line in shared_lines(environment, load_prices()) if "deploy runner" in line.item]
    assert line.item == "cluster gpu-aws: t3.large deploy runner"
    assert round(line.monthly, 2) == round(0.0832 * 730, 2)
