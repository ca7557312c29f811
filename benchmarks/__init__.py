"""Benchmarks of the offline path: plan and policy-gate speed as environments grow (`python -m benchmarks.run`)."""
