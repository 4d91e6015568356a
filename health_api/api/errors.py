"""JSON errors: ``{"error": {"message": ..., "field": ...}}`` for every failure."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException

from ..config import ConfigError
from ..db.session import DatabaseError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.headers = headers or {}


def bad_request(field: str, message: str) -> ApiError:
    return ApiError(400, message, field)


def not_found(field: str, message: str) -> ApiError:
    return ApiError(404, message, field)


def error_response(status: int, message: str, field: str | None = None):
    response = jsonify({"error": {"message": message, "field": field}})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


_MISSING = ("doesn't exist", "does not exist", "no such table")


def _database_down(exc) -> bool:
    """Unreachable, or its schema is gone (a database being restored): 503, retry."""
    if isinstance(exc, (OperationalError, InterfaceError, DatabaseError)):
        return True
    if isinstance(exc, ProgrammingError) and any(m in str(exc.orig) for m in _MISSING):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response = error_response(exc.status, exc.message, exc.field)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        response = error_response(exc.code or 500, exc.description or exc.name)
        # keep what the exception says beside its body: Allow on a 405 (RFC 9110)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    # A configuration file read while answering (etc/cluster-labels.yaml) that
    # is broken: the operator's to fix, so say what is wrong, not "internal error".
    @app.errorhandler(ConfigError)
    def _config_error(exc: ConfigError):
        log.error("configuration error: %s", exc)
        return error_response(500, f"server configuration error: {exc}")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if _database_down(exc):
            log.warning("database unavailable: %s", str(exc).splitlines()[0])
            response = error_response(503, "the database is unavailable; retry shortly")
            response.headers["Retry-After"] = "5"
            return response
        log.exception("unhandled error")
        return error_response(500, "internal error")
