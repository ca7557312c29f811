"""Kubernetes clusters that serve self-managed models: created per cloud, or existing (on premises)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from triplane.components.deploy_runner.github import GITHUB_URL
from triplane.components.versions import DEFAULT_KUBERNETES, KUBERNETES_STANDARD_SUPPORT, kubernetes_problem
from triplane.policies.cluster_api import MAX_PUBLIC_PREFIX, POLICY, allowed_wide_ranges, is_public
from triplane.stacks.spec.base import Cloud, ConfigKey, Host, Name, SpecModel
from triplane.stacks.spec.networks import private_cidr

LabelKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
    ),
]
LabelValue = Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]


class SystemNodes(SpecModel):
    """The small always-on pool for cluster services (DNS, CNI, metrics); GPU pools come from use cases."""

    machine_type: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{2,64}$",
        description="Defaults: m6i.large (AWS), Standard_D4ds_v5 (Azure), e2-standard-4 (GCP).",
    )
    min: int = Field(default=2, ge=1, le=20)
    max: int = Field(default=3, ge=1, le=100)
    disk_size_gb: int = Field(default=100, ge=30, le=2048)

    @model_validator(mode="after")
    def _ordered(self) -> SystemNodes:
        if self.min > self.max:
            raise ValueError(f"min: {self.min} is more than max ({self.max})")
        return self


DEPLOYER_OPTIONS = (
    "declare how `pulumi up` reaches it to create Kubernetes objects, one of: "
    "(a) on aws and azure, `deployer: {runner: {github: <repository or organization URL>, token_secret: "
    "<config key>}}`: "
    "Triplane creates a GitHub Actions runner inside the cluster's network; "
    "(b) `deployer: {private_cidrs: [<the runner's private range>]}` when deploys run from a deploy agent or "
    "self-hosted runner of your own inside the environment network or a network peered or connected to it; "
    "(c) `api_access: authorized-networks` with `api_authorized_cidrs: [<the runner's public egress, /24 or "
    "narrower>]`; "
    "(d) on gcp, `api_access: dns-endpoint` (the control plane's DNS name, authorized by IAM alone)"
)
"""The ways in to a new cluster's API server, listed whenever a private one declares none."""

PRINCIPAL_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (
        re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$"),
        "an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/ci-deploy",
    ),
    "azure": (
        re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"),
        "the Entra ID object ID (a GUID) of the user, group or service principal",
    ),
    "gcp": (
        re.compile(r"^((user|serviceAccount|group):[^@\s:]+@[^@\s]+|principal(Set)?://\S+)$"),
        "an IAM member, e.g. serviceAccount:ci-deploy@my-project.iam.gserviceaccount.com",
    ),
}
def policy_allowed_wide_ranges() -> dict[str, str]:
    """The public ranges wider than /24 the project's policy config allows, with their reasons.

    The gate reads the same file (the project's `policies/policy-config.json`, through the same
    loader), so a range is usable end to end exactly when the `cluster-api-authorized-ranges` policy
    accepts it too. A project without that file gets the pack's default: no wide range.
    """
    from triplane.gate import GateError, default_config, load_policy_config  # only for a wide range

    path = default_config()
    try:
        config = load_policy_config(path)
        return allowed_wide_ranges((config.get(POLICY) or {}).get("allowedWideRanges"))
    except (GateError, ValueError) as exc:
        raise ValueError(f"{path.name if path is not None else 'policy config'}: {exc}") from None


def _public_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR block such as 203.0.113.0/28 ({exc})") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError(f"{value}: list IPv4 blocks (the runner's public egress addresses)")
    if not is_public(network):
        raise ValueError(
            f"{value} is not a public block: these open the public endpoint, which sees public addresses "
            "only; list a runner's private range in `deployer.private_cidrs` (EKS opens it in the cluster "
            "security group, GKE adds it to the private endpoint's authorized networks; AKS applies "
            "authorized ranges to its public endpoint alone)"
        )
    if network.prefixlen < MAX_PUBLIC_PREFIX and str(network) not in policy_allowed_wide_ranges():
        raise ValueError(
            f"{value} opens the API server to too much of the internet; list the runner's egress "
            f"addresses, /{MAX_PUBLIC_PREFIX} or narrower (or allow this exact range, with its reason, in "
            f"the policy config's {POLICY}.allowedWideRanges)"
        )
    return str(network)


RunnerLabel = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]


