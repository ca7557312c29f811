"""Cloud-managed builder: a use case's spec -> its Bedrock, Azure OpenAI or Vertex AI component.

What a cloud allows only once is shared through `ctx.shared`: Bedrock endpoints per VPC (their
policy holds one set of statements per use case), Bedrock invocation logging per region (union of
destinations, longest retention), the Azure OpenAI DNS zone per VNet, and Vertex project settings
per project. The VPC's Google APIs endpoint is the network's own (`stacks.cloud_apis`).
"""

from __future__ import annotations

from typing import Any

from components.cloud_managed import (
    AzureContentFilterArgs,
    AzureOpenAIDeployment,
    AzureOpenAIEndpoint,
    AzureOpenAIEndpointArgs,
    AzureOpenAIPrivateDns,
    AzureOpenAIPrivateDnsArgs,
    BedrockAccess,
    BedrockEndpoint,
    BedrockEndpointArgs,
    BedrockGuardrailArgs,
    BedrockInvocationLogging,
    BedrockInvocationLoggingArgs,
    BedrockPrivateLink,
    BedrockPrivateLinkArgs,
    DeniedTopic,
    VertexEndpoint,
    VertexEndpointArgs,
    VertexProject,
    VertexProjectArgs,
    VpcServiceControlsArgs,
)
from components.cloud_managed.bedrock_private_link import RUNTIME
from stacks.cloud_apis import google_apis_for
from stacks.context import Endpoint, StackContext
from stacks.spec.cloud_managed import CloudManagedUseCase, version_upgrade

PATTERN = "cloud-managed"


def build(use_case: CloudManagedUseCase, ctx: StackContext) -> Endpoint:
    network = _network(ctx, use_case.cloud)
    if use_case.cloud == "aws":
        return _bedrock(use_case, ctx, network)
    if use_case.cloud == "azure":
        return _azure_openai(use_case, ctx, network)
    return _vertex(use_case, ctx, network)


def _network(ctx: StackContext, cloud: str) -> Any:
    from stacks.networks import network_for

    return network_for(ctx, cloud)


def _siblings(ctx: StackContext, cloud: str) -> list[CloudManagedUseCase]:
    return [u for u in ctx.environment.use_cases if isinstance(u, CloudManagedUseCase) and u.cloud == cloud]


# --- AWS -------------------------------------------------------------------------------------------


