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
    def init_process(self):
        # Worker.handle_error calls util.write_error; this process serves only
        # this app, so every error it writes itself is JSON.
        util.write_error = write_json_error
        # wsgi.create builds an HTTP/1 response from the module's Response
        wsgi.Response = OneWriteResponse
        super().init_process()
