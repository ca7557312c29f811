"""Triplane: plan, check and explain generative-AI environments offline."""

__version__ = "0.1.0"
