"""JSONP for the openstack-health routes: its AngularJS client fetches every route with
``$http.jsonp`` (``?callback=angular.callbacks._0``), as openstack-health answered through
flask-jsonpify. With ``callback=NAME`` a JSON answer becomes ``NAME(<json>);`` served as
application/javascript with ``X-Content-Type-Options: nosniff``.

Only JavaScript identifier paths (``angular.callbacks._0``, ``jQuery123_456``) of at most
``MAX_LENGTH`` characters are accepted: anything else could inject script into the
page that loads the answer, and is a 400 naming ``callback`` (plain JSON, not wrapped).
Errors under a valid callback are wrapped too (their status kept), so a script loader
that reads the body sees the message. The callback is part of the cache key and the ETag,
since the bytes differ per callback. The v1 API (/api/v1) never answers JSONP.
"""
from __future__ import annotations

import re

from flask import Response, request

from ..api.errors import bad_request

PARAM = "callback"
MAX_LENGTH = 128
MEDIA_TYPE = "application/javascript"
_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:\.[\w$]+)*", re.ASCII)


def callback_name() -> str | None:
    """The request's validated callback, or None without one; 400 if it is not a
    JavaScript identifier path."""
    values = request.args.getlist(PARAM)
    if not values:
        return None
    if len(values) > 1:
        raise bad_request(PARAM, f"{PARAM} given more than once")
    name = values[0]
    if len(name) > MAX_LENGTH:
        raise bad_request(PARAM, f"{PARAM} is longer than {MAX_LENGTH} characters")
    if not _NAME.fullmatch(name):
        raise bad_request(PARAM, f"{PARAM} must be a JavaScript identifier path such as "
                                 f"angular.callbacks._0; got {name[:50]!r}")
    return name


def wrap(body: bytes, name: str) -> bytes:
    # U+2028/2029 are valid in JSON but ended string literals in JavaScript before ES2019
    body = body.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    return name.encode() + b"(" + body + b");"


def headers(response: Response) -> Response:
    response.mimetype = MEDIA_TYPE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def wrap_error(response: Response) -> Response:
    """after_request of the compat routes: an error answer (JSON) under a valid callback
    is wrapped like a result; under an invalid one it stays the plain JSON 400."""
    if response.status_code < 400 or response.mimetype != "application/json":
        return response
    try:
        name = callback_name()
    except Exception:
        return response
    if name is None:
        return response
    response.set_data(wrap(response.get_data().rstrip(), name))
    return headers(response)
