"""`no-plaintext-credentials` recognises credentials where values are, never in names.

Names (Kubernetes objects, secret references, cloud resource names) are lower-case DNS labels or
close to it; provider keys are long random strings of mixed case and digits. Each known prefix is
planted in a name, where the rule must stay silent, and in a value of the real shape, where it must
fire.
"""

from __future__ import annotations

from typing import Any

import pytest

from triplane.policies.common import Res
from triplane.policies.kubernetes import looks_like_credential
from triplane.policies.stack import _plaintext_credentials

NAMES = [
    "task-summariser",  # sk-
    "dev-task-summariser-api-key",  # the Secret of a use case named task-summariser
    "risk-antenna-summariser-api-key",  # sk-ant-
    "desk-proj-ectplanner-secrets",  # sk-proj-
    "hf-hf_token_holder_for_models_x",  # hf_
    "ghp_runner_pool_name_of_the_team",  # ghp_
    "xoxb-notification-bridge-service",  # xoxb-
    "aiza-assistant-frontend-service-name",  # AIza (case-folded in names)
    "akia-backup-akiacleaner-config-x",  # AKIA
]
KEYS = [
    "sk-proj-" + "Ab3dEf9hIjK2mNoPqR7sTuV0wXyZ1aB4cD5eF6gH",
    "sk-ant-api03-" + "Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0GfEdCbA9zYxWvUtSrQp",
    "sk-" + "Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc3Vb5Nm7Qa9Ws1Ed",
    "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
    "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "AKIA" + "IOSFODNN7EXAMPLE",
    "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_with_a_known_prefix_are_not_credentials(name: str) -> None:
    assert not looks_like_credential(name)
    secret = Res(type="kubernetes:core/v1:Secret", name=name, urn=f"urn:x::{name}",
                 props={"metadata": {"name": name, "namespace": name}})
    deployment = Res(type="kubernetes:apps/v1:Deployment", name=name, urn=f"urn:y::{name}", props={
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
            {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": name, "key": "OPENAI_API_KEY"}}}]}]}}},
    })
    cfg: dict[str, Any] = {}
    assert list(_plaintext_credentials(secret, cfg)) == []
    assert list(_plaintext_credentials(deployment, cfg)) == []


@pytest.mark.parametrize("key", KEYS)
def test_values_of_every_known_shape_are_credentials(key: str) -> None:
    assert looks_like_credential(key)
    leaky = Res(type="kubernetes:core/v1:ConfigMap", name="settings", urn="urn:z::settings",
                props={"metadata": {"name": "settings"}, "data": {"KEY": key}})
    assert list(_plaintext_credentials(leaky, {})) == [
        "data.KEY holds what looks like a credential: keep it in a secret store"
    ]
