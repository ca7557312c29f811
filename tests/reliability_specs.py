"""Hypothesis strategies for environment specs: valid ones, and valid ones broken in one place.

`environments()` draws specs that must validate (any refusal is a false positive worth failing
on). `broken()` takes one and applies a single mutation, returning the spec and a `Mutation` that
says where it changed and whether validation must refuse it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from triplane.stacks.secrets import secret_fields
from triplane.stacks.spec import SpecError, validate_environment

AWS_ROLE = "arn:aws:iam::123456789012:role/app"
AZURE_PRINCIPAL = "33333333-3333-4333-8333-333333333333"
GCP_MEMBER = "serviceAccount:app@acme-genai-test.iam.gserviceaccount.com"
PRINCIPALS = {"aws": AWS_ROLE, "azure": AZURE_PRINCIPAL, "gcp": GCP_MEMBER}
MANAGED_MODELS: dict[str, list[dict[str, Any]]] = {
    "aws": [{"id": "anthropic.claude-3-5-haiku-20241022-v1:0"}],
    "azure": [{"id": "gpt-4o-mini", "version": "2024-07-18"}],
    "gcp": [{"id": "gemini-3.5-flash"}],
}
GPU_FOR = {"aws": "nvidia-l4", "gcp": "nvidia-l4", "azure": "nvidia-a10", None: "nvidia-l4"}
MISTRAL = {"id": "mistralai/Mistral-7B-Instruct-v0.3", "revision": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"}
SAAS_PROVIDERS = ("openai", "anthropic", "cohere", "mistral", "gemini")
FREE_FORM = frozenset({"load_balancer_annotations", "gpu_node_selector", "pod_labels", "pii"})
"""Mappings whose keys the user chooses: an extra key there is data, not a typo."""

names = st.from_regex(r"[a-z][a-z0-9]{1,7}(-[a-z0-9]{1,6})?", fullmatch=True)
secret_keys = st.from_regex(r"[a-z][a-zA-Z0-9]{2,12}Key", fullmatch=True)


@st.composite
def clouds(draw: st.DrawFn, max_clouds: int = 3) -> dict[str, Any]:
    chosen = draw(st.sets(st.sampled_from(["aws", "azure", "gcp"]), min_size=1, max_size=max_clouds))
    octets = iter(draw(st.lists(st.integers(1, 250), min_size=3, max_size=3, unique=True)))
    result: dict[str, Any] = {}
    for cloud in sorted(chosen):
        octet = next(octets)
        prefix = draw(st.integers(16, 20))
        new = {"cidr": f"10.{octet}.0.0/{prefix}"}
        existing_cidrs = [f"10.{octet}.0.0/20"]
        use_existing = draw(st.booleans())
        if cloud == "aws":
            region = draw(st.sampled_from(["us-east-1", "eu-west-1", "eu-central-1"]))
            zones = [f"{region}{z}" for z in "abc"[: draw(st.integers(2, 3))]]
            network: dict[str, Any] = (
                {
                    "existing": {
                        "vpc_id": "vpc-0123456789abcdef0",
                        "app_subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
                        "application_cidrs": existing_cidrs,
                    }
                }
                if use_existing
                else {"new": {**new, "zones": zones}}
            )
            result["aws"] = {"region": region, "network": network}
        elif cloud == "azure":
            vnet = "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet"
            network = (
                {
                    "existing": {
                        "vnet_id": vnet,
                        "app_subnet_id": f"{vnet}/subnets/app",
                        "endpoint_subnet_id": f"{vnet}/subnets/endpoints",
                        "application_cidrs": existing_cidrs,
                    }
                }
                if use_existing
                else {"new": new}
            )
            result["azure"] = {
                "location": draw(st.sampled_from(["westeurope", "eastus"])),
                "resource_group": "rg-triplane",
                "network": network,
            }
        else:
            region = draw(st.sampled_from(["europe-west4", "us-central1"]))
            network = (
                {
                    "existing": {
                        "network": "projects/acme-genai-test/global/networks/main",
                        "subnetwork": f"projects/acme-genai-test/regions/{region}/subnetworks/app",
                        "application_cidrs": existing_cidrs,
                    }
                }
                if use_existing
                else {"new": new}
            )
            result["gcp"] = {"project": "acme-genai-test", "region": region, "network": network}
    return result


def _new_network(environment: dict[str, Any], cloud: str) -> bool:
    return "new" in environment["clouds"][cloud]["network"]


@st.composite
def saas_use_case(draw: st.DrawFn, environment: dict[str, Any], name: str) -> dict[str, Any] | None:
    options = [c for c in environment["clouds"] if _new_network(environment, c)]
    if not options:
        return None
    cloud = draw(st.sampled_from(sorted(options)))
    return {
        "name": name,
        "pattern": "saas",
        "data_classification": draw(st.sampled_from(["public", "internal"])),
        "cloud": cloud,
        "provider": draw(st.sampled_from(SAAS_PROVIDERS)),
        "api_key_secret": draw(secret_keys),
        "key_rotation": draw(st.sampled_from(["pulumi", "external"])),
        "allowed_principals": [PRINCIPALS[cloud]],
    }


@st.composite
def managed_use_case(draw: st.DrawFn, environment: dict[str, Any], name: str) -> dict[str, Any] | None:
    if not environment["clouds"]:
        return None
    cloud = draw(st.sampled_from(sorted(environment["clouds"])))
    use_case: dict[str, Any] = {
        "name": name,
        "pattern": "cloud-managed",
        "data_classification": draw(st.sampled_from(["internal", "confidential"])),
        "cloud": cloud,
        "models": copy.deepcopy(MANAGED_MODELS[cloud]),
    }
    if draw(st.booleans()):
        use_case["allowed_principals"] = [PRINCIPALS[cloud]]
    if draw(st.booleans()):
        use_case["volume"] = {
            "input_tokens_per_month": draw(st.integers(0, 10**12)),
            "output_tokens_per_month": draw(st.integers(0, 10**12)),
        }
    if cloud == "aws" and draw(st.booleans()):
        use_case["bedrock"] = {"logging": {"retention_days": draw(st.integers(1, 3653))}}
    if cloud == "azure" and draw(st.booleans()):
        use_case["models"][0]["capacity"] = draw(st.integers(1, 10_000))
        use_case["azure_openai"] = {"log_retention_days": draw(st.integers(30, 730))}
    if cloud == "gcp":
        vertex: dict[str, Any] = {}
        if not _new_network(environment, "gcp"):
            vertex["psc_address"] = "10.254.0.10"
        if draw(st.booleans()):
            vertex["log_retention_days"] = draw(st.integers(1, 3650))
        if vertex:
            use_case["vertex"] = vertex
    return use_case


@st.composite
def self_managed_use_case(draw: st.DrawFn, environment: dict[str, Any], name: str) -> dict[str, Any] | None:
    if not environment["kubernetes"]:
        return None
    cluster = draw(st.sampled_from(environment["kubernetes"]))
    cloud = cluster["new"]["cloud"] if "new" in cluster else None
    shared = draw(st.booleans())
    use_case: dict[str, Any] = {
        "name": name,
        "pattern": "self-managed",
        "data_classification": draw(st.sampled_from(["confidential", "restricted"])),
        "cluster": cluster["name"],
        "model": dict(MISTRAL),
        "gpu": {"type": GPU_FOR[cloud], "count": 1},
        "tokens": {"max_total_tokens": 8192},
        "replicas": {"min": draw(st.integers(0, 1)), "max": 2 if shared else 1},
        "allowed_clients": {"namespaces": [draw(names)]},
        "weights": {"source": "hub"},
    }
    if use_case["data_classification"] == "restricted" and (cloud is None or not _new_network(environment, cloud)):
        # Restricted data fills its cache only through a path that names hosts: here the site's proxy.
        use_case["weights"]["https_proxy"] = "http://10.0.0.10:3128"
    if shared:
        use_case["cache"] = {"access_mode": "ReadWriteMany"}
    if use_case["replicas"]["min"] == 0:
        # Scaling to zero needs something that starts the server again: KEDA's cron trigger.
        use_case["autoscaling"] = {"active_hours": {"timezone": "UTC", "start": "0 8 * * 1-5", "end": "0 18 * * 1-5"}}
    if draw(st.booleans()):
        use_case["hf_token_secret"] = draw(secret_keys)
    return use_case


BUILDERS = {"saas": saas_use_case, "cloud-managed": managed_use_case, "self-managed": self_managed_use_case}


@st.composite
def deployer_paths(draw: st.DrawFn, cloud: str) -> dict[str, Any]:
    """One declared way for deploys to reach a new cluster's API server."""
    forms: list[dict[str, Any]] = [
        {"deployer": {"private_cidrs": ["10.99.0.0/24"]}},
        {"api_access": "authorized-networks", "api_authorized_cidrs": ["203.0.113.0/28"]},
    ]
    if cloud == "gcp":
        forms.append({"api_access": "dns-endpoint"})
    return copy.deepcopy(draw(st.sampled_from(forms)))


