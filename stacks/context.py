"""What a pattern builder gets: the environment, its providers, shared networks, names and tags."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi

from triplane.components.naming import physical_name
from triplane.components.tagging import standard_tags
from triplane.stacks.providers import Providers
from triplane.stacks.spec import Environment, SpecError
from triplane.stacks.spec.use_case import UseCaseBase

T = TypeVar("T")


@dataclass(frozen=True)
class Endpoint:
    """How an application reaches one use case's model: the `endpoints` stack output, per use case."""

    pattern: str
    url: pulumi.Input[str]
    auth: str
    """How the caller authenticates, e.g. `aws-iam`, `entra-id`, `google-iam`, `api-key`."""
    identity: pulumi.Input[str] | None = None
    """The role / identity / service account the application uses (or is granted)."""
    secret_ref: pulumi.Input[str] | None = None
    """A reference to a secret (ARN, Key Vault URI, Secret Manager name), never its value."""
    logs: pulumi.Input[str] | None = None
    egress_ips: pulumi.Input[list[str]] | None = None
    """Static addresses the use case's outbound traffic leaves from (for a vendor's IP allowlist)."""
    proxy: pulumi.Input[str] | None = None
    """An HTTPS proxy the application must send its calls through, where egress is an explicit proxy."""
    gateway: Mapping[str, Any] | None = None
    """The AI gateway's way to the use case: its URL, the model name to send, and how consumers authenticate."""

    def as_output(self) -> dict[str, Any]:
        output: dict[str, Any] = {"pattern": self.pattern, "url": self.url, "auth": self.auth}
        for key in ("identity", "secret_ref", "logs", "egress_ips", "proxy", "gateway"):
            value = getattr(self, key)
            if value is not None:
                output[key] = value
        return output


@dataclass
class StackContext:
    stack: str
    source: str
    """The stack settings file, named in every error."""
    environment: Environment
    providers: Providers
    _shared: dict[Any, Any] = field(default_factory=dict)

    @property
    def protect_data(self) -> bool:
        return self.environment.protects_stateful

    def prefix(self, use_case: UseCaseBase | None = None) -> str:
        """`<environment>-<use case>`: the logical name of a use case's component, and its name stem."""
        return f"{self.stack}-{use_case.name}" if use_case else self.stack

    def name(self, *parts: str, kind: str = "default") -> str:
        return physical_name(self.stack, *parts, kind=kind)

    def tags(self, use_case: UseCaseBase | None = None) -> dict[str, str]:
        env = self.environment
        if use_case is None:
            return standard_tags(environment=self.stack, owner=env.owner, cost_center=env.cost_center)
        return standard_tags(
            environment=self.stack,
            owner=env.owner,
            cost_center=env.cost_center,
            use_case=use_case.name,
            data_classification=use_case.data_classification,
            pattern=getattr(use_case, "pattern", "shared"),
        )

    def shared(self, key: Any, factory: Callable[[], T]) -> T:
        """Create a resource serving several use cases once (a network, a firewall, a log sink)."""
        if key not in self._shared:
            self._shared[key] = factory()
        result: T = self._shared[key]
        return result

    def built(self) -> list[tuple[Any, Any]]:
        """Every shared piece built so far, with its key, in the order they were built."""
        return list(self._shared.items())

    def provide(self, key: Any, value: Any) -> None:
        """Stand a shared piece in before anything asks for it (a use-case stack's platform references)."""
        if key in self._shared:
            raise ValueError(f"the shared piece {key!r} is already built")
        self._shared[key] = value

    def opts(self, cloud: str, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options that hand a component the one provider configured for `cloud`."""
        return pulumi.ResourceOptions(providers=[self.providers.for_cloud(cloud)], **kwargs)

    def component_opts(self, cloud: str, use_case: UseCaseBase, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a use case's own component: its cloud's provider and, after a rename, an alias to
        the former `<environment>-<previous name>`. Children named `<component>-<role>` inherit it."""
        if use_case.previous_name is not None:
            former = pulumi.Alias(name=f"{self.stack}-{use_case.previous_name}")
            kwargs["aliases"] = [*kwargs.get("aliases", []), former]
        return self.opts(cloud, **kwargs)

    def error(self, field_path: str, message: str) -> SpecError:
        return SpecError(self.source, [f"triplane:environment.{field_path}: {message}"])

    def use_case_index(self, use_case: UseCaseBase) -> int:
        return next(i for i, u in enumerate(self.environment.use_cases) if u.name == use_case.name)
