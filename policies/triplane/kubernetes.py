"""Kubernetes policies for self-managed model serving: images, pod security, secrets, network exposure.

The engine sees Kubernetes objects with their own field names (`spec.template.spec.containers[]
.securityContext.allowPrivilegeEscalation`), whatever spelling the program used.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from .common import (
    ADVISORY,
    CRITICAL,
    HIGH,
    K8S_LABEL_PREFIX,
    MEDIUM,
    Res,
    Unknown,
    as_list,
    checkov,
    cis,
    environment_spec,
    get,
    is_unknown,
    platform_stack,
    resource_policy,
    stack_policy,
    truthy,
)
from .taxonomy import SHARED

POD = "kubernetes:core/v1:Pod"
TEMPLATED = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
)
CRON_JOB = "kubernetes:batch/v1:CronJob"
WORKLOADS = (POD, *TEMPLATED, CRON_JOB)
SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

_SECRET_WORDS = {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "CREDENTIALS", "APIKEY"}
_SECRET_PAIRS = {("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("SECRET", "KEY"), ("CLIENT", "SECRET")}
_RANDOM_KEYS = re.compile(
    r"(?:sk-(?:ant-(?:api\d+-)?|proj-|svcacct-|admin-)?|ghp_|github_pat_|glpat-)([A-Za-z0-9_-]{20,})"
)
"""Provider keys made of a prefix and a long random part (OpenAI, Anthropic, GitHub, GitLab): the
random part is what tells a key from a name that happens to start the same way."""
_FIXED_KEYS = re.compile(
    r"(?:\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_-]{35}\b|\bxox[baprs]-\d{8,}-[0-9A-Za-z-]{10,}|"
    r"\bhf_(?=[A-Za-z]*[A-Z])(?=[A-Za-z]*[a-z])[A-Za-z]{34}\b|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)
"""Keys whose shape alone is distinctive: AWS access key IDs, Google API keys, Slack tokens (digits
first), Hugging Face tokens (34 letters of both cases), PEM private keys. None can be a DNS name:
they need upper case or a digit run."""


def _random(part: str) -> bool:
    """Generated secrets mix upper case, lower case and digits; names and words do not."""
    return any(c.isupper() for c in part) and any(c.islower() for c in part) and any(c.isdigit() for c in part)


def looks_like_credential(value: str) -> bool:
    """Whether `value` holds a provider key or private key (a value, never a name of one)."""
    if _FIXED_KEYS.search(value):
        return True
    return any(_random(match.group(1)) for match in _RANDOM_KEYS.finditer(value))
FULL_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+._][0-9A-Za-z][0-9A-Za-z.+_-]*)?$")
"""A tag that names one release: major.minor.patch, with an optional suffix (`v0.11.0`, `530.0.0-slim`);
`3` or `3.3` float to the newest patch as releases land."""
SECRET_FLAGS = ("--api-key", "--hf-token", "--token", "--huggingface-token", "--password")
INTERNAL_LB_ANNOTATIONS_DEFAULT = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
}
ALLOWED_REGISTRIES_DEFAULT = [
    "ghcr.io/huggingface/",
    "docker.io/vllm/",
    "nvcr.io/nvidia/",
    "registry.k8s.io/",
    "ghcr.io/kedacore/",
    "quay.io/prometheus/",
    "quay.io/prometheus-operator/",
    "public.ecr.aws/aws-cli/",
    "docker.io/google/cloud-sdk/",
    "mcr.microsoft.com/azure-cli/",
    "docker.io/envoyproxy/",
    "docker.io/library/redis/",
]
PULL_THROUGH_CACHES_DEFAULT = ["*.dkr.ecr.*.amazonaws.com", "*.azurecr.io", "*-docker.pkg.dev/*"]
"""Roots of the cloud caches (ECR pull-through, ACR cache rules, Artifact Registry remote repositories):
`<host glob>[/<path segment glob>...]`, followed in a reference by the cache's prefix for an upstream."""
CACHE_PREFIXES_DEFAULT = {
    "dockerhub": "docker.io",
    "ghcr": "ghcr.io",
    "k8s": "registry.k8s.io",
    "quay": "quay.io",
    "nvcr": "nvcr.io",
    "ecrpublic": "public.ecr.aws",
    "aks-managed-repository": "mcr.microsoft.com",
}
"""The name each Triplane cache serves an upstream under (as `<name>` or `<environment>-<name>`), and that
upstream."""
SYSTEM_NAMESPACES_DEFAULT = ["kube-system", "kube-public", "kube-node-lease"]


