"""The verify-status channel, in the contract of Gerrit's verify-status plugin.

POST stores a CI's verifications of one patch set (bearer token: the
verdicts are stored as the token's CI system); GET lists them with the
plugin's ``sort`` and ``filter`` options. See health_api.verify_status.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, request

from ..queries import verifications as queries
from ..tokens import mark_used
from ..verdicts import VerdictError, VerdictWriter
from ..verify_status.body import BodyError, parse_body
from ..verify_status.store import store_verifications
from .auth import require_token
from .db import connection, write_transaction
from .errors import ApiError, bad_request
from .spec import (BOOL, INT, NSTR, STR, Param, add_write_operation, endpoint, obj,
                   write_error_responses)

bp = Blueprint("verify_status", __name__, url_prefix="/api/v1")
RULE = "/changes/<path:change>/revisions/<revision>/verify-status~verifications"
GERRIT_TIME = "%Y-%m-%d %H:%M:%S.000000000"

PATH = [Param("change", where="path", max_length=600,
              description="change number, project~number, project~branch~Change-Id or "
                          "Change-Id"),
        Param("revision", where="path", max_length=64,
              description="patch set number, 'current' or a commit id")]
VERIFICATION = obj({"name": STR, "value": INT, "abstain": BOOL, "rerun": BOOL, "url": NSTR,
                    "reporter": NSTR, "comment": NSTR, "category": NSTR, "duration": NSTR,
                    "granted": STR})
RESPONSE = {"type": "object", "additionalProperties": VERIFICATION,
            "description": "verification uuid -> verification, in the requested order"}


POST_OPERATION = {
    "operationId": "verify_status_post_verifications", "tags": ["verify-status"],
    "summary": "Report a CI's verifications of a patch set (needs a token)",
    "security": [{"bearer": []}],
    "parameters": [p.openapi() for p in PATH],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["verifications"],
        "properties": {"verifications": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["value"],
            "properties": {"value": {"type": "integer", "enum": [-1, 0, 1]},
                           "url": {"type": "string"}, "reporter": {"type": "string"},
                           "comment": {"type": "string"}, "category": {"type": "string"},
                           "duration": {"type": "string"}, "abstain": {"type": "boolean"},
                           "rerun": {"type": "boolean"}}}}}}}}},
    "responses": {"204": {"description": "stored"}, **write_error_responses({
        400: "a malformed body or path (the error names the field)",
        404: "unknown change or patch set"})}}


def register_operations(app) -> None:
    """List the POST in the OpenAPI document (spec.py's endpoint declares GETs)."""
    add_write_operation(
        app, "/api/v1/changes/{change}/revisions/{revision}/verify-status~verifications",
        "post", POST_OPERATION)


def _resolve_error(exc: queries.ResolveError) -> ApiError:
    return ApiError(exc.status, exc.message, exc.field)


def _patch_set_for_post(conn, change: str, revision: str) -> tuple[int, int]:
    """The patch set a report is about. A report naming a change and patch
    set by number is stored even when the collector has not seen them yet
    (a CI may report first); other forms must name a stored patch set."""
    try:
        return queries.resolve_patch_set(conn, change, revision)
    except queries.ResolveError as exc:
        try:
            ref = queries.parse_change_id(change)
        except queries.ResolveError as malformed:  # "0": a 400 naming change, not a 500
            raise _resolve_error(malformed) from None
        if (exc.status == 404 and ref.number is not None and ref.branch is None
                and revision.isascii() and revision.isdigit() and 0 < len(revision) <= 9 and int(revision) > 0):
            return ref.number, int(revision)
        raise _resolve_error(exc) from None


@bp.post(RULE)
def post_verifications(change: str, revision: str):
    token = require_token()  # before the body is read: a refused request stores nothing
    for param, value in zip(PATH, (change, revision)):
        param.parse(value)
    try:
        inputs = parse_body(request.get_data())
    except BodyError as exc:
        raise bad_request(exc.field, exc.message) from None
    with write_transaction() as conn:
        number, ps_number = _patch_set_for_post(conn, change, revision)
        project = queries.parse_change_id(change).project
        try:
            store_verifications(conn, VerdictWriter(), token.ci_system, number, ps_number,
                                inputs, dt.datetime.now(dt.timezone.utc), project=project)
        except VerdictError as exc:
            raise bad_request("verifications", str(exc)) from None
        mark_used(conn, token)
    return Response(status=204)


@endpoint(bp, RULE, tag="verify-status", summary="Verifications of a patch set",
          description="As Gerrit's verify-status plugin's GET verifications: a map of "
                      "verification uuid to verification; sort=REPORTER|NAME|DATE (default: "
                      "oldest first), filter=CURRENT (the latest per job) or FAILED "
                      "(value below 0). granted is Gerrit's UTC timestamp format.",
          params=PATH + [Param("sort", "enum", enum=queries.SORTS),
                         Param("filter", "enum", enum=queries.FILTERS)],
          response=RESPONSE, cache=False)
def get_verifications(a):
    with connection() as conn:
        try:
            number, ps_number = queries.resolve_patch_set(conn, a["change"], a["revision"])
        except queries.ResolveError as exc:
            raise _resolve_error(exc) from None
        found = queries.verifications(conn, number, ps_number, a["sort"], a["filter"])
    return {row.pop("uuid"): {**row, "abstain": bool(row["abstain"]), "rerun": bool(row["rerun"]),
                              "granted": row["granted"].strftime(GERRIT_TIME)
                              if isinstance(row["granted"], dt.datetime) else str(row["granted"])}
            for row in found}

