"""ci-health: how healthy is our CI, at a glance."""
__version__ = "0.1.0"
