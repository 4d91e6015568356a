"""Client-side deadlines for PostgreSQL round trips.

PostgreSQL's ``statement_timeout`` is enforced by the server: a server that
is reachable but not running (its processes stopped, a frozen VM) never
answers, libpq has no read timeout, and the API thread waiting on a pooled
connection -- its pre-ping, a query, the rollback returning it to the pool --
would wait for ever (issue 16, "database hung"). Every such round trip is
armed here with a deadline a little past the server's own timeout; a watchdog
thread shuts the socket of one that outlives it, so the driver fails at once
with a disconnect, the pool drops the connection, and the API answers 503.
"""
from __future__ import annotations

import itertools
import os
import socket
import threading
import time

#: past the server's statement_timeout, so its own (cleaner) error comes first
GRACE_SECONDS = 1.0
_POLL_SECONDS = 0.2


class Deadlines:
    def __init__(self):
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, int]] = {}  # token -> (deadline, socket fd)
        self._tokens = itertools.count()
        self._pid = None  # the process the watchdog thread runs in (not a fork's parent)

    def arm(self, fd: int, seconds: float) -> int:
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._armed.clear()
                threading.Thread(target=self._watch, name="db-deadlines", daemon=True).start()
            token = next(self._tokens)
            self._armed[token] = (time.monotonic() + seconds, fd)
            return token

    def disarm(self, token: int) -> None:
        with self._lock:
            self._armed.pop(token, None)

    def _watch(self) -> None:
        while True:
            time.sleep(_POLL_SECONDS)
            now = time.monotonic()
            with self._lock:
                late = [t for t, (deadline, _fd) in self._armed.items() if deadline <= now]
                fds = [self._armed.pop(t)[1] for t in late]
            for fd in fds:
                _shut(fd)


def _shut(fd: int) -> None:
    """Shut the connection's socket down (the driver still owns and closes the fd)."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


DEADLINES = Deadlines()

#: the dialect's methods that wait for the server
_ROUND_TRIPS = ("do_execute", "do_execute_no_params", "do_executemany", "do_ping",
                "do_rollback", "do_commit")


def bound_round_trips(engine, seconds: float) -> None:
    """Arm every round trip of ``engine`` (psycopg) with ``seconds`` + GRACE_SECONDS."""
    dialect = engine.dialect
    limit = seconds + GRACE_SECONDS

    def wrap(method):
        def bounded(first, *args, **kwargs):
            # first: a DBAPI cursor (execute) or connection (ping, rollback, commit)
            conn = (getattr(first, "driver_connection", None)  # a pool's connection
                    or getattr(first, "connection", first))
            try:
                fd = conn.pgconn.socket
            except Exception:  # closed already: nothing can hang
                return method(first, *args, **kwargs)
            token = DEADLINES.arm(fd, limit)
            try:
                return method(first, *args, **kwargs)
            finally:
                DEADLINES.disarm(token)
        return bounded

    for name in _ROUND_TRIPS:
        setattr(dialect, name, wrap(getattr(dialect, name)))
