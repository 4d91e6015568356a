"""The CLI loads only what a command needs (issue 18): --help loads click and
no database layer; storing a run never loads Flask, pandas, the SSH stack or
the Gerrit collector."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from streams import T0, stream

#: run the CLI in a fresh interpreter, then print which of these it imported
_PROBE = """
import json, sys
from health_api.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    loaded = [m for m in sys.modules
              if m.split('.')[0] in {'flask', 'pandas', 'paramiko', 'sqlalchemy', 'numpy',
                                     'werkzeug', 'asyncssh', 'yaml'}
              or m.startswith('health_api.gerrit') or m.startswith('health_api.api')
              or m.startswith('health_api.analytics')]
    print(json.dumps(sorted({m.split('.')[0] if not m.startswith('health_api') else m
                             for m in loaded})), file=sys.stderr)
"""

HEAVY = {"flask", "pandas", "numpy", "paramiko", "werkzeug", "asyncssh", "yaml"}


def _probe(script: str, *args: str, input: bytes | None = None):
    """Run ``script`` (one of the probes here) in a fresh interpreter with the CLI's
    ``args``: the JSON it prints last on stderr."""
    done = subprocess.run([sys.executable, "-c", script, *args], input=input,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stderr.decode().strip().splitlines()[-1])


def _loaded(*args: str, input: bytes | None = None) -> set[str]:
    return set(_probe(_PROBE, *args, input=input))


@pytest.mark.parametrize("args", [["--help"], ["ingest", "subunit", "--help"],
                                  ["ingest", "--help"]])
def test_help_loads_no_database_layer(args):
    assert _loaded(*args) == set()


def test_top_level_help_lists_every_command_without_importing_it():
    done = subprocess.run([sys.executable, "-m", "health_api.cli", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for name in ("db", "demo-data", "gerrit", "ingest", "serve", "token"):
        assert f"\n  {name} " in done.stdout


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_ingest_loads_no_web_analytics_or_gerrit_modules(kind, migrated_urls):
    data = stream(("a.b.test_one", "success"), ("a.b.test_two", "fail"), start=T0)
    loaded = _loaded("ingest", "subunit", "--db", migrated_urls(kind), "-", input=data)
    assert not loaded & HEAVY, loaded
    assert not any(m.startswith("health_api.") for m in loaded), loaded


_LEAN_PROBE = """
import sys
from health_api.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print("loaded:" + ",".join(sorted(m for m in sys.modules if m.split('.')[0] in {'subunit', 'testtools',
          'alembic', 'multiprocessing'} or m.startswith('sqlalchemy.orm')
          or m in {'health_api.db.models', 'health_api.db.tables_extra'})), file=sys.stderr)
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_one_stream_ingest_loads_no_orm_python_subunit_or_migrations(kind, migrated_urls,
                                                                    tmp_path):
    """Issue 18: the writer imports only SQLAlchemy Core, the stream is decoded
    without python-subunit/testtools, the schema check needs no alembic, and
    a small file is parsed without a child process (stdin, whose size is not
    known, still goes to one)."""
    path = tmp_path / "small.subunit"
    path.write_bytes(stream(("a.b.test_one", "success"), ("a.b.test_two", "fail"), start=T0))
    done = subprocess.run([sys.executable, "-c", _LEAN_PROBE, "ingest", "subunit", "--db",
                           migrated_urls(kind), "--run-meta", "build_name=job", str(path)],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().strip().splitlines()[-1] == "loaded:"


#: counts the garbage collections that run once the database layer is loading
#: (sqlalchemy imported) and before the command freezes its startup heap
_GC_PROBE = """
import gc, json, sys
seen = {"startup": 0, "frozen": False}
def count(phase, info):
    if phase == "stop" and not seen["frozen"] and "sqlalchemy" in sys.modules:
        seen["startup"] += 1
gc.callbacks.append(count)
freeze = gc.freeze
def freeze_and_note():
    seen["frozen"] = True
    freeze()
gc.freeze = freeze_and_note
from health_api.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
    seen["outcome"] = "ok"
except Exception as exc:
    seen["outcome"] = type(exc).__name__
seen["collecting_after"] = gc.isenabled()
seen["sqlalchemy_loaded"] = "sqlalchemy" in sys.modules
print(json.dumps(seen), file=sys.stderr)
"""


def _gc_seen(*args: str) -> dict:
    return _probe(_GC_PROBE, *args)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_ingest_collects_no_garbage_while_it_starts(kind, migrated_urls, tmp_path):
    """Issue 18: loading SQLAlchemy and the driver and opening the engine allocate what
    lives as long as the process; the ingest collects nothing until it has frozen that
    heap (garbage collection took 50-70 ms of a 0.5 s PostgreSQL ingest), and collects
    again afterwards."""
    path = tmp_path / "small.subunit"
    path.write_bytes(stream(*((f"a.b.test_{i}", "success") for i in range(200)), start=T0))
    seen = _gc_seen("ingest", "subunit", "--db", migrated_urls(kind), "--run-meta",
                    "build_name=job", str(path))
    assert seen == {"startup": 0, "frozen": True, "outcome": "ok", "collecting_after": True,
                    "sqlalchemy_loaded": True}


def test_a_failing_ingest_collects_again(tmp_path):
    """However the command ends (here refused before it set up: the database is not
    migrated), the process collects garbage again afterwards."""
    path = tmp_path / "one.subunit"
    path.write_bytes(stream(("a.b.test_one", "success"), start=T0))
    seen = _gc_seen("ingest", "subunit", "--db", f"sqlite:///{tmp_path / 'empty.db'}",
                    str(path))
    assert seen["outcome"] == "CliError" and seen["frozen"] is False
    assert seen["collecting_after"] is True
