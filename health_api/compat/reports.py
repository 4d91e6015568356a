"""One function per openstack-health route: run the queries, hand the rows to shaping.

No Flask and no SQL here, as in api/reports.py for v1; each takes an open connection
and the parsed arguments and returns the JSON-ready answer openstack-health gave.
"""
from __future__ import annotations

from ..api.errors import bad_request, not_found
from ..queries import common, jobs as jq, osh as oq, runs as rq, tests as tq
from . import day_buckets, shaping


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
    """openstack-health's detail variant: every run (empty ones too) as Run.to_dict(),
    with its build_name when it has one."""
    out = []
    for row, build_name in oq.recent_runs_by_key_value(conn, key, value, count):
        run = shaping.run_row(row)
        if build_name is not None:
            run["build_name"] = build_name
        out.append(run)
    return out


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
    """Counted in SQL per bucket and test (one row each, not one per result): at day
    from the ch_osh_test_daily rollup (compat.day_buckets), else from the results."""
    rows = None
    if resolution in day_buckets.RESOLUTIONS:
        rows = day_buckets.job_buckets(conn, name, start, stop, resolution)
    if rows is None:
        rows = jq.job_test_buckets(conn, name, start, stop, resolution, shaping.OSH_PASS,
                                   shaping.OSH_FAIL, COMPAT_MAX_RESULTS + 1)
    if len(rows) > COMPAT_MAX_RESULTS:
        raise bad_request("start_date", f"more than {COMPAT_MAX_RESULTS} tests x buckets in "
                                        f"the window; narrow start_date/stop_date")
    return {"tests": shaping.test_buckets(rows, resolution)}


#: the most buckets /test_runs/<test_id> computes a test's run-time series over: those
#: holding a success and up to 40 empty ones after each (the ones that can hold a value,
#: analytics.sparse_resample), whatever the span between them, so years at sec resolution
#: cost what their successes cost; five float64 series of this length are ~200 MB, about
#: a second of CPU. openstack-health had no bound (it resampled the whole span)
COMPAT_MAX_BUCKETS = 5_000_000


def compat_test_runs(conn, test_id, start, stop, resolution) -> dict:
    """openstack-health's /test_runs/<test_id>: every result of the test in the window
    (either bound may be absent), per run, and the runs it failed in."""
    rows = tq.results_in_window(conn, test_id, start, stop, COMPAT_MAX_RESULTS + 1)
    if len(rows) > COMPAT_MAX_RESULTS:
        raise bad_request("start_date", f"more than {COMPAT_MAX_RESULTS} results in the "
                                        f"window; narrow start_date/stop_date")
    successes = [r[2] for r in rows if r[1] == "success" and r[2] is not None]
    if shaping.history_bucket_count(successes, resolution) > COMPAT_MAX_BUCKETS:
        raise bad_request("datetime_resolution",
                          f"the test's successes need more than {COMPAT_MAX_BUCKETS} buckets "
                          f"of {resolution}; narrow start_date/stop_date or take a coarser "
                          f"datetime_resolution")
    failed = tq.runs_with_job_and_provider(conn, [r[0] for r in rows if r[1] == "fail"])
    return shaping.test_history(rows, failed, resolution)


def compat_prefixes(conn, count) -> list[str]:
    return sorted(tq.prefixes(conn, count))


def compat_tests_by_prefix(conn, prefix, limit, offset) -> dict:
    return {"tests": [shaping.test_row(t) for t in oq.tests_by_prefix(conn, prefix, limit,
                                                                      offset)]}


#: the most rows /tests, /runs, /build_name/<name>/runs and /run/<id>/tests answer
#: (openstack-health: no bound; each is one row per test or run, about 200 bytes):
#: far above a year of a large gate's runs
COMPAT_MAX_LIST = 1_000_000


def _all_of(rows: list, what: str, field: str) -> list:
    if len(rows) > COMPAT_MAX_LIST:
        raise bad_request(field, f"more than {COMPAT_MAX_LIST} {what}; narrow "
                                 f"start_date/stop_date")
    return rows


def compat_tests(conn) -> dict:
    """Every test (openstack-health's get_all_tests), in tests.id order."""
    rows = _all_of(oq.all_tests(conn, COMPAT_MAX_LIST + 1), "tests", "limit")
    return {"tests": [shaping.test_row(t) for t in rows]}


def compat_run_tests(conn, run_id) -> dict:
    run = rq.find_run(conn, run_id)
    if run is None:
        raise not_found("run_id", f"no run {run_id!r}")
    rows = _all_of(oq.tests_of_run(conn, run.id, COMPAT_MAX_LIST + 1), "tests", "run_id")
    return {"tests": [shaping.test_row(t) for t in rows]}


def compat_runs(conn, start, stop) -> dict:
    """/runs: every run in [start, stop] (either may be absent), in runs.id order."""
    rows = _all_of(oq.runs_by_date(conn, start, stop, COMPAT_MAX_LIST + 1), "runs",
                   "start_date")
    return {"runs": [shaping.run_row(r) for r in rows]}


def compat_job_runs(conn, name) -> dict:
    """/build_name/<name>/runs: every run of the job (openstack-health took no window)."""
    rows = _all_of(oq.runs_by_key_value(conn, "build_name", name, COMPAT_MAX_LIST + 1),
                   "runs", "build_name")
    return {"runs": [shaping.run_row(r) for r in rows]}


def compat_run_test_runs(conn, run_id) -> dict:
    """The run's results by test id (the run by its uuid, or its integer id)."""
    run = rq.find_run(conn, run_id)
    if run is None:
        raise not_found("run_id", f"no run {run_id!r}")
    return shaping.run_results(oq.results_of_run(conn, run.id))


def compat_status(conn) -> dict:
    rq.newest_run_at(conn)
    return {"status": {"availability": {"database": True, "elastic-recheck": "NotInstalled"}}}
