"""A local HTTP server answering like Zuul web's builds and buildsets
routes, from the recorded answers in tests/data/zuul (see its README).

``/api/tenant/<tenant>/builds`` (and ``/buildsets``) pages the tenant's
recorded entries as Zuul does (newest first, ``skip``/``limit``,
``pipeline``; a tenant without recorded buildsets has none); ``answers``
replaces a route's answer with any JSON (a non-Zuul answer); an unknown tenant is
a 404 as Zuul gives; ``/html/...`` answers a web page (not a Zuul API);
``fail_next`` makes the next requests fail with 503, as a restarting Zuul
behind a proxy does.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).resolve().parent.parent / "data" / "zuul"


class FakeZuul:
    def __init__(self, tenants: dict[str, str], buildsets: dict[str, str] | None = None):
        self.builds = {name: json.loads((DATA / file).read_text())
                       for name, file in tenants.items()}
        self.buildsets = {name: json.loads((DATA / file).read_text())
                          for name, file in (buildsets or {}).items()}
        #: (tenant, route) -> a JSON answer given instead of the recorded one
        self.answers: dict[tuple[str, str], object] = {}
        self.requests: list[str] = []
        self.fail_next = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                if server.fail_next > 0:
                    server.fail_next -= 1
                    return self._send(503, b"<html>Service Unavailable</html>", "text/html")
                url = urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                if parts[:1] == ["html"]:
                    return self._send(200, b"<!DOCTYPE html><html>hello</html>", "text/html")
                if len(parts) == 4 and parts[:2] == ["api", "tenant"] and parts[3] in (
                        "builds", "buildsets"):
                    if parts[2] not in server.builds:
                        return self._send(404, json.dumps({"description": f"Tenant {parts[2]} "
                                          "does not exist."}).encode(), "application/json")
                    if (parts[2], parts[3]) in server.answers:
                        return self._send(200, json.dumps(server.answers[parts[2], parts[3]])
                                          .encode(), "application/json")
                    builds = (server.builds if parts[3] == "builds" else server.buildsets
                              ).get(parts[2], [])
                    query = parse_qs(url.query)
                    pipeline = query.get("pipeline", [None])[0]
                    skip = int(query.get("skip", ["0"])[0])
                    limit = int(query.get("limit", ["50"])[0])
                    chosen = [b for b in builds if pipeline is None or b["pipeline"] == pipeline]
                    return self._send(200, json.dumps(chosen[skip:skip + limit]).encode(),
                                      "application/json; charset=utf-8")
                return self._send(404, b"not found", "text/plain")

            def _send(self, status, body, kind):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
