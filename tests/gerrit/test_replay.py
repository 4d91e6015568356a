"""Journal replay (``ci-health gerrit replay``) on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from health_api.gerrit.cli import gerrit
from health_api.gerrit.replay import replay_journal
from sshd.helpers import T0, comment_event, count, created_event, dump, line, zuul_report

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
