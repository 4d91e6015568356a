"""Compatibility tests against the real subunit2sql, run from its own venv.

subunit2sql is not a dependency of ci-health: tools/compat-venv.sh installs a
pinned subunit2sql 1.10.0 into a separate virtualenv (default ``.compat-venv``
in the repo root, or ``$CI_HEALTH_COMPAT_VENV``) and these tests drive its
executables. A missing venv is a failure, never a skip.

Only SQLite and PostgreSQL: subunit2sql's own migration 2822a408bdd0 fails on
MariaDB 10.11 ("Variable 'old_alter_table' can't be set"), so there is no way
to make a subunit2sql database there.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUBUNIT2SQL_VERSION = "1.10.0"
COMPAT_KINDS = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "compat: runs the real subunit2sql from the compat venv "
                   "(create it with tools/compat-venv.sh)")


def compat_venv_dir() -> Path:
    return Path(os.environ.get("CI_HEALTH_COMPAT_VENV") or REPO / ".compat-venv")


class CompatVenv:
    """The compat venv's executables, run with an environment of their own.

    A missing or wrong venv fails the test at its first use of subunit2sql
    (a test failure, not a setup error, and never a skip)."""

    def __init__(self, path: Path):
        self.path = path
        self.bin = path / "bin"
        self._problem: str | None = None
        self._checked = False

    def env(self) -> dict[str, str]:
        # Nothing of the test process's Python may leak into subunit2sql's.
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    def require(self) -> None:
        if not self._checked:
            self._problem = self._check()
            self._checked = True
        if self._problem:
            pytest.fail(f"the subunit2sql compat venv {self.path} is missing or unusable "
                        f"({self._problem}): run `bash tools/compat-venv.sh {self.path}` "
                        f"first", pytrace=False)

    def _check(self) -> str | None:
        tools = ("python", "subunit2sql", "subunit2sql-db-manage", "sql2subunit")
        missing = [t for t in tools if not (self.bin / t).exists()]
        if missing:
            return f"missing: {', '.join(missing)}"
        proc = subprocess.run(
            [str(self.bin / "python"), "-c",
             "from importlib.metadata import version; print(version('subunit2sql'))"],
            capture_output=True, text=True, env=self.env(), timeout=120)
        found = proc.stdout.strip()
        if proc.returncode != 0 or found != SUBUNIT2SQL_VERSION:
            return (f"expected subunit2sql {SUBUNIT2SQL_VERSION}, found "
                    f"{found or proc.stderr.strip()[-300:]!r}")
        return None

    def run(self, tool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        self.require()
        cmd = [str(self.bin / tool), *args]
        proc = subprocess.run(cmd, capture_output=True, env=self.env(), cwd=cwd, timeout=600)
        if proc.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} exited {proc.returncode}\n"
                        f"stdout: {proc.stdout.decode(errors='replace')[-3000:]}\n"
                        f"stderr: {proc.stderr.decode(errors='replace')[-3000:]}")
        return proc


@pytest.fixture(scope="session")
def compat_venv() -> CompatVenv:
    return CompatVenv(compat_venv_dir())


@pytest.fixture(params=COMPAT_KINDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def new_db(kind, databases, tmp_path):
    """Factory of empty throw-away databases of this test's engine kind:
    PostgreSQL ones from the shared ``databases`` fixture, SQLite in tmp_path."""

    def make(label: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / (label + '-' + uuid.uuid4().hex[:6] + '.db')}"
        return databases.new_url(kind, f"compat_{label}_{uuid.uuid4().hex[:6]}")
    return make
