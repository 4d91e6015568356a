"""One function per openstack-health route: run the queries, hand the rows to shaping.

No Flask and no SQL here, as in api/reports.py for v1; each takes an open connection
and the parsed arguments and returns the JSON-ready answer openstack-health gave.
"""
from __future__ import annotations

from ..analytics.jsonsafe import clean
from ..api.errors import bad_request, not_found
from ..queries import common, jobs as jq, runs as rq, tests as tq
from ..rules import STEP
from . import shaping


#: the most runs /runs/group_by reads: openstack-health had no bound; this one is far
#: above what its dashboard asks for (a week at hour resolution)
COMPAT_MAX_ROWS = 500_000


def compat_group_by(conn, key, start, stop, resolution) -> dict:
    if not common.key_exists(conn, key):
        raise bad_request("key", f"unknown run metadata key {key!r}")
    rows = rq.runs_with_meta_time_series(conn, key, start, stop, COMPAT_MAX_ROWS + 1)
    if len(rows) > COMPAT_MAX_ROWS:
        raise bad_request("start_date", f"more than {COMPAT_MAX_ROWS} runs in the window; "
                                        f"narrow start_date/stop_date")
    return {"runs": shaping.runs(rows, resolution)}


def compat_key_value(conn, key, value, start, stop, resolution) -> dict:
    rows = rq.runs_with_value(conn, key, value, start, stop, COMPAT_MAX_ROWS + 1)
    if len(rows) > COMPAT_MAX_ROWS:
        raise bad_request("start_date", f"more than {COMPAT_MAX_ROWS} runs in the window; "
                                        f"narrow start_date/stop_date")
    return shaping.key_value(rows, resolution)


def compat_recent(conn, key, value, count) -> list[dict]:
    runs = rq.recent_runs(conn, [(key, value)], count)
    return [{"id": r["uuid"], "status": "success" if r["outcome"] == "passed" else "fail",
             "start_date": shaping.osh_time(r["run_at"]), "link": r["artifacts"],
             "build_name": r["build_name"]} for r in runs if r["outcome"] != "empty"]


def compat_recent_detail(conn, key, value, count) -> list[dict]:
    """openstack-health's detail variant: every run (empty ones too) with all its columns."""
    runs = rq.recent_runs(conn, [(key, value)], count)
    return clean([{**_compat_run(r), "build_name": r["build_name"]} for r in runs])


def compat_tests_recent(conn, status, count) -> dict:
    """openstack-health's /tests/recent/<status>: the results with that status in the
    newest runs with failures; "bugs" stays empty (no elastic-recheck here)."""
    rows = rq.recent_failed_test_runs(conn, status, count)
    return {"test_runs": [
        {"job_name": job, "link": link,
         "start_time": shaping.osh_time(shaping.at_micro(start, start_us)),
         "stop_time": shaping.osh_time(shaping.at_micro(stop, stop_us)),
         "test_id": test_id, "uuid": uuid}
        for test_id, link, start, start_us, stop, stop_us, uuid, job in rows], "bugs": {}}


#: the most results /build_name/<name>/test_runs reads (openstack-health had no bound):
#: a Tempest job's 1,500 tests x 1,300 runs
COMPAT_MAX_RESULTS = 2_000_000


def compat_job_test_runs(conn, name, start, stop, resolution) -> dict:
    rows = jq.job_test_results(conn, name, start, stop, COMPAT_MAX_RESULTS + 1)
    if len(rows) > COMPAT_MAX_RESULTS:
        raise bad_request("start_date", f"more than {COMPAT_MAX_RESULTS} results in the "
                                        f"window; narrow start_date/stop_date")
    return {"tests": shaping.test_runs_by_bucket(rows, resolution)}


#: the most buckets /test_runs/<test_id> resamples a test's run times into (a series of
#: floats per bucket, several of them: about 40 MB each at this bound): a year at min,
#: 11 days at sec; openstack-health had no bound
COMPAT_MAX_BUCKETS = 1_000_000


def compat_test_runs(conn, test_id, start, stop, resolution) -> dict:
    """openstack-health's /test_runs/<test_id>: every result of the test in the window
    (either bound may be absent), per run, and the runs it failed in."""
    rows = tq.results_in_window(conn, test_id, start, stop, COMPAT_MAX_RESULTS + 1)
    if len(rows) > COMPAT_MAX_RESULTS:
        raise bad_request("start_date", f"more than {COMPAT_MAX_RESULTS} results in the "
                                        f"window; narrow start_date/stop_date")
    successes = [r[2] for r in rows if r[1] == "success" and r[2] is not None]
    if successes and (max(successes) - min(successes)) / STEP[resolution] > COMPAT_MAX_BUCKETS:
        raise bad_request("datetime_resolution",
                          f"the test's successes span more than {COMPAT_MAX_BUCKETS} buckets "
                          f"of {resolution}; narrow start_date/stop_date or take a coarser "
                          f"datetime_resolution")
    failed = tq.runs_with_job_and_provider(conn, [r[0] for r in rows if r[1] == "fail"])
    return shaping.test_history(rows, failed, resolution)


def compat_prefixes(conn, count) -> list[str]:
    return sorted(tq.prefixes(conn, count))


def compat_tests_by_prefix(conn, prefix, limit, offset) -> dict:
    """Also /tests (an empty prefix): every test, paginated."""
    _, tests = tq.search(conn, prefix, "prefix", limit, offset)
    return _compat_tests(tests)


def _compat_tests(tests: list[dict]) -> dict:
    return clean({"tests": [{"id": t["test_id"], "test_id": t["test_id"],
                             "run_count": t["run_count"], "success": t["success"],
                             "failure": t["failure"], "run_time": t["mean_run_time"]}
                            for t in tests]})


def compat_run_tests(conn, run_id, limit, offset) -> dict:
    run = rq.find_run(conn, run_id)
    if run is None:
        raise not_found("run_id", f"no run {run_id!r}")
    _, tests = tq.tests_of_run(conn, run.id, limit, offset)
    return _compat_tests(tests)


def compat_runs(conn, start, stop, limit, offset, meta=()) -> dict:
    """/runs, and /build_name/<name>/runs with meta=[("build_name", name)]."""
    _, runs = rq.list_runs(conn, meta=list(meta), start=start, stop=stop, outcome=None,
                           limit=limit, offset=offset)
    return clean({"runs": [_compat_run(r) for r in runs]})


def _compat_run(r: dict) -> dict:
    return {"id": r["uuid"], "skips": r["skips"], "fails": r["fails"], "passes": r["passes"],
            "run_time": r["run_time"], "artifacts": r["artifacts"], "run_at": r["run_at"]}


def compat_run_test_runs(conn, run_id) -> dict:
    run = rq.run_detail(conn, run_id)
    if run is None:
        raise not_found("run_id", f"no run {run_id!r}")
    return clean({t["test_id"]: {"status": t["status"], "start_time": t["start_time"],
                                 "stop_time": t["stop_time"], "metadata": {}}
                  for t in run["tests"]})


def compat_status(conn) -> dict:
    rq.newest_run_at(conn)
    return {"status": {"availability": {"database": True, "elastic-recheck": "NotInstalled"}}}
