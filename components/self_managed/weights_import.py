"""The weights' other path in: a Job that copies a model snapshot once from an in-region bucket.

Air-gapped sites (and any site that keeps weights it has reviewed) put the snapshot of a pinned
revision (config.json, tokenizer files, safetensors) under a bucket prefix. This Job copies it once
into the model cache claim, the server's Deployment waits for it, and the server then loads the
local directory with `HF_HUB_OFFLINE=1`, as it does after a hub download. The Job:

- runs the cloud's own CLI (`aws s3 sync`, `gcloud storage rsync`, `az storage blob
  download-batch`), pulled through the cluster's `ImageSource` like every other image; a re-run copies
  only what is missing (the Azure one nothing, once its download has been renamed into place);
- has its own ServiceAccount, the only one bound to the cloud identity that may read that prefix
  (the server's ServiceAccount gets nothing);
- runs as an unprivileged user (Pod Security `restricted`) whatever the server's engine needs;
- reaches the bucket over the cloud's private path (the S3 gateway endpoint, Private Google Access
  on the private `googleapis.com.` zone, the storage account's blob private endpoint), never the
  egress firewall. On GKE the Job may reach only the Private Service Connect address every
  `*.googleapis.com` name resolves to; NetworkPolicy cannot name a gateway endpoint's prefix list or a
  host, so on EKS (and on AKS, for the sign-in) the Job may send HTTPS to public addresses, where in a
  network Triplane creates only that private route and the egress firewall's allowlist lead; it also
  talks to the node's credential agent. Its NetworkPolicy says which (`EGRESS_PATH_ANNOTATION`);
- on AKS alone gets one allowlist entry: Entra ID's sign-in (`login.microsoftonline.com`), where the
  workload identity exchanges its token, has no private endpoint.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_azure_native import authorization as azure_authorization
from pulumi_azure_native import managedidentity as azure_managedidentity
from pulumi_gcp import serviceaccount as gcp_serviceaccount
from pulumi_gcp import storage as gcp_storage
from pulumi_kubernetes import batch as k8s_batch
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import networking as k8s_networking

from triplane.components.network.azure_private_link import EndpointSubnet, PrivateLinkService, private_endpoint_with_dns
from triplane.components.self_managed.eks_control_plane import role_trust
from triplane.components.self_managed.engines import (
    CACHE_PATH,
    NON_ROOT,
    TMP_PATH,
    container_security_context,
    pod_security_context,
)
from triplane.components.self_managed.weights import (
    EGRESS_HOSTS_ANNOTATION,
    EGRESS_PATH_ANNOTATION,
    dns_egress_rule,
    public_https_egress_rule,
)

MODELS_PATH = f"{CACHE_PATH}/models"
"""Where imported snapshots live in the cache, one directory per model and revision."""
IMPORT_COMPONENT = "weights-import"
WEIGHTS_SOURCE_ANNOTATION = "triplane.io/weights-source"
"""`bucket` on an import Job: the deployability pass reads it as the claim's filler, not a hub download."""
WEIGHTS_BUCKET_ANNOTATION = "triplane.io/weights-bucket"
WEIGHTS_PATH_ANNOTATION = "triplane.io/weights-path"
"""`created`: the private path is in this plan; `declared`: the stack states it exists."""

EKS_POD_IDENTITY_AGENT = "169.254.170.23/32"
"""Where EKS Pod Identity's node agent hands out the role's credentials (HTTP, port 80)."""
GKE_METADATA_SERVER = ("169.254.169.254/32", 80)
GKE_METADATA_SERVER_DATAPLANE_V2 = ("169.254.169.252/32", 988)
"""The GKE metadata server answering Workload Identity token requests (the second on Dataplane V2)."""


def model_directory(model_id: str, revision: str) -> str:
    """The local directory the snapshot is copied to, and the one the server loads."""
    return f"{MODELS_PATH}/{model_id.replace('/', '--')}/{revision}"


