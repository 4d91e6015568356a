"""The /api/v1/ci/ endpoints against the demo's planted truth, on every engine.

Expectations come from ``GerritTruth`` (what the generator planted: every
patch set, which CI reported on which, the recheck flips, the success
rates) or from plain selects, never from the code under test.
"""
from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa

from health_api.db import models as m
from health_api.db.session import make_engine
from health_api.demo.gerrit import FLAKY, THIRD_PARTY, ci_systems_yaml

from ci_helpers import AS_OF, DEMO_CI_SYSTEMS, WINDOW

Z95 = 1.959963984540054


def get(client, path, **params):
    response = client.get(path, query_string={**WINDOW, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def naive(iso: str | None) -> dt.datetime | None:
    """A truth time as the store keeps it: naive UTC, whole seconds (events carry seconds)."""
    if iso is None:
        return None
    return dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc).replace(
        tzinfo=None, microsecond=0)


def expected_eligible(truth, projects) -> list[tuple[int, int]]:
    """DESIGN.md section 4: uploaded on a declared project, current for an hour before AS_OF."""
    out = []
    for change, ps, project, created, ended in truth.patch_set_list:
        created, ended = naive(created), naive(ended)
        end = min(ended, AS_OF) if ended else AS_OF
        if project in projects and end - created >= dt.timedelta(hours=1):
            out.append((change, ps))
    return out


def test_demo_ci_systems_file_matches_the_generator():
    assert DEMO_CI_SYSTEMS.read_text(encoding="utf-8") == ci_systems_yaml()


def test_planted_silent_cis_are_silent(ci_client, truth):
    board = {r["system"]: r for r in get(ci_client, "/api/v1/ci/scoreboard")["systems"]}
    assert truth.silent_cis
    for name in truth.silent_cis:
        row = board[name]
        assert (row["status"], row["silent"], row["reports"], row["n"]) == \
            ("never_seen", True, 0, 0)
        coverage = get(ci_client, f"/api/v1/ci/systems/{name}/coverage")
        assert coverage["covered"] == 0 and coverage["eligible"] > 0
    # every CI that reported is "reporting" at the end of the history
    for name in truth.reported:
        assert board[name]["status"] == "reporting", name


def test_planted_success_rates_within_interval(ci_client, ci_url, truth):
    board = {r["system"]: r for r in get(ci_client, "/api/v1/ci/scoreboard")["systems"]}
    engine = make_engine(ci_url)
    with engine.connect() as conn:
        counts = dict(conn.execute(
            sa.select(m.ci_systems.c.username, sa.func.count())
            .join(m.ci_comments, m.ci_comments.c.ci_system_id == m.ci_systems.c.id)
            .group_by(m.ci_systems.c.username)).all())
    engine.dispose()
    checked = 0
    for name, _display, _projects, _jobs, rate in THIRD_PARTY:
        row = board[name]
        assert row["reports"] == counts[name]
        if name in FLAKY or row["n"] < 20:
            continue
        # the 99.9% Wilson interval: 20 CIs at 95% would put one outside by chance
        low, high = _wilson(row["success"], row["n"], 3.2905)
        assert low <= rate <= high, (name, rate, row["success"], row["n"])
        assert row["ci_low"] <= row["success_rate"] <= row["ci_high"]
        checked += 1
    assert checked >= 10


def _wilson(k, n, z):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("name", ["acme-storage-ci", "cisco-ci", "ceph-ci", "zuul"])
def test_planted_missed_patch_sets_are_listed(ci_client, truth, name):
    planted = next(c for c in truth.ci_systems if c["username"] == name)
    eligible = expected_eligible(truth, set(planted["projects"]))
    reported = {tuple(p) for p in truth.reported.get(name, [])}
    missed = {p for p in eligible if p not in reported}
    body = get(ci_client, f"/api/v1/ci/systems/{name}/coverage", show="missed", limit=500)
    assert body["eligible"] == len(eligible)
    assert body["covered"] == len(eligible) - len(missed)
    assert {(p["change"], p["patch_set"]) for p in body["patch_sets"]} == missed
    assert body["total"] == len(missed) and body["missed"] == len(missed)
    times = [p["created_on"] for p in body["patch_sets"]]
    assert times == sorted(times, reverse=True)
    assert body["ci_low"] <= body["coverage"] <= body["ci_high"]
    # paging: the pages together are the whole list, in order
    everything = get(ci_client, f"/api/v1/ci/systems/{name}/coverage", limit=500)["patch_sets"]
    page = get(ci_client, f"/api/v1/ci/systems/{name}/coverage", limit=5, offset=5)
    assert page["patch_sets"] == everything[5:10]


def test_planted_recheck_flips_are_counted(ci_client, truth):
    body = get(ci_client, "/api/v1/ci/jobs", limit=500)
    served = {(r["system"], r["job"]): r["recheck_flips"] for r in body["jobs"]}
    planted = {(ci, job): n for ci, jobs in truth.recheck_flips.items() for job, n in jobs.items()}
    assert planted and sum(planted.values()) > 10
    assert {k: v for k, v in served.items() if v} == planted
    # the flaky CIs rank first
    assert body["jobs"][0]["system"] in FLAKY
    for row in body["jobs"]:
        assert row["success"] + row["failure"] + row["infra"] + row["neutral"] == row["results"]
        assert sum(row["counts"].values()) == row["results"]
        infra = sum(v for k, v in row["counts"].items()
                    if k in ("NODE_FAILURE", "RETRY_LIMIT", "POST_FAILURE", "TIMED_OUT"))
        assert row["infra"] == infra and row["failure"] == row["counts"].get("FAILURE", 0)


def test_agreement_from_raw_verdicts(ci_client, ci_url):
    engine = make_engine(ci_url)
    c = m.ci_comments.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(m.ci_systems.c.username, c.patch_set_id, c.posted_at, c.id,
                                      c.overall)
                            .join(m.ci_systems, m.ci_systems.c.id == c.ci_system_id)
                            .where(c.overall.is_not(None))).all()
    engine.dispose()
    latest = {}
    for name, ps, _at, _id, overall in sorted(rows, key=lambda r: (r[2], r[3])):
        latest[name, ps] = overall == "SUCCESS"
    body = get(ci_client, "/api/v1/ci/agreement")
    assert body["upstream"] == ["zuul"]
    served = {r["system"]: r for r in body["systems"]}
    for name in ("cisco-ci", "ceph-ci", "netapp-ci"):
        both = [(ok, latest["zuul", ps]) for (n, ps), ok in latest.items()
                if n == name and ("zuul", ps) in latest]
        row = served[name]
        assert row["both_voted"] == len(both)
        assert row["agree"] == sum(a == b for a, b in both)
        assert row["ci_failed_upstream_passed"] == sum((not a) and b for a, b in both)
        assert row["ci_passed_upstream_failed"] == sum(a and not b for a, b in both)