@st.composite
def environments(draw: st.DrawFn, max_use_cases: int = 4, max_clouds: int = 3) -> dict[str, Any]:
    """A valid `triplane:environment` value."""
    environment: dict[str, Any] = {
        "owner": draw(st.sampled_from(["platform-team", "ml-ops@example.com", "Équipe IA"])),
        "cost_center": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,10}", fullmatch=True)),
        "tier": draw(st.sampled_from(["dev", "staging", "prod"])),
        "clouds": draw(clouds(max_clouds)),
        "kubernetes": [],
        "use_cases": [],
    }
    if draw(st.booleans()):
        environment["protect_stateful"] = draw(st.booleans())
    cluster_names = draw(st.lists(names, max_size=2, unique=True))
    for cluster_name in cluster_names:
        # One new cluster per cloud: a second would take the same subnets (the spec refuses it).
        taken = {c["new"]["cloud"] for c in environment["kubernetes"] if "new" in c}
        targets = [None, *sorted(set(environment["clouds"]) - taken)]
        cloud = draw(st.sampled_from(targets))
        environment["kubernetes"].append(
            {"name": cluster_name, "existing": {"kubeconfig_context": "kind-triplane", "registry": "upstream"}}
            if cloud is None
            else {"name": cluster_name, "new": {"cloud": cloud, **draw(deployer_paths(cloud))}}
        )
        if cloud is not None and draw(st.booleans()):
            low = draw(st.integers(1, 3))
            environment["kubernetes"][-1]["new"]["system_nodes"] = {
                "min": low, "max": draw(st.integers(low, 6)), "disk_size_gb": draw(st.integers(30, 2048))
            }
            environment["kubernetes"][-1]["new"]["log_retention_days"] = draw(st.integers(1, 3653))
    use_case_names = draw(st.lists(names, min_size=1, max_size=max_use_cases, unique=True))
    for name in use_case_names:
        pattern = draw(st.sampled_from(sorted(BUILDERS)))
        use_case = draw(BUILDERS[pattern](environment, name))
        if use_case is not None:
            environment["use_cases"].append(use_case)
    return environment