@dataclass
class WeightsImport:
    """How one service's snapshot gets from its bucket into the cache."""

    uri: str
    """`s3://bucket/prefix` or `gs://bucket/prefix`."""
    image: pulumi.Input[str]
    command: Sequence[str]
    model_path: str
    """The directory the command fills and the server loads (`model_directory`)."""
    env: Sequence[Mapping[str, Any]] = ()
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    credential_endpoints: Sequence[tuple[str, int]] = ()
    """Link-local addresses and ports of the node's credential agent, the one private egress allowed."""
    private_path: str = "created"
    """`created` (in this plan) or `declared` (the stack states it): what the policy pack checks."""
    private_cidrs: Sequence[pulumi.Input[str]] = ()
    """Private ranges holding the storage's private endpoint, reached on 443 (Azure)."""
    egress_hosts: Sequence[str] = ()
    """Hosts outside the private path the identity needs (Entra ID's sign-in), through the egress firewall."""
    egress_path: str = "firewall"
    """How those hosts are reached: `firewall` (Triplane's, built before the Job) or `declared`."""
    public_path: str = "firewall"
    """Where HTTPS to public addresses leads (the NetworkPolicy's `EGRESS_PATH_ANNOTATION`): `firewall` (a
    network Triplane creates: the storage's private route and the egress firewall's allowlist, nothing else),
    `declared` (an existing network), or `private`: no public egress at all, only `private_cidrs`."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels an identity webhook keys on (AKS workload identity's `azure.workload.identity/use`)."""
    after: Sequence[pulumi.Resource] = ()
    """The identity, its grant and any egress path, which must exist before the Job asks for credentials."""
    timeout_seconds: int = 3600


@dataclass
class ImportJobArgs:
    weights: WeightsImport
    namespace: str
    app: str
    claim_name: str
    labels: Mapping[str, str]
    node_selector: Mapping[str, str]
    toleration_keys: Sequence[str]


def import_service_account(app: str) -> str:
    """The Job's ServiceAccount: the name the cloud identity is bound to before the Job exists."""
    return f"{app}-weights"


def import_selector(app: str) -> dict[str, str]:
    """Labels of the Job's pods: never the server's, so its Service and policies do not select them."""
    return {"app.kubernetes.io/name": "model-weights-import", "app.kubernetes.io/instance": app}


def import_job(
    name: str, args: ImportJobArgs, opts: pulumi.ResourceOptions
) -> k8s_batch.v1.Job:
    """The ServiceAccount, NetworkPolicy and Job that copy the snapshot before the server starts."""
    weights = args.weights
    selector = import_selector(args.app)
    labels: dict[str, str] = {**args.labels, **selector, "app.kubernetes.io/component": IMPORT_COMPONENT}
    account_name = import_service_account(args.app)
    account = k8s_core.v1.ServiceAccount(
        f"{name}-weights-sa",
        metadata={
            "name": account_name,
            "namespace": args.namespace,
            "labels": labels,
            "annotations": dict(weights.service_account_annotations),
        },
        automount_service_account_token=False,
        opts=opts,
    )
    # Fragments typed Any, as elsewhere: mypy's inference over the SDK's nested typed dicts is slow.
    policy_meta: Any = {
        "name": f"{args.app}-weights-import-egress",
        "namespace": args.namespace,
        "labels": labels,
        # What the policy pack checks for restricted data: where the allowed egress leads.
        "annotations": {
            EGRESS_PATH_ANNOTATION: weights.public_path,
            **({EGRESS_HOSTS_ANNOTATION: ",".join(weights.egress_hosts)} if weights.egress_hosts else {}),
        },
    }
    policy_spec: Any = {
        "pod_selector": {"match_labels": selector},
        "policy_types": ["Egress"],
        "egress": _import_egress(weights),
    }
    k8s_networking.v1.NetworkPolicy(f"{name}-weights-import-egress", metadata=policy_meta, spec=policy_spec, opts=opts)
    pod_spec = _import_pod_spec(args, account_name)
    # Node scale-up (a GPU pool at zero) comes on top of the copy itself.
    wait = weights.timeout_seconds + 900
    job_meta = _import_job_meta(args, labels, wait)
    job_spec: Any = {
        "backoff_limit": 4,
        "active_deadline_seconds": wait,
        "template": {"metadata": {"labels": {**labels, **weights.pod_labels}}, "spec": pod_spec},
    }
    return k8s_batch.v1.Job(
        f"{name}-weights-import",
        metadata=job_meta,
        spec=job_spec,
        # A Job's pod template cannot change in place: a new revision replaces it under the same name.
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(delete_before_replace=True, depends_on=[account, *weights.after]),
        ),
    )


def _import_egress(weights: WeightsImport) -> list[dict[str, Any]]:
    """Where the import Job may connect: DNS, the credential endpoints, the storage's private path and,
    unless that path is private only, HTTPS to public addresses."""
    egress: list[dict[str, Any]] = [dns_egress_rule()]
    for cidr, port in weights.credential_endpoints:
        egress.append({"to": [{"ip_block": {"cidr": cidr}}], "ports": [{"protocol": "TCP", "port": port}]})
    if weights.private_cidrs:
        egress.append(
            {
                "to": [{"ip_block": {"cidr": cidr}} for cidr in weights.private_cidrs],
                "ports": [{"protocol": "TCP", "port": 443}],
            }
        )
    if weights.public_path != "private":
        # NetworkPolicy cannot name the S3 gateway's prefix list or a host: HTTPS to public addresses, where
        # the network routes only to the storage service's private path (and its egress firewall's allowlist).
        egress.append(public_https_egress_rule())
    return egress


