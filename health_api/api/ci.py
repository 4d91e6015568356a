"""CI systems (Gerrit CI verdicts): scoreboard, one system, coverage, unstable
jobs, agreement with the upstream CI, who has CI, the grid, upstream health."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app

from . import ci_reports as reports
from .ci_reports import CiSettings
from .db import connection
from .spec import (BOOL, INT, NNUM, NSTR, NTIME, OFFSET, START, STOP, STR, TIME, Param, arr,
                   endpoint, limit, nullable, obj, time_window)

bp = Blueprint("ci", __name__, url_prefix="/api/v1/ci")

CI_RESOLUTION = Param("resolution", "enum", enum=("hour", "day"), default="day",
                      description="bucket size of the time series (hour: at most 31 days)")
SYSTEM = Param("system", max_length=255, description="CI system (Gerrit username)")
PROJECT = Param("project", max_length=255, description="Gerrit project, e.g. openstack/nova")
SUCCESS = {"success_rate": nullable("number", minimum=0, maximum=1), "n": INT,
           "ci_low": nullable("number", minimum=0, maximum=1),
           "ci_high": nullable("number", minimum=0, maximum=1)}
JOB_ROW = obj({"job": STR, "results": INT, "counts": obj({}, [], extra=INT), "success": INT,
               "failure": INT, "infra": INT, "neutral": INT, **SUCCESS,
               "failure_rate": NNUM, "failure_ci_low": NNUM, "failure_ci_high": NNUM,
               "recheck_flips": INT, "patch_sets": INT, "last_result_at": NTIME})
STATUS = {"type": "string", "enum": ["reporting", "silent", "never_seen"]}
BOARD_ROW = {"system": STR, "display_name": STR, "declared": BOOL, "trusted": BOOL,
             "projects": arr(STR), "contact": NSTR, "status": STATUS, "silent": BOOL,
             "first_seen": NTIME, "last_seen": NTIME, "last_success": NTIME, "reports": INT,
             "success": INT, **SUCCESS, "unparsed": INT, "unparsed_share": NNUM,
             "report_delay_median": NNUM, "report_delay_p90": NNUM, "jobs": arr(JOB_ROW)}
POINT = obj({"bucket": TIME, "reports": INT, "success": INT, **SUCCESS})
COVERAGE = {"eligible": INT, "covered": INT, "missed": INT, "coverage": NNUM, "ci_low": NNUM,
            "ci_high": NNUM}
PATCH_SET = obj({"change": INT, "patch_set": INT, "project": STR, "branch": NSTR,
                 "subject": NSTR, "created_on": TIME, "result": STR})
AGREEMENT = obj({"system": STR, "both_voted": INT, "agree": INT, "agreement": NNUM,
                 "ci_low": NNUM, "ci_high": NNUM, "ci_failed_upstream_passed": INT,
                 "ci_passed_upstream_failed": INT})
WINDOW_DOC = " Window: start/stop (default: the last 7 days)."


def init_ci(app: Flask, config) -> None:
    """ci-systems.yaml and the [ci] thresholds, read once at start-up."""
    app.extensions["ci_health_ci"] = reports.load_ci_settings(config)


def settings() -> CiSettings:
    return current_app.extensions["ci_health_ci"]


@endpoint(bp, "/scoreboard", tag="ci", summary="Every CI system over a period",
          description="Per CI system: reports, success rate of its verdicts with n and Wilson "
                      "interval, per-job success rates, share of unparsed comments, median and "
                      "p90 seconds from patch set upload to first report, first/last seen, last "
                      "success, status (reporting, silent for more than silent_after_hours, "
                      "never seen)." + WINDOW_DOC,
          params=[START, STOP, PROJECT],
          response=obj({"start": TIME, "stop": TIME, "project": NSTR, "silent_after_hours": NNUM,
                        "systems": arr(obj(BOARD_ROW))}))
def ci_scoreboard(a):
    start, stop = time_window(a)
    with connection() as conn:
        return reports.scoreboard(conn, settings(), start, stop, a["project"])


@endpoint(bp, "/scoreboard/series", tag="ci", summary="Reports and success rate over time",
          description="Per CI system and bucket: report count and verdict success rate." +
                      WINDOW_DOC,
          params=[START, STOP, CI_RESOLUTION, SYSTEM],
          response=obj({"start": TIME, "stop": TIME, "resolution": STR, "buckets": arr(TIME),
                        "series": arr(obj({"system": STR, "reports": INT,
                                           "points": arr(POINT)}))}))
def ci_series(a):
    start, stop = time_window(a, a["resolution"])
    with connection() as conn:
        return reports.scoreboard_series(conn, start, stop, a["resolution"], a["system"])


@endpoint(bp, "/systems/<path:name>", tag="ci", summary="One CI system",
          description="The scoreboard row, its time series, its coverage with the newest "
                      "missed patch sets, its agreement with the upstream CI." + WINDOW_DOC,
          params=[Param("name", where="path", max_length=255), START, STOP, CI_RESOLUTION,
                  Param("missed", "integer", default=20, minimum=0, maximum=200,
                        description="missed patch sets listed (0-200)")],
          response=obj({"start": TIME, "stop": TIME, "resolution": STR, **BOARD_ROW,
                        "buckets": arr(TIME), "points": arr(POINT), "coverage": obj(COVERAGE),
                        "missed_patch_sets": arr(PATCH_SET),
                        "agreement": {"anyOf": [AGREEMENT, {"type": "null"}]}}))
def ci_system(a):
    start, stop = time_window(a, a["resolution"])
    with connection() as conn:
        return reports.system_detail(conn, settings(), a["name"], start, stop, a["resolution"],
                                     a["missed"])


@endpoint(bp, "/systems/<path:name>/coverage", tag="ci", summary="A CI system's coverage",
          description="Every eligible patch set (docs/design.md section 4: on a declared project and "
                      "branch, current for at least [ci] coverage_min_age) with the CI's newest "
                      "verdict, REPORTED (commented, no verdict read) or missed; newest first; "
                      "coverage with its Wilson interval." + WINDOW_DOC,
          params=[Param("name", where="path", max_length=255), START, STOP,
                  Param("show", "enum", enum=("all", "missed", "covered"), default="all"),
                  PROJECT, limit(50, 500), OFFSET],
          response=obj({"system": STR, "project": NSTR, "start": TIME, "stop": TIME, "show": STR,
                        "scope": {"type": "string", "enum": ["declared", "discovered"]},
                        "min_age_seconds": INT, **COVERAGE, "total": INT, "limit": INT,
                        "offset": INT, "patch_sets": arr(PATCH_SET)}))
def ci_coverage(a):
    start, stop = time_window(a)
    with connection() as conn:
        return reports.coverage(conn, settings(), a["name"], start, stop, a["show"], a["limit"],
                                a["offset"], a["project"])


@endpoint(bp, "/jobs", tag="ci", summary="Unstable CI jobs",
          description="Per CI system and job: result counts, failure rate (failures over "
                      "SUCCESS + failures) with interval, infrastructure results (NODE_FAILURE, "
                      "RETRY_LIMIT, POST_FAILURE, TIMED_OUT) apart, recheck flips (a failure "
                      "then SUCCESS on one patch set); ranked by flips, then failure rate." +
                      WINDOW_DOC,
          params=[START, STOP, SYSTEM, PROJECT, Param("job", max_length=255), limit(50, 500)],
          response=obj({"start": TIME, "stop": TIME, "system": NSTR, "project": NSTR,
                        "job": NSTR, "total": INT,
                        "jobs": arr(obj({"system": STR, **JOB_ROW["properties"]}))}))
def ci_jobs(a):
    start, stop = time_window(a)
    with connection() as conn:
        return reports.unstable_jobs(conn, start, stop, a["system"], a["project"], a["job"],
                                     a["limit"])


@endpoint(bp, "/agreement", tag="ci", summary="Agreement with the upstream CI",
          description="On the patch sets uploaded in the window that a CI system and the "
                      "project's trusted CI (ci-systems.yaml `trusted: true`) both voted on: "
                      "the share where they agree, and both directions of disagreement." +
                      WINDOW_DOC,
          params=[START, STOP, SYSTEM, PROJECT],
          response=obj({"start": TIME, "stop": TIME, "project": NSTR, "upstream": arr(STR),
                        "systems": arr(AGREEMENT)}))
def ci_agreement(a):
    start, stop = time_window(a)
    with connection() as conn:
        return reports.agreement(conn, settings(), start, stop, a["system"], a["project"])


SYSTEM_ON_PROJECT = obj({"system": STR, "display_name": STR, "declared": BOOL,
                         "discovered": BOOL, "status": STATUS, "last_report": NTIME,
                         **COVERAGE})


@endpoint(bp, "/projects", tag="ci", summary="Who has CI",
          description="Per project: the third-party CI systems declared for it (ci-systems.yaml) "
                      "or seen reporting on it, with status, last report and coverage over the "
                      "7 days before `stop`; the upstream CI apart; projects without any.",
          params=[STOP],
          response=obj({"start": TIME, "stop": TIME,
                        "projects": arr(obj({"project": STR, "systems": arr(SYSTEM_ON_PROJECT),
                                             "upstream": arr(SYSTEM_ON_PROJECT)})),
                        "without_ci": arr(STR)}))
def ci_projects(a):
    _, stop = time_window(a)
    with connection() as conn:
        return reports.who_has_ci(conn, settings(), stop)


CELL = {"anyOf": [obj({"result": STR, "url": NSTR, "attempts": INT, "posted_at": TIME,
                       "duration": nullable("integer"), "voting": BOOL}), {"type": "null"}]}


@endpoint(bp, "/grid", tag="ci", summary="A project's CI grid",
          description="The project's newest patch sets uploaded in the window as columns "
                      "(with the upstream CI's verdict), CI system x pipeline x job as rows; "
                      "each cell the current result with log link, attempts and time." +
                      WINDOW_DOC,
          params=[Param("project", required=True, max_length=255), START, STOP, SYSTEM,
                  Param("pipeline", max_length=255),
                  Param("columns", "integer", default=20, minimum=1, maximum=100,
                        description="patch sets shown (1-100)")],
          response=obj({"project": STR, "start": TIME, "stop": TIME, "system": NSTR,
                        "pipeline": NSTR, "pipelines": arr(STR),
                        "columns": arr(obj({"change": INT, "patch_set": INT, "subject": NSTR,
                                            "branch": NSTR, "created_on": TIME,
                                            "upstream": NSTR})),
                        "rows": arr(obj({"system": STR, "pipeline": NSTR, "job": STR,
                                         "cells": arr(CELL)}))}))
def ci_grid(a):
    start, stop = time_window(a)
    with connection() as conn:
        return reports.grid(conn, settings(), a["project"], start, stop, a["system"],
                            a["pipeline"], a["columns"])


@endpoint(bp, "/upstream", tag="ci", summary="Upstream CI health",
          description="The scoreboard rows and time series of the trusted CI systems." +
                      WINDOW_DOC,
          params=[START, STOP, CI_RESOLUTION],
          response=obj({"start": TIME, "stop": TIME, "resolution": STR, "upstream": arr(STR),
                        "systems": arr(obj(BOARD_ROW)), "buckets": arr(TIME),
                        "series": arr(obj({"system": STR, "reports": INT,
                                           "points": arr(POINT)}))}))
def ci_upstream(a):
    start, stop = time_window(a, a["resolution"])
    with connection() as conn:
        return reports.upstream_health(conn, settings(), start, stop, a["resolution"])
