"""What a GPU node pool needs to know about its cluster, whichever cloud runs it.

The cluster components (`eks`, `gke`, `aks`) produce these; a node pool takes one as its `cluster`
argument, so pools never reach into a cluster component's children.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class EksClusterRef:
    name: pulumi.Input[str]
    version: str
    node_role_arn: pulumi.Input[str]
    """Role of every node (worker, CNI and registry-pull policies attached)."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets the nodes live in."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What nodes need before they can join (add-ons, access entries, service endpoints)."""


@dataclass(frozen=True)
class GkeClusterRef:
    name: pulumi.Input[str]
    project: str
    location: str
    version: str
    node_service_account: pulumi.Input[str]
    """Email of the least-privilege node service account."""
    boot_disk_kms_key: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class AksClusterRef:
    name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    version: str
    node_subnet_id: pulumi.Input[str]


ClusterRef = EksClusterRef | GkeClusterRef | AksClusterRef