def _import_pod_spec(args: ImportJobArgs, account_name: str) -> Any:
    """The copy's pod: non-root, read-only root filesystem, the cache claim mounted, on the GPU nodes."""
    weights = args.weights
    container: Any = {
        "name": "import",
        "image": weights.image,
        "image_pull_policy": "IfNotPresent",
        "command": list(weights.command),
        "env": [
            {"name": "HOME", "value": TMP_PATH},
            # Not HF_HUB_OFFLINE: this Job reaches no hub; the annotation says what it is.
            *(dict(e) for e in weights.env),
        ],
        "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        "security_context": container_security_context(NON_ROOT),
        "volume_mounts": [
            {"name": "model-cache", "mount_path": CACHE_PATH},
            {"name": "tmp", "mount_path": TMP_PATH},
        ],
    }
    pod_spec: Any = {
        "service_account_name": account_name,
        # The clouds' identity webhooks project their own audience-bound token; no API token is needed.
        "automount_service_account_token": False,
        "enable_service_links": False,
        "restart_policy": "OnFailure",
        "security_context": pod_security_context(NON_ROOT),
        "tolerations": [{"key": key, "operator": "Exists"} for key in args.toleration_keys],
        "containers": [container],
        "volumes": [
            {"name": "model-cache", "persistent_volume_claim": {"claim_name": args.claim_name}},
            {"name": "tmp", "empty_dir": {"size_limit": "1Gi"}},
        ],
    }
    if args.node_selector:
        pod_spec["node_selector"] = dict(args.node_selector)
    return pod_spec


def _import_job_meta(args: ImportJobArgs, labels: dict[str, str], wait: int) -> Any:
    """The Job's name (the hub download's) and the annotations the policy pack reads."""
    weights = args.weights
    job_meta: Any = {
        # The hub download's name: a service has one filler or the other, never both.
        "name": f"{args.app}-weights",
        "namespace": args.namespace,
        "labels": labels,
        "annotations": {
            "pulumi.com/timeoutSeconds": str(wait),
            WEIGHTS_SOURCE_ANNOTATION: "bucket",
            WEIGHTS_BUCKET_ANNOTATION: weights.uri,
            WEIGHTS_PATH_ANNOTATION: weights.private_path,
            # Hosts beyond the private path, which the policy pack checks against the egress allowlist.
            **(
                {
                    EGRESS_HOSTS_ANNOTATION: ",".join(weights.egress_hosts),
                    EGRESS_PATH_ANNOTATION: weights.egress_path,
                }
                if weights.egress_hosts
                else {}
            ),
        },
    }
    return job_meta


# --- AWS: S3 over the gateway endpoint, EKS Pod Identity -------------------------------------------


def s3_read_policy(bucket: str, prefix: str, kms_key_arn: str | None = None) -> str:
    """Read one prefix of one bucket, and list only under it; decrypt with the named key, if any."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadSnapshot",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{bucket}/{prefix}/*"],
        },
        {
            "Sid": "ListSnapshot",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}"],
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
    ]
    if kms_key_arn is not None:
        statements.append(
            {
                "Sid": "DecryptSnapshot",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [kms_key_arn],
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{kms_key_arn.split(':')[3]}.amazonaws.com"}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


POD_IDENTITY_TRUST = role_trust("pods.eks.amazonaws.com")


@dataclass
class S3Import:
    bucket: str
    prefix: str
    region: str
    cluster_name: pulumi.Input[str]
    namespace: str
    app: str
    image: pulumi.Input[str]
    model_path: str
    kms_key_arn: str | None = None
    pod_identity_agent: pulumi.Resource | None = None
    """The cluster's Pod Identity agent add-on: associations are honoured only once it runs."""
    private_path: str = "created"
    public_path: str = "firewall"
    """`firewall`: the VPC is Triplane's (no way out but its egress firewall); `declared`: an existing one."""
    tags: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: int = 3600


