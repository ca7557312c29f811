"""ArtifactRegistryCache: Artifact Registry remote repositories caching the public registries.

Nodes reach `<region>-docker.pkg.dev` through private Google API access; Artifact Registry fetches
from upstream. Creates, in the environment's region: a Cloud KMS key ring and key (90-day rotation),
the Artifact Registry service agent (`ServiceIdentity`) and its encrypter/decrypter grant on the
key; one Docker remote repository per upstream (the Docker Hub preset; custom upstream URIs for
GHCR, nvcr.io, registry.k8s.io and Quay), each encrypted with the key; for an upstream given
credentials, its token in Secret Manager (in the region, under the key, readable only by the Artifact
Registry service agent) and the repository's upstream credentials naming it. `grant_read` gives a
service account `roles/artifactregistry.reader` on every repository. Needs `artifactregistry.googleapis.com`
and `cloudkms.googleapis.com` (and `secretmanager.googleapis.com` with credentials) enabled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import artifactregistry as gcp_artifactregistry
from pulumi_gcp import kms as gcp_kms
from pulumi_gcp import projects as gcp_projects
from pulumi_gcp import secretmanager as gcp_secretmanager

from triplane.components.images import PullThroughCache
from triplane.components.keys import gcp_key
from triplane.components.naming import physical_name
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

UPSTREAMS: dict[str, tuple[str, str | None]] = {
    "docker.io": ("dockerhub", None),
    "ghcr.io": ("ghcr", "https://ghcr.io"),
    "nvcr.io": ("nvcr", "https://nvcr.io"),
    "registry.k8s.io": ("k8s", "https://registry.k8s.io"),
    "quay.io": ("quay", "https://quay.io"),
}
"""Upstream host -> (short name, custom upstream URI; None: the DOCKER_HUB preset). A repository's ID
is `<environment>-<short name>`: IDs are unique per project and region, which environments may share."""


@dataclass
class ArtifactRegistryCacheArgs:
    project: str
    region: str
    environment: str
    """Starts every repository ID."""
    credentials: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Upstream host -> secret JSON `{"username": ..., "accessToken": ...}` (optional, per upstream)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


def remote_config(
    host: str,
    credentials: gcp_artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgsDict | None = None,
) -> gcp_artifactregistry.RepositoryRemoteRepositoryConfigArgsDict:
    _, uri = UPSTREAMS[host]
    config: gcp_artifactregistry.RepositoryRemoteRepositoryConfigArgsDict = {"description": f"Cache of {host}"}
    if uri is None:
        config["docker_repository"] = {"public_repository": "DOCKER_HUB"}
    else:
        config["common_repository"] = {"uri": uri}
    if credentials is not None:
        config["upstream_credentials"] = credentials
    return config


def _field(document: str, key: str) -> str:
    value = json.loads(document).get(key) if document.strip().startswith("{") else None
    if not isinstance(value, str) or not value:
        raise ValueError(f'registry credentials must be JSON {{"username": ..., "accessToken": ...}}; {key} is missing')
    return value


class ArtifactRegistryCache(pulumi.ComponentResource):
    host: str
    """`<region>-docker.pkg.dev/<project>`: the root every cached image is under."""
    kms_key_id: pulumi.Output[str]

    def __init__(self, name: str, args: ArtifactRegistryCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:imagecache:ArtifactRegistryCache", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        key = gcp_key(
            name,
            parent=self,
            project=args.project,
            location=args.region,
            ring_name=physical_name(name, kind="gcp"),
            key_name="cached-images",
            protect=args.protect_data,
        )
        agent = gcp_projects.ServiceIdentity(
            f"{name}-agent", project=args.project, service="artifactregistry.googleapis.com", opts=child
        )
        key_grant = gcp_kms.CryptoKeyIAMMember(
            f"{name}-key-agent",
            crypto_key_id=key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=agent.member,
            opts=child,
        )
        upstream_credentials = self._credentials(name, args, key.id, agent)
        self.repositories: dict[str, gcp_artifactregistry.Repository] = {}
        self.repository_ids = {host: f"{args.environment}-{short}" for host, (short, _) in UPSTREAMS.items()}
        for host, (short, _) in UPSTREAMS.items():
            repository_id = self.repository_ids[host]
            credentials, reader = upstream_credentials.get(host, (None, None))
            self.repositories[host] = gcp_artifactregistry.Repository(
                f"{name}-{short}",
                project=args.project,
                location=args.region,
                repository_id=repository_id,
                description=f"Pull-through cache of {host}",
                format="DOCKER",
                mode="REMOTE_REPOSITORY",
                remote_repository_config=remote_config(host, credentials),
                kms_key_name=key.id,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[key_grant] if reader is None else [key_grant, reader]
                ),
            )
        self._name = name
        self._args = args
        self.host = f"{args.region}-docker.pkg.dev/{args.project}"
        self.kms_key_id = key.id
        self.register_outputs({"host": self.host, "kms_key_id": key.id})

    def _credentials(
        self, name: str, args: ArtifactRegistryCacheArgs, key_id: pulumi.Input[str], agent: gcp_projects.ServiceIdentity
    ) -> dict[
        str,
        tuple[gcp_artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgsDict, pulumi.Resource],
    ]:
        """Per upstream with credentials: its token in Secret Manager, readable by Artifact Registry only."""
        if not args.credentials:
            return {}
        child = pulumi.ResourceOptions(parent=self)
        secrets_agent = gcp_projects.ServiceIdentity(
            f"{name}-secretmanager-agent", project=args.project, service="secretmanager.googleapis.com", opts=child
        )
        key_user = gcp_kms.CryptoKeyIAMMember(
            f"{name}-key-secretmanager",
            crypto_key_id=key_id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=secrets_agent.member,
            opts=child,
        )
        found: dict[
            str,
            tuple[gcp_artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgsDict, pulumi.Resource],
        ] = {}
        for host, document in args.credentials.items():
            short, _ = UPSTREAMS[host]
            value = pulumi.Output.secret(document)
            secret = gcp_secretmanager.Secret(
                f"{name}-{short}-token",
                project=args.project,
                secret_id=physical_name(name, short, "token", kind="gcp"),
                replication={
                    "user_managed": {
                        "replicas": [{"location": args.region, "customer_managed_encryption": {"kms_key_name": key_id}}]
                    }
                },
                opts=stateful_opts(self, args.protect_data, depends_on=[key_user]),
            )
            version = gcp_secretmanager.SecretVersion(
                f"{name}-{short}-token-value",
                secret=secret.id,
                # Derived from the secret stack setting, so the token stays secret.
                secret_data=value.apply(lambda d: _field(d, "accessToken")),
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret_data"]),
            )
            reader = gcp_secretmanager.SecretIamMember(
                f"{name}-{short}-token-reader",
                project=args.project,
                secret_id=secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=agent.member,
                opts=child,
            )
            credentials: gcp_artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgsDict = {
                "username_password_credentials": {
                    "username": value.apply(lambda d: _field(d, "username")),
                    "password_secret_version": version.name,
                }
            }
            found[host] = (credentials, reader)
        return found

    def grant_read(self, name: str, member: pulumi.Input[str]) -> list[gcp_artifactregistry.RepositoryIamMember]:
        """`roles/artifactregistry.reader` on every cached repository for one member (a node service account)."""
        return [
            gcp_artifactregistry.RepositoryIamMember(
                f"{name}-{short}",
                project=self._args.project,
                location=self._args.region,
                repository=repository.repository_id,
                role="roles/artifactregistry.reader",
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for (short, _), repository in zip(UPSTREAMS.values(), self.repositories.values(), strict=True)
        ]

    def source(self) -> PullThroughCache:
        """The `ImageSource` of a cluster pulling through these repositories."""
        return PullThroughCache(root=self.host, prefixes=self.repository_ids)
