"""The dashboard against the real API: `ci-health serve` on demo data (conftest).

Every expectation (series per chart, first table rows, totals) is computed
from the API's own JSON, fetched again by the test from the URLs the page
asked for. Route interception is left for what a real server cannot be made
to do: a 500, a non-JSON 502, a network failure, a slow answer.
Each page leaves a screenshot under test-output/screenshots/.
"""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest

from .conftest import HOSTILE_JOB, HOSTILE_TEST, HOSTILE_TEST_PART, Console, ready_mark, screenshot, wait_ready

pytestmark = pytest.mark.browser

JOB = "tempest-full-py3"

SERIES_JS = """el => ({
  lines: el.querySelectorAll('.nv-linesWrap .nv-wrap.nv-line > g > g.nv-groups > g.nv-group').length,
  bars: el.querySelectorAll('.nv-wrap.nv-multibar > g > g.nv-groups > g.nv-group').length,
  legend: el.querySelectorAll('.nv-legend .nv-series').length,
  rects: el.querySelectorAll('.nv-multibar rect.nv-bar').length,
  paths: el.querySelectorAll('.nv-linesWrap path.nv-line').length,
})"""


def goto(page, hash_: str) -> str:
    """page.goto for a hash: within the app that is a same-document navigation,
    so wait for the new view, not the one on screen; returns its state."""
    mark = ready_mark(page) if page.url.startswith("http") else None
    page.goto("/" + hash_)
    return wait_ready(page, after=mark)


def chart_states(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-chart]", "els => Object.fromEntries(els.map(e => [e.dataset.chart, e.dataset.chartState]))")


def chart(page, name: str) -> dict:
    return page.eval_on_selector(f'[data-chart="{name}"]', SERIES_JS)


def api_json(live_server, requests, path_regex: str, index: int = -1):
    """The API's answer to the request the page made to `path_regex`, fetched again."""
    urls = requests.find(path_regex)
    assert urls, f"the page never asked for {path_regex}: {requests.urls}"
    return live_server.get(urls[index])


def rows(page, table: str = "table.data", column: int = 1) -> list[str]:
    return [t.strip() for t in page.locator(f"{table} tbody tr td:nth-child({column})").all_inner_texts()]


def panel(title: str) -> str:
    return f'section.panel:has(h2.panel-title:text-is("{title}"))'


def count(n: int) -> str:
    return f"{n:,}"


def all_charts_drawn(page):
    states = chart_states(page)
    assert states and set(states.values()) == {"ready"}, states
    assert page.eval_on_selector_all("[data-chart]", "els => els.every(e => Number(e.dataset.chartReady) > 0)")


def no_errors(console, allowed=()):
    errors = [e for e in console.errors if not any(a in e for a in allowed)]
    assert errors == []
    assert console.dialogs == []


def first_test(live_server) -> str:
    return live_server.get(f"/api/v1/jobs/{JOB}/tests?limit=1")["tests"][0]["test_id"]


def rate_key(item):
    return -item["failure_rate"] if item["n"] else float("inf")


# ------------------------------------------------------------------ every page, real data

def test_overview(page, console, requests, live_server):
    page.goto("/#/")
    assert wait_ready(page) == "ready"
    all_charts_drawn(page)
    timeline = api_json(live_server, requests, r"/api/v1/runs/over_time$")
    groups = len(timeline["series"])
    assert groups == 7  # 6 demo jobs + the hostile run's
    rate = chart(page, "failure-rate")
    assert rate["legend"] == groups
    assert rate["lines"] == min(8, groups) and rate["paths"] == rate["lines"]
    bars = chart(page, "run-outcomes")
    assert bars["bars"] == 3 and bars["rects"] > 0
    # tiles and the jobs table (sorted by failure rate, highest first) from /jobs
    jobs = api_json(live_server, requests, r"/api/v1/jobs$")["jobs"]
    tiles = page.locator(".tile-value").all_inner_texts()
    assert tiles[0] == count(sum(j["runs"] for j in jobs))
    assert tiles[1] == count(sum(j["failed"] for j in jobs))
    expected = [j["job"] for j in sorted(jobs, key=rate_key)]
    assert rows(page, f"{panel('Jobs')} table.data") == expected
    assert page.locator(f"{panel('Jobs')} .sparkline svg").count() == len(jobs)
    # recent failures: the failed tests of the newest failed runs
    recent = api_json(live_server, requests, r"/api/v1/failures/recent$")["runs"]
    first = page.locator(".failure-list li").first
    assert first.locator(".failure-test").get_attribute("title") == recent[0]["failed_tests"][0]["test_id"]
    assert recent[0]["build_name"] in first.inner_text()
    screenshot(page, "overview")
    no_errors(console)


