"""The cloud-managed pattern: Bedrock, Azure OpenAI or Vertex AI over private networking only.

A use case names its cloud, its managed-model `service` and models; the spec is a union discriminated
by `service`, which defaults to the cloud's own service (bedrock on aws, azure-openai on azure, vertex
on gcp). Service-specific settings sit under `bedrock`, `azure_openai` or `vertex` (only the one of
the use case's service is allowed). Every default is the secure choice; anything weaker is a setting
someone wrote down, and the policy pack flags it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, StringConstraints, Tag, field_validator, model_validator

from triplane.components.versions import (
    azure_version_problem,
    bedrock_model_problem,
    model_problem,
    retired_replacement,
)
from triplane.stacks.spec.base import Cloud, Host, ManagedService, SpecModel
from triplane.stacks.spec.networks import private_address
from triplane.stacks.spec.use_case import UseCaseBase

if TYPE_CHECKING:
    from triplane.stacks.spec.environment import Environment

Strength = Literal["LOW", "MEDIUM", "HIGH"]
BedrockService = Literal["bedrock", "bedrock-agent", "bedrock-agent-runtime"]
VersionUpgrade = Literal["NoAutoUpgrade", "OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired"]
LogDestination = Literal["cloudwatch", "s3"]
LOG_DESTINATIONS: tuple[LogDestination, ...] = ("cloudwatch", "s3")
SecurityGroupId = Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]{8,17}$")]

# Bedrock PII entity types a guardrail can block or anonymise.
PII_TYPES = frozenset(
    {
        "ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER",
        "CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "CREDIT_DEBIT_CARD_NUMBER", "DRIVER_ID", "EMAIL",
        "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IP_ADDRESS", "LICENSE_PLATE", "MAC_ADDRESS", "NAME", "PASSWORD",
        "PHONE", "PIN", "SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER",
        "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "URL", "USERNAME", "US_BANK_ACCOUNT_NUMBER",
        "US_BANK_ROUTING_NUMBER", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "US_PASSPORT_NUMBER",
        "US_SOCIAL_SECURITY_NUMBER", "VEHICLE_IDENTIFICATION_NUMBER",
    }
)  # fmt: skip

# Model IDs per cloud, with an example for the error message.
_BEDROCK_MODEL = re.compile(r"^(?:(?:us|eu|apac|global|us-gov|jp|au|ca)\.)?[a-z0-9-]+\.[A-Za-z0-9._:-]+$")
_AZURE_MODEL = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_VERTEX_MODEL = re.compile(r"^(?:[a-z0-9-]+/)?[a-z0-9][a-z0-9._@-]*$")
_AZURE_VERSION = re.compile(r"^[0-9][0-9-]*$")
_AZURE_DEPLOYMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PRINCIPALS = {
    "aws": (
        re.compile(r"^arn:aws[\w-]*:iam::\d{12}:(role|user)/([\w+=,.@-]+/)*[\w+=,.@-]+$"),
        "an IAM role or user ARN such as arn:aws:iam::123456789012:role/app",
    ),
    "azure": (
        re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        "an Entra ID object ID (a lowercase GUID)",
    ),
    "gcp": (
        re.compile(r"^((user|serviceAccount|group|domain):\S+|principal(Set)?://\S+)$"),
        "an IAM member such as serviceAccount:app@project.iam.gserviceaccount.com",
    ),
}
_AZURE_KEY = r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/[^/]+/keys/[^/]+$"
_AWS_KEY = r"^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]+$"
_GCP_KEY = r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$"


class ManagedModel(SpecModel):
    id: str = Field(min_length=1, description="Bedrock model or inference-profile ID, Azure model name, Vertex model.")
    version: str | None = Field(default=None, description="Azure OpenAI model version, e.g. 2024-08-06.")
    sku: Literal["Standard", "GlobalStandard", "DataZoneStandard", "ProvisionedManaged"] | None = None
    capacity: int | None = Field(default=None, ge=1, le=10_000, description="Azure: thousands of tokens per minute.")
    deployment: str | None = Field(default=None, description="Azure deployment name; defaults to the model name.")


class DeniedTopic(SpecModel):
    name: str = Field(pattern=r"^[0-9A-Za-z_ !?.-]{1,100}$")
    definition: str = Field(min_length=1, max_length=200)
    examples: list[str] = Field(default_factory=list, max_length=5)


class BedrockGuardrail(SpecModel):
    """Content, prompt-attack, topic, word and PII filters; callers must name this guardrail."""

    content_filter_strength: Strength = "HIGH"
    prompt_attack_strength: Strength = "HIGH"
    denied_topics: list[DeniedTopic] = Field(default_factory=list, max_length=30)
    blocked_words: list[str] = Field(default_factory=list)
    profanity_filter: bool = True
    pii: dict[str, Literal["BLOCK", "ANONYMIZE"]] = Field(
        default_factory=dict, description="PII entity type -> BLOCK or ANONYMIZE, e.g. {EMAIL: ANONYMIZE}."
    )
    blocked_input_message: str = Field(
        default="This request was blocked by the organisation's content policy.", max_length=500
    )
    blocked_output_message: str = Field(
        default="The response was blocked by the organisation's content policy.", max_length=500
    )

    @field_validator("pii")
    @classmethod
    def _pii_types(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - PII_TYPES)
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; use Bedrock's names such as EMAIL, PHONE, NAME")
        return value


class BedrockLogging(SpecModel):
    """Model invocation logging is one setting per account and region: Triplane applies the union of
    every use case's destinations in the region and the longest retention."""

    destinations: list[LogDestination] = Field(
        default_factory=lambda: list(LOG_DESTINATIONS),
        description="Where requests and responses are recorded; an empty list turns logging off (flagged).",
    )
    retention_days: int = Field(default=365, ge=1, le=3653)


