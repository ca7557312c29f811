"""Triplane as a Pulumi component package, for programs in any Pulumi language.

`pulumi package add` runs this package's provider (`python -m triplane.package`, or the plugin
folder `package/` of a checkout), which infers its schema from the argument types below. Each
component takes plain, documented inputs and builds one of Triplane's own components with them,
so a TypeScript, Go, C# or YAML program gets the same resources and secure defaults a Triplane stack
gets. Type tokens are `triplane:index:<Component>`.
"""

from pulumi import ComponentResource

from triplane.package.api_key_store import AwsApiKeyStore, AwsApiKeyStoreArgs
from triplane.package.azure_openai import (
    AzureOpenAIModelDeploymentArgs,
    AzureOpenAIPrivateAccount,
    AzureOpenAIPrivateAccountArgs,
)
from triplane.package.bedrock import BedrockPrivateEndpoint, BedrockPrivateEndpointArgs
from triplane.package.inputs import PackageInputError
from triplane.package.model_server import KubernetesModelServer, KubernetesModelServerArgs
from triplane.package.vertex import VertexPrivateEndpoint, VertexPrivateEndpointArgs

PACKAGE_NAME = "triplane"

COMPONENTS: list[type[ComponentResource]] = [
    BedrockPrivateEndpoint,
    AzureOpenAIPrivateAccount,
    VertexPrivateEndpoint,
    AwsApiKeyStore,
    KubernetesModelServer,
]
"""Every component the package offers, in the order of its schema."""

__all__ = [
    "COMPONENTS",
    "PACKAGE_NAME",
    "AwsApiKeyStore",
    "AwsApiKeyStoreArgs",
    "AzureOpenAIModelDeploymentArgs",
    "AzureOpenAIPrivateAccount",
    "AzureOpenAIPrivateAccountArgs",
    "BedrockPrivateEndpoint",
    "BedrockPrivateEndpointArgs",
    "KubernetesModelServer",
    "KubernetesModelServerArgs",
    "PackageInputError",
    "VertexPrivateEndpoint",
    "VertexPrivateEndpointArgs",
    "serve",
]


def serve() -> None:
    """Run the package's provider: the engine passes its address as the first argument and reads the port."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(components=COMPONENTS, name=PACKAGE_NAME, namespace=PACKAGE_NAME, version=_version())


def _version() -> str:
    """The installed Triplane's version, which the schema carries (SDKs generated from it are versioned)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("triplane")
    except PackageNotFoundError:
        return "0.0.0"
