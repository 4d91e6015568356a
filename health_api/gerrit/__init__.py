"""Gerrit collector: the SSH stream-events listener, REST backfill, the event journal
and its replay, the CI comment parser, and the store that writes what they collect."""
