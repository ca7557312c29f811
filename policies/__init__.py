"""Triplane's policy packs: CrossGuard policies that gate every change to a Triplane environment.

The policies live in importable modules (`policies.aws`, `policies.azure`, `policies.gcp`,
`policies.kubernetes`, `policies.stack`) built on `policies.common`, which needs no policy
framework: `triplane check` runs them in-process. Each pack folder (`policies/triplane*/`) holds a
`PulumiPolicy.yaml` and a `__main__.py` that serves a selection of them (`policies.packs`) to the
engine through `policies.adapter`. Importing this package does not start a pack.
"""
