"""The Google Cloud APIs each planned resource needs, enabled once per project before it.

A new project has almost no APIs enabled, and a resource whose API is off fails to create. This
module holds the one mapping from a `pulumi_gcp` resource type to the APIs (services) it calls,
the `ProjectApis` component that enables each of them once per project
(`gcp.projects.Service`, left enabled on destroy: other workloads may use it), and a stack
transformation that gives every Google Cloud resource an explicit `depends_on` on the services of
its type, so the engine creates them first. A resource type missing from the mapping stops the
program, naming the type: an unmapped API is found at plan time, not on a first `pulumi up`.

Service agents (`service-<n>@gcp-sa-*.iam.gserviceaccount.com`, `container-engine-robot`, ...)
exist only after first use, so whatever grants one a role creates it first with
`gcp.projects.ServiceIdentity` and grants the identity's `member` output (`SERVICE_AGENTS` lists
the agent domains).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_gcp as gcp

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
                "(or the type to TYPE_APIS) in components/gcp_apis.py"
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


class ProjectApis(pulumi.ComponentResource):
    """The APIs enabled in one project: each `gcp.projects.Service` created once, on first need."""

    def __init__(self, name: str, project: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:gcp:ProjectApis", name, None, opts)
        self._name = name
        self.project = project
        self.services: dict[str, gcp.projects.Service] = {}
        self.register_outputs({"project": project})

    def service(self, api: str) -> gcp.projects.Service:
        if api not in self.services:
            self.services[api] = gcp.projects.Service(
                f"{self._name}-{api.split('.')[0]}",
                project=self.project,
                service=api,
                disable_on_destroy=False,  # other stacks and workloads may use the same API
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self.services[api]


def depends_on_apis(
    default_project: str, registry: Callable[[str], ProjectApis]
) -> pulumi.ResourceTransformation:
    """A transformation that makes every Google Cloud resource depend on the services of its type.

    `registry(project)` returns the project's `ProjectApis` (created once); a resource names its
    project in `project`, or lives in the provider's `default_project`.
    """

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not args.type_.startswith("gcp:") or args.type_ == SERVICE_TYPE:
            return None
        apis = apis_for(args.type_, args.props)
        if not apis:
            return None
        project = args.props.get("project")
        apis_of_project = registry(project if isinstance(project, str) else default_project)
        services = [apis_of_project.service(api) for api in apis]
        extra = pulumi.ResourceOptions(depends_on=services)
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, extra))

    return transform


def enable_apis_for_stack(
    default_project: str, name: str, opts: pulumi.ResourceOptions | None = None
) -> dict[str, ProjectApis]:
    """Make every Google Cloud resource registered from now on wait for its APIs.

    Returns the registry it fills: one `ProjectApis` per project (`name` for the default project,
    `<name>-<project>` for others), created on the first resource that needs it.
    """
    registry: dict[str, ProjectApis] = {}

    def of(project: str) -> ProjectApis:
        if project not in registry:
            label = name if project == default_project else f"{name}-{project}"
            registry[project] = ProjectApis(label, project, opts=opts)
        return registry[project]

    pulumi.runtime.register_stack_transformation(depends_on_apis(default_project, of))
    return registry
