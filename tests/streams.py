"""Helpers that build subunit v2 streams and read back what was stored."""
from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
import subunit
from click.testing import CliRunner

from health_api.cli import main

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC)
OPNFV = Path(__file__).resolve().parent / "data" / "opnfv-tempest"


def stream(*tests, start: dt.datetime = T0) -> bytes:
    """tests: (test_id, status[, seconds[, tags[, traceback]]]); status None = never ends."""
    out = io.BytesIO()
    writer = subunit.StreamResultToBytes(out)
    now = start
    for spec in tests:
        test_id, status = spec[0], spec[1]
        seconds = spec[2] if len(spec) > 2 else 1.0
        tags = spec[3] if len(spec) > 3 else None
        writer.status(test_id=test_id, test_status="inprogress", timestamp=now, test_tags=tags)
        now += dt.timedelta(seconds=seconds)
        if len(spec) > 4 and spec[4]:
            writer.status(test_id=test_id, file_name="traceback", file_bytes=spec[4],
                          mime_type="text/plain;charset=utf8", eof=True, timestamp=now)
        if status is not None:
            writer.status(test_id=test_id, test_status=status, timestamp=now, test_tags=tags)
    return out.getvalue()


def run_cli(*args: str, input: bytes | None = None):
    """Run ``ci-health`` in process; returns click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def run_cli_process(*args: str, input: bytes | None = None, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "health_api.cli", *args], input=input,
                          capture_output=True, timeout=timeout)


def ingest(db_url: str, data: bytes, *args: str) -> dict:
    result = run_cli("ingest", "subunit", "--db", db_url, "--json", *args, "-", input=data)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def rows(engine: sa.Engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def table_counts(engine: sa.Engine) -> dict[str, int]:
    names = ("runs", "run_metadata", "tests", "test_runs", "test_run_metadata",
             "test_metadata", "attachments", "ch_job_daily", "ch_test_daily")
    return {n: rows(engine, f"SELECT COUNT(*) FROM {n}")[0][0] for n in names}


def snapshot(engine: sa.Engine) -> dict[str, list]:
    """Every row of the results tables, for "nothing changed" assertions."""
    out = {}
    for name, order in (("runs", "id"), ("run_metadata", "id"), ("tests", "id"),
                        ("test_runs", "id"), ("test_run_metadata", "id"),
                        ("attachments", "id"), ("ch_job_daily", "day, build_name"),
                        ("ch_test_daily", "day, build_name, test_id")):
        out[name] = rows(engine, f"SELECT * FROM {name} ORDER BY {order}")
    return out


def key_values(engine: sa.Engine, table: str, **where) -> list[tuple[str, str]]:
    """(key, value) rows of a metadata table ("key" is reserved in MySQL)."""
    from health_api.db.models import Base
    t = Base.metadata.tables[table]
    stmt = sa.select(t.c.key, t.c.value).order_by(t.c.id)
    for column, value in where.items():
        stmt = stmt.where(t.c[column] == value)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


def columns(engine: sa.Engine, table: str, *names: str, order_by: str = "id") -> list[tuple]:
    """Typed rows through the models (raw SQL returns strings for SQLite datetimes)."""
    from health_api.db.models import Base
    t = Base.metadata.tables[table]
    stmt = sa.select(*(t.c[n] for n in names)).order_by(t.c[order_by])
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


def start_server(url: str, log: Path, workers: int = 1, env: dict | None = None):
    """`ci-health serve` on a free port, answering: (process, base URL). A port
    found free can be taken before gunicorn binds it: then try another."""
    import http.client
    import os
    import socket
    import time
    import urllib.request
    env = {**os.environ, "CI_HEALTH_CACHE_DISABLED": "1", **(env or {})}
    for _attempt in range(3):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "health_api.cli", "serve", "--db", url,
                 "--port", str(port), "--workers", str(workers)],
                cwd=Path(__file__).resolve().parent.parent, env=env, stdout=out,
                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90  # workers import pandas: slow on a loaded machine
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2) as response:
                    if response.status == 200:
                        return proc, base
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        proc.terminate()
        proc.wait(timeout=30)
        if "Address already in use" not in log.read_text():
            break
    raise AssertionError(f"ci-health serve did not start: {log.read_text()[-3000:]}")
