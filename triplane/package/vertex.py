"""`VertexPrivateEndpoint`: Triplane's `VertexEndpoint` for a VPC network the caller already has.

Builds the internal component from plain inputs: the project's Vertex AI settings (API on, Data
Access audit logs, no data caching), Private Service Connect for Google APIs with its private DNS
zone on the network, a workload service account with `roles/aiplatform.user` only, a Cloud KMS key
(unless one is given) for Vertex resources and logs, and a CMEK-encrypted log bucket receiving the
use case's audit records. Each allowed member may act as the workload service account.
"""

import ipaddress
from typing import NotRequired, TypedDict

import pulumi

from triplane.components.cloud_managed.google_apis_psc import TARGETS
from triplane.components.cloud_managed.vertex import VertexEndpoint, VertexEndpointArgs
from triplane.components.network.refs import GcpNetworkRef
from triplane.package.inputs import Inputs

GCP_PROJECT = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
GCP_REGION = r"[a-z]+-[a-z]+\d+"
IAM_MEMBER = r"(user|serviceAccount|group|principal|principalSet):\S+"


class VertexPrivateEndpointArgs(TypedDict):
    """Where the endpoint goes, which models it is for and who may call them."""

    project: str
    """Google Cloud project ID that hosts the network and calls Vertex AI."""
    region: str
    """Vertex AI region, e.g. `europe-west4`; the URL, key and log bucket are created there."""
    network_id: pulumi.Input[str]
    """The existing VPC network (`projects/<project>/global/networks/<name>`)."""
    psc_address: str
    """An unused internal IPv4 address outside every subnet, for the Private Service Connect endpoint."""
    psc_target: NotRequired[str]
    """`all-apis` (default) or `vpc-sc` (only services VPC Service Controls supports, for use with a perimeter)."""
    models: list[str]
    """Vertex AI model names the use case calls, e.g. `gemini-2.5-flash`; recorded on the service account."""
    allowed_principals: NotRequired[list[str]]
    """IAM members (`serviceAccount:...`, or Workload Identity members) allowed to act as the workload account."""
    kms_key: NotRequired[pulumi.Input[str]]
    """Existing Cloud KMS key in the region (`projects/.../cryptoKeys/...`); a rotating key is created when omitted."""
    log_retention_days: NotRequired[int]
    """Retention of the audit log bucket, in days (default 365)."""
    protect_data: NotRequired[bool]
    """Protect the key and the log bucket from deletion (for production)."""
    tags: dict[str, str]
    """Labels for every resource: `owner`, `cost-center`, `environment`, `use-case`, `data-classification`."""


class VertexPrivateEndpoint(pulumi.ComponentResource):
    """Private, least-privilege access to Vertex AI from an existing VPC network: Private Service Connect for
    Google APIs, a workload service account, a customer-managed key and audit logs in their own bucket."""

    url: pulumi.Output[str]
    """`https://<region>-aiplatform.googleapis.com`, once the private DNS records exist."""
    service_account_email: pulumi.Output[str]
    """The workload service account the application runs as."""
    kms_key: pulumi.Output[str]
    """The Cloud KMS key for Vertex AI resources the application creates (CMEK)."""
    logs: pulumi.Output[str]
    """The log bucket holding this use case's Vertex AI audit records."""

    def __init__(
        self, name: str, args: VertexPrivateEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("triplane:index:VertexPrivateEndpoint", name, None, opts)
        given = Inputs("VertexPrivateEndpoint", name, args)
        address = given.text("psc_address", "pscAddress", hint="an internal IPv4 address such as 10.255.0.2")
        if not _private_ipv4(address):
            raise given.error("pscAddress", f"{address!r} is not a private IPv4 address; pick an unused internal one")
        principals = given.strings("allowed_principals", "allowedPrincipals", pattern=IAM_MEMBER,
                                   hint="an IAM member such as serviceAccount:app@<project>.iam.gserviceaccount.com")
        network_id = args["network_id"]
        # Vertex AI is reached through the network's Private Service Connect endpoint and DNS zone:
        # no subnet and no source range of the network takes part.
        network = GcpNetworkRef(
            project=given.text("project", "project", pattern=GCP_PROJECT, hint="a project ID such as acme-ml-prod"),
            region=given.text("region", "region", pattern=GCP_REGION, hint="a region such as europe-west4"),
            network_id=network_id,
            subnetwork_id=network_id,
            application_cidrs=(),
        )
        endpoint = VertexEndpoint(
            name,
            VertexEndpointArgs(
                network=network,
                models=given.strings("models", "models", minimum=1, pattern=r"[\w.@-]+",
                                     hint="a Vertex AI model name such as gemini-2.5-flash"),
                allowed_principals=principals,
                kms_key=args.get("kms_key"),
                tags=given.tags("cloud-managed"),
                protect_data=given.flag("protect_data", "protectData", False),
                log_retention_days=given.integer("log_retention_days", "logRetentionDays", 365, minimum=1),
                psc_target=given.choice("psc_target", "pscTarget", tuple(TARGETS), "all-apis"),
                psc_address=address,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for member in principals:
            endpoint.grant_invoke(member)
        self.url = endpoint.url
        self.service_account_email = endpoint.service_account_email
        self.kms_key = endpoint.kms_key
        self.logs = endpoint.logs
        self.register_outputs({
            "url": self.url,
            "service_account_email": self.service_account_email,
            "kms_key": self.kms_key,
            "logs": self.logs,
        })


def _private_ipv4(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.version == 4 and address.is_private
