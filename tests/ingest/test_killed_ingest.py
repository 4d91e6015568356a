"""Issue 16, defect 1: an ingest killed while its parser child reads (stdin,
a file of 2 MB or more, several files) leaves no parser process behind, and
on PostgreSQL no session "idle in transaction" holding locks: the next
ingest of the same tests does not hang."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import pytest

from health_api.demo.streams import tempest_like_ids, write_stream

from streams import ingest, rows, table_counts


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _eventually(check, limit: float = 15.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _sessions_in_transaction(engine) -> list[str]:
    return [r[0] for r in rows(engine, "SELECT state FROM pg_stat_activity WHERE datname = "
                                       "current_database() AND pid <> pg_backend_pid() "
                                       "AND state LIKE 'idle in transaction%'")]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_killed_ingest_leaves_no_parser_and_no_open_session(signum, db_url, engine):
    url = db_url
    data = io.BytesIO()
    ids = tempest_like_ids(6000)
    write_stream(data, ids, fail_every=7)
    payload = data.getvalue()
    proc = subprocess.Popen(
        [sys.executable, "-m", "health_api.cli", "ingest", "subunit", "--db", url, "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    children: list[int] = []
    try:
        # Most of the stream: batches are written inside the open transaction,
        # then the parser child waits for more input.
        proc.stdin.write(payload[: len(payload) * 3 // 4])
        proc.stdin.flush()
        assert _eventually(lambda: bool(_sessions_in_transaction(engine)), 60)
        children = _children(proc.pid)
        assert children, "stdin is parsed in a child process"
        os.kill(proc.pid, signum)
        proc.wait(timeout=30)
        assert _eventually(lambda: not any(_alive(c) for c in children)), \
            "the parser child outlived its parent"
        assert _eventually(lambda: not _sessions_in_transaction(engine)), \
            "the killed ingest's session is still open"
    finally:
        proc.stdin.close()
        for child in children:  # the processes this test started, should they live on
            if _alive(child):
                os.kill(child, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
    assert table_counts(engine)["runs"] == 0  # nothing of the killed run
    out = ingest(url, payload)  # the same tests again: no lock left to wait for
    assert out["tests"] == 6000
