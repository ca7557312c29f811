"""SaasEgress: one use case's safe path to an external AI API.

Creates the use case's key store and workload identity in its cloud (`secret_store`, through the
builder its cloud's seam hands it) and ties them to the environment's shared egress firewall for that
network (`egress_aws`, `egress_azure`, `egress_gcp`), which it checks already allows every host this
use case needs. Its outputs are what an application and the API vendor need: the provider's base URL,
a reference to the stored key (never the key), the static egress IPs, and the identity to run the
workload as.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from triplane.components.naming import physical_name
from triplane.components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from triplane.components.references import EgressReference
from triplane.components.saas.egress_aws import AwsEgressFirewall
from triplane.components.saas.egress_azure import AzureEgressFirewall
from triplane.components.saas.egress_gcp import GcpEgressProxy
from triplane.components.saas.providers import host_matches
from triplane.components.tagging import tagged

EgressFirewall = AwsEgressFirewall | AzureEgressFirewall | GcpEgressProxy | EgressReference
"""The network's egress firewall: the component (in the stack that builds it) or its reference."""


def workload_account_id(name: str) -> str:
    """The workload service account ID of the use case named `name` (the egress proxy targets it)."""
    return physical_name(name, "saas", kind="gcp_service_account")


def workload_service_account(name: str, project: str) -> str:
    return f"{workload_account_id(name)}@{project}.iam.gserviceaccount.com"


@dataclass(frozen=True)
class StoredKey:
    """Where a use case's API key is kept, who reads it, and how its calls get out."""

    secret_ref: pulumi.Output[str]
    workload_identity: pulumi.Output[str]
    proxy: pulumi.Output[str] | None = None
    """An HTTPS proxy the workload must use; None where routing sends traffic to the firewall."""


KeyStoreBuilder = Callable[[str, "SaasEgressArgs", pulumi.ResourceOptions], StoredKey]
"""`(component name, args, child options) -> StoredKey`: the cloud's key store, built as the component's child."""


@dataclass
class SaasEgressArgs:
    base_url: str
    hosts: Sequence[str]
    """The provider's API hosts; each must be allowed by `egress`."""
    api_key: pulumi.Input[str]
    """A secret Output; it only ever reaches the secret store's value input."""
    network: AwsNetworkRef | AzureNetworkRef | GcpNetworkRef
    egress: EgressFirewall
    """The network's shared egress firewall (one per network, created by the stack composition)."""
    allowed_principals: Sequence[str]
    external_rotation: bool = False
    kms_key: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    key_store: KeyStoreBuilder | None = None
    """The cloud's key store (its seam's `key_store`, `stacks.clouds`)."""


class SaasEgress(pulumi.ComponentResource):
    base_url: pulumi.Output[str]
    secret_ref: pulumi.Output[str]
    egress_ips: pulumi.Output[list[str]]
    workload_identity: pulumi.Output[str]
    proxy: pulumi.Output[str] | None
    """GCP: the HTTPS proxy the workload must use; None where routing sends traffic to the firewall."""

    def __init__(self, name: str, args: SaasEgressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:saas:SaasEgress", name, None, tagged(opts, args.tags))
        blocked = [h for h in args.hosts if not any(host_matches(a, h) for a in args.egress.allowed_hosts)]
        if blocked:
            raise ValueError(
                f"{name}: the egress firewall does not allow {', '.join(blocked)}; its allowlist must "
                "include every SaaS use case's hosts"
            )
        if args.key_store is None:
            raise ValueError(f"{name}: key_store is required (the cloud's key store, from its seam)")
        stored = args.key_store(name, args, pulumi.ResourceOptions(parent=self))
        self.secret_ref = stored.secret_ref
        self.workload_identity = stored.workload_identity
        self.proxy = stored.proxy
        self.base_url = pulumi.Output.from_input(args.base_url)
        self.egress_ips = args.egress.egress_ips
        outputs: dict[str, pulumi.Input[object]] = {
            "base_url": self.base_url,
            "secret_ref": self.secret_ref,
            "egress_ips": self.egress_ips,
            "workload_identity": self.workload_identity,
        }
        if self.proxy is not None:
            outputs["proxy"] = self.proxy
        self.register_outputs(outputs)
