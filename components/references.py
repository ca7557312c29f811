"""Shared pieces another stack created, as the components that use them see them.

A use-case stack does not create the egress firewall, the private DNS zones, the Bedrock private link
or the Vertex project settings it uses: the platform stack did, and exported what their users read
(`stacks.contract`). These hold exactly those outputs, so a component takes either the platform's
component (in a single stack) or its reference (in a use-case stack) with no other difference. A
reference waits on nothing: the platform stack was deployed before the use-case stack reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi


@dataclass(frozen=True)
class EgressReference:
    """A network's egress firewall (AWS Network Firewall, Azure Firewall, Secure Web Proxy)."""

    allowed_hosts: Sequence[str]
    """The firewall's whole allowlist, as the platform stack built it."""
    egress_ips: pulumi.Output[list[str]]
    proxy_address: pulumi.Input[str] | None = None
    """The explicit proxy's address (Secure Web Proxy); None where routing sends traffic out."""
    log_workspace_id: pulumi.Input[str] | None = None
    """Azure: the Log Analytics workspace the firewall and key vaults log to."""
    alert_log_group: pulumi.Input[str] | None = None
    """AWS: the firewall's alert log group."""
    ready: list[pulumi.Resource] = field(default_factory=list)
    """Nothing to wait for (a firewall component's `ready` lists its routes)."""


@dataclass(frozen=True)
class PrivateDnsZoneReference:
    """A private DNS zone linked to the network (Key Vault's, Azure OpenAI's)."""

    zone_id: pulumi.Input[str]


@dataclass(frozen=True)
class BedrockPrivateLinkReference:
    """The VPC's Bedrock endpoints (`BedrockPrivateLink`): the runtime URL a use case calls."""

    runtime_url: pulumi.Output[str]


@dataclass(frozen=True)
class BedrockLoggingReference:
    """The region's invocation logging (`BedrockInvocationLogging`): where invocations are recorded."""

    logs: pulumi.Output[str]


@dataclass(frozen=True)
class GoogleApisReference:
    """The network's private googleapis path (`GoogleApisPrivateAccess`)."""

    address: pulumi.Input[str]
    ready: pulumi.Input[str]


@dataclass(frozen=True)
class VertexProjectReference:
    """The project's Vertex AI settings (`VertexProject`): its service agent, granted the model's key."""

    agent_member: pulumi.Input[str]


@dataclass(frozen=True)
class AlertChannelReference:
    """A cloud's alert channel: what its alerts name to notify (an SNS topic ARN, an action group ID, or
    Cloud Monitoring notification channel names)."""

    cloud: str
    target: pulumi.Input[str] | pulumi.Input[list[str]]
    ready: list[pulumi.Resource] = field(default_factory=list)
    """What alerts wait for before they may notify it (the SNS topic's policy); empty for a reference."""
