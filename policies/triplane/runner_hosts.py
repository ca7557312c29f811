"""What a deploy runner inside a network must reach outside it: one list for the stacks and the pack."""

from __future__ import annotations

GITHUB_HOSTS: tuple[str, ...] = (
    "github.com",
    "api.github.com",
    "codeload.github.com",
    "*.actions.githubusercontent.com",
    "objects.githubusercontent.com",
    "objects-origin.githubusercontent.com",
    "github-releases.githubusercontent.com",
    "release-assets.githubusercontent.com",
)
"""What a GitHub Actions self-hosted runner reaches (docs: communicating with self-hosted runners):
jobs, the API, checkouts, the Actions services (job messages, results, OIDC tokens, action downloads)
and release downloads (runner updates, actions' tools). Actions' log and artifact storage accounts
under blob.core.windows.net are named per deployment in `GET /meta` (`domains.actions_inbound`): a
stack lists them (`deployer.runner.egress_hosts`), since a wildcard there would reach every Azure
tenant's storage."""

PULUMI_HOSTS: tuple[str, ...] = ("get.pulumi.com", "api.pulumi.com")
"""The Pulumi CLI and provider plugin downloads, and Pulumi Cloud (state, deployments)."""

AWS_RUNNER_COMPONENT = "triplane:deploy:AwsDeployRunner"
AZURE_RUNNER_COMPONENT = "triplane:deploy:AzureDeployRunner"
"""The component types whose machine (an EC2 instance, a VM) is a deploy runner."""
