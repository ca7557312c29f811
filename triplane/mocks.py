"""Deterministic stand-ins for the cloud providers, so a plan runs with no credentials.

Every resource gets a stable id and the computed attributes components read back (ARNs, Azure
resource IDs, GCP self links, service-account emails). Invokes (`getCallerIdentity`,
`getClientConfig`, ...) answer with fixed, documented values. Same input, same plan, every time.
Each cloud's answers are its seam's (`stacks.clouds`, `PlanMocks`); Kubernetes' are here.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from stacks.clouds import SEAMS, aws, azure, gcp

AWS_ACCOUNT_ID = aws.ACCOUNT_ID
AWS_CALLER_ARN = aws.CALLER_ARN
AWS_DEPLOYER_ROLE_ARN = aws.DEPLOYER_ROLE_ARN
AZURE_SUBSCRIPTION_ID = azure.SUBSCRIPTION_ID
AZURE_TENANT_ID = azure.TENANT_ID
AZURE_OBJECT_ID = azure.OBJECT_ID
AZURE_FIREWALL_PRIVATE_IP = azure.FIREWALL_PRIVATE_IP
GCP_PROJECT_NUMBER = gcp.PROJECT_NUMBER
GCP_DEPLOYER_EMAIL = gcp.DEPLOYER_EMAIL

_BY_PACKAGE = {seam.mocks.package: seam.mocks for seam in SEAMS.values()}


class CloudMocks(pulumi_mocks.Mocks):
    """Mocks for every cloud's provider (through its seam) and for Kubernetes."""

    def __init__(self, project: str = "triplane", stack: str = "stack") -> None:
        self.project = project
        self.stack = stack

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        type_, name, inputs = args.typ, args.name, dict(args.inputs)
        if type_.startswith("pulumi:providers:"):
            return f"{name}-provider-id", inputs
        package = type_.split(":")[0]
        state: dict[str, Any] = dict(inputs)
        resource_id = f"{name}-id"
        if package in _BY_PACKAGE:
            resource_id = _BY_PACKAGE[package].resource(type_, name, inputs, state)
        elif package == "kubernetes":
            metadata = dict(inputs.get("metadata") or {})
            metadata.setdefault("name", name)
            state["metadata"] = metadata
            namespace = metadata.get("namespace")
            resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
        state.setdefault("id", resource_id)
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        for mocks in _BY_PACKAGE.values():
            answer = mocks.call(args.token, args.args)
            if answer is not None:
                return answer, []
        return {}, []
