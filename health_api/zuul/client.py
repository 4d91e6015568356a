"""A small client of Zuul web's REST API: JSON over HTTP(S), with retries.

Transient failures (connection refused or reset, timeouts, HTTP 429 and
5xx) are retried with exponential backoff by tenacity, the retry library
the project already uses for deadlocks; anything else fails at once with
``ZuulError``, a one-line message naming the URL.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Mapping

import tenacity

__all__ = ["ZuulClient", "ZuulError"]

USER_AGENT = "ci-health zuul import"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class ZuulError(Exception):
    """The Zuul API cannot be read (bad URL, refused, not a Zuul answer)."""


class _Transient(Exception):
    """A failure worth another try."""


class ZuulClient:
    """``root``: the API root, e.g. ``https://zuul.example.org/api`` (the
    ``tenant/<name>/...`` routes are below it)."""

    def __init__(self, root: str, *, timeout: float = 30.0, attempts: int = 5,
                 backoff: float = 0.5, max_backoff: float = 30.0):
        parsed = urllib.parse.urlsplit(root or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ZuulError(f"--url must be an http(s) URL of a Zuul API root, got {root!r}")
        self.root = root.rstrip("/") + "/"
        self.timeout = timeout
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            stop=tenacity.stop_after_attempt(attempts),
            wait=tenacity.wait_exponential(multiplier=backoff, max=max_backoff),
            reraise=True)

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items()
                                        if v is not None})
        return self.root + path + ("?" + query if query else "")

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        url = self.url(path, params)
        try:
            body = self._retrying(self._get, url)
        except _Transient as exc:
            raise ZuulError(f"{url}: {exc} (gave up after retries)") from None
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise ZuulError(f"{url}: the answer is not JSON: not a Zuul API") from None

    def _get(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                       "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            if exc.code in _RETRY_STATUS:
                raise _Transient(f"HTTP {exc.code}") from None
            if exc.code == 404:
                raise ZuulError(f"{url}: HTTP 404 (no such tenant, or not a Zuul API root)"
                                ) from None
            raise ZuulError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, socket.gaierror):
                raise ZuulError(f"{url}: unknown host") from None
            raise _Transient(str(reason)) from None
        except (TimeoutError, ConnectionError, socket.timeout) as exc:
            raise _Transient(str(exc) or type(exc).__name__) from None
