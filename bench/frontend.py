"""Dashboard page-load benchmark: time from navigation to the first chart drawn
and to every chart (and table) of the page finished, in headless chromium.

    python bench/frontend.py                       # a ci-health server on 127.0.0.1:8080
    python bench/frontend.py --url http://127.0.0.1:8081 --repeat 20

What is measured comes from DOM markers the frontend sets (frontend/README.md):

    [data-chart]            every chart area; data-chart-state: loading -> ready | empty | error
    [data-chart-ready]      performance.now() (ms since navigation start) when that chart finished
    main#page[data-page-ready]
                            performance.now() when every section of the page finished
                            (data-page-state: ready | error)

performance.now() counts from the navigation start of the document, so each
sample loads the page in a fresh browser context (cold HTTP cache): the
figures include fetching index.html, d3, NVD3, the modules, the API answers
and drawing. The API's response cache is warmed first (one untimed load per
page; pages ask for `stop` = now rounded up to the minute, so samples within
the same minute hit the same entries). Prints p50 and p95 of each figure.
Targets: first chart <= 1 s, all charts <= 2 s. Only addresses on this
machine are used; the loops are bounded.
"""
from __future__ import annotations

import argparse
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
        "job 7d": f"#/jobs/{quote(job, safe='')}",
        "job 30d": f"#/jobs/{quote(job, safe='')}?period=30d",
        "test 7d": f"#/tests/{quote(test_id, safe='')}",
        "test 30d": f"#/tests/{quote(test_id, safe='')}?period=30d",
    }


def pick_test(base: str, job: str) -> str | None:
    """The test with most failures in the job (a test page with data)."""
    import json
    import urllib.request
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}/api/v1/jobs/{quote(job, safe='')}/tests?limit=1",
                                    timeout=30) as r:
            tests = json.load(r)["tests"]
        return tests[0]["test_id"] if tests else None
    except (OSError, ValueError, KeyError):
        return None


def measure(browser, base: str, hash_: str, timeout_ms: int) -> dict:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, timezone_id="UTC")
    try:
        page = context.new_page()
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


def pct(values: list[float | None], q: float) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    # nearest rank
    return vals[min(len(vals) - 1, max(0, round(q / 100 * len(vals) + 0.5) - 1))]


def fmt(values: list[float | None]) -> str:
    p50, p95 = pct(values, 50), pct(values, 95)
    return "-" if p50 is None else f"{p50:.0f} / {p95:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="a running ci-health server")
    parser.add_argument("--repeat", type=int, default=10, help="timed loads per page (1-100)")
    parser.add_argument("--job", default="tempest-full-py3")
    parser.add_argument("--test-id", default=None, help="default: the job's test with most failures")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per page load")
    args = parser.parse_args(argv)
    repeat = max(1, min(100, args.repeat))
    base = args.url

    import urllib.request
    try:
        urllib.request.urlopen(base.rstrip("/") + "/api/v1/status", timeout=5).close()
    except OSError as exc:
        print(f"bench/frontend.py: cannot reach {base}: {exc} (start `ci-health serve`)", file=sys.stderr)
        return 2
    test_id = args.test_id or pick_test(base, args.job) or DEFAULT_TEST

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        print(f"frontend load times over {repeat} loads (fresh browser context each, warm API cache), "
              f"ms since navigation start, p50 / p95 ({base})")
        print(f"{'page':<14}{'first chart':>14}{'all charts':>14}{'page ready':>14}  charts  notes")
        started = time.monotonic()
        worst = {"first": 0.0, "all": 0.0}
        for name, hash_ in pages(args.job, test_id).items():
            try:
                measure(browser, base, hash_, int(args.timeout * 1000))  # warms the API cache
                samples = [measure(browser, base, hash_, int(args.timeout * 1000)) for _ in range(repeat)]
            except PlaywrightError as exc:
                print(f"{name:<14}failed: {str(exc).splitlines()[0]}")
                continue
            notes = sorted({n for s in samples for n in s["not_drawn"]} |
                           {f"page={s['state']}" for s in samples if s["state"] != "ready"})
            firsts = [s["first_chart_ms"] for s in samples]
            alls = [s["all_charts_ms"] for s in samples]
            worst["first"] = max(worst["first"], pct(firsts, 95) or 0)
            worst["all"] = max(worst["all"], pct(alls, 95) or 0)
            print(f"{name:<14}{fmt(firsts):>14}{fmt(alls):>14}{fmt([s['page_ms'] for s in samples]):>14}"
                  f"{samples[0]['charts']:>8}  {' '.join(notes)}")
        print(f"worst p95: first chart {worst['first']:.0f} ms (target 1000), "
              f"all charts {worst['all']:.0f} ms (target 2000); total {time.monotonic() - started:.1f}s")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
