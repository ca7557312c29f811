"""Policy pack `triplane-kubernetes`: `pulumi preview --policy-pack policies/triplane-kubernetes`."""

import sys
from pathlib import Path

# The policies are the `policies` package at the repository root, two levels up from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from policies.packs import serve

serve("triplane-kubernetes")
