"""AWS: provider, VPC, Network Firewall, Secrets Manager, ECR pull-through cache, EKS and Bedrock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pulumi
from pulumi_aws import provider as aws_provider

from triplane.components.cloud_managed import (
    BedrockAccess,
    BedrockEndpoint,
    BedrockEndpointArgs,
    BedrockGuardrailArgs,
    BedrockInvocationLogging,
    BedrockInvocationLoggingArgs,
    BedrockPrivateLink,
    BedrockPrivateLinkArgs,
    DeniedTopic,
)
from triplane.components.cloud_managed.bedrock_private_link import RUNTIME
from triplane.components.deploy_runner.aws import DEFAULT_INSTANCE_TYPE, AwsDeployRunner, AwsDeployRunnerArgs
from triplane.components.deploy_runner.github import RunnerRegistration, runner_labels
from triplane.components.image_cache.aws import UPSTREAMS as CACHED_UPSTREAMS
from triplane.components.image_cache.aws import EcrPullThroughCache, EcrPullThroughCacheArgs
from triplane.components.images import AWS_CLI, ImageSource, cluster_autoscaler
from triplane.components.naming import physical_name
from triplane.components.network import layout
from triplane.components.network.aws import AwsNetwork, AwsNetworkArgs
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.observability.alerts import BedrockModels, MonitoredUseCase
from triplane.components.observability.forwarding import ManagedPrometheus
from triplane.components.references import AlertChannelReference, EgressReference
from triplane.components.saas.egress_aws import AwsEgressFirewall, AwsEgressFirewallArgs
from triplane.components.saas.saas_egress import EgressFirewall, KeyStoreBuilder, SaasEgressArgs, StoredKey
from triplane.components.saas.secret_store import AwsApiKeyStore, AwsApiKeyStoreArgs
from triplane.components.self_managed.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from triplane.components.self_managed.eks import EksCluster, EksClusterArgs
from triplane.components.self_managed.nodes import SystemNodes
from triplane.components.self_managed.storage import CacheStorageClasses, CacheStorageClassesArgs
from triplane.components.self_managed.weights_import import S3Import, WeightsImport, s3_import
from triplane.stacks.cloud_apis import aws_interface_endpoints
from triplane.stacks.clouds.seam import (
    CLOUD_MANAGED,
    CloudDiagram,
    CloudMonitoring,
    CloudPrices,
    CloudSeam,
    ClusterComponent,
    DiagramGraph,
    InCluster,
    ManagedModelService,
    NetworkRef,
    Path_,
    PlanMocks,
    WeightsJob,
    granted_endpoint,
    narrowed,
)
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.secrets import require_secret
from triplane.stacks.spec import Environment, KubernetesCluster, SaasUseCase
from triplane.stacks.spec.cloud_managed import BedrockUseCase
from triplane.stacks.spec.self_managed import SelfManagedUseCase

if TYPE_CHECKING:
    from triplane.components.observability.aws import PrometheusCharts
    from triplane.stacks.clusters import ClusterHandle

CLOUD = "aws"
SAAS_ENDPOINTS = ("secretsmanager", "sts")
"""Interface endpoints every AWS SaaS workload needs: its API key and its role's credentials."""


def provider(stack: str, environment: Environment) -> pulumi.ProviderResource | None:
    aws = environment.clouds.aws
    return aws_provider.Provider(f"{stack}-aws", region=aws.region) if aws else None


def prepare(ctx: StackContext) -> None:
    """Nothing: AWS has no per-account API enablement."""


def network(ctx: StackContext) -> AwsNetworkRef:
    """The environment's VPC: created on first use and shared afterwards, or the existing one."""
    return ctx.shared(("network", CLOUD), lambda: _network(ctx))


