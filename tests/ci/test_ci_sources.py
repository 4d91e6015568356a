"""Every verdict source counts as a CI system's reports: a Gerrit comment, a
Zuul run (one attempt of its builds), a verify-status report, in the
scoreboard, a system's page, its series and unstable jobs; on every engine."""
from __future__ import annotations

import datetime as dt

from health_api.app import create_app
from health_api.verdicts import Verdict, VerdictWriter

from ci_helpers import ci_config

T0 = dt.datetime(2026, 11, 3, 9, 0)
WINDOW = {"start": "2026-11-01T00:00:00Z", "stop": "2026-11-05T00:00:00Z"}


def _v(system, source, key, change, job, result, minutes, ps=1):
    return Verdict(ci_system=system, change=change, patch_set=ps, job=job, result=result,
                   posted_at=T0 + dt.timedelta(minutes=minutes), source=source,
                   result_key=f"{source}:{key}", pipeline="check", duration=120,
                   project="openstack/nova", branch="master")


def _get(client, path, **params):
    response = client.get(path, query_string={**WINDOW, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_zuul_and_verify_status_reports_count(engine, db_url):
    with engine.begin() as conn:
        VerdictWriter().write(conn, [
            # zuul-ci: change 1 passes; change 2 fails, is rechecked, passes
            _v("zuul-ci", "zuul", "a", 1, "unit", "SUCCESS", 10),
            _v("zuul-ci", "zuul", "b", 1, "pep8", "SUCCESS", 12),
            _v("zuul-ci", "zuul", "c", 2, "unit", "FAILURE", 20),
            _v("zuul-ci", "zuul", "d", 2, "pep8", "SUCCESS", 21),
            _v("zuul-ci", "zuul", "e", 2, "unit", "SUCCESS", 90),
            # acme-ci on verify-status: one report of two jobs, one failing
            _v("acme-ci", "verify-status", "f", 1, "tempest", "FAILURE", 30),
            _v("acme-ci", "verify-status", "g", 1, "docs", "SUCCESS", 30),
        ])
    client = create_app(db_url, ci_config()).test_client()
    board = {r["system"]: r for r in _get(client, "/api/v1/ci/scoreboard")["systems"]}
    # zuul-ci: change 1 run 1 (SUCCESS), change 2 run 1 (FAILURE), change 2 run 2 (SUCCESS)
    zuul = board["zuul-ci"]
    assert (zuul["reports"], zuul["success"], zuul["n"], zuul["unparsed"]) == (3, 2, 3, 0)
    assert zuul["last_success"].startswith("2026-11-03T10:30")
    assert zuul["report_delay_median"] is None  # no upload time known for these patch sets
    jobs = {j["job"]: j for j in zuul["jobs"]}
    assert (jobs["unit"]["results"], jobs["unit"]["recheck_flips"],
            jobs["unit"]["patch_sets"]) == (3, 1, 2)
    acme = board["acme-ci"]
    assert (acme["reports"], acme["success"], acme["n"]) == (1, 0, 1)
    # silent: nothing for more than 24 hours before the window's end
    assert acme["status"] == "silent" and acme["last_seen"].startswith("2026-11-03T09:30")
    detail = _get(client, "/api/v1/ci/systems/zuul-ci")
    assert detail["reports"] == 3
    assert sum(p["reports"] for p in detail["points"]) == 3
    series = _get(client, "/api/v1/ci/scoreboard/series", resolution="hour", system="acme-ci")
    assert [p["reports"] for p in series["series"][0]["points"] if p["reports"]] == [1]
    # a window ending inside the day: the partial day is read from the raw rows
    part = _get(client, "/api/v1/ci/scoreboard", start="2026-11-01T00:00:00Z",
                stop="2026-11-03T10:00:00Z")
    assert {r["system"]: r["reports"] for r in part["systems"]
            if r["system"] in ("zuul-ci", "acme-ci")} == {"zuul-ci": 2, "acme-ci": 1}
