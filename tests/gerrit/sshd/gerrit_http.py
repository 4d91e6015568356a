"""A local HTTP server answering Gerrit's REST shapes for ``/changes/``."""
from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGerritRest:
    """Serves ``changes`` (ChangeInfo dicts) with the ``)]}'`` prefix, paging by
    ``n``/``S`` and marking ``_more_changes`` like Gerrit. Requests are recorded."""

    def __init__(self, changes: list[dict] | None = None):
        self.changes = changes or []
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                outer.requests.append({"path": url.path, "query": query,
                                       "auth": self.headers.get("Authorization")})
                if outer.fail_with:
                    self.send_response(outer.fail_with)
                    self.end_headers()
                    return
                if not url.path.rstrip("/").endswith("/changes"):
                    self.send_response(404)
                    self.end_headers()
                    return
                limit = int(query.get("n", ["500"])[0])
                start = int(query.get("S", ["0"])[0])
                page = [dict(c) for c in outer.changes[start:start + limit]]
                if page and start + limit < len(outer.changes):
                    page[-1]["_more_changes"] = True
                body = (")]}'\n" + json.dumps(page)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