def _network(ctx: StackContext) -> AwsNetworkRef:
    aws = ctx.environment.clouds.aws
    if aws is None:
        raise ValueError("clouds.aws is not configured")
    settings = aws.network
    if settings.existing is not None:
        return AwsNetworkRef(
            region=aws.region,
            vpc_id=settings.existing.vpc_id,
            app_subnet_ids=list(settings.existing.app_subnet_ids),
            application_cidrs=list(settings.existing.application_cidrs),
        )
    assert settings.new is not None
    return AwsNetwork(
        f"{ctx.stack}-{CLOUD}",
        AwsNetworkArgs(
            region=aws.region,
            cidr=settings.new.cidr,
            zones=settings.new.zones,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    ).ref


def own(network: NetworkRef) -> AwsNetworkRef:
    return narrowed(network, AwsNetworkRef, "an AWS")


def api_paths(ctx: StackContext) -> None:
    """Interface endpoints are added by the components needing them (`stacks.cloud_apis`)."""


def egress(ctx: StackContext, network: NetworkRef, hosts: list[str], owners: dict[str, list[str]]) -> EgressFirewall:
    return AwsEgressFirewall(
        f"{ctx.prefix()}-egress",
        AwsEgressFirewallArgs(
            network=own(network), hosts=hosts, owners=owners, tags=ctx.tags(), protect_data=ctx.protect_data
        ),
        opts=ctx.opts(CLOUD),
    )


def egress_logs(firewall: EgressFirewall) -> pulumi.Input[str] | None:
    return firewall.alert_log_group if isinstance(firewall, AwsEgressFirewall | EgressReference) else None


def saas_paths(ctx: StackContext, network: NetworkRef) -> None:
    """The interface endpoints every SaaS workload of the VPC needs (the platform's, created once)."""
    endpoints = aws_interface_endpoints(ctx, own(network))
    for service in SAAS_ENDPOINTS:
        endpoints.endpoint(service)


def key_store(ctx: StackContext, use_case: SaasUseCase, network: NetworkRef) -> KeyStoreBuilder:
    """Secrets Manager. The workload reads its key and assumes its role from subnets without internet
    (the firewall drops the public endpoints): both APIs answer inside the VPC."""
    vpc = own(network)  # its interface endpoints are the platform's (`saas_paths`)

    def build(name: str, args: SaasEgressArgs, opts: pulumi.ResourceOptions) -> StoredKey:
        store = AwsApiKeyStore(
            name,
            AwsApiKeyStoreArgs(
                region=vpc.region,
                api_key=args.api_key,
                allowed_principals=args.allowed_principals,
                external_rotation=args.external_rotation,
                kms_key=args.kms_key,
                tags=args.tags,
                protect_data=args.protect_data,
            ),
            opts=opts,
        )
        return StoredKey(secret_ref=store.secret_arn, workload_identity=store.role_arn)

    return build


def image_cache_secrets(environment: Environment) -> Iterator[tuple[str, str]]:
    aws = environment.clouds.aws
    if aws is not None and any(c.new is not None and c.new.cloud == CLOUD for c in environment.kubernetes):
        # ECR caches Docker Hub and GHCR only with credentials.
        yield "clouds.aws.image_cache.docker_hub_secret", aws.image_cache.docker_hub_secret
        yield "clouds.aws.image_cache.ghcr_secret", aws.image_cache.ghcr_secret


def _cache(ctx: StackContext, region: str) -> EcrPullThroughCache:
    """The account's ECR pull-through cache in the environment's region, created once."""

    def build() -> EcrPullThroughCache:
        aws = ctx.environment.clouds.aws
        assert aws is not None
        return EcrPullThroughCache(
            f"{ctx.stack}-aws-images",
            EcrPullThroughCacheArgs(
                region=region,
                environment=ctx.stack,
                credentials={
                    "docker.io": require_secret(aws.image_cache.docker_hub_secret),
                    "ghcr.io": require_secret(aws.image_cache.ghcr_secret),
                },
                tags=ctx.tags(),
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts(CLOUD),
        )

    return ctx.shared(("image-cache", CLOUD), build)


def image_cache(ctx: StackContext, name: str, component: ClusterComponent) -> ImageSource:
    assert isinstance(component, EksCluster)
    ecr = _cache(ctx, network(ctx).region)
    ecr.grant_pull(f"{name}-image-cache", component.ref.node_role_arn)
    return ecr.source()


def deploy_runner(ctx: StackContext, spec: KubernetesCluster) -> AwsDeployRunner | None:
    """The GitHub Actions runner inside the VPC that the cluster's `deployer.runner` asks for."""
    assert spec.new is not None
    runner = spec.new.deployer.runner
    if runner is None:
        return None
    from triplane.stacks.egress import egress_for  # the egress firewall is built through this seam

    vpc = network(ctx)
    egress_for(ctx, CLOUD)  # the runner's only way out
    endpoints = aws_interface_endpoints(ctx, vpc) if spec.new.service_endpoints == "create" else None
    return AwsDeployRunner(
        f"{ctx.stack}-{spec.name}-deploy",
        AwsDeployRunnerArgs(
            network=vpc,
            registration=RunnerRegistration(runner.github, runner_labels(ctx.stack, runner.labels)),
            github_token=require_secret(runner.token_secret),
            interface_endpoints=endpoints,
            instance_type=runner.machine_type or DEFAULT_INSTANCE_TYPE,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )


def cluster(ctx: StackContext, spec: KubernetesCluster, system_nodes: SystemNodes, shared_cache: bool) -> EksCluster:
    new = spec.new
    assert new is not None
    vpc = network(ctx)
    runner = deploy_runner(ctx, spec)
    return EksCluster(
        f"{ctx.stack}-{spec.name}",
        EksClusterArgs(
            network=vpc,
            version=spec.version,
            api_access="authorized-networks" if new.api_access == "authorized-networks" else "private",
            api_authorized_cidrs=list(new.api_authorized_cidrs),
            deployer_cidrs=list(new.deployer.private_cidrs),
            deployer_principal=new.deployer.principal,
            deployer_security_group=runner.security_group_id if runner is not None else None,
            system_nodes=system_nodes,
            service_endpoints=new.service_endpoints == "create",
            interface_endpoints=aws_interface_endpoints(ctx, vpc) if new.service_endpoints == "create" else None,
            shared_cache=shared_cache,
            kms_key=new.kms_key,
            log_retention_days=new.log_retention_days,
            tags=ctx.tags(),
            protect_data=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )


def cluster_extras(ctx: StackContext, component: ClusterComponent, cluster: InCluster) -> tuple[str, str | None]:
    """GKE and AKS scale their pools themselves; EKS node groups need the cluster autoscaler. EKS brings
    no storage class for the model cache: Triplane's (encrypted EBS, EFS) are its classes."""
    assert isinstance(component, EksCluster)
    ClusterAutoscaler(
        f"{cluster.name}-autoscaler",
        ClusterAutoscalerArgs(
            cluster_name=component.ref.name,
            region=network(ctx).region,
            image=cluster.images.ref(cluster_autoscaler(cluster.version)),
            tags=cluster.labels,
        ),
        opts=cluster.opts,
    )
    classes = CacheStorageClasses(
        f"{cluster.name}-storage",
        CacheStorageClassesArgs(
            kms_key_arn=component.kms_key_arn, efs_file_system_id=component.efs_file_system_id, tags=cluster.labels
        ),
        opts=cluster.opts,
    )
    return classes.read_write_once, classes.read_write_many


def weights_import(
    ctx: StackContext, handle: ClusterHandle, use_case: SelfManagedUseCase, job: WeightsJob
) -> WeightsImport:
    """S3 through the cluster's gateway endpoint, with an EKS Pod Identity role."""
    bucket = use_case.weights.bucket
    assert bucket is not None
    assert handle.spec.new is not None
    cluster_name: pulumi.Input[str]
    agent: pulumi.Resource | None
    if isinstance(handle.component, EksCluster):
        cluster_name, agent = handle.component.ref.name, handle.component.pod_identity_agent
    else:  # the platform stack's cluster, its Pod Identity agent long running
        assert handle.reference is not None
        cluster_name, agent = handle.reference.name, None
    aws = ctx.environment.clouds.aws
    assert aws is not None
    return s3_import(
        job.name,
        S3Import(
            bucket=bucket.bucket,
            prefix=bucket.prefix,
            region=aws.region,
            cluster_name=cluster_name,
            namespace=use_case.service_name,
            app=job.app,
            image=handle.images.ref(AWS_CLI),
            model_path=job.model_path,
            kms_key_arn=use_case.weights.kms_key,
            pod_identity_agent=agent,
            # The S3 gateway endpoint comes with the cluster's service endpoints, or is stated to exist.
            private_path="created" if handle.spec.new.service_endpoints == "create" else "declared",
            public_path="firewall" if aws.network.new is not None else "declared",
            tags=job.tags,
            timeout_seconds=job.timeout_seconds,
        ),
        ctx.opts(CLOUD),
    )


def _behind_gateway(environment: Environment) -> bool:
    """The environment's AI gateway runs on its EKS cluster and calls Bedrock with its Pod Identity role."""
    gateway = environment.gateway
    if gateway is None:
        return False
    cluster = environment.cluster(gateway.cluster)
    return cluster.new is not None and cluster.new.cloud == CLOUD


def _siblings(ctx: StackContext) -> list[BedrockUseCase]:
    return [u for u in ctx.environment.use_cases if isinstance(u, BedrockUseCase)]


def bedrock_shared(
    use_case: BedrockUseCase, ctx: StackContext
) -> tuple[BedrockPrivateLink, BedrockInvocationLogging | None]:
    """The platform's part of a Bedrock use case: the VPC's endpoints (their policy holds one set of
    statements per use case) and the region's invocation logging (union of destinations, longest
    retention), each created once for every Bedrock use case the platform serves."""
    vpc = network(ctx)
    siblings = _siblings(ctx)
    region = vpc.region

    def private_link() -> BedrockPrivateLink:
        return BedrockPrivateLink(
            f"{ctx.stack}-bedrock-privatelink",
            BedrockPrivateLinkArgs(
                network=vpc,
                access=[
                    BedrockAccess(
                        model_ids=[m.id for m in u.models],
                        principals=list(u.allowed_principals),
                        guardrail=u.bedrock_settings.guardrail is not None,
                        roles=[gateway_role_name(ctx.stack)] if _behind_gateway(ctx.environment) else [],
                    )
                    for u in siblings
                ],
                services=sorted({RUNTIME, *(s for u in siblings for s in u.bedrock_settings.extra_endpoints)}),
                allowed_security_group_ids=sorted(
                    {g for u in siblings for g in u.bedrock_settings.allowed_security_groups}
                ),
                tags=ctx.tags(),
            ),
            opts=ctx.opts(CLOUD),
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
            opts=ctx.opts(CLOUD),
        )

    link = ctx.shared((CLOUD_MANAGED, "bedrock-privatelink", CLOUD), private_link)
    logging = ctx.shared((CLOUD_MANAGED, "bedrock-logging", region), invocation_logging)
    return link, logging


def gateway_role_name(stack: str) -> str:
    """The IAM role the AI gateway's proxies assume on EKS (Pod Identity): named, so the Bedrock
    endpoint policy can admit it before it exists."""
    return physical_name(stack, "ai-gateway", kind="iam_role")


def bedrock(use_case: BedrockUseCase, ctx: StackContext) -> Endpoint:
    """A Bedrock use case's own endpoint, on the platform's private link and invocation logging."""
    component = bedrock_endpoint(ctx, use_case)
    return granted_endpoint(component, use_case.allowed_principals, "aws-iam", component.invoke_policy_arn)


def bedrock_endpoint(ctx: StackContext, use_case: BedrockUseCase) -> BedrockEndpoint:
    """The use case's `BedrockEndpoint`, built once (the gateway attaches its invoke policy too)."""
    return ctx.shared(("bedrock-endpoint", use_case.name), lambda: _bedrock_endpoint(ctx, use_case))


def _bedrock_endpoint(ctx: StackContext, use_case: BedrockUseCase) -> BedrockEndpoint:
    vpc = network(ctx)
    settings = use_case.bedrock_settings
    link, logging = bedrock_shared(use_case, ctx)
    guardrail = settings.guardrail
    return BedrockEndpoint(
        ctx.prefix(use_case),
        BedrockEndpointArgs(
            network=vpc,
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
        opts=ctx.component_opts(CLOUD, use_case),
    )


def diagram_network(graph: DiagramGraph, environment: Environment) -> Path_ | None:
    aws = environment.clouds.aws
    if aws is None:
        return None
    graph.box((CLOUD,), f"AWS {aws.region}", "cloud")
    if aws.network.new is not None:
        new = aws.network.new
        graph.box((CLOUD, "vpc"), f"VPC {new.cidr} (new)\nzones {', '.join(new.zones)}", "network")
        subnets = [layout.block(new.cidr, layout.AWS_APP + i) for i in range(len(new.zones))]
        return graph.box((CLOUD, "vpc", "app"), "application subnets\n" + ", ".join(subnets), "subnet")
    existing = aws.network.existing
    assert existing is not None
    graph.box((CLOUD, "vpc"), f"VPC {existing.vpc_id} (existing)", "network")
    return graph.box(
        (CLOUD, "vpc", "app"),
        "application subnets\n"
        + ", ".join(existing.app_subnet_ids)
        + "\napps "
        + ", ".join(existing.application_cidrs),
        "subnet",
    )


def bedrock_diagram(
    graph: DiagramGraph, environment: Environment, use_case: BedrockUseCase, name: str
) -> tuple[Path_, Path_]:
    aws = environment.clouds.aws
    assert aws is not None
    extra = sorted(
        {s for u in environment.use_cases if isinstance(u, BedrockUseCase) for s in u.bedrock_settings.extra_endpoints}
    )
    label = f"interface endpoint (PrivateLink)\ncom.amazonaws.{aws.region}.bedrock-runtime"
    if extra:
        label += "\nalso " + ", ".join(extra)
    endpoint = graph.box((CLOUD, "vpc", "bedrock_endpoint"), label, "cloud_managed")
    graph.box((CLOUD, "bedrock"), f"Amazon Bedrock ({aws.region})", "managed")
    auth = "IAM auth" + (", guardrail" if use_case.bedrock_settings.guardrail is not None else "")
    model = graph.box((CLOUD, "bedrock", name), "\n".join([*(m.id for m in use_case.models), auth]), "cloud_managed")
    return endpoint, model


BEDROCK_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"),
    "uk": ("eu-west-2",),
    "ch": ("eu-central-2",),
    "ca": ("ca-central-1",),
    "jp": ("ap-northeast-1",),
    "au": ("ap-southeast-2",),
    "in": ("ap-south-1",),
    "br": ("sa-east-1",),
    "kr": ("ap-northeast-2",),
    "sg": ("ap-southeast-1",),
}
"""As of 2025-05."""


def zones(environment: Environment) -> int:
    aws = environment.clouds.aws
    if aws is None:
        return 1
    if aws.network.new is not None:
        return len(aws.network.new.zones)
    return len(aws.network.existing.app_subnet_ids) if aws.network.existing is not None else 1


# --- plan mocks ----------------------------------------------------------------------------------

ACCOUNT_ID = "123456789012"
CALLER_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/triplane-plan/plan-session"
"""Plans run as a role session, as CI does: what needs the IAM principal must resolve the role."""
DEPLOYER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/triplane-plan"
INVOKES: dict[str, dict[str, Any]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": {
        "accountId": ACCOUNT_ID,
        "arn": CALLER_ARN,
        "userId": "AROATRIPLANEPLAN:plan-session",
        "id": ACCOUNT_ID,
    },
    "aws:index/getPartition:getPartition": {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
        "id": "aws",
    },
    "aws:iam/getSessionContext:getSessionContext": {
        "arn": CALLER_ARN,
        "issuerArn": DEPLOYER_ROLE_ARN,
        "issuerId": "AROATRIPLANEPLAN",
        "issuerName": "triplane-plan",
        "sessionName": "plan-session",
        "id": CALLER_ARN,
    },
}


def mock_resource(type_: str, name: str, inputs: dict[str, Any], state: dict[str, Any]) -> str:
    service = type_.split(":")[1].split("/")[0]
    state.setdefault("arn", f"arn:aws:{service}:us-east-1:{ACCOUNT_ID}:{name}")
    state.setdefault("name", inputs.get("name", name))
    if type_ == "aws:ec2/vpcEndpoint:VpcEndpoint":
        service_name = str(inputs.get("serviceName", "service"))
        host = service_name.split(".")[-1]
        state["dnsEntries"] = [{"dnsName": f"vpce-{name}.{host}.vpce.amazonaws.com", "hostedZoneId": "Z7HUB22UULQXV"}]
    if type_ == "aws:ec2/eip:Eip":
        state["publicIp"] = "203.0.113.10"
        state["allocationId"] = f"eipalloc-{name}"
    if type_ == "aws:kms/key:Key":
        state["keyId"] = f"{name}-key-id"
    if type_ == "aws:lambda/function:Function":
        state["arn"] = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{inputs.get('name', name)}"
    if type_ == "aws:amp/workspace:Workspace":
        # As the service reports them: the ARN under `aps`, the endpoint ending in the workspace ID and a slash.
        state["arn"] = f"arn:aws:aps:us-east-1:{ACCOUNT_ID}:workspace/{name}-id"
        state["prometheusEndpoint"] = f"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{name}-id/"
    if type_ == "aws:bedrock/guardrail:Guardrail":
        state["guardrailId"] = f"{name}-id"
        state["guardrailArn"] = f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:guardrail/{name}-id"
        state["version"] = "DRAFT"
    if type_ == "aws:bedrock/guardrailVersion:GuardrailVersion":
        state["version"] = "1"
    if type_ == "aws:networkfirewall/firewall:Firewall":
        # One endpoint per subnet mapping, reported as the service does once the firewall exists.
        state["firewallStatuses"] = [
            {
                "syncStates": [
                    {
                        "availabilityZone": f"zone-{index}",
                        "attachments": [{"endpointId": f"vpce-{name}-{index}", "subnetId": mapping.get("subnetId")}],
                    }
                    for index, mapping in enumerate(inputs.get("subnetMappings") or [])
                ]
            }
        ]
    if type_ == "aws:eks/cluster:Cluster":
        state["endpoint"] = f"https://{name}.eks.amazonaws.com"
        state["certificateAuthority"] = {"data": "Y2VydGlmaWNhdGU="}
        state["identities"] = [{"oidcs": [{"issuer": f"https://oidc.eks.amazonaws.com/id/{name}"}]}]
        state["vpcConfig"] = dict(inputs.get("vpcConfig", {}), clusterSecurityGroupId=f"sg-{name}")
    return f"{name}-id"


def mock_call(token: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    if token in INVOKES:
        return dict(INVOKES[token])
    if token == "aws:ssm/getParameter:getParameter":  # the public AMI parameters
        return {"id": args["name"], "name": args["name"], "type": "String", "value": "ami-0a1b2c3d4e5f60718"}
    if token == "aws:ec2/getVpc:getVpc":
        return {"id": args.get("id"), "cidrBlock": "10.0.0.0/16", "arn": "arn:aws:ec2:vpc"}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {"names": ["us-east-1a", "us-east-1b", "us-east-1c"], "id": "zones"}
    return None


def alert_channel(
    ctx: StackContext, emails: list[str], alarm_stacks: Sequence[str], prometheus: bool
) -> AlertChannelReference:
    """An SNS topic (its own KMS key) that only the alarms of `alarm_stacks` (and, with `prometheus`, the
    alert managers of this account's managed Prometheus workspaces) publish to, mailing `emails`."""
    from triplane.components.observability.aws import AwsAlertChannel, AwsAlertChannelArgs

    assert ctx.environment.clouds.aws is not None
    channel = AwsAlertChannel(
        f"{ctx.stack}-{CLOUD}-alerts",
        AwsAlertChannelArgs(
            prefix=ctx.stack,
            region=ctx.environment.clouds.aws.region,
            emails=emails,
            alarm_prefixes=list(alarm_stacks),
            prometheus=prometheus,
            tags=ctx.tags(),
            protect=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )
    return AlertChannelReference(CLOUD, channel.topic_arn, ready=[channel.policy])


def alarms(ctx: StackContext, channel: AlertChannelReference, use_cases: Sequence[MonitoredUseCase]) -> object:
    """CloudWatch alarms on the Bedrock use cases, notifying the topic, and their dashboard (with a row for
    each model server and gateway route on an EKS cluster with a managed Prometheus, drawn by a chart
    function per workspace)."""
    from triplane.components.observability.aws import AwsMonitoring, AwsMonitoringArgs

    assert ctx.environment.clouds.aws is not None
    return AwsMonitoring(
        f"{ctx.stack}-{CLOUD}-monitoring",
        AwsMonitoringArgs(
            prefix=ctx.stack,
            region=ctx.environment.clouds.aws.region,
            topic_arn=cast(str, channel.target),
            use_cases=use_cases,
            servers=prometheus_charts(ctx, use_cases),
            tags=ctx.tags(),
        ),
        opts=ctx.opts(CLOUD, depends_on=channel.ready),
    )


def prometheus_charts(ctx: StackContext, use_cases: Sequence[MonitoredUseCase]) -> dict[str, PrometheusCharts]:
    """A chart function per EKS cluster (built here or the platform stack's) whose managed Prometheus holds
    the series of a model server or gateway route of `use_cases`, in the cluster's VPC."""
    from triplane.components.observability.aws import PrometheusCharts
    from triplane.components.observability.aws_charts import AwsPrometheusCharts, AwsPrometheusChartsArgs
    from triplane.stacks.clusters import charted_clusters, gpu_metrics_source

    aws = ctx.environment.clouds.aws
    assert aws is not None
    found: dict[str, PrometheusCharts] = {}
    for handle in charted_clusters(ctx, use_cases, CLOUD):
        assert handle.prometheus_workspace is not None
        name = handle.spec.name
        endpoints = dict(ctx.built()).get(("aws-interface-endpoints", CLOUD))  # the VPC's, when this stack holds them
        charts = AwsPrometheusCharts(
            f"{ctx.stack}-{name}-prometheus-charts",
            AwsPrometheusChartsArgs(
                prefix=f"{ctx.stack}-{name}",
                region=aws.region,
                workspace_id=handle.prometheus_workspace,
                network=own(network(ctx)),
                endpoints=endpoints,
                tags=ctx.tags(),
                protect=ctx.protect_data,
            ),
            opts=ctx.opts(CLOUD),
        )
        found[name] = PrometheusCharts(
            cluster=_cluster_name(handle),
            function_arn=charts.function_arn,
            gpu_metrics=gpu_metrics_source(ctx.environment, handle.spec) is not None,
        )
    return found


def _cluster_name(handle: ClusterHandle) -> pulumi.Input[str]:
    """The cluster's name in EKS (built here, or the platform stack's, as its contract names it)."""
    if handle.ref is not None:
        return handle.ref.name
    return handle.reference.name if handle.reference is not None else handle.spec.name


def managed_prometheus(
    ctx: StackContext, spec: KubernetesCluster, cluster: ClusterComponent, channel: AlertChannelReference
) -> ManagedPrometheus:
    """The EKS cluster's Amazon Managed Service for Prometheus workspace, its alert manager publishing to
    the channel's topic; the cluster's Prometheus writes to it over the `aps-workspaces` endpoint."""
    from triplane.components.observability.aws_prometheus import AwsManagedPrometheus, AwsManagedPrometheusArgs

    assert isinstance(cluster, EksCluster) and spec.new is not None
    aws = ctx.environment.clouds.aws
    assert aws is not None
    create = spec.new.service_endpoints == "create"
    workspace = AwsManagedPrometheus(
        f"{ctx.stack}-{spec.name}-prometheus",
        AwsManagedPrometheusArgs(
            prefix=f"{ctx.stack}-{spec.name}",
            region=aws.region,
            cluster_name=cluster.ref.name,
            topic_arn=cast(str, channel.target),
            endpoints=aws_interface_endpoints(ctx, network(ctx)) if create else None,
            pod_identity_agent=cluster.pod_identity_agent,
            channel_ready=channel.ready,
            tags=ctx.tags(),
            protect=ctx.protect_data,
        ),
        opts=ctx.opts(CLOUD),
    )
    return ManagedPrometheus(workspace=workspace.workspace_id, forwarding=workspace.forwarding)


def cluster_alerts(
    ctx: StackContext, handle: ClusterHandle, channel: AlertChannelReference, use_cases: Sequence[MonitoredUseCase]
) -> object:
    """The alerting rules of the cluster's servers and gateway routes, as rule groups namespaces of its
    workspace (whose alert manager publishes to `channel`)."""
    from triplane.components.observability.aws_prometheus import AwsPrometheusRules, AwsPrometheusRulesArgs
    from triplane.components.observability.prometheus import rules

    assert handle.prometheus_workspace is not None
    return AwsPrometheusRules(
        f"{ctx.stack}-{handle.spec.name}-prometheus-rules",
        AwsPrometheusRulesArgs(workspace_id=handle.prometheus_workspace, rules=rules(use_cases), tags=ctx.tags()),
        opts=ctx.opts(CLOUD, depends_on=channel.ready),
    )


SEAM = CloudSeam(
    name=CLOUD,
    provider=provider,
    prepare=prepare,
    network=network,
    api_paths=api_paths,
    egress=egress,
    egress_sources=(),
    egress_logs=egress_logs,
    key_store=key_store,
    saas_paths=saas_paths,
    image_cache_secrets=image_cache_secrets,
    image_cache=image_cache,
    cached_registries=frozenset(CACHED_UPSTREAMS),
    cluster=cluster,
    cluster_extras=cluster_extras,
    weights_import=weights_import,
    load_balancer_annotations={
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    },
    device_plugin_installed_by="bottlerocket",
    monitoring=CloudMonitoring(
        channel=alert_channel,
        alerts=alarms,
        target=BedrockModels,
        prometheus=managed_prometheus,
        cluster_alerts=cluster_alerts,
        charts_servers=True,
    ),
    managed_models={
        "bedrock": ManagedModelService(
            build=bedrock,
            platform=bedrock_shared,
            diagram=bedrock_diagram,
            shared_endpoint="bedrock-runtime interface endpoint",
            price_vendor="aws",
            regions=BEDROCK_REGIONS,
        )
    },
    diagram=CloudDiagram(
        kubernetes="EKS",
        network_key="vpc",
        egress="Network Firewall + NAT gateway",
        secret_store="Secrets Manager",
        network=diagram_network,
    ),
    prices=CloudPrices(
        egress_per_gb=("firewall", "nat_gateway"),
        egress_hourly=("firewall", "nat_gateway"),
        private_endpoint="interface_endpoint",
        own_endpoint=False,
        zones=zones,
        prometheus_path="interface_endpoint",  # aps-workspaces
        prometheus_monthly=("kms_key",),  # the workspace's and its logs' key
        prometheus_charts=("chart_function", "kms_key"),  # the function and its logs' key
    ),
    example_principal="arn:aws:iam::123456789012:role/app",
    mocks=PlanMocks(package="aws", resource=mock_resource, call=mock_call),
)
"""EKS GPU pools use Bottlerocket's NVIDIA AMI, which has the device plugin built in."""
