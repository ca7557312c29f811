"""The AI gateway in front of every use case: its installation and its per-use-case routing."""