class DeployRunner(SpecModel):
    """A GitHub Actions self-hosted runner Triplane creates inside the cluster's network (aws, azure).

    It registers under the label `triplane-<stack>` (and `labels`); jobs that deploy this stack, and its
    use-case stacks, run on it with `runs-on: [self-hosted, triplane-<stack>]`.
    """

    github: str = Field(
        pattern=GITHUB_URL.pattern,
        description="Where the runner registers: https://github.com/<owner>/<repo>, or https://github.com/<org> "
        "for an organization runner.",
    )
    token_secret: ConfigKey = Field(
        description="Stack config key holding a GitHub token that may create runner registration tokens (a "
        "fine-grained token or GitHub App token with Administration: write on the repository, or Self-hosted "
        "runners: write on the organization): `pulumi config set --secret triplane:<key>`. It is stored in the "
        "runner's secret store and read by the runner machine alone."
    )
    labels: list[RunnerLabel] = Field(default_factory=list, description="Labels besides `triplane-<stack>`.")
    machine_type: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$",
        description="The instance type or VM size; defaults: t3.large (aws), Standard_D2s_v5 (azure), 8 GiB "
        "of memory for `pulumi up` with the cloud providers.",
    )
    ssh_public_key: str | None = Field(
        default=None,
        pattern=r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( [^\n]*)?$",
        description="azure: the admin account's SSH public key, which Azure requires of a Linux VM with password "
        "login disabled. No rule lets SSH in; administrators use Run Command.",
    )
    egress_hosts: list[Host] = Field(
        default_factory=list,
        description=(
            "Named hosts the runner's jobs reach besides GitHub and Pulumi, through the egress firewall: your "
            "package index or its mirror, a state backend, and GitHub Actions' storage accounts for logs and "
            "artifacts, listed by `GET https://api.github.com/meta` under `domains.actions_inbound` (the "
            "`*.blob.core.windows.net` names, one by one: a wildcard there would reach every Azure tenant)."
        ),
    )


class Deployer(SpecModel):
    """Who runs `pulumi up` against a new cluster, and from where."""

    private_cidrs: list[str] = Field(
        default_factory=list,
        description=(
            "Private (RFC 1918) source ranges of a deploy agent or self-hosted runner inside the environment "
            "network or a network peered or connected to it (VPN, Interconnect, Direct Connect). Listing them "
            "declares that deploys reach the private API endpoint from there: EKS opens HTTPS from them in the "
            "cluster security group, GKE adds them to the authorized networks of its private endpoint; on AKS "
            "the runner's network must be linked to the cluster's private DNS zone."
        ),
    )
    principal: str | None = Field(
        default=None,
        description=(
            "The identity `pulumi up` runs as, granted the cluster role Triplane's Kubernetes objects need: "
            "AWS an IAM role or user ARN (the role, not an sts assumed-role session), Azure an Entra ID object "
            "ID, GCP an IAM member (serviceAccount:..., user:..., group:..., principal://...). Name the CI "
            "identity here so every run grants the same one; unset, the identity running `pulumi up` is found "
            "at deploy time."
        ),
    )

    runner: DeployRunner | None = Field(
        default=None,
        description="A GitHub Actions runner Triplane creates inside the cluster's network (aws, azure): the way "
        "in to a private API, created by `triplane first-deploy` from anywhere.",
    )

    @field_validator("private_cidrs")
    @classmethod
    def _private(cls, values: list[str]) -> list[str]:
        return [private_cidr(value) for value in values]