def test_job(page, console, requests, live_server):
    page.goto(f"/#/jobs/{JOB}")
    assert wait_ready(page) == "ready"
    assert page.inner_text(".page-title") == JOB
    all_charts_drawn(page)
    assert chart(page, "job-failure-rate")["lines"] == 1
    assert page.locator('[data-chart="job-failure-rate"] path.ci-band').count() == 1
    assert chart(page, "job-run-outcomes")["bars"] == 3
    assert chart(page, "job-run-time")["lines"] == 1
    job = api_json(live_server, requests, rf"/api/v1/jobs/{JOB}$")
    start = page.evaluate("new Date(Date.now() - 7 * 86400e3).toISOString()")
    in_period = [p for p in job["points"] if p["bucket"] >= start[:13]]
    runs = sum(p["passed"] + p["failed"] + p["empty"] for p in in_period)
    assert abs(int(page.locator(".tile-value").first.inner_text()) - runs) <= 1
    # recent runs, newest first, and the tests with most failures
    recent = rows(page, f"{panel('Recent runs')} table.data", 7)
    assert [r.split()[0] for r in recent] == [r["uuid"][:8] for r in job["recent_runs"][:10]]
    tests = api_json(live_server, requests, rf"/api/v1/jobs/{JOB}/tests$")
    table = f"{panel('Tests of this job')} table.data"
    assert page.locator(f"{table} tbody tr").count() == min(25, len(tests["tests"]))
    assert rows(page, table)[:3] == [t["test_id"] for t in tests["tests"][:3]]
    assert f"of the {count(tests['total'])} tests" in page.inner_text(panel("Tests of this job"))
    screenshot(page, "job")
    no_errors(console)


RUN_TIME_BOXES_JS = """el => {
  const box = (node) => { const r = node.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: r.height}; };
  const band = el.querySelector('.nv-linesWrap path.chart-band.std-band');
  const line = el.querySelector('.nv-linesWrap path.nv-line');
  const plot = el.querySelector('.nv-lineChart .nv-background rect, .nv-focus .nv-background rect');
  return {band: band && box(band), line: line && box(line), plot: plot && box(plot)};
}"""


def test_job_run_time_band(page, console, requests, live_server):
    """The run-time chart: the rolling mean with a shaded mean +- std band around
    it, inside the plot, and a tooltip showing both; no console error."""
    page.goto(f"/#/jobs/{JOB}")
    assert wait_ready(page) == "ready"
    all_charts_drawn(page)
    job = api_json(live_server, requests, rf"/api/v1/jobs/{JOB}$")
    assert any(p.get("mean_run_time") is not None for p in job["points"])
    run_time = '[data-chart="job-run-time"]'
    assert chart(page, "job-run-time")["lines"] == 1
    band = page.locator(f"{run_time} .nv-linesWrap path.chart-band")
    assert band.count() == 1
    assert "std-band" in band.get_attribute("class")
    d = band.get_attribute("d")
    assert d and d.startswith("M") and "NaN" not in d, d
    # the failure rate keeps its 95% interval, drawn by the same function
    assert page.locator('[data-chart="job-failure-rate"] path.chart-band.ci-band').count() == 1
    # the band holds the mean line (low <= mean <= high) and the y axis holds the band
    boxes = page.eval_on_selector(run_time, RUN_TIME_BOXES_JS)
    assert boxes["band"]["height"] > 0, boxes
    assert boxes["band"]["top"] <= boxes["line"]["top"] + 0.5, boxes
    assert boxes["band"]["bottom"] >= boxes["line"]["bottom"] - 0.5, boxes
    assert boxes["plot"]["top"] - 0.5 <= boxes["band"]["top"], boxes
    assert boxes["band"]["bottom"] <= boxes["plot"]["bottom"] + 0.5, boxes
    subtitle = page.inner_text(f"{panel('Run time: mean ± std')} .panel-subtitle")
    assert "± their standard deviation" in subtitle
    # the tooltip shows the mean and the +- std
    page.locator(run_time).scroll_into_view_if_needed()
    box = page.locator(f"{run_time} .nv-linesWrap").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(".nvtooltip .value")
    value = page.inner_text(".nvtooltip .value")
    assert re.fullmatch(r"\S.* ± \S.*", value), value
    screenshot(page, "job-run-time")
    no_errors(console)


