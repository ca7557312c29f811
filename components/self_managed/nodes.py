"""What every new cluster's nodes share: the system pool's shape, and the EKS launch template.

The system pool is the small always-on pool for cluster services (DNS, CNI, metrics, the
autoscaler); GPU pools come from use cases (`gpu_node_pool`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_aws import ec2 as aws_ec2

SYSTEM_MACHINES = {"aws": "m6i.large", "azure": "Standard_D4ds_v5", "gcp": "e2-standard-4"}
"""The system pool's machine type per cloud when the spec names none."""
ENCRYPTED_DISPOSABLE = {"encrypted": "true", "delete_on_termination": "true"}
"""EBS settings of every node volume: encrypted, and gone with its node (nodes keep no data)."""


@dataclass(frozen=True)
class SystemNodes:
    """The system pool of a new EKS, GKE or AKS cluster; defaults are the spec's."""

    machine_type: str
    min_nodes: int = 2
    max_nodes: int = 3
    disk_size_gb: int = 100

    @classmethod
    def default(cls, cloud: str) -> SystemNodes:
        return cls(SYSTEM_MACHINES[cloud])


def eks_launch_template(
    resource_name: str,
    *,
    parent: pulumi.Resource,
    name: str,
    volumes: Sequence[tuple[str, int]],
    tags: Mapping[str, str],
    description: str | None = None,
    tag_nodes: bool = False,
    user_data: str | None = None,
) -> aws_ec2.LaunchTemplate:
    """The launch template of an EKS managed node group: encrypted gp3 volumes and IMDSv2 only.

    `volumes` are (device name, size in GiB). The instance metadata service takes session tokens only,
    one network hop away, so pods (a hop further) cannot read the node role's credentials. With
    `tag_nodes` the instances and volumes launched carry `tags` too, kept out of instance metadata.
    `user_data` is the node's own settings (Bottlerocket: TOML, which EKS merges with the settings that
    join the node to the cluster). The default version follows each change, so the node group rolls to it.
    """
    metadata: Any = {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}
    extra: Any = {}
    if description is not None:
        extra["description"] = description
    if user_data is not None:
        extra["user_data"] = base64.b64encode(user_data.encode()).decode()
    if tag_nodes:
        metadata["instance_metadata_tags"] = "disabled"
        extra["tag_specifications"] = [{"resource_type": kind, "tags": dict(tags)} for kind in ("instance", "volume")]
    devices: Any = [
        {"device_name": device, "ebs": {"volume_size": size, "volume_type": "gp3", **ENCRYPTED_DISPOSABLE}}
        for device, size in volumes
    ]
    return aws_ec2.LaunchTemplate(
        resource_name,
        name=name,
        block_device_mappings=devices,
        metadata_options=metadata,
        update_default_version=True,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
        **extra,
    )