def test_grid_cells_are_current_results(ci_client, ci_url):
    body = get(ci_client, "/api/v1/ci/grid", project="openstack/cinder", columns=6)
    assert len(body["columns"]) == 6 and body["pipelines"] == ["check"]
    engine = make_engine(ci_url)
    j, ps, ch = m.ci_job_results.c, m.patch_sets.c, m.changes.c
    with engine.connect() as conn:
        raw = conn.execute(sa.select(m.ci_systems.c.username, j.job, ch.number, ps.number,
                                     j.attempt, j.result, j.url)
                           .join(m.patch_sets, ps.id == j.patch_set_id)
                           .join(m.changes, ch.id == ps.change_id)
                           .join(m.ci_systems, m.ci_systems.c.id == j.ci_system_id)
                           .where(ps.project == "openstack/cinder")).all()
        newest = conn.execute(sa.select(ch.number, ps.number).join(m.changes, ch.id == ps.change_id)
                              .where(ps.project == "openstack/cinder")
                              .order_by(ps.created_on.desc()).limit(6)).all()
    engine.dispose()
    assert [(c["change"], c["patch_set"]) for c in body["columns"]] == [tuple(r) for r in newest]
    expected = {}
    for system, job, change, number, attempt, result, url in raw:
        key = (system, job, change, number)
        attempts, best = expected.get(key, (0, (0, None, None)))
        expected[key] = (attempts + 1, max(best, (attempt, result, url)))
    cells = 0
    for row in body["rows"]:
        for column, cell in zip(body["columns"], row["cells"]):
            key = (row["system"], row["job"], column["change"], column["patch_set"])
            if cell is None:
                assert key not in expected
                continue
            attempts, (_attempt, result, url) = expected[key]
            assert (cell["result"], cell["url"], cell["attempts"]) == (result, url, attempts)
            cells += 1
    assert cells > 10
    # the filters narrow the rows
    only = get(ci_client, "/api/v1/ci/grid", project="openstack/cinder", system="ceph-ci")
    assert {r["system"] for r in only["rows"]} == {"ceph-ci"}


