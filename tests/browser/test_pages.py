"""Every page loads, draws and shows its states, with the API intercepted.

The API answers come from sample_api (realistic data), sample_api.empty_answer
(no data in the period) or an override per test (errors, hostile names).
Each page leaves a screenshot under test-output/screenshots/.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from .conftest import screenshot, wait_ready

pytestmark = pytest.mark.browser

HOSTILE_SCRIPT = "<script>window.__xss = 1</script>"
HOSTILE_IMG = '"><img src=x onerror="window.__xss = 2">'
TEST_ID = "tempest.scenario.test_server_multinode.TestServerMultinode.test_schedule_to_all_nodes"

PAGES = {
    # name: (hash, what the page must show)
    "overview": ("#/", "CI health overview"),
    "job": ("#/jobs/nova-grenade-multinode", "nova-grenade-multinode"),
    "test": (f"#/tests/{quote(TEST_ID, safe='')}", "TestServerMultinode.test_schedule_to_all_nodes"),
    "runs": ("#/runs", "Runs"),
    "run": ("#/runs/6c243e1a-0000-4000-8000-000000000001", "Test results"),
    "tests": ("#/tests?q=tempest.api", "Matching tests"),
    "ci": ("#/ci", "Coming soon"),
}


def chart_states(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "[data-chart]", "els => Object.fromEntries(els.map(e => [e.dataset.chart, e.dataset.chartState]))")


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_console_errors(page, api, console, name):
    hash_, text = PAGES[name]
    page.goto("/" + hash_)
    assert wait_ready(page) == "ready"
    assert text in page.inner_text("#page")
    # every chart drew, with its readiness marker
    for chart, state in chart_states(page).items():
        assert state == "ready", (chart, state)
    assert page.eval_on_selector_all("[data-chart]", "els => els.every(e => Number(e.dataset.chartReady) > 0)")
    if chart_states(page):
        assert page.locator("[data-chart] svg.nvd3-svg .nv-group, [data-chart] svg.nvd3-svg .nv-line").count() > 0
    assert not page.locator(".api-error").count()
    screenshot(page, name)
    assert console.errors == []


def test_navigation_renders_and_routes(page, api, console):
    page.goto("/")
    wait_ready(page)
    nav = page.locator("#nav a")
    assert [" ".join(t.split()) for t in nav.all_text_contents()] == [
        "Overview", "Runs", "Tests", "CI systems soon"]
    assert page.get_attribute('#nav a[data-nav="overview"]', "aria-current") == "page"
    page.click('#nav a[data-nav="runs"]')
    page.wait_for_function("location.hash.startsWith('#/runs')")
    wait_ready(page)
    assert page.get_attribute('#nav a[data-nav="runs"]', "aria-current") == "page"
    assert page.get_attribute('#nav a[data-nav="overview"]', "aria-current") is None
    # a job link from the overview opens the job page, Overview stays current
    page.go_back()
    wait_ready(page)
    page.click("table.data a.job-link >> nth=0")
    page.wait_for_function("location.hash.startsWith('#/jobs/')")
    assert wait_ready(page) == "ready"
    assert page.get_attribute('#nav a[data-nav="overview"]', "aria-current") == "page"
    assert page.text_content(".kicker") == "Job"
    assert console.errors == []


def test_api_400_error_is_shown_with_its_message(page, api, console):
    error = {"error": {"message": "start must be before stop", "field": "start"}}
    api.on(r"/api/v1/(?!status)", error, status=400)
    page.goto("/#/?end=2026-10-01T00:00:00Z")
    assert wait_ready(page) == "error"
    boxes = page.locator(".api-error")
    assert boxes.count() >= 3
    assert set(page.locator(".api-error-message").all_inner_texts()) == {"start must be before stop"}
    assert set(page.locator(".api-error-field").all_inner_texts()) == {"start"}
    assert "HTTP 400" in page.inner_text(".api-error >> nth=0")
    # never a blank chart: each chart area shows the error
    states = chart_states(page)
    assert states and set(states.values()) == {"error"}
    for chart in states:
        assert page.locator(f'[data-chart="{chart}"] .api-error').count() == 1
    screenshot(page, "overview-error-400")
    # the browser logs the failed requests; nothing else may fail
    assert [e for e in console.errors if "status of 400" not in e] == []


def test_api_500_error_is_shown(page, api, console):
    api.on(r"/api/v1/jobs/", {"error": {"message": "database unreachable", "field": None}}, status=500)
    page.goto("/#/jobs/tempest-full-py3")
    assert wait_ready(page) == "error"
    assert "database unreachable" in page.locator(".api-error-message").all_inner_texts()
    assert page.locator(".api-error-field").count() == 0
    assert "HTTP 500" in page.inner_text(".api-error >> nth=0")
    assert set(chart_states(page).values()) == {"error"}
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


@pytest.mark.parametrize("name", ["overview", "job", "test", "runs", "tests"])
def test_empty_result_says_there_is_no_data(page, api, console, name):
    api.mode = "empty"
    hash_, _ = PAGES[name]
    page.goto("/" + hash_)
    assert wait_ready(page) == "ready"
    empties = page.locator(".state-empty > span:last-child").all_inner_texts()
    assert empties, "no empty state shown"
    assert all(text.startswith("No ") for text in empties), empties
    states = chart_states(page)
    assert set(states.values()) <= {"empty"}, states
    assert page.locator("svg.nvd3-svg").count() == 0
    if name == "overview":
        assert "No runs in the last 7 days." in empties
        screenshot(page, "overview-empty")
    assert console.errors == []


def hostile_jobs(path, query):
    rate = {"value": 0.5, "low": 0.1, "high": 0.9, "n": 4}
    return 200, {"jobs": [
        {"name": name, "runs": 4, "passed": 2, "failed": 2, "empty": 0, "failure_rate": rate,
         "last_run_at": "2026-10-01T00:00:00Z", "mean_run_time": 60}
        for name in (HOSTILE_SCRIPT, HOSTILE_IMG)]}


def hostile_timeline(path, query):
    buckets = ["2026-09-30T00:00:00Z", "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"]
    return 200, {"group_by": "build_name", "resolution": "day", "buckets": buckets, "groups": [
        {"key": name, "passed": [1, 2, 1], "failed": [1, 0, 1], "empty": [0, 0, 0]}
        for name in (HOSTILE_SCRIPT, HOSTILE_IMG)]}


def hostile_failures(path, query):
    return 200, {"failures": [{"test_id": HOSTILE_IMG + ".Test.test_x", "run_id": "1",
                               "build_name": HOSTILE_SCRIPT, "status": "fail",
                               "run_at": "2026-10-01T00:00:00Z"}]}


def test_hostile_names_render_as_text(page, api, console):
    api.on(r"/api/v1/jobs$", handler=hostile_jobs)
    api.on(r"/api/v1/runs/timeline$", handler=hostile_timeline)
    api.on(r"/api/v1/failures/recent$", handler=hostile_failures)
    page.goto("/#/?period=30d&end=2026-10-03T00:00:00Z")
    assert wait_ready(page) == "ready"
    main_text = page.inner_text("#page")
    assert HOSTILE_SCRIPT in main_text
    assert HOSTILE_IMG in main_text
    assert page.evaluate("window.__xss") is None
    assert page.locator("#page img").count() == 0
    assert page.locator("#page script").count() == 0
    # the names are link text, and their links are in-app routes
    links = page.locator("table.data a.job-link")
    assert links.all_inner_texts() == [HOSTILE_SCRIPT, HOSTILE_IMG] or \
        sorted(links.all_inner_texts()) == sorted([HOSTILE_SCRIPT, HOSTILE_IMG])
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        assert href.startswith("#/jobs/")
    # the chart legend shows them as text too (d3 .text())
    legend = page.locator('[data-chart="failure-rate"] .nv-legend-text').all_text_contents()
    assert any("<script>" in t for t in legend), legend
    # NVD3's tooltip: ours builds it with textContent
    box = page.locator('[data-chart="failure-rate"] .nv-linesWrap').bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(".nvtooltip .key")
    keys = page.locator(".nvtooltip .key").all_inner_texts()
    assert HOSTILE_SCRIPT in keys and HOSTILE_IMG in keys, keys
    assert page.locator(".nvtooltip img, .nvtooltip script").count() == 0
    screenshot(page, "overview-hostile")
    assert page.evaluate("window.__xss") is None
    assert console.errors == []


def test_hostile_job_name_in_the_url(page, api, console):
    page.goto("/#/jobs/" + quote(HOSTILE_IMG, safe=""))
    wait_ready(page)
    assert page.inner_text(".page-title") == HOSTILE_IMG
    assert page.locator("#page img").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.title().startswith(HOSTILE_IMG)
    # the API was asked for exactly that job
    assert any(path == "/api/v1/jobs/" + quote(HOSTILE_IMG, safe="") for path in api.paths())


def test_url_state_round_trip_on_reload(page, api, console):
    hash_ = "#/jobs/tempest-full-py3?period=30d&end=2026-10-01T00:00:00Z&resolution=day&sort=-runs"
    page.goto("/" + hash_)
    wait_ready(page)
    assert page.evaluate("location.hash") == hash_
    assert page.input_value("select[name=period]") == "30d"
    assert page.input_value("select[name=resolution]") == "day"
    assert page.input_value("input[name=end]") == "2026-10-01T00:00"
    # change a control: the URL follows
    page.select_option("select[name=period]", "90d")
    page.wait_for_function("location.hash.includes('period=90d')")
    wait_ready(page)
    after = page.evaluate("location.hash")
    assert after == "#/jobs/tempest-full-py3?period=90d&end=2026-10-01T00:00:00Z&resolution=day&sort=-runs"
    # the API was asked for that window
    job_calls = [q for path, q in api.calls if path == "/api/v1/jobs/tempest-full-py3"]
    assert job_calls[-1]["stop"] == "2026-10-01T00:00:00Z"
    assert job_calls[-1]["resolution"] == "day"
    page.reload()
    wait_ready(page)
    assert page.evaluate("location.hash") == after
    assert page.input_value("select[name=period]") == "90d"
    # sorting a table is in the URL too, without reloading the data
    calls = len(api.calls)
    assert "Runs" in page.text_content("table.data th[aria-sort=descending]")
    page.click("table.data th button >> text=Runs")
    page.wait_for_function("location.hash.includes('sort=runs')")
    assert len(api.calls) == calls
    counts = [int(t.replace(",", "")) for t in page.locator("table.data tbody tr td:nth-child(2)").all_inner_texts()]
    assert counts == sorted(counts)
    page.reload()
    wait_ready(page)
    assert "Runs" in page.text_content("table.data th[aria-sort=ascending]")
    after = page.evaluate("location.hash")
    # back goes to the previous state (sorting replaced its history entry)
    page.go_back()
    page.wait_for_function("location.hash.includes('period=30d')")
    assert "sort=-runs" in page.evaluate("location.hash")
    assert console.errors == []


def test_garbage_url_falls_back_to_defaults(page, api, console):
    page.goto("/#/jobs/%E0%A4%A?period=zzz&resolution=week")
    wait_ready(page)
    assert page.evaluate("location.hash") == "#/"
    assert page.input_value("select[name=period]") == "7d"
    assert page.input_value("select[name=resolution]") == "auto"
    page.goto("/#/tests?offset=-4&limit=999999&q=%00")
    assert wait_ready(page) == "ready"
    assert page.evaluate("location.hash") == "#/tests"
    assert console.errors == []


def test_resolution_is_capped_and_chosen_from_the_period(page, api):
    page.goto("/#/?period=6m&resolution=min&end=2026-10-01T00:00:00Z")
    wait_ready(page)
    timeline = [q for path, q in api.calls if path == "/api/v1/runs/timeline"]
    assert timeline and {q["resolution"] for q in timeline} == {"day"}
    assert "more than 2,000 points" in page.inner_text(".note")
    page.goto("/#/?period=7d&end=2026-10-01T00:00:00Z")
    wait_ready(page)
    timeline = [q for path, q in api.calls if path == "/api/v1/runs/timeline"]
    assert timeline[-1]["resolution"] == "hour"
    assert "Auto (hour)" in page.inner_text("select[name=resolution]")


def test_stale_data_banner(page, api, console):
    api.on(r"/api/v1/status$", {"version": "x", "database": "ok", "newest_run_at": "2020-01-01T00:00:00Z"})
    page.goto("/")
    wait_ready(page)
    page.wait_for_selector("#stale-banner:not([hidden])")
    assert "Data may be stale" in page.inner_text("#stale-banner")
    assert "2020-01-01 00:00 UTC" in page.inner_text("#stale-banner")
    assert "is-stale" in page.get_attribute("#api-status", "class")
    screenshot(page, "overview-stale")


def test_fresh_data_has_no_banner(page, api):
    page.goto("/")
    wait_ready(page)
    page.wait_for_selector(".api-status.is-ok")
    assert page.locator("#stale-banner").is_hidden()


def test_loading_indicator_while_the_api_answers(page, api, console):
    api.hold_all = True
    page.goto("/")
    page.wait_for_selector(".state-loading")
    assert page.locator("#loading-bar").is_visible()
    assert page.eval_on_selector("#page", "el => el.dataset.pageState") == "loading"
    assert set(chart_states(page).values()) == {"loading"}
    screenshot(page, "overview-loading")
    page.wait_for_function("() => true")
    api.release()
    assert wait_ready(page) == "ready"
    assert page.locator("#loading-bar").is_hidden()
    assert page.locator(".state-loading").count() == 0


def test_runs_filters_are_in_the_url(page, api, console):
    page.goto("/#/runs")
    wait_ready(page)
    page.fill("input[name=meta]", "build_name=tempest-full-py3")
    page.press("input[name=meta]", "Enter")
    page.wait_for_function("location.hash.includes('meta=')")
    wait_ready(page)
    page.click(".segmented >> text=Failed")
    page.wait_for_function("location.hash.includes('outcome=failed')")
    wait_ready(page)
    assert page.evaluate("location.hash") == "#/runs?meta=build_name%3Dtempest-full-py3&outcome=failed"
    runs_calls = [q for path, q in api.calls if path == "/api/v1/runs"]
    assert runs_calls[-1]["meta"] == "build_name:tempest-full-py3"
    assert runs_calls[-1]["outcome"] == "failed"
    assert "tempest-full-py3" in page.inner_text(".chips")
    screenshot(page, "runs-filtered")
    assert console.errors == []


def test_search_goes_through_the_url(page, api, console):
    page.goto("/#/tests")
    wait_ready(page)
    page.fill("input[name=q]", "live_migration")
    page.press("input[name=q]", "Enter")
    page.wait_for_function("location.hash === '#/tests?q=live_migration'")
    wait_ready(page)
    assert page.locator("table.data tbody tr").count() == 1
    assert "LiveMigrationTest" in page.inner_text("table.data")
    assert console.errors == []


def test_json_numbers_never_show_nan(page, api):
    page.goto("/")
    wait_ready(page)
    assert "NaN" not in page.inner_text("body")
    assert "undefined" not in page.inner_text("body")
    assert json.dumps(page.evaluate("document.title")) != '""'
