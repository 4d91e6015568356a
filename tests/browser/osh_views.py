"""OpenStack-Health's own dashboard client (tools/osh-client, built by tools/osh-client.sh)
driven in Chromium: what each of its six views draws, read from the page.

Shared by tests/browser/test_osh_client.py (against ci-health) and tools/osh-golden.py
(which recorded the same against the real OpenStack-Health into tests/data/osh-golden/).
The data set and the browser's clock are fixed, so both see the same periods.
"""
from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

#: the demo data both servers answer from: `ci-health demo-data` with these options
DEMO = ["--days", "7", "--jobs", "6", "--runs-per-day", "2", "--seed", "3",
        "--end", "2026-10-04T00:00:00Z", "--changes-per-day", "0"]
#: the browser's clock: half an hour after the newest data
CLOCK = "2026-10-04T00:30:00Z"
#: (name, route of the client) for the six views
VIEWS = [
    ("home", "/"),
    ("job", "/job/tempest-full-py3"),
    ("test", "/test/neutron.tests.unit.test_neutron_0.Test0.test_case_11"),
    ("tests", "/tests"),
    ("grouped_runs", "/g/node_provider/rax-ord"),
    ("tests_of_prefix", "/tests/tempest"),
]

#: what a view draws: every chart's dataset (the points, as the chart directives got
#: them), every table's rows as text, and the prefix links; plus whether the client
#: shows its "API error" banner
EXTRACT = """() => {
  const copy = (v) => JSON.parse(angular.toJson(v === undefined ? null : v));
  const view = document.querySelector('[ui-view]');
  const out = {api_error: /An API error occurred/.test(view.innerText), charts: {}, tables: [],
               links: []};
  view.querySelectorAll('chart-dataset, chart-multi-bar').forEach((el) => {
    const scope = angular.element(el).isolateScope();
    out.charts[el.getAttribute('data')] = copy(scope && scope.data);
  });
  view.querySelectorAll('table').forEach((t) => {
    out.tables.push(Array.from(t.querySelectorAll('tbody tr')).map(
      (tr) => tr.innerText.replace(/\\s+/g, ' ').trim()));
  });
  view.querySelectorAll('a[ui-sref^="testsDetail"]').forEach((a) => out.links.push(a.innerText.trim()));
  return out;
}"""
#: the client is idle: no $http call pending (JSONP included)
IDLE = """() => {
  const el = angular.element(document.body);
  const inj = el && el.injector && el.injector();
  return !!inj && inj.get('$http').pendingRequests.length === 0 && !!document.querySelector('[ui-view] *');
}"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    config = b"{}"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.split("?")[0] == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.config)))
            self.end_headers()
            self.wfile.write(self.config)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def serve_client(build: Path, api_root: str) -> http.server.ThreadingHTTPServer:
    """The built client on a free port, its config.json pointing at api_root."""
    handler = type("Handler", (_Handler,), {"config": json.dumps({"apiRoot": api_root}).encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(handler, directory=str(build)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def draw(browser, client_url: str, route: str, timeout_ms: int = 60_000) -> dict:
    """Open one view; answer what it drew and every failed call (status >= 400, network
    failure, page error)."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.clock.set_fixed_time(CLOCK)
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"failed: {r.url}"))
    page.on("response", lambda r: failures.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: failures.append(f"page error: {e}"))
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if r.resource_type == "script"
            and "callback=" in r.url else None)
    try:
        page.goto(f"{client_url}/#{route}")
        page.wait_for_load_state("networkidle")
        page.wait_for_function(IDLE, timeout=timeout_ms)
        page.wait_for_timeout(300)  # the digest after the last answer
        drawn = page.evaluate(EXTRACT)
    finally:
        context.close()
    drawn["failures"] = failures
    drawn["calls"] = calls
    return drawn
