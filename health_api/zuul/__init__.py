"""Zuul builds as a verdict source: ``ci-health zuul import`` reads a Zuul
web API's ``builds`` (pages of ``skip``/``limit``) and stores each final
build of a Gerrit change as a verdict (source 'zuul', key the build uuid)."""