class NewCluster(SpecModel):
    cloud: Cloud = Field(description="EKS, AKS or GKE, in that cloud's environment network.")
    api_access: Literal["private", "authorized-networks", "dns-endpoint"] = Field(
        default="private",
        description=(
            "`private`: the API server has only a private endpoint; deploys run inside the network (declare "
            "`deployer.private_cidrs`). `authorized-networks`: also a public endpoint, open only to "
            "`api_authorized_cidrs`. `dns-endpoint` (gcp): the IP endpoints stay private and deploys reach "
            "the control plane through its DNS name, authorized by IAM on every request."
        ),
    )
    api_authorized_cidrs: list[str] = Field(
        default_factory=list,
        description=(
            "Public IPv4 blocks, /24 or narrower (e.g. a CI runner's egress addresses), allowed to reach the "
            "public API endpoint; a wider one only when policies/policy-config.json allows that exact range "
            "with its reason (cluster-api-authorized-ranges.allowedWideRanges)."
        ),
    )
    deployer: Deployer = Field(
        default_factory=Deployer,
        description="Where `pulumi up` runs from and which identity it uses to create Kubernetes objects.",
    )
    system_nodes: SystemNodes = Field(default_factory=SystemNodes)
    service_endpoints: Literal["create", "existing"] = Field(
        default="create",
        description=(
            "AWS: the interface endpoints private nodes need (ECR, S3, STS, EC2, EKS, ...) are created, or "
            "the "
            "VPC already has them (or a NAT path)."
        ),
    )
    kms_key: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "Existing key for secrets encryption (AWS key ARN, GCP crypto key ID, Azure key URI with its "
            "version); otherwise one is created."
        ),
    )
    kms_key_vault: str | None = Field(
        default=None, min_length=1, description="Azure: resource ID of the Key Vault holding `kms_key`."
    )
    log_retention_days: int = Field(default=365, ge=1, le=3653, description="Control-plane log retention.")

    @field_validator("api_authorized_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        return [_public_cidr(value) for value in values]

    @model_validator(mode="after")
    def _access(self) -> NewCluster:
        if self.api_access == "authorized-networks" and not self.api_authorized_cidrs:
            raise ValueError(
                "api_authorized_cidrs: list the public blocks (the deploy runner's egress, /24 or narrower) "
                "allowed to reach the public API endpoint"
            )
        if self.api_access != "authorized-networks" and self.api_authorized_cidrs:
            raise ValueError("api_authorized_cidrs: only used with `api_access: authorized-networks`")
        if self.api_access == "dns-endpoint" and self.cloud != "gcp":
            raise ValueError(f"api_access: only GKE has a DNS-based control-plane endpoint; {self.options()}")
        runner = self.deployer.runner
        if runner is not None and self.cloud == "gcp":
            raise ValueError(
                "deployer.runner: Triplane creates deploy runners in aws and azure networks; a GKE control plane "
                "is reached from anywhere through its DNS endpoint, authorized by IAM: use `api_access: dns-endpoint`"
            )
        if runner is not None and (runner.ssh_public_key is None) == (self.cloud == "azure"):
            raise ValueError(
                "deployer.runner.ssh_public_key: "
                + ("Azure requires an SSH public key of a Linux VM's admin account; give one (nothing lets SSH in)"
                   if self.cloud == "azure" else "only Azure VMs take one; remove it")
            )
        if self.api_access == "private" and not self.deployer.private_cidrs and self.deployer.runner is None:
            raise ValueError(
                f"deployer: the API server is private and nothing says how deploys reach it; {self.options()}"
            )
        principal = self.deployer.principal
        if principal is not None:
            pattern, form = PRINCIPAL_FORMS[self.cloud]
            if not pattern.match(principal):
                hint = ""
                if ":sts::" in principal and "assumed-role" in principal:
                    hint = " (an sts assumed-role ARN names a session: give the role's IAM ARN)"
                raise ValueError(f"deployer.principal: {principal!r} is not {form}{hint}")
        if self.cloud == "azure" and (self.kms_key is None) != (self.kms_key_vault is None):
            raise ValueError("kms_key_vault: an existing Azure key needs both `kms_key` and `kms_key_vault`")
        if self.kms_key_vault is not None and self.cloud != "azure":
            raise ValueError("kms_key_vault: only Azure keys live in a vault; remove it")
        if self.service_endpoints == "existing" and self.cloud != "aws":
            raise ValueError("service_endpoints: only AWS clusters create service endpoints; remove it")
        return self

    def options(self) -> str:
        """The ways in this cloud offers, for error messages."""
        if self.cloud == "gcp":
            return DEPLOYER_OPTIONS
        return DEPLOYER_OPTIONS.split("; (d)")[0]


class ExistingCluster(SpecModel):
    kubeconfig_context: str = Field(min_length=1, description="Context name in the kubeconfig.")
    kubeconfig_path: str | None = Field(default=None, description="Defaults to $KUBECONFIG or ~/.kube/config.")
    cloud: Cloud | None = Field(
        default=None, description="The cloud running it, if any: sets the internal load balancer annotations."
    )
    load_balancer_annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Annotations that make a Service's load balancer internal on this cluster.",
    )
    gpu_node_selector: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        description="Node labels of the GPU nodes, e.g. nvidia.com/gpu.product: NVIDIA-L4.",
    )
    storage_class: str | None = Field(
        default=None, description="Storage class for model caches; cluster default if unset."
    )
    registry: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)*$",
        description=(
            "Where this cluster's nodes pull every image Triplane deploys, stated because Triplane cannot "
            "see it: a registry mirror laid out as `<registry>/<upstream host>/<repository>` (e.g. "
            "registry.corp/mirror -> registry.corp/mirror/ghcr.io/huggingface/text-generation-inference), "
            "or `upstream` when the nodes reach the public registries themselves (a lab or laptop cluster)."
        ),
    )
    provides: list[Literal["prometheus-operator", "keda", "nvidia-device-plugin"]] = Field(
        default_factory=list,
        description=(
            "Add-ons already running on the cluster, which Triplane then leaves alone; it installs the "
            "others its use cases need. `prometheus-operator`: the operator and its CRDs (ServiceMonitor), "
            "with a Prometheus that selects ServiceMonitors labelled triplane.io/scrape=true; `keda`: KEDA "
            "and its CRDs (ScaledObject); `nvidia-device-plugin`: a plugin advertising nvidia.com/gpu "
            "(e.g. the NVIDIA GPU Operator's)."
        ),
    )
    prometheus_url: str | None = Field(
        default=None,
        pattern=r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[\w./-]*)?$",
        description=(
            "With `provides: [prometheus-operator]`: the in-cluster Prometheus KEDA queries for the "
            "queue metrics of autoscaled servers, e.g. http://prometheus.monitoring.svc.cluster.local:9090."
        ),
    )

    @model_validator(mode="after")
    def _provided(self) -> ExistingCluster:
        if len(set(self.provides)) != len(self.provides):
            raise ValueError("provides: list each add-on once")
        if self.prometheus_url is not None and "prometheus-operator" not in self.provides:
            raise ValueError(
                "prometheus_url: Triplane installs its own Prometheus here; set it only with "
                "`provides: [prometheus-operator]`"
            )
        return self


class KubernetesCluster(SpecModel):
    name: Name
    version: str = Field(
        default=DEFAULT_KUBERNETES,
        pattern=r"^1\.\d{2}$",
        description=(
            "Kubernetes minor version. A new cluster takes one in its cloud's standard support: "
            + "; ".join(f"{cloud}: {', '.join(v)}" for cloud, v in sorted(KUBERNETES_STANDARD_SUPPORT.items()))
            + ". An existing cluster states the version it runs."
        ),
    )
    new: NewCluster | None = None
    existing: ExistingCluster | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> KubernetesCluster:
        if (self.new is None) == (self.existing is None):
            raise ValueError("set exactly one of `new` (Triplane creates the cluster) or `existing`")
        if self.new is not None and (problem := kubernetes_problem(self.new.cloud, self.version)) is not None:
            raise ValueError(f"version: {problem}")
        return self
