"""Jobs (run metadata build_name): summary table and job detail."""
from __future__ import annotations

from flask import Blueprint

from . import reports
from .db import connection
from .runs import RUN
from .spec import (INT, NNUM, NTIME, OFFSET, RATE, RESOLUTION, ROLLING_RATE, START, STOP, STR,
                   TIME, WINDOW, Param, arr, endpoint, limit, obj, time_window)

bp = Blueprint("jobs", __name__, url_prefix="/api/v1")
COUNTS = {"passed": INT, "failed": INT, "empty": INT}


@endpoint(bp, "/jobs", tag="jobs", summary="Job summary for a period",
          description="Per job: runs, failure rate with interval, change against the previous "
                      "period of equal length, mean and p95 run time, last run; `total`: the "
                      "sum over the jobs with its failure rate.",
          params=[START, STOP],
          response=obj({"start": TIME, "stop": TIME, "previous_start": TIME,
                        "total": obj({"runs": INT, **COUNTS, "jobs": INT, **RATE}),
                        "jobs": arr(obj({"job": STR, "runs": INT, **COUNTS, **RATE,
                                         "previous": obj(RATE), "change": NNUM,
                                         "mean_run_time": NNUM, "p95_run_time": NNUM,
                                         "last_run_at": NTIME}))}))
def jobs_summary(a):
    start, stop = time_window(a, "day")
    with connection() as conn:
        return reports.jobs_summary(conn, start, stop)


JOB_POINT = obj({"bucket": TIME, **COUNTS, "runs": INT, **RATE, **ROLLING_RATE,
                 "mean_run_time": NNUM,
                 "std_run_time": NNUM, "rolling_mean": NNUM, "rolling_std": NNUM})


@endpoint(bp, "/jobs/<path:name>", tag="jobs", summary="One job over time",
          description="Totals of the period (runs, failure rate, mean run time: every run "
                      "counts once); per bucket: counts, failure rate, run time mean/std, and "
                      "over the trailing `window` buckets the failure rate (rolling_*) and the "
                      "mean/std of the buckets' mean run times (rolling_mean/rolling_std); "
                      "recent runs with log links. resolution=day reads the ch_job_daily rollup.",
          params=[Param("name", where="path", max_length=255), START, STOP, RESOLUTION, WINDOW,
                  Param("recent", "integer", default=20, minimum=0, maximum=100)],
          response=obj({"job": STR, "resolution": STR, "start": TIME, "stop": TIME,
                        "window": INT, **COUNTS, "runs": INT, **RATE, "mean_run_time": NNUM,
                        "points": arr(JOB_POINT),
                        "recent_runs": arr(obj({k: v for k, v in RUN["properties"].items()
                                                if k != "metadata"}))}))
def job_detail(a):
    start, stop = time_window(a, a["resolution"])
    with connection() as conn:
        return reports.job_detail(conn, a["name"], start, stop, a["resolution"], a["window"],
                                  a["recent"])


@endpoint(bp, "/jobs/<path:name>/tests", tag="jobs", summary="Per-test stats within a job",
          description="From the ch_test_daily rollup, over whole days (UTC).",
          params=[Param("name", where="path", max_length=255), START, STOP,
                  Param("sort", "enum", enum=("failure_rate", "failures", "runs",
                                              "mean_run_time", "test_id"), default="failures"),
                  limit(50, 500), OFFSET],
          response=obj({"job": STR, "start": TIME, "stop": TIME, "sort": STR, "total": INT,
                        "limit": INT, "offset": INT,
                        "tests": arr(obj({"test_id": STR, "success": INT, "failure": INT,
                                          "skip": INT, "runs": INT, **RATE,
                                          "mean_run_time": NNUM}))}))
def job_tests(a):
    start, stop = time_window(a, "day")
    with connection() as conn:
        return reports.job_tests(conn, a["name"], start, stop, a["sort"], a["limit"], a["offset"])