def s3_import(name: str, args: S3Import, opts: pulumi.ResourceOptions) -> WeightsImport:
    """A role only the Job's ServiceAccount assumes (EKS Pod Identity), allowed to read the prefix."""
    role = aws_iam.Role(f"{name}-weights-role", assume_role_policy=POD_IDENTITY_TRUST, tags=dict(args.tags), opts=opts)
    policy = aws_iam.RolePolicy(
        f"{name}-weights-read",
        role=role.id,
        policy=s3_read_policy(args.bucket, args.prefix, args.kms_key_arn),
        opts=opts,
    )
    association = aws_eks.PodIdentityAssociation(
        f"{name}-weights-identity",
        cluster_name=args.cluster_name,
        namespace=args.namespace,
        service_account=import_service_account(args.app),
        role_arn=role.arn,
        tags=dict(args.tags),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[args.pod_identity_agent] if args.pod_identity_agent else [])
        ),
    )
    return WeightsImport(
        uri=f"s3://{args.bucket}/{args.prefix}",
        image=args.image,
        command=["aws", "s3", "sync", f"s3://{args.bucket}/{args.prefix}", args.model_path, "--only-show-errors"],
        model_path=args.model_path,
        env=[
            # The regional endpoint, which the VPC's S3 gateway endpoint serves.
            {"name": "AWS_REGION", "value": args.region},
            {"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
        ],
        credential_endpoints=[(EKS_POD_IDENTITY_AGENT, 80)],
        private_path=args.private_path,
        public_path=args.public_path,
        after=[policy, association],
        timeout_seconds=args.timeout_seconds,
    )


# --- Google Cloud: Cloud Storage over Private Google Access, GKE Workload Identity -----------------


@dataclass
class GcsImport:
    bucket: str
    prefix: str
    project: str
    namespace: str
    app: str
    account_id: str
    """The Google service account's ID (6 to 30 characters)."""
    image: pulumi.Input[str]
    model_path: str
    googleapis_address: pulumi.Input[str] | None = None
    """The private googleapis endpoint's internal address: the Job then reaches it alone (no public egress)."""
    public_path: str = "firewall"
    """Without the address: `firewall` (a network Triplane creates) or `declared` (an existing one)."""
    timeout_seconds: int = 3600


def gcs_import(name: str, args: GcsImport, opts: pulumi.ResourceOptions) -> WeightsImport:
    """A Google service account that may read the bucket, impersonated only by the Job's ServiceAccount."""
    account = gcp_serviceaccount.Account(
        f"{name}-weights-sa",
        account_id=args.account_id,
        project=args.project,
        display_name=f"Weights import of {args.namespace}",
        description=f"Reads gs://{args.bucket}/{args.prefix} into the model cache (GKE Workload Identity)",
        opts=opts,
    )
    reader = gcp_storage.BucketIAMMember(
        f"{name}-weights-read",
        bucket=args.bucket,
        role="roles/storage.objectViewer",
        member=account.email.apply(lambda email: f"serviceAccount:{email}"),
        opts=opts,
    )
    subject = f"serviceAccount:{args.project}.svc.id.goog[{args.namespace}/{import_service_account(args.app)}]"
    binding = gcp_serviceaccount.IAMMember(
        f"{name}-weights-workload-identity",
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member=subject,
        opts=opts,
    )
    return WeightsImport(
        uri=f"gs://{args.bucket}/{args.prefix}",
        image=args.image,
        command=["gcloud", "storage", "rsync", "--recursive", f"gs://{args.bucket}/{args.prefix}", args.model_path],
        model_path=args.model_path,
        env=[
            {"name": "CLOUDSDK_CONFIG", "value": f"{TMP_PATH}/gcloud"},
            {"name": "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING", "value": "true"},
        ],
        service_account_annotations={"iam.gke.io/gcp-service-account": account.email},
        credential_endpoints=[GKE_METADATA_SERVER, GKE_METADATA_SERVER_DATAPLANE_V2],
        # Every *.googleapis.com name resolves to the Private Service Connect address: that address alone.
        private_cidrs=[pulumi.Output.concat(args.googleapis_address, "/32")] if args.googleapis_address else [],
        public_path="private" if args.googleapis_address else args.public_path,
        after=[reader, binding],
        timeout_seconds=args.timeout_seconds,
    )


# --- Azure: Blob Storage over its private endpoint, AKS workload identity --------------------------

BLOB_ZONE = "privatelink.blob.core.windows.net"
BLOB_LINK = PrivateLinkService(zone=BLOB_ZONE, group_id="blob", zone_config="blob", stem="blob")
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
ENTRA_TOKEN_AUDIENCE = "api://AzureADTokenExchange"
BLOB_SCRIPT = """\
set -eu
dest="$1"; account="$2"; container="$3"; prefix="$4"
if [ -e "$dest/config.json" ]; then echo "$dest is already imported"; exit 0; fi
az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \\
  --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions --output none
staging="$(dirname "$dest")/.importing"
rm -rf "$staging"; mkdir -p "$staging"
az storage blob download-batch --auth-mode login --account-name "$account" --source "$container" \\
  --pattern "$prefix/*" --destination "$staging" --no-progress --output none
rm -rf "$dest"; mv "$staging/$prefix" "$dest"; rm -rf "$staging"
"""
"""Downloads the prefix beside the model directory and renames it into place, so a directory with a
config.json is a finished import and a re-run does nothing (download-batch keeps blob paths whole)."""


@dataclass
class BlobImport:
    account: str
    container: str
    prefix: str
    storage_account_id: str
    """`/subscriptions/<id>/resourceGroups/<g>/providers/Microsoft.Storage/storageAccounts/<account>`."""
    resource_group_name: pulumi.Input[str]
    location: str
    oidc_issuer_url: pulumi.Input[str]
    namespace: str
    app: str
    image: pulumi.Input[str]
    model_path: str
    private_cidrs: Sequence[pulumi.Input[str]]
    create_endpoint: bool = False
    """Create the blob private endpoint and its DNS zone; else the network already has them (declared)."""
    vnet_id: pulumi.Input[str] | None = None
    endpoint_subnet_id: pulumi.Input[str] | None = None
    egress_after: Sequence[pulumi.Resource] = ()
    """The egress firewall that lets the Job sign in to Entra ID; empty: the stack declares the path."""
    tags: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: int = 3600


def container_scope(storage_account_id: str, container: str) -> str:
    return f"{storage_account_id}/blobServices/default/containers/{container}"


def blob_import(name: str, args: BlobImport, opts: pulumi.ResourceOptions) -> WeightsImport:
    """A managed identity trusted only for the Job's ServiceAccount, allowed to read one container."""
    tags = dict(args.tags)
    identity = azure_managedidentity.UserAssignedIdentity(
        f"{name}-weights-identity",
        resource_group_name=args.resource_group_name,
        location=args.location,
        tags=tags,
        opts=opts,
    )
    credential = azure_managedidentity.FederatedIdentityCredential(
        f"{name}-weights-federation",
        resource_group_name=args.resource_group_name,
        resource_name_=identity.name,
        federated_identity_credential_resource_name="weights-import",
        issuer=args.oidc_issuer_url,
        subject=f"system:serviceaccount:{args.namespace}:{import_service_account(args.app)}",
        audiences=[ENTRA_TOKEN_AUDIENCE],
        opts=opts,
    )
    subscription = args.storage_account_id.split("/")[2]
    reader = azure_authorization.RoleAssignment(
        f"{name}-weights-read",
        scope=container_scope(args.storage_account_id, args.container),
        principal_id=identity.principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=(
            f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_READER}"
        ),
        role_assignment_name=str(uuid.uuid5(uuid.NAMESPACE_URL, f"triplane/{name}/weights-read")),
        opts=opts,
    )
    after: list[pulumi.Resource] = [credential, reader, *args.egress_after]
    if args.create_endpoint:
        after.append(_blob_endpoint(name, args, tags, opts))
    return WeightsImport(
        uri=f"https://{args.account}.blob.core.windows.net/{args.container}/{args.prefix}",
        image=args.image,
        # The script's arguments stay arguments: nothing from the spec is spliced into shell text.
        command=["bash", "-c", BLOB_SCRIPT, "import", args.model_path, args.account, args.container, args.prefix],
        model_path=args.model_path,
        env=[{"name": "AZURE_CONFIG_DIR", "value": f"{TMP_PATH}/azure"}],
        service_account_annotations={"azure.workload.identity/client-id": identity.client_id},
        pod_labels={"azure.workload.identity/use": "true"},
        private_cidrs=args.private_cidrs,
        egress_hosts=("login.microsoftonline.com",),
        egress_path="firewall" if args.egress_after else "declared",
        public_path="firewall" if args.egress_after else "declared",
        private_path="created" if args.create_endpoint else "declared",
        after=after,
        timeout_seconds=args.timeout_seconds,
    )


def _blob_endpoint(
    name: str, args: BlobImport, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> pulumi.Resource:
    """The storage account's blob private endpoint, and the zone that resolves its name to it."""
    assert args.vnet_id is not None and args.endpoint_subnet_id is not None
    where = EndpointSubnet(args.resource_group_name, args.location, args.vnet_id, args.endpoint_subnet_id)
    return private_endpoint_with_dns(f"{name}-blob", name, BLOB_LINK, args.storage_account_id, where, tags, opts)
