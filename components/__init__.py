"""Triplane's Pulumi component resources, one logical thing per module.

Components take plain arguments (never the pydantic spec), inherit providers from the caller and
name their children `f"{name}-<role>"` with `parent=self`.
"""
