"""Zuul builds as a verdict source: ``ci-health zuul import`` reads a Zuul
web API's ``builds`` (pages of ``skip``/``limit``) and stores each final
build of a Gerrit change as a verdict (source 'zuul', key the build uuid),
then its ``buildsets``, storing those in which no build ran (merge failure,
config error, no jobs) as the result of the pseudo job "(buildset)"."""
