"""Retention of the CI verdict tables: ``ci-health db expire`` deletes CI
comments posted before the cutoff with their job results, and the results
without a comment (Zuul builds, verify-status reports with their
verifications) posted before it, in bounded batches
(one short transaction each, so a live listener and the API are never blocked
for long). Changes, patch sets and CI systems stay: they are small, and a
comment posted later may still need them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete, select

from ..db import models as m
from ..verdicts import rollup


def expire_ci_verdicts(engine: Engine, *, days: int, batch_size: int = 500,
                       now: dt.datetime | None = None) -> dict[str, int]:
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    cutoff = now - dt.timedelta(days=days)
    comments = results = 0
    c, j = m.ci_comments.c, m.ci_job_results.c
    while True:
        with engine.begin() as conn:
            ids = list(conn.execute(select(c.id).where(c.posted_at < cutoff)
                                    .order_by(c.id).limit(batch_size)).scalars())
            if not ids:
                break
            results += conn.execute(delete(m.ci_job_results).where(
                j.comment_id.in_(ids))).rowcount or 0
            comments += conn.execute(delete(m.ci_comments).where(c.id.in_(ids))).rowcount or 0
    v = m.ci_verifications.c
    while True:
        with engine.begin() as conn:
            ids = list(conn.execute(select(j.id).where(j.comment_id.is_(None), j.posted_at < cutoff)
                                    .order_by(j.id).limit(batch_size)).scalars())
            if not ids:
                break
            conn.execute(delete(m.ci_verifications).where(v.job_result_id.in_(ids)))
            results += conn.execute(delete(m.ci_job_results).where(j.id.in_(ids))).rowcount or 0
    with engine.begin() as conn:
        rollup.expire(conn, cutoff)
    return {"ci_comments": comments, "ci_job_results": results}
