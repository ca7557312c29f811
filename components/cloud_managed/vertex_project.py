"""Project-wide Vertex AI settings: the API, its audit logs, data caching and an optional perimeter.

Creates:
- the Vertex AI service agent (`gcp.projects.ServiceIdentity`), so that keys can be granted to it;
  the API itself is enabled by the project's `ProjectApis` (`components.gcp_apis`);
- Data Access audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) for Vertex AI;
- Gemini data caching switched off (no prompts kept outside the request) unless allowed;
- optionally a VPC Service Controls perimeter around the project restricting
  `aiplatform.googleapis.com`, in an existing access policy or a new project-scoped one.

These settings are per project, so every Vertex use case of a project shares one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import accesscontextmanager as gcp_accesscontextmanager
from pulumi_gcp import organizations as gcp_organizations
from pulumi_gcp import projects as gcp_projects
from pulumi_gcp import vertex as gcp_vertex

AIPLATFORM = "aiplatform.googleapis.com"


@dataclass(frozen=True)
class VpcServiceControlsArgs:
    access_policy: str | None = None
    """Numeric ID of an existing access policy; or give `organization_id` to create a scoped one."""
    organization_id: str | None = None
    perimeter_name: str = "triplane_vertex"
    restricted_services: tuple[str, ...] = (AIPLATFORM,)


@dataclass(frozen=True)
class VertexProjectArgs:
    project: str
    vpc_service_controls: VpcServiceControlsArgs | None = None
    data_caching: bool = False
    """True leaves Gemini's in-memory prompt caching on (an explicit, policy-flagged choice)."""


class VertexProject(pulumi.ComponentResource):
    agent: gcp_projects.ServiceIdentity
    """`service-<n>@gcp-sa-aiplatform`: grant it roles through `agent.member`, never a built email."""
    perimeter_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: VertexProjectArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:cloudmanaged:VertexProject", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.agent = gcp_projects.ServiceIdentity(
            f"{name}-aiplatform-agent", project=args.project, service=AIPLATFORM, opts=child
        )
        self.audit = gcp_projects.IAMAuditConfig(
            f"{name}-audit",
            project=args.project,
            service=AIPLATFORM,
            audit_log_configs=[{"log_type": "ADMIN_READ"}, {"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}],
            opts=child,
        )
        if not args.data_caching:
            gcp_vertex.AiCacheConfig(
                f"{name}-no-caching",
                project=args.project,
                disable_cache=True,
                opts=child,
            )
        self.perimeter_name = None
        vpc_sc = args.vpc_service_controls
        if vpc_sc is not None:
            number = gcp_organizations.get_project_output(
                project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
            ).number
            policy_id: pulumi.Input[str]
            if vpc_sc.access_policy is not None:
                policy_id = vpc_sc.access_policy
            elif vpc_sc.organization_id is not None:
                policy = gcp_accesscontextmanager.AccessPolicy(
                    f"{name}-access-policy",
                    parent=f"organizations/{vpc_sc.organization_id}",
                    title=f"{name} Vertex AI",
                    scopes=number.apply(lambda n: f"projects/{n}"),
                    opts=child,
                )
                policy_id = policy.name
            else:
                raise ValueError(f"{name}: VPC Service Controls need access_policy or organization_id")
            perimeter = gcp_accesscontextmanager.ServicePerimeter(
                f"{name}-perimeter",
                parent=pulumi.Output.concat("accessPolicies/", policy_id),
                name=pulumi.Output.concat("accessPolicies/", policy_id, "/servicePerimeters/", vpc_sc.perimeter_name),
                title=vpc_sc.perimeter_name,
                perimeter_type="PERIMETER_TYPE_REGULAR",
                status={
                    "resources": [number.apply(lambda n: f"projects/{n}")],
                    "restricted_services": list(vpc_sc.restricted_services),
                },
                opts=child,
            )
            self.perimeter_name = perimeter.name
        self.register_outputs({"agent": self.agent.email})
