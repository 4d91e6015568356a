"""gunicorn's worker with JSON errors of its own.

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


class JsonErrorThreadWorker(ThreadWorker):
    def init_process(self):
        # Worker.handle_error calls util.write_error; this process serves only
        # this app, so every error it writes itself is JSON.
        util.write_error = write_json_error
        super().init_process()
