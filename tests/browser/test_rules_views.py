"""The dashboard draws what the API serves, and the rough edges a new user found:
one set of numbers for a job across the overview, its page and the API; a new page
opens at its top; the Tests page sorts every test through the API; distinct colours
plus a dash channel in chart and legend; points on sparse lines, lines clipped to the
plot; failure-rate axes scaled to the data; an old database opens on its newest run
with absolute dates; runs without build_name shown as "(no job name)"; recent
failures of the chosen period."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from .conftest import wait_ready
from .test_pages import JOB, api_json, count, no_errors, panel

pytestmark = pytest.mark.browser


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def test_overview_row_job_page_and_api_agree(page, console, requests, live_server):
    page.goto("/#/")
    assert wait_ready(page) == "ready"
    query = requests.query(requests.find(r"/api/v1/jobs$")[-1])
    row = page.locator(f'{panel("Jobs")} table.data tbody tr[data-key="{JOB}"]')
    cells = row.locator("td").all_inner_texts()
    overview = (cells[1], cells[2], row.locator(".rate-value").inner_text())
    # a new page opens at its top: scroll down to the jobs table, then open the job
    page.locator(panel("Jobs")).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 400)")
    assert page.evaluate("window.scrollY") > 300
    row.locator("a.job-link").click()
    assert wait_ready(page, "job") == "ready"
    assert page.evaluate("window.scrollY") == 0
    tiles = page.locator(".tile-value").all_inner_texts()
    job_page = (tiles[0], tiles[1], tiles[2])
    # the job page asked for the same period as the overview's jobs table
    job_query = requests.query(requests.find(rf"/api/v1/jobs/{JOB}$")[-1])
    assert (job_query["start"], job_query["stop"]) == (query["start"], query["stop"])
    api = live_server.get(f"/api/v1/jobs/{JOB}?start={query['start']}&stop={query['stop']}"
                          f"&resolution={job_query['resolution']}")
    listed = {j["job"]: j for j in live_server.get(
        f"/api/v1/jobs?start={query['start']}&stop={query['stop']}")["jobs"]}[JOB]
    expected = (count(api["runs"]), count(api["failed"]), percent(api["failure_rate"]))
    assert (count(listed["runs"]), count(listed["failed"]),
            percent(listed["failure_rate"])) == expected
    assert overview == expected
    assert job_page == expected
    no_errors(console)


LINES_JS = """el => [...el.querySelectorAll('.nv-linesWrap .nv-wrap.nv-line > g > g.nv-groups > g.nv-group')]
  .filter(g => g.querySelector('path.nv-line')).map(g => ({
  classes: g.getAttribute('class'), stroke: getComputedStyle(g.querySelector('path.nv-line')).stroke,
  dash: getComputedStyle(g.querySelector('path.nv-line')).strokeDasharray,
}))"""
LEGEND_JS = """el => [...el.querySelectorAll('.nv-legend .nv-series')].map(s => {
  const line = s.querySelector('line.legend-line');
  return line && {stroke: line.style.stroke, dash: getComputedStyle(line).strokeDasharray};
})"""
SPARSE_JS = """el => [...el.querySelectorAll('.nv-scatterWrap g.nv-group.series-sparse .nv-point')]
  .map(p => getComputedStyle(p).fillOpacity)"""


def test_failure_rate_chart_colours_dashes_markers_and_clip(page, console, requests, live_server):
    page.goto("/#/")
    assert wait_ready(page) == "ready"
    el = '[data-chart="failure-rate"]'
    lines = page.eval_on_selector(el, LINES_JS)
    timeline = api_json(live_server, requests, r"/api/v1/runs/over_time$")
    assert len(lines) == len(timeline["series"]) == 7
    # distinct colours for the groups shown, and a dash pattern as a second channel
    assert len({line["stroke"] for line in lines}) == len(lines)
    assert len({line["dash"] for line in lines}) == 4
    # the legend shows the same colour and dash per series
    legend = page.eval_on_selector(el, LEGEND_JS)
    assert len(legend) == len(lines) and all(legend)
    assert [item["dash"] for item in legend] == [line["dash"] for line in lines]
    # the hostile job ran once: its line is sparse and shows its points
    sparse = [line for line in lines if "series-sparse" in line["classes"]]
    assert sparse
    opacities = page.eval_on_selector(el, SPARSE_JS)
    assert opacities and set(opacities) == {"1"}
    # lines are clipped to the plot area
    assert page.eval_on_selector(el, "el => [...el.querySelectorAll('[clip-path]')]"
                                     ".some(g => g.getAttribute('clip-path').startsWith('url(#nv-edge-clip'))")
    # the served rolling rate is what is drawn: the first value of the busiest job
    served = next(s for s in timeline["series"] if s["value"] == JOB)
    assert any(p["rolling_failure_rate"] is not None for p in served["points"])
    no_errors(console)


def test_test_failure_rate_axis_is_scaled_to_the_data(page, console, requests, live_server):
    tests = live_server.get("/api/v1/tests?sort=runs&limit=200")["tests"]
    flaky = next(t for t in tests if 0 < t["failure_rate"] < 0.3)
    page.goto(f"/#/tests/{quote(flaky['test_id'], safe='')}")
    assert wait_ready(page) == "ready"
    data = api_json(live_server, requests, r"/api/v1/tests/.+")
    top = max(p["rolling_ci_high"] or 0 for p in data["points"])
    assert top < 0.9
    ticks = page.locator('[data-chart="test-failure-rate"] .nv-y .tick text').all_text_contents()
    values = [float(t.rstrip("%")) / 100 for t in ticks if t.endswith("%")]
    assert values and min(values) == 0 and max(values) <= top + 0.1 and max(values) < 1
    no_errors(console)


def test_tests_page_sorts_every_test_through_the_api(page, console, requests, live_server):
    page.goto("/#/tests")
    assert wait_ready(page) == "ready"
    mark = page.eval_on_selector("#page", "m => m.dataset.pageReady")
    page.click("table.data th button:has-text('Failure rate')")
    wait_ready(page, after=mark)
    assert requests.query(requests.find(r"/api/v1/tests$")[-1])["sort"] == "failure_rate"
    # the top of the page is the top of all tests, not of the 50 shown before
    everything, offset = [], 0
    while True:
        chunk = live_server.get(f"/api/v1/tests?limit=500&offset={offset}")
        everything += chunk["tests"]
        offset += 500
        if offset >= chunk["total"]:
            break
    assert len(everything) > 50
    best = max(t["failure_rate"] if t["n"] else -1 for t in everything)
    first = page.get_attribute("table.data tbody tr:first-child .test-id", "title")
    assert next(t for t in everything if t["test_id"] == first)["failure_rate"] == best
    for sort, column in (("failures", "Failures"), ("runs", "Runs"), ("run_time", "Mean time")):
        mark = page.eval_on_selector("#page", "m => m.dataset.pageReady")
        page.click(f"table.data th button:has-text('{column}')")
        wait_ready(page, after=mark)
        assert requests.query(requests.find(r"/api/v1/tests$")[-1])["sort"] == sort
    no_errors(console)


def test_old_database_opens_on_its_newest_run(stale_page, stale_server):
    page = stale_page
    asked = []
    page.on("request", lambda r: "/api/v1/jobs?" in r.url and asked.append(r.url))
    page.goto("/#/")
    # a selector, not wait_for_function: the page's CSP forbids the eval that needs
    page.wait_for_selector(".page-subtitle:has-text('newest run')")
    assert wait_ready(page, "overview") == "ready"
    newest = stale_server.get("/api/v1/status")["newest_run_at"]
    subtitle = page.inner_text(".page-subtitle")
    assert "until the newest run" in subtitle and newest[:10] in subtitle
    # the jobs table shows the old runs (not an empty week), and the "(no job name)" run
    names = page.locator(f"{panel('Jobs')} a.job-link").all_inner_texts()
    assert "(no job name)" in names and len(names) == 2
    assert asked and newest[:7] in asked[-1]
    # absolute dates beside "... years ago"
    assert newest[:10] in page.inner_text("#api-status")
    assert newest[:4] in page.locator(f"{panel('Jobs')} time").first.inner_text()
    # recent failures: of the period only (its runs, not the newest overall)
    failures = [u for u in page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
                if "/api/v1/failures/recent" in u]
    assert failures and "start=" in failures[-1] and "stop=" in failures[-1]
    # the job page of those runs
    page.locator(f"{panel('Jobs')} a.job-link", has_text="(no job name)").click()
    assert wait_ready(page, "job") == "ready"
    assert page.inner_text(".page-title") == "(no job name)"
    assert page.locator(".tile-value").first.inner_text() == "1"
