"""Issue 16, "Faults": the database restarted, then hung (every PostgreSQL
process stopped), under a load of dashboard requests to `ci-health serve`
(gunicorn, 2 workers), on a private PostgreSQL cluster. While it is away the
API answers 503 JSON within its timeouts; the static dashboard answers
throughout; afterwards the same workers answer 200 again."""
from __future__ import annotations

import signal
import time

from health_api.db.migrate import upgrade
from health_api.db.session import make_engine

from fault_helpers import Load, eventually, get, worker_pids
from streams import ingest, start_server, stream

CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT = 2
#: the longest an answer may take while the database is away: a connection
#: attempt plus a statement (and the pool's wait), with scheduling slack
SLOWEST = CONNECT_TIMEOUT * 2 + STATEMENT_TIMEOUT + 8
DB_PATHS = ["/api/v1/runs", "/api/v1/jobs", "/api/v1/failures/recent",
            "/api/v1/runs/over_time?key=build_name", "/api/v1/status"]
STATIC = ["/", "/api/v1/openapi.json"]


def _served(private_pg, tmp_path):
    url = private_pg.url
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    ingest(url, stream(("t.a", "success"), ("t.b", "fail")), "--run-meta", "build_name=a")
    ingest(url, stream(("t.a", "success"), ("t.b", "success")), "--run-meta", "build_name=b")
    env = {"CI_HEALTH_DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
           "CI_HEALTH_DATABASE_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT)}
    return start_server(url, tmp_path / "serve.log", workers=2, env=env)


def _check_answers(answers, log):
    """Every answer is a 200 or a 503 JSON error, none took longer than SLOWEST."""
    assert answers
    for _t, path, status, seconds, body in answers:
        assert status in (200, 503), f"{path}: {status} ({log.read_text()[-2000:]})"
        if status == 503:
            assert body and body["error"]["message"], f"{path}: 503 without a JSON error"
        assert seconds < SLOWEST, f"{path} took {seconds:.1f} s"


def test_database_restarted_under_load(private_pg, tmp_path):
    proc, base = _served(private_pg, tmp_path)
    load = Load(base, DB_PATHS, threads=4, timeout=SLOWEST + 10)
    try:
        workers = worker_pids(proc.pid)
        assert eventually(lambda: sum(a[2] == 200 for a in load.answers) >= 20)
        down = time.monotonic()
        private_pg.stop()
        assert eventually(lambda: any(a[2] == 503 for a in load.since(down)), 20), \
            "no 503 while the database was down"
        time.sleep(1)
        private_pg.start()
        up = time.monotonic()
        assert eventually(lambda: sum(a[2] == 200 for a in load.since(up)) >= 20, 30), \
            "the API did not recover once the database was back"
        answers = load.finish()
        _check_answers(answers, tmp_path / "serve.log")
        # recovered by the same workers: none was restarted
        assert worker_pids(proc.pid) == workers
        print(f"restart: {len(answers)} answers, "
              f"{sum(a[2] == 503 for a in answers)} of them 503")
    finally:
        load.finish()
        proc.terminate()
        proc.wait(30)


def test_database_hung_under_load(private_pg, tmp_path):
    proc, base = _served(private_pg, tmp_path)
    host, port = base.replace("http://", "").split(":")
    load = Load(base, DB_PATHS, threads=4, timeout=SLOWEST + 10)
    try:
        workers = worker_pids(proc.pid)
        assert eventually(lambda: sum(a[2] == 200 for a in load.answers) >= 20)
        private_pg.signal_all(signal.SIGSTOP)
        hung = time.monotonic()
        try:
            # the static dashboard answers at once, whatever the API's threads wait for
            statics = [get(host, int(port), p, timeout=10) for p in STATIC * 3]
            status = get(host, int(port), "/api/v1/status", timeout=SLOWEST + 10)
            assert eventually(lambda: sum(a[2] == 503 for a in load.since(hung)) >= 8, 30), \
                "no 503 while the database was hung"
        finally:
            private_pg.signal_all(signal.SIGCONT)
        back = time.monotonic()
        assert eventually(lambda: sum(a[2] == 200 for a in load.since(back)) >= 20, 30), \
            "the API did not recover once the database answered again"
        answers = load.finish()
        for _t, path, code, seconds, _body in statics:
            assert code == 200 and seconds < 5, f"{path}: {code} after {seconds:.1f} s"
        assert status[2] == 503 and status[4]["database"] == "unavailable"
        assert status[3] < SLOWEST
        _check_answers(answers, tmp_path / "serve.log")
        slowest = max(a[3] for a in answers if a[2] == 503)
        assert worker_pids(proc.pid) == workers
        print(f"hung: {len(answers)} answers, {sum(a[2] == 503 for a in answers)} of them 503, "
              f"slowest 503 {slowest:.1f} s, static {max(s[3] for s in statics) * 1000:.0f} ms")
    finally:
        load.finish()
        proc.terminate()
        proc.wait(30)
