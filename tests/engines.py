"""The engines every database test runs on (a missing server fails, never skips)."""
ENGINES = ("sqlite", "postgresql", "mysql")
