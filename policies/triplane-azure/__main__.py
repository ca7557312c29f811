"""Policy pack `triplane-azure`, as the engine runs it: `pulumi preview --policy-pack policies/triplane-azure`."""

import sys
from pathlib import Path

# The policies are the `policies` package at the repository root, two levels up from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from triplane.policies.adapter import serve

serve("triplane-azure")
