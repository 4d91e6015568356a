"""Dashboard page-load benchmark: time from navigation to the first chart drawn
and to every chart (and table) of the page finished, in headless chromium.

    python bench/frontend.py                       # a ci-health server on 127.0.0.1:8080
    python bench/frontend.py --url http://127.0.0.1:8081 --repeat 5
    python bench/frontend.py --static              # no server: frontend/ + sample answers
                                                   # (checks the harness, not the API)

What is measured comes from DOM markers the frontend sets (frontend/README.md):

    [data-chart]            every chart area; data-chart-state: loading -> ready | empty | error
    [data-chart-ready]      performance.now() (ms since navigation start) when that chart finished
    main#page[data-page-ready]
                            performance.now() when every section of the page finished
                            (data-page-state: ready | error)

performance.now() counts from the navigation start of the document, so each
sample loads the page in a fresh browser context (cold HTTP cache): the
figures include fetching index.html, d3, NVD3, the modules, the API answers
and drawing. Only addresses on this machine are used; the loops are bounded.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
DEFAULT_TEST = "tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_reboot_server_hard"

READY_JS = """() => {
  const main = document.getElementById('page');
  return main && main.dataset.pageReady && ['ready', 'error'].includes(main.dataset.pageState);
}"""

MARKERS_JS = """() => {
  const charts = [...document.querySelectorAll('[data-chart]')].map((el) => ({
    name: el.dataset.chart, state: el.dataset.chartState, ready: Number(el.dataset.chartReady),
  }));
  const main = document.getElementById('page');
  return { charts, page: Number(main.dataset.pageReady), state: main.dataset.pageState };
}"""


def pages(job: str, test_id: str) -> dict[str, str]:
    return {
        "overview 7d": "#/",
        "overview 6m": "#/?period=6m",
        "job 30d": f"#/jobs/{quote(job, safe='')}?period=30d",
        "test 7d": f"#/tests/{quote(test_id, safe='')}",
        "runs": "#/runs",
        "tests search": "#/tests?q=test_",
    }


def measure(browser, base: str, hash_: str, timeout_ms: int, intercept=None) -> dict:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, timezone_id="UTC")
    try:
        page = context.new_page()
        if intercept:
            intercept(page)
        page.goto(base.rstrip("/") + "/" + hash_, wait_until="commit")
        page.wait_for_function(READY_JS, timeout=timeout_ms)
        markers = page.evaluate(MARKERS_JS)
    finally:
        context.close()
    done = [c["ready"] for c in markers["charts"] if c["ready"] > 0]
    drawn = [c["ready"] for c in markers["charts"] if c["state"] == "ready"]
    return {
        "first_chart_ms": min(drawn) if drawn else None,
        "all_charts_ms": max(done) if done else None,
        "page_ms": markers["page"],
        "charts": len(markers["charts"]),
        "not_drawn": sorted({f'{c["name"]}={c["state"]}' for c in markers["charts"] if c["state"] != "ready"}),
        "state": markers["state"],
    }


def fmt(values: list[float | None]) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "-"
    return f"{statistics.median(vals):8.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="a running ci-health server")
    parser.add_argument("--static", action="store_true",
                        help="serve frontend/ here and answer the API with tests/browser/sample_api")
    parser.add_argument("--repeat", type=int, default=3, help="samples per page (1-50)")
    parser.add_argument("--job", default="tempest-full-py3")
    parser.add_argument("--test-id", default=DEFAULT_TEST)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per page load")
    args = parser.parse_args(argv)
    repeat = max(1, min(50, args.repeat))

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    server = None
    intercept = None
    base = args.url
    if args.static:
        sys.path.insert(0, str(ROOT))
        from tests.browser.conftest import ApiStub
        from tests.browser.static_server import StaticServer
        server = StaticServer().__enter__()
        base = server.url
        intercept = ApiStub
    try:
        with sync_playwright() as pw:
            if not args.static:
                import urllib.request
                try:
                    urllib.request.urlopen(base.rstrip("/") + "/", timeout=5).close()
                except OSError as exc:
                    print(f"bench/frontend.py: cannot load {base}: {exc} (start `ci-health serve`, or use --static)",
                          file=sys.stderr)
                    return 2
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            print(f"frontend load times, median of {repeat} cold loads, ms since navigation start ({base})")
            print(f"{'page':<16}{'first chart':>12}{'all charts':>12}{'page ready':>12}  charts  notes")
            started = time.monotonic()
            for name, hash_ in pages(args.job, args.test_id).items():
                try:
                    samples = [measure(browser, base, hash_, int(args.timeout * 1000), intercept)
                               for _ in range(repeat)]
                except PlaywrightError as exc:
                    print(f"{name:<16}failed: {str(exc).splitlines()[0]}")
                    continue
                notes = sorted({n for s in samples for n in s["not_drawn"]} |
                               {f"page={s['state']}" for s in samples if s["state"] != "ready"})
                print(f"{name:<16}{fmt([s['first_chart_ms'] for s in samples]):>12}"
                      f"{fmt([s['all_charts_ms'] for s in samples]):>12}"
                      f"{fmt([s['page_ms'] for s in samples]):>12}"
                      f"{samples[0]['charts']:>8}  {' '.join(notes)}")
            print(f"total {time.monotonic() - started:.1f}s")
            browser.close()
    finally:
        if server:
            server.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
