"""Triplane's policies: CrossGuard policies that gate every change to a Triplane environment.

The policies live in importable modules (`aws`, `azure`, `gcp`, `kubernetes`, `stack`, ...) built on
`common`, which needs no policy framework: `triplane check` runs them in-process as
`triplane.policies`. This folder is also the policy pack itself (`PulumiPolicy.yaml`, `__main__.py`,
pinned `requirements.txt`): its modules import one another relatively and nothing outside it, so
`pulumi policy publish policies/triplane` works from any checkout, or from an installed Triplane
(`triplane policy-pack` prints where). Importing this package does not start the pack.
"""