def test_test(page, console, requests, live_server):
    test_id = first_test(live_server)
    page.goto(f"/#/tests/{quote(test_id, safe='')}")
    assert wait_ready(page) == "ready"
    assert page.get_attribute(".page-title .test-id", "title") == test_id
    all_charts_drawn(page)
    assert chart(page, "test-failure-rate")["lines"] == 1
    assert chart(page, "test-outcomes")["bars"] == 3
    assert chart(page, "test-run-time")["lines"] == 1
    data = api_json(live_server, requests, r"/api/v1/tests/.+")
    assert rows(page, f"{panel('By job')} table.data") == [j["job"] for j in data["jobs"]]
    failures = rows(page, f"{panel('Recent failures')} table.data", 4)
    assert [f.split()[0] for f in failures] == [f["run_id"][:8] for f in data["recent_failures"]]
    assert page.locator("pre.traceback").count() == len(data["recent_failures"])
    screenshot(page, "test")
    no_errors(console)


def test_runs(page, console, requests, live_server):
    page.goto("/#/runs")
    assert wait_ready(page) == "ready"
    data = api_json(live_server, requests, r"/api/v1/runs$")
    assert page.locator("table.data tbody tr").count() == len(data["runs"]) == 50
    assert rows(page, "table.data", 2)[:5] == [r["metadata"].get("build_name", "\u2014") for r in data["runs"][:5]]
    assert rows(page, "table.data", 4)[0] == count(data["runs"][0]["passes"])
    assert f"of {count(data['total'])}" in page.inner_text(".pager")
    screenshot(page, "runs")
    no_errors(console)


def test_run(page, console, requests, live_server):
    run = live_server.get(f"/api/v1/runs?meta=build_name:{JOB}&outcome=failed&limit=1")["runs"][0]
    page.goto(f"/#/runs/{run['uuid']}")
    assert wait_ready(page) == "ready"
    detail = api_json(live_server, requests, r"/api/v1/runs/.+")
    tiles = page.locator(".tile-value").all_inner_texts()
    assert tiles[1:4] == [count(detail["passes"]), count(detail["fails"]), count(detail["skips"])]
    failed = f"{panel('Failed tests')} table.data"
    assert [page.get_attribute(f"{failed} tbody tr:nth-child({i + 1}) .test-id", "title")
            for i in range(len(detail["failed_tests"]))] == [t["test_id"] for t in detail["failed_tests"]]
    # all results, failures first, the first 50 shown
    results = f"{panel('Test results')} table.data"
    assert page.locator(f"{results} tbody tr").count() == 50
    assert rows(page, results)[:len(detail["failed_tests"])] == ["fail"] * len(detail["failed_tests"])
    assert f"50 of {count(len(detail['tests']))} shown" in page.inner_text(panel("Test results"))
    assert JOB in page.inner_text(".meta-list")
    screenshot(page, "run")
    page.click("button.table-more")
    assert page.locator(f"{results} tbody tr").count() == len(detail["tests"])
    no_errors(console)


def test_tests_search(page, console, requests, live_server):
    page.goto("/#/tests?q=test_servers_0.")
    assert wait_ready(page) == "ready"
    data = api_json(live_server, requests, r"/api/v1/tests$")
    assert requests.query(requests.find(r"/api/v1/tests$")[-1])["mode"] == "substring"
    ids = [page.get_attribute(f"table.data tbody tr:nth-child({i + 1}) .test-id", "title")
           for i in range(page.locator("table.data tbody tr").count())]
    assert ids == sorted(t["test_id"] for t in data["tests"]) and ids
    assert rows(page, "table.data", 2)[0] == count(data["tests"][0]["run_count"])
    screenshot(page, "tests")
    # searching goes through the URL
    mark = ready_mark(page)
    page.fill("input[name=q]", "test_delete_22")
    page.press("input[name=q]", "Enter")
    page.wait_for_function("location.hash === '#/tests?q=test_delete_22'")
    wait_ready(page, after=mark)
    assert all("test_delete_22" in t for t in page.locator("table.data .test-id").all_inner_texts())
    no_errors(console)


# ------------------------------------------------------------------ navigation and URL state

