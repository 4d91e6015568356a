"""Bearer-token checks for the write routes; reads stay public.

A write view calls :func:`require_token` before it reads its body or writes
anything, so a refused request stores nothing. Tokens are checked against the
primary database, never a read replica, so a revocation takes effect at once.
"""
from __future__ import annotations

from flask import Flask, request

from ..tokens import TokenInfo, verify_token
from .db import write_engine
from .errors import ApiError

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, "Authorization",
                    headers={"WWW-Authenticate": 'Bearer realm="ci-health"'})


def require_token() -> TokenInfo:
    """The token of this request, or a 401 JSON error."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("this route needs a token: send 'Authorization: Bearer <token>' "
                            "(create one with 'ci-health token create')")
    with write_engine().connect() as conn:
        token = verify_token(conn, value.strip())
    if token is None:
        raise _unauthorized("the token is unknown or has been revoked")
    return token


def init_body_limit(app: Flask, config) -> None:
    """Request bodies over ``[api] max_body_bytes`` get a 413 JSON error (Flask
    refuses them as soon as the body is read)."""
    limit = config.get_int("api", "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    app.config["MAX_CONTENT_LENGTH"] = limit if limit > 0 else None


def max_body_bytes(app: Flask) -> int | None:
    return app.config.get("MAX_CONTENT_LENGTH")
