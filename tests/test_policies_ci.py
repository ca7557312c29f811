"""The users' CI workflow: valid YAML, the right triggers, jobs, policy pack and approval gate."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "triplane.yml"
SECRETS = (
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_CONFIG_PASSPHRASE",
    "AWS_ROLE_ARN",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
    "GCP_WORKLOAD_IDENTITY_PROVIDER",
    "GCP_SERVICE_ACCOUNT",
)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def action(job: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in steps(job) if str(s.get("uses", "")).startswith(f"{name}@")]
    return found


def test_triggers(workflow: dict[str, Any]) -> None:
    assert "pull_request" in workflow["on"]
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["permissions"] == {"contents": "read"}


def test_every_action_is_pinned_to_a_release(workflow: dict[str, Any]) -> None:
    for job in workflow["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
            else:
                assert step.get("run"), step


def test_pull_requests_test_check_every_stack_and_preview_with_the_pack(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    test_runs = "\n".join(s.get("run", "") for s in steps(jobs["test"]))
    assert "pip install -e '.[test]'" in test_runs
    assert "ruff check ." in test_runs and "mypy" in test_runs and "pytest" in test_runs
    check_runs = "\n".join(s.get("run", "") for s in steps(jobs["check"]))
    assert "for file in stacks/Pulumi.*.yaml" in check_runs
    assert 'triplane check "$stack"' in check_runs
    preview = jobs["preview"]
    assert preview["if"] == "github.event_name == 'pull_request'"
    assert set(preview["needs"]) == {"test", "check"}
    assert preview["strategy"]["matrix"]["environment"] == ["dev", "prod-platform"]
    assert "environment" not in preview  # previews never wait for the prod approval
    pulumi = action(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "${{ env.POLICY_PACK }}"
    assert workflow["env"]["POLICY_PACK"] == "policies/triplane"
    assert workflow["env"]["POLICY_CONFIG"] == "policies/policy-config.json"
    assert (ROOT / workflow["env"]["POLICY_PACK"] / "PulumiPolicy.yaml").is_file()
    assert (ROOT / workflow["env"]["POLICY_CONFIG"]).is_file()
    assert preview["permissions"]["id-token"] == "write"


def test_main_deploys_dev_then_prods_platform_then_its_use_case_stacks_in_parallel(
    workflow: dict[str, Any],
) -> None:
    jobs = workflow["jobs"]
    dev, platform, use_cases = jobs["up-dev"], jobs["up-prod-platform"], jobs["up-prod-use-cases"]
    for job in (dev, platform, use_cases):
        assert job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
        pulumi = action(job, "pulumi/actions")
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["policyPacks"] == "${{ env.POLICY_PACK }}"
        assert job["concurrency"]["cancel-in-progress"] is False
    assert set(dev["needs"]) == {"test", "check"}
    assert dev["environment"] == "dev"
    # The platform's cloud resources (the deploy runner among them) first, from a GitHub-hosted runner;
    # then the whole platform stack, inside the network.
    cloud = jobs["up-prod-cloud"]
    assert cloud["environment"] == "prod" and cloud["needs"] == ["up-dev"] and cloud["runs-on"] == "ubuntu-latest"
    targets = next(s for s in steps(cloud) if s.get("id") == "cloud")
    assert '.venv/bin/triplane first-deploy "$PROD_PLATFORM" --targets' in targets["run"]
    assert action(cloud, "pulumi/actions")["with"]["target"] == "${{ steps.cloud.outputs.targets }}"
    assert platform["environment"] == "prod" and platform["needs"] == ["up-prod-cloud"]
    assert "PROD_RUNS_ON" in platform["runs-on"]
    assert workflow["env"]["PROD_PLATFORM"] == "prod-platform"
    assert "env.PROD_PLATFORM" in action(platform, "pulumi/actions")["with"]["stack-name"]
    # The use-case stacks: after the platform, each on its own, the matrix from the platform's spec.
    assert use_cases["environment"] == "prod" and use_cases["needs"] == ["stages", "up-prod-platform"]
    assert use_cases["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stages.outputs.use-cases) }}"
    assert use_cases["strategy"]["fail-fast"] is False
    assert "matrix.stack" in action(use_cases, "pulumi/actions")["with"]["stack-name"]
    assert "matrix.stack" in use_cases["concurrency"]["group"]
    stages = "\n".join(s.get("run", "") for s in steps(jobs["stages"]))
    assert 'triplane stacks --use-cases-of "$PROD_PLATFORM"' in stages
    assert jobs["preview-use-cases"]["strategy"]["matrix"]["environment"] == (
        "${{ fromJSON(needs.stages.outputs.use-cases) }}")


def test_the_matrix_is_what_the_platform_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from triplane.cli import cli

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["stacks", "--use-cases-of", "prod-platform"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == ["prod-apps", "prod-clinical"]
    refused = CliRunner().invoke(cli, ["stacks", "--use-cases-of", "prod"])
    assert refused.exit_code == 2
    assert "--use-cases-of prod: not a platform stack of this project (platform stacks: prod-platform)" in (
        refused.output)
    rows = json.loads(CliRunner().invoke(cli, ["stacks"]).output)
    listed = {row["name"]: row["stage"] for row in rows}
    assert listed == {"dev": "single", "local": "single", "prod": "single", "prod-platform": "platform",
                      "prod-apps": "use-case", "prod-clinical": "use-case"}


def test_required_secrets_are_documented_and_used(workflow: dict[str, Any]) -> None:
    text = WORKFLOW.read_text()
    header = text.split("\nname:", 1)[0]
    readme = (ROOT / "policies" / "README.md").read_text()
    for secret in SECRETS:
        assert secret in header, f"{secret} is not documented in the workflow's header"
        assert secret in readme, f"{secret} is not documented in policies/README.md"
        assert f"secrets.{secret}" in text, f"{secret} is documented but never used"
    used = set(re.findall(r"secrets\.([A-Z_]+)", text)) - {"GITHUB_TOKEN"}
    assert used == set(SECRETS)
