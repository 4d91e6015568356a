#!/usr/bin/env python3
"""OpenStack-Health against ci-health, route by route, on the same PostgreSQL database.

    .venv/bin/python bench/compat.py --osh-reference PATH/osh-reference [--quick]
        [--db postgresql://postgres@127.0.0.1/bench_compat] [--reuse]

Builds the database (unless --reuse finds it filled): ci-health's schema, a week of gate
traffic written as subunit2sql leaves it (bench/scale_store.py: 30 jobs x 20 runs a day x
1,500 tests, 6.3M results; --quick: 2 days x 6 jobs x 10 runs a day x 300 tests) with
build_name, project (a value with a slash), build_queue and node_provider metadata, and
the rollups `ci-health db rebuild-rollups` builds for such data. Then starts
OpenStack-Health (its osh-reference launcher) and ci-health (`ci-health serve`) on it and
prints per route: both servers' times for the first request (cold) and a repeat (warm),
both servers' CPU time for the cold request (user + sys of the server's processes,
from /proc: less sensitive than the wall time to what else the machine runs), both
answer sizes, the ratio of the cold times, and whether the answers are equal
(tests/compat/osh_compare.differences: floats to 1e-6 relative, NaN of OpenStack-Health's
as null or absent; lists it leaves in database order compared sorted). Target: every
route at most 0.3 s cold and at least 10 times faster than OpenStack-Health.

Cold: the first request for that URL since the server started, its answer in no
cache (ci-health's response cache is in the server process: SimpleCache, as `serve`
configures it without Redis); not a cold process -- both servers answered one request
of another URL (/status, which neither caches) before, so their processes, imports and
database connections are up. Warm: the same URL again (ci-health: from its cache).

Floor: each server's median time for /status (one database round trip, cached by
neither) over FLOOR_SAMPLES requests, as this client times it; the column "x10 in"
is the time a cold answer must take to be 10 times faster than OpenStack-Health's,
marked "<floor" where that is less than ci-health's floor: no work on that route can
reach it over HTTP.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "compat"), str(ROOT / "bench")]
from osh_compare import differences  # noqa: E402
from scale_store import build_store  # noqa: E402

from health_api.db.migrate import upgrade  # noqa: E402
from health_api.ingest.expire import rebuild_rollups  # noqa: E402

END = dt.datetime(2026, 10, 5)
FULL = {"days": 7, "jobs": 30, "runs_per_day": 20, "tests": 1500}
QUICK = {"days": 2, "jobs": 6, "runs_per_day": 10, "tests": 300}
PROVIDERS = ("rax-ord", "ovh-bhs1", "vexxhost-ca-ymq-1")
FLOOR_SAMPLES = 21


def build(url: str, shape: dict, reuse: bool) -> None:
    u = make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"),
                              {"d": u.database}).first()
        if exists and reuse:
            admin.dispose()
            return
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{u.database}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    engine = sa.create_engine(url)
    upgrade(engine)
    began = time.perf_counter()
    build_store(engine, end=END, **shape)
    with engine.begin() as conn:
        # more metadata per run, from its build_name (job NN): project with a slash
        for key, value in (
                ("project", "'openstack/project-' || (CAST(SUBSTR(value, 24) AS INTEGER) % 7)"),
                ("build_queue", "CASE WHEN run_id % 3 = 0 THEN 'gate' ELSE 'check' END"),
                ("node_provider", "CASE run_id % 3 " + " ".join(
                    f"WHEN {i} THEN '{p}'" for i, p in enumerate(PROVIDERS)) + " END")):
            conn.execute(sa.text(f"INSERT INTO run_metadata (run_id, key, value) "
                                 f"SELECT run_id, '{key}', {value} FROM run_metadata "
                                 f"WHERE key = 'build_name'"))
        conn.execute(sa.text("ANALYZE"))
    rebuild_rollups(engine)
    engine.dispose()
    print(f"built {url}: {shape} in {time.perf_counter() - began:.0f} s", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], port: int, env=None) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    for _ in range(600):
        try:
            # not one of the routes measured: their first request must find no cache
            urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5).read()
            return proc
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"{cmd[0]} did not start")


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(proc: subprocess.Popen) -> float:
    """User + sys CPU time of every process of the server's session (gunicorn's
    master and workers), from /proc."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == proc.pid:  # the session's process group
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def get(base: str, route: str) -> tuple[float, int, object]:
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(base + route, timeout=1200) as r:
            body = r.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    elapsed = time.perf_counter() - began
    try:
        return elapsed, len(body), json.loads(body)
    except ValueError:
        return elapsed, len(body), None


def floor(base: str) -> float:
    """The server's median round trip for /status, seconds (see the module's docs)."""
    return statistics.median(get(base, "/status")[0] for _ in range(FLOOR_SAMPLES))