def test_click_from_overview_to_a_job_to_a_test_and_back(page, console):
    page.goto("/#/")
    wait_ready(page)
    assert page.get_attribute('#nav a[data-nav="overview"]', "aria-current") == "page"
    # (the first row is the hostile job: its page is an API 404, see the escaping test)
    job = page.locator(f"{panel('Jobs')} a.job-link", has_text=JOB)
    name = job.inner_text().strip()
    job.click()
    assert wait_ready(page, "job") == "ready"
    assert page.text_content(".kicker") == "Job" and page.inner_text(".page-title") == name
    assert page.get_attribute('#nav a[data-nav="overview"]', "aria-current") == "page"
    test = page.locator(f"{panel('Tests of this job')} a.test-id").first
    test_id = test.get_attribute("title")
    test.click()
    assert wait_ready(page, "test") == "ready"
    assert page.text_content(".kicker") == "Test"
    assert page.get_attribute(".page-title .test-id", "title") == test_id
    assert page.get_attribute('#nav a[data-nav="tests"]', "aria-current") == "page"
    page.go_back()
    assert wait_ready(page, "job") == "ready"
    assert page.inner_text(".page-title") == name
    page.go_back()
    assert wait_ready(page, "overview") == "ready"
    assert page.evaluate("location.hash") == "#/"
    assert page.text_content(".kicker") == "Overview"
    page.click('#nav a[data-nav="runs"]')
    assert wait_ready(page, "runs") == "ready"
    assert page.get_attribute('#nav a[data-nav="runs"]', "aria-current") == "page"
    no_errors(console)


def test_url_state_round_trip_on_reload(page, console, requests, live_server):
    end = live_server.end.strftime("%Y-%m-%dT%H:%M:%SZ")
    hash_ = f"#/jobs/{JOB}?period=14d&end={end}&resolution=day&sort=-runs"
    page.goto("/" + hash_)
    wait_ready(page)
    assert page.evaluate("location.hash") == hash_
    assert page.input_value("select[name=period]") == "14d"
    assert page.input_value("select[name=resolution]") == "day"
    assert page.input_value("input[name=end]") == end[:16]
    first_rows = rows(page, f"{panel('Tests of this job')} table.data")
    page.reload()
    wait_ready(page)
    assert page.evaluate("location.hash") == hash_
    assert rows(page, f"{panel('Tests of this job')} table.data") == first_rows
    # a control changes the URL and the window asked of the API
    mark = ready_mark(page)
    page.select_option("select[name=period]", "30d")
    page.wait_for_function("location.hash.includes('period=30d')")
    wait_ready(page, after=mark)
    after = page.evaluate("location.hash")
    assert after == f"#/jobs/{JOB}?period=30d&end={end}&resolution=day&sort=-runs"
    query = requests.query(requests.find(rf"/api/v1/jobs/{JOB}$")[-1])
    # the period is asked in whole buckets (days here): the end rounded up to midnight
    day_end = live_server.end.replace(hour=0) + dt.timedelta(days=1 if live_server.end.hour else 0)
    assert query["stop"] == day_end.strftime("%Y-%m-%dT%H:%M:%SZ") and query["resolution"] == "day"
    # sorting is in the URL too, without asking the API again
    asked = len(requests.urls)
    page.click(f"{panel('Tests of this job')} th button >> text=Runs")
    page.wait_for_function("location.hash.includes('sort=runs')")
    assert len(requests.urls) == asked
    page.reload()
    wait_ready(page)
    assert "Runs" in page.text_content(f"{panel('Tests of this job')} th[aria-sort=ascending]")
    mark = ready_mark(page)
    page.go_back()
    page.wait_for_function("location.hash.includes('period=14d')")
    assert "sort=-runs" in page.evaluate("location.hash")
    wait_ready(page, after=mark)
    no_errors(console)


def test_resolution_respects_the_point_cap_and_the_api_window(page, console, requests):
    assert goto(page, "#/?period=6m&resolution=min") == "ready"
    assert {requests.query(u)["resolution"] for u in requests.find(r"/over_time$")} == {"day"}
    assert "more than 2,000 points" in page.inner_text(".note")
    # 35 days hourly is under the cap but over the API's 31 days: daily, and said so
    assert goto(page, "#/?period=35d&resolution=hour") == "ready"
    assert requests.query(requests.find(r"/over_time$")[-1])["resolution"] == "day"
    assert "hourly buckets for 31 days at most" in page.inner_text(".note")
    # 30 days hourly (plus the rolling lead-in) is served as asked
    assert goto(page, f"#/jobs/{JOB}?period=30d&resolution=hour") == "ready"
    assert requests.query(requests.find(rf"/api/v1/jobs/{JOB}$")[-1])["resolution"] == "hour"
    assert page.locator(".note").count() == 0
    assert goto(page, "#/?period=7d") == "ready"
    assert requests.query(requests.find(r"/over_time$")[-1])["resolution"] == "hour"
    assert "Auto (hour)" in page.inner_text("select[name=resolution]")
    no_errors(console)


