"""The daily CI rollups equal a from-scratch recomputation, whatever wrote the
verdicts (Gerrit comments, Zuul builds, verify-status reports), after late
results, re-runs and expiry; on every engine."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from health_api.db import models as m
from health_api.db.session import make_engine
from health_api.gerrit.retention import expire_ci_verdicts
from health_api.verdicts import Verdict, VerdictWriter
from health_api.verdicts import rollup

T0 = dt.datetime(2026, 11, 2, 23, 0)


def _rows(conn) -> dict[str, list]:
    out = {}
    for table, columns in ((m.ci_daily_jobs, rollup.JOB_COLUMNS),
                           (m.ci_daily_reports, rollup.REPORT_COLUMNS),
                           (m.ci_first_reports, rollup.FIRST_COLUMNS)):
        rows = conn.execute(sa.select(*[table.c[c] for c in columns])).all()
        out[table.name] = sorted((tuple(str(v) for v in r) for r in rows))
    return out


def _from_scratch(engine) -> tuple[dict, dict]:
    """(stored rollups, the rollups build_all computes), leaving the store as it was."""
    with engine.connect() as conn:
        with conn.begin() as tx:
            stored = _rows(conn)
            rollup.build_all(conn)
            rebuilt = _rows(conn)
            tx.rollback()
    return stored, rebuilt


def test_demo_rollups_equal_a_recomputation(ci_url):
    engine = make_engine(ci_url)
    stored, rebuilt = _from_scratch(engine)
    engine.dispose()
    assert stored["ci_daily_jobs"] and stored["ci_daily_reports"] and stored["ci_first_reports"]
    assert stored == rebuilt


def _verdict(key, job, result, minutes, *, ps=1, source="zuul", system="acme-ci", voting=True):
    return Verdict(ci_system=system, change=4242, patch_set=ps, job=job, result=result,
                   posted_at=T0 + dt.timedelta(minutes=minutes), source=source,
                   result_key=f"{source[:2]}:{key}", pipeline="check", url=f"https://logs/{key}",
                   duration=60, voting=voting, project="openstack/nova", branch="master")


def test_writer_rollups_follow_late_results_reruns_and_expiry(engine):
    writer = VerdictWriter()
    with engine.begin() as conn:
        writer.write(conn, [_verdict("a1", "unit", "FAILURE", 10),
                            _verdict("b1", "lint", "SUCCESS", 10),
                            _verdict("v1", "docs", "SUCCESS", 20, source="verify-status")])
    with engine.begin() as conn:  # the recheck, after midnight: a flip of unit
        writer.write(conn, [_verdict("a2", "unit", "SUCCESS", 70),
                            _verdict("b2", "lint", "NODE_FAILURE", 70),
                            _verdict("c2", "extra", "FAILURE", 75, voting=False)])
    with engine.begin() as conn:  # a late result of the first run, and a re-run
        writer.write(conn, [_verdict("a0", "unit", "SUCCESS", 5), _verdict("a2", "unit",
                                                                           "SUCCESS", 70)])
    stored, rebuilt = _from_scratch(engine)
    assert stored == rebuilt
    with engine.connect() as conn:
        jobs = conn.execute(sa.select(m.ci_daily_jobs.c.job, m.ci_daily_jobs.c.result,
                                      m.ci_daily_jobs.c.results, m.ci_daily_jobs.c.flips,
                                      m.ci_daily_jobs.c.first_results)).all()
        reports = conn.execute(sa.select(
            m.ci_daily_reports.c.day, sa.func.sum(m.ci_daily_reports.c.reports),
            sa.func.sum(m.ci_daily_reports.c.success)).group_by(m.ci_daily_reports.c.day)
            .order_by(m.ci_daily_reports.c.day)).all()
    unit = {(result, n, flips, first) for job, result, n, flips, first in jobs if job == "unit"}
    # unit: SUCCESS (late, attempt 1), FAILURE (2), SUCCESS (3): one flip, on the 3rd
    assert unit == {("SUCCESS", 1, 0, 1), ("FAILURE", 1, 0, 0), ("SUCCESS", 1, 1, 0)}
    # a comment-less report: one CI's results of one attempt on one day.
    # day 1: attempt 1 (unit SUCCESS late, lint SUCCESS, the verify-status docs
    # SUCCESS), attempt 2 (unit FAILURE); day 2: attempt 3 (unit SUCCESS),
    # attempt 2 (lint NODE_FAILURE), attempt 1 (extra FAILURE, not voting)
    assert [(str(d)[:10], n, ok) for d, n, ok in reports] == [
        ("2026-11-02", 2, 1), ("2026-11-03", 3, 2)]
    # the first report on the patch set: attempt 2's (the unit FAILURE alone,
    # complete at 23:10; attempt 1 completes with the docs result at 23:20)
    (first,) = stored["ci_first_reports"]
    assert first[3].startswith("2026-11-02 23:10")
    deleted = expire_ci_verdicts(engine, days=0, now=T0 + dt.timedelta(minutes=65))
    assert deleted["ci_job_results"] == 4
    stored, rebuilt = _from_scratch(engine)
    assert stored == rebuilt
    assert len(stored["ci_daily_reports"]) == 1
    (first,) = stored["ci_first_reports"]  # the first report left: the next day's
    assert first[3].startswith("2026-11-03 00:1")


def test_rebuild_rollups_command_builds_them(engine):
    from click.testing import CliRunner

    from health_api.cli import main
    writer = VerdictWriter()
    with engine.begin() as conn:
        writer.write(conn, [_verdict("a1", "unit", "FAILURE", 10)])
        conn.execute(sa.delete(m.ci_daily_jobs))
    result = CliRunner().invoke(main, ["db", "rebuild-rollups", "--db",
                                       engine.url.render_as_string(hide_password=False)])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert conn.execute(sa.select(m.ci_daily_jobs.c.results)).scalars().all() == [1]
