"""A killed ingest, parallel ingesters, and arbitrary bytes."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from health_api.demo.streams import tempest_like_ids, write_stream
from health_api.ingest.records import IngestError
from health_api.ingest.subunit import parse_subunit

from streams import rows, snapshot, stream, table_counts


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _wait_until_idle(proc: subprocess.Popen, quiet_for: float = 0.5, limit: float = 60) -> None:
    """Wait until the ingest has consumed what it was given (no CPU use for a while)."""
    deadline = time.monotonic() + limit
    last, since = _cpu_ticks(proc.pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = _cpu_ticks(proc.pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return
    raise AssertionError("ingest never went idle")


def test_sigkill_mid_ingest_leaves_no_partial_run(db_url, engine):
    from streams import ingest
    ingest(db_url, stream(("pkg.kept", "success")))
    before = snapshot(engine)
    data = io.BytesIO()
    write_stream(data, tempest_like_ids(12_000), fail_every=7)
    payload = data.getvalue()
    proc = subprocess.Popen(
        [sys.executable, "-m", "health_api.cli", "ingest", "subunit", "--db", db_url, "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Two thirds of the stream: several batches are written inside the open
    # transaction, then the process waits for more input and is killed.
    proc.stdin.write(payload[: len(payload) * 2 // 3])
    proc.stdin.flush()
    _wait_until_idle(proc)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            states = [r[0] for r in conn.exec_driver_sql(
                "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")]
        assert "idle in transaction" in states  # it really had written inside its transaction
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdin.close()
    deadline = time.monotonic() + 30
    while True:  # the server notices the dead client and rolls back
        try:
            assert snapshot(engine) == before
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    # and the database still takes the same run afterwards
    out = ingest(db_url, payload)
    assert out["tests"] == 12_000


def test_parallel_ingesters_lose_no_update(db_url, engine, tmp_path):
    ids = [f"pkg.module.Test.test_{i}" for i in range(300)]
    paths = []
    for n in range(6):
        data = io.BytesIO()
        # every stream shares all tests; stream n fails every (n+2)th
        write_stream(data, ids, seed=n, fail_every=n + 2)
        path = tmp_path / f"run{n}.subunit"
        path.write_bytes(data.getvalue())
        paths.append(path)

    def run(path):
        return subprocess.run([sys.executable, "-m", "health_api.cli", "ingest", "subunit",
                               "--db", db_url, "--json", str(path)],
                              capture_output=True, timeout=300)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(run, paths))
    for result in results:
        assert result.returncode == 0, result.stderr.decode()
    expected_fail = {t: 0 for t in ids}
    for n in range(6):
        for i, test_id in enumerate(ids, 1):
            if i % (n + 2) == 0:
                expected_fail[test_id] += 1
    got = {r[0]: r[1:] for r in rows(engine, "SELECT test_id, run_count, success, failure "
                                             "FROM tests")}
    assert len(got) == 300  # no duplicate test rows from racing inserts
    for test_id in ids:
        assert got[test_id] == (6, 6 - expected_fail[test_id], expected_fail[test_id])
    assert table_counts(engine)["test_runs"] == 1800


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_parse_or_fail_cleanly(data):
    results = []
    try:
        parse_subunit(io.BytesIO(data), results.append, source_name="fuzz")
    except IngestError as exc:
        assert "\n" not in exc.message and exc.message.startswith("fuzz: ")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_real_stream_parses_or_fails_cleanly(data):
    base = stream(*[(f"pkg.t{i}", "success") for i in range(5)])
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(buf)))
    try:
        parse_subunit(io.BytesIO(bytes(buf[:cut])), lambda r: None, source_name="m")
    except IngestError as exc:
        assert "\n" not in exc.message


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
                          st.sampled_from(["success", "fail", "skip", "xfail", "uxsuccess"])),
                min_size=1, max_size=20, unique_by=lambda t: t[0]))
def test_generated_streams_round_trip(tests):
    results = []
    parse_subunit(io.BytesIO(stream(*tests)), results.append, source_name="g")
    assert [(r.test_id, r.status) for r in results] == [
        (t, s) for t, s in tests if t != "process-returncode"]
