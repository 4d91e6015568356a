"""Shared SQL pieces: bucket truncation per dialect, run outcome, metadata filters.

Everything here builds SQLAlchemy 2 expressions; values are always bound
parameters.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, case, exists, func, literal_column, select
from sqlalchemy.sql import ColumnElement

from .. import rules
from ..db import models as m

RUNS, META = m.runs, m.run_metadata

# bucket truncation producing 'YYYY-mm-dd HH:MM:SS' text, one per dialect; the
# grid itself (keys, empty buckets) is health_api.analytics.buckets
_SQLITE = {"sec": "%Y-%m-%d %H:%M:%S", "min": "%Y-%m-%d %H:%M:00",
           "hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00"}
_MYSQL = {"sec": "%Y-%m-%d %H:%i:%s", "min": "%Y-%m-%d %H:%i:00",
          "hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d 00:00:00"}
_PG = {"sec": "second", "min": "minute", "hour": "hour", "day": "day"}


def bucket(column, resolution: str, dialect: str) -> ColumnElement:
    if dialect == "sqlite":
        return func.strftime(_SQLITE[resolution], column)
    if dialect in ("mysql", "mariadb"):
        return func.date_format(column, literal_column(f"'{_MYSQL[resolution]}'"))
    return func.to_char(func.date_trunc(_PG[resolution], column),
                        literal_column("'YYYY-MM-DD HH24:MI:SS'"))


def duration_seconds(start, stop, start_us, stop_us, dialect: str) -> ColumnElement:
    """A result's duration as health_api.queries.runs.duration computes it: whole seconds
    between the second-truncated times plus the microsecond columns (subunit2sql and our
    writer always fill them; MySQL's DATETIME keeps no fraction)."""
    if dialect == "sqlite":
        # cut the fraction off first: SQLite's %s rounds x.9995 up to the next second
        whole = (func.strftime("%s", func.substr(stop, 1, 19)).cast(Integer)
                 - func.strftime("%s", func.substr(start, 1, 19)).cast(Integer))
    elif dialect in ("mysql", "mariadb"):
        whole = func.timestampdiff(literal_column("SECOND"), start, stop)
    else:
        # the floored epochs (doubles) rather than EXTRACT of the truncated times'
        # difference: the same whole seconds, without interval arithmetic and numeric
        # (EXTRACT's type since PostgreSQL 14), a third of the cost a result
        whole = (func.floor(func.date_part("epoch", stop))
                 - func.floor(func.date_part("epoch", start)))
    return whole + (func.coalesce(stop_us, 0) - func.coalesce(start_us, 0)) / 1e6


def outcome_flags():
    """(passed, failed, empty) 0/1 expressions of a run, from the one run-outcome rule."""
    return tuple(case((rules.run_outcome_is(RUNS.c.passes, RUNS.c.fails, o), 1), else_=0)
                 for o in (rules.PASSED, rules.FAILED, rules.EMPTY))


def outcome_filter(outcome: str) -> ColumnElement:
    return rules.run_outcome_is(RUNS.c.passes, RUNS.c.fails, outcome)


def meta_filters(meta: list[tuple[str, str]]) -> list[ColumnElement]:
    """One EXISTS per key:value (uses ix_run_key_value and ix_run_id)."""
    out = []
    for k, v in meta:
        alias = META.alias()
        out.append(exists(select(alias.c.id).where(
            alias.c.run_id == RUNS.c.id, alias.c.key == k, alias.c.value == v)))
    return out


def window(column, start: dt.datetime | None, stop: dt.datetime | None) -> list[ColumnElement]:
    out = []
    if start is not None:
        out.append(column >= start)
    if stop is not None:
        out.append(column < stop)
    return out


def closed_window(column, start, stop) -> list[ColumnElement]:
    """subunit2sql's date filters: start <= column <= stop, either end optional."""
    return ([column >= start] if start is not None else []) + \
        ([column <= stop] if stop is not None else [])


def dialect(conn) -> str:
    return conn.engine.dialect.name


def run_dict(row) -> dict:
    passes, fails = row.passes or 0, row.fails or 0
    outcome = rules.run_outcome(passes, fails)
    return {"id": row.id, "uuid": row.uuid, "run_at": row.run_at, "passes": passes,
            "fails": fails, "skips": row.skips or 0, "run_time": row.run_time,
            "artifacts": row.artifacts, "outcome": outcome}


def metadata_of(conn, run_ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {i: {} for i in run_ids}
    for chunk_start in range(0, len(run_ids), 500):
        chunk = run_ids[chunk_start:chunk_start + 500]
        rows = conn.execute(select(META.c.run_id, META.c.key, META.c.value)
                            .where(META.c.run_id.in_(chunk)).order_by(META.c.id))
        for run_id, k, v in rows:
            out[run_id][k] = v
    return out


def key_exists(conn, k: str) -> bool:
    return conn.execute(select(META.c.id).where(META.c.key == k).limit(1)).first() is not None


def value_exists(conn, k: str, v: str) -> bool:
    return conn.execute(select(META.c.id).where(META.c.key == k, META.c.value == v)
                        .limit(1)).first() is not None
