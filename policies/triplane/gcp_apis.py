"""Which Google Cloud APIs each resource type needs enabled in its project, and the service agents.

One mapping, read by the program (`components/gcp_apis.py` enables the APIs of what it plans,
before the resources) and by the gate (`deployable-cloud-apis` checks every planned Google Cloud
resource waits for its APIs). A type missing here stops the program, naming the type: an unmapped
API is found at plan time, not on a first `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SERVICE_TYPE = "gcp:projects/service:Service"
SERVICE_IDENTITY_TYPE = "gcp:projects/serviceIdentity:ServiceIdentity"

MODULE_APIS: Mapping[str, tuple[str, ...]] = {
    "accesscontextmanager": ("accesscontextmanager.googleapis.com",),
    "artifactregistry": ("artifactregistry.googleapis.com",),
    "certificatemanager": ("certificatemanager.googleapis.com",),
    "compute": ("compute.googleapis.com",),
    "container": ("container.googleapis.com", "compute.googleapis.com"),
    "dns": ("dns.googleapis.com",),
    "filestore": ("file.googleapis.com",),
    "gkehub": ("gkehub.googleapis.com",),
    "iam": ("iam.googleapis.com",),
    "kms": ("cloudkms.googleapis.com",),
    "logging": ("logging.googleapis.com",),
    "monitoring": ("monitoring.googleapis.com",),
    "networksecurity": ("networksecurity.googleapis.com",),
    "networkservices": ("networkservices.googleapis.com",),
    "projects": ("cloudresourcemanager.googleapis.com",),
    "secretmanager": ("secretmanager.googleapis.com",),
    "serviceaccount": ("iam.googleapis.com",),
    "servicedirectory": ("servicedirectory.googleapis.com",),
    "storage": ("storage.googleapis.com",),
    "vertex": ("aiplatform.googleapis.com",),
}
"""`pulumi_gcp` module -> the APIs its resources call."""

TYPE_APIS: Mapping[str, tuple[str, ...]] = {
    SERVICE_TYPE: (),  # Service Usage itself is on in every project
    # The Secure Web Proxy gateway takes its TLS settings from Certificate Manager.
    "gcp:networkservices/gateway:Gateway": ("networkservices.googleapis.com", "certificatemanager.googleapis.com"),
}
"""Types whose APIs differ from their module's."""

SERVICE_AGENTS: Mapping[str, str] = {
    "aiplatform.googleapis.com": "gcp-sa-aiplatform.iam.gserviceaccount.com",
    "artifactregistry.googleapis.com": "gcp-sa-artifactregistry.iam.gserviceaccount.com",
    "cloudkms.googleapis.com": "gcp-sa-cloudkms.iam.gserviceaccount.com",
    "compute.googleapis.com": "compute-system.iam.gserviceaccount.com",
    "container.googleapis.com": "container-engine-robot.iam.gserviceaccount.com",
    "file.googleapis.com": "cloud-filer.iam.gserviceaccount.com",
    "secretmanager.googleapis.com": "gcp-sa-secretmanager.iam.gserviceaccount.com",
}
"""API -> the domain of its service agent `service-<project number>@<domain>`."""


class UnmappedGcpType(ValueError):
    """A Google Cloud resource type whose APIs nobody has written down."""


def apis_for(type_: str, props: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The APIs a resource of `type_` (with inputs `props`) needs enabled in its project."""
    if type_ == SERVICE_IDENTITY_TYPE:
        service = (props or {}).get("service")
        return (service,) if isinstance(service, str) else ()
    if type_ in TYPE_APIS:
        apis = TYPE_APIS[type_]
    else:
        module = type_.split(":")[1].split("/")[0] if type_.count(":") == 2 else ""
        if module not in MODULE_APIS:
            raise UnmappedGcpType(
                f"no Google Cloud API is known for resource type {type_}; add its module to MODULE_APIS "
                "(or the type to TYPE_APIS) in policies/triplane/gcp_apis.py"
            )
        apis = MODULE_APIS[module]
    if type_ == "gcp:container/cluster:Cluster" and _filestore_csi(props or {}):
        apis = (*apis, "file.googleapis.com")
    return apis


def _filestore_csi(props: Mapping[str, Any]) -> bool:
    addons = props.get("addons_config") or props.get("addonsConfig") or {}
    driver = _field(addons, "gcp_filestore_csi_driver_config", "gcpFilestoreCsiDriverConfig")
    return bool(_field(driver or {}, "enabled", "enabled"))


def _field(value: Any, snake: str, camel: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(snake, value.get(camel))
    return getattr(value, snake, None)


__all__ = ["MODULE_APIS", "SERVICE_AGENTS", "SERVICE_IDENTITY_TYPE", "SERVICE_TYPE", "TYPE_APIS", "UnmappedGcpType",
           "apis_for"]
