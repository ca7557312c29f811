"""`triplane new`: the files of a Triplane environment, for an empty folder or an existing Pulumi project.

The stack file is built from the spec's own pieces (the reference models of `triplane recommend`,
each cloud's example identity) and validated against `triplane:environment` before it is written,
so every choice of clouds and patterns gives a stack that plans and passes the gate at once.
"""

from __future__ import annotations

import importlib.metadata
import json
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from triplane.project import ProjectError, project_file, read_project
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.errors import ENVIRONMENT_KEY

CLOUDS = ("aws", "azure", "gcp")
PATTERNS = ("saas", "cloud-managed", "self-managed")
DEFAULT_CLOUDS = ("aws",)
DEFAULT_PATTERNS = ("cloud-managed",)
SECRET_PLACEHOLDER = "replace-with-pulumi-config-set-secret"
POLICY_CONFIG_TEMPLATE = Path(__file__).resolve().parent / "policy-config.json"

# Where each cloud's new network goes: blocks that do not overlap, as the spec requires.
CLOUD_SETTINGS: dict[str, dict[str, Any]] = {
    "aws": {
        "region": "us-east-1",
        "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
    },
    "azure": {
        "location": "westeurope",
        "resource_group": "rg-triplane-{env}",
        "network": {"new": {"cidr": "10.41.0.0/16"}},
    },
    "gcp": {"project": "my-gcp-project", "region": "europe-west4", "network": {"new": {"cidr": "10.42.0.0/16"}}},
}
CLOUD_COMMENTS = {
    "aws": "AWS: the account of your credentials, one region; a new VPC over two zones (or `existing:` to reuse one).",
    "azure": "Azure: the subscription of your credentials; a new resource group and VNet (or `existing:`).",
    "gcp": "Google Cloud: put your project ID; a new VPC in one region (or `existing:` to reuse one).",
}
# A CI runner's public egress addresses may reach a new cluster's API server (a documentation range: put yours,
# /24 or narrower), so `pulumi up` can create the Kubernetes objects from outside the network.
RUNNER_RANGE = "203.0.113.0/28"
# An open model with no licence gate (no Hugging Face token needed), pinned to one commit of its repository.
SELF_MANAGED_MODEL = {
    "id": "mistralai/Mistral-7B-Instruct-v0.3",
    "revision": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db",
}
PATTERN_COMMENTS = {
    "saas": "SaaS: a hosted model API reached through the egress allowlist; its API key lives in a secret store "
    "only `allowed_principals` can read.",
    "cloud-managed": "Cloud-managed: the cloud's own model service behind a private endpoint, logged and "
    "restricted to `allowed_principals`.",
    "self-managed": "Self-managed: an open model served on your GPUs in the cluster above; only "
    "`allowed_clients` may call it.",
}
# The managed model of each cloud, on the `internal` allowlist of the policy config written beside the stack.
CLOUD_MANAGED_MODELS = {
    "aws": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "azure": "gpt-4o-mini",
    "gcp": "gemini-2.5-flash-lite",
}
USE_CASE_NAMES = {"saas": "assistant", "cloud-managed": "doc-search", "self-managed": "code-review"}


class ScaffoldError(Exception):
    """The folder cannot take a new environment as asked; the message says why and what to do."""


def _ordered(chosen: Iterable[str], allowed: Sequence[str], default: Sequence[str]) -> tuple[str, ...]:
    picked = set(chosen) or set(default)
    unknown = picked - set(allowed)
    if unknown:
        raise ScaffoldError(f"unknown choice {', '.join(sorted(unknown))}; choose from {', '.join(allowed)}")
    return tuple(c for c in allowed if c in picked)


@dataclass(frozen=True)
class Choice:
    env: str
    clouds: tuple[str, ...]
    patterns: tuple[str, ...]

    @classmethod
    def of(cls, env: str, clouds: Iterable[str] = (), patterns: Iterable[str] = ()) -> Choice:
        return cls(env, _ordered(clouds, CLOUDS, DEFAULT_CLOUDS), _ordered(patterns, PATTERNS, DEFAULT_PATTERNS))

    def use_case_name(self, pattern: str, cloud: str) -> str:
        base = USE_CASE_NAMES[pattern]
        return base if len(self.clouds) == 1 else f"{base}-{cloud}"


