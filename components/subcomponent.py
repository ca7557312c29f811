"""SubComponent: one part of a larger component, holding resources the larger one used to hold itself.

A resource's URN names its parent's type, so moving a resource under a new component would replace
it. Each child of a sub-component therefore carries an alias to its former parent: `pulumi up` moves
it in place, and a stack deployed before the split keeps every resource.
"""

from __future__ import annotations

from typing import Any

import pulumi


class SubComponent(pulumi.ComponentResource):
    """A component under `parent` whose children keep `former_parent` (by default `parent`) as an alias."""

    def __init__(
        self, type_: str, name: str, parent: pulumi.Resource, former_parent: pulumi.Resource | None = None
    ) -> None:
        super().__init__(type_, name, None, pulumi.ResourceOptions(parent=parent))
        self.former_parent = former_parent if former_parent is not None else parent
        self.aliases = [pulumi.Alias(parent=self.former_parent)]

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options of a child: parented here, aliased to where it was; `kwargs` are further options."""
        return pulumi.ResourceOptions(parent=self, aliases=list(self.aliases), **kwargs)
