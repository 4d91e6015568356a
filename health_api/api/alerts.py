"""The alert log (``ci-health analyze`` fires alerts): JSON and an Atom feed."""
from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

from flask import Blueprint, request

from ..analytics.jsonsafe import clean
from ..queries import insight_store as store
from .db import connection
from .spec import INT, NTIME, STR, TIME, arr, endpoint, limit, obj

bp = Blueprint("alerts", __name__, url_prefix="/api/v1")
ATOM_NS = "http://www.w3.org/2005/Atom"
ALERT = obj({"id": INT, "kind": STR, "subject": STR, "title": STR, "fired_at": TIME,
             "delivered_at": NTIME, "detail": {"type": "object"}})


def _alerts(count: int) -> list[dict]:
    with connection() as conn:
        rows = store.recent_alerts(conn, count)
    return [{"id": r.id, "kind": r.kind, "subject": r.subject, "title": r.title,
             "fired_at": r.fired_at, "delivered_at": r.delivered_at,
             "detail": json.loads(r.payload)} for r in rows]


@endpoint(bp, "/alerts", tag="insight", summary="Alerts fired, newest first",
          description="A job's failure rate crossing [alerts] raise_rate (once per crossing: it "
                      "clears below clear_rate) or a new failure cluster.",
          params=[limit(50, 500)], response=obj({"alerts": arr(ALERT)}))
def alerts_json(a):
    return {"alerts": clean(_alerts(a["limit"]))}


def _stamp(ts: dt.datetime) -> str:
    return ts.replace(microsecond=0).isoformat() + "Z"


@endpoint(bp, "/alerts/atom", tag="insight", summary="Atom feed of alerts",
          params=[limit(25, 100)], response={"type": "string"},
          media_type="application/atom+xml")
def alerts_atom(a):
    alerts = _alerts(a["limit"])
    ET.register_namespace("", ATOM_NS)
    q = lambda tag: f"{{{ATOM_NS}}}{tag}"  # noqa: E731
    feed = ET.Element(q("feed"))
    ET.SubElement(feed, q("title")).text = "ci-health alerts"
    ET.SubElement(feed, q("id")).text = request.url
    ET.SubElement(feed, q("link"), href=request.url, rel="self")
    updated = max((x["fired_at"] for x in alerts), default=dt.datetime(1970, 1, 1))
    ET.SubElement(feed, q("updated")).text = _stamp(updated)
    for alert in alerts:
        entry = ET.SubElement(feed, q("entry"))
        ET.SubElement(entry, q("id")).text = f"urn:ci-health:alert:{alert['id']}"
        ET.SubElement(entry, q("title")).text = alert["title"]
        ET.SubElement(entry, q("updated")).text = _stamp(alert["fired_at"])
        ET.SubElement(entry, q("summary")).text = json.dumps(clean(alert["detail"]), indent=1)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
