"""The source-neutral verdict writer on every engine: parents created once,
attempts numbered across sources (a Gerrit comment's job line and a Zuul
build of the same job on the same patch set), idempotent on the result key,
and a bad verdict refused before anything is written."""
from __future__ import annotations

import datetime as dt

import pytest

from health_api.gerrit.store import GerritStore
from health_api.verdicts import Verdict, VerdictError, VerdictWriter

from streams import rows

T0 = dt.datetime(2026, 11, 3, 10, 0, 0)


def _verdict(key, job="tempest-full", result="SUCCESS", minutes=0, **more):
    values = dict(ci_system="acme-ci", change=4242, patch_set=2, job=job, result=result,
                  posted_at=T0 + dt.timedelta(minutes=minutes), source="zuul",
                  result_key=f"zuul:{key}", pipeline="check", project="openstack/nova",
                  branch="master")
    values.update(more)
    return Verdict(**values)


def _results(engine):
    return rows(engine, "SELECT c.username, ch.number, ps.number, r.pipeline, r.job, r.result, "
                        "r.attempt, r.source, r.result_key, r.comment_id FROM ci_job_results r "
                        "JOIN ci_systems c ON c.id = r.ci_system_id "
                        "JOIN patch_sets ps ON ps.id = r.patch_set_id "
                        "JOIN changes ch ON ch.id = ps.change_id ORDER BY r.posted_at, r.job")


def test_writes_parents_and_numbers_attempts(engine):
    writer = VerdictWriter()
    with engine.begin() as conn:
        first = writer.write(conn, [
            _verdict("b1", result="failure", minutes=0, url="https://logs/b1", duration=600),
            _verdict("b2", job="unit-py3", minutes=1, voting=False),
        ])
    assert (first.stored, first.duplicates) == (2, 0)
    with engine.begin() as conn:  # a later run of the same job, from a fresh writer
        VerdictWriter().write(conn, [_verdict("b3", minutes=30)])
    assert _results(engine) == [
        ("acme-ci", 4242, 2, "check", "tempest-full", "FAILURE", 1, "zuul", "zuul:b1", None),
        ("acme-ci", 4242, 2, "check", "unit-py3", "SUCCESS", 1, "zuul", "zuul:b2", None),
        ("acme-ci", 4242, 2, "check", "tempest-full", "SUCCESS", 2, "zuul", "zuul:b3", None),
    ]
    assert rows(engine, "SELECT number, project, branch FROM changes") == [
        (4242, "openstack/nova", "master")]
    assert rows(engine, "SELECT username, display_name FROM ci_systems") == [
        ("acme-ci", "acme-ci")]
    assert rows(engine, "SELECT url, duration FROM ci_job_results WHERE result_key = 'zuul:b1'"
                ) == [("https://logs/b1", 600)]

    with engine.begin() as conn:  # the same verdicts again: nothing new
        again = writer.write(conn, [_verdict("b1", result="failure"), _verdict("b3", minutes=30)])
    assert (again.stored, again.duplicates) == (0, 2)
    assert set(again.rows) == {"zuul:b1", "zuul:b3"}
    assert len(_results(engine)) == 3


def test_a_late_result_renumbers_its_group(engine):
    writer = VerdictWriter()
    with engine.begin() as conn:
        writer.write(conn, [_verdict("late-2", minutes=20)])
    with engine.begin() as conn:
        writer.write(conn, [_verdict("late-1", result="FAILURE", minutes=5)])
    assert [(r[5], r[6]) for r in _results(engine)] == [("FAILURE", 1), ("SUCCESS", 2)]


def test_attempts_count_every_source(engine):
    """A Gerrit comment reported tempest-full first; a Zuul build of the same
    job on the same patch set and pipeline is its second attempt."""
    store = GerritStore(engine)
    store.ingest_lines([
        '{"type": "patchset-created", "change": {"number": 4242, "project": "openstack/nova", '
        '"branch": "master"}, "patchSet": {"number": 2}, "eventCreatedOn": 1793700000}',
        '{"type": "comment-added", "change": {"number": 4242, "project": "openstack/nova", '
        '"branch": "master"}, "patchSet": {"number": 2}, "author": {"username": "acme-ci"}, '
        '"comment": "Build failed (check pipeline).\\n\\n- tempest-full https://l/1 : FAILURE '
        'in 5m 00s", "eventCreatedOn": ' + str(int(T0.replace(tzinfo=dt.timezone.utc)
                                                     .timestamp()) - 600) + '}',
    ])
    with engine.begin() as conn:
        VerdictWriter().write(conn, [_verdict("z1")])
    found = [(r[4], r[5], r[6], r[7]) for r in _results(engine)]
    assert found == [("tempest-full", "FAILURE", 1, "gerrit"), ("tempest-full", "SUCCESS", 2, "zuul")]


@pytest.mark.parametrize("bad, message", [
    (dict(change=0), "change must be a positive integer"),
    (dict(job=""), "job is required"),
    (dict(source="jenkins"), "source must be one of gerrit, zuul, verify-status"),
    (dict(result=None), "result is required"),
])
def test_bad_verdict_stores_nothing(engine, bad, message):
    with engine.begin() as conn:
        VerdictWriter().write(conn, [_verdict("keep")])
    with pytest.raises(VerdictError, match=message):
        with engine.begin() as conn:
            VerdictWriter().write(conn, [_verdict("new-ok", minutes=3), _verdict("bad", **bad)])
    assert [r[8] for r in _results(engine)] == ["zuul:keep"]