def _reference() -> dict[str, Any]:
    """The small reference deployment of each pattern, from the shipped price sheet."""
    from triplane.decide.prices import load_prices

    return load_prices(None).reference("small")


def _example_principal(cloud: str) -> str:
    from triplane.stacks.clouds import SEAMS

    return SEAMS[cloud].example_principal


def _cluster(cloud: str) -> dict[str, Any]:
    return {
        "name": f"gpu-{cloud}",
        "version": "1.35",
        "new": {"cloud": cloud, "api_access": "authorized-networks", "api_authorized_cidrs": [RUNNER_RANGE]},
    }


def _use_case(choice: Choice, pattern: str, cloud: str, reference: dict[str, Any]) -> dict[str, Any]:
    from triplane.stacks.secrets import api_key_secret_for

    name = choice.use_case_name(pattern, cloud)
    block: dict[str, Any] = {"name": name, "pattern": pattern}
    if pattern == "saas":
        block |= {
            "description": "Drafts answers with a hosted model.",
            "data_classification": "internal",
            "cloud": cloud,
            "provider": reference["saas"]["provider"],
            "models": [reference["saas"]["model"]],
            "api_key_secret": api_key_secret_for(name),
            "allowed_principals": [_example_principal(cloud)],
        }
    elif pattern == "cloud-managed":
        block |= {
            "description": "Answers questions over internal documents with the cloud's managed model.",
            "data_classification": "internal",
            "cloud": cloud,
            "models": [{"id": CLOUD_MANAGED_MODELS[cloud]}],
            "allowed_principals": [_example_principal(cloud)],
        }
    else:
        gpu_type, count = reference["self-managed"]["gpu"][cloud]
        block |= {
            "description": "Reviews pull requests with an open model on our own GPUs.",
            "data_classification": "confidential",
            "cluster": f"gpu-{cloud}",
            "model": dict(SELF_MANAGED_MODEL),
            "gpu": {"type": gpu_type, "count": int(count)},
            "replicas": {"min": 1, "max": 1},
            "allowed_clients": {"namespaces": [f"{name}-app"]},
        }
    block["volume"] = {"input_tokens_per_month": 50_000_000, "output_tokens_per_month": 10_000_000}
    return block


def environment_document(choice: Choice, owner: str = "platform-team") -> dict[str, Any]:
    """The `triplane:environment` value: one use case per pattern and cloud, each cloud's network, and a
    GPU cluster per cloud when a self-managed use case needs one."""
    reference = _reference()
    document: dict[str, Any] = {"owner": owner, "cost_center": "cc-0000", "tier": "dev"}
    document["clouds"] = {cloud: _cloud_settings(cloud, choice.env) for cloud in choice.clouds}
    if "self-managed" in choice.patterns:
        document["kubernetes"] = [_cluster(cloud) for cloud in choice.clouds]
    document["use_cases"] = [
        _use_case(choice, pattern, cloud, reference) for pattern in choice.patterns for cloud in choice.clouds
    ]
    return document


def _cloud_settings(cloud: str, env: str) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(json.dumps(CLOUD_SETTINGS[cloud]).replace("{env}", env))
    return settings


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as the shipped stack files write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(value: Any, indent: int) -> list[str]:
    text = yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)
    return [" " * indent + line for line in text.splitlines()]


