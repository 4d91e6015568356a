"""Gerrit collector: pure parsing of stream events and CI report comments."""
