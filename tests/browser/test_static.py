"""The Flask app serves the page, its modules and the two whitelisted libraries
(with a JavaScript MIME type), and nothing else of frontend/."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def fetch(live_server, path: str) -> tuple[int, str]:
    host = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    try:
        conn.request("GET", path)  # sent as is: no client-side normalisation of '..'
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Content-Type", "")
    finally:
        conn.close()


@pytest.mark.parametrize("path,kind", [
    ("/", "text/html"), ("/js/main.js", "text/javascript"), ("/js/pages/overview.js", "text/javascript"),
    ("/css/app.css", "text/css"), ("/vendor/d3/d3.min.js", "text/javascript"),
    ("/vendor/nvd3/nv.d3.min.js", "text/javascript"), ("/vendor/nvd3/nv.d3.min.css", "text/css"),
])
def test_served(live_server, path, kind):
    status, content_type = fetch(live_server, path)
    assert status == 200 and content_type.startswith(kind), (path, status, content_type)


@pytest.mark.parametrize("path", [
    "/node_modules/d3/d3.min.js", "/vendor/d3/package.json", "/vendor/lodash/lodash.js",
    "/vendor/d3/../nvd3/build/nv.d3.js", "/js/../node_modules/d3/d3.min.js", "/vendor/nvd3/..%2f..%2fpackage.json",
    "/package.json", "/package-lock.json", "/test/api.test.js", "/README.md",
])
def test_not_served(live_server, path):
    assert fetch(live_server, path)[0] == 404, path
