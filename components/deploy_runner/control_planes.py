"""The cloud API hosts a deploy runner's `pulumi up` calls, per provider module Triplane creates resources in.

A runner inside the network reaches the internet through the egress firewall's named hosts only, so
every control-plane API the providers call must be on that list, or the deploy stops at its first
resource of that kind. The hosts follow from the provider modules (`aws:eks/...` -> EKS's regional
endpoint); a test holds that every module in the shipped plans is listed here, so a component that
starts using a new service cannot break the runner silently.
"""

from __future__ import annotations

from collections.abc import Iterable

AWS: dict[str, tuple[str, ...]] = {
    "amp": ("aps.{region}.amazonaws.com",),
    "bedrockmodel": ("bedrock.{region}.amazonaws.com",),
    "cloudwatch": ("logs.{region}.amazonaws.com", "monitoring.{region}.amazonaws.com"),
    "ec2": ("ec2.{region}.amazonaws.com",),
    "ecr": ("api.ecr.{region}.amazonaws.com",),
    "efs": ("elasticfilesystem.{region}.amazonaws.com",),
    "eks": ("eks.{region}.amazonaws.com",),
    "iam": ("iam.amazonaws.com",),
    "kms": ("kms.{region}.amazonaws.com",),
    "lambda": ("lambda.{region}.amazonaws.com",),
    "networkfirewall": ("network-firewall.{region}.amazonaws.com",),
    "s3": ("s3.{region}.amazonaws.com",),
    "secretsmanager": ("secretsmanager.{region}.amazonaws.com",),
    "sns": ("sns.{region}.amazonaws.com",),
    "ssm": ("ssm.{region}.amazonaws.com",),
    "sts": ("sts.{region}.amazonaws.com",),
    "vpc": ("ec2.{region}.amazonaws.com",),
}
"""AWS provider module -> the service endpoints it calls (`ssm` and `sts` serve the AMI lookup and the
caller identity every stack reads)."""

AZURE: tuple[str, ...] = ("management.azure.com", "login.microsoftonline.com")
"""azure-native creates everything through Azure Resource Manager, with tokens from Entra ID."""

GCP: dict[str, tuple[str, ...]] = {
    "artifactregistry": ("artifactregistry.googleapis.com",),
    "compute": ("compute.googleapis.com",),
    "container": ("container.googleapis.com",),
    "dns": ("dns.googleapis.com",),
    "kms": ("cloudkms.googleapis.com",),
    "logging": ("logging.googleapis.com",),
    "monitoring": ("monitoring.googleapis.com",),
    "networksecurity": ("networksecurity.googleapis.com",),
    "networkservices": ("networkservices.googleapis.com",),
    "projects": ("serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com"),
    "secretmanager": ("secretmanager.googleapis.com",),
    "serviceaccount": ("iam.googleapis.com",),
    "vertex": ("{region}-aiplatform.googleapis.com",),
}
"""Google Cloud provider module -> its API host."""

GCP_AUTH: tuple[str, ...] = ("oauth2.googleapis.com", "sts.googleapis.com", "iamcredentials.googleapis.com")
"""Workload identity federation from the CI's OIDC token: token exchange and impersonation."""

GKE_DNS_ENDPOINTS = "*.gke.goog"
"""GKE's DNS-based control-plane endpoints (`gke-<id>.<location>.gke.goog`), authorized by IAM."""


def aws_hosts(region: str) -> list[str]:
    return sorted({host.format(region=region) for hosts in AWS.values() for host in hosts})


def gcp_hosts(region: str) -> list[str]:
    return sorted({host.format(region=region) for hosts in GCP.values() for host in hosts} | set(GCP_AUTH))


def control_plane_hosts(regions: dict[str, str], gke_dns_endpoint: bool = False) -> list[str]:
    """Every control-plane host a deploy of these clouds (`{cloud: region}`) calls."""
    hosts: set[str] = set()
    if "aws" in regions:
        hosts.update(aws_hosts(regions["aws"]))
    if "azure" in regions:
        hosts.update(AZURE)
    if "gcp" in regions:
        hosts.update(gcp_hosts(regions["gcp"]))
        if gke_dns_endpoint:
            hosts.add(GKE_DNS_ENDPOINTS)
    return sorted(hosts)


def unlisted_modules(resource_types: Iterable[str]) -> set[str]:
    """`cloud:module` of the resource types whose API host a runner would not be allowed to reach."""
    missing = set()
    for resource_type in resource_types:
        package, _, rest = resource_type.partition(":")
        module = rest.split("/")[0].split(":")[0]
        if (package == "aws" and module not in AWS) or (package == "gcp" and module not in GCP):
            missing.add(f"{package}:{module}")
    return missing
