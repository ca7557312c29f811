"""The cloud-managed pattern: Bedrock, Azure OpenAI and Vertex AI reachable only over private networking.

One component per use case (`BedrockEndpoint`, `AzureOpenAIEndpoint`, `VertexEndpoint`), plus the
pieces a cloud allows only once per VPC, region or project, which several use cases share:
`BedrockPrivateLink` (per VPC), `BedrockInvocationLogging` (per account and region),
`AzureOpenAIPrivateDns` (per VNet), `GoogleApisPrivateAccess` (per VPC), `VertexProject` (per project).
Each per-use-case component creates its own copy of these when none is passed in.
"""

from triplane.components.cloud_managed.azure_openai import (
    AzureContentFilterArgs,
    AzureOpenAIDeployment,
    AzureOpenAIEndpoint,
    AzureOpenAIEndpointArgs,
)
from triplane.components.cloud_managed.azure_openai_dns import AzureOpenAIPrivateDns, AzureOpenAIPrivateDnsArgs
from triplane.components.cloud_managed.bedrock import (
    BedrockEndpoint,
    BedrockEndpointArgs,
    BedrockGuardrailArgs,
    DeniedTopic,
)
from triplane.components.cloud_managed.bedrock_logging import BedrockInvocationLogging, BedrockInvocationLoggingArgs
from triplane.components.cloud_managed.bedrock_private_link import (
    BedrockAccess,
    BedrockPrivateLink,
    BedrockPrivateLinkArgs,
)
from triplane.components.cloud_managed.google_apis_psc import GoogleApisPrivateAccess, GoogleApisPrivateAccessArgs
from triplane.components.cloud_managed.vertex import VertexEndpoint, VertexEndpointArgs
from triplane.components.cloud_managed.vertex_project import VertexProject, VertexProjectArgs, VpcServiceControlsArgs

__all__ = [
    "AzureContentFilterArgs",
    "AzureOpenAIDeployment",
    "AzureOpenAIEndpoint",
    "AzureOpenAIEndpointArgs",
    "AzureOpenAIPrivateDns",
    "AzureOpenAIPrivateDnsArgs",
    "BedrockAccess",
    "BedrockEndpoint",
    "BedrockEndpointArgs",
    "BedrockGuardrailArgs",
    "BedrockInvocationLogging",
    "BedrockInvocationLoggingArgs",
    "BedrockPrivateLink",
    "BedrockPrivateLinkArgs",
    "DeniedTopic",
    "GoogleApisPrivateAccess",
    "GoogleApisPrivateAccessArgs",
    "VertexEndpoint",
    "VertexEndpointArgs",
    "VertexProject",
    "VertexProjectArgs",
    "VpcServiceControlsArgs",
]
