"""Failure intelligence: flaky tests, clusters, change points, alerts (`ci-health analyze`)."""
