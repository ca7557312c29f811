"""Policy pack `triplane-kubernetes`, as `pulumi preview --policy-pack policies/triplane-kubernetes` runs it."""

import sys
from pathlib import Path

# The policies are the `policies` package at the repository root, two levels up from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from triplane.policies.adapter import serve

serve("triplane-kubernetes")
