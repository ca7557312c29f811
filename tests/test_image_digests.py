"""Serving images pinned by digest: the spec field, `triplane pin` against a local registry, the plan, the
rendered manifests, and the prod policy (advisory, or mandatory with `requireDigest`)."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.test_self_managed_spec import SOURCE, environment, only_problem, use_case
from triplane.cli import cli
from triplane.components.images import TGI, Image, Mirror, PullThroughCache, Upstream
from triplane.gate import check_plan
from triplane.pin import MANIFEST_TYPES, PinError, resolve
from triplane.policies.common import Res, checking_stack
from triplane.policies.kubernetes import _serving_image_digest
from triplane.project import find_project
from triplane.stackfile import plan_stack
from triplane.stacks.spec import SpecError, validate_environment
from triplane.stacks.spec.self_managed import SelfManagedUseCase

INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1234,
             "digest": "sha256:" + "1" * 64, "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    },
    sort_keys=True,
).encode()
INDEX_DIGEST = f"sha256:{hashlib.sha256(INDEX).hexdigest()}"
TOKEN = "anonymous-pull-token"
REPOSITORY = TGI.repository


class FakeRegistry(http.server.BaseHTTPRequestHandler):
    """A distribution API with Docker Hub's / ghcr.io's anonymous token dance, serving one index."""

    requests: list[tuple[str, str, dict[str, str]]] = []
    head_digest = True

    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, method: str) -> None:
        type(self).requests.append((method, self.path, dict(self.headers)))
        port = self.server.server_address[1]
        if self.path.startswith("/token?"):
            expected = f"service=fake-registry&scope=repository%3A{REPOSITORY.replace('/', '%2F')}%3Apull"
            if self.path != f"/token?{expected}":
                self.send_response(400)
                self.end_headers()
                return
            body = json.dumps({"token": TOKEN, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Bearer realm="http://127.0.0.1:{port}/token",service="fake-registry",'
                f'scope="repository:{REPOSITORY}:pull"',
            )
            self.end_headers()
            return
        if self.path != f"/v2/{REPOSITORY}/manifests/3.3.7" or MANIFEST_TYPES[0] not in (
            self.headers.get("Accept") or ""
        ):
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
        self.send_header("Content-Length", str(len(INDEX)))
        if method == "GET" or type(self).head_digest:
            self.send_header("Docker-Content-Digest", INDEX_DIGEST)
        self.end_headers()
        if method == "GET":
            self.wfile.write(INDEX)

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_GET(self) -> None:
        self._answer("GET")


@pytest.fixture
def registry() -> Iterator[str]:
    FakeRegistry.requests = []
    FakeRegistry.head_digest = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the spec ------------------------------------------------------------------------------------


def test_a_digest_beside_its_tag_is_recorded_in_the_server_image() -> None:
    digest = "sha256:" + "ab" * 32
    parsed = validate_environment(environment(use_case(image={"tag": "3.3.7", "digest": digest})), SOURCE)
    chat = parsed.use_cases[0]
    assert isinstance(chat, SelfManagedUseCase)
    assert chat.server_image == Image("ghcr.io", REPOSITORY, "3.3.7", digest)
    assert chat.server_image.upstream == f"ghcr.io/{REPOSITORY}:3.3.7@{digest}"
    vllm = validate_environment(environment(use_case(engine="vllm")), SOURCE).use_cases[0]
    assert isinstance(vllm, SelfManagedUseCase) and vllm.server_image.digest is None


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "a" * 63,  # one short
        "sha256:" + "A" * 64,  # registries write lower case
        "sha512:" + "a" * 128,  # not the algorithm nodes compare
        "sha256-" + "a" * 64,  # a cosign signature tag, not a digest
        "3.3.7@sha256:" + "a" * 64,  # a whole version in the digest field
        "a" * 64,  # no algorithm
    ],
)
def test_malformed_digests_are_refused(digest: str) -> None:
    message = only_problem(environment(use_case(image={"tag": "3.3.7", "digest": digest})))
    assert "use_cases[0].image.digest" in message


def test_a_digest_without_its_tag_is_refused() -> None:
    message = only_problem(environment(use_case(image={"digest": "sha256:" + "c" * 64})))
    assert "use_cases[0].image.tag: a digest belongs to one version" in message


def test_every_image_source_keeps_the_digest() -> None:
    pinned = TGI.with_version("3.3.7", "sha256:" + "d" * 64)
    version = ":3.3.7@sha256:" + "d" * 64
    assert Upstream().ref(pinned) == f"ghcr.io/{REPOSITORY}{version}"
    assert Mirror("registry.corp/mirror").ref(pinned) == f"registry.corp/mirror/ghcr.io/{REPOSITORY}{version}"
    cache = PullThroughCache("123456789012.dkr.ecr.us-east-1.amazonaws.com", {"ghcr.io": "prod-ghcr"})
    assert cache.ref(pinned) == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/prod-ghcr/{REPOSITORY}{version}"


# --- triplane pin --------------------------------------------------------------------------------


def test_resolve_follows_the_token_flow_and_asks_for_the_index(registry: str) -> None:
    digest, media_type = resolve(TGI, {"ghcr.io": registry})
    assert (digest, media_type) == (INDEX_DIGEST, "application/vnd.oci.image.index.v1+json")
    methods = [(m, p.split("?")[0]) for m, p, _h in FakeRegistry.requests]
    manifest = f"/v2/{REPOSITORY}/manifests/3.3.7"
    assert methods == [("HEAD", manifest), ("GET", "/token"), ("HEAD", manifest)]
    accept = FakeRegistry.requests[-1][2]["Accept"]
    assert "application/vnd.docker.distribution.manifest.list.v2+json" in accept
    assert accept.index("image.index") < accept.index("image.manifest.v1")


def test_resolve_hashes_the_manifest_when_head_sends_no_digest(registry: str) -> None:
    FakeRegistry.head_digest = False
    assert resolve(TGI, {"ghcr.io": registry})[0] == INDEX_DIGEST
    assert [m for m, _p, _h in FakeRegistry.requests][-1] == "GET"


def test_resolve_reports_a_missing_tag_and_an_unreachable_registry(registry: str) -> None:
    with pytest.raises(PinError, match=r"ghcr.io/huggingface/text-generation-inference has no tag '3.3.8'"):
        resolve(TGI.with_version("3.3.8"), {"ghcr.io": registry})
    with pytest.raises(PinError, match=r"cannot reach the registry http://127\.0\.0\.1:.* run `triplane pin` where"):
        resolve(TGI, {"ghcr.io": f"http://127.0.0.1:{closed_port()}"})


def test_pin_prints_the_block_that_pins_the_stack(registry: str, tmp_path: Path) -> None:
    """End to end: the printed block, pasted under the use case, pins every pod and Job of it."""
    result = CliRunner().invoke(cli, ["pin", "local", "--endpoint", f"ghcr.io={registry}"])
    assert result.exit_code == 0, result.output
    assert "# triplane:environment.use_cases[0].image  (contract-review: " in result.output
    assert f"image:\n  tag: 3.3.7\n  digest: {INDEX_DIGEST}\n" in result.output
    block = yaml.safe_load(result.output.split(")\n", 1)[1])
    document = yaml.safe_load((find_project().stack_path("local")).read_text())
    document["config"]["triplane:environment"]["use_cases"][0].update(block)
    stack = tmp_path / "Pulumi.pinned.yaml"
    stack.write_text(yaml.safe_dump(document))
    out = tmp_path / "manifests"
    planned = CliRunner().invoke(cli, ["plan", str(stack), "--k8s-out", str(out)], terminal_width=400)
    assert planned.exit_code == 0, planned.output
    reference = f"ghcr.io/{REPOSITORY}:3.3.7@{INDEX_DIGEST}"
    assert "Images by use case" in planned.output
    assert f"contract-review  Deployment/pinned-contract-review-deployment  {reference}" in planned.output
    rendered = {}
    for path in out.rglob("*.yaml"):
        manifest = yaml.safe_load(path.read_text())
        if manifest["kind"] in ("Deployment", "Job"):
            rendered[manifest["kind"]] = manifest["spec"]["template"]["spec"]["containers"][0]["image"]
    assert rendered == {"Deployment": reference, "Job": reference}


def test_pin_fails_clearly_without_a_registry() -> None:
    result = CliRunner().invoke(cli, ["pin", "local", "--endpoint", f"ghcr.io=http://127.0.0.1:{closed_port()}"])
    assert result.exit_code == 2
    assert "error: cannot pin local: cannot reach the registry" in result.output
    bad = CliRunner().invoke(cli, ["pin", "local", "--endpoint", "ghcr.io"])
    assert bad.exit_code == 2 and "write HOST=URL" in bad.output


# --- the prod policy -----------------------------------------------------------------------------


def workload(component: str | None, image: str) -> Res:
    labels = {"app.kubernetes.io/component": component} if component else {}
    return Res(type="kubernetes:apps/v1:Deployment", name="w", urn="urn:w",
               props={"metadata": {"labels": labels},
                      "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}})


@pytest.mark.parametrize(
    ("tier", "component", "image", "fires"),
    [
        ("prod", "model-server", f"ghcr.io/{REPOSITORY}:3.3.7", True),
        ("prod", "weights-download", "docker.io/vllm/vllm-openai:v0.11.0", True),
        # A cosign signature tag names a digest in its tag: it is still a tag.
        ("prod", "model-server", f"ghcr.io/{REPOSITORY}:sha256-{'e' * 64}.sig", True),
        ("prod", "model-server", f"ghcr.io/{REPOSITORY}:3.3.7@sha256:{'e' * 64}", False),
        ("prod", "model-server", f"ghcr.io/{REPOSITORY}@sha256:{'e' * 64}", False),
        ("prod", None, "ghcr.io/kedacore/keda:2.20.2", False),  # add-ons: requireDigest covers them
        ("prod", "weights-import", "public.ecr.aws/aws-cli/aws-cli:2.27.50", False),
        ("dev", "model-server", f"ghcr.io/{REPOSITORY}:3.3.7", False),
        # A stack named prod is not a prod tier: the tier decides.
        ("staging", "model-server", f"ghcr.io/{REPOSITORY}:3.3.7", False),
    ],
)
def test_prod_digest_rule(tier: str, component: str | None, image: str,
                          fires: bool) -> None:
    checked = {"components": ["model-server", "weights-download"]}
    with checking_stack("prod", {"triplane:environment": json.dumps({"tier": tier})}):
        found = list(_serving_image_digest(workload(component, image), checked))
    assert bool(found) == fires, found
    if fires:
        assert "triplane pin <stack>" in found[0]


def local_as_prod(digest: str | None) -> tuple[Any, dict[str, Any]]:
    document = yaml.safe_load((find_project().stack_path("local")).read_text())
    environment_config = document["config"]["triplane:environment"]
    environment_config["tier"] = "prod"
    environment_config["monitoring"] = {"notify": {"email": ["oncall@example.com"]}}  # prod is watched
    if digest:
        environment_config["use_cases"][0]["image"] = {"tag": "3.3.7", "digest": digest}
    return document, document["config"]


@pytest.fixture(scope="module")
def unpinned_prod(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    document, config = local_as_prod(None)
    stack = tmp_path_factory.mktemp("prod") / "Pulumi.onprem.yaml"
    stack.write_text(yaml.safe_dump(document))
    return plan_stack(str(stack)), config


def digest_findings(result: Any) -> set[tuple[str, str, str | None]]:
    return {(v.policy, v.enforcement, v.resource_type) for v in result.violations
            if v.policy in ("k8s-image-digest-prod", "k8s-image-pinned")}


def test_prod_without_digests_is_advised_not_failed(unpinned_prod: tuple[Any, dict[str, Any]]) -> None:
    plan, config = unpinned_prod
    result = check_plan(plan, scope="kubernetes", stack_config=config)
    assert digest_findings(result) == {
        ("k8s-image-digest-prod", "advisory", "kubernetes:apps/v1:Deployment"),
        ("k8s-image-digest-prod", "advisory", "kubernetes:batch/v1:Job"),
    }
    assert result.passed


def test_require_digest_makes_it_mandatory(unpinned_prod: tuple[Any, dict[str, Any]]) -> None:
    plan, config = unpinned_prod
    shipped = json.loads((find_project().root / "policies" / "policy-config.json").read_text())
    strict = {**shipped, "k8s-image-pinned": {"requireDigest": True}}
    result = check_plan(plan, scope="kubernetes", config=strict, stack_config=config)
    mandatory = {f for f in digest_findings(result) if f[1] == "mandatory"}
    assert ("k8s-image-pinned", "mandatory", "kubernetes:apps/v1:Deployment") in mandatory
    assert ("k8s-image-pinned", "mandatory", "kubernetes:batch/v1:Job") in mandatory
    assert not result.passed


def test_a_pinned_prod_stack_has_no_digest_finding(tmp_path: Path) -> None:
    document, config = local_as_prod(INDEX_DIGEST)
    stack = tmp_path / "Pulumi.onprem.yaml"
    stack.write_text(yaml.safe_dump(document))
    result = check_plan(plan_stack(str(stack)), scope="kubernetes", stack_config=config)
    assert digest_findings(result) == set()
    with pytest.raises(SpecError):  # and the same digest without its tag is refused before planning
        validate_environment({**config["triplane:environment"], "use_cases": [
            {**config["triplane:environment"]["use_cases"][0], "image": {"digest": INDEX_DIGEST}}]}, SOURCE)
