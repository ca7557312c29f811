"""The external AI APIs the SaaS pattern knows, and the host-name rules every allowlist relies on.

Each provider lists the exact hosts its API is served from; those hosts, and nothing else, are what
the egress firewall lets the workload reach. A provider the catalog does not know is declared in
the stack (`custom_provider`) with its own hosts, which must pass `check_host`.

Wildcards are allowed only as one whole leading label (`*.example.ai`): each firewall has its own
spelling for "this domain and its subdomains", produced by `aws_domain` and `swp_session_matcher`.
A wildcard over a public suffix or a shared hosting domain (`*.s3.amazonaws.com`) is refused: it
would reach every tenant there (`triplane.policies.host_patterns`, the rule the egress policies apply too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from triplane.policies.host_patterns import wildcard_problem


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    base_url: str
    """What the client library calls (the SDKs' default base URL)."""
    hosts: tuple[str, ...]
    """Every host the API is served from: the egress allowlist for this provider."""
    docs_url: str
    auth_header: str
    """Where the API key goes on each request."""


CATALOG: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider(
            name="openai",
            title="OpenAI",
            base_url="https://api.openai.com/v1",
            hosts=("api.openai.com",),
            docs_url="https://platform.openai.com/docs/api-reference",
            auth_header="Authorization: Bearer <key>",
        ),
        Provider(
            name="anthropic",
            title="Anthropic",
            base_url="https://api.anthropic.com",
            hosts=("api.anthropic.com",),
            docs_url="https://docs.anthropic.com/en/api/overview",
            auth_header="x-api-key: <key>",
        ),
        Provider(
            name="cohere",
            title="Cohere",
            base_url="https://api.cohere.com",
            hosts=("api.cohere.com",),
            docs_url="https://docs.cohere.com/reference/about",
            auth_header="Authorization: Bearer <key>",
        ),
        Provider(
            name="mistral",
            title="Mistral AI",
            base_url="https://api.mistral.ai/v1",
            hosts=("api.mistral.ai",),
            docs_url="https://docs.mistral.ai/api/",
            auth_header="Authorization: Bearer <key>",
        ),
        Provider(
            name="gemini",
            title="Google Gemini API",
            base_url="https://generativelanguage.googleapis.com/v1beta",
            hosts=("generativelanguage.googleapis.com",),
            docs_url="https://ai.google.dev/api",
            auth_header="x-goog-api-key: <key>",
        ),
    )
}

CUSTOM = "custom"
"""The provider name that means: the stack declares base URL and hosts itself."""

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def check_host(value: str) -> str:
    """A lowercase FQDN, optionally with one whole leading wildcard label; raises ValueError otherwise.

    Every host or pattern that enters an egress allowlist passes here.
    """
    host = value.strip().lower().rstrip(".")
    if not host:
        raise ValueError("an empty host name; write a name such as api.example.ai")
    if len(host) > 253:
        raise ValueError(f"{value!r} is longer than 253 characters, the limit for a DNS name")
    if "://" in host or "/" in host or ":" in host:
        raise ValueError(
            f"{value!r} is not a host name: write only the name, e.g. api.example.ai (no scheme, port or path)"
        )
    labels = host.split(".")
    wildcard = labels[0] == "*"
    named = labels[1:] if wildcard else labels
    if any("*" in label for label in named):
        raise ValueError(f"{value!r}: a wildcard may only be the whole first label, as in *.example.ai")
    if len(named) < 2:
        raise ValueError(
            f"{value!r} is not a fully qualified domain name: it needs at least a name and a "
            "top-level domain" + (" after the wildcard" if wildcard else "")
        )
    for label in named:
        if not _LABEL.match(label):
            raise ValueError(
                f"{value!r}: label {label!r} is not a DNS label (letters, digits and inner hyphens, "
                "at most 63 characters)"
            )
    if named[-1].isdigit():
        raise ValueError(f"{value!r} looks like an IP address; the allowlist takes host names only")
    problem = wildcard_problem(host)
    if problem is not None:
        raise ValueError(f"{host!r} {problem}")
    return host


def checked_hosts(owner: str, field: str, hosts: Iterable[str]) -> tuple[str, ...]:
    """`hosts` through `check_host`, sorted and de-duplicated; an error names `owner` and `field`."""
    try:
        return tuple(sorted({check_host(host) for host in hosts}))
    except ValueError as error:
        raise ValueError(f"{owner}: {field}: {error}") from None


def host_matches(pattern: str, host: str) -> bool:
    """Whether `host` is covered by the allowlist entry `pattern` (exact, or `*.` for any subdomain)."""
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def aws_domain(host: str) -> str:
    """Network Firewall's spelling: a leading dot means the domain and all its subdomains."""
    return host[1:] if host.startswith("*.") else host


def swp_session_matcher(host: str) -> str:
    """A Secure Web Proxy session matcher (CEL) that accepts exactly this allowlist entry."""
    if host.startswith("*."):
        return f"host().endsWith('{host[1:]}')"
    return f"host() == '{host}'"
