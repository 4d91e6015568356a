"""Response caching (Flask-Caching: SimpleCache, or Redis shared by all workers)
with ETag / Cache-Control and 304 on If-None-Match.

The cache key is the method, path and every query parameter (all values of
repeated ones, order kept), under a prefix naming the database, so two apps
on one Redis never share entries. Only 200 responses are stored.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict

import orjson
from flask import Response, current_app, request
from flask_caching import Cache

from ..analytics.jsonsafe import clean
from ..compat import jsonp

cache = Cache()


class LocalCopies:
    """One app's copies of the entries its worker read from (or wrote to) Redis,
    each kept until the moment the Redis entry was set to expire: a copy is
    never older than the cache timeout, as with Redis alone. Saves the round
    trip to Redis (and the unpickling) on the dashboard's hot keys. Bounded by
    entries and bytes, least recently used out."""

    def __init__(self, max_entries: int = 512, max_bytes: int = 64 << 20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, tuple[float, bytes, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= time.time():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[1], item[2]

    def put(self, key: str, expires: float, body: bytes, etag: str) -> None:
        if len(body) > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (expires, body, etag)
            self._bytes += len(body)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        self._bytes -= len(self._items.pop(key)[1])



def init_cache(app, config) -> None:
    redis_url = config.get("cache", "redis_url")
    timeout = config.get_int("cache", "timeout", 60)
    prefix = "ci-health:" + hashlib.sha256(app.config["CI_HEALTH_DB"].encode()).hexdigest()[:12] + ":"
    settings = {"CACHE_DEFAULT_TIMEOUT": timeout, "CACHE_KEY_PREFIX": prefix}
    if config.get_bool("cache", "disabled", False):
        settings.update(CACHE_TYPE="NullCache", CACHE_NO_NULL_WARNING=True)
    elif redis_url:
        settings.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url)
    else:
        settings.update(CACHE_TYPE="SimpleCache",
                        CACHE_THRESHOLD=config.get_int("cache", "max_entries", 2000))
    app.config.update(settings)
    app.config["CI_HEALTH_CACHE_BACKEND"] = {"NullCache": "none", "RedisCache": "redis",
                                             "SimpleCache": "simple"}[settings["CACHE_TYPE"]]
    cache.init_app(app, config=settings)
    app.extensions["ci_health_local_copies"] = LocalCopies()


def request_key() -> str:
    items = sorted(request.args.items(multi=True), key=lambda kv: kv[0])
    raw = json.dumps([request.method, request.path, items], ensure_ascii=True)
    return "r:" + hashlib.sha256(raw.encode()).hexdigest()


#: orjson leaves datetimes and subclasses of the plain types to ``clean`` (ci-health's
#: own formats: a naive datetime as "...Z", a str/int enum as its value)
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def _serialise(payload, media_type: str) -> bytes:
    """The JSON bytes of a payload: never NaN or an infinity (null in their place: JSON
    has neither, and a client's parser refuses them).

    orjson first: the openstack-health /build_name/<job>/test_runs answer at hour over a
    week is 25 MB, which json.dumps took about a second to write, orjson a tenth of
    that. orjson writes NaN and infinities as null by itself -- what ``clean`` makes of
    them -- and hands every value it does not know (numpy scalars, datetimes, decimals)
    to ``clean``, one by one. What it refuses (a key that is not a string, an integer
    past 64 bits) goes through json's full walk as before."""
    if isinstance(payload, (bytes, str)):
        return payload.encode() if isinstance(payload, str) else payload
    try:
        return orjson.dumps(payload, default=clean, option=_ORJSON)
    except TypeError:
        pass
    try:
        body = json.dumps(payload, allow_nan=False, default=clean, separators=(",", ":"))
    except (ValueError, TypeError):
        # a NaN or infinity somewhere, or a key that is not a string: the full walk
        body = json.dumps(clean(payload), allow_nan=False, separators=(",", ":"))
    return body.encode()


def _finish(body: bytes, media_type: str, etag: str, max_age: int) -> Response:
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(body, mimetype=media_type)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def cached_response(spec, produce) -> Response:
    max_age = current_app.config.get("CACHE_DEFAULT_TIMEOUT", 60)
    callback = jsonp.callback_name() if spec.jsonp else None
    media_type = jsonp.MEDIA_TYPE if callback else spec.media_type
    if not spec.cache:
        payload = produce()
        if isinstance(payload, Response):
            return payload
        body = _serialise(payload, spec.media_type)
        response = Response(jsonp.wrap(body, callback) if callback else body, mimetype=media_type)
        response.headers["Cache-Control"] = "no-cache"
        return jsonp.headers(response) if callback else response
    # the key holds every query parameter, callback included: the bytes differ per callback
    key = request_key()
    bypass = "no-cache" in (request.headers.get("Cache-Control") or "")
    hit = None if bypass else _get(key)
    from .metrics import CACHE_LOOKUPS
    CACHE_LOOKUPS.labels("hit" if hit is not None else "miss").inc()
    if hit is not None:
        body, etag = hit
    else:
        body = _serialise(produce(), spec.media_type)
        if callback:
            body = jsonp.wrap(body, callback)
        etag = hashlib.sha256(body).hexdigest()[:32]
        _set(key, body, etag, max_age)
    response = _finish(body, media_type, etag, max_age)
    return jsonp.headers(response) if callback else response


def _local_copies() -> LocalCopies | None:
    """The app's LocalCopies when the cache is Redis (SimpleCache is local already)."""
    if current_app.config["CI_HEALTH_CACHE_BACKEND"] != "redis":
        return None
    return current_app.extensions["ci_health_local_copies"]


def _get(key):
    """(body, etag) of a live entry, or None."""
    local = _local_copies()
    if local is not None:
        copy = local.get(key)
        if copy is not None:
            return copy
    try:
        hit = cache.get(key)
    except Exception:  # a cache outage must not take the API down
        current_app.logger.warning("cache get failed", exc_info=True)
        return None
    if hit is None or len(hit) != 3:  # (an entry an older version wrote: a miss)
        return None
    expires, body, etag = hit
    if local is not None:
        local.put(key, expires, body, etag)
    return body, etag


def _set(key, body: bytes, etag: str, timeout: int) -> None:
    expires = time.time() + timeout
    local = _local_copies()
    if local is not None:
        local.put(key, expires, body, etag)
    try:
        cache.set(key, (expires, body, etag), timeout=timeout)
    except Exception:
        current_app.logger.warning("cache set failed", exc_info=True)
