"""Triplane's policy packs: CrossGuard policies that gate every change to a Triplane environment.

The policies live in importable modules (`policies.aws`, `policies.azure`, `policies.gcp`,
`policies.kubernetes`, `policies.stack`); each pack folder (`policies/triplane*/`) holds a
`PulumiPolicy.yaml` and a `__main__.py` that serves a selection of them (see `policies.packs`).
Importing this package does not start a pack.
"""