def test_who_has_ci(ci_client, truth):
    body = ci_client.get("/api/v1/ci/projects", query_string={"stop": WINDOW["stop"]}).get_json()
    projects = {p["project"]: p for p in body["projects"]}
    # tempest has no third-party CI in the demo; every other project has some
    assert body["without_ci"] == ["openstack/tempest"]
    cinder = {s["system"]: s for s in projects["openstack/cinder"]["systems"]}
    assert cinder["oldvendor-ci"]["status"] == "never_seen"
    assert cinder["oldvendor-ci"]["covered"] == 0 and cinder["oldvendor-ci"]["eligible"] > 0
    assert cinder["oldvendor-ci"]["declared"] and not cinder["oldvendor-ci"]["discovered"]
    assert cinder["acme-storage-ci"]["discovered"]
    # every system row carries the documented missed count (it had none: schemathesis, issue 16)
    for row in projects.values():
        for system in row["systems"] + row["upstream"]:
            assert system["missed"] == system["eligible"] - system["covered"]
    assert [u["system"] for u in projects["openstack/nova"]["upstream"]] == ["zuul"]
    planted = {p: sorted(c["username"] for c in truth.ci_systems
                         if p in c["projects"] and c["username"] != "zuul")
               for p in projects}
    for project, row in projects.items():
        names = sorted(s["system"] for s in row["systems"] if s["status"] != "never_seen")
        assert names == planted[project], project


def test_system_page_and_series(ci_client, truth):
    body = get(ci_client, "/api/v1/ci/systems/cisco-ci", resolution="hour")
    assert body["system"] == "cisco-ci" and body["display_name"] == "Cisco CI"
    assert sum(p["reports"] for p in body["points"]) == body["reports"]
    assert len(body["points"]) == len(body["buckets"])
    assert {j["job"] for j in body["jobs"]} == {"cisco-aci", "cisco-nexus"}
    assert body["coverage"]["missed"] == len(body["missed_patch_sets"])
    series = get(ci_client, "/api/v1/ci/scoreboard/series")
    board = {r["system"]: r["reports"] for r in get(ci_client, "/api/v1/ci/scoreboard")["systems"]}
    assert {s["system"]: s["reports"] for s in series["series"]} == \
        {k: v for k, v in board.items() if v}
    upstream = get(ci_client, "/api/v1/ci/upstream")
    assert [s["system"] for s in upstream["systems"]] == ["zuul"]
    assert upstream["systems"][0]["reports"] == board["zuul"]


@pytest.mark.parametrize("path, params, status, field", [
    ("/api/v1/ci/systems/no-such-ci", {}, 404, "name"),
    ("/api/v1/ci/systems/no-such-ci/coverage", {}, 404, "name"),
    ("/api/v1/ci/scoreboard", {"project": "no/such"}, 404, "project"),
    ("/api/v1/ci/grid", {"project": "no/such"}, 404, "project"),
    ("/api/v1/ci/jobs", {"job": "no-such-job"}, 404, "job"),
    ("/api/v1/ci/jobs", {"system": "no-such-ci"}, 404, "system"),
    ("/api/v1/ci/grid", {}, 400, "project"),
    ("/api/v1/ci/scoreboard/series", {"resolution": "min"}, 400, "resolution"),
    ("/api/v1/ci/scoreboard/series", {"resolution": "hour", "start": "2026-01-01"}, 400,
     "resolution"),
    ("/api/v1/ci/systems/zuul/coverage", {"offset": "-1"}, 400, "offset"),
    ("/api/v1/ci/systems/zuul/coverage", {"limit": "x"}, 400, "limit"),
    ("/api/v1/ci/scoreboard", {"start": "2026-10-05", "stop": "2026-10-01"}, 400, "stop"),
    ("/api/v1/ci/scoreboard", {"start": "yesterday"}, 400, "start"),
])
def test_bad_input(ci_client, path, params, status, field):
    response = ci_client.get(path, query_string=params)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field


def test_empty_database_answers_every_ci_endpoint(db_url):
    """No CI verdict yet (a fresh install), the demo's declarations loaded: every
    endpoint answers 200 with zeros, never a 500."""
    from health_api.app import create_app
    from ci_helpers import ci_config

    client = create_app(db_url=db_url, config=ci_config()).test_client()
    for path in ("scoreboard", "scoreboard/series", "jobs", "agreement", "projects", "upstream"):
        response = client.get(f"/api/v1/ci/{path}")
        assert response.status_code == 200, (path, response.get_data(as_text=True))
    board = client.get("/api/v1/ci/scoreboard").get_json()["systems"]
    assert board == []  # declared systems appear once the collector has stored them
    who = client.get("/api/v1/ci/projects").get_json()
    # the projects named in ci-systems.yaml, each with its declared (never seen) CIs
    declared = {p for _n, _d, projects, *_ in THIRD_PARTY for p in projects}
    assert {p["project"] for p in who["projects"]} == declared and who["without_ci"] == []
    cinder = next(p for p in who["projects"] if p["project"] == "openstack/cinder")
    assert {s["status"] for s in cinder["systems"]} == {"never_seen"}
