"""health_api.gerrit.store on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from health_api.gerrit.replay import reset_ci_tables
from health_api.gerrit.store import GerritStore, comment_key
from health_api.gerrit.systems import CiOverrides, CiSystemConfig
from sshd.helpers import (T0, comment_event, count, created_event, dump, rest_change,
                          status_event, zuul_report)


def store_dicts(store, dicts):
    return store.store_raw_events(list(dicts))


def jobs(engine, where=""):
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT j.job, j.result, j.attempt, j.pipeline, s.username FROM ci_job_results j "
            f"JOIN ci_systems s ON s.id = j.ci_system_id {where} "
            "ORDER BY j.posted_at, j.position").all()


def test_patchset_created_makes_change_and_patch_set(engine):
    stats = store_dicts(GerritStore(engine), [created_event(100, 1), created_event(100, 2, T0 + 60),
                                              created_event(100, 2, T0 + 60)])
    assert stats.events == 3 and stats.patch_sets == 2
    assert count(engine, "changes") == 1
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT number, project, branch, revision, created_on, kind, "
                                    "uploader FROM patch_sets ORDER BY number")).all()
    assert [r[0] for r in rows] == [1, 2]
    assert rows[0][1:3] == ("openstack/nova", "master")
    assert str(rows[1][4]).startswith("2026-09-21 ")
    assert rows[0][5] == "REWORK" and rows[0][6] == "ada"


def test_ci_comment_with_jobs_and_the_same_event_twice(engine):
    report = zuul_report([("tox-py312", "SUCCESS"), ("tempest-full", "FAILURE")])
    event = comment_event(100, 1, report, T0 + 600, verified=-1)
    store = GerritStore(engine)
    first = store_dicts(store, [created_event(100), event])
    second = store_dicts(GerritStore(engine), [event])  # a new process, no caches
    again = store_dicts(store, [event])
    assert (first.comments, first.job_results) == (1, 2)
    assert (second.comments, second.duplicate_comments) == (0, 1)
    assert again.comments == 0 and again.duplicate_comments == 1
    assert count(engine, "ci_comments") == 1 and count(engine, "ci_job_results") == 2
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT pipeline, overall, votes, parsed, project, raw_text "
                                   "FROM ci_comments")).one()
        system = conn.execute(sa.text("SELECT username, display_name, declared, first_seen "
                                      "FROM ci_systems")).one()
    assert row[:2] == ("check", "FAILURE")
    assert json.loads(row[2]) == {"Verified": -1}
    assert bool(row[3]) is True and row[4] == "openstack/nova" and row[5] == report
    assert system[0] == "zuul" and system[1] == "Zuul" and not system[2]
    assert [tuple(r) for r in jobs(engine)] == [("tox-py312", "SUCCESS", 1, "check", "zuul"),
                                                ("tempest-full", "FAILURE", 1, "check", "zuul")]


def test_recheck_keeps_every_attempt(engine):
    store = GerritStore(engine)
    store_dicts(store, [
        created_event(7),
        comment_event(7, 1, zuul_report([("nova-tox", "SUCCESS"), ("flaky", "FAILURE")]), T0 + 100),
        comment_event(7, 1, "recheck", T0 + 200, author="ada"),
        comment_event(7, 1, zuul_report([("nova-tox", "SUCCESS"), ("flaky", "SUCCESS")]), T0 + 900),
        comment_event(7, 1, zuul_report([("flaky", "SUCCESS")], pipeline="gate"), T0 + 1900),
    ])
    got = [(r.job, r.result, r.attempt, r.pipeline) for r in jobs(engine)]
    assert got == [("nova-tox", "SUCCESS", 1, "check"), ("flaky", "FAILURE", 1, "check"),
                   ("nova-tox", "SUCCESS", 2, "check"), ("flaky", "SUCCESS", 2, "check"),
                   ("flaky", "SUCCESS", 1, "gate")]
    # a backfill delivering an older attempt late renumbers the group (new store: cold cache
    # and warm cache both)
    for fresh in (GerritStore(engine), store):
        late = comment_event(7, 1, zuul_report([("flaky", "NODE_FAILURE")]), T0 + 50 + (fresh is store))
        store_dicts(fresh, [late])
    got = [(r.job, r.result, r.attempt) for r in jobs(engine, "WHERE j.job = 'flaky' AND "
                                                              "j.pipeline = 'check'")]
    assert got == [("flaky", "NODE_FAILURE", 1), ("flaky", "NODE_FAILURE", 2),
                   ("flaky", "FAILURE", 3), ("flaky", "SUCCESS", 4)]


def test_who_is_a_ci(engine):
    declared = {"quiet-ci": CiSystemConfig("quiet-ci", account_id=77,
                                           overrides=CiOverrides(display_name="Quiet CI"))}
    store = GerritStore(engine, declared)
    stats = store_dicts(store, [
        created_event(5),
        comment_event(5, 1, "Looks good to me, thanks!", T0 + 10, author="ada"),
        comment_event(5, 1, "Patch Set 1:\n\nsomething went wrong, see logs", T0 + 20,
                      author="quiet-ci"),                                 # declared: kept raw
        comment_event(5, 1, "Patch Set 1: Verified+1\n\nall good", T0 + 30, author="voter",
                      verified=1),                                        # discovered by vote
        comment_event(5, 1, "Patch Set 1:\n\nI am confused", T0 + 40, author="voter"),  # known now
    ])
    assert stats.non_ci_comments == 1 and stats.comments == 3 and stats.unparsed_comments == 3
    with engine.connect() as conn:
        systems = conn.execute(sa.text("SELECT username, display_name, declared, account_id "
                                       "FROM ci_systems ORDER BY username")).all()
        parsed = conn.execute(sa.text("SELECT parsed FROM ci_comments")).scalars().all()
    assert [(s[0], s[1], bool(s[2]), s[3]) for s in systems] == [
        ("quiet-ci", "Quiet CI", True, 77), ("voter", "Voter", False, None)]
    assert not any(parsed)


def test_events_missing_parts_are_counted_not_fatal(engine):
    broken = [
        {"type": "comment-added", "comment": "Build succeeded.", "eventCreatedOn": T0},
        {"type": "comment-added", "change": {"number": 9}, "comment": "x", "eventCreatedOn": T0},
        {"type": "comment-added", "change": {"number": 9}, "patchSet": {"number": 1},
         "comment": "Build succeeded.", "eventCreatedOn": T0},           # no author
        {"type": "patchset-created", "patchSet": {"number": 1}},
        {"type": "change-merged", "eventCreatedOn": T0},
        {"type": "dropped-output"}, {"type": "ref-updated"},
    ]
    store = GerritStore(engine)
    stats = store_dicts(store, [created_event(8)] + broken + [created_event(8, 2)])
    assert stats.skipped_missing == 5 and stats.dropped_output == 1 and stats.other_events == 1
    assert stats.patch_sets == 2 and stats.failed == 0
    lines = ["{not json", '{"type": "comment-added", "change": {"numb', "[1, 2]", ""]
    assert store.ingest_lines(lines).malformed == 4
    assert count(engine, "patch_sets") == 2


def test_odd_text_is_stored_on_every_engine(engine):
    big_job_lines = "\n".join(f"- job-{i} https://logs.example.org/{i} : SUCCESS in 1s"
                              for i in range(20))
    huge = zuul_report([("big", "SUCCESS")]) + "\n" + big_job_lines + "\n" + "x" * 1_048_576
    texts = {
        "ja": "Patch Set 1: Verified+1\n\nビルドが成功しました (check pipeline).\n\n- ジョブ https://l/1 : SUCCESS",
        "ru": "Patch Set 1:\n\nСборка упала 💥 — смотрите логи",
        "nul": "Build failed.\n\n- job\x00x https://l/2 : FAILURE",
        "surrogate": "Build failed.\n\n- bad\ud800 https://l/3 : FAILURE",
        "huge": huge,
        "long-job": "Build failed.\n\n- " + "j" * 400 + " https://l/4 : " + "R" * 60 + " in 99999h 5s",
    }
    store = GerritStore(engine, {"ci": CiSystemConfig("ci")})
    events = [created_event(3)] + [comment_event(3, 1, text, T0 + i, author="ci")
                                   for i, text in enumerate(texts.values())]
    stats = store_dicts(store, events)
    assert stats.failed == 0 and stats.comments == len(texts)
    with engine.connect() as conn:
        lengths = conn.execute(sa.text("SELECT LENGTH(raw_text) FROM ci_comments")).scalars().all()
        job_names = conn.execute(sa.text("SELECT job FROM ci_job_results")).scalars().all()
    assert max(lengths) >= 1_048_576
    assert "ジョブ" in job_names and "j" * 255 in job_names and len(job_names) == 25


def test_status_events_apply_in_time_order(engine):
    store = GerritStore(engine)
    store_dicts(store, [created_event(11), status_event("change-abandoned", 11, T0 + 100),
                        status_event("change-restored", 11, T0 + 200)])
    # a late-arriving older event does not override the newer state
    store_dicts(store, [status_event("change-abandoned", 11, T0 + 150)])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM changes")).scalar() == "NEW"
    store_dicts(store, [status_event("change-merged", 11, T0 + 300)])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM changes")).scalar() == "MERGED"


def test_stream_and_rest_copies_of_a_comment_dedupe(engine):
    report = zuul_report([("tox", "SUCCESS")])
    store = GerritStore(engine)
    store_dicts(store, [created_event(21), comment_event(21, 1, report, T0 + 500)])
    rest = [rest_change(21, [
        ("m1", "ada", 1000, T0 + 5, 1, "Uploaded patch set 1."),
        ("m2", "zuul", 22348, T0 + 500, 1, report + "\n"),          # the same comment
        ("m3", "zuul", 22348, T0 + 900, 2, zuul_report([("tox", "FAILURE")], ps=2)),
    ], patch_sets=2, status="ABANDONED", updated=T0 + 1000)]
    stats = store.store_rest_changes(rest)
    assert stats.comments == 1 and stats.duplicate_comments == 1 and stats.patch_sets == 1
    assert GerritStore(engine).store_rest_changes(rest).comments == 0
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT message_id, parsed FROM ci_comments "
                                    "ORDER BY posted_at")).all()
        status = conn.execute(sa.text("SELECT status FROM changes")).scalar()
    assert [r[0] for r in rows] == ["m2", "m3"]
    assert status == "ABANDONED"
    key = comment_key(21, 1, "zuul", dt.datetime.fromtimestamp(T0 + 500, dt.timezone.utc),
                      report + "\r\n")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ci_comments WHERE comment_key = :k"),
                            {"k": key}).scalar() == 1


def test_rest_messages_without_username_use_the_declared_account(engine):
    store = GerritStore(engine, {"acme-ci": CiSystemConfig("acme-ci", account_id=555)})
    change = rest_change(30, [("a", "", 555, T0 + 10, 1, "Build succeeded.\n\n- j https://x/1 : SUCCESS"),
                              ("b", "", 556, T0 + 20, 1, "Build succeeded.\n\n- k https://x/2 : SUCCESS")])
    for message in change["messages"]:
        del message["author"]["username"]
    stats = store.store_rest_changes([change], since=dt.datetime.fromtimestamp(T0, dt.timezone.utc))
    assert stats.comments == 2
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT username FROM ci_systems ORDER BY username")).scalars().all()
    assert names == ["account-556", "acme-ci"]


def test_same_events_in_another_order_give_the_same_rows(engine):
    report = lambda r: zuul_report([("a", r), ("b", "SUCCESS")])  # noqa: E731
    events = [created_event(40), comment_event(40, 1, report("FAILURE"), T0 + 10),
              comment_event(40, 1, report("SUCCESS"), T0 + 20), created_event(40, 2, T0),
              comment_event(40, 2, report("SUCCESS"), T0 + 40, author="other-ci")]
    ignore = ("id", "comment_id", "patch_set_id", "ci_system_id", "change_id")
    store_dicts(GerritStore(engine), events)
    forward = dump(engine, drop=ignore)
    reset_ci_tables(engine)
    backward = GerritStore(engine, chunk_size=1)
    store_dicts(backward, list(reversed(events)))
    assert dump(engine, drop=ignore) == forward


def test_a_chunk_rolled_back_by_a_deadlock_is_stored_again_once(engine, monkeypatch):
    import psycopg
    import tenacity
    from sqlalchemy.exc import OperationalError

    from health_api.gerrit.writer import BatchWriter

    write = BatchWriter.write
    calls = []

    def deadlocks_once(self, conn, batch, stats):
        write(self, conn, batch, stats)  # every row written, then the server gives up
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT INTO ci_job_results ...", None,
                                   psycopg.errors.DeadlockDetected("deadlock detected"))
    monkeypatch.setattr(BatchWriter, "write", deadlocks_once)
    monkeypatch.setattr(tenacity, "wait_random_exponential", lambda **_: tenacity.wait_none())
    report = zuul_report([("tox", "SUCCESS"), ("tempest", "FAILURE")])
    stats = store_dicts(GerritStore(engine), [created_event(40),
                                              comment_event(40, 1, report, T0 + 60)])
    assert len(calls) == 2
    assert (stats.events, stats.patch_sets, stats.comments, stats.job_results) == (2, 1, 1, 2)
    assert (stats.failed, stats.duplicate_comments) == (0, 0)
    assert count(engine, "ci_comments") == 1 and count(engine, "ci_job_results") == 2
    assert count(engine, "patch_sets") == 1


def test_db_expire_covers_ci_verdicts(engine, db_url):
    """Issue 16: retention covers the CI verdict tables, not only test results."""
    from streams import run_cli
    import time
    now = int(time.time())
    old, new = now - 40 * 86400, now - 86400  # Gerrit's epoch seconds
    store_dicts(GerritStore(engine), [
        created_event(300, 1, old),
        comment_event(300, 1, zuul_report([("a", "SUCCESS"), ("b", "FAILURE")]), old),
        comment_event(300, 1, zuul_report([("a", "SUCCESS")]), new)])
    assert count(engine, "ci_comments") == 2 and count(engine, "ci_job_results") == 3
    result = run_cli("db", "expire", "--db", db_url, "--days", "30", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ci_comments"], report["ci_job_results"]) == (1, 2)
    assert count(engine, "ci_comments") == 1 and count(engine, "ci_job_results") == 1
    assert count(engine, "patch_sets") == 1  # the newer comment still needs it
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM ci_job_results WHERE comment_id NOT IN "
                                    "(SELECT id FROM ci_comments)").scalar() == 0
