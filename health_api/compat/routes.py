"""openstack-health's route set with its JSON shapes, minus its faults: valid JSON
(null, never NaN), cache keys with every parameter, bounded result sets."""
from __future__ import annotations

from flask import Blueprint

from ..rules import RESOLUTIONS
from ..api import reports as v1_reports
from ..api.db import connection
from ..api.errors import bad_request, not_found
from ..api.feeds import rss
from ..api.spec import BOOL, INT, NNUM, NSTR, NTIME, STR, Param, arr, limit, nullable, obj
from ..api.spec import endpoint as _endpoint
from . import jsonp, reports

bp = Blueprint("compat", __name__)
bp.after_request(jsonp.wrap_error)


def endpoint(bp, rule, **kwargs):
    """Every JSON route here answers JSONP too, as openstack-health's client calls them all
    with $http.jsonp (callback=angular.callbacks._N)."""
    kwargs.setdefault("jsonp", kwargs.get("media_type", "application/json") == "application/json")
    return _endpoint(bp, rule, **kwargs)


TAG = "openstack-health"
START = Param("start_date", "datetime", description="window start, ISO 8601")
STOP = Param("stop_date", "datetime", description="window end, ISO 8601")


def resolution(default: str) -> Param:
    return Param("datetime_resolution", "enum", enum=RESOLUTIONS,
                 default=default)


NUM_RUNS = Param("num_runs", "integer", default=10, minimum=1, maximum=100)
ANY = {}
NINT = nullable("integer")


def _open_window(a):
    """start_date/stop_date as given, either may be absent (openstack-health read every
    run then); only a reversed window is refused."""
    start, stop = a.get("start_date"), a.get("stop_date")
    if start is not None and stop is not None and start >= stop:
        raise bad_request("stop_date", "stop_date must be later than start_date")
    return start, stop


@endpoint(bp, "/status", tag=TAG, summary="openstack-health status", params=[], cache=False,
          errors=(503,),
          response=obj({"status": obj({"availability": obj({"database": BOOL,
                                                             "elastic-recheck": STR})})}))
def compat_status(a):
    with connection() as conn:
        return reports.compat_status(conn)


@endpoint(bp, "/runs/metadata/keys", tag=TAG, summary="run metadata keys", params=[],
          response=arr(STR))
def compat_metadata_keys(a):
    with connection() as conn:
        return v1_reports.metadata_keys(conn)["keys"]


RUN_ITEM = obj({"pass": INT, "fail": INT, "skip": INT, "run_time": NNUM})
GROUP_RUN = obj({"pass": INT, "fail": INT, "skip": INT})
#: a runs row as openstack-health's Run.to_dict() gave it (run_at RFC 1123)
COMPAT_RUN = obj({"id": INT, "uuid": NSTR, "skips": NINT, "fails": NINT, "passes": NINT,
                  "run_time": NNUM, "artifacts": NSTR, "run_at": NSTR})


@endpoint(bp, "/runs/group_by/<string:key>", tag=TAG, summary="runs per bucket and value",
          params=[Param("key", where="path", max_length=255), START, STOP, resolution("sec")],
          description="Buckets from the first to the last run in the window, the empty ones as "
                      "[] (openstack-health's padding); keys as it wrote them (a date at day). "
                      "Without start_date/stop_date every run is read, as openstack-health "
                      "did; at most 500,000 runs (400 beyond).",
          response=obj({"runs": {"type": "object", "additionalProperties": {"anyOf": [
              {"type": "object", "additionalProperties": arr(GROUP_RUN)},
              {"type": "array", "maxItems": 0}]}}}))
def compat_group_by(a):
    start, stop = _open_window(a)
    with connection() as conn:
        return reports.compat_group_by(conn, a["key"], start, stop, a["datetime_resolution"])


@endpoint(bp, "/build_name/<path:build_name>/test_runs", tag=TAG,
          summary="per-test counts of a job per bucket",
          description="Every result of the job's runs whose start time is in [start_date, "
                      "stop_date] (either may be absent: no bound there), under the bucket of "
                      "its start time, every test of the job: openstack-health's "
                      "TestRunAggregator, whose run_time is the running mean of the passes' "
                      "durations and 0 after a result that is not a pass. At most 2,000,000 "
                      "(bucket, test) entries (400 beyond).",
          params=[Param("build_name", where="path", max_length=255), START, STOP,
                  resolution("sec")],
          response=obj({"tests": {"type": "object", "additionalProperties": {
              "type": "object", "additionalProperties": RUN_ITEM}}}))
