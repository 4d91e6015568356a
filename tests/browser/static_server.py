"""A tiny static server for frontend/, laid out as the Flask app serves it.

    /                 -> frontend/index.html
    /css/..., /js/... -> frontend/css/..., frontend/js/...
    /vendor/d3/...    -> frontend/node_modules/d3/...
    /vendor/nvd3/...  -> frontend/node_modules/nvd3/build/...
    /api/...          -> 404 with the API's error JSON (tests intercept the API)

Only for tests and bench/frontend.py: the dashboard is served by
health_api's Flask app, which must map /vendor/ the same way.
"""
from __future__ import annotations

import json
import posixpath
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"

#: URL prefix -> directory; the same mapping the Flask app needs
VENDOR = {
    "/vendor/d3/": FRONTEND / "node_modules" / "d3",
    "/vendor/nvd3/": FRONTEND / "node_modules" / "nvd3" / "build",
}


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".css": "text/css",
        ".map": "application/json",
    }

    def __init__(self, *args, root: Path, **kwargs):
        super().__init__(*args, directory=str(root), **kwargs)

    def translate_path(self, path: str) -> str:
        clean = posixpath.normpath(unquote(urlsplit(path).path))
        for prefix, directory in VENDOR.items():
            if (clean + "/").startswith(prefix):
                rest = clean[len(prefix):].lstrip("/")
                return str(directory / rest)
        if clean.startswith("/node_modules"):
            return str(FRONTEND / "__not_served__")
        return super().translate_path(path)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if urlsplit(self.path).path.startswith("/api/"):
            body = json.dumps({"error": {"message": "no API behind the static test server",
                                         "field": None}}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 (keep test output clean)
        pass


class StaticServer:
    """Serves frontend/ on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, root: Path = FRONTEND, host: str = "127.0.0.1", port: int = 0):
        self.httpd = ThreadingHTTPServer((host, port), partial(_Handler, root=root))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "StaticServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
