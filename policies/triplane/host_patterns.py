"""Which egress allowlist wildcards reach other people's hosts: the one rule the spec and the packs share.

A wildcard allowlist entry (`*.example.ai`; Network Firewall spells it `.example.ai`) lets a workload
reach every name under its base. That is safe only while one owner controls every name there. Under
a public suffix (`co.uk`, `s3.amazonaws.com`, `blob.core.windows.net`, `github.io`) anyone can own a
name, so `*.s3.amazonaws.com` is a path out to any customer's bucket. The Public Suffix List
(`publicsuffixlist`, its bundled snapshot: nothing is fetched at run time) knows most such bases;
`SHARED_DOMAINS` names the hosting, storage and tunnel domains it does not.

Exact hosts (`mybucket.s3.amazonaws.com`) are never refused here: naming the one host is the fix.
"""

from __future__ import annotations

from functools import cache

from publicsuffixlist import PublicSuffixList

SHARED_DOMAINS: dict[str, str] = {
    # The PSL lists some AWS endpoints (s3.<region>.amazonaws.com, execute-api.<region>...) but not
    # amazonaws.com or on.aws themselves, so wildcards above or beside those entries slip through.
    "amazonaws.com": "the endpoints of every AWS account, such as S3 buckets, API Gateway APIs, load "
    "balancers and ECR registries",
    "on.aws": "the endpoints of every AWS account, such as Lambda function URLs",
    # The PSL lists blob, file and web.core.windows.net and servicebus.windows.net, not dfs, queue or
    # table storage or SQL servers.
    "windows.net": "the storage accounts, Service Bus namespaces and SQL servers of every Azure tenant",
    "azure.com": "the Azure OpenAI and AI services accounts of every tenant, such as <name>.openai.azure.com",
    "azure.net": "the Key Vaults and managed HSMs of every Azure tenant, such as <name>.vault.azure.net",
    "azurecr.io": "the container registries of every Azure tenant",
    # googleapis.com is on the PSL; its storage host serves every project's buckets by virtual host.
    "storage.googleapis.com": "the Cloud Storage buckets of every project, as <bucket>.storage.googleapis.com",
    "googleusercontent.com": "the content of every Google user and customer: Apps Script, Sites, Drive downloads",
    "cloudflarestorage.com": "the R2 storage of every Cloudflare account, as <account>.r2.cloudflarestorage.com",
    # Tunnels publish anyone's laptop under their domain.
    "devtunnels.ms": "the Microsoft dev tunnels of every user",
    "loca.lt": "the localtunnel tunnels of every user",
}
"""Multi-tenant domains the Public Suffix List does not cover -> whose hosts live under them.

Each is a registrable domain or sits directly under a public suffix, so a wildcard above it is caught
by the list itself (a test holds this)."""


@cache
def public_suffixes() -> PublicSuffixList:
    """The bundled Public Suffix List, parsed once (it takes a noticeable fraction of a second)."""
    return PublicSuffixList()


def wildcard_base(entry: str) -> str | None:
    """The domain a wildcard entry spans (`*.x`, `.x` or `*x` -> `x`); None for an exact host."""
    value = entry.strip().lower().rstrip(".")
    if not value.startswith(("*", ".")):
        return None
    return value.lstrip("*").lstrip(".")


def shared_domain(base: str) -> str | None:
    """The entry of `SHARED_DOMAINS` that `base` is, or lies under."""
    return next((d for d in SHARED_DOMAINS if base == d or base.endswith(f".{d}")), None)


def wildcard_problem(entry: str) -> str | None:
    """Why a wildcard allowlist entry reaches other tenants' hosts (None when it does not).

    The text follows the quoted entry in every message: `'*.s3.amazonaws.com' <problem>`.
    """
    base = wildcard_base(entry)
    if not base:
        return None
    fix = f"name the exact host(s) instead, e.g. <name>.{base}"
    if public_suffixes().privatesuffix(base) is None:
        return (
            f"spans {base}, a public suffix (Public Suffix List) under which anyone can own a name: it "
            f"would let traffic out to any other tenant's bucket, storage account or site there; {fix}"
        )
    shared = shared_domain(base)
    if shared is not None:
        where = f"{base}, which" if base == shared else f"{base}, under {shared}, which"
        return (
            f"spans {where} hosts {SHARED_DOMAINS[shared]}: it would let traffic out to any other "
            f"tenant's bucket, storage account or site there; {fix}"
        )
    return None