def _comment(text: str, indent: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines += textwrap.wrap(paragraph, width=118 - indent, break_on_hyphens=False)
    return [" " * indent + "# " + line for line in lines]


def stack_file_text(choice: Choice) -> str:
    """The commented `Pulumi.<env>.yaml`; raises SpecError if it would not validate (it always should)."""
    document = environment_document(choice)
    environment = validate_environment(document, f"Pulumi.{choice.env}.yaml")
    secrets = _secret_keys(environment)
    lines = [
        f"# {choice.env}: {', '.join(choice.patterns)} on {', '.join(choice.clouds)}, written by `triplane new`.",
        f"# Offline: `triplane plan {choice.env}` and `triplane check {choice.env}`. Every field, with its "
        "documentation: `triplane schema`.",
        f"# For real: replace the example identities and set each secret below, then `pulumi up -s {choice.env}`.",
        "config:",
        f"  {ENVIRONMENT_KEY}:",
        *_comment("Who owns the environment and who pays for it: every resource is tagged with both. `tier: prod` "
                  "protects keys, vaults and logs from deletion.", 4),
        *_dump({k: document[k] for k in ("owner", "cost_center", "tier")}, 4),
        "    clouds:",
    ]
    for cloud in choice.clouds:
        lines += _comment(CLOUD_COMMENTS[cloud], 6)
        lines += _dump({cloud: document["clouds"][cloud]}, 6)
    if "kubernetes" in document:
        lines += _comment(
            "A GPU cluster per cloud for the self-managed use cases. Its API server has a public endpoint open "
            f"only to your CI runner's egress addresses ({RUNNER_RANGE} is a documentation range: put yours, "
            "/24 or narrower), or keep it private with `deployer: {private_cidrs: [<runner range>]}`.", 4)
        lines += _dump({"kubernetes": document["kubernetes"]}, 4)
    lines.append("    use_cases:")
    for use_case in document["use_cases"]:
        lines += _comment(PATTERN_COMMENTS[use_case["pattern"]], 6)
        lines += _dump([use_case], 6)
    for key in secrets:
        lines += _comment(f"Set it with: pulumi config set --secret triplane:{key} -s {choice.env}", 2)
        lines += _dump({f"triplane:{key}": {"secure": SECRET_PLACEHOLDER}}, 2)
    text = "\n".join(lines) + "\n"
    parsed = yaml.safe_load(text)["config"][ENVIRONMENT_KEY]
    if parsed != document:
        raise SpecError(f"Pulumi.{choice.env}.yaml", ["the commented stack file does not read back as generated"])
    return text


def _secret_keys(environment: Environment) -> list[str]:
    from triplane.stacks.secrets import secret_fields

    return list(dict.fromkeys(key for _, key in secret_fields(environment)))


def installed_version() -> str:
    return importlib.metadata.version("triplane")


PULUMI_YAML = """\
name: {name}
description: Generative AI infrastructure with Triplane.
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: .venv
stackConfigDir: stacks
"""

MAIN_PY = '''\
"""Entry point for `pulumi up -s <env>`: Triplane's program composes the environment in the stack file."""

from triplane.stacks.program import main

main()
'''

REQUIREMENTS = """\
# `pulumi install` and CI install this: Triplane at the version that wrote the project.
triplane=={version}
"""

WORKFLOW = """\
# Triplane: gate every stack offline, then preview each with the policy pack.
# `triplane check` needs no credentials; `pulumi preview` needs the Pulumi backend (PULUMI_ACCESS_TOKEN,
# or the variable PULUMI_BACKEND_URL with the secret PULUMI_CONFIG_PASSPHRASE) and cloud credentials.
name: triplane

on:
  pull_request:
  push:
    branches: [main]

permissions:
  contents: read

jobs:
  check:
    name: triplane check (offline)
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      - run: python -m pip install -r requirements.txt
      - name: triplane check every stack
        run: |
          status=0
          for file in {stacks}/Pulumi.*.yaml; do
            stack="$(basename "$file" .yaml)"; stack="${{stack#Pulumi.}}"
            triplane check "$stack" || status=1
          done
          exit "$status"

  preview:
    name: pulumi preview with the policy pack
    needs: check
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    env:
      PULUMI_ACCESS_TOKEN: ${{{{ secrets.PULUMI_ACCESS_TOKEN }}}}
      PULUMI_BACKEND_URL: ${{{{ vars.PULUMI_BACKEND_URL }}}}
      PULUMI_CONFIG_PASSPHRASE: ${{{{ secrets.PULUMI_CONFIG_PASSPHRASE }}}}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      - uses: pulumi/actions@v6
      - name: Program and policy pack virtualenvs
        run: |
          python -m venv .venv && .venv/bin/pip install -r requirements.txt
          pack="$(.venv/bin/triplane policy-pack)"
          python -m venv "$pack/venv" && "$pack/venv/bin/pip" install -r "$pack/requirements.txt"
          echo "POLICY_PACK=$pack" >> "$GITHUB_ENV"
      - name: pulumi preview every stack
        run: |
          for file in {stacks}/Pulumi.*.yaml; do
            stack="$(basename "$file" .yaml)"; stack="${{stack#Pulumi.}}"
            pulumi preview --stack "$stack" --policy-pack "$POLICY_PACK" \\
              --policy-pack-config policies/policy-config.json
          done
"""


@dataclass(frozen=True)
class NewFiles:
    """What `triplane new` writes (paths relative to the target) and what it keeps."""

    files: dict[str, str]
    notes: list[str]
    stacks_dir: str
    stack_path: str
    """The environment's stack file: the one file that must not exist yet (unless --force)."""


def plan_new(target: Path, choice: Choice) -> NewFiles:
    """The files for `target`: a new project, or Triplane added to the Python project already there."""
    from triplane.stacks.spec.base import stack_name_problem

    if (problem := stack_name_problem(choice.env)) is not None:
        raise ScaffoldError(f"--env {choice.env}: {problem}")
    files: dict[str, str] = {}
    notes: list[str] = []
    existing = project_file(target)
    if existing is None:
        stacks_dir = "stacks"
        files["Pulumi.yaml"] = PULUMI_YAML.format(name=_project_name(target))
    else:
        try:
            project = read_project(existing)
        except ProjectError as error:
            raise ScaffoldError(str(error)) from None
        if project.runtime != "python":
            raise ScaffoldError(
                f"{existing.name}: this Pulumi project runs {project.runtime}, and Triplane's program is Python; "
                "run `triplane new` in an empty folder (or a Python project) instead"
            )
        notes.append(f"{existing.name}: kept as it is (a Python project; stacks go in its stackConfigDir)")
        stacks_dir = project.relative(project.stacks_dir)
        if stacks_dir == ".":
            stacks_dir = ""
    files["__main__.py"] = MAIN_PY
    stack_path = f"{stacks_dir}/Pulumi.{choice.env}.yaml" if stacks_dir else f"Pulumi.{choice.env}.yaml"
    files[stack_path] = stack_file_text(choice)
    files["policies/policy-config.json"] = POLICY_CONFIG_TEMPLATE.read_text(encoding="utf-8")
    files["requirements.txt"] = REQUIREMENTS.format(version=installed_version())
    files[".github/workflows/triplane.yml"] = WORKFLOW.format(stacks=stacks_dir or ".")
    return NewFiles(files=files, notes=notes, stacks_dir=stacks_dir or ".", stack_path=stack_path)


def _project_name(target: Path) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in target.resolve().name).strip("-.")
    return name or "triplane"