def is_secret_name(name: str) -> bool:
    """`HF_TOKEN`, `apiKey`, `DB_PASSWORD` name secrets; `MAX_TOKENS`, `TOKENIZER`, `*_FILE` do not."""
    if name.upper().endswith(("_FILE", "_PATH", "_HEADER")):
        return False
    words = [w.upper() for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    return any(w in _SECRET_WORDS for w in words) or any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def pod_spec(resource: Res) -> dict[str, Any] | None:
    if resource.type == POD:
        spec = get(resource.props, "spec")
    elif resource.type in TEMPLATED:
        spec = get(resource.props, "spec.template.spec")
    elif resource.type == CRON_JOB:
        spec = get(resource.props, "spec.jobTemplate.spec.template.spec")
    else:
        return None
    return spec if isinstance(spec, dict) else None


def containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in enumerate(as_list(spec.get(field))):
            if isinstance(container, dict):
                yield f"{field}[{index}] ({container.get('name', '?')})", container


def parse_image(image: str) -> tuple[str, str, str | None, str | None]:
    """`ghcr.io/org/app:1.2@sha256:...` -> (registry, repository, tag, digest); Docker Hub made explicit."""
    rest, _, digest = image.partition("@")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = "docker.io", rest if slash else f"library/{rest}"
    name, colon, tag = path.rpartition(":")
    if not colon or "/" in tag:
        name, tag = path, ""
    return registry, name, tag or None, digest or None


# --- images --------------------------------------------------------------------------------------


def _image_pinned(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    for where, container in containers(spec):
        image = container.get("image")
        if image is None or is_unknown(image):
            continue
        _, _, tag, digest = parse_image(str(image))
        if digest:
            continue
        if cfg["requireDigest"]:
            yield f"{where} image {image} is not pinned by digest (@sha256:...)"
        elif tag is None:
            yield f"{where} image {image} has no tag: it means latest"
        elif tag.lower() in {t.lower() for t in cfg["mutableTags"]}:
            yield f"{where} image {image} uses the moving tag {tag!r}: pin a version or a digest"
        elif not FULL_VERSION.match(tag):
            yield (
                f"{where} image {image} uses the tag {tag!r}, which names no full version (major.minor.patch) "
                "and moves as releases land: pin a full version or a digest"
            )


SERVING_COMPONENTS_DEFAULT = ["model-server", "weights-download"]
"""`app.kubernetes.io/component` of the workloads that run a use case's serving image (the server and the
Job that downloads its weights with that image's own tooling)."""


def _serving_image_digest(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    if (environment_spec() or {}).get("tier") != "prod":
        return
    labels = get(resource.props, "metadata.labels") or {}
    component = labels.get("app.kubernetes.io/component")
    if component not in {str(c) for c in cfg["components"]}:
        return
    spec = pod_spec(resource)
    if spec is None:
        return
    for where, container in containers(spec):
        image = container.get("image")
        if image is None or is_unknown(image):
            continue
        if parse_image(str(image))[3] is None:
            yield (
                f"{where} image {image} runs a prod {component} by tag alone: a re-pushed tag changes what "
                "the nodes run; resolve its digest with `triplane pin <stack>` and set use_cases[].image.digest"
            )


def through_cache(registry: str, repository: str, caches: list[str], prefixes: dict[str, str]) -> str | None:
    """The upstream `host/repository` a pull-through cache reference stands for (None: not a cache's)."""
    segments = repository.split("/")
    for pattern in caches:
        host_glob, *path_globs = pattern.split("/")
        if not fnmatchcase(registry, host_glob) or len(segments) < len(path_globs) + 2:
            continue
        if not all(fnmatchcase(segment, glob) for segment, glob in zip(segments, path_globs, strict=False)):
            continue
        prefix, *rest = segments[len(path_globs):]
        for name, upstream in prefixes.items():
            if prefix == name or prefix.endswith(f"-{name}"):
                return f"{upstream}/{'/'.join(rest)}"
    return None


def _image_registry(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    allowed = [str(p) for p in cfg["allowedRegistries"]]
    caches = [str(p) for p in cfg["pullThroughCaches"]]
    prefixes = {str(k): str(v) for k, v in dict(cfg["cachePrefixes"]).items()}
    for where, container in containers(spec):
        image = container.get("image")
        if image is None or is_unknown(image):
            continue
        registry, repository, _, _ = parse_image(str(image))
        full = f"{registry}/{repository}"
        # A cached image is judged by the upstream it caches: the cache is no licence for any image.
        upstream = through_cache(registry, repository, caches, prefixes)
        candidates = [full] if upstream is None else [full, upstream]
        if not any(c.startswith(prefix) or c == prefix.rstrip("/") for c in candidates for prefix in allowed):
            origin = f" (a cache of {upstream})" if upstream else ""
            yield (
                f"{where} image {image}{origin} comes from {registry}/{repository.split('/')[0]}, "
                "not an allowed registry"
            )


# --- pod security --------------------------------------------------------------------------------


def _privileged(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if truthy(spec.get(field, False)):
            yield f"{field} is true: the pod shares the node's namespace"
    for where, container in containers(spec):
        context = container.get("securityContext") or {}
        if truthy(context.get("privileged", False)):
            yield f"{where} runs privileged"
        added = [str(c).upper() for c in as_list(get(context, "capabilities.add"))]
        dangerous = [c for c in added if c in ("ALL", "SYS_ADMIN", "CAP_SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE")]
        if dangerous:
            yield f"{where} adds capabilities {dangerous}"


def _privilege_escalation(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    for where, container in containers(spec):
        value = get(container, "securityContext.allowPrivilegeEscalation")
        if value is None or truthy(value):
            yield (
                f"{where} does not set securityContext.allowPrivilegeEscalation to false "
                "(Kubernetes allows escalation unless told otherwise)"
            )


def _image_is(image: Any, entry: dict[str, Any]) -> bool:
    """The image is the entry's `repository`, by path, whatever registry or cache serves it."""
    if image is None or is_unknown(image):
        return False
    _, repository, _, _ = parse_image(str(image))
    wanted = str(entry.get("repository", "")).strip("/")
    return bool(wanted) and (repository == wanted or repository.endswith("/" + wanted))


def root_image(image: Any, cfg: dict[str, Any]) -> str | None:
    """The `rootImages` entry an image matches (by repository path, whatever registry or cache serves it)."""
    for entry in as_list(cfg.get("rootImages")):
        if _image_is(image, entry):
            return str(entry.get("repository", "")).strip("/")
    return None


def host_path_volumes(spec: dict[str, Any]) -> dict[Any, Any]:
    """A pod's hostPath volumes: volume name -> the node's path."""
    return {
        v.get("name"): get(v, "hostPath.path")
        for v in as_list(spec.get("volumes"))
        if isinstance(v, dict) and isinstance(v.get("hostPath"), dict)
    }


def _host_paths(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    host = host_path_volumes(spec)
    for where, container in containers(spec):
        for mount in as_list(container.get("volumeMounts")):
            if not isinstance(mount, dict) or mount.get("name") not in host:
                continue
            path, image = host[mount.get("name")], container.get("image")
            if is_unknown(path) or is_unknown(image):
                raise Unknown(f"{where}.volumeMounts")
            grant = next((e for e in as_list(cfg.get("hostPaths")) if e.get("path") == path and _image_is(image, e)),
                         None)
            if grant is None:
                yield f"{where} mounts the host's {path}, which no hostPaths entry grants to {image}"
            elif not truthy(mount.get("readOnly", False)) and not grant.get("writable", False):
                yield f"{where} mounts the host's {path} writable; its hostPaths entry grants it read-only"


def _security_setting(spec: dict[str, Any], container: dict[str, Any], name: str) -> Any:
    """A security-context setting as it applies to `container`: its own, else the pod's."""
    pod_value = (spec.get("securityContext") or {}).get(name)
    return (container.get("securityContext") or {}).get(name, pod_value)


def _runs_as_root(spec: dict[str, Any], container: dict[str, Any]) -> bool | None:
    """True: user 0; None: may be root (nothing says otherwise); False: non-root."""
    user = _security_setting(spec, container, "runAsUser")
    non_root = _security_setting(spec, container, "runAsNonRoot")
    if user is not None and float(user) == 0:
        return True
    if not truthy(non_root) and user is None:
        return None
    return False


def _restrictions_missing(spec: dict[str, Any], container: dict[str, Any]) -> list[str]:
    """What a root container must still keep: every other restriction of the restricted profile."""
    context = container.get("securityContext") or {}
    pod = spec.get("securityContext") or {}
    missing = []
    if context.get("allowPrivilegeEscalation") is None or truthy(context.get("allowPrivilegeEscalation")):
        missing.append("allowPrivilegeEscalation false")
    if not truthy(context.get("readOnlyRootFilesystem", False)):
        missing.append("readOnlyRootFilesystem true")
    if "ALL" not in [str(c).upper() for c in as_list(get(context, "capabilities.drop"))]:
        missing.append("capabilities drop ALL")
    seccomp = get(context, "seccompProfile.type") or get(pod, "seccompProfile.type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        missing.append("seccompProfile RuntimeDefault")
    if truthy(spec.get("automountServiceAccountToken", True)):
        missing.append("automountServiceAccountToken false")
    return missing


MIN_RUN_AS_USER = 10000
"""UIDs below this belong to host accounts on common node images (CKV_K8S_40)."""


def _non_root(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    minimum = int(cfg.get("minRunAsUser", MIN_RUN_AS_USER))
    for where, container in containers(spec):
        root = _runs_as_root(spec, container)
        if root is False:
            user = _security_setting(spec, container, "runAsUser")
            if user is not None and not is_unknown(user) and float(user) < minimum:
                yield f"{where} runs as UID {int(float(user))}, which host accounts use: run as {minimum} or above"
            continue
        image = container.get("image")
        if root_image(image, cfg) is not None:
            missing = _restrictions_missing(spec, container)
            if missing:
                yield f"{where} runs {image} as root (allowed by rootImages) without {', '.join(missing)}"
            continue
        if root and is_unknown(image):
            raise Unknown(f"{where}.image")
        if root:
            yield f"{where} runs as user 0 (root)"
        else:
            yield f"{where} may run as root: set runAsNonRoot true and a non-zero runAsUser"


def _resource_limits(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    required = ["memory", *(["cpu"] if cfg["requireCpuLimit"] else [])]
    for where, container in containers(spec):
        if where.startswith("ephemeralContainers"):
            continue
        limits = get(container, "resources.limits") or {}
        requests = get(container, "resources.requests") or {}
        missing = [r for r in required if r not in limits]
        if missing:
            yield f"{where} sets no {' or '.join(missing)} limit"
        extended = [k for k in requests if "/" in k and k not in limits]
        if extended:
            yield f"{where} requests {extended} without the matching limits"


# --- secrets -------------------------------------------------------------------------------------


def _secret_env(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    spec = pod_spec(resource)
    if spec is None:
        return
    for where, container in containers(spec):
        for env in as_list(container.get("env")):
            name, value = str(env.get("name", "")), env.get("value")
            if not isinstance(value, str) or not value or is_unknown(value):
                continue
            if looks_like_credential(value):
                yield f"{where} env {name} holds a literal credential: reference a Secret with valueFrom.secretKeyRef"
            elif is_secret_name(name):
                yield f"{where} env {name} is set to a literal value: reference a Secret with valueFrom.secretKeyRef"
        argv = [str(a) for a in [*as_list(container.get("command")), *as_list(container.get("args"))]]
        for index, arg in enumerate(argv):
            flag, equals, inline = arg.partition("=")
            if flag in SECRET_FLAGS:
                value = inline if equals else (argv[index + 1] if index + 1 < len(argv) else "")
                if value and not value.startswith("$("):
                    yield f"{where} passes {flag} a literal value on the command line"
            elif looks_like_credential(arg):
                yield f"{where} has a literal credential in its command line"


def _secret_config_map(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    data = {**(get(resource.props, "data") or {}), **(get(resource.props, "binaryData") or {})}
    for key, value in data.items():
        text = value if isinstance(value, str) else ""
        if looks_like_credential(text):
            yield f"data key {key!r} holds a credential: store it in a Secret"
        elif is_secret_name(str(key)) and text and not is_unknown(text):
            yield f"data key {key!r} looks like a secret: store it in a Secret, not a ConfigMap"


# --- network -------------------------------------------------------------------------------------


def _namespace_of(resource: Res) -> str:
    value = get(resource.props, "metadata.namespace")
    return str(value) if value else "default"


def _is_use_case_object(resource: Res) -> bool:
    labels = get(resource.props, "metadata.labels") or {}
    value = labels.get(f"{K8S_LABEL_PREFIX}use-case")
    return bool(value) and value != SHARED


def _network_policies(resources: list[Res], cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    ignored = {str(n) for n in cfg["ignoredNamespaces"]}
    serving: dict[str, Res] = {}
    for resource in resources:
        if resource.type in WORKLOADS and _is_use_case_object(resource):
            serving.setdefault(_namespace_of(resource), resource)
        elif resource.type == NAMESPACE and _is_use_case_object(resource):
            name = get(resource.props, "metadata.name")
            if name:
                serving.setdefault(str(name), resource)
    policies = [r for r in resources if r.type == NETWORK_POLICY]
    for namespace, anchor in sorted(serving.items()):
        if namespace in ignored:
            continue
        mine = [p for p in policies if _namespace_of(p) == namespace]
        if not mine:
            yield f"namespace {namespace} serves a model but has no NetworkPolicy: every pod can reach it", anchor.urn
            continue
        if cfg["requireDefaultDeny"]:
            deny = [
                p for p in mine
                if not (get(p.props, "spec.podSelector") or {}).get("matchLabels")
                and not (get(p.props, "spec.podSelector") or {}).get("matchExpressions")
                and "Ingress" in as_list(get(p.props, "spec.policyTypes"))
                and not as_list(get(p.props, "spec.ingress"))
            ]
            if not deny:
                yield (
                    f"namespace {namespace} has no default-deny ingress NetworkPolicy (empty podSelector, "
                    "policyTypes [Ingress], no ingress rules)",
                    anchor.urn,
                )


def _public_load_balancer(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    kind = get(resource.props, "spec.type", "ClusterIP")
    if kind == "NodePort" and cfg["forbidNodePort"]:
        yield "spec.type is NodePort: the service opens a port on every node"
    if kind != "LoadBalancer":
        return
    annotations = get(resource.props, "metadata.annotations") or {}
    internal = {str(k): str(v) for k, v in dict(cfg["internalAnnotations"]).items()}
    if any(str(annotations.get(k, "")).lower() == v.lower() for k, v in internal.items()):
        return
    yield (
        "spec.type is LoadBalancer without an internal-load-balancer annotation: the cloud gives it a "
        "public address"
    )


ROOT_IMAGES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "default": [],
    "description": "Images that cannot run as a non-root user: [{repository: <path>, reason: <why>}], "
    "matched on the repository path whatever registry or cache serves it.",
    "items": {
        "type": "object",
        "properties": {
            "repository": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 10},
        },
        "required": ["repository", "reason"],
        "additionalProperties": False,
    },
}
HOST_PATHS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "default": [],
    "description": "Host paths an image needs: [{repository: <path>, path: <host path>, writable: <bool>, "
    "reason: <why>}], the image matched on its repository path whatever registry or cache serves it; a "
    "mount is read-only unless its entry is writable.",
    "items": {
        "type": "object",
        "properties": {
            "repository": {"type": "string", "minLength": 1},
            "path": {"type": "string", "pattern": "^/"},
            "writable": {"type": "boolean"},
            "reason": {"type": "string", "minLength": 10},
        },
        "required": ["repository", "path", "reason"],
        "additionalProperties": False,
    },
}
PSS_RANK = {"privileged": 0, "baseline": 1, "restricted": 2}
JOB = "kubernetes:batch/v1:Job"
DOWNLOAD_NAMES = ("model-weights", "model-weights-import")
"""The pods that fill the cache: the hub download, and the import from a bucket over the cloud's private path."""
FIREWALL_HOST_TYPES = {
    "aws:networkfirewall/ruleGroup:RuleGroup",
    "azure-native:network:FirewallPolicyRuleCollectionGroup",
    "gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule",
}
_SWP_HOST = re.compile(r"host\(\)\s*(?:==\s*|\.endsWith\(\s*)['\"]([^'\"]+)['\"]")


def _canonical(host: str) -> str:
    """`*.example.com`, `.example.com` (Network Firewall) and `example.com` compared as one domain."""
    return host.strip().lower().lstrip("*").lstrip(".")


def _namespace_pod_security(resources: list[Res], cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    needs_root: dict[str, str] = {}
    for resource in resources:
        spec = pod_spec(resource) if resource.type in WORKLOADS else None
        if spec is None:
            continue
        for _, container in containers(spec):
            wanted = root_image(container.get("image"), cfg)
            if wanted is not None and _runs_as_root(spec, container):
                needs_root.setdefault(_namespace_of(resource), wanted)
    for resource in resources:
        if resource.type != NAMESPACE or not _is_use_case_object(resource):
            continue
        name = str(get(resource.props, "metadata.name") or "")
        labels = get(resource.props, "metadata.labels") or {}
        enforce = str(labels.get("pod-security.kubernetes.io/enforce", "privileged"))
        required = "baseline" if name in needs_root else "restricted"
        if PSS_RANK.get(enforce, 0) < PSS_RANK[required]:
            yield f"namespace {name} enforces Pod Security {enforce!r}, weaker than {required!r}", resource.urn
        elif enforce != required:
            refused = f"namespace {name} enforces {enforce!r}, which refuses {needs_root[name]} running as root"
            yield refused, resource.urn
        for mode in ("warn", "audit"):
            level = labels.get(f"pod-security.kubernetes.io/{mode}")
            if level != "restricted":
                yield f"namespace {name} does not {mode} at 'restricted' (has {level!r})", resource.urn


def _public_egress(rule: dict[str, Any]) -> list[str]:
    from ipaddress import ip_network

    public = []
    for peer in as_list(rule.get("to")) or [{}]:
        block = peer.get("ipBlock")
        if peer and block is None:
            continue  # pods or namespaces of the cluster
        cidr = str((block or {}).get("cidr", "0.0.0.0/0"))
        if is_unknown(cidr):
            continue
        network = ip_network(cidr, strict=False)
        if not network.is_private:
            public.append(cidr)
    return public


def _no_server_egress(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not _is_use_case_object(resource):
        return
    if "Egress" not in as_list(get(resource.props, "spec.policyTypes")):
        return
    selected = (get(resource.props, "spec.podSelector") or {}).get("matchLabels") or {}
    if selected.get("app.kubernetes.io/name") in DOWNLOAD_NAMES:
        return
    for index, rule in enumerate(as_list(get(resource.props, "spec.egress"))):
        public = _public_egress(rule)
        if public:
            yield f"egress[{index}] lets the pods it selects ({selected or 'every pod'}) reach {public}"


def _allowlisted_hosts(resources: list[Res]) -> set[str]:
    hosts: set[str] = set()
    for resource in resources:
        if resource.type == "aws:networkfirewall/ruleGroup:RuleGroup":
            source = get(resource.props, "ruleGroup.rulesSource.rulesSourceList") or {}
            hosts.update(_canonical(str(t)) for t in as_list(source.get("targets")) if not is_unknown(t))
        elif resource.type == "azure-native:network:FirewallPolicyRuleCollectionGroup":
            for collection in as_list(get(resource.props, "ruleCollections")):
                for rule in as_list(collection.get("rules")):
                    hosts.update(_canonical(str(f)) for f in as_list(rule.get("targetFqdns")))
        elif resource.type == "gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule":
            match = _SWP_HOST.search(str(get(resource.props, "sessionMatcher") or ""))
            if match and get(resource.props, "basicProfile") == "ALLOW":
                hosts.add(_canonical(match.group(1)))
    return hosts


def _download_allowlisted(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    allowed = _allowlisted_hosts(resources)
    for resource in resources:
        if resource.type != JOB:
            continue
        annotations = get(resource.props, "metadata.annotations") or {}
        if annotations.get("triplane.io/egress-path") != "firewall":
            continue
        needed = [h for h in str(annotations.get("triplane.io/egress-hosts", "")).split(",") if h]
        missing = [h for h in needed if _canonical(h) not in allowed]
        if missing:
            yield (
                f"Job {get(resource.props, 'metadata.name')} downloads through the egress firewall, whose "
                f"allowlist lacks {', '.join(missing)}",
                resource.urn,
            )


NETWORK_TYPES = ("aws:ec2/vpc:Vpc", "azure-native:network:VirtualNetwork", "gcp:compute/network:Network")
"""Networks a stack creates: their only way out is the egress firewall Triplane builds on them."""


def _selects_some(policy: Res) -> bool:
    selector = get(policy.props, "spec.podSelector") or {}
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def _restricted_namespaces(resources: list[Res]) -> set[str]:
    """Namespaces holding a restricted use case's objects (by its classification label, never a name)."""
    found: set[str] = set()
    for resource in resources:
        labels = get(resource.props, "metadata.labels") or {}
        if str(labels.get(f"{K8S_LABEL_PREFIX}data-classification", "")) != "restricted":
            continue
        if resource.type == NAMESPACE:
            found.add(str(get(resource.props, "metadata.name") or ""))
        elif resource.type in WORKLOADS or resource.type == NETWORK_POLICY:
            found.add(_namespace_of(resource))
    return found


def _limits_egress(policy: Res) -> bool:
    """Whether a NetworkPolicy restricts egress (policyTypes left out: when it has egress rules)."""
    types = get(policy.props, "spec.policyTypes")
    return "Egress" in as_list(types) if types else bool(as_list(get(policy.props, "spec.egress")))


def _restricted_egress(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    restricted = _restricted_namespaces(resources)
    allowed = _allowlisted_hosts(resources)
    own_network = any(r.type in NETWORK_TYPES for r in resources)
    policies = [r for r in resources if r.type == NETWORK_POLICY]
    anchors: dict[str, Res] = {}
    for resource in resources:
        if resource.type == NAMESPACE and str(get(resource.props, "metadata.name") or "") in restricted:
            anchors.setdefault(str(get(resource.props, "metadata.name")), resource)
        elif resource.type in WORKLOADS and _namespace_of(resource) in restricted:
            anchors.setdefault(_namespace_of(resource), resource)
    for namespace, anchor in sorted(anchors.items()):
        # Pods no policy selects may reach anything: restricted data needs egress denied by default.
        if not any(
            _namespace_of(p) == namespace and _limits_egress(p) and not _selects_some(p) for p in policies
        ):
            yield (
                f"namespace {namespace} holds restricted data but no NetworkPolicy denies egress to all its pods "
                "(empty podSelector, policyTypes [Egress])",
                anchor.urn,
            )
    for resource in policies:
        if _namespace_of(resource) not in restricted or not _limits_egress(resource):
            continue
        public = sorted({c for rule in as_list(get(resource.props, "spec.egress")) for c in _public_egress(rule)})
        if not public:
            continue
        name = get(resource.props, "metadata.name")
        annotations = get(resource.props, "metadata.annotations") or {}
        path = annotations.get("triplane.io/egress-path")
        namespace = _namespace_of(resource)
        lead = f"NetworkPolicy {name} lets pods of restricted data in namespace {namespace} reach {public}"
        if path != "firewall":
            yield f"{lead}, and no host-filtered path stands behind it (egress-path {path!r})", resource.urn
        elif platform_stack() is not None:
            continue  # the platform's firewall, whose allowlist its served stacks' hosts make
        elif not own_network:
            yield f"{lead} through a network egress firewall, but the stack creates no network", resource.urn
        else:
            hosts = [h for h in str(annotations.get("triplane.io/egress-hosts", "")).split(",") if h]
            missing = [h for h in hosts if _canonical(h) not in allowed]
            if missing:
                yield f"{lead} through the egress firewall, whose allowlist lacks {', '.join(missing)}", resource.urn


POLICIES = [
    resource_policy(
        name="k8s-image-pinned",
        description="Container images are pinned to a version tag or digest, never latest or untagged.",
        types=list(WORKLOADS),
        check=_image_pinned,
        severity=HIGH,
        remediation="Use an explicit version (ghcr.io/huggingface/text-generation-inference:3.3.7) or a digest.",
        references=[checkov("CKV_K8S_14"), checkov("CKV_K8S_43")],
        config={
            "mutableTags": {"type": "array", "items": {"type": "string"}, "default": ["latest", "main", "master",
                                                                                     "nightly", "edge"],
                            "description": "Tags that move and so never pin an image."},
            "requireDigest": {"type": "boolean", "default": False,
                              "description": "Accept only images pinned by @sha256 digest: every image, every "
                              "tier, mandatory (k8s-image-digest-prod only advises it for prod serving)."},
        },
        tags=["self-managed", "supply-chain"],
    ),
    resource_policy(
        name="k8s-image-digest-prod",
        description="In a prod-tier environment, model servers and their weights downloads pull their image by "
        "digest, not by tag alone.",
        types=list(WORKLOADS),
        check=_serving_image_digest,
        severity=MEDIUM,
        enforcement=ADVISORY,
        remediation="Run `triplane pin <stack>` where the registry is reachable and copy the printed "
        "use_cases[].image block (tag and digest) into the stack file.",
        config={"components": {"type": "array", "items": {"type": "string"},
                               "default": SERVING_COMPONENTS_DEFAULT,
                               "description": "app.kubernetes.io/component values of the workloads checked."}},
        tags=["self-managed", "supply-chain"],
    ),
    resource_policy(
        name="k8s-image-registry-allowlist",
        description="Container images come from the configured registries only, directly or through a "
        "cloud pull-through cache of one.",
        types=list(WORKLOADS),
        check=_image_registry,
        severity=HIGH,
        remediation="Pull from an allowed registry (or mirror the image there), or add the registry prefix to "
        "allowedRegistries in the policy config.",
        config={"allowedRegistries": {"type": "array", "items": {"type": "string"},
                                      "default": ALLOWED_REGISTRIES_DEFAULT,
                                      "description": "Allowed `<registry>/<path>/` prefixes (Docker Hub images "
                                      "are docker.io/<org>/...)."},
                "pullThroughCaches": {"type": "array", "items": {"type": "string"},
                                      "default": PULL_THROUGH_CACHES_DEFAULT,
                                      "description": "Cache roots `<host glob>[/<segment glob>...]`; an image "
                                      "under one is allowed when the upstream it caches is."},
                "cachePrefixes": {"type": "object", "additionalProperties": {"type": "string"},
                                  "default": CACHE_PREFIXES_DEFAULT,
                                  "description": "The name a cache serves an upstream under (the path "
                                  "segment `<name>` or `<environment>-<name>`) -> that upstream's host."}},
        tags=["self-managed", "supply-chain"],
    ),
    resource_policy(
        name="k8s-no-privileged-containers",
        description="No privileged containers, host namespaces or dangerous added capabilities.",
        types=list(WORKLOADS),
        check=_privileged,
        severity=CRITICAL,
        remediation="Remove privileged, hostNetwork/hostPID/hostIPC and added capabilities; drop ALL instead.",
        references=[checkov("CKV_K8S_16")],
        tags=["self-managed", "pod-security"],
    ),
    resource_policy(
        name="k8s-host-paths-allowlisted",
        description="Containers mount host paths only where their image is listed as needing that path, "
        "read-only unless the entry says it writes there.",
        types=list(WORKLOADS),
        check=_host_paths,
        severity=HIGH,
        remediation="Use a volume that is not the node's filesystem (emptyDir, a ConfigMap, a claim). An image "
        "that cannot work otherwise goes in hostPaths with the path, whether it writes there, and its reason.",
        references=[cis("Kubernetes", "5.2.12")],
        config={"hostPaths": HOST_PATHS_SCHEMA},
        tags=["self-managed", "pod-security"],
    ),
    resource_policy(
        name="k8s-no-privilege-escalation",
        description="Containers set allowPrivilegeEscalation to false.",
        types=list(WORKLOADS),
        check=_privilege_escalation,
        severity=HIGH,
        remediation="Set securityContext.allowPrivilegeEscalation=false on every container.",
        references=[checkov("CKV_K8S_20")],
        tags=["self-managed", "pod-security"],
    ),
    resource_policy(
        name="k8s-run-as-non-root",
        description="Containers run as a non-root user with a UID of 10000 or above, unless their image is "
        "listed as needing root and they keep every other restriction.",
        types=list(WORKLOADS),
        check=_non_root,
        severity=HIGH,
        remediation="Set runAsNonRoot=true and runAsUser (e.g. 10001) on the pod or container, with a writable "
        "cache volume for the model. An image that cannot run otherwise goes in rootImages with its reason, "
        "and keeps allowPrivilegeEscalation false, a read-only root filesystem, capabilities drop ALL, the "
        "RuntimeDefault seccomp profile and no service-account token.",
        references=[checkov("CKV_K8S_23"), checkov("CKV_K8S_40")],
        config={
            "rootImages": ROOT_IMAGES_SCHEMA,
            "minRunAsUser": {"type": "integer", "minimum": 1, "default": MIN_RUN_AS_USER,
                             "description": "Lowest UID a non-root container may run as (clear of host users)."},
        },
        tags=["self-managed", "pod-security"],
    ),
    stack_policy(
        name="k8s-namespace-pod-security",
        description="Namespaces that serve a model enforce the strictest Pod Security level their workloads "
        "allow: restricted, or baseline only where a rootImages image runs; restricted is always warned "
        "and audited.",
        check=_namespace_pod_security,
        severity=HIGH,
        remediation="Label the namespace pod-security.kubernetes.io/enforce=restricted (baseline only for an "
        "image in rootImages), and warn=restricted, audit=restricted.",
        references=[cis("Kubernetes", "5.2.1")],
        config={"rootImages": ROOT_IMAGES_SCHEMA},
        tags=["self-managed", "pod-security"],
    ),
    resource_policy(
        name="k8s-model-server-no-internet-egress",
        description="In a namespace that serves a model, only the Job filling the cache (hub download or bucket "
        "import) may reach public addresses; the server resolves names and serves from its cache.",
        types=[NETWORK_POLICY],
        check=_no_server_egress,
        severity=CRITICAL,
        remediation="Serve with HF_HUB_OFFLINE=1 from the cache a download Job (or an import) filled; allow "
        "public egress only to pods labelled app.kubernetes.io/name=model-weights (or model-weights-import).",
        tags=["self-managed", "network"],
    ),
    stack_policy(
        name="k8s-download-egress-allowlisted",
        description="Every host a weights download Job needs is on the network's egress allowlist (or, on an "
        "existing cluster, declared by the stack).",
        check=_download_allowlisted,
        severity=HIGH,
        remediation="Add the hub hosts to the egress allowlist of the cluster's network (stacks/egress.py), or "
        "pre-fill the cache and set weights.source: existing-claim.",
        tags=["self-managed", "network"],
    ),
    stack_policy(
        name="k8s-restricted-egress-named-hosts",
        description="Pods of a restricted use case reach no public address except through a path that names "
        "hosts: the egress firewall of a network the stack creates, with the hosts on its allowlist (an "
        "explicit proxy or private endpoint is a private address); their namespace denies egress by default.",
        check=_restricted_egress,
        severity=CRITICAL,
        remediation="Fill the cache through an explicit proxy (weights.https_proxy: the NetworkPolicy allows "
        "its address alone), through the egress firewall of a network Triplane creates (annotate the "
        "NetworkPolicy triplane.io/egress-path: firewall and allowlist its triplane.io/egress-hosts), or "
        "pre-fill it (weights.source: existing-claim); add a NetworkPolicy with podSelector {} and "
        "policyTypes [Egress] to the namespace.",
        tags=["self-managed", "network", "data-classification"],
    ),
    resource_policy(
        name="k8s-resource-limits",
        description="Containers set memory and CPU limits, and limits for every extended resource they request.",
        types=list(WORKLOADS),
        check=_resource_limits,
        severity=MEDIUM,
        remediation="Set resources.limits.memory and .cpu (and nvidia.com/gpu equal to the request).",
        references=[checkov("CKV_K8S_13"), checkov("CKV_K8S_11")],
        config={"requireCpuLimit": {"type": "boolean", "default": True,
                                    "description": "Require a CPU limit as well as a memory limit."}},
        tags=["self-managed", "cost"],
    ),
    resource_policy(
        name="k8s-no-secrets-in-env",
        description="Secrets reach containers through Secret references, never literal env values or arguments.",
        types=list(WORKLOADS),
        check=_secret_env,
        severity=CRITICAL,
        remediation="Store the value in a Kubernetes Secret and use env[].valueFrom.secretKeyRef.",
        references=[checkov("CKV_K8S_35")],
        tags=["self-managed", "secrets"],
    ),
    resource_policy(
        name="k8s-no-secrets-in-configmaps",
        description="ConfigMaps hold no credentials.",
        types=[CONFIG_MAP],
        check=_secret_config_map,
        severity=HIGH,
        remediation="Move the value into a Secret (encrypted at rest by the cluster's KMS key).",
        tags=["self-managed", "secrets"],
    ),
    stack_policy(
        name="k8s-namespace-network-policy",
        description="Every namespace that serves a model has NetworkPolicies, with default-deny ingress.",
        check=_network_policies,
        severity=HIGH,
        remediation="Add a NetworkPolicy with podSelector {} and policyTypes [Ingress] (and Egress) to the "
        "namespace, then allow the named clients explicitly.",
        references=[cis("Kubernetes", "5.3.2")],
        config={
            "requireDefaultDeny": {"type": "boolean", "default": True,
                                   "description": "Also require a default-deny ingress policy."},
            "ignoredNamespaces": {"type": "array", "items": {"type": "string"},
                                  "default": SYSTEM_NAMESPACES_DEFAULT,
                                  "description": "Namespaces the cluster owns (not checked)."},
        },
        tags=["self-managed", "network"],
    ),
    resource_policy(
        name="k8s-no-public-load-balancer",
        description="Services are never public load balancers (nor node ports).",
        types=[SERVICE],
        check=_public_load_balancer,
        severity=CRITICAL,
        remediation="Use ClusterIP, or a LoadBalancer with the cloud's internal annotation "
        "(service.beta.kubernetes.io/aws-load-balancer-scheme: internal, "
        "service.beta.kubernetes.io/azure-load-balancer-internal: 'true', "
        "networking.gke.io/load-balancer-type: Internal).",
        config={
            "internalAnnotations": {"type": "object", "default": INTERNAL_LB_ANNOTATIONS_DEFAULT,
                                    "description": "Annotation -> value pairs that make a load balancer internal."},
            "forbidNodePort": {"type": "boolean", "default": True, "description": "Also forbid NodePort services."},
        },
        tags=["self-managed", "network"],
    ),
]
