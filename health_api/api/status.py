"""Service status and the OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import __version__, rules
from . import reports
from .db import engine
from .errors import _database_down
from .spec import BOOL, INT, NNUM, NSTR, NTIME, STR, arr, endpoint, obj, openapi_document

#: the shared rules (health_api.rules) the dashboard reads instead of copying them
RULES = obj({"statuses": {"type": "object", "additionalProperties": {
                 "type": "string", "enum": [rules.PASS, rules.FAIL, rules.SKIP]}},
             "outcomes": arr(STR), "job_key": STR, "no_job_name": STR,
             "resolutions": arr(obj({"name": STR, "seconds": INT,
                                     "max_window_seconds": INT}))})

bp = Blueprint("status", __name__, url_prefix="/api/v1")


@endpoint(bp, "/status", tag="status", summary="Database reachability, schema version, data "
          "freshness, replica lag, cache backend, version, the shared rules", params=[], cache=False,
          errors=(503,),
          response=obj({"database": {"type": "string", "enum": ["ok"]},
                        "schema": obj({"current": NSTR, "head": NSTR, "up_to_date": BOOL}),
                        "newest_run_at": NTIME,
                        # null unless the API reads from a PostgreSQL standby ([database] read_url)
                        "replica": {**obj({"lag_seconds": NNUM, "streaming": BOOL}),
                                    "type": ["object", "null"]},
                        "cache": STR, "version": STR,
                        "rules": RULES}))
def status(a):
    base = {"cache": current_app.config["CI_HEALTH_CACHE_BACKEND"], "version": __version__,
            "rules": rules.as_json()}
    try:
        info = reports.status(engine())
    except Exception as exc:
        if not _database_down(exc):
            raise
        response = jsonify({"error": {"message": "the database is unavailable", "field": None},
                            "database": "unavailable", **base})
        response.status_code = 503
        return response
    info["schema"]["up_to_date"] = info["schema"]["current"] == info["schema"]["head"]
    return {"database": "ok", **info, **base}


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app, __version__))