def routes(url: str, shape: dict) -> tuple[list[str], dict]:
    """The routes, on names of the data; and {route: row field} of answers whose rows
    OpenStack-Health leaves in database order (compared sorted by id)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        uuid, run_id = conn.execute(sa.text("SELECT uuid, id FROM runs WHERE fails > 0 "
                                            "ORDER BY id DESC LIMIT 1")).first()
        test = conn.execute(sa.text("SELECT t.test_id FROM tests t JOIN test_runs tr ON "
                                    "tr.test_id = t.id WHERE tr.status = 'fail' "
                                    "ORDER BY tr.id DESC LIMIT 1")).scalar()
    engine.dispose()
    start = END - dt.timedelta(days=shape["days"])
    window = f"start_date={start.isoformat()}.000Z&stop_date={END.isoformat()}.000Z"
    # OpenStack-Health caches /build_name/<name>/test_runs on (name, start, stop) without
    # the resolution: the day one asks another window, or it would get the hour answer
    day_window = (f"start_date={(start + dt.timedelta(seconds=1)).isoformat()}.000Z"
                  f"&stop_date={END.isoformat()}.000Z")
    job = "gate-tempest-scale-job-00"
    found = [
        f"/runs/group_by/project?datetime_resolution=hour&{window}",
        f"/runs/group_by/build_name?datetime_resolution=day&{window}",
        "/runs/metadata/keys",
        f"/runs/key/project/openstack/project-3?datetime_resolution=hour&{window}",
        "/runs/key/build_queue/gate/recent?num_runs=10",
        "/runs/key/project/openstack/project-3/recent/detail?num_runs=10",
        f"/build_name/{job}/test_runs?datetime_resolution=hour&{window}",
        f"/build_name/{job}/test_runs?datetime_resolution=day&{day_window}",
        f"/build_name/{job}/runs",
        f"/runs?{window}",
        "/tests",
        "/tests/prefix",
        "/tests/recent/fail",
        f"/test_runs/{test}?datetime_resolution=hour&{window}",
        f"/run/{uuid}/test_runs",
        f"/run/{run_id}/tests",
    ]
    # get_all_runs_by_date and get_runs_by_key_value have no ORDER BY either: heap order,
    # which differs from id order once runs rows are updated (the store fills in their
    # counts after their results, as subunit2sql does)
    return found, {"/tests": "tests", f"/run/{run_id}/tests": "tests", f"/runs?{window}": "runs",
                   f"/build_name/{job}/runs": "runs"}


def normalised(route: str, body, unordered_rows: dict):
    if route in ("/runs/metadata/keys", "/tests/prefix") and isinstance(body, list):
        return sorted(body)
    if route in unordered_rows and isinstance(body, dict):
        field = unordered_rows[route]
        return {field: sorted(body.get(field) or [], key=lambda r: r["id"])}
    return body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osh-reference", required=True, help="the osh-reference launcher")
    ap.add_argument("--db", default="postgresql://postgres@127.0.0.1/bench_compat")
    ap.add_argument("--quick", action="store_true", help="a small store (about a minute)")
    ap.add_argument("--reuse", action="store_true", help="keep the database if it exists")
    for name in FULL:
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"{name} (else the "
                        f"mode's: {FULL[name]}, quick {QUICK[name]})")
    args = ap.parse_args()
    shape = {k: getattr(args, k) or v for k, v in (QUICK if args.quick else FULL).items()}
    build(args.db, shape, args.reuse)
    found, unordered_rows = routes(args.db, shape)
    osh_port, ci_port = free_port(), free_port()
    osh_url = make_url(args.db).set(drivername="postgresql+psycopg2").render_as_string(
        hide_password=False)
    osh = start([args.osh_reference, osh_url, str(osh_port)], osh_port)
    ci = start([str(Path(sys.executable).with_name("ci-health")), "serve", "--db", args.db,
                "--port", str(ci_port), "--workers", "1"], ci_port, env=dict(os.environ))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    osh_floor = floor(f"http://127.0.0.1:{osh_port}")
    ci_floor = floor(f"http://127.0.0.1:{ci_port}")
    print(f"floor (median of {FLOOR_SAMPLES} /status): OpenStack-Health {osh_floor * 1e3:.2f} ms, "
          f"ci-health {ci_floor * 1e3:.2f} ms")
    print(f"{'route':62} {'osh cold':>9} {'osh warm':>9} {'ci cold':>8} {'ci warm':>8} "
          f"{'osh cpu':>8} {'ci cpu':>7} {'osh B':>10} {'ci B':>10} {'x cold':>7} "
          f"{'x10 in':>14} equal")
    worst = []
    try:
        for route in found:
            before = cpu_seconds(osh)
            oc, osize, obody = get(f"http://127.0.0.1:{osh_port}", route)
            ocpu = cpu_seconds(osh) - before
            ow, _, _ = get(f"http://127.0.0.1:{osh_port}", route)
            before = cpu_seconds(ci)
            cc, csize, cbody = get(f"http://127.0.0.1:{ci_port}", route)
            ccpu = cpu_seconds(ci) - before
            cw, _, _ = get(f"http://127.0.0.1:{ci_port}", route)
            problems = differences(normalised(route, cbody, unordered_rows),
                                   normalised(route, obody, unordered_rows))
            equal = obody is not None and not problems
            needed = min(oc / 10, 0.3)  # the target: 10 times faster, and 0.3 s at most
            below = needed < ci_floor
            print(f"{route.split('?')[0][:62]:62} {oc:9.3f} {ow:9.3f} {cc:8.3f} {cw:8.3f} "
                  f"{ocpu:8.2f} {ccpu:7.2f} {osize:10d} {csize:10d} {oc / cc:7.1f} "
                  f"{needed:8.4f}{' <floor' if below else '       '} "
                  f"{'yes' if equal else 'NO'}",
                  flush=True)
            if not equal:
                print("   ", "; ".join(problems[:3]) or "OpenStack-Health gave no JSON")
            worst.append((equal and cc <= needed, route, below))
    finally:
        for proc in (osh, ci):
            proc.terminate()
            proc.wait(timeout=30)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    missed = [r.split("?")[0] for ok, r, _ in worst if not ok]
    unreachable = [r.split("?")[0] for ok, r, below in worst if not ok and below]
    print(f"target (<= 0.3 s cold, >= 10x, equal) met on {len(worst) - len(missed)} of "
          f"{len(worst)} routes" + (f"; not on: {', '.join(missed)}" if missed else ""))
    if unreachable:
        print(f"{len(unreachable)} of them would need a cold answer faster than ci-health's "
              f"floor ({ci_floor * 1e3:.2f} ms): {', '.join(unreachable)}")


if __name__ == "__main__":
    main()