def compat_job_test_runs(a):
    start, stop = _open_window(a)
    with connection() as conn:
        return reports.compat_job_test_runs(conn, a["build_name"], start, stop,
                                            a["datetime_resolution"])


@endpoint(bp, "/runs/key/<path:run_metadata_key>/<path:value>", tag=TAG,
          summary="runs with key=value per bucket and job",
          params=[Param("run_metadata_key", where="path", max_length=255),
                  Param("value", where="path", max_length=255), START, STOP, resolution("day")],
          response=obj({"numeric": {"type": "object", "additionalProperties": {
                            "type": "object", "additionalProperties": NNUM}},
                        "data": obj({"timedelta": arr(obj({"datetime": STR, "job_data": arr(
                            obj({"fail": INT, "pass": INT, "mean_run_time": NNUM,
                                 "job_name": NSTR}))}))})}))
def compat_key_value(a):
    start, stop = _open_window(a)
    with connection() as conn:
        return reports.compat_key_value(conn, a["run_metadata_key"], a["value"], start, stop,
                                        a["datetime_resolution"])


@endpoint(bp, "/runs/key/<path:run_metadata_key>/<path:value>/recent", tag=TAG,
          summary="recent runs with key=value",
          params=[Param("run_metadata_key", where="path", max_length=255),
                  Param("value", where="path", max_length=255), NUM_RUNS],
          response=arr(obj({"id": NSTR, "status": STR, "start_date": NSTR, "link": NSTR,
                            "build_name": NSTR})))
def compat_recent(a):
    with connection() as conn:
        return reports.compat_recent(conn, a["run_metadata_key"], a["value"], a["num_runs"])


@endpoint(bp, "/runs/key/<path:run_metadata_key>/<path:value>/recent/detail", tag=TAG,
          summary="recent runs with key=value, every run column (empty runs too)",
          params=[Param("run_metadata_key", where="path", max_length=255),
                  Param("value", where="path", max_length=255), NUM_RUNS],
          response=arr(obj({**COMPAT_RUN["properties"], "build_name": NSTR},
                            required=COMPAT_RUN["required"])))
def compat_recent_detail(a):
    with connection() as conn:
        return reports.compat_recent_detail(conn, a["run_metadata_key"], a["value"],
                                            a["num_runs"])


@endpoint(bp, "/runs/key/<path:run_metadata_key>/<path:value>/recent/rss", tag=TAG,
          summary="RSS feed of failed runs with key=value",
          params=[Param("run_metadata_key", where="path", max_length=255),
                  Param("value", where="path", max_length=255)],
          response={"type": "string"}, media_type="application/rss+xml")
def compat_recent_rss(a):
    from flask import request
    with connection() as conn:
        runs = v1_reports.failed_runs_feed(conn, a["run_metadata_key"], a["value"], 25)
    if runs is None:
        raise not_found("value", f"no runs with {a['run_metadata_key']}={a['value']}")
    return rss(runs, a["run_metadata_key"], a["value"], request.url)


@endpoint(bp, "/tests/recent/<string:status>", tag=TAG,
          summary="test results with this status in the most recent failed runs",
          params=[Param("status", where="path", max_length=64), NUM_RUNS],
          response=obj({"test_runs": arr(obj({"test_id": STR, "uuid": NSTR, "link": NSTR,
                                              "start_time": NSTR, "stop_time": NSTR,
                                              "job_name": NSTR})),
                        "bugs": {"type": "object"}}))
def compat_tests_recent(a):
    with connection() as conn:
        return reports.compat_tests_recent(conn, a["status"], a["num_runs"])


@endpoint(bp, "/tests/prefix", tag=TAG, summary="first dotted components of test ids",
          params=[limit(500, 5000)], response=arr(STR))
def compat_prefixes(a):
    with connection() as conn:
        return reports.compat_prefixes(conn, a["limit"])


#: a tests row as openstack-health's Test.to_dict() gave it
TEST_ITEM = obj({"id": INT, "test_id": STR, "run_count": NINT, "success": NINT,
                 "failure": NINT, "run_time": NNUM})
#: openstack-health took any limit and offset (its only paginated route)
PREFIX_LIMIT = limit(100, 1_000_000)
PREFIX_OFFSET = Param("offset", "integer", default=0, minimum=0, maximum=1_000_000_000,
                      description="matching tests to skip")


@endpoint(bp, "/tests/prefix/<path:prefix>", tag=TAG,
          summary="tests whose first dotted component ends with prefix",
          description="openstack-health's get_tests_by_prefix: the tests rows whose test id "
                      "up to its first '.' ends with prefix, in test_id order.",
          params=[Param("prefix", where="path", max_length=256), PREFIX_LIMIT, PREFIX_OFFSET],
          response=obj({"tests": arr(TEST_ITEM)}))
