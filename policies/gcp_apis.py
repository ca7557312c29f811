"""Which Google Cloud API each resource module needs enabled in its project.

One table, read by the program (which enables the APIs of what it plans, before the resources)
and by the `deployable-cloud-apis` policy (which checks that every planned Google Cloud resource's
API is enabled first). A module missing here is a finding, so a new resource type cannot slip in
unmapped.
"""

from __future__ import annotations

API_OF_MODULE: dict[str, str] = {
    "accesscontextmanager": "accesscontextmanager.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "certificatemanager": "certificatemanager.googleapis.com",
    "compute": "compute.googleapis.com",
    "container": "container.googleapis.com",
    "dns": "dns.googleapis.com",
    "filestore": "file.googleapis.com",
    "iam": "iam.googleapis.com",
    "kms": "cloudkms.googleapis.com",
    "logging": "logging.googleapis.com",
    "monitoring": "monitoring.googleapis.com",
    "networksecurity": "networksecurity.googleapis.com",
    "networkservices": "networkservices.googleapis.com",
    "projects": "cloudresourcemanager.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
    "servicedirectory": "servicedirectory.googleapis.com",
    "serviceaccount": "iam.googleapis.com",
    "vertex": "aiplatform.googleapis.com",
}
"""`gcp:<module>/<resource>:<Type>` -> the API that serves it."""

FOUNDATION_TYPES = frozenset({"gcp:projects/service:Service", "gcp:projects/serviceIdentity:ServiceIdentity"})
"""Served by the Service Usage API, which every project has on: they enable APIs and create agents."""


def api_for(resource_type: str) -> str | None:
    """The API a Google Cloud resource type needs, or None when its module is not mapped."""
    module = resource_type.removeprefix("gcp:").split("/", 1)[0]
    return API_OF_MODULE.get(module)


__all__ = ["API_OF_MODULE", "FOUNDATION_TYPES", "api_for"]
