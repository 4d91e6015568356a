"""One function per endpoint: run the queries, hand the rows to analytics.

No Flask and no SQL here; views call exactly one of these. Each takes an
open connection and parsed arguments and returns JSON-ready data (or None
for "not found").
"""
from __future__ import annotations

import datetime as dt

from .. import rules
from ..analytics import buckets, series
from ..analytics.jsonsafe import clean
from ..analytics.rates import rate
from ..queries import common, jobs as jq, runs as rq, tests as tq
from .errors import bad_request, not_found


def check_meta(conn, meta: list[tuple[str, str]]) -> None:
    for k, _ in meta:
        if not common.key_exists(conn, k):
            raise bad_request("meta", f"unknown run metadata key {k!r}")


def _window(start, stop, resolution):
    return buckets.snap(start, stop, resolution)


def runs_over_time(conn, key, start, stop, resolution, meta, max_groups, window=1) -> dict:
    if not common.key_exists(conn, key):
        raise bad_request("key", f"unknown run metadata key {key!r}")
    check_meta(conn, meta)
    start, stop = _window(start, stop, resolution)
    rows = rq.runs_over_time(conn, key, buckets.lead_start(start, resolution, window), stop,
                             resolution, meta)
    out = series.runs_by_value(rows, start, stop, resolution, max_groups, window)
    return {"key": key, "resolution": resolution, "start": start, "stop": stop,
            "meta": [f"{k}:{v}" for k, v in meta], **out}


def runs_list(conn, meta, start, stop, outcome, limit, offset) -> dict:
    check_meta(conn, meta)
    total, runs = rq.list_runs(conn, meta=meta, start=start, stop=stop, outcome=outcome,
                               limit=limit, offset=offset)
    return {"total": total, "limit": limit, "offset": offset, "runs": clean(runs)}


def run_detail(conn, run_id) -> dict:
    run = rq.run_detail(conn, run_id)
    if run is None:
        raise not_found("run_id", f"no run {run_id!r}")
    return clean(run)


def jobs_summary(conn, start, stop) -> dict:
    prev_start = start - (stop - start)
    rows = jq.summary(conn, prev_start, start, stop)
    times = jq.run_times(conn, start, stop)
    jobs = series.job_summary(rows, times)
    return {"start": start, "stop": stop, "previous_start": prev_start,
            "total": clean(series.jobs_total(jobs)), "jobs": jobs}


def job_detail(conn, name, start, stop, resolution, window, recent) -> dict:
    if not jq.job_exists(conn, name):
        raise not_found("name", f"no job {name!r}")
    start, stop = _window(start, stop, resolution)
    rows = jq.counts_over_time(conn, name, buckets.lead_start(start, resolution, window), stop,
                               resolution)
    out = series.job_series(rows, start, stop, resolution, window)
    return clean({"job": name, "resolution": resolution, "start": start, "stop": stop,
                  "window": window, **out["summary"], "points": out["points"],
                  "recent_runs": jq.recent_runs(conn, name, recent)})


def job_tests(conn, name, start, stop, sort, limit, offset) -> dict:
    if not jq.job_exists(conn, name):
        raise not_found("name", f"no job {name!r}")
    start, stop = _window(start, stop, "day")
    total, rows = jq.test_stats(conn, name, start.date(), stop.date(), sort, limit, offset)
    return clean({"job": name, "start": start, "stop": stop, "sort": sort, "total": total,
                  "limit": limit, "offset": offset, "tests": series.test_stat_rows(rows)})


def test_search(conn, q, mode, limit, offset, sort="test_id") -> dict:
    total, tests = tq.search(conn, q or "", mode, limit, offset, sort)
    for t in tests:
        t.update(rate(t["failure"], t["success"]))
    return clean({"q": q, "mode": mode, "sort": sort, "total": total, "limit": limit,
                  "offset": offset, "tests": tests})


def test_detail(conn, test_id, start, stop, resolution, window, recent) -> dict:
    row = tq.find_test(conn, test_id)
    if row is None:
        raise not_found("test_id", f"no test {test_id!r}")
    start, stop = _window(start, stop, resolution)
    out = _test_series(conn, row.id, start, stop, resolution, window)
    day_start, day_stop = buckets.snap(start, stop, "day")
    per_job = series.per_job_rates(tq.per_job(conn, row.id, day_start.date(), day_stop.date()))
    return clean({"test": tq.test_dict(row), "resolution": resolution, "start": start,
                  "stop": stop, "window": window, "summary": out["summary"],
                  "points": out["points"], "jobs": per_job,
                  "recent_failures": [_first_lines(f) for f in
                                      tq.recent_failures(conn, row.id, recent)]})


def _test_series(conn, test_db_id, start, stop, resolution, window) -> dict:
    lead = buckets.lead_start(start, resolution, window)
    if resolution == "day":
        return series.test_series_daily(tq.daily(conn, test_db_id, lead.date(), stop.date()),
                                        start, stop, window)
    return series.test_series_raw(tq.raw_results(conn, test_db_id, lead, stop),
                                  start, stop, resolution, window)