def compat_tests_by_prefix(a):
    with connection() as conn:
        return reports.compat_tests_by_prefix(conn, a["prefix"], a["limit"], a["offset"])


@endpoint(bp, "/tests", tag=TAG, summary="every test with its counters",
          description="Every tests row, in tests.id order, unpaginated as openstack-health "
                      "answered it; at most 1,000,000 (400 beyond).",
          params=[], response=obj({"tests": arr(TEST_ITEM)}))
def compat_tests(a):
    with connection() as conn:
        return reports.compat_tests(conn)


@endpoint(bp, "/run/<string:run_id>/tests", tag=TAG, summary="the tests a run ran, with their "
          "all-time counters",
          description="The tests rows of the tests the run (its uuid, or its integer id) ran, "
                      "each once, in tests.id order (openstack-health's query compared the "
                      "uuid with test_runs.run_id: a 500 there on PostgreSQL).",
          params=[Param("run_id", where="path", max_length=255)],
          response=obj({"tests": arr(TEST_ITEM)}))
def compat_run_tests(a):
    with connection() as conn:
        return reports.compat_run_tests(conn, a["run_id"])


@endpoint(bp, "/test_runs/<path:test_id>", tag=TAG, summary="one test over time",
          description="openstack-health's answer: under data every result whose start time "
                      "is in [start_date, stop_date] (either may be absent: no bound there) "
                      "keyed by that time, with its run's integer id and status; under "
                      "numeric, per bucket, the mean run time of its successes and the "
                      "rolling mean and std over 20 buckets (keys without a value left "
                      "out); failed_runs the runs with a fail result ({} when the test has "
                      "no result at all, as openstack-health answered). At most 2,000,000 "
                      "results (400 beyond).",
          params=[Param("test_id", where="path", max_length=256), START, STOP, resolution("min")],
          response=obj({"numeric": {"type": "object", "additionalProperties": {
                            "type": "object", "properties": {
                                "run_time": NNUM, "avg_run_time": NNUM,
                                "std_dev_run_time": NNUM},
                            "additionalProperties": False}},
                        "data": {"type": "object", "additionalProperties": obj(
                            {"run_id": INT, "status": NSTR})},
                        "failed_runs": {"anyOf": [
                            arr(obj({"provider": NSTR, "job_name": NSTR, "run_at": NTIME,
                                     "artifacts": NSTR, "bugs": arr(ANY)})),
                            {"type": "object", "maxProperties": 0}]}}))
def compat_test_runs(a):
    start, stop = _open_window(a)
    with connection() as conn:
        return reports.compat_test_runs(conn, a["test_id"], start, stop,
                                        a["datetime_resolution"])


@endpoint(bp, "/runs", tag=TAG, summary="every run in the window, as runs rows",
          description="Every run whose run_at is in [start_date, stop_date] (either may be "
                      "absent: no bound there), in runs.id order, run_at RFC 1123, "
                      "unpaginated as openstack-health answered; at most 1,000,000 (400 "
                      "beyond).",
          params=[START, STOP], response=obj({"runs": arr(COMPAT_RUN)}))
def compat_runs(a):
    start, stop = _open_window(a)
    with connection() as conn:
        return reports.compat_runs(conn, start, stop)


@endpoint(bp, "/build_name/<string:build_name>/runs", tag=TAG,
          summary="every run of one job, as runs rows",
          description="Every run with this build_name (openstack-health took no window), in "
                      "runs.id order; at most 1,000,000 (400 beyond).",
          params=[Param("build_name", where="path", max_length=255)],
          response=obj({"runs": arr(COMPAT_RUN)}))
def compat_job_runs(a):
    with connection() as conn:
        return reports.compat_job_runs(conn, a["build_name"])


@endpoint(bp, "/run/<string:run_id>/test_runs", tag=TAG, summary="test results of a run",
          description="The first result of each test of the run (its uuid, or its integer "
                      "id) by start time, times RFC 1123, metadata when the result has some.",
          params=[Param("run_id", where="path", max_length=255)],
          response={"type": "object", "additionalProperties": obj(
              {"status": NSTR, "start_time": NSTR, "stop_time": NSTR,
               "metadata": {"type": "object", "additionalProperties": NSTR}},
              required=["status", "start_time", "stop_time"])})
def compat_run_test_runs(a):
    with connection() as conn:
        return reports.compat_run_test_runs(conn, a["run_id"])
