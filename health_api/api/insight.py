"""Failure intelligence (issue 15): flaky tests and jobs, failure clusters and
their labels, broken since, explained-failure rate, suspect metadata.

Every figure comes from the analyses ``ci-health analyze`` stored; the views
only filter and page them.
"""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, current_app, jsonify, request

from ..analytics import ranking
from ..insight import serve
from ..insight.options import InsightOptions, file_labels
from ..queries import insight_store as store
from .auth import require_token
from .db import connection, engine, write_engine, write_transaction
from .errors import bad_request, not_found
from .spec import (BOOL, INT, NNUM, NSTR, NTIME, NUM, OFFSET, RATE, STR, TIME, Param,
                   add_write_operation, arr, endpoint, limit, nullable, obj,
                   write_error_responses)

bp = Blueprint("insight", __name__, url_prefix="/api/v1")
CLUSTER_ID = re.compile(r"^[0-9a-f]{16}$")
JOB = Param("job", max_length=255, description="only this job (run metadata build_name)")
PERIOD = {"start": TIME, "stop": TIME, "computed_at": TIME}
NRATE = nullable("object")


def options() -> InsightOptions:
    return current_app.config["CI_HEALTH_INSIGHT"]


def doc(kind: str) -> dict:
    return serve.document(engine(), write_engine(), kind, options())


FLAKY_JOB = obj({"job": STR, "evidence": INT, **RATE, "flip_rate": NNUM, "flip_runs": INT})
FLAKY_TEST = obj({"test_id": STR, "flaky": BOOL, "evidence": INT, "impact": INT,
                  "failures": INT, **RATE, "flip_rate": NNUM, "first_flaky": TIME,
                  "last_flaky": TIME, "more_runs_needed": nullable("integer"),
                  "jobs": arr(FLAKY_JOB)})


@endpoint(bp, "/flaky-tests", tag="insight", summary="Flaky tests, ranked",
          description="Tests that failed and passed on the same change and patch set (run "
                      "metadata build_change/build_patchset, configurable) or failed and then "
                      "passed on retry within one run, with the count of "
                      "such evidence, the failure rate with its Wilson interval, the flip rate "
                      "over the last runs of each job, first and last flaky failure, impact "
                      "(failed runs where it was the only failing test) and, when too few runs "
                      "tell, about how many more are needed. flaky=true needs the interval's "
                      "lower bound above [insight] flaky_min_failure_rate.",
          params=[JOB, Param("flaky_only", "enum", enum=("true", "false"), default="false"),
                  Param("sort", "enum", enum=tuple(serve.FLAKY_SORTS), default="impact"),
                  limit(50, 5000), OFFSET],
          response=obj({**PERIOD, "options": obj({"min_evidence": INT,
                                                  "min_failure_rate": NUM,
                                                  "flip_runs": INT}),
                        "job": NSTR, "sort": STR, "total": INT, "limit": INT, "offset": INT,
                        "tests": arr(FLAKY_TEST)}))
def flaky_tests(a):
    return serve.flaky_tests(doc("flaky_tests"), a["job"], a["flaky_only"] == "true", a["sort"],
                             a["limit"], a["offset"])


CLUSTER = obj({"id": STR, "signature": STR, "failures": INT, "runs": INT, "tests": INT,
               "jobs": INT, "first_seen": TIME, "last_seen": TIME, "new": BOOL,
               "label": NSTR, "bug_url": NSTR,
               "top_tests": arr(obj({"test_id": STR, "failures": INT})),
               "top_jobs": arr(obj({"job": STR, "failures": INT})),
               "per_day": arr(obj({"bucket": TIME, "failures": INT})),
               "examples": arr(obj({"run_id": INT, "test_id": STR, "job": NSTR,
                                    "run_at": TIME, "link": NSTR}))})


def _with_labels(clusters: list[dict]) -> list[dict]:
    """Labels as they are now (the analysis may predate the last label)."""
    with connection() as conn:
        labels = {**file_labels(options().labels_file), **store.labels(conn)}
    out = []
    for c in clusters:
        label = labels.get(c["id"], {})
        out.append({**c, "label": label.get("label"), "bug_url": label.get("bug_url")})
    return out


