"""``POST /api/v1/runs``: a CI job posts its results (subunit v2 or JUnit XML).

The same path as ``ci-health ingest``: one run, one transaction, nothing kept
on any error. The token is checked before the body is read; a body over
``[api] max_body_bytes`` is a 413 (Flask refuses it while reading). The CLI's
exit codes map to statuses: 2 bad input -> 400, 3 duplicate run -> 409,
5 deadlock after retries -> 503 (retry), 4 database unusable -> 503.
"""
from __future__ import annotations

import io

from flask import Blueprint, request

from ..analytics.jsonsafe import clean
from ..ingest.records import (TIME_MIN, DeadlockError, DuplicateRunError, IngestError,
                              time_in_range, to_naive_utc)
from .auth import require_token
from .db import write_engine
from .errors import ApiError, bad_request
from .spec import Param, add_write_operation, write_error_responses

bp = Blueprint("upload", __name__, url_prefix="/api/v1")

FORMATS = ("subunit", "junit")
_STATUS = {DuplicateRunError: 409, DeadlockError: 503}
UPLOAD_PARAMS = [
    Param("format", "enum", enum=FORMATS, default="subunit",
          description="body format: subunit (v2 stream) or junit (XML)"),
    Param("meta", "meta", repeatable=True, description="run metadata KEY:VALUE, repeatable"),
    Param("artifacts", max_length=1024, description="link to the run's logs (http or https)"),
    Param("run_id", max_length=36, description="the run's uuid (must be new)"),
    Param("run_at", "datetime", description="when the run happened (default: from the results)"),
]


def _arguments() -> dict:
    from .spec import parse_args
    args = parse_args(UPLOAD_PARAMS, {})
    if args["artifacts"]:
        from .feeds import safe_link
        if safe_link(args["artifacts"]) is None:
            raise bad_request("artifacts", "artifacts must be an http(s) URL")
    if args["run_at"] is not None and not time_in_range(to_naive_utc(args["run_at"])):
        raise bad_request("run_at", f"run_at out of range (from {TIME_MIN:%Y-%m-%d} to a "
                                    "day from now)")
    return args


UPLOAD_OPERATION = {
    "operationId": "upload_upload_run", "tags": ["runs"],
    "summary": "Store one run posted by a CI job (needs a token)",
    "security": [{"bearer": []}],
    "parameters": [p.openapi() for p in UPLOAD_PARAMS],
    "requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "application/xml": {"schema": {"type": "string"}}}},
    "responses": {
        "201": {"description": "stored", "content": {"application/json": {"schema": {
            "type": "object", "required": ["run_id", "uuid", "passes", "fails", "skips",
                                           "tests"],
            "properties": {"run_id": {"type": "integer"}, "uuid": {"type": "string"},
                           "passes": {"type": "integer"}, "fails": {"type": "integer"},
                           "skips": {"type": "integer"}, "tests": {"type": "integer"},
                           "run_at": {"type": ["string", "null"]}}}}}},
        **write_error_responses({
            400: "bad input: a parameter or the body (the error names it)",
            409: "a run with this run_id exists",
            503: "database unavailable, or a deadlock persisted: retry"})}}


def register_operations(app) -> None:
    """List POST /api/v1/runs in the OpenAPI document (spec.py declares GETs)."""
    add_write_operation(app, "/api/v1/runs", "post", UPLOAD_OPERATION)


@bp.post("/runs")
def upload_run():
    require_token()
    args = _arguments()
    body = request.get_data(cache=False)  # 413 beyond MAX_CONTENT_LENGTH
    if not body:
        raise bad_request("body", "the request body is empty: send a subunit v2 stream or "
                                  "JUnit XML")
    from ..ingest.service import ingest_run, junit_parser, subunit_parser
    from ..ingest.writer import RunOptions
    parse = (junit_parser(args["run_at"]) if args["format"] == "junit"
             else subunit_parser()).here
    options = RunOptions(uuid=args["run_id"], run_at=args["run_at"],
                         artifacts=args["artifacts"], metadata=args["meta"])
    from .metrics import UPLOADED_RESULTS, UPLOADS
    try:
        summary = ingest_run(write_engine(), io.BytesIO(body), "body", parse, options)
    except IngestError as exc:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        UPLOADS.labels(args["format"], "failed" if status >= 500 else "refused").inc()
        raise ApiError(status, str(exc), "run_id" if status == 409 else "body") from None
    except Exception:  # the database went away (503) or a bug (500): nothing stored
        UPLOADS.labels(args["format"], "failed").inc()
        raise
    UPLOADS.labels(args["format"], "stored").inc()
    UPLOADED_RESULTS.inc(summary.tests)
    return {**summary.as_json(), "run_at": clean(summary.run_at)}, 201
