"""SubComponent: one part of a larger component, holding resources the larger one used to hold itself.

A resource's URN names its parent's type, so moving a resource under a new component would replace
it. Each direct child of a sub-component therefore gets an alias to its former parent: `pulumi up`
moves it in place, and a stack deployed before the split keeps every resource.
"""

from __future__ import annotations

import pulumi


class SubComponent(pulumi.ComponentResource):
    """A component under `parent` whose children keep `former_parent` (by default `parent`) as an alias.

    Children get the alias whichever helper creates them (a transformation adds it), so a helper that
    takes only `parent=` needs no change. A nested sub-component gets none: it is new, and its own
    children carry theirs.
    """

    def __init__(
        self, type_: str, name: str, parent: pulumi.Resource, former_parent: pulumi.Resource | None = None
    ) -> None:
        self.former_parent = former_parent if former_parent is not None else parent
        super().__init__(
            type_, name, None, pulumi.ResourceOptions(parent=parent, transformations=[self._keep_former_urn])
        )

    def _keep_former_urn(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.opts.parent is not self or isinstance(args.resource, SubComponent):
            return None
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=self.former_parent)])
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, moved))
