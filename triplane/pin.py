"""`triplane pin`: resolve each self-managed use case's image tag to the digest its registry serves.

The digest is the registry's manifest-list / OCI image-index digest (every platform of the tag), read
over the OCI distribution API with the anonymous bearer-token flow ghcr.io and Docker Hub use: the
manifest request answers 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, a token
comes from the realm, and the request is repeated with it; the digest is the `Docker-Content-Digest`
header (or, where a registry leaves it out, the SHA-256 of the manifest bytes). Nothing is written:
the command prints the `image:` block to put in the stack file, so a person reviews every pin.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from email.message import Message

from triplane.components.images import Image
from triplane.stacks.spec import Environment
from triplane.stacks.spec.errors import ENVIRONMENT_KEY
from triplane.stacks.spec.self_managed import SelfManagedUseCase

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
"""Index and manifest-list types first: a multi-platform tag resolves to its index, not to one platform."""
API_HOSTS = {"docker.io": "https://registry-1.docker.io"}
"""Registries whose API lives on another host than their name (Docker Hub)."""
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT_SECONDS = 20.0


class PinError(Exception):
    """A digest could not be resolved: the registry is unreachable, refuses, or answers nonsense."""


@dataclasses.dataclass(frozen=True)
class Pin:
    """One use case's image, resolved."""

    field: str
    """The stack-file path of the use case's `image` block, e.g. `triplane:environment.use_cases[2].image`."""
    use_case: str
    image: Image
    digest: str
    media_type: str

    def block(self) -> str:
        """The YAML to put under the use case (replacing any `image:` it has)."""
        return f"image:\n  tag: {self.image.tag}\n  digest: {self.digest}"


def api_base(host: str, endpoints: Mapping[str, str]) -> str:
    """The distribution API root for a registry (`endpoints` overrides it: a mirror, a test registry)."""
    return endpoints.get(host) or API_HOSTS.get(host) or f"https://{host}"


def _challenge(headers: Message) -> dict[str, str]:
    value = headers.get("WWW-Authenticate") or ""
    scheme, _, params = value.partition(" ")
    if scheme.lower() != "bearer":
        raise PinError(f"the registry asks for {scheme or 'no'} authentication; only anonymous bearer tokens are used")
    found = dict(_CHALLENGE_PARAM.findall(params))
    if "realm" not in found:
        raise PinError(f"the registry's bearer challenge names no realm: {value!r}")
    return found


def _token(challenge: Mapping[str, str], repository: str) -> str:
    scope = challenge.get("scope") or f"repository:{repository}:pull"
    query = {"service": challenge.get("service", ""), "scope": scope}
    url = f"{challenge['realm']}?{urllib.parse.urlencode({k: v for k, v in query.items() if v})}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            body = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise PinError(
            f"the token service {challenge['realm']} refused an anonymous pull token (HTTP {error.code})"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise PinError(f"cannot reach the token service {challenge['realm']}: {_reason(error)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PinError(f"the token service {challenge['realm']} did not answer JSON") from None
    token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise PinError(f"the token service {challenge['realm']} returned no token")
    return token


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", None) or error)


@dataclasses.dataclass
class _Repository:
    """One repository's manifests, with the anonymous pull token once the registry has asked for one."""

    image: Image
    base: str
    token: str | None = None

    @property
    def url(self) -> str:
        return f"{self.base.rstrip('/')}/v2/{self.image.repository}/manifests/{urllib.parse.quote(self.image.tag)}"

    def manifest(self, method: str) -> tuple[Message, bytes]:
        request = urllib.request.Request(self.url, method=method, headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        name = f"{self.image.host}/{self.image.repository}"
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return response.headers, response.read() if method == "GET" else b""
        except urllib.error.HTTPError as error:
            if error.code == 401 and self.token is None:
                self.token = _token(_challenge(error.headers), self.image.repository)
                return self.manifest(method)
            if error.code == 401:
                raise PinError(f"{name} refused the anonymous pull token: the repository is not public") from None
            if error.code == 404:
                raise PinError(f"{name} has no tag {self.image.tag!r}") from None
            raise PinError(f"{self.url} answered HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise PinError(
                f"cannot reach the registry {self.base} for {name}: {_reason(error)}; run `triplane pin` where "
                "the registry is reachable, or name a mirror of it with --endpoint HOST=URL"
            ) from None


def resolve(image: Image, endpoints: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The digest and media type `image.host` serves for `image.repository:image.tag`."""
    repository = _Repository(image, api_base(image.host, endpoints or {}))
    headers, _ = repository.manifest("HEAD")
    digest = (headers.get("Docker-Content-Digest") or "").strip()
    if not DIGEST.match(digest):
        # Some registries leave the header out of HEAD answers: the digest is the manifest's own SHA-256.
        headers, body = repository.manifest("GET")
        computed = f"sha256:{hashlib.sha256(body).hexdigest()}"
        sent = (headers.get("Docker-Content-Digest") or "").strip()
        if sent and sent != computed:
            raise PinError(f"{repository.url} sent a manifest whose SHA-256 ({computed}) is not its digest {sent}")
        digest = computed
    return digest, (headers.get("Content-Type") or "").split(";")[0].strip()


def self_managed(environment: Environment) -> list[tuple[int, SelfManagedUseCase]]:
    return [(i, u) for i, u in enumerate(environment.use_cases) if isinstance(u, SelfManagedUseCase)]


def pin_environment(environment: Environment, endpoints: Mapping[str, str] | None = None) -> list[Pin]:
    """A pin for each self-managed use case, at its stack's tag (or the catalog's); one lookup per image."""
    resolved: dict[tuple[str, str, str], tuple[str, str]] = {}
    pins: list[Pin] = []
    for index, use_case in self_managed(environment):
        image = dataclasses.replace(use_case.server_image, digest=None)  # resolve the tag afresh
        key = (image.host, image.repository, image.tag)
        if key not in resolved:
            resolved[key] = resolve(image, endpoints)
        digest, media_type = resolved[key]
        pins.append(
            Pin(f"{ENVIRONMENT_KEY}.use_cases[{index}].image", use_case.name, image, digest, media_type)
        )
    return pins


__all__ = ["MANIFEST_TYPES", "Pin", "PinError", "api_base", "pin_environment", "resolve"]
