"""Prometheus metrics of ``ci-health gerrit listen``, served by its own exporter.

The listener is a process of its own (one per deployment, often on no API host),
so the API's ``/metrics`` cannot see it: with ``[gerrit] metrics_port`` set it
serves these at ``http://[gerrit] metrics_host:metrics_port/metrics`` for
Prometheus to scrape beside the API. They live in a registry of their own, so
the exporter shows nothing else the process imported.

Lag is the time from an event's creation in Gerrit (``eventCreatedOn``) to its
storing here; ``time() - ci_health_gerrit_last_event_timestamp_seconds`` is how
long the stream has been quiet (a stalled or silent Gerrit).
"""
from __future__ import annotations

import json
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

REGISTRY = CollectorRegistry()


def _counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
    return Counter(name, doc, labels, registry=REGISTRY)


def _gauge(name: str, doc: str) -> Gauge:
    return Gauge(name, doc, registry=REGISTRY)


CONNECTS = _counter("ci_health_gerrit_connects_total", "stream-events sessions opened")
RECONNECTS = _counter("ci_health_gerrit_reconnects_total",
                      "sessions opened after the first (after a lost or failed one)")
CONNECTION_ERRORS = _counter("ci_health_gerrit_connection_errors_total",
                             "sessions lost or attempts failed (each followed by a backoff)")
CONNECTED = _gauge("ci_health_gerrit_connected", "1 while a stream-events session is open")
LINES = _counter("ci_health_gerrit_events_total", "stream lines received and journaled")
JOB_RESULTS = _counter("ci_health_gerrit_job_results_total", "new CI job results stored")
LAG = _gauge("ci_health_gerrit_event_lag_seconds",
             "seconds from the newest event's creation in Gerrit to its storing")
LAST_EVENT = _gauge("ci_health_gerrit_last_event_timestamp_seconds",
                    "unix time the newest event was stored")
BACKFILLS = _counter("ci_health_gerrit_backfills_total", "REST backfills by outcome",
                     ("outcome",))


def serve(host: str, port: int):
    """Start the exporter thread; returns (server, thread) to shut it down."""
    return start_http_server(port, addr=host, registry=REGISTRY)


def session_opened(connects: int) -> None:
    CONNECTS.inc()
    if connects > 1:
        RECONNECTS.inc()
    CONNECTED.set(1)


def session_lost() -> None:
    CONNECTION_ERRORS.inc()
    CONNECTED.set(0)


def batch_stored(lines: list[bytes], job_results: int) -> None:
    """After a batch of lines was journaled and stored: counts and lag (from the
    newest line that is an event with a creation time)."""
    now = time.time()
    LINES.inc(len(lines))
    JOB_RESULTS.inc(job_results)
    LAST_EVENT.set(now)
    for raw in reversed(lines):
        try:
            created = json.loads(raw).get("eventCreatedOn")
        except (ValueError, AttributeError):
            continue
        if isinstance(created, (int, float)) and not isinstance(created, bool):
            LAG.set(max(0.0, now - created))
            return
