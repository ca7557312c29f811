"""The environment spec: pydantic models for the `triplane:environment` stack setting.

Everything a stack file says is validated here, before any resource is registered. Components
never see these models: the composition in `stacks.compose` turns them into plain arguments.
"""

from triplane.stacks.spec.base import CLASSIFICATION_RANK, Cloud, DataClassification, ManagedService, Pattern
from triplane.stacks.spec.cloud_managed import (
    AzureOpenAIUseCase,
    BedrockUseCase,
    CloudManagedUseCase,
    ManagedModel,
    VertexUseCase,
)
from triplane.stacks.spec.clusters import ExistingCluster, KubernetesCluster, NewCluster
from triplane.stacks.spec.environment import Environment, UseCase
from triplane.stacks.spec.errors import SpecError, validate_environment
from triplane.stacks.spec.networks import AwsCloud, AzureCloud, Clouds, GcpCloud
from triplane.stacks.spec.saas import SaasUseCase
from triplane.stacks.spec.self_managed import SelfManagedUseCase

__all__ = [
    "CLASSIFICATION_RANK",
    "AwsCloud",
    "AzureCloud",
    "AzureOpenAIUseCase",
    "BedrockUseCase",
    "Cloud",
    "CloudManagedUseCase",
    "Clouds",
    "DataClassification",
    "Environment",
    "ExistingCluster",
    "GcpCloud",
    "KubernetesCluster",
    "ManagedModel",
    "ManagedService",
    "NewCluster",
    "Pattern",
    "SaasUseCase",
    "SelfManagedUseCase",
    "SpecError",
    "UseCase",
    "VertexUseCase",
    "validate_environment",
]
