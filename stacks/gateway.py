"""The AI gateway of an environment: installed on its cluster, with a route for every use case.

`install` puts Envoy AI Gateway on the cluster `gateway.cluster` names (`AIGatewayInstall`); `front`
then renders each use case's route (`components.gateway.routes`) from what the use case built: the
SaaS provider's host and key, the Bedrock runtime over the VPC's private link, Vertex AI over its
private path, a self-managed server's Service. It creates the Secrets the routes name (consumer and
upstream keys, from secret stack config only), the gateway's cloud identity (EKS Pod Identity for
Bedrock, GKE Workload Identity for Vertex AI), and returns each use case's endpoint with the gateway's
URL, the model name to send and how to authenticate.

What the spec refused is never seen here (`stacks.spec.gateway`): a backend the gateway cannot reach
privately or without a static cloud key, a fallback that breaks the classification rule.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import pulumi
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_gcp import projects as gcp_projects
from pulumi_gcp.organizations import get_project_output
from pulumi_kubernetes import core as k8s_core

from triplane.components.gateway import routes
from triplane.components.gateway.install import (
    ENVOY_GATEWAY_NAMESPACE,
    PROXY_SERVICE_ACCOUNT,
    AIGatewayInstall,
    AIGatewayInstallArgs,
)
from triplane.components.naming import physical_name
from triplane.components.saas.providers import CATALOG
from triplane.components.self_managed.addons import custom_resource
from triplane.components.self_managed.eks import EksCluster
from triplane.components.self_managed.engines import ENGINES
from triplane.components.self_managed.weights_import import POD_IDENTITY_TRUST
from triplane.components.tagging import k8s_labels
from triplane.stacks.clouds import SEAMS
from triplane.stacks.clouds.aws import bedrock_endpoint, gateway_role_name
from triplane.stacks.clusters import ClusterHandle, cluster_for
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.secrets import require_secret
from triplane.stacks.spec import SaasUseCase
from triplane.stacks.spec.cloud_managed import BedrockUseCase, VertexUseCase
from triplane.stacks.spec.gateway import AIGateway
from triplane.stacks.spec.self_managed import SelfManagedUseCase
from triplane.stacks.spec.use_case import UseCaseBase

SAAS_SCHEMAS: dict[str, routes.Schema] = {
    "openai": "OpenAI",
    "mistral": "OpenAI",
    "anthropic": "Anthropic",
    "cohere": "Cohere",
}
"""The API schema the gateway speaks to each SaaS provider (Mistral's API is OpenAI-compatible); the
spec admits exactly these providers behind the gateway (`spec.gateway.GATEWAY_PROVIDERS`)."""

VERTEX_USER = "roles/aiplatform.user"
"""What the gateway's proxies may do on Vertex AI: call the models, nothing else."""


def install(ctx: StackContext) -> AIGatewayInstall:
    """The gateway on its cluster, once."""
    gateway = ctx.environment.gateway
    assert gateway is not None
    return ctx.shared(("ai-gateway",), lambda: _install(ctx, gateway))


def _install(ctx: StackContext, gateway: AIGateway) -> AIGatewayInstall:
    handle = cluster_for(ctx, gateway.cluster)
    cloud = handle.cloud
    network = SEAMS[cloud].network(ctx) if cloud is not None else None
    return AIGatewayInstall(
        f"{ctx.stack}-ai-gateway",
        AIGatewayInstallArgs(
            hostname=gateway.hostname,
            tls_certificate=require_secret(gateway.tls.certificate_secret),
            tls_private_key=require_secret(gateway.tls.key_secret),
            source_ranges=list(network.application_cidrs) if network is not None else [],
            load_balancer_annotations=handle.load_balancer_annotations,
            images=handle.images,
            cloud=cloud,  # type: ignore[arg-type]
            crd_releases=handle.crd_releases,
            tags=k8s_labels(ctx.tags()),
        ),
        opts=handle.opts(),
    )


def front(ctx: StackContext, endpoints: dict[str, Endpoint]) -> dict[str, Endpoint]:
    """Every use case behind the gateway: its route, its Secrets and identities, and its endpoint."""
    environment = ctx.environment
    gateway = environment.gateway
    assert gateway is not None
    installed = install(ctx)
    handle = cluster_for(ctx, gateway.cluster)
    facts = installed.facts
    labels = k8s_labels(ctx.tags())
    backends = {u.name: backend_of(ctx, u) for u in environment.use_cases}
    specs = [route_spec(u, backends) for u in environment.use_cases]
    jwt = (
        routes.JwtProvider(
            name="company",
            issuer=str(gateway.identity_provider.issuer),
            jwks_uri=str(gateway.identity_provider.jwks_uri),
            audiences=tuple(gateway.identity_provider.audiences),
            client_id_claim=gateway.identity_provider.client_id_claim,
        )
        if gateway.identity_provider is not None
        else None
    )
    secrets = _secrets(ctx, handle, facts.namespace, specs, labels, installed)
    identities = _identities(ctx, handle)
    releases = installed.crd_releases
    objects = routes.render(facts.namespace, facts.gateway_name, specs, jwt=jwt, labels=labels)
    for body in objects:
        # Each object waits for its CRD, the Gateway, the Secrets it names and its use case's identity.
        text = json.dumps(body)
        named = [secret for name, secret in secrets.items() if f'"{name}"' in text]
        use_case = body["metadata"].get("labels", {}).get(routes.USE_CASE_LABEL)
        custom_resource(
            f"{ctx.stack}-gateway-{body['kind'].lower()}-{body['metadata']['namespace']}-{body['metadata']['name']}",
            body,
            pulumi.ResourceOptions(
                provider=handle.provider,
                depends_on=[
                    releases[body["apiVersion"].split("/")[0]],
                    installed.gateway,
                    *named,
                    *identities.get(use_case, []),
                ],
            ),
        )
    return {
        use_case.name: _with_gateway(endpoints[use_case.name], installed.url, use_case)
        for use_case in environment.use_cases
    }


def backend_of(ctx: StackContext, use_case: UseCaseBase) -> routes.Backend:
    """Where the gateway sends a use case's requests, and with which credential."""
    if isinstance(use_case, SaasUseCase):
        provider = CATALOG[use_case.provider]
        return routes.Backend(
            use_case=use_case.name,
            model=use_case.models[0] if use_case.models else use_case.name,
            schema=SAAS_SCHEMAS[use_case.provider],
            target=routes.SaasHost(provider.hosts[0]),
            credential=routes.ApiKeyCredential(upstream_key_secret(use_case.name)),
        )
    if isinstance(use_case, BedrockUseCase):
        aws = ctx.environment.clouds.aws
        assert aws is not None
        region = aws.region
        return routes.Backend(
            use_case=use_case.name,
            model=use_case.models[0].id,
            schema="AWSBedrock",
            target=routes.BedrockRuntime(region),
            credential=routes.AwsCredential(region),
        )
    if isinstance(use_case, VertexUseCase):
        gcp = ctx.environment.clouds.gcp
        assert gcp is not None
        return routes.Backend(
            use_case=use_case.name,
            model=use_case.models[0].id,
            schema="GCPVertexAI",
            target=routes.VertexRegion(gcp.project, gcp.region),
            credential=routes.GcpCredential(gcp.project, gcp.region),
        )
    assert isinstance(use_case, SelfManagedUseCase)
    engine = ENGINES[use_case.engine]
    app = physical_name(f"{ctx.stack}-{use_case.service_name}", kind="k8s")
    return routes.Backend(
        use_case=use_case.name,
        model=use_case.model.id,
        schema="OpenAI",
        target=routes.InClusterServer(
            service=app,
            namespace=use_case.service_name,
            port=80,
            replicas=1,  # balanced by the Service: no endpoint picker runs yet for an InferencePool
            target_port=engine.port,
        ),
        credential=(routes.ApiKeyCredential(upstream_key_secret(use_case.name)) if use_case.api_key_secret else None),
    )


def route_spec(use_case: UseCaseBase, backends: Mapping[str, routes.Backend]) -> routes.RouteSpec:
    """The use case's route: applications send the use case's name as the model."""
    return routes.RouteSpec(
        use_case=use_case.name,
        classification=use_case.data_classification,
        primary=backends[use_case.name],
        fallback=backends[use_case.fallback] if use_case.fallback else None,
        consumers=tuple(
            routes.Consumer(c.name, c.auth, c.tokens_per_minute, c.tokens_per_day) for c in use_case.consumers
        ),
        model_name=use_case.name,
    )


def upstream_key_secret(use_case: str) -> str:
    """The Secret (in the gateway's namespace) holding a use case's upstream API key."""
    return routes.object_name("ai-gateway-upstream", use_case)


def _secrets(
    ctx: StackContext,
    handle: ClusterHandle,
    namespace: str,
    specs: list[routes.RouteSpec],
    labels: Mapping[str, str],
    installed: AIGatewayInstall,
) -> dict[str, pulumi.Resource]:
    """The Secrets the routes name, by name, each from secret stack config: consumer and upstream keys."""
    # Secret name -> the stack config key holding its value.
    config_keys: dict[str, str] = {}
    for use_case in ctx.environment.use_cases:
        for member in use_case.consumers:
            if member.key_secret is not None:
                config_keys[routes.consumer_key_secret(member.name)] = member.key_secret
        upstream = getattr(use_case, "api_key_secret", None)
        if upstream is not None:
            config_keys[upstream_key_secret(use_case.name)] = upstream
    created: dict[str, pulumi.Resource] = {}
    opts = pulumi.ResourceOptions(provider=handle.provider, depends_on=[installed.gateway])
    for need in routes.secret_needs(namespace, specs):
        value = require_secret(config_keys[need.name])
        created[need.name] = k8s_core.v1.Secret(
            f"{ctx.stack}-gateway-secret-{need.name}",
            metadata={"name": need.name, "namespace": need.namespace, "labels": dict(labels)},
            type="Opaque",
            string_data={need.key: value},
            opts=opts,
        )
    return created


def _identities(ctx: StackContext, handle: ClusterHandle) -> dict[str, list[pulumi.Resource]]:
    """The proxies' cloud identity, per use case it serves: EKS Pod Identity for Bedrock (the role the
    Bedrock endpoint policy admits by name, with each use case's invoke policy), GKE Workload Identity for
    Vertex AI (the proxies' service account as a principal, `aiplatform.user`)."""
    use_cases = ctx.environment.use_cases
    created: dict[str, list[pulumi.Resource]] = {}
    if any(isinstance(u, BedrockUseCase) for u in use_cases):
        assert isinstance(handle.component, EksCluster)
        aws = pulumi.ResourceOptions(provider=ctx.providers.for_cloud("aws"))
        role = aws_iam.Role(
            f"{ctx.stack}-ai-gateway-role",
            name=gateway_role_name(ctx.stack),
            description="The AI gateway's proxies: invoke the Bedrock models of the use cases behind it",
            assume_role_policy=POD_IDENTITY_TRUST,
            max_session_duration=3600,
            tags=ctx.tags(),
            opts=aws,
        )
        association = aws_eks.PodIdentityAssociation(
            f"{ctx.stack}-ai-gateway-identity",
            cluster_name=handle.component.ref.name,
            namespace=ENVOY_GATEWAY_NAMESPACE,
            service_account=PROXY_SERVICE_ACCOUNT,
            role_arn=role.arn,
            tags=ctx.tags(),
            opts=pulumi.ResourceOptions.merge(
                aws, pulumi.ResourceOptions(depends_on=[handle.component.pod_identity_agent])
            ),
        )
        for use_case in use_cases:
            if isinstance(use_case, BedrockUseCase):
                created[use_case.name] = [
                    association,
                    aws_iam.RolePolicyAttachment(
                        f"{ctx.stack}-ai-gateway-invokes-{use_case.name}",
                        role=role.name,
                        policy_arn=bedrock_endpoint(ctx, use_case).invoke_policy_arn,
                        opts=aws,
                    ),
                ]
    if any(isinstance(u, VertexUseCase) for u in use_cases):
        gcp = ctx.environment.clouds.gcp
        assert gcp is not None
        google = ctx.providers.for_cloud("gcp")
        number = get_project_output(project_id=gcp.project, opts=pulumi.InvokeOutputOptions(provider=google)).number
        member = gcp_projects.IAMMember(
            f"{ctx.stack}-ai-gateway-vertex",
            project=gcp.project,
            role=VERTEX_USER,
            member=number.apply(
                lambda n: (
                    f"principal://iam.googleapis.com/projects/{n}/locations/global/workloadIdentityPools/"
                    f"{gcp.project}.svc.id.goog/subject/ns/{ENVOY_GATEWAY_NAMESPACE}/sa/{PROXY_SERVICE_ACCOUNT}"
                )
            ),
            opts=pulumi.ResourceOptions(provider=google),
        )
        created.update({u.name: [member] for u in use_cases if isinstance(u, VertexUseCase)})
    return created


def _with_gateway(endpoint: Endpoint, url: pulumi.Input[str], use_case: UseCaseBase) -> Endpoint:
    """The use case's endpoint, with how to call it through the gateway: the URL, the model name to
    send, and each consumer's way in (the stack config key its API key is kept under, or `jwt`)."""
    return dataclasses.replace(
        endpoint,
        gateway={
            "url": pulumi.Output.concat(url, "/v1"),
            "model": use_case.name,
            "consumers": {
                c.name: f"api-key: triplane:{c.key_secret}" if c.key_secret else "jwt"
                for c in sorted(use_case.consumers, key=lambda c: c.name)
            },
        },
    )


__all__ = ["front", "install", "upstream_key_secret"]
