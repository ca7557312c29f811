"""Shared networks: one per cloud and region, created by Triplane or referenced if they exist."""
