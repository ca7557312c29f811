"""Signals, alerts and dashboards per use case, on each cloud's native monitoring."""
