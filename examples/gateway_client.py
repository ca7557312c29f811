"""Call a use case through the environment's AI gateway: one URL, the use case's name as the model.

    GATEWAY_URL=https://ai.dev.acme.internal/v1 GATEWAY_KEY=... python examples/gateway_client.py doc-search "Hi"

The URL and the model come from the stack's `endpoints` output (`gateway.url`, `gateway.model`); the
key is the consumer's, kept in the stack config key that output names. Over the consumer's token
budget the gateway answers 429; the standard library is all this needs.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def ask(url: str, key: str, use_case: str, prompt: str) -> str:
    request = urllib.request.Request(
        f"{url}/chat/completions",
        data=json.dumps({"model": use_case, "messages": [{"role": "user", "content": prompt}]}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return str(json.load(response)["choices"][0]["message"]["content"])


if __name__ == "__main__":
    print(ask(os.environ["GATEWAY_URL"], os.environ["GATEWAY_KEY"], sys.argv[1], sys.argv[2]))
