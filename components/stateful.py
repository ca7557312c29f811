"""Resource options of stateful resources: keys, vaults, secrets, log stores, caches, volumes.

`protect_data` (tier prod, or `protect_stateful: true`) sets both `protect` and `retain_on_delete`,
so neither `pulumi destroy` nor a replacement deletes the data; the policy packs check the pair.
"""

from __future__ import annotations

from typing import Any

import pulumi


def stateful_opts(parent: pulumi.Resource, protect: bool, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a stateful child of `parent`; `kwargs` are further `ResourceOptions` fields."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect, **kwargs)