def test_garbage_url_falls_back_to_defaults(page, console):
    goto(page, "#/jobs/%E0%A4%A?period=zzz&resolution=week")
    assert page.evaluate("location.hash") == "#/"
    assert page.input_value("select[name=period]") == "7d"
    assert page.input_value("select[name=resolution]") == "auto"
    assert goto(page, "#/tests?offset=-4&limit=999999&q=%00") == "ready"
    assert page.evaluate("location.hash") == "#/tests"
    assert "NaN" not in page.inner_text("body") and "undefined" not in page.inner_text("body")
    no_errors(console)


def test_runs_filters_are_in_the_url(page, console, requests, live_server):
    page.goto("/#/runs")
    wait_ready(page)
    mark = ready_mark(page)
    page.fill("input[name=meta]", f"build_name={JOB}")
    page.press("input[name=meta]", "Enter")
    page.wait_for_function("location.hash.includes('meta=')")
    wait_ready(page, after=mark)
    mark = ready_mark(page)
    page.click(".segmented >> text=Failed")
    page.wait_for_function("location.hash.includes('outcome=failed')")
    wait_ready(page, after=mark)
    assert page.evaluate("location.hash") == f"#/runs?meta=build_name%3D{JOB}&outcome=failed"
    query = requests.query(requests.find(r"/api/v1/runs$")[-1])
    assert query["meta"] == f"build_name:{JOB}" and query["outcome"] == "failed"
    data = api_json(live_server, requests, r"/api/v1/runs$")
    assert set(rows(page, "table.data", 2)) == {JOB}
    assert set(rows(page, "table.data", 3)) == {"Failed"}
    assert f"of {count(data['total'])}" in page.inner_text(".pager")
    screenshot(page, "runs-filtered")
    no_errors(console)


# ------------------------------------------------------------------ status and errors

def test_stale_data_banner(stale_page, stale_server):
    console = Console(stale_page)
    stale_page.goto("/")
    wait_ready(stale_page)
    stale_page.wait_for_selector("#stale-banner:not([hidden])")
    newest = stale_server.get("/api/v1/status")["newest_run_at"]
    banner = stale_page.inner_text("#stale-banner")
    assert "Data may be stale" in banner
    assert f"{newest[:10]} {newest[11:16]} UTC" in banner
    assert "is-stale" in stale_page.get_attribute("#api-status", "class")
    screenshot(stale_page, "overview-stale")
    no_errors(console)


def test_fresh_data_has_no_banner(page, console):
    page.goto("/")
    wait_ready(page)
    page.wait_for_selector(".api-status.is-ok")
    assert page.locator("#stale-banner").is_hidden()
    assert page.inner_text("#api-status").startswith("Newest run")


def test_api_400_from_the_real_api_is_shown(page, console):
    page.goto("/#/runs?meta=no_such_key%3Dx")
    assert wait_ready(page) == "error"
    assert page.inner_text(".api-error-message") == "unknown run metadata key 'no_such_key'"
    assert page.inner_text(".api-error-field") == "meta"
    assert "HTTP 400" in page.inner_text(".api-error")
    screenshot(page, "runs-error-400")
    no_errors(console, allowed=["status of 400"])


def test_api_404_from_the_real_api_is_shown(page, console):
    page.goto("/#/jobs/no-such-job")
    assert wait_ready(page) == "error"
    states = chart_states(page)
    assert states and set(states.values()) == {"error"}
    assert set(page.locator(".api-error-message").all_inner_texts()) == {"no job 'no-such-job'"}
    assert "HTTP 404" in page.inner_text(".api-error >> nth=0")
    no_errors(console, allowed=["status of 404"])