class BedrockSettings(SpecModel):
    extra_endpoints: list[BedrockService] = Field(
        default_factory=list, description="Interface endpoints besides bedrock-runtime."
    )
    allowed_security_groups: list[SecurityGroupId] = Field(
        default_factory=list, description="Security groups allowed to reach the endpoints, besides the app CIDRs."
    )
    guardrail: BedrockGuardrail | None = None
    logging: BedrockLogging = Field(default_factory=BedrockLogging)
    kms_key: str | None = Field(default=None, pattern=_AWS_KEY, description="Existing KMS key ARN for the guardrail.")


class AzureContentFilter(SpecModel):
    severity_threshold: Literal["Low", "Medium", "High"] = Field(
        default="Medium", description="Block hate, sexual, violence and self-harm content at this level and above."
    )
    prompt_shields: bool = True
    protected_material: bool = True


class AzureOpenAISettings(SpecModel):
    content_filter: AzureContentFilter | None = None
    version_upgrade: VersionUpgrade | None = Field(
        default=None,
        description="Defaults to NoAutoUpgrade in prod (every model then needs a `version`), "
        "OnceNewDefaultVersionAvailable elsewhere.",
    )
    customer_managed_key: bool = Field(
        default=True, description="false keeps Microsoft-managed keys (flagged by the policy pack)."
    )
    kms_key: str | None = Field(default=None, pattern=_AZURE_KEY, description="Existing Key Vault key resource ID.")
    allowed_outbound_fqdns: list[Host] = Field(
        default_factory=list,
        description="Hosts the account itself may reach (outbound is restricted to them), e.g. its Key Vault "
        "contoso-keys.vault.azure.net.",
    )
    log_workspace_id: str | None = Field(
        default=None, pattern=r"^/subscriptions/.+/providers/Microsoft\.OperationalInsights/workspaces/[^/]+$"
    )
    log_retention_days: int = Field(default=90, ge=30, le=730)

    @model_validator(mode="after")
    def _key(self) -> AzureOpenAISettings:
        if self.kms_key is not None and not self.customer_managed_key:
            raise ValueError("kms_key: a key is given but customer_managed_key is false; drop one of them")
        return self


class VpcServiceControls(SpecModel):
    access_policy: str | None = Field(default=None, pattern=r"^\d{1,20}$", description="Existing access policy ID.")
    organization_id: str | None = Field(
        default=None, pattern=r"^\d{1,20}$", description="Create a project-scoped access policy in this organisation."
    )
    perimeter_name: str = Field(default="triplane_vertex", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,49}$")

    @model_validator(mode="after")
    def _one_policy(self) -> VpcServiceControls:
        if (self.access_policy is None) == (self.organization_id is None):
            raise ValueError("set exactly one of `access_policy` (existing) or `organization_id` (create one)")
        return self


