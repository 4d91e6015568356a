"""Issue 16 retention: the listener journal is cut into day segments and
`ci-health db expire` removes the old ones, never the file being written."""
from __future__ import annotations

import datetime as dt
import json
import os
import time

from health_api.gerrit.segments import JournalWriter, expire_segments, segments
from streams import run_cli


class Clock:
    def __init__(self, day: dt.date):
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


def _lines(journal) -> list[bytes]:
    files = [path for _, path in segments(journal)] + [journal]
    return [line for path in files if path.exists()
            for line in path.read_bytes().splitlines()]


def test_a_new_day_starts_a_new_file_and_nothing_is_lost(tmp_path):
    journal = tmp_path / "gerrit-events.jsonl"
    clock = Clock(dt.date(2026, 11, 1))
    with JournalWriter(journal, today=clock) as writer:
        writer.write([b'{"n": 1}', b'{"n": 2}'])
        clock.day = dt.date(2026, 11, 2)
        writer.write([b'{"n": 3}'])
        clock.day = dt.date(2026, 11, 5)
        writer.write([b'{"n": 4}'])
    assert [p.name for _, p in segments(journal)] == ["gerrit-events.2026-11-01.jsonl",
                                                     "gerrit-events.2026-11-02.jsonl"]
    assert journal.read_bytes() == b'{"n": 4}\n'
    assert _lines(journal) == [b'{"n": %d}' % n for n in range(1, 5)]
    # a restart on a later day continues the file, then cuts it at its first line
    os.utime(journal, (time.time(), dt.datetime(2026, 11, 5, 12, tzinfo=dt.timezone.utc)
                       .timestamp()))
    clock.day = dt.date(2026, 11, 6)
    with JournalWriter(journal, today=clock) as writer:
        writer.write([b'{"n": 5}'])
    assert segments(journal)[-1][1].read_bytes() == b'{"n": 4}\n'
    assert _lines(journal) == [b'{"n": %d}' % n for n in range(1, 6)]


def test_an_existing_segment_is_never_overwritten(tmp_path):
    journal = tmp_path / "j.jsonl"
    (tmp_path / "j.2026-11-01.jsonl").write_bytes(b"older\n")
    clock = Clock(dt.date(2026, 11, 1))
    with JournalWriter(journal, today=clock) as writer:
        writer.write([b"a"])
        clock.day = dt.date(2026, 11, 2)
        writer.write([b"b"])
    assert (tmp_path / "j.2026-11-01.jsonl").read_bytes() == b"older\n"
    assert (tmp_path / "j.2026-11-01.1.jsonl").read_bytes() == b"a\n"


def test_expire_keeps_recent_segments_and_the_live_file(tmp_path):
    journal = tmp_path / "gerrit-events.jsonl"
    now = dt.datetime(2026, 12, 1, 6, 0)
    for day in ("2026-10-30", "2026-10-31", "2026-11-01", "2026-11-30"):
        (tmp_path / f"gerrit-events.{day}.jsonl").write_bytes(b"x\n")
    (tmp_path / "other.2026-01-01.jsonl").write_bytes(b"not ours\n")
    journal.write_bytes(b"live\n")
    os.utime(journal, (0, 0))  # even a live file last written long ago stays
    # 30 days before 2026-12-01 06:00 is 2026-11-01 06:00: the days that ended by
    # then go (10-30, 10-31); 11-01 still holds lines newer than the cutoff
    assert expire_segments(journal, days=30, now=now) == 2
    assert [d.isoformat() for d, _ in segments(journal)] == ["2026-11-01", "2026-11-30"]
    assert expire_segments(journal, days=0, now=now) == 2
    assert journal.read_bytes() == b"live\n"
    assert (tmp_path / "other.2026-01-01.jsonl").exists()


def test_db_expire_removes_old_journal_segments(tmp_path, db_url):
    journal = tmp_path / "events.jsonl"
    old = dt.date.today() - dt.timedelta(days=45)
    recent = dt.date.today() - dt.timedelta(days=3)
    for day in (old, recent):
        (tmp_path / f"events.{day.isoformat()}.jsonl").write_bytes(b"{}\n")
    journal.write_bytes(b"{}\n")
    result = run_cli("db", "expire", "--db", db_url, "--days", "30", "--journal", str(journal))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["journal_segments"] == 1
    assert [d for d, _ in segments(journal)] == [recent] and journal.exists()