@pytest.mark.parametrize("name,hash_", [
    ("overview", "#/?end=2020-01-01T00:00:00Z"),
    ("job", f"#/jobs/{JOB}?end=2020-01-01T00:00:00Z"),
    ("runs", "#/runs?end=2020-01-01T00:00:00Z"),
    ("tests", "#/tests?q=zz-no-such-test"),
])
def test_a_period_without_data_says_so(page, console, name, hash_):
    page.goto("/" + hash_)
    assert wait_ready(page) == "ready"
    empties = page.locator(".state-empty > span:last-child").all_inner_texts()
    assert empties and all(text.startswith("No ") or "no run" in text for text in empties), empties
    assert set(chart_states(page).values()) <= {"empty"}
    assert page.locator("svg.nvd3-svg").count() == 0
    if name == "overview":
        assert "No runs in the 7 days until 2020-01-01 00:00 UTC." in empties
        screenshot(page, "overview-empty")
    no_errors(console)


# ------------------------------------------------------------------ interception: what a real server won't do

def test_api_500_error_is_shown(page, api, console):
    api.on(r"/api/v1/jobs/", {"error": {"message": "database unreachable", "field": None}}, status=500)
    page.goto(f"/#/jobs/{JOB}")
    assert wait_ready(page) == "error"
    assert "database unreachable" in page.locator(".api-error-message").all_inner_texts()
    assert page.locator(".api-error-field").count() == 0
    assert "HTTP 500" in page.inner_text(".api-error >> nth=0")
    assert set(chart_states(page).values()) == {"error"}
    assert page.locator("path.chart-band").count() == 0
    screenshot(page, "job-error-500")


def test_api_error_without_json(page, api):
    api.on(r"/api/v1/runs$", raw="<html><body>Bad Gateway</body></html>", status=502)
    page.goto("/#/runs")
    assert wait_ready(page) == "error"
    assert page.inner_text(".api-error-message") == "The API answered HTTP 502 (Bad Gateway)"


def test_network_failure_is_shown(page, api):
    api.on(r"/api/v1/", abort=True)
    page.goto("/#/tests")
    assert wait_ready(page) == "error"
    assert page.inner_text(".api-error-message").startswith("Cannot reach the API")
    page.wait_for_selector(".api-status.is-error")
    assert page.inner_text("#api-status") == "API unreachable"


def test_loading_indicator_while_the_api_answers(page, api, console):
    api.hold_all = True
    page.goto("/")
    page.wait_for_selector(".state-loading")
    assert page.locator("#loading-bar").is_visible()
    assert page.eval_on_selector("#page", "el => el.dataset.pageState") == "loading"
    assert set(chart_states(page).values()) == {"loading"}
    screenshot(page, "overview-loading")
    api.release()
    assert wait_ready(page) == "ready"
    assert page.locator("#loading-bar").is_hidden()
    assert page.locator(".state-loading").count() == 0
    no_errors(console)


# ------------------------------------------------------------------ escaping

def test_hostile_names_render_as_text(page, console, live_server):
    assert goto(page, "#/") == "ready"
    text = page.inner_text("#page")
    assert HOSTILE_JOB in text
    assert HOSTILE_JOB in page.locator(f"{panel('Jobs')} a.job-link").all_inner_texts()
    href = page.locator(f"{panel('Jobs')} a.job-link", has_text=HOSTILE_JOB).get_attribute("href")
    assert href.startswith("#/jobs/")
    legend = page.locator('[data-chart="failure-rate"] .nv-legend-text').all_text_contents()
    assert HOSTILE_JOB in legend
    # the newest failure is the hostile test, its id is an attribute value
    titles = [page.get_attribute(f".failure-list li:nth-child({i + 1}) .failure-test", "title")
              for i in range(page.locator(".failure-list li").count())]
    assert HOSTILE_TEST in titles
    # NVD3's tooltip is built from text nodes
    page.locator('[data-chart="failure-rate"]').scroll_into_view_if_needed()
    box = page.locator('[data-chart="failure-rate"] .nv-lineChart .nv-background rect').bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.99, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(".nvtooltip .key")
    assert HOSTILE_JOB in page.locator(".nvtooltip .key").all_inner_texts()
    assert page.locator(".nvtooltip img, .nvtooltip script").count() == 0
    screenshot(page, "overview-hostile")
    assert page.locator("#page img, #page script").count() == 0

    run = live_server.hostile_run["uuid"]
    assert goto(page, f"#/runs/{run}") == "ready"
    assert HOSTILE_JOB in page.inner_text(".meta-list")
    assert page.get_attribute(f"{panel('Failed tests')} .test-id", "title") == HOSTILE_TEST
    assert HOSTILE_TEST_PART in page.inner_text(f"{panel('Failed tests')} pre.traceback")
    # a javascript: artifacts URL is text, never a link
    assert "javascript:alert(1)" in page.inner_text(".meta-list")
    assert page.locator('.meta-list a[href^="javascript"]').count() == 0
    screenshot(page, "run-hostile")

    assert goto(page, f"#/tests/{quote(HOSTILE_TEST, safe='')}") == "ready"
    assert page.get_attribute(".page-title .test-id", "title") == HOSTILE_TEST
    assert HOSTILE_JOB in page.inner_text(f"{panel('By job')} table.data")
    assert page.title().startswith(HOSTILE_TEST)

    assert goto(page, "#/runs") == "ready"
    assert rows(page, "table.data", 2)[0] == HOSTILE_JOB

    # the job page of a name holding '/' and markup: served, shown as text
    assert goto(page, "#/jobs/" + quote(HOSTILE_JOB, safe="")) == "ready"
    assert page.inner_text(".page-title") == HOSTILE_JOB
    assert page.title().startswith(HOSTILE_JOB)
    assert page.locator("#page img, #page script").count() == 0
    screenshot(page, "job-hostile")
    no_errors(console)



