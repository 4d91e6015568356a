"""gunicorn's worker with JSON errors of its own, and one write per answer.

gunicorn answers some requests before the app sees them: a request line over
``limit_request_line`` (414), headers over ``limit_request_field_size`` /
``limit_request_fields`` (431), a malformed request (400). It writes those as
an HTML page; clients of this API parse JSON on every status, so this worker
writes the app's error body instead: ``{"error": {"message", "field"}}``.
``etc/gunicorn.conf.py`` selects it (``worker_class``).
"""
from __future__ import annotations

import json
import time

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import ThreadWorker

#: which request part the error names, by status
_FIELD = {414: "url", 431: "headers"}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` with a JSON body (same signature)."""
    body = json.dumps({"error": {"message": f"{reason}: {mesg}" if mesg else reason,
                                 "field": _FIELD.get(status_int)}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nCache-Control: no-store\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


class OneWriteResponse(wsgi.Response):
    """gunicorn's HTTP/1 response, but the head and a body that fits the declared
    Content-Length go out in one ``sendall`` instead of two: one system call (and one
    GIL hand-off) less per answer; every API answer is one bytes body of known length.
    Anything else (chunked, HEAD or 304 without a body, several pieces) is
    gunicorn's own path."""

    def write(self, arg):
        if (self.headers_sent or self.chunked or self._omits_body
                or not isinstance(arg, bytes) or self.response_length is None
                or len(arg) != self.response_length):
            return super().write(arg)
        tosend = self.default_headers()
        tosend.extend(["%s: %s\r\n" % (k, v) for k, v in self.headers])
        head = util.to_bytestring("%s\r\n" % "".join(tosend), "latin-1")
        util.write(self.sock, head + arg)
        self.headers_sent = True
        self.sent += len(arg)


class JsonErrorThreadWorker(ThreadWorker):
    """Also: a worker busy with requests steps back briefly before it takes another new
    connection, so that an idler worker takes it.

    Every worker accepts from the one listening socket, and a client that keeps its
    connection alive (a proxy's upstream pool, the dashboard's browser, wrk) stays with
    the worker that accepted it. gunicorn's gthread worker accepts whenever it holds
    fewer than ``worker_connections`` (1,000) connections, so a burst of new connections
    lands on whichever worker wakes first: in bench/load.py's uncached mix, 8 kept-alive
    connections over 4 workers, two workers served 90% of the requests, each running
    3-4 at once under one GIL while the other two idled. After
    each accept, a worker with requests in flight stops accepting for ``BACKOFF_S`` per
    such request (at most ``BACKOFF_MAX_S``): a worker with none accepts at once, so new
    connections go to the least busy worker when there is one, and wait at most
    ``BACKOFF_MAX_S`` when every worker is busy. One worker alone never waits."""

    BACKOFF_S = 0.002
    BACKOFF_MAX_S = 0.010

    def init_process(self):
        self._accept_paused_until = 0.0
        # Worker.handle_error calls util.write_error; this process serves only
        # this app, so every error it writes itself is JSON.
        util.write_error = write_json_error
        # wsgi.create builds an HTTP/1 response from the module's Response
        wsgi.Response = OneWriteResponse
        super().init_process()

    def _in_flight(self) -> int:
        """Connections with a request being read or answered (not idle between requests)."""
        return self.nr_conns - len(self.keepalived_conns) - len(self.pending_conns)

    def accept(self, listener):
        super().accept(listener)
        if self.cfg.workers > 1:
            busy = self._in_flight()
            if busy > 0:
                self._accept_paused_until = time.monotonic() + min(
                    busy * self.BACKOFF_S, self.BACKOFF_MAX_S)
                super().set_accept_enabled(False)

    def set_accept_enabled(self, enabled):
        # the run loop re-enables accepting on every pass; not while stepping back
        if enabled and time.monotonic() < self._accept_paused_until:
            enabled = False
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        # wake when the step back ends, not after the loop's full second
        if not self._accepting:
            remaining = self._accept_paused_until - time.monotonic()
            if remaining > 0:
                timeout = min(timeout, remaining)
        super().wait_for_and_dispatch_events(timeout)
