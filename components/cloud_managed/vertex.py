"""`VertexEndpoint`: one use case's private, least-privilege access to Vertex AI models.

Creates:
- the project's Vertex settings (a `VertexProject`: API, Data Access audit logs, no data caching,
  optional perimeter) and the VPC's Google APIs path (a `GoogleApisPrivateAccess`), unless shared
  ones are passed in;
- a workload service account with `roles/aiplatform.user` on the project and nothing else;
- a Cloud KMS key (unless `kms_key` is given) usable by the Vertex AI service agent (the CMEK for
  Vertex resources the application creates) and by Cloud Logging;
- a CMEK-encrypted log bucket with retention and a sink that copies this use case's Vertex AI audit
  records (those made as its service account) into it.

`grant_invoke(member)` lets an IAM member act as the workload service account: Workload Identity
members get `roles/iam.workloadIdentityUser`, others `roles/iam.serviceAccountTokenCreator`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import kms as gcp_kms
from pulumi_gcp import logging as gcp_logging
from pulumi_gcp import projects as gcp_projects
from pulumi_gcp import serviceaccount as gcp_serviceaccount

from triplane.components.cloud_managed.google_apis_psc import GoogleApisPrivateAccess, GoogleApisPrivateAccessArgs
from triplane.components.cloud_managed.vertex_project import AIPLATFORM, VertexProject, VertexProjectArgs
from triplane.components.keys import gcp_key
from triplane.components.naming import physical_name
from triplane.components.network.refs import GcpNetworkRef
from triplane.components.references import GoogleApisReference, VertexProjectReference
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

INVOKE_ROLE = "roles/aiplatform.user"
KMS_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
_WORKLOAD_IDENTITY = re.compile(r"^(principal://|principalSet://|serviceAccount:[^@\s]+\.svc\.id\.goog\[)")


@dataclass(frozen=True)
class VertexEndpointArgs:
    network: GcpNetworkRef
    models: Sequence[str]
    """Vertex model names (`gemini-3.5-flash`); recorded on the service account's description."""
    allowed_principals: Sequence[str] = ()
    """IAM members; the stack grants each one through `grant_invoke`."""
    kms_key: pulumi.Input[str] | None = None
    """`projects/<p>/locations/<region>/keyRings/<r>/cryptoKeys/<k>`, in the network's region."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    log_retention_days: int = 365
    psc_target: str = "all-apis"
    psc_address: str | None = None
    private_access: GoogleApisPrivateAccess | GoogleApisReference | None = None
    project_settings: VertexProject | VertexProjectReference | None = None


class VertexEndpoint(pulumi.ComponentResource):
    """Vertex AI for one use case: private path, workload identity, CMEK, audit logs."""

    url: pulumi.Output[str]
    """`https://<region>-aiplatform.googleapis.com`, once the private DNS records exist."""
    service_account_email: pulumi.Output[str]
    kms_key: pulumi.Output[str]
    logs: pulumi.Output[str]
    """The log bucket holding this use case's Vertex AI audit records."""

    def __init__(self, name: str, args: VertexEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:cloudmanaged:VertexEndpoint", name, None, tagged(opts, args.tags))
        if not args.models:
            raise ValueError(f"{name}: list at least one model")
        self._name = name
        self._grants: dict[str, gcp_serviceaccount.IAMMember] = {}
        network = args.network
        project, region = network.project, network.region
        child = pulumi.ResourceOptions(parent=self)

        settings = args.project_settings or VertexProject(
            f"{name}-project", VertexProjectArgs(project=project), opts=child
        )
        private_access = args.private_access or GoogleApisPrivateAccess(
            f"{name}-googleapis",
            GoogleApisPrivateAccessArgs(
                network=network, target=args.psc_target, address=args.psc_address, tags=args.tags
            ),
            opts=child,
        )

        self.service_account = gcp_serviceaccount.Account(
            f"{name}-workload",
            project=project,
            account_id=physical_name(name, "vertex", kind="gcp_service_account"),
            display_name=f"{name} Vertex AI workload",
            description=f"Calls Vertex AI models for {name}: {', '.join(args.models)}"[:256],
            opts=child,
        )
        gcp_projects.IAMMember(
            f"{name}-aiplatform-user",
            project=project,
            role=INVOKE_ROLE,
            member=self.service_account.member,
            opts=child,
        )

        key_id, vertex_agent, logging_agent = self._key(name, args, settings)

        bucket_id, bucket, sink = self._audit_log(name, args, key_id, logging_agent)

        self.url = pulumi.Output.all(private_access.ready, vertex_agent.id).apply(
            lambda _: f"https://{region}-aiplatform.googleapis.com"
        )
        self.service_account_email = self.service_account.email
        self._service_account_path = self.service_account.email.apply(
            lambda email: f"projects/{project}/serviceAccounts/{email}"
        )
        self.kms_key = key_id
        self.logs = pulumi.Output.all(sink.id, bucket.id).apply(
            lambda _: f"projects/{project}/locations/{region}/buckets/{bucket_id}"
        )
        self.register_outputs(
            {
                "url": self.url,
                "service_account_email": self.service_account_email,
                "kms_key": self.kms_key,
                "logs": self.logs,
            }
        )

    def _key(
        self, name: str, args: VertexEndpointArgs, settings: VertexProject | VertexProjectReference
    ) -> tuple[pulumi.Output[str], gcp_kms.CryptoKeyIAMMember, gcp_kms.CryptoKeyIAMMember]:
        """The key (the given one, or a new one) and the grants that let the Vertex AI agent and the
        project's logging identity use it."""
        if isinstance(settings, VertexProject):
            agent_member: pulumi.Input[str] = settings.agent.member
            agent_after: list[pulumi.Resource] = [settings.agent]
        else:  # the platform stack's agent, long created
            agent_member, agent_after = settings.agent_member, []
        project, region = args.network.project, args.network.region
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        if args.kms_key is None:
            key = gcp_key(
                name,
                parent=self,
                project=project,
                location=region,
                ring_name=physical_name(name, "vertex", kind="gcp"),
                key_name="vertex",
                protect=args.protect_data,
            )
            key_id: pulumi.Output[str] = key.id
        else:
            key_id = pulumi.Output.from_input(args.kms_key)
        logging_identity = gcp_logging.get_project_cmek_settings_output(project=project, opts=invoke).service_account_id
        vertex_agent = gcp_kms.CryptoKeyIAMMember(
            f"{name}-key-vertex",
            crypto_key_id=key_id,
            role=KMS_ROLE,
            member=agent_member,
            opts=pulumi.ResourceOptions(parent=self, depends_on=agent_after),
        )
        logging_agent = gcp_kms.CryptoKeyIAMMember(
            f"{name}-key-logging",
            crypto_key_id=key_id,
            role=KMS_ROLE,
            member=logging_identity.apply(lambda sa: f"serviceAccount:{sa}"),
            opts=child,
        )
        return key_id, vertex_agent, logging_agent

    def _audit_log(
        self,
        name: str,
        args: VertexEndpointArgs,
        key_id: pulumi.Output[str],
        logging_agent: gcp_kms.CryptoKeyIAMMember,
    ) -> tuple[str, gcp_logging.ProjectBucketConfig, gcp_logging.ProjectSink]:
        """A log bucket under the key and the sink that sends it the Vertex AI audit records made as the
        workload's service account."""
        project, region = args.network.project, args.network.region
        child = pulumi.ResourceOptions(parent=self)
        stateful = stateful_opts(self, args.protect_data)
        bucket_id = physical_name(name, "vertex-audit", kind="gcp")
        bucket = gcp_logging.ProjectBucketConfig(
            f"{name}-log-bucket",
            project=project,
            location=region,
            bucket_id=bucket_id,
            description=f"Vertex AI audit records of {name}",
            retention_days=args.log_retention_days,
            cmek_settings={"kms_key_name": key_id},
            opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(depends_on=[logging_agent])),
        )
        sink = gcp_logging.ProjectSink(
            f"{name}-log-sink",
            project=project,
            name=physical_name(name, "vertex-audit", kind="gcp"),
            description=f"Vertex AI audit records made as {name}'s workload identity",
            destination=pulumi.Output.concat(
                "logging.googleapis.com/projects/", project, "/locations/", region, "/buckets/", bucket.bucket_id
            ),
            filter=self.service_account.email.apply(
                lambda email: (
                    f'protoPayload.serviceName="{AIPLATFORM}" AND '
                    f'protoPayload.authenticationInfo.principalEmail="{email}"'
                )
            ),
            unique_writer_identity=True,
            opts=child,
        )
        return bucket_id, bucket, sink

    def grant_invoke(self, member: str) -> gcp_serviceaccount.IAMMember:
        """Let `member` act as the workload service account (and so call Vertex AI, and nothing more)."""
        if member in self._grants:
            return self._grants[member]
        role = (
            "roles/iam.workloadIdentityUser"
            if _WORKLOAD_IDENTITY.match(member)
            else "roles/iam.serviceAccountTokenCreator"
        )
        grant = gcp_serviceaccount.IAMMember(
            f"{self._name}-grant-{physical_name(member, kind='gcp')}",
            service_account_id=self._service_account_path,
            role=role,
            member=member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._grants[member] = grant
        return grant
