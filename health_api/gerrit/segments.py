"""The listener journal on disk: the file being written, and the day segments
it is cut into so retention can drop old events without touching live ones.

The listener appends (fsync'd) to ``[gerrit] journal``. When the first line of
a new UTC day arrives it renames that file to ``<stem>.<YYYY-MM-DD><suffix>``
(the day of its lines; a rename of a file it holds is atomic) and starts a new
one. Only the listener renames, and ``expire_segments`` deletes only files
named as day segments whose day ended before the cutoff, so the file being
written is never removed. Replaying everything: the segments in name order,
then the journal itself.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def segment_path(journal: Path, day: dt.date, n: int = 0) -> Path:
    extra = f".{n}" if n else ""
    return journal.with_name(f"{journal.stem}.{day.isoformat()}{extra}{journal.suffix}")


def segments(journal: Path) -> list[tuple[dt.date, Path]]:
    """The journal's day segments, oldest first."""
    pattern = re.compile(re.escape(journal.stem) + r"\.(\d{4}-\d{2}-\d{2})(?:\.\d+)?"
                         + re.escape(journal.suffix) + "$")
    found = []
    if journal.parent.is_dir():
        for path in journal.parent.iterdir():
            match = pattern.match(path.name)
            if match and path.is_file():
                try:
                    found.append((dt.date.fromisoformat(match.group(1)), path))
                except ValueError:
                    continue
    return sorted(found)


class JournalWriter:
    """Appends whole lines to the journal, durably, one day per segment."""

    def __init__(self, path: str | os.PathLike, today=_utc_today):
        self.path = Path(path)
        self.today = today
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "ab")
        # the day of the lines already there (a restart continues the file)
        size = os.fstat(self.handle.fileno()).st_size
        self.day = (dt.datetime.fromtimestamp(os.stat(self.path).st_mtime, dt.timezone.utc)
                    .date() if size else self.today())

    def write(self, lines: list[bytes]) -> None:
        today = self.today()
        if today != self.day:
            self._rotate(today)
        self.handle.write(b"".join(line + b"\n" for line in lines))
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def _rotate(self, today: dt.date) -> None:
        if os.fstat(self.handle.fileno()).st_size:
            n, target = 0, segment_path(self.path, self.day)
            while target.exists():  # never overwrite a segment
                n += 1
                target = segment_path(self.path, self.day, n)
            self.handle.close()
            os.rename(self.path, target)
            self.handle = open(self.path, "ab")
        self.day = today

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> "JournalWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def expire_segments(journal: str | os.PathLike, *, days: int,
                    now: dt.datetime | None = None) -> int:
    """Delete the day segments whose whole day is older than ``days`` days;
    returns how many. The journal being written is never one of them."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    cutoff = now - dt.timedelta(days=days)
    removed = 0
    for day, path in segments(Path(journal)):
        if dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) <= cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
