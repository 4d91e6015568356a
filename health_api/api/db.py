"""The app's engines: one to read (per-call connections) and one to write.

With ``[database] read_url`` (``CI_HEALTH_READ_DB``) the reads go to the
PostgreSQL streaming replicas listed there, one picked per request, and only
writes (uploads, reports, token checks) to the primary ``url``."""
from __future__ import annotations

import contextlib
import random

from flask import Flask, current_app
from sqlalchemy.engine.url import make_url
from sqlalchemy.pool import NullPool

from ..db.session import get_engine, make_engine


#: seconds; [database] connect_timeout, statement_timeout, write_statement_timeout
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_STATEMENT_TIMEOUT = 30.0
DEFAULT_WRITE_STATEMENT_TIMEOUT = 300.0


def timeouts(config) -> tuple[dict, dict]:
    """make_engine's timeout keywords for reads and for writes. A hung database
    (reachable, not answering) then costs a request at most these, answered
    503, instead of holding a gunicorn thread for ever (issue 16)."""
    connect = config.get_float("database", "connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    read = config.get_float("database", "statement_timeout", DEFAULT_STATEMENT_TIMEOUT)
    write = config.get_float("database", "write_statement_timeout",
                             DEFAULT_WRITE_STATEMENT_TIMEOUT)
    return ({"connect_timeout": connect or None, "statement_timeout": read or None},
            {"connect_timeout": connect or None, "statement_timeout": write or None})


def init_engine(app: Flask, url: str, config, read_urls: list[str] | tuple = ()) -> None:
    read_options, write_options = timeouts(config)
    backend = make_url(url).get_backend_name() if "://" in url else ""
    if backend == "sqlite":
        # A fresh connection per request: a database file replaced or restored
        # is seen at once, without restarting the workers.
        engine = make_engine(url, read_only=True, poolclass=NullPool)
    else:
        # pool_pre_ping drops connections a restart killed
        engine = get_engine(url, **read_options)
    app.extensions["ci_health_engine"] = engine
    app.extensions["ci_health_write_url"] = url
    app.extensions["ci_health_write_options"] = write_options if backend != "sqlite" else {}
    app.extensions["ci_health_replicas"] = [get_engine(u, **read_options) for u in read_urls]


def engine():
    """The engine reads go through: a replica when there are some."""
    replicas = current_app.extensions["ci_health_replicas"]
    if replicas:
        return replicas[0] if len(replicas) == 1 else random.choice(replicas)
    return current_app.extensions["ci_health_engine"]


def has_replicas() -> bool:
    return bool(current_app.extensions["ci_health_replicas"])


@contextlib.contextmanager
def connection():
    with engine().connect() as conn:
        yield conn


def write_engine():
    """The engine writes go through (uploads, reports, token checks): the
    primary database, with SQLite's write locking, created on first use so a
    read-only deployment never opens one."""
    return get_engine(current_app.extensions["ci_health_write_url"],
                      **current_app.extensions["ci_health_write_options"])


@contextlib.contextmanager
def write_transaction():
    """One transaction on the primary: committed at the end, rolled back on error."""
    with write_engine().begin() as conn:
        yield conn