def test_insight(page, console, requests, live_server):
    page.goto("/#/insight")
    assert wait_ready(page) == "ready"
    flaky = api_json(live_server, requests, r"/api/v1/flaky-tests$")
    clusters = api_json(live_server, requests, r"/api/v1/clusters$")
    panels = page.locator(".panel")
    assert panels.count() == 6
    first = page.locator(".panel").nth(0)
    if flaky["tests"]:
        shown = first.locator("tbody tr .test-id").first.get_attribute("title")
        assert shown == flaky["tests"][0]["test_id"]
        assert first.locator("tbody tr").count() == len(flaky["tests"])
    signatures = page.locator(".panel").nth(1).locator("tbody code").all_inner_texts()
    assert signatures == [c["signature"] for c in clusters["clusters"]]
    # signatures, test ids and labels are text: nothing in them became markup
    assert page.locator(".panel code *").count() == 0
    screenshot(page, "insight")
    no_errors(console)


def test_tests_page_ranks_every_test(page, console, requests, live_server):
    assert goto(page, "#/tests?sort=-impact") == "ready"
    data = api_json(live_server, requests, r"/api/v1/test-ranking$")
    assert requests.query(requests.find(r"/api/v1/test-ranking$")[-1])["sort"] == "impact"
    every = live_server.get("/api/v1/test-ranking?sort=test_id&limit=500")["total"]
    assert data["total"] == every > 50      # every test of the period, not one page
    table = "table.data.ranking"

    def shown() -> list[str]:
        return [page.get_attribute(f"{table} tbody tr:nth-child({i + 1}) .test-id", "title")
                for i in range(page.locator(f"{table} tbody tr").count())]
    assert shown() == [t["test_id"] for t in data["tests"]] and len(shown()) == 50
    assert rows(page, table, 8)[:3] == [count(t["impact"]) for t in data["tests"][:3]]
    assert f"1\u201350 of {count(every)}" in page.inner_text(".pager")
    screenshot(page, "tests-ranking")
    # another ranking, then its second page: the server's order over every test
    for key, sort in (("flakiness", "flakiness"), ("rank_failure_rate", "failure_rate")):
        mark = ready_mark(page)
        page.click(f'.rank-by a[data-rank="{key}"]')
        page.wait_for_function(f"location.hash === '#/tests?sort=-{key}'")
        wait_ready(page, after=mark)
        ranked = live_server.get(f"/api/v1/test-ranking?sort={sort}&limit=50")
        assert shown() == [t["test_id"] for t in ranked["tests"]]
    mark = ready_mark(page)
    page.click(".pager a:text('Next')")
    wait_ready(page, after=mark)
    second = live_server.get("/api/v1/test-ranking?sort=failure_rate&limit=50&offset=50")
    assert shown() == [t["test_id"] for t in second["tests"]]
    assert rows(page, table, 1)[0] == "51"
    # a test id holding markup is text
    assert goto(page, "#/tests?sort=-rank_failure_rate&q=HostileTest") == "ready"
    assert shown() == [HOSTILE_TEST]
    assert page.locator("#page img, #page script").count() == 0
    no_errors(console)
