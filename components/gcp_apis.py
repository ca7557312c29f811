"""The Google Cloud APIs each planned resource needs, enabled once per project before it.

A new project has almost no APIs enabled, and a resource whose API is off fails to create. This
module applies the one mapping from a `pulumi_gcp` resource type to the APIs (services) it calls
(`policies/triplane/gcp_apis.py`, which the gate reads too): the `ProjectApis` component that enables each
of them once per project (`gcp.projects.Service`, left enabled on destroy: other workloads may use it), and a stack
transformation that gives every Google Cloud resource an explicit `depends_on` on the services of
its type, so the engine creates them first. A resource type missing from the mapping stops the
program, naming the type: an unmapped API is found at plan time, not on a first `pulumi up`.

Service agents (`service-<n>@gcp-sa-*.iam.gserviceaccount.com`, `container-engine-robot`, ...)
exist only after first use, so whatever grants one a role creates it first with
`gcp.projects.ServiceIdentity` and grants the identity's `member` output (`SERVICE_AGENTS` lists
the agent domains).
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
from pulumi_gcp import projects as gcp_projects

from triplane.policies.gcp_apis import SERVICE_AGENTS, SERVICE_TYPE, apis_for

__all__ = ["SERVICE_AGENTS", "ProjectApis", "apis_for", "depends_on_apis", "enable_apis_for_stack"]

class ProjectApis(pulumi.ComponentResource):
    """The APIs enabled in one project: each `gcp.projects.Service` created once, on first need."""

    def __init__(self, name: str, project: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:gcp:ProjectApis", name, None, opts)
        self._name = name
        self.project = project
        self.services: dict[str, gcp_projects.Service] = {}
        self.register_outputs({"project": project})

    def service(self, api: str) -> gcp_projects.Service:
        if api not in self.services:
            self.services[api] = gcp_projects.Service(
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
