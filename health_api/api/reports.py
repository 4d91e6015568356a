"""One function per endpoint: run the queries, hand the rows to analytics.

No Flask and no SQL here; views call exactly one of these. Each takes an
open connection and parsed arguments and returns JSON-ready data (or None
for "not found").
"""
from __future__ import annotations


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
    # a run's results (1,500 at the gate) are str, str or None, two times and a float or
    # None (queries.runs.duration): only their times need clean, not a walk of every
    # value of every result (issue 16: half of clean(run)'s 19 ms)
    tests = [{"test_id": t["test_id"], "status": t["status"],
              "start_time": clean(t["start_time"]), "stop_time": clean(t["stop_time"]),
              "duration": t["duration"]} for t in run.pop("tests")]
    failed = run.pop("failed_tests")
    return {**clean(run), "tests": tests, "failed_tests": clean(failed)}


def jobs_summary(conn, start, stop) -> dict:
    prev_start = start - (stop - start)
    rows = jq.summary(conn, prev_start, start, stop)
    if jq.p95_in_summary(conn):
        p95 = {r[0]: r[8] for r in rows if r[1] == 1}
    else:
        p95 = dict(series.run_time_p95(jq.run_times(conn, start, stop)))
    jobs = series.job_summary([r[:8] for r in rows], p95)
    return {"start": start, "stop": stop, "previous_start": prev_start,
            "total": clean(series.jobs_total(jobs)), "jobs": jobs}


def job_detail(conn, name, start, stop, resolution, window, recent) -> dict:
    if not jq.job_exists(conn, name):
        raise not_found("name", f"no job {name!r}")
    start, stop = _window(start, stop, resolution)
    rows = jq.counts_over_time(conn, name, buckets.lead_start(start, resolution, window), stop,
                               resolution)
    out = series.job_series(rows, start, stop, resolution, window)
    # the points come out of records() clean already: walking them again was a
    # fifth of the route's CPU (a month at hour: 720 points of 16 values)
    return {**clean({"job": name, "resolution": resolution, "start": start, "stop": stop,
                     "window": window, **out["summary"]}),
            "points": out["points"],
            "recent_runs": clean(jq.recent_runs(conn, name, recent))}


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
    # the points come out of records() clean already (see job_detail)
    return {**clean({"test": tq.test_dict(row), "resolution": resolution, "start": start,
                     "stop": stop, "window": window, "summary": out["summary"]}),
            "points": out["points"],
            **clean({"jobs": per_job,
                     "recent_failures": [_first_lines(f) for f in
                                         tq.recent_failures(conn, row.id, recent)]})}


def _test_series(conn, test_db_id, start, stop, resolution, window) -> dict:
    lead = buckets.lead_start(start, resolution, window)
    if resolution == "day":
        return series.test_series_daily(tq.daily(conn, test_db_id, lead.date(), stop.date()),
                                        start, stop, window)
    # finer than a day: summed per bucket in SQL, as the job page's counts_over_time
    return series.test_series_buckets(tq.bucket_counts(conn, test_db_id, lead, stop, resolution),
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
        current = migrate.served_revision(conn)  # last: see its docstring
    return {"newest_run_at": clean(newest), "replica": replica,
            "schema": {"current": current,
                       "head": migrate.head_revision()}}
