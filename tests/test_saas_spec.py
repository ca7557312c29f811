"""The SaaS use-case spec and the provider catalog: bad input is refused with a message naming the field."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from triplane.components.saas.providers import CATALOG, aws_domain, check_host, host_matches, swp_session_matcher
from triplane.stacks.spec import SaasUseCase, SpecError, validate_environment

SOURCE = "stacks/Pulumi.test.yaml"
ROLE = "arn:aws:iam::123456789012:role/app"


def environment(**use_case: Any) -> dict[str, Any]:
    case = {
        "name": "chat",
        "pattern": "saas",
        "data_classification": "internal",
        "cloud": "aws",
        "provider": "openai",
        "api_key_secret": "openaiKey",
        "allowed_principals": [ROLE],
        **use_case,
    }
    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
            },
            "azure": {"location": "westeurope", "resource_group": "rg-t", "network": {"new": {"cidr": "10.20.0.0/16"}}},
            "gcp": {
                "project": "acme-test-proj",
                "region": "europe-west4",
                "network": {"new": {"cidr": "10.30.0.0/16"}},
            },
        },
        "use_cases": [case],
    }


def use_case(**fields: Any) -> SaasUseCase:
    result = validate_environment(environment(**fields), SOURCE).use_cases[0]
    assert isinstance(result, SaasUseCase)
    return result


def error(**fields: Any) -> str:
    with pytest.raises(SpecError) as caught:
        validate_environment(environment(**fields), SOURCE)
    return str(caught.value)


# ------------------------------------------------------------------------------------- the catalog


def test_catalog_knows_the_five_providers_with_their_api_hosts() -> None:
    assert {name: p.hosts for name, p in CATALOG.items()} == {
        "openai": ("api.openai.com",),
        "anthropic": ("api.anthropic.com",),
        "cohere": ("api.cohere.com",),
        "mistral": ("api.mistral.ai",),
        "gemini": ("generativelanguage.googleapis.com",),
    }


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_catalog_entry_is_https_to_one_of_its_own_hosts(name: str) -> None:
    provider = CATALOG[name]
    url = urlparse(provider.base_url)
    assert url.scheme == "https" and url.hostname in provider.hosts
    assert urlparse(provider.docs_url).scheme == "https"
    assert all(check_host(h) == h for h in provider.hosts)


# ----------------------------------------------------------------------------------------- hosts


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("api.example.ai", "api.example.ai"),
        ("API.Example.AI.", "api.example.ai"),
        ("*.cdn.example.ai", "*.cdn.example.ai"),
    ],
)
def test_hosts_are_normalised_fqdns(given: str, expected: str) -> None:
    assert check_host(given) == expected


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("*.*.example.ai", "whole first label"),
        ("api.*.example.ai", "whole first label"),
        ("a*.example.ai", "whole first label"),
        ("*.ai", "after the wildcard"),
        ("localhost", "fully qualified"),
        ("https://api.example.ai", "only the name"),
        ("api.example.ai:443", "only the name"),
        ("10.0.0.1", "IP address"),
        ("-api.example.ai", "not a DNS label"),
        (f"{'a' * 64}.example.ai", "not a DNS label"),
        ("api_v1.example.ai", "not a DNS label"),
        ("", "empty"),
    ],
)
def test_bad_hosts_are_refused_with_the_reason(host: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_host(host)


def test_each_firewall_spells_a_wildcard_its_own_way() -> None:
    assert aws_domain("*.cdn.example.ai") == ".cdn.example.ai"
    assert aws_domain("api.example.ai") == "api.example.ai"
    assert swp_session_matcher("api.example.ai") == "host() == 'api.example.ai'"
    assert swp_session_matcher("*.cdn.example.ai") == "host().endsWith('.cdn.example.ai')"
    assert host_matches("*.cdn.example.ai", "eu.cdn.example.ai")
    assert not host_matches("*.cdn.example.ai", "cdn.example.ai.evil.com")
    assert not host_matches("api.example.ai", "api.example.ai.evil.com")


# ------------------------------------------------------------------------------------ the use case


def test_catalog_provider_brings_its_hosts_and_base_url() -> None:
    chat = use_case(provider="anthropic")
    assert chat.hosts == ("api.anthropic.com",)
    assert chat.base_url == "https://api.anthropic.com"


def test_custom_provider_declares_hosts_and_base_url() -> None:
    partner = use_case(
        provider="custom",
        custom_provider={"base_url": "https://eu.api.partner.example/v2", "hosts": ["*.api.partner.example"]},
    )
    assert partner.hosts == ("*.api.partner.example",)
    assert partner.base_url == "https://eu.api.partner.example/v2"


def test_unknown_provider_names_the_field_and_the_choices() -> None:
    message = error(provider="open-ai")
    assert message.startswith(f"{SOURCE}: triplane:environment.use_cases[0].provider: 'open-ai' is not a known")
    assert "anthropic, cohere, gemini, mistral, openai, custom" in message


def test_custom_needs_its_block_and_catalog_providers_refuse_one() -> None:
    assert "use_cases[0].custom_provider: required when provider is `custom`" in error(provider="custom")
    block = {"base_url": "https://api.openai.com/v1", "hosts": ["api.openai.com"]}
    assert "use_cases[0].custom_provider: only for provider `custom`" in error(custom_provider=block)


def test_custom_base_url_must_be_https_and_allowed_by_its_hosts() -> None:
    plain = {"base_url": "http://api.partner.example", "hosts": ["api.partner.example"]}
    assert "custom_provider.base_url: http://api.partner.example/ is not HTTPS" in error(
        provider="custom", custom_provider=plain
    )
    elsewhere = {"base_url": "https://api.partner.example", "hosts": ["files.partner.example"]}
    assert "custom_provider.base_url: its host api.partner.example is not among `hosts`" in error(
        provider="custom", custom_provider=elsewhere
    )


def test_custom_hosts_with_a_nested_wildcard_are_refused_by_path() -> None:
    block = {"base_url": "https://api.partner.example", "hosts": ["api.partner.example", "*.*.partner.example"]}
    message = error(provider="custom", custom_provider=block)
    assert "use_cases[0].custom_provider.hosts[1]" in message
    assert "whole first label" in message


@pytest.mark.parametrize(
    ("cloud", "principal"),
    [
        ("aws", "app-role"),
        ("aws", "arn:aws:s3:::bucket"),
        ("azure", "not-a-guid"),
        ("gcp", "app@acme-test-proj.iam.gserviceaccount.com"),
    ],
)
def test_principals_must_fit_the_cloud(cloud: str, principal: str) -> None:
    message = error(cloud=cloud, allowed_principals=[principal])
    assert f"use_cases[0].allowed_principals: {principal!r} is not" in message


def test_someone_must_be_allowed_to_run_the_workload() -> None:
    assert "use_cases[0].allowed_principals: list who runs the workload" in error(allowed_principals=[])


def test_principals_of_each_cloud_are_accepted() -> None:
    assert use_case(cloud="azure", allowed_principals=["33333333-3333-3333-3333-333333333333"]).cloud == "azure"
    gcp = use_case(cloud="gcp", allowed_principals=["serviceAccount:acme-test-proj.svc.id.goog[apps/chat]"])
    assert gcp.allowed_principals == ["serviceAccount:acme-test-proj.svc.id.goog[apps/chat]"]


def test_key_rotation_is_pulumi_unless_said_external() -> None:
    assert use_case().key_rotation == "pulumi"
    assert use_case(key_rotation="external").key_rotation == "external"
    assert "use_cases[0].key_rotation: 'yearly' is not allowed" in error(key_rotation="yearly")
