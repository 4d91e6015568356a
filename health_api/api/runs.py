"""Runs: time series grouped by a metadata key, lists, details, recent failures."""
from __future__ import annotations

from flask import Blueprint

from . import reports
from .db import connection
from .errors import bad_request
from .spec import (BOOL, INT, META, NNUM, NSTR, NTIME, OFFSET, RATE, RESOLUTION, ROLLING_RATE,
                   START, STOP, STR, TIME, WINDOW, Param, arr, endpoint, limit, obj, time_window)

bp = Blueprint("runs", __name__, url_prefix="/api/v1")

COUNTS = {"passed": INT, "failed": INT, "empty": INT}
RUN = obj({"id": INT, "uuid": NSTR, "run_at": NTIME, "passes": INT, "fails": INT, "skips": INT,
           "run_time": NNUM, "artifacts": NSTR,
           "outcome": {"type": "string", "enum": ["passed", "failed", "empty"]},
           "metadata": {"type": "object", "additionalProperties": STR}})
FAILED_TEST = obj({"test_id": STR, "status": STR, "start_time": NTIME, "stop_time": NTIME})
POINT = obj({"bucket": TIME, **COUNTS, **RATE, **ROLLING_RATE, "mean_run_time": NNUM})


@endpoint(bp, "/runs/over_time", tag="runs", summary="Runs over time grouped by a metadata key",
          description="Per bucket and per value of `key`: passed/failed/empty run counts, "
                      "the failure rate with n and a 95% Wilson interval, and that rate over "
                      "the trailing `window` buckets (rolling_*); `totals`: the counts per "
                      "bucket over every value (not only the `groups` shown). One SQL GROUP BY.",
          params=[Param("key", required=True, max_length=255,
                        description="run metadata key to group by, e.g. build_name"),
                  START, STOP, RESOLUTION, META,
                  Param("groups", "integer", default=20, minimum=1, maximum=50,
                        description="most frequent values returned (1-50)"),
                  WINDOW],
          response=obj({"key": STR, "resolution": STR, "start": TIME, "stop": TIME,
                        "meta": arr(STR), "buckets": arr(TIME), "window": INT,
                        "series": arr(obj({"value": NSTR, "runs": INT, **COUNTS, **RATE,
                                           "points": arr(POINT)})),
                        "totals": arr(obj({"bucket": TIME, **COUNTS})),
                        "groups_total": INT, "groups_truncated": BOOL}))
def runs_over_time(a):
    start, stop = time_window(a, a["resolution"])
    with connection() as conn:
        return reports.runs_over_time(conn, a["key"], start, stop, a["resolution"], a["meta"],
                                      a["groups"], a["window"])


@endpoint(bp, "/runs", tag="runs", summary="Runs, newest first",
          params=[META, Param("start", "datetime", description="runs at or after"),
                  Param("stop", "datetime", description="runs before"),
                  Param("outcome", "enum", enum=("passed", "failed", "empty")),
                  limit(), OFFSET],
          response=obj({"total": INT, "limit": INT, "offset": INT, "runs": arr(RUN)}))
def runs_list(a):
    if a["start"] and a["stop"] and a["start"] >= a["stop"]:
        from .errors import bad_request
        raise bad_request("stop", "stop must be later than start")
    with connection() as conn:
        return reports.runs_list(conn, a["meta"], a["start"], a["stop"], a["outcome"],
                                 a["limit"], a["offset"])


RUN_DETAIL = dict(RUN)
RUN_DETAIL = obj({**RUN["properties"],
                  "tests": arr(obj({"test_id": STR, "status": NSTR, "start_time": NTIME,
                                    "stop_time": NTIME, "duration": NNUM})),
                  "failed_tests": arr(obj({"test_id": STR, "status": STR, "traceback": NSTR}))})


@endpoint(bp, "/runs/<string:run_id>", tag="runs", summary="One run: metadata, every test "
          "result, failed tests with their traceback",
          params=[Param("run_id", where="path", max_length=255,
                        description="run uuid (or numeric id)")],
          response=RUN_DETAIL)
def run_detail(a):
    with connection() as conn:
        return reports.run_detail(conn, a["run_id"])


@endpoint(bp, "/failures/recent", tag="runs", summary="The last N failed runs across all jobs "
          "with their failed tests",
          description="Newest first; `start`/`stop` (optional) keep the runs of that period.",
          params=[limit(20, 100), META,
                  Param("start", "datetime", description="only runs at or after, ISO 8601"),
                  Param("stop", "datetime", description="only runs before, ISO 8601")],
          response=obj({"runs": arr(obj({**RUN["properties"], "build_name": NSTR,
                                         "failed_tests": arr(FAILED_TEST)}))}))
def recent_failures(a):
    if a["start"] is not None and a["stop"] is not None and a["start"] >= a["stop"]:
        raise bad_request("stop", "stop must be later than start")
    with connection() as conn:
        return reports.recent_failures(conn, a["limit"], a["meta"], a["start"], a["stop"])


@endpoint(bp, "/metadata/keys", tag="metadata", summary="Run metadata keys", params=[],
          response=obj({"keys": arr(STR)}))
def metadata_keys(a):
    with connection() as conn:
        return reports.metadata_keys(conn)


@endpoint(bp, "/metadata/values", tag="metadata", summary="Values of a metadata key with run "
          "counts, most runs first",
          params=[Param("key", required=True, max_length=255), limit(100, 1000), OFFSET],
          response=obj({"key": STR, "total": INT, "limit": INT, "offset": INT,
                        "values": arr(obj({"value": NSTR, "runs": INT}))}))
def metadata_values(a):
    with connection() as conn:
        return reports.metadata_values(conn, a["key"], a["limit"], a["offset"])
