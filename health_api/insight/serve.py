"""What the insight endpoints serve: the stored analyses, filtered and paged.

No Flask here. A stored analysis is parsed once per worker and kept while its
``computed_at`` stays the same; a database where ``ci-health analyze`` never
ran gets one computed (and stored) on the first request, never again.
"""
from __future__ import annotations

import json
import threading

from sqlalchemy import select

from ..analytics import ranking
from ..db import models as m
from ..queries import insight_store as store
from .analyze import analyze_and_store
from .options import InsightOptions

_PARSED: dict[str, tuple] = {}
_LOCK = threading.Lock()


class NotAnalysed(LookupError):
    pass


def stored(conn, kind: str) -> dict:
    stamp = conn.execute(select(m.analysis.c.computed_at)
                         .where(m.analysis.c.kind == kind)).scalar()
    if stamp is None:
        raise NotAnalysed(kind)
    memo = _PARSED.get(kind)
    if memo is not None and memo[0] == (str(conn.engine.url), stamp):
        return memo[1]
    row = store.load_analysis(conn, kind)
    if row is None:
        raise NotAnalysed(kind)
    doc = json.loads(row.payload)
    _PARSED[kind] = ((str(conn.engine.url), row.computed_at), doc)
    return doc


def document(read_engine, write_engine, kind: str, options: InsightOptions) -> dict:
    """The stored analysis ``kind``; computed and stored first if there is none."""
    with read_engine.connect() as conn:
        try:
            return stored(conn, kind)
        except NotAnalysed:
            pass
    with _LOCK:  # one computation per worker, however many requests wait for it
        with read_engine.connect() as conn:
            try:
                return stored(conn, kind)
            except NotAnalysed:
                pass
        analyze_and_store(write_engine, options)
    with write_engine.connect() as conn:
        return stored(conn, kind)


def page(rows: list, limit: int, offset: int) -> dict:
    return {"total": len(rows), "limit": limit, "offset": offset,
            "items": rows[offset:offset + limit]}


FLAKY_SORTS = {"impact": lambda r: (-r["impact"], -r["evidence"]),
               "evidence": lambda r: (-r["evidence"], -r["impact"]),
               "failure_rate": lambda r: (-(r["failure_rate"] or 0), -r["evidence"]),
               "flip_rate": lambda r: (-(r["flip_rate"] or 0), -r["evidence"]),
               "test_id": lambda r: r["test_id"]}


def flaky_tests(doc: dict, job: str | None, only_flaky: bool, sort: str, limit: int,
                offset: int) -> dict:
    rows = doc["tests"]
    if job:
        rows = [r for r in rows if any(j["job"] == job for j in r["jobs"])]
    if only_flaky:
        rows = [r for r in rows if r["flaky"]]
    rows = sorted(rows, key=lambda r: (not r["flaky"], *FLAKY_SORTS[sort](r), r["test_id"])
                  if sort != "test_id" else r["test_id"])
    paged = page(rows, limit, offset)
    return {"start": doc["start"], "stop": doc["stop"], "computed_at": doc["computed_at"],
            "options": doc["options"], "job": job, "sort": sort, "total": paged["total"],
            "limit": limit, "offset": offset, "tests": paged["items"]}


def clusters(doc: dict, only_new: bool, test: str | None, job: str | None, limit: int,
             offset: int) -> dict:
    rows = doc["clusters"]
    if only_new:
        rows = [c for c in rows if c["new"]]
    if test:
        rows = [c for c in rows if any(t["test_id"] == test for t in c["top_tests"])]
    if job:
        rows = [c for c in rows if any(j["job"] == job for j in c["top_jobs"])]
    paged = page(rows, limit, offset)
    return {"start": doc["start"], "stop": doc["stop"], "computed_at": doc["computed_at"],
            "new_days": doc["new_days"], "total": paged["total"], "limit": limit,
            "offset": offset, "clusters": paged["items"]}


def cluster(doc: dict, cluster_id: str) -> dict | None:
    return next((c for c in doc["clusters"] if c["id"] == cluster_id), None)


def broken(doc: dict, kind: str, job: str | None) -> dict:
    rows = [e for e in doc["episodes"] if kind == "all" or e["kind"] == kind]
    if job:
        rows = [e for e in rows if e["job"] == job]
    return {"start": doc["start"], "stop": doc["stop"], "computed_at": doc["computed_at"],
            "min_probability": doc["min_probability"], "episodes": rows}


def explained(doc: dict, limit: int, offset: int) -> dict:
    out = {k: v for k, v in doc.items() if k != "unexplained"}
    out["unexplained"] = doc["unexplained"][offset:offset + limit]
    out.update(limit=limit, offset=offset)
    return out


def suspects(doc: dict, job: str | None) -> dict | None:
    rows = doc["all"] if job is None else doc["jobs"].get(job)
    if rows is None:
        return None
    return {"start": doc["start"], "stop": doc["stop"], "computed_at": doc["computed_at"],
            "job": job, "keys": doc["keys"], "suspects": rows}


def flaky_jobs(doc: dict, ci_system: str | None) -> dict:
    rows = [j for j in doc["jobs"] if ci_system is None or j["ci_system"] == ci_system]
    return {"start": doc["start"], "stop": doc["stop"], "computed_at": doc["computed_at"],
            "ci_system": ci_system, "jobs": rows}


def test_ranking(doc: dict, q: str | None, sort: str, limit: int, offset: int) -> dict:
    rows = doc["tests"]
    if q:
        rows = [r for r in rows if q in r["test_id"]]
    paged = page(ranking.ranked(rows, sort), limit, offset)
    return {"start": doc["start"], "stop": doc["stop"], "computed_at": doc["computed_at"],
            "q": q or None, "sort": sort, "total": paged["total"], "limit": limit,
            "offset": offset, "tests": paged["items"]}
