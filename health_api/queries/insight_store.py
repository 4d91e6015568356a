"""SQL for the insight tables: stored analyses, cluster labels, alert state and log."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select, update

from ..db import models as m

A, L, S, AL = m.analysis, m.cluster_labels, m.alert_state, m.alerts


def save_analysis(conn, kind: str, payload: str, computed_at: dt.datetime,
                  start: dt.datetime | None, stop: dt.datetime | None) -> None:
    """Replace the stored result of ``kind`` (in the caller's transaction)."""
    conn.execute(delete(A).where(A.c.kind == kind))
    conn.execute(insert(A).values(kind=kind, payload=payload, computed_at=computed_at,
                                  period_start=start, period_stop=stop))


def load_analysis(conn, kind: str):
    """(payload, computed_at, period_start, period_stop) or None."""
    return conn.execute(select(A.c.payload, A.c.computed_at, A.c.period_start,
                               A.c.period_stop).where(A.c.kind == kind)).first()


def labels(conn) -> dict[str, dict]:
    rows = conn.execute(select(L.c.cluster_id, L.c.label, L.c.bug_url, L.c.updated_at,
                               L.c.updated_by))
    return {r.cluster_id: {"label": r.label, "bug_url": r.bug_url, "updated_at": r.updated_at,
                           "updated_by": r.updated_by} for r in rows}


def set_label(conn, cluster_id: str, label: str, bug_url: str | None, by: str | None,
              at: dt.datetime) -> None:
    values = {"label": label, "bug_url": bug_url, "updated_by": by, "updated_at": at}
    done = conn.execute(update(L).where(L.c.cluster_id == cluster_id).values(**values))
    if not done.rowcount:
        conn.execute(insert(L).values(cluster_id=cluster_id, **values))


def raised_subjects(conn) -> set[str]:
    return {r[0] for r in conn.execute(select(S.c.subject).where(S.c.raised.is_(True)))}


def set_raised(conn, subject: str, raised: bool, at: dt.datetime) -> None:
    done = conn.execute(update(S).where(S.c.subject == subject)
                        .values(raised=raised, updated_at=at))
    if not done.rowcount:
        conn.execute(insert(S).values(subject=subject, raised=raised, updated_at=at))


def add_alert(conn, kind: str, subject: str, title: str, payload: str,
              at: dt.datetime) -> int:
    result = conn.execute(insert(AL).values(kind=kind, subject=subject, title=title[:512],
                                            payload=payload, fired_at=at))
    return int(result.inserted_primary_key[0])


def undelivered(conn) -> list:
    return conn.execute(select(AL).where(AL.c.delivered_at.is_(None)).order_by(AL.c.id)).all()


def mark_delivered(conn, alert_id: int, at: dt.datetime) -> None:
    conn.execute(update(AL).where(AL.c.id == alert_id).values(delivered_at=at))


def recent_alerts(conn, limit: int) -> list:
    return conn.execute(select(AL).order_by(AL.c.fired_at.desc(), AL.c.id.desc())
                        .limit(limit)).all()
