"""The GitHub Actions self-hosted runner a deploy runner machine runs, and what it needs to reach.

The machine boots, reads a GitHub token from the cloud's secret store with its own identity, trades
it for a one-hour registration token (`POST .../actions/runners/registration-token`), registers the
runner with its labels and starts it as a service under the unprivileged `runner` user. The GitHub
token never appears in the machine's user data, the plan or the state: only where it is stored.

The runner package is pinned and its SHA-256 checked before it is unpacked; once registered, the
runner updates itself from GitHub's releases, as GitHub requires of self-hosted runners.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from triplane.policies.runner_hosts import GITHUB_HOSTS, PULUMI_HOSTS

RUNNER_VERSION = "2.329.0"
RUNNER_SHA256 = "194f1e1e4bd02f80b7e9633fc546084d8d4e19f3928a324d512ea53430102e1d"
"""actions/runner v2.329.0, actions-runner-linux-x64-2.329.0.tar.gz, as its release notes list it."""

RUNNER_PACKAGE = (
    f"https://github.com/actions/runner/releases/download/v{RUNNER_VERSION}/"
    f"actions-runner-linux-x64-{RUNNER_VERSION}.tar.gz"
)

__all__ = ["GITHUB_HOSTS", "PULUMI_HOSTS", "RunnerRegistration", "install_script", "runner_labels"]

RUNNER_USER = "runner"
GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(?:/(?P<repo>[A-Za-z0-9._-]{1,100}))?$")


@dataclass(frozen=True)
class RunnerRegistration:
    """Where the runner registers (a repository or an organization) and under which labels."""

    url: str
    labels: tuple[str, ...]

    @property
    def token_endpoint(self) -> str:
        """The REST call that trades the stored token for a one-hour registration token."""
        match = GITHUB_URL.match(self.url)
        if match is None:
            raise ValueError(f"{self.url!r} is not https://github.com/<owner> or https://github.com/<owner>/<repo>")
        if match["repo"]:
            return f"https://api.github.com/repos/{match['owner']}/{match['repo']}/actions/runners/registration-token"
        return f"https://api.github.com/orgs/{match['owner']}/actions/runners/registration-token"


def runner_labels(stack: str, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The labels a stack's deploy runner registers under: `triplane-<stack>` first, then `extra`."""
    return (f"triplane-{stack}", *extra)


def install_script(registration: RunnerRegistration, token_header: str, packages: str) -> str:
    """The boot script: install, register and start the runner.

    `token_header` is the body of a shell function printing `Authorization: Bearer <GitHub token>`,
    which curl reads from its standard input (`-H @-`): the token is never an argument any process
    list shows, nor a variable of the script. `packages` installs the runner's native dependencies
    (Kerberos, zlib, ICU for its .NET runtime) and git for checkouts, with the distribution's names:
    the runner's own `installdependencies.sh` asks Debian-based systems for OpenSSL 1.x packages that
    Ubuntu 24.04 no longer ships.
    """
    labels = ",".join(registration.labels)
    lines = [
        "#!/bin/bash",
        "set -euo pipefail",
        packages,
        f"id {RUNNER_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {RUNNER_USER}",
        f"install -d -o {RUNNER_USER} -g {RUNNER_USER} /home/{RUNNER_USER}/actions-runner",
        f"cd /home/{RUNNER_USER}/actions-runner",
        f"curl -fsSL --retry 5 -o runner.tar.gz {shlex.quote(RUNNER_PACKAGE)}",
        f'echo "{RUNNER_SHA256}  runner.tar.gz" | sha256sum --check --strict -',
        "tar xzf runner.tar.gz && rm runner.tar.gz",
        f"chown -R {RUNNER_USER}:{RUNNER_USER} .",
        "github_token_header() {",
        *(f"  {line}" for line in token_header.splitlines()),
        "}",
        "registration=$(github_token_header | curl -fsS --retry 5 -X POST"
        ' -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28"'
        " -H @- " + shlex.quote(registration.token_endpoint) + " | python3 -c"
        " 'import json, sys; print(json.load(sys.stdin)[\"token\"])')",
        f"sudo -u {RUNNER_USER} ./config.sh --unattended --replace --url {shlex.quote(registration.url)}"
        f' --token "$registration" --name "$(hostname)" --labels {shlex.quote(labels)}',
        "unset registration",
        f"./svc.sh install {RUNNER_USER}",
        "./svc.sh start",
        "",
    ]
    return "\n".join(lines)
