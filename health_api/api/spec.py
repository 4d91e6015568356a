"""Declarative endpoint specs: one source of truth for validation and OpenAPI.

Each view is declared with ``endpoint(bp, rule, params=[...], response=...)``.
The same ``Param`` objects parse and validate the request (errors name the
parameter) and produce the OpenAPI 3.1 document served at /api/v1/openapi.json.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, request

from ..analytics.buckets import ceil
from ..rules import MAX_WINDOW, RESOLUTIONS
from .errors import bad_request

MIN_TIME = dt.datetime(1970, 1, 1)
MAX_TIME = dt.datetime(2200, 1, 1)
_META_RE = re.compile(r"^([^:]{1,255}):(.{0,255})$", re.S)


@dataclass
class Param:
    name: str
    kind: str = "string"          # string | integer | datetime | enum | meta
    where: str = "query"          # query | path
    required: bool = False
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple = ()
    repeatable: bool = False
    description: str = ""
    max_length: int = 1024
    min_length: int = 0

    def schema(self) -> dict:
        if self.kind == "integer":
            s = {"type": "integer"}
            if self.minimum is not None:
                s["minimum"] = self.minimum
            if self.maximum is not None:
                s["maximum"] = self.maximum
        elif self.kind == "datetime":
            s = {"type": "string", "format": "date-time"}
        elif self.kind == "enum":
            s = {"type": "string", "enum": list(self.enum)}
        elif self.kind == "meta":
            s = {"type": "string", "pattern": "^[^:]+:", "maxLength": 511}
        else:
            s = {"type": "string", "maxLength": self.max_length}
            if self.min_length:
                s["minLength"] = self.min_length
        if self.default is not None and not callable(self.default):
            s["default"] = self.default
        if self.repeatable:
            s = {"type": "array", "items": s}
        return s

    def openapi(self) -> dict:
        out = {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
               "schema": self.schema()}
        if self.description:
            out["description"] = self.description
        if self.repeatable:
            out.update(style="form", explode=True)
        return out

    def parse(self, raw):
        if raw is not None and "\x00" in raw:
            # PostgreSQL text cannot hold NUL: refuse it before it reaches a query
            raise bad_request(self.name, f"{self.name} contains a NUL character")
        if raw == "" and self.kind != "string":
            # an empty typed value is not "absent": `?meta=` reached the query as
            # None (a 500), and `?stop=` silently meant "now"
            raise bad_request(self.name, f"{self.name} is empty; give a value or leave "
                                         f"the parameter out")
        if raw is None or raw == "":
            if self.required:
                raise bad_request(self.name, f"{self.name} is required")
            return self.default() if callable(self.default) else self.default
        if self.kind == "integer":
            try:
                value = int(raw.strip(), 10)
            except ValueError:
                raise bad_request(self.name, f"{self.name} must be an integer, got {raw[:50]!r}") from None
            if self.minimum is not None and value < self.minimum:
                raise bad_request(self.name, f"{self.name} must be >= {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise bad_request(self.name, f"{self.name} must be <= {self.maximum}")
            return value
        if self.kind == "datetime":
            return parse_time(self.name, raw)
        if self.kind == "enum":
            if raw not in self.enum:
                raise bad_request(self.name, f"{self.name} must be one of {', '.join(self.enum)}; "
                                             f"got {raw[:50]!r}")
            return raw
        if self.kind == "meta":
            match = _META_RE.match(raw)
            if not match:
                raise bad_request(self.name, f"{self.name} must be KEY:VALUE, got {raw[:50]!r}")
            return match.group(1), match.group(2)
        if len(raw) > self.max_length:
            raise bad_request(self.name, f"{self.name} is longer than {self.max_length} characters")
        return raw


def parse_time(name: str, raw: str) -> dt.datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        else:
            value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(name, f"{name} is not an ISO 8601 time: {raw[:50]!r}") from None
    if value.tzinfo is not None:
        try:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise bad_request(name, f"{name} is out of range") from None
    if not MIN_TIME <= value < MAX_TIME:
        raise bad_request(name, f"{name} must be between 1970 and 2200")
    return value


# -- shared parameter sets -------------------------------------------------------

def _now() -> dt.datetime:
    return ceil(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "min")


START = Param("start", "datetime", description="window start, ISO 8601 (UTC if no offset); "
              "default: stop minus 7 days")
STOP = Param("stop", "datetime", description="window end (exclusive), ISO 8601; default: now")
RESOLUTION = Param("resolution", "enum", enum=RESOLUTIONS, default="day",
                   description="bucket size; widest window: " + ", ".join(
                       f"{r} {int(w.total_seconds() // 3600)} h" for r, w in MAX_WINDOW.items()))
META = Param("meta", "meta", repeatable=True,
             description="run metadata filter KEY:VALUE, repeatable (all must match)")


def limit(default: int = 50, maximum: int = 200) -> Param:
    return Param("limit", "integer", default=default, minimum=1, maximum=maximum,
                 description=f"page size (1-{maximum})")


OFFSET = Param("offset", "integer", default=0, minimum=0, maximum=100_000,
               description="rows to skip (0-100000)")
WINDOW = Param("window", "integer", default=7, minimum=1, maximum=365,
               description="trailing buckets (the bucket and the window - 1 before it) of the "
                           "rolling_* figures: failure rate and run time mean/std; the data "
                           "before `start` that they need is read, not served")
DEFAULT_SPAN = dt.timedelta(days=7)


def time_window(args: dict, resolution: str | None = None, default_span=DEFAULT_SPAN):
    """Resolve start/stop defaults, reject reversed windows and windows too wide
    for the resolution."""
    stop = args.get("stop") or _now()
    start = args.get("start") or stop - default_span
    if start < MIN_TIME:
        start = MIN_TIME
    if start >= stop:
        raise bad_request("stop", "stop must be later than start")
    if resolution is not None and stop - start > MAX_WINDOW[resolution]:
        limit_txt = _span(MAX_WINDOW[resolution])
        raise bad_request("resolution", f"a window of {_span(stop - start)} is too large for "
                                        f"resolution={resolution} (limit {limit_txt}); use a "
                                        f"coarser resolution or a shorter window")
    return start, stop


def _span(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} hours"


# -- endpoint registry -------------------------------------------------------------

@dataclass
class Spec:
    summary: str
    params: list[Param]
    response: dict
    tag: str
    description: str = ""
    media_type: str = "application/json"
    errors: tuple = (400, 404, 503)
    cache: bool = True
    jsonp: bool = False
    extra: dict = field(default_factory=dict)


def parse_args(params: list[Param], path_args: dict) -> dict:
    out = {}
    for p in params:
        if p.where == "path":
            out[p.name] = p.parse(path_args.get(p.name))
        elif p.repeatable:
            out[p.name] = [p.parse(v) for v in request.args.getlist(p.name)]
        else:
            values = request.args.getlist(p.name)
            if len(values) > 1:
                raise bad_request(p.name, f"{p.name} given more than once")
            out[p.name] = p.parse(values[0] if values else None)
    return out


def endpoint(bp, rule: str, *, summary: str, params: list[Param], response: dict,
             tag: str, description: str = "", media_type: str = "application/json",
             errors=(400, 404, 503), cache: bool = True, jsonp: bool = False):
    """Register a GET view taking the parsed arguments as one dict; ``jsonp``: it also
    answers ``callback=NAME`` as JavaScript (the openstack-health routes only)."""
    from .cache import cached_response

    spec = Spec(summary, params, response, tag, description, media_type, errors, cache, jsonp)

    def deco(fn: Callable):
        def view(**path_args):
            return cached_response(spec, lambda: fn(parse_args(params, path_args)))
        view.__name__ = fn.__name__
        view.__doc__ = fn.__doc__
        view._spec = spec
        bp.add_url_rule(rule, fn.__name__, view, methods=["GET"])
        return fn
    return deco


_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message", "field"],
    "properties": {"message": {"type": "string"}, "field": {"type": ["string", "null"]}}}}}
_ERROR_TEXT = {400: "invalid parameter (the error names it)", 404: "not found",
               503: "database unavailable",
               414: "request line too long (answered by the server before the app)",
               431: "request headers too large (answered by the server before the app)"}
#: answered by gunicorn itself for any route, as JSON (health_api/serve_worker.py)
SERVER_ERRORS = (414, 431)


def error_responses(codes: dict[int, str]) -> dict:
    """OpenAPI responses for error statuses, all with the Error body."""
    return {str(code): {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for code, text in codes.items()}


#: what every token-protected write operation can answer besides its own errors
WRITE_ERRORS = {401: "no token, or an unknown or revoked one",
                413: "body over [api] max_body_bytes", 414: "request line too long",
                431: "request headers too large", 503: "database unavailable"}


def write_error_responses(codes: dict[int, str]) -> dict:
    """error_responses of a write operation: WRITE_ERRORS and its own ``codes``
    (which may reword one of them)."""
    return error_responses(dict(sorted({**WRITE_ERRORS, **codes}.items())))


def add_write_operation(app: Flask, path: str, method: str, operation: dict) -> None:
    """List a write route in the OpenAPI document (``endpoint`` declares GETs)."""
    app.extensions.setdefault("ci_health_write_operations", []).append(
        (path, method, operation))


def openapi_document(app: Flask, version: str) -> dict:
    paths: dict = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec: Spec | None = getattr(view, "_spec", None)
        if spec is None:
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        responses = {"200": {"description": "OK",
                             "content": {spec.media_type: {"schema": spec.response}}}}
        if spec.cache:
            responses["304"] = {"description": "not modified (If-None-Match matched the ETag)"}
        for code in (*spec.errors, *SERVER_ERRORS):
            responses[str(code)] = {"description": _ERROR_TEXT[code],
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        op = {"operationId": rule.endpoint.replace(".", "_"), "summary": spec.summary,
              "tags": [spec.tag], "parameters": [p.openapi() for p in spec.params],
              "responses": responses}
        if spec.description:
            op["description"] = spec.description
        paths.setdefault(path, {})["get"] = op
    for path, method, op in app.extensions.get("ci_health_write_operations", ()):
        paths.setdefault(path, {})[method] = op
    return {"openapi": "3.1.0",
            "info": {"title": "ci-health API", "version": version,
                     "description": "CI health: run, job and test health over time. Times are "
                                    "UTC; bucket keys are ISO 8601; JSON never holds NaN."},
            "paths": paths,
            "components": {"schemas": {"Error": ERROR_SCHEMA},
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}


# -- response schema helpers ---------------------------------------------------------

def obj(props: dict, required: list | None = None, extra=None) -> dict:
    s = {"type": "object", "properties": props,
         "required": list(props) if required is None else required}
    if extra is not None:
        s["additionalProperties"] = extra
    return s


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def nullable(kind: str, **more) -> dict:
    return {"type": [kind, "null"], **more}


INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}
NNUM = nullable("number")
NSTR = nullable("string")
RATE = {"failure_rate": nullable("number", minimum=0, maximum=1), "n": INT,
        "ci_low": nullable("number", minimum=0, maximum=1),
        "ci_high": nullable("number", minimum=0, maximum=1)}
#: RATE over the trailing `window` buckets of a point
ROLLING_RATE = {f"rolling_{k}": v for k, v in RATE.items()}