@endpoint(bp, "/clusters", tag="insight", summary="Failure clusters by error signature",
          description="Failed results grouped by the last exception line of their traceback "
                      "with numbers, hex, UUIDs, addresses, paths and quoted values masked. "
                      "new: first seen within [insight] new_days of the period's end.",
          params=[Param("new_only", "enum", enum=("true", "false"), default="false"),
                  Param("test", max_length=256, description="clusters that hit this test"),
                  JOB, limit(50, 1000), OFFSET],
          response=obj({**PERIOD, "new_days": INT, "total": INT, "limit": INT, "offset": INT,
                        "clusters": arr(CLUSTER)}))
def clusters(a):
    out = serve.clusters(doc("clusters"), a["new_only"] == "true", a["test"], a["job"],
                         a["limit"], a["offset"])
    out["clusters"] = _with_labels(out["clusters"])
    return out


CLUSTER_PATH = Param("cluster_id", where="path", max_length=16, min_length=16,
                     description="16 hex digits")


def _cluster_id(raw: str) -> str:
    if not CLUSTER_ID.match(raw or ""):
        raise bad_request("cluster_id", "cluster_id must be 16 lower-case hex digits")
    return raw


@endpoint(bp, "/clusters/<cluster_id>", tag="insight", summary="One failure cluster",
          params=[CLUSTER_PATH], response=CLUSTER)
def cluster_detail(a):
    found = serve.cluster(doc("clusters"), _cluster_id(a["cluster_id"]))
    if found is None:
        raise not_found("cluster_id", f"no cluster {a['cluster_id']!r} in the analysed period")
    return _with_labels([found])[0]


LABEL_OPERATION = {
    "operationId": "insight_put_cluster_label", "tags": ["insight"],
    "summary": "Label a failure cluster with a bug link (needs a token)",
    "security": [{"bearer": []}],
    "parameters": [{"name": "cluster_id", "in": "path", "required": True,
                    "schema": {"type": "string"}}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["label"],
        "properties": {"label": {"type": "string", "maxLength": 255},
                       "bug_url": {"type": ["string", "null"], "maxLength": 1024}}}}}},
    "responses": {"200": {"description": "labelled", "content": {"application/json": {
        "schema": {"type": "object"}}}}, **write_error_responses({
            400: "a malformed body or cluster id (the error names the field)",
            404: "no such cluster"})}}


def register_operations(app) -> None:
    """List the PUT in the OpenAPI document (spec.py's endpoint declares GETs)."""
    add_write_operation(app, "/api/v1/clusters/{cluster_id}/label", "put", LABEL_OPERATION)


