"""Stages: what a platform stack owns, and what its use-case stacks own.

A platform stack (its `triplane:environment` lists `use_case_stacks`) builds what use cases share:
networks, egress firewalls, clusters and node pools, image caches, and per-account singletons such as
Bedrock invocation logging (one setting per account and region, so one owner). A use-case stack (it
names its `platform`) builds its use cases' own components on top, through a stack reference. Each
side creating the other's resources would give one resource two owners, or move the blast radius
back where the split took it from. A single stack (neither key) owns everything and is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .common import HIGH, Res, environment_spec, platform_stack, stack_name, stack_policy
from .runner_hosts import AWS_RUNNER_COMPONENT, AZURE_RUNNER_COMPONENT

PLATFORM_TYPES_DEFAULT = [
    "aws:ec2/vpc:Vpc",
    "aws:networkfirewall/firewall:Firewall",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:AzureFirewall",
    "azure-native:containerservice:ManagedCluster",
    "azure-native:containerservice:AgentPool",
    "gcp:compute/network:Network",
    "gcp:networkservices/gateway:Gateway",
    "gcp:container/cluster:Cluster",
    "gcp:container/nodePool:NodePool",
    AWS_RUNNER_COMPONENT,
    AZURE_RUNNER_COMPONENT,
]
USE_CASE_TYPES_DEFAULT = [
    "triplane:saas:SaasEgress",
    "triplane:cloudmanaged:BedrockEndpoint",
    "triplane:cloudmanaged:AzureOpenAIEndpoint",
    "triplane:cloudmanaged:VertexEndpoint",
    "triplane:selfmanaged:ModelServer",
]


def stage() -> tuple[str, str]:
    """(`platform` | `use-case` | `single`, the platform a use-case stack names) from the stack's setting."""
    if (environment_spec() or {}).get("use_case_stacks"):
        return "platform", ""
    platform = platform_stack()
    return ("use-case", platform) if platform else ("single", "")


def _ownership(resources: list[Res], cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    kind, platform = stage()
    if kind == "use-case":
        owned_elsewhere = set(cfg["platformTypes"])
        why = (f"is the platform's: stack {stack_name()} is a use-case stack of {platform}, which creates it "
               "(a use case requests it there, in the platform's served stacks)")
    elif kind == "platform":
        owned_elsewhere = set(cfg["useCaseTypes"])
        why = (f"belongs to a use case: platform stack {stack_name()} builds only what its use-case stacks "
               "share, and each use-case stack builds its own")
    else:
        return
    for resource in resources:
        if resource.type in owned_elsewhere:
            yield f"{resource.type} {why}", resource.urn


POLICIES = [
    stack_policy(
        name="stage-ownership",
        description="A use-case stack creates none of its platform's shared resources (networks, firewalls, "
        "clusters, node pools, caches, deploy runners, account singletons such as Bedrock invocation logging), and "
        "a platform stack none of its use cases' own components.",
        check=_ownership,
        severity=HIGH,
        remediation="Move the resource to the stage that owns it: shared pieces and per-account settings to the "
        "platform stack (its use_case_stacks tell it what its use cases need), a use case's components to its "
        "use-case stack; or drop `platform`/`use_case_stacks` to make a single stack.",
        config={
            "platformTypes": {"type": "array", "items": {"type": "string"}, "default": PLATFORM_TYPES_DEFAULT,
                              "description": "Resource types only a platform (or single) stack may create."},
            "useCaseTypes": {"type": "array", "items": {"type": "string"}, "default": USE_CASE_TYPES_DEFAULT,
                             "description": "Component types only a use-case (or single) stack may create."},
        },
        tags=["stack", "stages"],
    ),
]
