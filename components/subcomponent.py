"""Moving resources between components without replacing them.

A resource's URN names its parent's type, so moving a resource under a new component, or renaming
its component's type, would replace it. `SubComponent` is one part of a larger component, holding
resources the larger one used to hold itself; `RenamedComponent` is a component whose type token
changed. Both give each direct child an alias to the parent it had before (a transformation adds it,
so a helper that takes only `parent=` needs no change): `pulumi up` moves the child in place, and a
stack deployed before the change keeps every resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import pulumi

FormerParent: TypeAlias = pulumi.Resource | pulumi.Output[str]
"""The parent a child had: a resource, or the URN it was registered under."""


def _alias_children(
    component: pulumi.Resource, former_parent: Callable[[], FormerParent]
) -> pulumi.ResourceTransformation:
    """Give each direct child of `component` an alias to `former_parent()`; not a part: it is new,
    and its own children carry theirs."""

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.opts.parent is not component or isinstance(args.resource, SubComponent):
            return None
        former = former_parent()
        aliases = [pulumi.Alias(parent=former)]
        # The provider SDKs alias a resource to its former types under its current parent; a resource
        # created under the former parent with a former type is matched only with both.
        for alias in args.opts.aliases or []:
            if isinstance(alias, pulumi.Alias) and alias.parent is ...:
                aliases.append(
                    pulumi.Alias(
                        name=alias.name, type_=alias.type_, parent=former, stack=alias.stack, project=alias.project
                    )
                )
        moved = pulumi.ResourceOptions(aliases=aliases)
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, moved))

    return transform


def former_urn(urn: str, former_type: str) -> str:
    """`urn` with its own type (the last of its qualified type) replaced by `former_type`."""
    prefix, project, qualified, name = urn.split("::", 3)
    chain = qualified.rsplit("$", 1)
    return "::".join([prefix, project, f"{chain[0]}${former_type}" if len(chain) == 2 else former_type, name])


class RenamedComponent(pulumi.ComponentResource):
    """A component registered as `type_` that was `former_type`: aliased to it, and so are its children."""

    former_urn: pulumi.Output[str]
    """The URN the component had under its former type."""

    def __init__(self, type_: str, former_type: str, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        renamed = pulumi.ResourceOptions(
            aliases=[pulumi.Alias(type_=former_type)],
            transformations=[_alias_children(self, lambda: self.former_urn)],
        )
        super().__init__(type_, name, None, pulumi.ResourceOptions.merge(opts, renamed))
        self.former_urn = self.urn.apply(lambda urn: former_urn(urn, former_type))


class SubComponent(pulumi.ComponentResource):
    """A component under `parent` whose children keep `former_parent` (by default `parent`, or the
    URN `parent` had if it was renamed) as an alias."""

    former_parent: FormerParent

    def __init__(
        self, type_: str, name: str, parent: pulumi.Resource, former_parent: FormerParent | None = None
    ) -> None:
        former = former_parent if former_parent is not None else parent
        self.former_parent = former.former_urn if isinstance(former, RenamedComponent) else former
        super().__init__(
            type_,
            name,
            None,
            pulumi.ResourceOptions(parent=parent, transformations=[_alias_children(self, lambda: self.former_parent)]),
        )
