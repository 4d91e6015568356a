"""CORS for the v1 API's reads, so a dashboard served from another origin can use it.

``[api] cors_origins``: a comma-separated list of origins (``https://ci.example.org``),
or ``*`` for any; empty (the default) sends no CORS headers. Only GET/HEAD answers under
/api/v1 get them: writes need a token and are never opened to other origins (a preflight
for anything but GET/HEAD is not answered with CORS headers, so the browser refuses it).
"""
from __future__ import annotations

from flask import Flask, request

from ..config import ConfigError

PREFIX = "/api/v1/"
READS = ("GET", "HEAD")
#: headers a cross-origin script may read besides the CORS-safelisted ones
EXPOSED = "ETag, Retry-After"


def parse_origins(raw: str | None) -> frozenset[str] | None:
    """None: CORS off; {"*"}: any origin; else the exact origins."""
    origins = frozenset(o.strip().rstrip("/") for o in (raw or "").split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError(f"[api] cors_origins: {origin!r} is not an origin "
                              f"(scheme://host[:port]) or *")
    return origins or None


def init_cors(app: Flask, config) -> None:
    origins = parse_origins(config.get("api", "cors_origins", ""))
    if origins is None:
        return

    @app.after_request
    def _cors(response):
        if not request.path.startswith(PREFIX):
            return response
        origin = request.headers.get("Origin")
        preflight = (request.method == "OPTIONS"
                     and request.headers.get("Access-Control-Request-Method") in READS)
        if request.method in READS or preflight:
            # the answer differs per Origin when only listed origins are allowed
            if "*" not in origins:
                response.vary.add("Origin")
            if origin and ("*" in origins or origin in origins):
                response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
                response.headers["Access-Control-Expose-Headers"] = EXPOSED
                if preflight:
                    response.headers["Access-Control-Allow-Methods"] = ", ".join(READS)
                    response.headers["Access-Control-Max-Age"] = "600"
        return response