@bp.put("/clusters/<cluster_id>/label")
def put_cluster_label(cluster_id):
    """Label a cluster with a bug link; needs a token (``ci-health token create``)."""
    token = require_token()
    _cluster_id(cluster_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("body", "the body must be a JSON object {\"label\", \"bug_url\"}")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 255:
        raise bad_request("label", "label must be a non-empty string of at most 255 characters")
    bug_url = body.get("bug_url")
    if bug_url is not None and (not isinstance(bug_url, str) or len(bug_url) > 1024
                                or not re.match(r"^https?://\S+$", bug_url)):
        raise bad_request("bug_url", "bug_url must be an http(s) URL of at most 1024 characters")
    if serve.cluster(doc("clusters"), cluster_id) is None:
        raise not_found("cluster_id", f"no cluster {cluster_id!r} in the analysed period")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with write_transaction() as conn:
        store.set_label(conn, cluster_id, label.strip(), bug_url, token.ci_system, now)
    return jsonify({"cluster_id": cluster_id, "label": label.strip(), "bug_url": bug_url,
                    "updated_by": token.ci_system,
                    "note": "the explained-failure rate counts it from the next analysis"})


EPISODE = obj({"kind": STR, "test_id": NSTR, "job": STR, "broken_since": TIME,
               "last_good": NTIME, "fixed_at": NTIME, "probability": NNUM,
               "before": NRATE, "after": obj(RATE), "still_broken": BOOL})


@endpoint(bp, "/broken", tag="insight", summary="Broken since: tests and jobs that went "
          "from stable to failing",
          description="A Bayesian beta-binomial change point (binary segmentation) on each "
                      "test's and job's run outcomes: the first failing run, the last good "
                      "one, rates before and after, and the posterior probability of the "
                      "change.",
          params=[Param("kind", "enum", enum=("all", "test", "job"), default="all"), JOB],
          response=obj({**PERIOD, "min_probability": NUM, "episodes": arr(EPISODE)}))
def broken(a):
    return serve.broken(doc("broken"), a["kind"], a["job"])


@endpoint(bp, "/explained", tag="insight", summary="Explained-failure rate and unexplained runs",
          description="Share of failed runs whose every failed test is in a labelled cluster "
                      "or is a flaky test, per day; the unexplained failed runs, newest first.",
          params=[limit(50, 200), OFFSET],
          response=obj({**PERIOD, "failed_runs": INT, "explained": INT,
                        "explained_rate": NNUM, "unexplained_total": INT, "limit": INT,
                        "offset": INT,
                        "points": arr(obj({"bucket": TIME, "failed_runs": INT, "explained": INT,
                                           "explained_rate": NNUM})),
                        "unexplained": arr(obj({"run_id": INT, "uuid": NSTR, "run_at": TIME,
                                                "job": NSTR, "fails": INT, "link": NSTR,
                                                "unexplained_tests": arr(STR)}))}))
def explained(a):
    return serve.explained(doc("explained"), a["limit"], a["offset"])


SUSPECT = obj({"key": STR, "value": STR, "p_value": NUM, "window_start": TIME,
               "window_stop": TIME, "window": obj({**RATE, "failed": INT}),
               "window_rest": obj(RATE), "period": obj({**RATE, "failed": INT}),
               "period_rest": obj(RATE)})


@endpoint(bp, "/suspects", tag="insight", summary="Suspect run metadata (node provider ...)",
          description="Metadata values whose runs fail significantly more than the other runs "
                      "of the job(s): the most significant window of 1, 2, 3, 7 days or the "
                      "whole period (Fisher's exact test, Bonferroni-corrected), both rates "
                      "and intervals in that window and over the period.",
          params=[JOB], response=obj({**PERIOD, "job": NSTR, "keys": arr(STR),
                                      "suspects": arr(SUSPECT)}))
def suspects(a):
    out = serve.suspects(doc("suspects"), a["job"])
    if out is None:
        raise not_found("job", f"no runs of job {a['job']!r} in the analysed period")
    return out


@endpoint(bp, "/flaky-jobs", tag="insight", summary="Flaky CI jobs from Gerrit verdicts",
          description="Per CI system and job: patch sets reported on; rechecked (a recheck "
                      "request for this CI, ci_recheck_requests, came between two of its "
                      "results on the patch set); flaky (its result changed on the same patch "
                      "set and pipeline with a recheck request between the two results; a "
                      "change across patch sets is new code, not a flip); "
                      "changes_without_recheck (result changes with no request between); "
                      "flaky rate (flaky / patch sets) with its Wilson interval.",
          params=[Param("ci_system", max_length=255)],
          response=obj({**PERIOD, "ci_system": NSTR,
                        "jobs": arr(obj({"ci_system": STR, "job": STR, "patch_sets": INT,
                                         "rechecked": INT, "flaky": INT,
                                         "changes_without_recheck": INT, "flaky_rate": NUM,
                                         "n": INT, "ci_low": NUM, "ci_high": NUM}))}))
def flaky_jobs(a):
    return serve.flaky_jobs(doc("flaky_jobs"), a["ci_system"])


RANKED_TEST = obj({"test_id": STR, "success": INT, "failure": INT, **RATE, "flaky": BOOL,
                   "evidence": INT, "impact": INT})


@endpoint(bp, "/test-ranking", tag="insight", summary="Every test of the period, ranked",
          description="Every test that ran in the analysed period (not only those with flaky "
                      "evidence), sorted over all of them and paged: failure_rate (with its "
                      "Wilson interval), flakiness (flaky first, then flaky evidence: failed "
                      "and passed on the same change and patch set, or on retry within a "
                      "run), impact (failed runs where it was the only failing test), "
                      "failures, runs or test_id. q keeps the test ids containing it.",
          params=[Param("q", max_length=256, description="substring of the test id"),
                  Param("sort", "enum", enum=tuple(ranking.SORTS), default="failure_rate"),
                  limit(50, 500), OFFSET],
          response=obj({**PERIOD, "q": NSTR, "sort": STR, "total": INT, "limit": INT,
                        "offset": INT, "tests": arr(RANKED_TEST)}))
def test_ranking(a):
    return serve.test_ranking(doc("test_ranking"), a["q"], a["sort"], a["limit"], a["offset"])