KEPT = {
    "__main__.py": ("triplane.stacks.program", "call `triplane.stacks.program.main()` from it, or `pulumi up` builds "
                    "nothing of Triplane"),
    "requirements.txt": ("triplane", "add `triplane=={version}` to it"),
}
"""Project files a project may already have, what shows they already serve Triplane, and what to add if not."""


def write_new(target: Path, files: NewFiles, force: bool) -> list[str]:
    """Write the environment's files; return those written.

    The stack file is the environment: if it exists (with other content), nothing is written without
    `force`. The project's own files (its program, requirements, policy config, CI workflow) are never
    replaced without `force`: one already there is kept, with a note when it does not serve Triplane
    yet, so Triplane can be added to an existing project and an environment to a Triplane project.
    """
    changed = {path: text for path, text in files.files.items() if not _holds(target / path, text)}
    stack = target / files.stack_path
    if stack.exists() and files.stack_path in changed and not force:
        raise ScaffoldError(
            f"{stack}: the stack file exists and would be overwritten; nothing was written (pass --force to "
            "overwrite it, or choose another --env)"
        )
    written = []
    for path, text in changed.items():
        destination = target / path
        if destination.exists() and not force:
            files.notes.append(_kept(path, destination))
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _holds(path: Path, text: str) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == text


def _kept(path: str, destination: Path) -> str:
    sign, advice = KEPT.get(path, ("", ""))
    if sign and sign not in destination.read_text(encoding="utf-8"):
        return f"{path}: kept as it is; {advice.format(version=installed_version())}"
    return f"{path}: kept as it is (--force replaces it)"