def secrets_of(environment: dict[str, Any]) -> list[str]:
    """Full config keys of every secret the environment names (its use cases' and, once valid, its clouds')."""
    keys = {f"triplane:{v}" for u in environment["use_cases"] for k, v in u.items() if k.endswith("_secret") and v}
    try:
        validated = validate_environment(environment, "generated environment")
    except SpecError:
        return sorted(keys)
    return sorted(keys | {f"triplane:{key}" for _, key in secret_fields(validated)})


# --- breaking a valid spec ----------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    kind: str
    path: tuple[str | int, ...]
    must_fail: bool
    """The mutated spec is invalid whatever else it holds (otherwise it may or may not validate)."""

    @property
    def dotted(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return text


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into a nested value (the root excluded)."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, key))
            found.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((*prefix, index))
            found.extend(paths(item, (*prefix, index)))
    return found


def get(value: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def put(value: Any, path: tuple[str | int, ...], new: Any) -> None:
    get(value, path[:-1])[path[-1]] = new


BAD_NAMES = (
    "Chat",
    "chat_bot",
    "1chat",
    "chat-",
    "chat--bot",
    "x",
    "a" * 21,
    "chät",
    "chat bot",
    "chat\u200bbot",
    "xn--chat",
    "\U0001d520\U0001d525\U0001d51e\U0001d531",  # mathematical fraktur "chat"
)
STRANGE_STRINGS = (
    "",
    " ",
    "\x00",
    "null",
    "ü" * 300,
    "a" * 10_000,
    "‮evil",
    "😀",
    "${secret}",
    "--help",
    "../../etc/passwd",
    "line\nbreak",
)
WRONG_SIZE_CIDRS = ("10.0.0.0/8", "10.1.0.0/24", "10.1.0.0")
"""Private, but no /16-/20: refused for a network Triplane creates, fine for existing application ranges."""
PUBLIC_OR_BROKEN_CIDRS = (
    "8.8.0.0/16",
    "100.64.0.0/16",
    "172.32.0.0/16",
    "10.1.0.1/16",
    "2001:db8::/48",
    "not-a-cidr",
    "",
)
WRONG_TYPES: tuple[Any, ...] = (None, 0, -1, 1.5, True, "text", [], {}, ["a"], {"a": 1}, 10**30, float("nan"))
ABSURD_NUMBERS: tuple[Any, ...] = (-1, 0, -(10**12), 10**12, 10**30, 1.5, float("inf"), float("nan"), "12", True)


def _leaves(spec: dict[str, Any], kind: type | tuple[type, ...]) -> list[tuple[str | int, ...]]:
    return [p for p in paths(spec) if isinstance(get(spec, p), kind) and not isinstance(get(spec, p), bool)]


MUTATIONS = ("unknown_key", "drop", "wrong_type", "strange_string", "bad_number", "bad_cidr", "overlap", "bad_name",
             "unknown_value", "root")  # fmt: skip


@st.composite
def broken(draw: st.DrawFn, kind: str, max_use_cases: int = 4) -> tuple[dict[str, Any], Mutation]:
    """A valid spec broken in exactly one way, of the given kind (one of MUTATIONS)."""
    spec = draw(environments(max_use_cases=max_use_cases))
    all_paths = paths(spec)
    where: tuple[str | int, ...]

    if kind == "unknown_key":
        mappings = [(), *(p for p in all_paths if isinstance(get(spec, p), dict) and p[-1] not in FREE_FORM)]
        where = draw(st.sampled_from(mappings))
        key = "zz_" + draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True))
        get(spec, where)[key] = draw(st.sampled_from(WRONG_TYPES))
        return spec, Mutation(kind, (*where, key), must_fail=True)

    if kind == "drop":
        droppable = [p for p in all_paths if isinstance(p[-1], str)]
        if not droppable:
            return spec, Mutation(kind, (), must_fail=False)
        where = draw(st.sampled_from(droppable))
        del get(spec, where[:-1])[where[-1]]
        required = where[-1] in {"owner", "cost_center", "name", "pattern", "data_classification", "cidr",
                                 "region", "location", "project", "network", "models", "model", "gpu", "cluster",
                                 "provider", "api_key_secret", "allowed_clients", "id", "type", "count",
                                 "kubeconfig_context", "resource_group", "vpc_id", "app_subnet_ids",
                                 "application_cidrs", "vnet_id", "app_subnet_id", "endpoint_subnet_id",
                                 "subnetwork"}  # fmt: skip
        # A cloud's `new`/`existing` or a cluster's: the choice is then missing, also an error.
        required = required or where[-1] in {"new", "existing"}
        if where[-1] == "cloud" and "use_cases" in where:
            required = get(spec, where[:-1]).get("pattern") != "self-managed"
        if where[-1] in {"aws", "azure", "gcp"} and where[0] == "clouds":
            used = any(u.get("cloud") == where[-1] for u in spec["use_cases"]) or any(
                c.get("new", {}).get("cloud") == where[-1] for c in spec["kubernetes"]
            )
            required = used
        if where[-1] == "allowed_principals":
            required = get(spec, where[:-1]).get("pattern") == "saas"
        if where[-1] in {"kubernetes"}:
            required = any(u["pattern"] == "self-managed" for u in spec["use_cases"])
        return spec, Mutation(kind, where, must_fail=bool(required))

    if kind == "wrong_type":
        where = draw(st.sampled_from(all_paths)) if all_paths else ("owner",)
        original = get(spec, where) if all_paths else None
        replacement = draw(st.sampled_from(WRONG_TYPES).filter(lambda v: type(v) is not type(original)))
        put(spec, where, replacement)
        # Lax mode coerces some values (an int for a float field); free-form dicts accept anything.
        return spec, Mutation(kind, where, must_fail=False)

    if kind == "strange_string":
        strings = _leaves(spec, str)
        where = draw(st.sampled_from(strings))
        put(spec, where, draw(st.sampled_from(STRANGE_STRINGS)))
        return spec, Mutation(kind, where, must_fail=False)

    if kind == "bad_number":
        numbers = _leaves(spec, (int, float))
        if not numbers:
            spec["use_cases"].append({"name": "numbers", "pattern": "saas"})
            return spec, Mutation(kind, ("use_cases", len(spec["use_cases"]) - 1), must_fail=True)
        where = draw(st.sampled_from(numbers))
        put(spec, where, draw(st.sampled_from(ABSURD_NUMBERS)))
        return spec, Mutation(kind, where, must_fail=False)

    if kind == "bad_cidr":
        cidrs = [p for p in all_paths if p[-1] == "cidr" or (len(p) > 1 and p[-2] == "application_cidrs")]
        if not cidrs:
            spec["clouds"]["aws"] = {"region": "us-east-1", "network": {"new": {"cidr": "8.8.0.0/16",
                                     "zones": ["us-east-1a", "us-east-1b"]}}}  # fmt: skip
            return spec, Mutation(kind, ("clouds", "aws", "network", "new", "cidr"), must_fail=True)
        where = draw(st.sampled_from(cidrs))
        choices = PUBLIC_OR_BROKEN_CIDRS + (WRONG_SIZE_CIDRS if where[-1] == "cidr" else ())
        put(spec, where, draw(st.sampled_from(choices)))
        return spec, Mutation(kind, where, must_fail=True)

    if kind == "overlap":
        news = [c for c, s in spec["clouds"].items() if "new" in s["network"]]
        if len(news) < 2:
            aws_network = {"new": {"cidr": "10.5.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}}
            gcp_network = {"new": {"cidr": "10.5.16.0/20"}}
            spec["clouds"] = {
                "aws": {"region": "us-east-1", "network": aws_network},
                "gcp": {"project": "acme-genai-test", "region": "us-central1", "network": gcp_network},
            }
            spec["use_cases"], spec["kubernetes"] = [], []
            return spec, Mutation(kind, ("clouds", "gcp", "network", "new", "cidr"), must_fail=True)
        first, second = sorted(news)[:2]
        spec["clouds"][second]["network"]["new"]["cidr"] = spec["clouds"][first]["network"]["new"]["cidr"]
        return spec, Mutation(kind, ("clouds", second, "network", "new", "cidr"), must_fail=True)

    if kind == "bad_name":
        named: list[tuple[str | int, ...]] = [
            p for p in all_paths if p[-1] in ("name", "cluster") and p[0] in ("use_cases", "kubernetes")
        ]
        if not named:
            existing = {"kubeconfig_context": "ctx", "registry": "upstream"}
            spec["kubernetes"].append({"name": "gpu", "existing": existing})
            named = [("kubernetes", len(spec["kubernetes"]) - 1, "name")]
        where = draw(st.sampled_from(named))
        put(spec, where, draw(st.sampled_from(BAD_NAMES)))
        return spec, Mutation(kind, where, must_fail=True)

    if kind == "unknown_value":
        fields = [p for p in all_paths if p[-1] in ("provider", "type", "pattern", "tier", "data_classification",
                                                     "region", "location", "id", "engine", "key_rotation")]  # fmt: skip
        if not fields:
            put(spec, ("tier",), "production")
            return spec, Mutation(kind, ("tier",), must_fail=True)
        where = draw(st.sampled_from(fields))
        put(spec, where, draw(st.sampled_from(["no-such-thing", "NVIDIA-H200", "gpt-99!", "Prod", "mars-north-9"])))
        # Model IDs are checked by shape, not against a catalog: a well-formed unknown ID may pass.
        return spec, Mutation(kind, where, must_fail=where[-1] != "id")

    root = draw(st.sampled_from([None, [], "environment", 42, [spec]]))
    return {"value": root}, Mutation("root", (), must_fail=True)
