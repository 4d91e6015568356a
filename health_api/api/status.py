"""Service status and the OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import __version__
from . import reports
from .db import engine
from .errors import _database_down
from .spec import BOOL, NNUM, NSTR, NTIME, STR, endpoint, obj, openapi_document

bp = Blueprint("status", __name__, url_prefix="/api/v1")


@endpoint(bp, "/status", tag="status", summary="Database reachability, schema version, data "
          "freshness, replica lag, cache backend, version", params=[], cache=False,
          errors=(503,),
          response=obj({"database": {"type": "string", "enum": ["ok"]},
                        "schema": obj({"current": NSTR, "head": NSTR, "up_to_date": BOOL}),
                        "newest_run_at": NTIME,
                        # null unless the API reads from a PostgreSQL standby ([database] read_url)
                        "replica": {**obj({"lag_seconds": NNUM, "streaming": BOOL}),
                                    "type": ["object", "null"]},
                        "cache": STR, "version": STR}))
def status(a):
    base = {"cache": current_app.config["CI_HEALTH_CACHE_BACKEND"], "version": __version__}
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
