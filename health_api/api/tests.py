"""Tests: search and detail."""
from __future__ import annotations

from flask import Blueprint

from . import reports
from ..queries.tests import SEARCH_SORTS
from .db import connection
from .spec import (INT, NNUM, NSTR, NTIME, OFFSET, RATE, RESOLUTION, ROLLING_RATE, START, STOP,
                   STR, TIME, WINDOW, Param, arr, endpoint, limit, obj, time_window)

bp = Blueprint("tests", __name__, url_prefix="/api/v1")
TEST = obj({"test_id": STR, "run_count": INT, "success": INT, "failure": INT,
            "mean_run_time": NNUM})


@endpoint(bp, "/tests", tag="tests", summary="Search tests by prefix or substring",
          description="mode=prefix is a range scan of the tests.test_id index on every engine; "
                      "mode=substring is LIKE '%q%', which scans the tests table (one row per "
                      "distinct test, not per result).",
          params=[Param("q", max_length=256, description="text to search for"),
                  Param("mode", "enum", enum=("prefix", "substring"), default="prefix"),
                  Param("sort", "enum", enum=SEARCH_SORTS, default="test_id",
                        description="order of all the matching tests (largest first, then "
                                    "test_id): failure_rate, failures, runs, run_time; or "
                                    "test_id"),
                  limit(50, 500), OFFSET],
          response=obj({"q": NSTR, "mode": STR, "sort": STR, "total": INT, "limit": INT,
                        "offset": INT,
                        "tests": arr(obj({**TEST["properties"], **RATE}))}))
def test_search(a):
    with connection() as conn:
        return reports.test_search(conn, a["q"], a["mode"], a["limit"], a["offset"], a["sort"])


@endpoint(bp, "/tests/<path:test_id>", tag="tests", summary="One test over time",
          description="Totals of the period (`summary`); per bucket: status counts, failure "
                      "rate, mean run time of the passes, and over the trailing `window` buckets "
                      "the failure rate (rolling_*) and run time (rolling_mean/std); failure "
                      "rate per job, recent failures with job, time, log link and the first "
                      "lines of the traceback. resolution=day reads the ch_test_daily rollup.",
          params=[Param("test_id", where="path", max_length=256), START, STOP, RESOLUTION, WINDOW,
                  Param("recent", "integer", default=10, minimum=0, maximum=100)],
          response=obj({"test": TEST, "resolution": STR, "start": TIME, "stop": TIME,
                        "window": INT,
                        "summary": obj({"success": INT, "failure": INT, "skip": INT, "runs": INT,
                                        **RATE, "mean_run_time": NNUM}),
                        "points": arr(obj({"bucket": TIME, "success": INT, "failure": INT,
                                           "skip": INT, **RATE, **ROLLING_RATE,
                                           "mean_run_time": NNUM,
                                           "rolling_mean": NNUM, "rolling_std": NNUM})),
                        "jobs": arr(obj({"job": STR, "success": INT, "failure": INT, "skip": INT,
                                         "runs": INT, **RATE})),
                        "recent_failures": arr(obj({"run_id": NSTR, "job": NSTR, "run_at": NTIME,
                                                    "start_time": NTIME, "status": STR,
                                                    "link": NSTR, "traceback": NSTR}))}))
def test_detail(a):
    start, stop = time_window(a, a["resolution"])
    with connection() as conn:
        return reports.test_detail(conn, a["test_id"], start, stop, a["resolution"], a["window"],
                                   a["recent"])
