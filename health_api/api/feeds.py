"""Atom and RSS feeds of failed runs for a metadata key/value, built per request."""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import format_datetime
from urllib.parse import urlsplit

from flask import Blueprint, request

from . import reports
from .db import connection
from .errors import not_found
from .spec import Param, endpoint, limit

bp = Blueprint("feeds", __name__, url_prefix="/api/v1")
ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_PARAMS = [Param("key", required=True, max_length=255), Param("value", required=True,
               max_length=255), limit(25, 100)]


def _title(run: dict) -> str:
    return f"Failed run {run.get('build_name') or '?'}/{(run.get('uuid') or str(run['id']))[:7]}"


def _summary(run: dict) -> str:
    names = [t["test_id"] for t in run.get("failed_tests", [])]
    shown = names[:50]
    more = f"\n... and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return "Failed tests:\n" + "\n".join(shown) + more if names else "No failed test recorded."


def safe_link(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None: an artifacts value is
    whatever the uploader sent, and a feed reader follows ``javascript:`` or
    ``data:`` links as readily as web ones."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def _utc(ts: dt.datetime | None) -> dt.datetime:
    return (ts or dt.datetime(1970, 1, 1)).replace(tzinfo=dt.timezone.utc)


def atom(runs: list[dict], key: str, value: str, self_url: str) -> bytes:
    ET.register_namespace("", ATOM_NS)
    q = lambda tag: f"{{{ATOM_NS}}}{tag}"  # noqa: E731
    feed = ET.Element(q("feed"))
    ET.SubElement(feed, q("title")).text = f"Failures for {key}: {value}"
    ET.SubElement(feed, q("id")).text = self_url
    ET.SubElement(feed, q("link"), href=self_url, rel="self")
    updated = max((_utc(r["run_at"]) for r in runs), default=_utc(None))
    ET.SubElement(feed, q("updated")).text = updated.isoformat().replace("+00:00", "Z")
    for run in runs:
        entry = ET.SubElement(feed, q("entry"))
        ET.SubElement(entry, q("id")).text = f"urn:ci-health:run:{run.get('uuid') or run['id']}"
        ET.SubElement(entry, q("title")).text = _title(run)
        ET.SubElement(entry, q("updated")).text = _utc(run["run_at"]).isoformat().replace("+00:00", "Z")
        if safe_link(run.get("artifacts")):
            ET.SubElement(entry, q("link"), href=safe_link(run["artifacts"]), rel="alternate")
        ET.SubElement(entry, q("summary")).text = _summary(run)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def rss(runs: list[dict], key: str, value: str, self_url: str) -> bytes:
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = f"Failures for {key}: {value}"
    ET.SubElement(channel, "link").text = self_url
    ET.SubElement(channel, "description").text = f"The failed {key}: {value} runs feed"
    ET.SubElement(channel, "language").text = "en"
    for run in runs:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = _title(run)
        if safe_link(run.get("artifacts")):
            ET.SubElement(item, "link").text = safe_link(run["artifacts"])
        ET.SubElement(item, "guid", isPermaLink="false").text = str(run.get("uuid") or run["id"])
        ET.SubElement(item, "pubDate").text = format_datetime(_utc(run["run_at"]), usegmt=True)
        ET.SubElement(item, "description").text = _summary(run)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def feed_body(kind: str, key: str, value: str, count: int) -> bytes:
    with connection() as conn:
        runs = reports.failed_runs_feed(conn, key, value, count)
    if runs is None:
        raise not_found("value", f"no runs with {key}={value}")
    return (atom if kind == "atom" else rss)(runs, key, value, request.url)


FEED_SCHEMA = {"type": "string"}


@endpoint(bp, "/feeds/failures/atom", tag="feeds", summary="Atom feed of failed runs",
          params=FEED_PARAMS, response=FEED_SCHEMA, media_type="application/atom+xml")
def failures_atom(a):
    return feed_body("atom", a["key"], a["value"], a["limit"])


@endpoint(bp, "/feeds/failures/rss", tag="feeds", summary="RSS feed of failed runs",
          params=FEED_PARAMS, response=FEED_SCHEMA, media_type="application/rss+xml")
def failures_rss(a):
    return feed_body("rss", a["key"], a["value"], a["limit"])