def _first_lines(failure: dict, lines: int = 10) -> dict:
    tb = failure.get("traceback")
    if tb is not None:
        failure["traceback"] = "\n".join(tb.splitlines()[:lines])
    return failure


def recent_failures(conn, limit, meta, start=None, stop=None) -> dict:
    check_meta(conn, meta)
    return {"runs": clean(rq.recent_failed_runs(conn, limit, meta, start=start, stop=stop))}


def metadata_keys(conn) -> dict:
    return {"keys": rq.metadata_keys(conn)}


def metadata_values(conn, key, limit, offset) -> dict:
    if not common.key_exists(conn, key):
        raise bad_request("key", f"unknown run metadata key {key!r}")
    total, values = rq.metadata_values(conn, key, limit, offset)
    return {"key": key, "total": total, "limit": limit, "offset": offset,
            "values": [{"value": v, "runs": n} for v, n in values]}


def failed_runs_feed(conn, key, value, limit) -> list[dict] | None:
    if not common.value_exists(conn, key, value):
        return None
    return rq.recent_failed_runs(conn, limit, [(key, value)])


def status(engine) -> dict:
    from ..db import migrate
    from ..queries.replica import replica_state
    with engine.connect() as conn:
        newest = rq.newest_run_at(conn)
        replica = replica_state(conn)
    return {"newest_run_at": clean(newest), "replica": replica,
            "schema": {"current": migrate.current_revision(engine),
                       "head": migrate.head_revision()}}


# -- openstack-health compatibility ----------------------------------------------------

COMPAT_MAX_ROWS = 20_000


def compat_group_by(conn, key, start, stop, resolution) -> dict:
    if not common.key_exists(conn, key):
        raise bad_request("key", f"unknown run metadata key {key!r}")
    rows = rq.runs_with_meta_time_series(conn, key, start, stop, COMPAT_MAX_ROWS + 1)
    if len(rows) > COMPAT_MAX_ROWS:
        raise bad_request("start_date", f"more than {COMPAT_MAX_ROWS} runs in the window; "
                                        f"narrow start_date/stop_date")
    return {"runs": series.compat_runs(rows, start, stop, resolution)}


def compat_key_value(conn, key, value, start, stop, resolution) -> dict:
    meta = [(key, value)]
    rows = rq.runs_over_time(conn, rules.BUILD_NAME_KEY, start, stop, resolution, meta)
    return series.compat_key_value(rows, start, stop, resolution)


def compat_recent(conn, key, value, count) -> list[dict]:
    runs = rq.recent_runs(conn, [(key, value)], count)
    return clean([{"id": r["uuid"], "status": "success" if r["outcome"] == "passed" else "fail",
                   "start_date": r["run_at"], "link": r["artifacts"],
                   "build_name": r["build_name"]} for r in runs if r["outcome"] != "empty"])


def compat_recent_detail(conn, key, value, count) -> list[dict]:
    """openstack-health's detail variant: every run (empty ones too) with all its columns."""
    runs = rq.recent_runs(conn, [(key, value)], count)
    return clean([{**_compat_run(r), "build_name": r["build_name"]} for r in runs])


def compat_tests_recent(conn, status, count) -> dict:
    runs = rq.recent_failed_runs(conn, count, with_tests=True)
    out = []
    for run in runs:
        for t in run["failed_tests"]:
            if t["status"] == status:
                out.append({"test_id": t["test_id"], "run_id": run["uuid"], "status": t["status"],
                            "start_time": t["start_time"], "stop_time": t["stop_time"],
                            "job_name": run["build_name"]})
    return clean({"test_runs": out, "bugs": {}})


def compat_job_test_runs(conn, name, start, stop, resolution, limit, offset) -> dict:
    """day reads the ch_test_daily rollup (a result under its run's day); sec/min/hour
    aggregate raw results in SQL under their start time, as openstack-health did.
    Only a page of the job's tests (in tests.id order) is answered."""
    start, stop = buckets.snap(start, stop, resolution)
    last_day = (stop - dt.timedelta(microseconds=1)).date()
    # Rollups file a result under its run's day, which for a raw result that
    # started just after midnight can be the day before.
    first_day = start.date() if resolution == "day" else (start - dt.timedelta(days=1)).date()
    page = jq.job_test_page(conn, name, first_day, last_day, limit, offset)
    if not page:
        rows = []
    elif resolution == "day":
        rows = jq.test_daily_rows(conn, name, start.date(), stop.date(), page)
    else:
        rows = [(dt.datetime.fromisoformat(str(b)), *counts) for b, *counts
                in jq.test_bucket_rows(conn, name, start, stop, resolution, page)]
    return {"tests": series.compat_test_daily(rows)}


def compat_test_runs(conn, test_id, start, stop, resolution) -> dict:
    row = tq.find_test(conn, test_id)
    if row is None:
        return {"numeric": {}, "data": {}, "failed_runs": []}
    start, stop = buckets.snap(start, stop, resolution)
    points = _test_series(conn, row.id, start, stop, resolution, 7)["points"]
    failures = tq.recent_failures(conn, row.id, 100, traceback_bytes=0)
    return clean(series.compat_test_points(points, failures))


def compat_prefixes(conn, count) -> list[str]:
    return tq.prefixes(conn, count)


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
