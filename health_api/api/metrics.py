"""Prometheus metrics at ``/metrics`` and one structured log line per request.

Metrics (prometheus_client): request latency by route and status, uploads by
format and outcome, uploaded test results, response-cache hits and misses,
and the database read pool of every worker (size and connections in use, one
series per live worker: label ``pid`` in multiprocess mode). With several
gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
(the systemd unit can) so a scrape sums every worker's counters and lists
every live worker's pool; without it each worker counts for itself. The
pool gauges are "liveall": a worker that exits (gunicorn's ``child_exit``
hook of `ci-health serve`, serve.child_exit, calls ``mark_process_dead``) leaves no series.

Every request gets an id (the client's ``X-Request-ID`` if it is a short
token, else a new one), returned in ``X-Request-ID`` and logged as JSON by
the ``health_api.access`` logger with method, route, status and duration.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import re
import time

from flask import Flask, Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest)
from sqlalchemy import event

access_log = logging.getLogger("health_api.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _Ids:
    """Request ids of this process: a random 16-hex-digit prefix drawn once per process
    (again in a forked worker) and a counter (itertools.count: one C call, safe across
    threads), 32 hex digits as a uuid4's hex. uuid4 per request read os.urandom each
    time: a system call, and a GIL hand-off under load."""

    def __init__(self):
        self.prefix = os.urandom(8).hex()
        self.count = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.count):016x}"


_ids = _Ids()


def _reseed() -> None:
    global _ids
    _ids = _Ids()


os.register_at_fork(after_in_child=_reseed)


def new_request_id() -> str:
    return _ids.next()


REQUEST_SECONDS = Histogram(
    "ci_health_http_request_duration_seconds", "API request latency by route",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
#: outcome: stored, refused (bad input, duplicate run id: 4xx) or failed (5xx:
#: database unavailable, deadlock after retries); the ingest failure rate
UPLOADS = Counter("ci_health_uploads_total", "POST /api/v1/runs by format and outcome",
                  ["format", "outcome"])
UPLOADED_RESULTS = Counter("ci_health_uploaded_results_total",
                           "test results stored by POST /api/v1/runs")
CACHE_LOOKUPS = Counter("ci_health_cache_lookups_total", "response cache lookups",
                        ["result"])


#: the read pool of each live worker (multiprocess mode: one series per pid); with
#: several apps in one process (tests) the last one initialised is shown
POOL_SIZE = Gauge("ci_health_db_pool_size", "database read pool size, per worker",
                  multiprocess_mode="liveall")
POOL_CHECKED_OUT = Gauge("ci_health_db_pool_checked_out",
                         "database read pool connections in use, per worker",
                         multiprocess_mode="liveall")


def _pool_figures(pool) -> tuple[float, float]:
    """(size, checked out); SQLite's NullPool (a connection per request) has no size."""
    return (float(getattr(pool, "size", lambda: 0)()),
            float(getattr(pool, "checkedout", lambda: 0)()))


def _checked_out(*_args) -> None:
    POOL_CHECKED_OUT.inc()


def _checked_in(*_args) -> None:
    POOL_CHECKED_OUT.dec()


def _watch_pool(engine) -> None:
    """Keep the pool gauges current: set at start, moved on every checkout and
    checkin (a multiprocess gauge lives in a file any worker's scrape reads).
    Engines are shared per URL in a process: one pair of listeners each."""
    size, used = _pool_figures(engine.pool)
    POOL_SIZE.set(size)
    if not event.contains(engine, "checkout", _checked_out):
        POOL_CHECKED_OUT.set(used)
        event.listen(engine, "checkout", _checked_out)
        event.listen(engine, "checkin", _checked_in)


def _registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY
        registry = REGISTRY
    return registry


#: (method, route, status) -> the latency histogram child's observe
_latency_children: dict = {}


def init_metrics(app: Flask) -> None:
    registry = _registry(app)
    _watch_pool(app.extensions["ci_health_engine"])

    @app.before_request
    def _start():
        g.request_started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if given and _REQUEST_ID.match(given) else new_request_id()

    @app.after_request
    def _finish(response):
        started = g.get("request_started")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule else "unmatched"
        key = (request.method, route, response.status_code)
        observe = _latency_children.get(key)
        if observe is None:  # labels() costs a lock and a dict build: once per key
            observe = _latency_children[key] = REQUEST_SECONDS.labels(
                request.method, route, str(response.status_code)).observe
        observe(seconds)
        response.headers["X-Request-ID"] = g.request_id
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(json.dumps({"request_id": g.request_id, "method": request.method,
                                        "route": route, "path": request.path,
                                        "status": response.status_code,
                                        "duration_ms": round(seconds * 1000, 2)}))
        return response

    @app.get("/metrics")
    def metrics():
        body = generate_latest(registry)
        return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                        headers={"Cache-Control": "no-store"})

    app.extensions["ci_health_metrics"] = registry
