"""Private servers for the fault tests (issue 16, "Faults"): a PostgreSQL
cluster and a Redis of this test's own, on free ports in a temporary
directory, so restarting, stopping or killing them disturbs nobody else; and
a load of dashboard requests against `ci-health serve` that records every
answer."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

def _pg_bin() -> Path:
    """The directory of initdb and pg_ctl: CI_HEALTH_TEST_PG_BIN, else initdb's on PATH."""
    if os.environ.get("CI_HEALTH_TEST_PG_BIN"):
        return Path(os.environ["CI_HEALTH_TEST_PG_BIN"])
    found = shutil.which("initdb")
    return Path(os.path.realpath(found)).parent if found else Path("initdb-not-on-PATH")


PG_BIN = _pg_bin()


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:  # exited since it was listed: nothing to signal
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PrivatePostgres:
    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            pytest.fail(f"PostgreSQL server binaries not found in {PG_BIN} (CI_HEALTH_TEST_PG_BIN)")
        self.dir = Path(tempfile.mkdtemp(prefix="ci-health-faults-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U",
                                     "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w",
                                     "-t", "60", *args]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self.ctl("-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c max_connections=60", "-l", str(self.dir / "log"), "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")

    def _master(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def _children(self, master: int) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        return list(map(int, out.split()))

    def signal_all(self, signum: int) -> None:
        """The postmaster first, then its children as they are after that: a
        stopped postmaster forks no backend that an earlier list would miss. (A
        backend forked between the list and the postmaster's SIGSTOP would go on
        answering: the likely way /api/v1/status once got a 200 while "hung".)"""
        master = self._master()
        _kill(master, signum)
        for pid in self._children(master):
            _kill(pid, signum)

    def close(self) -> None:
        try:
            self.signal_all(signal.SIGCONT)
            self.ctl("-m", "immediate", "stop")
        except (subprocess.CalledProcessError, OSError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self):
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind",
                                      "127.0.0.1", "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Load:
    """Threads that GET `paths` in turn, as fast as answered, recording
    (time, path, status, seconds, JSON body or None) for every request."""

    def __init__(self, base: str, paths: list[str], threads: int = 4, timeout: float = 30):
        self.host, self.port = base.replace("http://", "").split(":")
        self.paths, self.timeout = paths, timeout
        self.answers: list[tuple[float, str, int, float, object]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self, offset: int) -> None:
        i = offset
        while not self.stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            self.answers.append(get(self.host, int(self.port), path, self.timeout))

    def finish(self) -> list:
        self.stop.set()
        for t in self.threads:
            t.join(self.timeout + 5)
        return self.answers

    def since(self, t0: float) -> list:
        return [a for a in self.answers if a[0] >= t0]


def get(host: str, port: int, path: str, timeout: float = 30, headers=None):
    """(start time, path, status, seconds, JSON body or None); status 0: no answer."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        try:
            data = json.loads(body) if "json" in (response.getheader("Content-Type") or "") else None
        except ValueError:
            data = None
        return (t0, path, response.status, time.monotonic() - t0, data)
    except (OSError, http.client.HTTPException):
        return (t0, path, 0, time.monotonic() - t0, None)
    finally:
        conn.close()


def eventually(check, limit: float = 30.0, step: float = 0.2) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


def worker_pids(master: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return set(map(int, out.split()))