def _bedrock(use_case: CloudManagedUseCase, ctx: StackContext, network: Any) -> Endpoint:
    settings = use_case.bedrock_settings
    siblings = _siblings(ctx, "aws")
    region = network.region

    def private_link() -> BedrockPrivateLink:
        return BedrockPrivateLink(
            f"{ctx.stack}-bedrock-privatelink",
            BedrockPrivateLinkArgs(
                network=network,
                access=[
                    BedrockAccess(
                        model_ids=[m.id for m in u.models],
                        principals=list(u.allowed_principals),
                        guardrail=u.bedrock_settings.guardrail is not None,
                    )
                    for u in siblings
                ],
                services=sorted({RUNTIME, *(s for u in siblings for s in u.bedrock_settings.extra_endpoints)}),
                allowed_security_group_ids=sorted(
                    {g for u in siblings for g in u.bedrock_settings.allowed_security_groups}
                ),
                tags=ctx.tags(),
            ),
            opts=ctx.opts("aws"),
        )

    def invocation_logging() -> BedrockInvocationLogging | None:
        destinations = sorted({d for u in siblings for d in u.bedrock_settings.logging.destinations})
        if not destinations:
            return None  # every use case in the region turned logging off explicitly
        return BedrockInvocationLogging(
            f"{ctx.stack}-bedrock-logging",
            BedrockInvocationLoggingArgs(
                region=region,
                destinations=destinations,
                retention_days=max(u.bedrock_settings.logging.retention_days for u in siblings),
                tags=ctx.tags(),
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("aws"),
        )

    link = ctx.shared((PATTERN, "bedrock-privatelink", "aws"), private_link)
    logging = ctx.shared((PATTERN, "bedrock-logging", region), invocation_logging)
    guardrail = settings.guardrail
    component = BedrockEndpoint(
        ctx.prefix(use_case),
        BedrockEndpointArgs(
            network=network,
            models=[m.id for m in use_case.models],
            allowed_principals=list(use_case.allowed_principals),
            kms_key=settings.kms_key,
            tags=ctx.tags(use_case),
            protect_data=ctx.protect_data,
            guardrail=(
                BedrockGuardrailArgs(
                    content_filter_strength=guardrail.content_filter_strength,
                    prompt_attack_strength=guardrail.prompt_attack_strength,
                    denied_topics=[
                        DeniedTopic(t.name, t.definition, list(t.examples)) for t in guardrail.denied_topics
                    ],
                    blocked_words=list(guardrail.blocked_words),
                    profanity_filter=guardrail.profanity_filter,
                    pii_entities=dict(guardrail.pii),
                    blocked_input_message=guardrail.blocked_input_message,
                    blocked_output_message=guardrail.blocked_output_message,
                )
                if guardrail is not None
                else None
            ),
            private_link=link,
            invocation_logging=logging,
            logging_destinations=() if logging is None else ("cloudwatch", "s3"),
        ),
        opts=ctx.component_opts("aws", use_case),
    )
    for principal in use_case.allowed_principals:
        component.grant_invoke(principal)
    return Endpoint(
        pattern=PATTERN,
        url=component.url,
        auth="aws-iam",
        identity=component.invoke_policy_arn,
        logs=component.logs,
    )


# --- Azure -----------------------------------------------------------------------------------------


def _azure_openai(use_case: CloudManagedUseCase, ctx: StackContext, network: Any) -> Endpoint:
    settings = use_case.azure_settings
    dns = ctx.shared(
        (PATTERN, "azure-openai-dns", "azure"),
        lambda: AzureOpenAIPrivateDns(
            f"{ctx.stack}-openai-dns",
            AzureOpenAIPrivateDnsArgs(network=network, tags=ctx.tags()),
            opts=ctx.opts("azure"),
        ),
    )
    content_filter = settings.content_filter
    component = AzureOpenAIEndpoint(
        ctx.prefix(use_case),
        AzureOpenAIEndpointArgs(
            network=network,
            deployments=[
                AzureOpenAIDeployment(
                    name=use_case.deployment_name(m),
                    model=m.id,
                    version=m.version,
                    sku=m.sku or "Standard",
                    capacity=m.capacity or 10,
                )
                for m in use_case.models
            ],
            allowed_principals=list(use_case.allowed_principals),
            kms_key=settings.kms_key,
            customer_managed_key=settings.customer_managed_key,
            tags=ctx.tags(use_case),
            protect_data=ctx.protect_data,
            version_upgrade_option=version_upgrade(use_case, ctx.environment.tier),
            content_filter=(
                AzureContentFilterArgs(
                    severity_threshold=content_filter.severity_threshold,
                    prompt_shields=content_filter.prompt_shields,
                    protected_material=content_filter.protected_material,
                )
                if content_filter is not None
                else None
            ),
            allowed_outbound_fqdns=list(settings.allowed_outbound_fqdns),
            log_workspace_id=settings.log_workspace_id,
            log_retention_days=settings.log_retention_days,
            private_dns=dns,
        ),
        opts=ctx.component_opts("azure", use_case),
    )
    for principal in use_case.allowed_principals:
        component.grant_invoke(principal)
    return Endpoint(
        pattern=PATTERN, url=component.url, auth="entra-id", identity=component.account_id, logs=component.logs
    )


# --- Google Cloud ----------------------------------------------------------------------------------


def _vertex(use_case: CloudManagedUseCase, ctx: StackContext, network: Any) -> Endpoint:
    settings = use_case.vertex_settings
    access = google_apis_for(ctx, network)
    if access is None:
        raise ctx.error(
            f"use_cases[{ctx.use_case_index(use_case)}].vertex.psc_address",
            "the GCP network already exists, so name an unused internal IP for the Google APIs endpoint",
        )
    siblings = _siblings(ctx, "gcp")
    vpc_sc = settings.vpc_service_controls

    def project_settings() -> VertexProject:
        return VertexProject(
            f"{ctx.stack}-vertex-project",
            VertexProjectArgs(
                project=network.project,
                vpc_service_controls=(
                    VpcServiceControlsArgs(
                        access_policy=vpc_sc.access_policy,
                        organization_id=vpc_sc.organization_id,
                        perimeter_name=vpc_sc.perimeter_name,
                    )
                    if vpc_sc is not None
                    else None
                ),
                data_caching=any(u.vertex_settings.data_caching for u in siblings),
            ),
            opts=ctx.opts("gcp"),
        )

    project = ctx.shared((PATTERN, "vertex-project", network.project), project_settings)
    component = VertexEndpoint(
        ctx.prefix(use_case),
        VertexEndpointArgs(
            network=network,
            models=[m.id for m in use_case.models],
            allowed_principals=list(use_case.allowed_principals),
            kms_key=settings.kms_key,
            tags=ctx.tags(use_case),
            protect_data=ctx.protect_data,
            log_retention_days=settings.log_retention_days,
            psc_target=settings.target,
            psc_address=settings.psc_address,
            private_access=access,
            project_settings=project,
        ),
        opts=ctx.component_opts("gcp", use_case),
    )
    for principal in use_case.allowed_principals:
        component.grant_invoke(principal)
    return Endpoint(
        pattern=PATTERN,
        url=component.url,
        auth="google-iam",
        identity=component.service_account_email,
        logs=component.logs,
    )
