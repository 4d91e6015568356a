"""Migration 0007 on a live database: CI verdicts stored at 0006 are intact
after the upgrade (and marked as Gerrit's), a result without a comment fits
after it, and the downgrade gives the 0006 schema back."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from health_api.db.migrate import alembic_config, upgrade
from health_api.db.session import make_engine

T0 = dt.datetime(2026, 11, 2, 9, 30, 0)
RESULT_COLUMNS = ("id", "comment_id", "position", "ci_system_id", "patch_set_id", "pipeline",
                  "posted_at", "job", "result", "url", "duration", "voting", "attempt", "detail")
RESULTS_0006 = [
    (1, 1, 0, 1, 1, "check", T0, "tempest-full", "SUCCESS", "https://logs/1", 3600, True, 1, None),
    (2, 1, 1, 1, 1, "check", T0, "unit-py3", "FAILURE", None, None, False, 1, "non-voting"),
    (3, 2, 0, 1, 1, "check", T0 + dt.timedelta(hours=2), "unit-py3", "SUCCESS", None, 61, True,
     2, None),
]


def _downgrade(engine, revision):
    with engine.connect() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        conn.commit()


def _results(conn):
    return [tuple(r) for r in conn.exec_driver_sql(
        f"SELECT {', '.join(RESULT_COLUMNS)} FROM ci_job_results ORDER BY id")]


def _normalised(rows):
    # SQLite hands back booleans as 0/1 and times as text on a raw select
    out = []
    for row in rows:
        row = list(row)
        row[6] = row[6] if isinstance(row[6], dt.datetime) else dt.datetime.fromisoformat(row[6])
        row[11] = bool(row[11])
        out.append(tuple(row))
    return out


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_0007_keeps_0006_verdicts_and_downgrades(fresh_db, kind):
    engine = make_engine(fresh_db(kind))
    upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO ci_comments (id, comment_key, patch_set_id, ci_system_id, project, "
            "posted_at, pipeline, overall, raw_text, parsed) VALUES "
            "(1, 'k1', 1, 1, 'p', :t, 'check', 'FAILURE', 'Build failed', :y), "
            "(2, 'k2', 1, 1, 'p', :t2, 'check', 'SUCCESS', 'Build succeeded', :y)"),
            {"t": T0, "t2": T0 + dt.timedelta(hours=2), "y": True})
        conn.execute(sa.text(
            f"INSERT INTO ci_job_results ({', '.join(RESULT_COLUMNS)}) VALUES "
            f"({', '.join(':' + c for c in RESULT_COLUMNS)})"),
            [dict(zip(RESULT_COLUMNS, row)) for row in RESULTS_0006])

    upgrade(engine)
    inspector = sa.inspect(engine)
    assert {"ci_verifications", "ci_recheck_requests"} <= set(inspector.get_table_names())
    uniques = {u["name"]: u["column_names"]
               for u in inspector.get_unique_constraints("ci_job_results")}
    assert uniques["uq_ci_job_results_comment_pos"] == ["comment_id", "position"]
    indexes = {ix["name"]: ix for ix in inspector.get_indexes("ci_job_results")}
    assert indexes["uq_ci_job_results_result_key"]["column_names"] == ["result_key"]
    assert indexes["uq_ci_job_results_result_key"]["unique"]
    index_names = set(indexes)
    assert {"ix_ci_job_results_current", "ix_ci_job_results_system_posted",
            "ix_ci_job_results_job_posted"} <= index_names
    with engine.begin() as conn:
        assert _normalised(_results(conn)) == RESULTS_0006
        assert conn.exec_driver_sql(
            "SELECT source, result_key FROM ci_job_results ORDER BY id").all() == [
            ("gerrit", None)] * 3
        # a verdict without a comment now has a home, keyed by its result_key
        conn.execute(sa.text(
            "INSERT INTO ci_job_results (id, comment_id, position, ci_system_id, patch_set_id, "
            "posted_at, job, result, voting, attempt, source, result_key) VALUES "
            "(4, NULL, 0, 1, 1, :t, 'zuul-job', 'SUCCESS', :y, 1, 'zuul', 'zuul:abc')"),
            {"t": T0, "y": True})
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO ci_job_results (id, comment_id, position, ci_system_id, patch_set_id, "
                "posted_at, job, result, voting, attempt, source, result_key) VALUES "
                "(5, NULL, 0, 1, 1, :t, 'zuul-job', 'FAILURE', :y, 2, 'zuul', 'zuul:abc')"),
                {"t": T0, "y": True})

    _downgrade(engine, "0006")
    inspector = sa.inspect(engine)
    assert "ci_verifications" not in inspector.get_table_names()
    columns = {c["name"]: c for c in inspector.get_columns("ci_job_results")}
    assert "source" not in columns and columns["comment_id"]["nullable"] is False
    with engine.connect() as conn:
        assert _normalised(_results(conn)) == RESULTS_0006
    upgrade(engine)  # and up again
    with engine.connect() as conn:
        assert _normalised(_results(conn)) == RESULTS_0006
    engine.dispose()
