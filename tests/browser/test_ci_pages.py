"""The CI pages against the real API (`ci-health serve` on demo data with the
demo's ci-systems.yaml, plus a CI system whose names are markup).

Expectations are the API's own JSON, fetched again from the URLs the page
asked for.
"""
from __future__ import annotations

import pytest

from .conftest import HOSTILE_CI, HOSTILE_CI_JOB, HOSTILE_CI_NAME, HOSTILE_CI_PROJECT, screenshot, wait_ready
from .test_pages import all_charts_drawn, api_json, chart, goto, no_errors, panel

pytestmark = pytest.mark.browser

LETTERS = {"SUCCESS": "S", "FAILURE": "F", "POST_FAILURE": "I", "TIMED_OUT": "I",
           "NODE_FAILURE": "I", "RETRY_LIMIT": "I"}


def test_scoreboard(page, console, requests, live_server):
    page.goto("/#/ci")
    assert wait_ready(page) == "ready"
    board = api_json(live_server, requests, r"/api/v1/ci/scoreboard$")["systems"]
    links = page.locator(f"{panel('Scoreboard')} a.ci-system-link")
    # default sort: by CI system name
    assert [links.nth(i).get_attribute("title") for i in range(links.count())] == \
        sorted(s["system"] for s in board)
    statuses = {s["system"]: s["status"] for s in board}
    assert statuses["oldvendor-ci"] == "never_seen"
    row = page.locator(f"{panel('Scoreboard')} tr", has=page.locator('a[title="oldvendor-ci"]'))
    assert "Never seen" in row.inner_text()  # the status is a word, not only a colour
    assert "Zuul" in page.inner_text(f"{panel('Upstream CI')}")
    jobs = api_json(live_server, requests, r"/api/v1/ci/jobs$")["jobs"]
    assert page.locator(f"{panel('Unstable CI jobs')} tbody tr").count() == len(jobs)
    # the nav entry is no longer "soon"
    assert page.locator("#nav .soon").count() == 0
    screenshot(page, "ci-scoreboard")
    no_errors(console)


def test_ci_system_page(page, console, requests, live_server):
    page.goto("/#/ci/systems/cisco-ci")
    assert wait_ready(page) == "ready"
    all_charts_drawn(page)
    detail = api_json(live_server, requests, r"/api/v1/ci/systems/cisco-ci$")
    assert chart(page, "ci-success-rate")["paths"] == 1
    assert chart(page, "ci-report-count")["bars"] == 2
    assert page.locator(f"{panel('Jobs')} tbody tr").count() == len(detail["jobs"])
    missed = detail["missed_patch_sets"]
    if missed:
        assert page.locator(f"{panel('Missed patch sets')} tbody tr").count() == len(missed)
        first = missed[0]
        assert f"{first['change']},{first['patch_set']}" in page.inner_text(panel("Missed patch sets"))
    assert detail["display_name"] in page.inner_text(".page-title")
    screenshot(page, "ci-system")
    no_errors(console)


def test_project_grid_reads_without_colour(page, console, requests, live_server):
    page.goto("/#/ci/projects/openstack%2Fcinder")
    assert wait_ready(page) == "ready"
    grid = api_json(live_server, requests, r"/api/v1/ci/grid$")
    cells = [c for r in grid["rows"] for c in r["cells"] if c]
    assert cells
    shown = page.locator("table.ci-grid .ci-cell")
    assert shown.count() == len(cells)
    texts = shown.all_inner_texts()
    results = [shown.nth(i).get_attribute("data-result") for i in range(shown.count())]
    for text, result in zip(texts, results):
        assert LETTERS.get(result, "") in text, (text, result)
    assert page.locator("table.ci-grid thead th.ci-col").count() == len(grid["columns"])
    # filter by CI system: in the URL, and only its rows
    mark = page.eval_on_selector("#page", "m => m.dataset.pageReady")
    page.select_option('.ci-filters select[name="system"]', "ceph-ci")
    assert wait_ready(page, after=mark) == "ready"
    assert "system=ceph-ci" in page.url
    systems = page.locator("table.ci-grid tbody .ci-row-system").all_inner_texts()
    assert systems and set(systems) == {"ceph-ci"}
    screenshot(page, "ci-grid")
    no_errors(console)


def test_who_has_ci(page, console, requests, live_server):
    page.goto("/#/ci/projects")
    assert wait_ready(page) == "ready"
    body = api_json(live_server, requests, r"/api/v1/ci/projects$")
    assert page.locator(".ci-without li").all_inner_texts() == body["without_ci"]
    rows = sum(max(1, len(p["systems"]) + len(p["upstream"])) for p in body["projects"])
    assert page.locator("table.ci-who tbody tr").count() == rows
    screenshot(page, "ci-who-has-ci")
    no_errors(console)


def test_hostile_ci_names_render_as_text(page, console, live_server):
    assert goto(page, "#/ci") == "ready"
    assert HOSTILE_CI_NAME in page.inner_text(panel("Scoreboard"))
    assert goto(page, f"#/ci/systems/{HOSTILE_CI}") == "ready"
    assert HOSTILE_CI_NAME in page.inner_text(".page-title")
    assert HOSTILE_CI_JOB in page.inner_text(panel("Jobs"))
    assert goto(page, "#/ci/projects/" + HOSTILE_CI_PROJECT.replace("/", "%2F")) == "ready"
    assert HOSTILE_CI_JOB in page.inner_text("table.ci-grid")
    assert page.locator("#page img, #page script, #page b, #page i").count() == 0
    no_errors(console)
