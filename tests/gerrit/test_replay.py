"""Journal replay (``ci-health gerrit replay``) on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from health_api.db.models import collector_state
from health_api.gerrit import journal as journal_module
from health_api.gerrit import rows as rows_module
from health_api.cli_gerrit import gerrit
from health_api.gerrit.events import EventParseError, decode_event_line
from health_api.gerrit.replay import checkpoint_key, replay_journal, reset_ci_tables
from health_api.gerrit.store import LAST_EVENT_KEY, GerritStore, StoreStats
from health_api.gerrit.systems import CiOverrides, CiSystemConfig
from sshd.helpers import (T0, comment_event, count, created_event, dump, line, status_event,
                          zuul_report)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "gerrit" / "events" / "sample.jsonl"


def test_the_same_journal_twice_gives_the_same_rows(engine, db_url):
    runner = CliRunner()
    first = runner.invoke(gerrit, ["replay", "--db", db_url, "--json", str(SAMPLE)])
    assert first.exit_code == 0, first.output
    counts = json.loads(first.output)
    assert counts["events"] == 31 and counts["comments"] == 8 and counts["job_results"] == 10
    assert counts["unparsed_comments"] == 0 and counts["skipped_lines"] == 0
    rows = dump(engine)
    ignore = ("id", "comment_id", "patch_set_id", "ci_system_id", "change_id")
    content = dump(engine, drop=ignore)
    second = runner.invoke(gerrit, ["replay", "--db", db_url, "--json", str(SAMPLE)])
    assert json.loads(second.output)["comments"] == 0
    assert dump(engine) == rows
    # --reset rebuilds from scratch: same content
    third = runner.invoke(gerrit, ["replay", "--db", db_url, "--reset", str(SAMPLE)])
    assert third.exit_code == 0 and "8 new CI comments" in third.output
    assert dump(engine, drop=ignore) == content


def test_a_ci_found_mid_journal_replays_to_the_same_rows(engine, tmp_path):
    """An undeclared account becomes a CI with its first report: its earlier
    plain comments stay non-CI when the journal is replayed again, instead of
    being stored then because the account is known by now."""
    journal = tmp_path / "events.jsonl"
    events = [created_event(1),
              comment_event(1, 1, "Thanks, looks reasonable.", T0 + 1, author="acme-ci"),
              comment_event(1, 1, zuul_report([("acme-job", "FAILURE")]), T0 + 2,
                            author="acme-ci", verified=-1),
              comment_event(1, 1, "Please ignore my last run.", T0 + 3, author="acme-ci")]
    journal.write_text("".join(line(e) + "\n" for e in events), encoding="utf-8")
    first = replay_journal(engine, journal)
    assert (first.stats.comments, first.stats.non_ci_comments) == (2, 1)
    rows = dump(engine)
    ignore = ("id", "comment_id", "ci_system_id", "patch_set_id", "change_id")
    content = dump(engine, drop=ignore)
    again = replay_journal(engine, journal)
    assert (again.stats.comments, again.stats.non_ci_comments) == (0, 1)
    assert dump(engine) == rows
    # the same when the events come one by one (chunks of one line)
    reset_ci_tables(engine)
    one_by_one = replay_journal(engine, journal, chunk_size=1)
    assert (one_by_one.stats.comments, one_by_one.stats.non_ci_comments) == (2, 1)
    assert dump(engine, drop=ignore) == content


def test_bad_lines_are_counted_and_resume_continues(engine, tmp_path):
    journal = tmp_path / "events.jsonl"
    good = [created_event(1)] + [
        comment_event(1, 1, zuul_report([("job", "SUCCESS")]), T0 + i) for i in range(1, 6)]
    text = "\n".join([line(good[0]), "{not json", line(good[1]), '{"type": "comment-ad',
                      "", line(good[2]), line(good[3]), line(good[4]), line(good[5])]) + "\n"
    journal.write_text(text + '{"type": "patchset-cre', encoding="utf-8")  # being written
    first = replay_journal(engine, journal, chunk_size=2)
    assert first.skipped_lines == 3 and first.stats.comments == 5
    assert first.end_offset == len(text.encode())
    # the last line completes; --resume reads only what is new
    with open(journal, "a", encoding="utf-8") as handle:
        handle.write('ated"}\n' + line(comment_event(1, 1, "Build succeeded.", T0 + 99)) + "\n")
    resumed = replay_journal(engine, journal, resume=True)
    assert resumed.start_offset == first.end_offset
    assert resumed.lines == 2 and resumed.stats.comments == 1 and resumed.stats.skipped_missing == 1
    assert count(engine, "ci_comments") == 6


def test_replay_cli_errors_are_one_line(tmp_path, db_url):
    runner = CliRunner()
    result = runner.invoke(gerrit, ["replay", "--db", "sqlite:///" + str(tmp_path / "x.db"),
                                    str(SAMPLE)])
    assert result.exit_code == 4
    assert "ci-health db upgrade" in result.output


def test_replay_of_a_journal_without_events_exits_2(tmp_path, db_url):
    import random
    junk = tmp_path / "junk.bin"
    junk.write_bytes(random.Random(16).randbytes(20_000))
    result = CliRunner().invoke(gerrit, ["replay", "--db", db_url, str(junk)])
    assert result.exit_code == 2, result.output
    assert "none of its" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_store_from_cli_uses_declared_ci_systems(engine, db_url, tmp_path):
    systems = tmp_path / "ci.yaml"
    systems.write_text("nimble-jenkins:\n  display_name: Nimble\n  account_id: 4242\n")
    result = CliRunner().invoke(gerrit, ["replay", "--db", db_url, "--json", "--ci-systems",
                                         str(systems), str(SAMPLE)])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT display_name, declared, account_id FROM ci_systems "
                                   "WHERE username = 'nimble-jenkins'").one()
    assert (row[0], bool(row[1]), row[2]) == ("Nimble", True, 4242)
    bad = tmp_path / "bad.yaml"
    bad.write_text("x:\n  colour: red\n")
    result = CliRunner().invoke(gerrit, ["replay", "--db", db_url, "--ci-systems", str(bad),
                                         str(SAMPLE)])
    assert result.exit_code == 2 and "unknown field(s) colour" in result.output


# -- the replay fast path stores what the events give one by one ---------------------

DECLARED = {"nimble-jenkins": CiSystemConfig("nimble-jenkins", account_id=4242),
            "acme-ci": CiSystemConfig("acme-ci", account_id=555, overrides=CiOverrides(
                display_name="Acme", result_patterns=(re.compile(
                    r"^(?P<job>[\w-]+): (?P<result>PASSED|FAILED)$", re.MULTILINE),),
                result_map={"PASSED": "SUCCESS", "FAILED": "FAILURE"}))}


def varied_journal() -> list[str]:
    """The sample journal plus what exercises every decision of the store."""
    events = []
    for number in (501, 502):
        events += [created_event(number, 1, T0), created_event(number, 2, T0 + 5)]
    report = lambda result, pipeline="check", ps=1: zuul_report(  # noqa: E731
        [("tox", "SUCCESS"), ("tempest", result)], pipeline=pipeline, ps=ps)
    events += [
        comment_event(501, 1, report("FAILURE"), T0 + 100, verified=-1),
        comment_event(501, 1, "recheck", T0 + 110, author="ada"),
        comment_event(501, 1, report("SUCCESS"), T0 + 200, verified=1),
        comment_event(501, 1, report("NODE_FAILURE"), T0 + 150),    # late: renumbers
        comment_event(501, 1, report("SUCCESS", "gate"), T0 + 300),
        comment_event(502, 2, "Patch Set 2:\n\nI am not sure", T0 + 10, author="newbie"),
        comment_event(502, 2, "Patch Set 2: Verified+1\n\nok", T0 + 20, author="newbie",
                      verified=1),                                    # discovered by its vote
        comment_event(502, 2, "Patch Set 2:\n\nconfused", T0 + 30, author="newbie"),
        comment_event(502, 2, "Patch Set 2:\n\nlint: PASSED\nunit: FAILED", T0 + 40,
                      author="acme-ci"),
        comment_event(502, 2, "Build failed.\r\n\r\n- jöb https://l/1 : FAILURE in 1m 2s\r\n",
                      T0 + 50, author="other-ci"),
        comment_event(502, 1, zuul_report([("tox", "SUCCESS")]), T0 + 400),
        status_event("change-abandoned", 502, T0 + 500), status_event("change-restored", 502, T0 + 600),
        status_event("change-abandoned", 502, T0 + 550), status_event("change-merged", 501, T0 + 700),
        {"type": "comment-added", "change": {"number": 503}, "comment": "Build succeeded.",
         "eventCreatedOn": T0},                                       # no patch set
    ]
    # a CI renamed between two reports that arrive out of time order
    renamed = comment_event(501, 2, report("SUCCESS", ps=2), T0 + 900, author="third-ci")
    renamed["author"]["name"] = "Third CI (new name)"
    events += [renamed, comment_event(501, 2, report("FAILURE", ps=2), T0 + 800, author="third-ci")]
    by_account = comment_event(501, 2, "Build succeeded.\n\n- j https://x/1 : SUCCESS", T0 + 950)
    by_account["author"] = {"accountId": "4242", "name": "Nimble"}   # no username
    events.append(by_account)
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    lines += [line(event) for event in events]
    lines.insert(5, lines[3])      # the same event twice
    lines.insert(9, "{not json")
    lines.insert(12, "")
    return lines


def natural_rows(engine) -> dict[str, list[tuple]]:
    """Every CI row with its references by natural key instead of surrogate id."""
    queries = {
        "changes": "SELECT number, project, branch, change_key, subject, status, "
                   "status_changed_at FROM changes",
        "patch_sets": "SELECT c.number, p.number, p.project, p.branch, p.revision, "
                      "p.created_on, p.uploader, p.kind FROM patch_sets p "
                      "JOIN changes c ON c.id = p.change_id",
        "ci_systems": "SELECT username, account_id, display_name, first_seen, last_seen, "
                      "declared FROM ci_systems",
        "ci_comments": "SELECT m.comment_key, m.message_id, c.number, p.number, s.username, "
                       "m.project, m.posted_at, m.pipeline, m.overall, m.votes, m.raw_text, "
                       "m.parsed FROM ci_comments m JOIN patch_sets p ON p.id = m.patch_set_id "
                       "JOIN changes c ON c.id = p.change_id "
                       "JOIN ci_systems s ON s.id = m.ci_system_id",
        "ci_job_results": "SELECT m.comment_key, j.position, c.number, p.number, s.username, "
                          "j.pipeline, j.posted_at, j.job, j.result, j.url, j.duration, "
                          "j.voting, j.attempt, j.detail FROM ci_job_results j "
                          "JOIN ci_comments m ON m.id = j.comment_id "
                          "JOIN patch_sets p ON p.id = j.patch_set_id "
                          "JOIN changes c ON c.id = p.change_id "
                          "JOIN ci_systems s ON s.id = j.ci_system_id",
        "last event": f"SELECT value FROM ci_collector_state WHERE {'`key`' if engine.dialect.name == 'mysql' else 'key'} = '{LAST_EVENT_KEY}'",
    }
    with engine.connect() as conn:
        return {name: sorted(tuple(str(v) for v in row) for row in conn.exec_driver_sql(sql))
                for name, sql in queries.items()}


def store_one_by_one(engine, lines) -> StoreStats:
    """What the listener does with each event on its own: one transaction each."""
    store = GerritStore(engine, DECLARED)
    total = StoreStats()
    for text in lines:
        try:
            event = decode_event_line(text)
        except EventParseError:
            continue
        total.add(store.store_raw_batch([event]))
    return total


@pytest.mark.parametrize("workers, chunk_size, range_bytes", [(1, 7, 900), (0, 50_000, 1 << 20)])
def test_fast_path_replay_equals_event_by_event_storage(engine, tmp_path, monkeypatch, workers,
                                                        chunk_size, range_bytes):
    lines = varied_journal()
    journal = tmp_path / "events.jsonl"
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one_by_one = store_one_by_one(engine, lines)
    expected = natural_rows(engine)
    assert one_by_one.comments > 15 and one_by_one.job_results > 20 and one_by_one.failed == 0
    reset_ci_tables(engine)

    monkeypatch.setattr(journal_module, "_RANGE_BYTES", range_bytes)  # many ranges to join
    result = replay_journal(engine, journal, store=GerritStore(engine, DECLARED),
                            chunk_size=chunk_size, workers=workers)
    assert natural_rows(engine) == expected
    replayed = result.stats
    assert replayed.malformed == result.skipped_lines == 1
    replayed.malformed = 0
    assert replayed == one_by_one


def test_a_chunk_that_cannot_be_prepared_is_stored_event_by_event(engine, tmp_path, monkeypatch):
    events = [created_event(9)] + [comment_event(9, 1, zuul_report([("job", "SUCCESS")]), T0 + i)
                                   for i in range(1, 6)]
    events[3]["comment"] = "Build succeeded.\n\n- boom https://x : SUCCESS"
    journal = tmp_path / "events.jsonl"
    journal.write_text("".join(line(e) + "\n" for e in events), encoding="utf-8")
    prepare = rows_module.prepare_comment

    def fragile(comment, config):
        if "boom" in comment.text:
            raise ValueError("cannot prepare this one")
        return prepare(comment, config)
    monkeypatch.setattr(rows_module, "prepare_comment", fragile)  # workers fork with it
    for workers in (0, 1):
        reset_ci_tables(engine)
        result = replay_journal(engine, journal, workers=workers)
        assert (result.stats.failed, result.stats.comments) == (1, 4)
        assert count(engine, "ci_comments") == 4
        with engine.connect() as conn:
            assert conn.execute(select(collector_state.c.value).where(
                collector_state.c.key == checkpoint_key(journal))).scalar() == str(result.end_offset)


def test_transactions_do_not_wait_for_chunks_that_are_not_prepared_yet():
    """A prepared chunk whose successor is still being prepared is written at
    once; ready successors are joined up to the transaction size."""
    def chunk(start, lines):
        return journal_module.PreparedChunk(start, start + lines, lines, 0, lines,
                                            StoreStats(), rows_module.PreparedBatch({}, {}, [], [], None))
    stream = [(chunk(0, 10), False), (chunk(10, 10), True), (chunk(20, 10), True),
              (chunk(30, 10), True), (chunk(40, 10), False), (chunk(50, 10), True)]
    joined = list(journal_module._joined(iter(stream), chunk_lines=25))
    assert [(c.start, c.end) for c in joined] == [(0, 10), (10, 30), (30, 50), (50, 60)]
