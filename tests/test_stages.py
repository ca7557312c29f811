"""Platform and use-case stacks: prod split in three plans as the single prod, the contract between
them, what a new use-case stack changes on its platform, and the checks across the boundary."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from triplane.plan import Plan, is_secret
from triplane.project import find_project
from triplane.stackfile import load_stack, plan_file, plan_stack
from triplane.stacks.contract import FORMAT, OUTPUT, PlatformContract, read_contract
from triplane.stacks.spec import SpecError, validate_environment
from triplane.stacks.stages import served_environment, use_case_environment

ROOT = Path(__file__).resolve().parent.parent
SPLIT = {"prod-platform": "prod", "prod-apps": "prod", "prod-clinical": "prod"}
REFERENCE = "pulumi:pulumi:StackReference"
STACK = "pulumi:pulumi:Stack"


def named(plan: Plan, prefix: str = "prod") -> set[tuple[str, str]]:
    """(type, name) of every resource, the stack's name in resource names read as `prefix`."""
    stack = re.escape(plan.stack)
    return {(r.type, re.sub(rf"\b{stack}-", f"{prefix}-", r.name)) for r in plan.resources}


@pytest.fixture(scope="module")
def platform_plan() -> Plan:
    return plan_stack("prod-platform")


@pytest.fixture(scope="module")
def platform_json(platform_plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("platform") / "prod-platform.json"
    path.write_text(platform_plan.dumps(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def use_case_plans(platform_json: Path) -> dict[str, Plan]:
    """prod-apps plans its platform in the same run; prod-clinical reads the platform's plan JSON."""
    clinical = load_stack("prod-clinical")
    return {
        "prod-apps": plan_stack("prod-apps"),
        "prod-clinical": plan_file(clinical, clinical.environment(), platform_json),
    }


def test_split_prod_has_the_resources_of_prod(platform_plan: Plan, use_case_plans: dict[str, Plan]) -> None:
    single = plan_stack("prod")
    plans = [platform_plan, *use_case_plans.values()]
    split = set().union(*(named(p) for p in plans))
    # Each stack has its root; each use-case stack reads its platform through one stack reference. The
    # deploy path differs: prod admits a runner range of the user's, prod-platform creates its runner.
    runner = {(t, n) for t, n in named(platform_plan) if re.fullmatch(r"prod-gpu-aws-deploy(-.+)?", n)}
    assert {t for t, _ in runner} == {
        "triplane:deploy:AwsDeployRunner", "aws:ec2/instance:Instance", "aws:ec2/securityGroup:SecurityGroup",
        "aws:iam/instanceProfile:InstanceProfile", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:kms/alias:Alias", "aws:kms/key:Key",
        "aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretPolicy:SecretPolicy",
        "aws:secretsmanager/secretVersion:SecretVersion", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    }
    ingress = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    endpoint = "aws:ec2/vpcEndpoint:VpcEndpoint"
    # prod's chart function is admitted by the endpoints of its own stack; prod-clinical's, in the platform's
    # app subnets, by the platform's endpoints' application ranges (a use-case stack adds no rule to them).
    assert named(single) - split == {
        (STACK, "triplane-prod"),
        (ingress, "prod-gpu-aws-api-from-deployer-0"),
        (ingress, "prod-aws-endpoints-from-prod-gpu-aws-prometheus-charts"),
    }
    assert split - named(single) - runner == {
        (STACK, "triplane-prod-platform"),
        (STACK, "triplane-prod-apps"),
        (STACK, "triplane-prod-clinical"),
        (REFERENCE, "prod-platform"),
        (ingress, "prod-gpu-aws-api-from-deploy-runner"),
        (endpoint, "prod-aws-endpoints-ssm"),
        (endpoint, "prod-aws-endpoints-ssmmessages"),
        (endpoint, "prod-aws-endpoints-ec2messages"),
    }
    # What more than one stack registers: each stack's own providers, and the Google Cloud APIs its own
    # resources need (enabled by each, never disabled on destroy: `gcp_apis.ProjectApis`).
    apps, clinical = (named(p) for p in use_case_plans.values())
    drawn = {
        "triplane:observability:GcpMonitoring", "gcp:monitoring/dashboard:Dashboard",
        "triplane:observability:AzureMonitoring", "azure-native:applicationinsights:Workbook",
        "triplane:observability:AwsMonitoring", "aws:cloudwatch/dashboard:Dashboard",
    }  # fmt: skip
    for left, right in ((named(platform_plan), apps), (named(platform_plan), clinical), (apps, clinical)):
        for type_, name in left & right - {(t, n) for t, n in apps & clinical if t in drawn}:
            assert type_.startswith("pulumi:providers:") or type_ in (
                REFERENCE,
                "triplane:gcp:ProjectApis",
                "gcp:projects/service:Service",
            ), (type_, name)
    # Each use-case stack draws the rows of its own use cases: prod-apps its Vertex AI, Azure OpenAI and Bedrock
    # use cases', prod-clinical its GKE, AKS and EKS servers' (each stack's dashboards, under its own name).
    observed = (
        "triplane:observability", "gcp:monitoring", "azure-native:applicationinsights", "aws:cloudwatch/dashboard",
    )  # fmt: skip
    assert {(t, n) for t, n in apps & clinical if t.startswith(observed)} == {
        ("triplane:observability:GcpMonitoring", "prod-gcp-monitoring"),
        ("gcp:monitoring/dashboard:Dashboard", "prod-gcp-monitoring-dashboard"),
        ("triplane:observability:AzureMonitoring", "prod-azure-monitoring"),
        ("azure-native:applicationinsights:Workbook", "prod-azure-monitoring-workbook"),
        ("triplane:observability:AwsMonitoring", "prod-aws-monitoring"),
        ("aws:cloudwatch/dashboard:Dashboard", "prod-aws-monitoring-dashboard"),
    }
    # A use-case stack has Kubernetes providers only for the clusters its use cases run on.
    assert not {n for t, n in apps if t == "pulumi:providers:kubernetes"}
    assert {n for t, n in clinical if t == "pulumi:providers:kubernetes"} == {
        "prod-gpu-aws-k8s",
        "prod-gpu-gcp-k8s",
        "prod-gpu-azure-k8s",
    }


def test_endpoints_are_split_by_stack(use_case_plans: dict[str, Plan]) -> None:
    prod = {u.name for u in load_stack("prod").environment().use_cases}
    apps = set(use_case_plans["prod-apps"].outputs["endpoints"])
    clinical = set(use_case_plans["prod-clinical"].outputs["endpoints"])
    assert apps == {"marketing-copy", "sales-notes", "claims-triage", "hr-assistant", "product-search"}
    assert clinical == {"patient-records", "fraud-signals", "contract-drafts"}
    assert apps | clinical == prod
    # The Bedrock URL is the platform's private link's, read through the reference.
    url = use_case_plans["prod-apps"].outputs["endpoints"]["claims-triage"]["url"]
    assert "bedrock-runtime" in url and "us-east-1" in url


def test_the_contract_is_versioned_and_keeps_kubeconfigs_secret(platform_plan: Plan) -> None:
    document = platform_plan.outputs[OUTPUT]
    contract = read_contract(platform_plan.stack_outputs().outputs[OUTPUT], "prod-platform", "x")
    assert contract.format == FORMAT and contract.stack == "prod-platform"
    assert contract.serves == ["prod-apps", "prod-clinical"]
    assert contract.clouds() == ["aws", "azure", "gcp"]
    assert contract.clusters() == ["gpu-aws", "gpu-azure", "gpu-gcp"]
    assert contract.owns == {"egress_allowlist": ["aws", "azure", "gcp"], "bedrock_invocation_logging": ["us-east-1"]}
    clusters = [p for p in document["shared"] if p["kind"] == "cluster"]
    assert len(clusters) == 3 and all(is_secret(p["fields"]["kubeconfig"]) for p in clusters)
    assert platform_plan.stack_outputs().secret_names == [OUTPUT]
    pools = {tuple(p["key"]): p["fields"]["node_selector"] for p in document["shared"] if p["kind"] == "gpu-pool"}
    assert pools[("gpu-pool", "gpu-aws", "nvidia-a10g", "on-demand")] == {
        "triplane.io/gpu-type": "nvidia-a10g",
        "triplane.io/capacity-type": "on-demand",
    }
    egress = {p["key"][1]: p["fields"] for p in document["shared"] if p["kind"] == "egress"}
    assert "api.anthropic.com" in egress["aws"]["allowed_hosts"]
    assert egress["gcp"]["proxy_address"]


def test_a_use_case_stack_builds_on_references(use_case_plans: dict[str, Plan]) -> None:
    clinical = use_case_plans["prod-clinical"]
    reference = clinical.one(REFERENCE)
    assert reference.inputs["name"] == "prod-platform"
    # Nothing of the platform is created again: no network, firewall, cluster, pool or add-on (the S3
    # import's Pod Identity association is the use case's own).
    types = {r.type for r in clinical.resources}
    assert not types & {"aws:ec2/vpc:Vpc", "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup"}
    assert "aws:eks/podIdentityAssociation:PodIdentityAssociation" in types
    assert not {t for t in types if "GpuNodePool" in t or "ClusterAddons" in t or "EgressFirewall" in t}
    # The cluster's provider takes the platform's kubeconfig, secret again.
    provider = next(r for r in clinical.resources if r.name == "prod-clinical-gpu-aws-k8s")
    assert provider.secret_paths() == ["kubeconfig"]
    # The model server selects the platform's GPU pool.
    deployment = next(
        r for r in clinical.resources if r.type == "kubernetes:apps/v1:Deployment" and "patient-records" in r.name
    )
    selector = deployment.inputs["spec"]["template"]["spec"]["nodeSelector"]
    assert selector["triplane.io/gpu-type"] == "nvidia-a10g"


EXTRA = """\
config:
  triplane:environment:
    owner: fraud-team
    cost_center: cc-4300
    tier: prod
    platform: prod-platform
    use_cases:
      - name: fraud-notes
        description: Drafts notes on flagged payments.
        pattern: saas
        data_classification: internal
        cloud: aws
        provider: openai
        models: [gpt-5-mini]
        api_key_secret: openaiApiKey
        allowed_principals:
          - arn:aws:iam::123456789012:role/fraud-notes-app
      - name: triage-llm
        description: A second model on the AWS GPU pool.
        pattern: self-managed
        data_classification: internal
        cluster: gpu-aws
        model:
          id: mistralai/Mistral-7B-Instruct-v0.3
          revision: e0bc86c23ce5aae1db576c8cca6f06f1f73af2db
        gpu:
          type: nvidia-a10g
          count: 1
        replicas:
          min: 1
          max: 1
        weights:
          source: s3://acme-prod-models/mistralai/Mistral-7B-Instruct-v0.3/e0bc86c23ce5aae1db576c8cca6f06f1f73af2db
        tokens:
          max_total_tokens: 4096
        allowed_clients:
          namespaces: [fraud]
  triplane:openaiApiKey:
    secure: replace-with-pulumi-config-set-secret
"""


def copy_project(target: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", target / "Pulumi.yaml")
    (target / "stacks").mkdir()
    for path in find_project(ROOT).stacks_dir.glob("Pulumi.prod*.yaml"):
        shutil.copy(path, target / "stacks" / path.name)
    return target / "stacks"


def by_name(plan: Plan) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.type, r.name): r.redacted_inputs() for r in plan.resources}


def test_a_new_use_case_stack_changes_the_platform_only_where_it_asks(
    platform_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = copy_project(tmp_path)
    (stacks / "Pulumi.prod-extra.yaml").write_text(EXTRA, encoding="utf-8")
    platform_file = stacks / "Pulumi.prod-platform.yaml"
    text = platform_file.read_text(encoding="utf-8")
    platform_file.write_text(text.replace("[prod-apps, prod-clinical]", "[prod-apps, prod-clinical, prod-extra]"))
    monkeypatch.chdir(tmp_path)
    after = plan_stack("prod-platform")
    before_resources, after_resources = by_name(platform_plan), by_name(after)
    assert set(after_resources) == set(before_resources)  # nothing added, nothing removed
    changed = sorted(key for key in before_resources if before_resources[key] != after_resources[key])
    # The AWS egress allowlist gets the OpenAI API host, the AWS A10G pool room for the new service's
    # replica, and the alert topic admits the new stack's alarms. Nothing else moves (the `platform`
    # output carries all three).
    rules = ("aws:networkfirewall/ruleGroup:RuleGroup", "prod-platform-egress-allowlist")
    nodes = ("aws:eks/nodeGroup:NodeGroup", "prod-platform-gpu-aws-a10g-od-nodes")
    topic = ("aws:sns/topicPolicy:TopicPolicy", "prod-platform-aws-alerts-topic-policy")
    assert changed == [nodes, rules, topic]
    assert "alarm:prod-extra-*" in json.dumps(after_resources[topic])
    assert "alarm:prod-extra-*" not in json.dumps(before_resources[topic])
    assert "api.openai.com" in json.dumps(after_resources[rules])
    assert "api.openai.com" not in json.dumps(before_resources[rules])
    before_size, after_size = before_resources[nodes]["scalingConfig"], after_resources[nodes]["scalingConfig"]
    assert (after_size["minSize"], after_size["maxSize"]) == (before_size["minSize"] + 1, before_size["maxSize"] + 1)
    # And the new stack plans on it.
    extra = load_stack("prod-extra")
    path = tmp_path / "platform.json"
    path.write_text(after.dumps(), encoding="utf-8")
    planned = plan_file(extra, extra.environment(), path)
    assert set(planned.outputs["endpoints"]) == {"fraud-notes", "triage-llm"}


PLATFORM_ENVIRONMENT = {
    "clouds": {
        "aws": {
            "region": "us-east-1",
            "network": {"new": {"cidr": "10.10.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
        }
    },
    "kubernetes": [
        {
            "name": "gpu-aws",
            "version": "1.35",
            "new": {"cloud": "aws", "deployer": {"private_cidrs": ["10.50.0.0/24"]}},
        }
    ],
}


def own(**use_case: Any) -> Any:
    value = {"owner": "team-a", "cost_center": "cc-1", "platform": "prod-platform", "use_cases": [use_case]}
    return validate_environment(value, "stacks/Pulumi.team-a.yaml")


def test_a_use_case_on_a_cluster_the_platform_lacks_is_refused() -> None:
    environment = own(
        name="notes",
        pattern="self-managed",
        data_classification="internal",
        cluster="gpu-gcp",
        model={"id": "mistralai/Mistral-7B-Instruct-v0.3", "revision": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"},
        gpu={"type": "nvidia-l4", "count": 1},
        allowed_clients={"namespaces": ["notes"]},
    )
    with pytest.raises(SpecError) as error:
        use_case_environment(environment, PLATFORM_ENVIRONMENT, "stacks/Pulumi.team-a.yaml")
    message = str(error.value)
    assert "stacks/Pulumi.team-a.yaml" in message and "use_cases[0].cluster" in message
    assert "'prod-platform' has no cluster 'gpu-gcp'" in message and "exports clusters: gpu-aws" in message


def test_a_use_case_on_a_cloud_the_platform_lacks_is_refused() -> None:
    environment = own(
        name="copy",
        pattern="saas",
        data_classification="public",
        cloud="gcp",
        provider="gemini",
        models=["gemini-3.5-flash"],
        api_key_secret="geminiApiKey",
        allowed_principals=["serviceAccount:x@p.iam.gserviceaccount.com"],
    )
    with pytest.raises(SpecError, match=r"use_cases\[0\]\.cloud: the platform stack 'prod-platform' has no gcp cloud; "
                       r"it exports clouds: aws"):
        use_case_environment(environment, PLATFORM_ENVIRONMENT, "stacks/Pulumi.team-a.yaml")


def test_a_use_case_stack_has_no_clouds_of_its_own() -> None:
    value = {"owner": "team-a", "cost_center": "cc-1", "platform": "prod-platform", **PLATFORM_ENVIRONMENT}
    with pytest.raises(SpecError, match="clouds: a use-case stack uses its platform's"):
        validate_environment(value, "stacks/Pulumi.team-a.yaml")


def test_a_platform_stack_has_no_use_cases_of_its_own() -> None:
    prod = load_stack("prod").config["triplane:environment"]
    with pytest.raises(SpecError, match="use_cases: a platform stack's use cases live in its use-case stacks"):
        validate_environment({**prod, "use_case_stacks": ["prod-apps"]}, "stacks/Pulumi.prod.yaml")


def test_a_platform_listing_a_stack_that_does_not_name_it_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = copy_project(tmp_path)
    apps = stacks / "Pulumi.prod-apps.yaml"
    apps.write_text(apps.read_text(encoding="utf-8").replace("platform: prod-platform", "platform: other-platform"))
    monkeypatch.chdir(tmp_path)
    platform = load_stack("prod-platform")
    with pytest.raises(SpecError) as error:
        served_environment(platform.environment(), "prod-platform", platform.source)
    message = str(error.value)
    assert "stacks/Pulumi.prod-platform.yaml" in message and "use_case_stacks[0]" in message
    assert "names the platform 'other-platform'" in message and "add `platform: prod-platform`" in message


def test_a_platform_that_does_not_serve_the_stack_is_refused(platform_plan: Plan) -> None:
    contract = PlatformContract.model_validate(platform_plan.stack_outputs().outputs[OUTPUT])
    with pytest.raises(SpecError, match=r"does not serve the stack 'team-b'.*add 'team-b' to its `use_case_stacks`"):
        contract.check_serves("team-b", "stacks/Pulumi.team-b.yaml")


def test_a_contract_of_another_format_is_refused() -> None:
    with pytest.raises(SpecError, match="exports the format 'triplane-platform/9'"):
        read_contract({"format": "triplane-platform/9"}, "prod-platform", "stacks/Pulumi.prod-apps.yaml")
    with pytest.raises(SpecError, match="exports no `platform` output"):
        read_contract(None, "prod-platform", "stacks/Pulumi.prod-apps.yaml")


def test_an_existing_cluster_is_shared_through_its_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """local split in two: the platform installs the add-ons on the existing cluster, the use-case stack
    reaches it through the same kubeconfig context (no kubeconfig travels in the contract)."""
    single = plan_stack("local")
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.local.yaml").read_text(encoding="utf-8"))
    environment = document["config"]["triplane:environment"]
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    platform = {**environment, "use_case_stacks": ["local-team"]}
    platform.pop("use_cases")
    team = {k: environment[k] for k in ("owner", "cost_center", "tier", "use_cases")} | {"platform": "local-platform"}
    for name, value in (("local-platform", platform), ("local-team", team)):
        text = yaml.safe_dump({"config": {"triplane:environment": value}}, sort_keys=False)
        (stacks / f"Pulumi.{name}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    platform_plan = plan_stack("local-platform")
    team_plan = plan_stack("local-team")
    split = named(platform_plan, "local") | named(team_plan, "local")
    assert named(single, "local") - split == {(STACK, "triplane-local")}
    assert split - named(single, "local") == {
        (STACK, "triplane-local-platform"),
        (STACK, "triplane-local-team"),
        (REFERENCE, "local-platform"),
    }
    provider = team_plan.one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-triplane" and "kubeconfig" not in provider.inputs
    cluster = next(p for p in platform_plan.outputs[OUTPUT]["shared"] if p["kind"] == "cluster")
    assert cluster["fields"]["images"] == {"kind": "upstream"} and "kubeconfig" not in cluster["fields"]
    assert cluster["fields"]["prometheus_url"].startswith("http://")
    # The NVIDIA device plugin the cluster lacks is the platform's; the use-case stack installs nothing.
    assert platform_plan.by_type("triplane:selfmanaged:NvidiaDevicePlugin")
    assert not team_plan.by_type("triplane:selfmanaged:NvidiaDevicePlugin")


def test_the_split_stacks_pass_the_gate_and_say_what_they_take_from_the_platform(
    platform_plan: Plan, use_case_plans: dict[str, Plan]
) -> None:
    """Each stage is checked with its own settings: the platform proves its shared pieces, and a use-case
    stack's run-time paths through them are met by the platform, shown as such (not silently)."""
    from triplane.gate import check_plan
    from triplane.runtime import paths

    for plan in (platform_plan, *use_case_plans.values()):
        stack_config = load_stack(plan.stack).config
        result = check_plan(plan, stack_config=stack_config)
        assert result.mandatory == [], (plan.stack, [v.message for v in result.mandatory])
    clinical = use_case_plans["prod-clinical"]
    needs = paths(clinical, load_stack("prod-clinical").config)
    taken = {n.kind for n in needs if n.path == "the platform stack prod-platform"}
    # `endpoints`: its GKE server and its Cloud Monitoring alert policies reach Google APIs over the platform's
    # private googleapis path; `dashboards`: its workbook queries the platform's Azure Monitor workspace.
    assert taken == {"images", "crds", "autoscaling", "gpus", "weights", "alerts", "endpoints", "dashboards"}
    assert all(n.assumption for n in needs if n.path == "the platform stack prod-platform")
    assert all(n.met for n in needs)


def test_under_pulumi_up_a_use_case_stack_is_checked_against_its_local_platform_before_anything() -> None:
    """The program (as `pulumi up` runs it, reading its own config) reads the platform's stack file of
    this project and stops with the file and field before registering anything."""
    import pulumi

    from triplane.plan import run_program
    from triplane.stacks import program

    clinical = load_stack("prod-clinical")

    def run(stack: str, environment: dict[str, Any]) -> None:
        config = {**clinical.config, "triplane:environment": json.dumps(environment)}
        run_program(program.main, stack=stack, config=config, secret_keys=clinical.secret_keys)

    document = json.loads(json.dumps(clinical.config["triplane:environment"]))
    with pytest.raises(pulumi.RunError, match=r"stacks/Pulumi\.prod-extra\.yaml: triplane:environment\.platform: "
                       r"the platform stack 'prod-platform' \(stacks/Pulumi\.prod-platform\.yaml\) does not serve "
                       r"'prod-extra' \(it serves: prod-apps, prod-clinical\)"):
        run("prod-extra", document)
    document["use_cases"][0]["cluster"] = "gpu-onprem"
    with pytest.raises(pulumi.RunError, match=r"use_cases\[0\]\.cluster: the platform stack 'prod-platform' has no "
                       r"cluster 'gpu-onprem'"):
        run("prod-clinical", document)
