"""REST backfill: the comments the stream missed (while disconnected, or
when Gerrit sent ``dropped-output``), fetched from Gerrit's REST API.

``GET <rest_url>/changes/?q=since:"T" [(project:A OR project:B)]
&o=MESSAGES&o=DETAILED_ACCOUNTS&o=ALL_REVISIONS&n=PAGE&S=START``; Gerrit
prefixes JSON with ``)]}'`` (stripped here) and marks the last change of a
page with ``_more_changes: true`` while there is more (paged with ``S=``).
With ``rest_user``/``rest_password`` (a Gerrit HTTP password) requests go
to ``<rest_url>/a/...`` with basic auth, as Gerrit wants.

Messages map to the same rows as stream events and dedupe against them
(see the comment key in ``rows.py``). The standard library's urllib is
enough: one GET per page, no session state.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from .store import GerritStore, StoreStats

__all__ = ["RestClient", "RestError", "backfill", "gerrit_time"]

log = logging.getLogger(__name__)
_XSSI_PREFIX = ")]}'"
OPTIONS = ("MESSAGES", "DETAILED_ACCOUNTS", "ALL_REVISIONS")


class RestError(Exception):
    """The REST API could not be used; the message is one line."""


def gerrit_time(value: dt.datetime) -> str:
    """A time for Gerrit's ``since:`` operator (UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class RestClient:
    base_url: str
    user: str | None = None
    password: str | None = None
    timeout: float = 60.0
    page_size: int = 100

    def _url(self, path: str, params: Sequence[tuple[str, str]]) -> str:
        base = self.base_url.rstrip("/")
        if self.user and self.password:
            base += "/a"
        return f"{base}/{path.lstrip('/')}?{urllib.parse.urlencode(params)}"

    def get_json(self, path: str, params: Sequence[tuple[str, str]]) -> Any:
        url = self._url(path, params)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.user and self.password:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            raise RestError(f"GET {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RestError(f"GET {url}: {reason}") from None
        if body.startswith(_XSSI_PREFIX):
            body = body[len(_XSSI_PREFIX):]
        try:
            return json.loads(body)
        except ValueError as exc:
            raise RestError(f"GET {url}: not JSON ({exc})") from None

    def query_changes(self, query: str) -> Iterator[list[dict]]:
        """Pages of ChangeInfo for ``query`` with messages, accounts and revisions."""
        start = 0
        while True:
            params = [("q", query)] + [("o", o) for o in OPTIONS] + [
                ("n", str(self.page_size)), ("S", str(start))]
            page = self.get_json("changes/", params)
            if not isinstance(page, list):
                raise RestError(f"changes query {query!r}: expected a JSON list")
            if page:
                yield page
            if not page or not (isinstance(page[-1], dict) and page[-1].get("_more_changes")):
                return
            start += len(page)


def build_query(since: dt.datetime, projects: Sequence[str] = ()) -> str:
    query = f'since:"{gerrit_time(since)}"'
    if projects:
        query += " (" + " OR ".join(f'project:"{p}"' for p in projects) + ")"
    return query


def backfill(store: GerritStore, client: RestClient, since: dt.datetime,
             projects: Sequence[str] = ()) -> StoreStats:
    """Store every change updated since ``since`` with its messages posted since then."""
    total = StoreStats()
    query = build_query(since, projects)
    log.info("REST backfill: %s", query)
    for page in client.query_changes(query):
        total.add(store.store_rest_changes(page, since=since))
    log.info("REST backfill done: %d new comments, %d duplicates", total.comments,
             total.duplicate_comments)
    return total
