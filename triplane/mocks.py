"""Deterministic stand-ins for the cloud providers, so a plan runs with no credentials.

Every resource gets a stable id and the computed attributes components read back (ARNs, Azure
resource IDs, GCP self links, service-account emails). Invokes (`getCallerIdentity`,
`getClientConfig`, ...) answer with fixed, documented values. Same input, same plan, every time.
Each cloud's answers are its seam's (`stacks.clouds`, `PlanMocks`); Kubernetes' are here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks


@functools.cache
def _by_package() -> dict[str, Any]:
    """Each cloud's mocks by provider package, read when the first resource registers.

    Not at import: the program imports its own `stacks` (from the project root, as the language host
    runs it) before anything registers, and the mocks then use that same package.
    """
    from triplane.stacks.clouds import SEAMS

    return {seam.mocks.package: seam.mocks for seam in SEAMS.values()}


STACK_REFERENCE = "pulumi:pulumi:StackReference"


@dataclass(frozen=True)
class StackOutputs:
    """Another stack's outputs, as a stack reference reads them: plain values, and which are secret."""

    outputs: dict[str, Any]
    secret_names: list[str] = field(default_factory=list)


class CloudMocks(pulumi_mocks.Mocks):
    """Mocks for every cloud's provider (through its seam), for Kubernetes, and for stack references
    (answered with the outputs of stacks planned before, by stack name)."""

    def __init__(
        self, project: str = "triplane", stack: str = "stack", references: Mapping[str, StackOutputs] | None = None
    ) -> None:
        self.project = project
        self.stack = stack
        self.references = dict(references or {})

    def stack_reference(self, name: str) -> dict[str, Any]:
        """The state of a `pulumi.StackReference` to `name` (`<stack>` or `<org>/<project>/<stack>`)."""
        found = self.references.get(name) or self.references.get(name.rsplit("/", 1)[-1])
        if found is None:
            known = ", ".join(sorted(self.references)) or "none"
            raise ValueError(f"no outputs of the stack {name!r} to answer its stack reference with (planned: {known})")
        return {"name": name, "outputs": found.outputs, "secretOutputNames": list(found.secret_names)}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        type_, name, inputs = args.typ, args.name, dict(args.inputs)
        if type_ == STACK_REFERENCE:
            return str(inputs["name"]), self.stack_reference(str(inputs["name"]))
        if type_.startswith("pulumi:providers:"):
            return f"{name}-provider-id", inputs
        package = type_.split(":")[0]
        state: dict[str, Any] = dict(inputs)
        resource_id = f"{name}-id"
        mocks = _by_package().get(package)
        if mocks is not None:
            resource_id = mocks.resource(type_, name, inputs, state)
        elif package == "kubernetes":
            metadata = dict(inputs.get("metadata") or {})
            metadata.setdefault("name", name)
            state["metadata"] = metadata
            namespace = metadata.get("namespace")
            resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
        state.setdefault("id", resource_id)
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        for mocks in _by_package().values():
            answer = mocks.call(args.token, args.args)
            if answer is not None:
                return answer, []
        return {}, []
