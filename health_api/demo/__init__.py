"""Deterministic synthetic data: subunit streams for benchmarks and tests,
and a gate history for the dashboard."""