class VertexSettings(SpecModel):
    psc_target: Literal["all-apis", "vpc-sc"] | None = Field(
        default=None, description="Google APIs bundle behind the private endpoint; vpc-sc when a perimeter is set."
    )
    psc_address: str | None = Field(
        default=None, description="Internal IP for the Google APIs endpoint; required with an existing network."
    )
    vpc_service_controls: VpcServiceControls | None = None
    kms_key: str | None = Field(default=None, pattern=_GCP_KEY, description="Existing Cloud KMS key in the region.")
    log_retention_days: int = Field(default=365, ge=1, le=3650)
    data_caching: bool = Field(default=False, description="true keeps Gemini data caching on (flagged).")

    @field_validator("psc_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return private_address(value)

    @property
    def target(self) -> str:
        if self.psc_target is not None:
            return self.psc_target
        return "vpc-sc" if self.vpc_service_controls is not None else "all-apis"

    @model_validator(mode="after")
    def _perimeter_needs_restricted_vip(self) -> VertexSettings:
        if self.vpc_service_controls is not None and self.psc_target == "all-apis":
            raise ValueError(
                "psc_target: a VPC Service Controls perimeter needs the `vpc-sc` bundle "
                "(restricted.googleapis.com); remove psc_target or set it to vpc-sc"
            )
        return self


SERVICE_OF_CLOUD: dict[str, ManagedService] = {"aws": "bedrock", "azure": "azure-openai", "gcp": "vertex"}
"""The managed-model service a use case on each cloud runs on unless it names one (`service`)."""


class CloudManagedUseCase(UseCaseBase):
    """What every managed-model service's use case has; each service's subclass checks its own models."""

    pattern: Literal["cloud-managed"]
    service: ManagedService = Field(
        description="The managed-model service; defaults to the cloud's (bedrock, azure-openai, vertex)."
    )
    cloud: Cloud
    models: list[ManagedModel] = Field(min_length=1)
    allow_unlisted_model: bool = Field(
        default=False,
        description="true: accept model IDs (and Azure versions) that Triplane's dated catalog does not list yet "
        "(a newer model); their format and family are still checked, and the policy pack flags it.",
    )
    bedrock: BedrockSettings | None = None
    azure_openai: AzureOpenAISettings | None = None
    vertex: VertexSettings | None = None

    SERVICE_CLOUD: ClassVar[str] = ""
    """The cloud the service runs on."""
    SETTINGS: ClassVar[str] = ""
    """The key of the service's own settings block."""
    CATALOG: ClassVar[str] = ""
    """The service's key in Triplane's dated model catalog (`components.versions`)."""
    MODEL_ID: ClassVar[re.Pattern[str]] = re.compile("")
    MODEL_EXAMPLE: ClassVar[str] = ""
    DEPLOYMENT_FIELDS: ClassVar[bool] = False
    """Whether models take `version`, `sku`, `capacity` and `deployment` (Azure OpenAI deployments)."""

    @property
    def bedrock_settings(self) -> BedrockSettings:
        return self.bedrock or BedrockSettings()

    @property
    def azure_settings(self) -> AzureOpenAISettings:
        return self.azure_openai or AzureOpenAISettings()

    @property
    def vertex_settings(self) -> VertexSettings:
        return self.vertex or VertexSettings()

    def deployment_name(self, model: ManagedModel) -> str:
        return model.deployment or model.id

    @model_validator(mode="after")
    def _per_service(self) -> CloudManagedUseCase:
        if self.cloud != self.SERVICE_CLOUD:
            raise ValueError(
                f"service: {self.service} runs on {self.SERVICE_CLOUD}, not {self.cloud}; set cloud: "
                f"{self.SERVICE_CLOUD} or a service of {self.cloud} ({SERVICE_OF_CLOUD[self.cloud]})"
            )
        for block, cloud in (("bedrock", "aws"), ("azure_openai", "azure"), ("vertex", "gcp")):
            if getattr(self, block) is not None and block != self.SETTINGS:
                raise ValueError(f"{block}: only for cloud {cloud}; this use case runs on {self.cloud}")
        pattern, example = _PRINCIPALS[self.cloud]
        for i, principal in enumerate(self.allowed_principals):
            if not pattern.match(principal):
                raise ValueError(f"allowed_principals[{i}]: {principal!r} is not {example}")
        ids = [m.id for m in self.models]
        for i, model in enumerate(self.models):
            if ids.index(model.id) != i and not self.DEPLOYMENT_FIELDS:
                raise ValueError(f"models[{i}].id: {model.id!r} is listed twice")
            self.check_model(i, model)
        return self

    def check_model(self, i: int, model: ManagedModel) -> None:
        if not self.DEPLOYMENT_FIELDS:
            for azure_only in ("version", "sku", "capacity", "deployment"):
                if getattr(model, azure_only) is not None:
                    raise ValueError(f"models[{i}].{azure_only}: only Azure OpenAI deployments take `{azure_only}`")
        if not self.MODEL_ID.match(model.id):
            raise ValueError(f"models[{i}].id: {model.id!r} is not {self.MODEL_EXAMPLE}")
        self._check_service_model(i, model)
        if (problem := model_problem(self.CATALOG, model.id, allow_unlisted=self.allow_unlisted_model)) is not None:
            raise ValueError(f"models[{i}].id: {problem}")

    def _check_service_model(self, i: int, model: ManagedModel) -> None:
        """What the service checks of a model beyond its ID's form (nothing by default)."""

    def environment_problems(self, index: int, environment: Environment) -> list[str]:
        """The service's checks against the whole environment, as `field.path: message` lines."""
        return []


class BedrockUseCase(CloudManagedUseCase):
    service: Literal["bedrock"] = "bedrock"
    SERVICE_CLOUD = "aws"
    SETTINGS = "bedrock"
    CATALOG = "bedrock"
    MODEL_ID = _BEDROCK_MODEL
    MODEL_EXAMPLE = (
        "a Bedrock model or inference-profile ID such as "
        "amazon.nova-pro-v1:0 or us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )

    def environment_problems(self, index: int, environment: Environment) -> list[str]:
        aws = environment.clouds.aws
        if aws is None:
            return []
        return [
            f"use_cases[{index}].models[{j}].id: {problem}"
            for j, model in enumerate(self.models)
            if (problem := bedrock_model_problem(model.id, aws.region)) is not None
        ]


class AzureOpenAIUseCase(CloudManagedUseCase):
    service: Literal["azure-openai"] = "azure-openai"
    SERVICE_CLOUD = "azure"
    SETTINGS = "azure_openai"
    CATALOG = "azure"
    MODEL_ID = _AZURE_MODEL
    MODEL_EXAMPLE = "an Azure OpenAI model name such as gpt-4o"
    DEPLOYMENT_FIELDS = True

    @model_validator(mode="after")
    def _deployments(self) -> AzureOpenAIUseCase:
        names = [self.deployment_name(m) for m in self.models]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ValueError(
                    f"models[{i}].deployment: deployment name {name!r} is used twice; set `deployment` "
                    "to tell them apart"
                )
        if self.azure_settings.version_upgrade == "NoAutoUpgrade":
            _require_versions(self)
        return self

    def _check_service_model(self, i: int, model: ManagedModel) -> None:
        if model.version is not None and not _AZURE_VERSION.match(model.version):
            raise ValueError(f"models[{i}].version: {model.version!r} is not a model version such as 2024-08-06")
        if model.deployment is not None and not _AZURE_DEPLOYMENT.match(model.deployment):
            raise ValueError(
                f"models[{i}].deployment: {model.deployment!r} must be 1-64 letters, digits, `.`, `_` or `-`"
            )

    def check_model(self, i: int, model: ManagedModel) -> None:
        super().check_model(i, model)
        version = model.version if not self.allow_unlisted_model else None
        if version is not None and (problem := azure_version_problem(model.id, version)) is not None:
            raise ValueError(f"models[{i}].version: {problem}")

    def environment_problems(self, index: int, environment: Environment) -> list[str]:
        if version_upgrade(self, environment.tier) != "NoAutoUpgrade":
            return []
        return [
            f"use_cases[{index}].models[{j}].version: {environment.tier} pins Azure OpenAI deployments "
            '(NoAutoUpgrade), so each model needs an explicit version, e.g. version: "2024-08-06"'
            for j, model in enumerate(self.models)
            if not model.version
        ]


class VertexUseCase(CloudManagedUseCase):
    service: Literal["vertex"] = "vertex"
    SERVICE_CLOUD = "gcp"
    SETTINGS = "vertex"
    CATALOG = "vertex"
    MODEL_ID = _VERTEX_MODEL
    MODEL_EXAMPLE = "a Vertex AI model name such as gemini-3.5-flash"

    def _check_service_model(self, i: int, model: ManagedModel) -> None:
        if (replacement := retired_replacement("vertex", model.id.split("@")[0])) is not None:
            raise ValueError(f"models[{i}].id: {model.id} is retired on Vertex AI; use {replacement}")


def _service_of(value: Any) -> str | None:
    """The use case's `service`, or its cloud's own service when it names none."""
    if isinstance(value, dict):
        service = value.get("service")
        if service is None:
            # Without a known cloud any service's model reports the missing or unknown `cloud` alike.
            cloud = value.get("cloud")
            service = SERVICE_OF_CLOUD.get(cloud, "bedrock") if isinstance(cloud, str) else "bedrock"
        return service if isinstance(service, str) else None
    service = getattr(value, "service", None)
    return service if isinstance(service, str) else None


CloudManagedSpec = Annotated[
    Annotated[BedrockUseCase, Tag("bedrock")]
    | Annotated[AzureOpenAIUseCase, Tag("azure-openai")]
    | Annotated[VertexUseCase, Tag("vertex")],
    Discriminator(
        _service_of,
        custom_error_type="invalid_service",
        custom_error_message="service: set one of bedrock, azure-openai or vertex, or a cloud (aws, azure or gcp)",
    ),
]
"""A cloud-managed use case: the model of its managed-model service."""


def _require_versions(use_case: CloudManagedUseCase) -> None:
    for i, model in enumerate(use_case.models):
        if not model.version:
            raise ValueError(
                f"models[{i}].version: deployments pinned with NoAutoUpgrade need an explicit model version "
                '(e.g. version: "2024-08-06")'
            )


def version_upgrade(use_case: CloudManagedUseCase, tier: str) -> str:
    """The effective upgrade option: pinned in prod unless the spec says otherwise."""
    chosen = use_case.azure_settings.version_upgrade
    if chosen is not None:
        return chosen
    return "NoAutoUpgrade" if tier == "prod" else "OnceNewDefaultVersionAvailable"


def environment_problems(environment: Environment) -> list[str]:
    """Checks that need the whole environment (tier, sibling use cases), as `field.path: message` lines.

    Paths are relative to `triplane:environment`. Empty when everything is consistent.
    """
    problems: list[str] = []
    vertex_targets: dict[str, tuple[int, str]] = {}
    perimeters: dict[str, tuple[int, VpcServiceControls | None]] = {}
    for i, use_case in enumerate(environment.use_cases):
        if not isinstance(use_case, CloudManagedUseCase):
            continue
        problems.extend(use_case.environment_problems(i, environment))
        if isinstance(use_case, VertexUseCase):
            settings = use_case.vertex_settings
            target = settings.target
            gcp = environment.clouds.gcp
            existing = gcp.network.existing if gcp is not None else None
            if existing is not None and settings.psc_address is None and existing.google_apis_address is None:
                problems.append(
                    f"use_cases[{i}].vertex.psc_address: the GCP network already exists, so name an unused "
                    "internal IP for the Google APIs endpoint (here, or as the network's google_apis_address)"
                )
            if "gcp" in vertex_targets and vertex_targets["gcp"][1] != target:
                first = vertex_targets["gcp"][0]
                problems.append(
                    f"use_cases[{i}].vertex.psc_target: {target} differs from use_cases[{first}] "
                    f"({vertex_targets['gcp'][1]}); the VPC has one Google APIs endpoint, so use one bundle"
                )
            vertex_targets.setdefault("gcp", (i, target))
            if "gcp" in perimeters and perimeters["gcp"][1] != settings.vpc_service_controls:
                first = perimeters["gcp"][0]
                problems.append(
                    f"use_cases[{i}].vertex.vpc_service_controls: differs from use_cases[{first}]; a project has "
                    "one perimeter, so give every Vertex use case the same setting"
                )
            perimeters.setdefault("gcp", (i, settings.vpc_service_controls))
    return problems
