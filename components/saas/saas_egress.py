"""SaasEgress: one use case's safe path to an external AI API.

Creates the use case's key store and workload identity in its cloud (`secret_store`) and ties them
to the environment's shared egress firewall for that network (`egress_aws`, `egress_azure`,
`egress_gcp`), which it checks already allows every host this use case needs. Its outputs are what
an application and the API vendor need: the provider's base URL, a reference to the stored key
(never the key), the static egress IPs, and the identity to run the workload as.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi

from components.naming import physical_name
from components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from components.saas.egress_aws import AwsEgressFirewall
from components.saas.egress_azure import AzureEgressFirewall
from components.saas.egress_gcp import GcpEgressProxy
from components.saas.providers import host_matches
from components.saas.secret_store import (
    AwsApiKeyStore,
    AwsApiKeyStoreArgs,
    AzureApiKeyStore,
    AzureApiKeyStoreArgs,
    GcpApiKeyStore,
    GcpApiKeyStoreArgs,
)
from components.tagging import tagged

EgressFirewall = AwsEgressFirewall | AzureEgressFirewall | GcpEgressProxy


def workload_account_id(name: str) -> str:
    """The workload service account ID of the use case named `name` (the egress proxy targets it)."""
    return physical_name(name, "saas", kind="gcp_service_account")


def workload_service_account(name: str, project: str) -> str:
    return f"{workload_account_id(name)}@{project}.iam.gserviceaccount.com"


@dataclass
class SaasEgressArgs:
    cloud: Literal["aws", "azure", "gcp"]
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
    vault_name: str | None = None
    """Azure: the Key Vault's globally unique name; defaults to one derived from the component name."""
    vault_dns_zone_id: pulumi.Input[str] | None = None
    """Azure: the shared `privatelink.vaultcore.azure.net` zone."""


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
        child = pulumi.ResourceOptions(parent=self)
        self.proxy = None
        if args.cloud == "aws":
            assert isinstance(args.network, AwsNetworkRef)
            aws_store = AwsApiKeyStore(
                name,
                AwsApiKeyStoreArgs(
                    region=args.network.region,
                    api_key=args.api_key,
                    allowed_principals=args.allowed_principals,
                    external_rotation=args.external_rotation,
                    kms_key=args.kms_key,
                    tags=args.tags,
                    protect_data=args.protect_data,
                ),
                opts=child,
            )
            self.secret_ref = aws_store.secret_arn
            self.workload_identity = aws_store.role_arn
        elif args.cloud == "azure":
            assert isinstance(args.network, AzureNetworkRef)
            assert isinstance(args.egress, AzureEgressFirewall)
            if args.vault_dns_zone_id is None:
                raise ValueError(f"{name}: vault_dns_zone_id is required on Azure (the shared vaultcore zone)")
            azure_store = AzureApiKeyStore(
                name,
                AzureApiKeyStoreArgs(
                    network=args.network,
                    api_key=args.api_key,
                    vault_name=args.vault_name or physical_name(name, "kv", kind="key_vault"),
                    private_dns_zone_id=args.vault_dns_zone_id,
                    allowed_principals=args.allowed_principals,
                    external_rotation=args.external_rotation,
                    log_workspace_id=args.egress.log_workspace_id,
                    tags=args.tags,
                    protect_data=args.protect_data,
                ),
                opts=child,
            )
            self.secret_ref = azure_store.secret_uri
            self.workload_identity = azure_store.client_id
        else:
            assert isinstance(args.network, GcpNetworkRef)
            assert isinstance(args.egress, GcpEgressProxy)
            gcp_store = GcpApiKeyStore(
                name,
                GcpApiKeyStoreArgs(
                    project=args.network.project,
                    region=args.network.region,
                    api_key=args.api_key,
                    account_id=workload_account_id(name),
                    allowed_principals=args.allowed_principals,
                    external_rotation=args.external_rotation,
                    kms_key=args.kms_key,
                    tags=args.tags,
                    protect_data=args.protect_data,
                ),
                opts=child,
            )
            self.secret_ref = gcp_store.secret_name
            self.workload_identity = gcp_store.service_account_email
            self.proxy = pulumi.Output.concat("http://", args.egress.proxy_address, ":443")
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
