"""Load benchmark: `ci-health serve` (4 gunicorn workers, Redis response cache)
on a gate-month store, driven by the dashboard's own XHR mix from a separate
process (wrk), warm (cached) and uncached, on PostgreSQL and SQLite.

    python bench/load.py                 # gate month: 30 days x 30 jobs x 20 runs x 1,500 tests, 60 s a mix
    python bench/load.py --quick         # 3 days x 6 jobs x 4 runs x 300 tests, 15 s a mix (~3 min)
    python bench/load.py --engines postgresql --duration 30 --connections 32

Stores are built once (bench/scale_store.py: subunit2sql-shaped data written in
SQL, then the rollups built in SQL as `db upgrade` does when it adopts one) and reused by later
runs: the PostgreSQL database ``bench_load_<scale>``, the SQLite file
``<tmp>/ci-health-bench-load-<scale>.db`` (--store-name NAME: database NAME and
``<tmp>/ci-health-NAME.db``); --rebuild starts over.

The mix is what the dashboard's pages ask for (frontend/js/pages/*.js) at
their defaults (7-day period, hour resolution, 24-bucket trailing window;
one page in four on a 30-day period at day resolution), weighted as a user
browses: overview, job, test, run, runs and tests pages, /status and
/metadata/keys once per visit. "warm" lets the response cache answer (after
one untimed pass fills it); "uncached" sends ``Cache-Control: no-cache``, which
makes the API compute every answer (tests, not the cache, are then timed).

Printed per engine and mix: req/s, p50/p95/p99/max latency, errors (non-2xx,
socket errors, timeouts) and the CPU the client (wrk) and the server used,
so the client is shown not to be the bottleneck. ``uptime`` is printed with
every figure: the machine is shared. Targets (issue 16): warm >= 1,000 req/s,
p99 < 100 ms, 0 errors; uncached p99 < 250 ms. Exits 1 if any mix had an error.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import text  # noqa: E402

from health_api.db.migrate import upgrade  # noqa: E402
from health_api.db.session import make_engine  # noqa: E402
from health_api.ingest import rollup_sql  # noqa: E402
from scale_store import build_store  # noqa: E402

PG = os.environ.get("CI_HEALTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("CI_HEALTH_BENCH_REDIS", "redis://127.0.0.1:6379/11")
SCALES = {  # days, jobs, runs a day per job, tests per run
    "gate": (30, 30, 20, 1500),
    "quick": (3, 6, 4, 300),
}
TARGETS = {"warm": {"rps": 1000, "p99": 100}, "uncached": {"p99": 250}}

# wrk: each thread walks the URL list from its own offset; done() prints JSON.
WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("LOAD_PATHS")) do paths[#paths + 1] = line end
local nocache = os.getenv("LOAD_NOCACHE") == "1"
local counter = 0
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end
function init(args)
  counter = offset or 0
end
function request()
  counter = counter + 1
  local headers = {Accept = "application/json"}
  if nocache then headers["Cache-Control"] = "no-cache" end
  return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'LOADJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %f, "p95": %f, "p99": %f, "max": %f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------- stores

def _store_size(url: str) -> int | None:
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            n = conn.execute(text("SELECT COUNT(*) FROM ch_rolled_runs")).scalar()
        engine.dispose()
        return n
    except Exception:  # no database, no schema: build it
        return None


def _pg_admin(sql: str) -> None:
    admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(sql)
    admin.dispose()


def store(engine_name: str, scale: str, rebuild: bool, name: str | None = None) -> str:
    """The URL of the scale's store, built unless a complete one is there."""
    days, jobs, per_day, tests = SCALES[scale]
    runs = days * jobs * per_day
    name = name or f"bench_load_{scale}"
    if engine_name == "postgresql":
        url = f"{PG}/{name}"
    else:
        path = Path(tempfile.gettempdir()) / f"ci-health-{name.replace('_', '-')}.db"
        url = f"sqlite:///{path}"
    if not rebuild and _store_size(url) == runs:
        print(f"  {engine_name}: reusing the {scale} store ({runs} runs, {runs * tests} results)")
        return url
    if engine_name == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _pg_admin(f"CREATE DATABASE {name}")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.time()
    end = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, minute=0, second=0,
                                                   microsecond=0)
    build_store(engine, days=days, jobs=jobs, runs_per_day=per_day, tests=tests, end=end,
                progress=lambda done, total: print(f"\r  {engine_name}: {done}/{total} runs",
                                                   end="", flush=True))
    rollup_sql.build_all(engine)  # what `db upgrade` does when it adopts such a store
    # what autovacuum does to a live store: planner statistics, and on PostgreSQL
    # the visibility map its index-only scans need (without them /jobs/<name>/tests
    # read 24,000 heap pages: 1 s instead of 0.1 s)
    if engine_name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"\n  {engine_name}: built the {scale} store in {time.time() - t0:.0f} s")
    return url


# ---------------------------------------------------------------- server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`ci-health serve` in its own process group, stopped on exit."""

    def __init__(self, url: str, workers: int, redis_url: str, log_path: str | None = None,
                 threads: int | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # an hour: no entry expires during a run (the "warm" mix measures the cache;
        # "uncached" what a request costs when its entry expired)
        env = {**os.environ, "CI_HEALTH_CACHE_REDIS_URL": redis_url,
               "CI_HEALTH_CACHE_TIMEOUT": "3600",
               "CI_HEALTH_GERRIT_CI_SYSTEMS": str(ROOT / "etc" / "ci-systems.demo.yaml")}
        self.log = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "health_api.cli", "serve", "--db", url,
             "--workers", str(workers), "--port", str(self.port)]
            + (["--threads", str(threads)] if threads else []),
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/api/v1/status", timeout=5).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.3)
        self.stop()
        self.log.seek(0)
        raise SystemExit("ci-health serve did not start:\n" + self.log.read().decode()[-3000:])

    def pids(self) -> list[int]:
        """The master and its workers (the process group)."""
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True,
                             text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes (and their reaped children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / tick
    return total


# ---------------------------------------------------------------- the mix

def fetch(base: str, path: str, **query):
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    return json.loads(urllib.request.urlopen(url, timeout=300).read())


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def q(path: str, **params) -> str:
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def dashboard_paths(base: str, visits: int = 400, seed: int = 1) -> list[str]:
    """The XHRs of `visits` dashboard visits, in order (frontend/js/pages)."""
    newest = fetch(base, "/api/v1/status")["newest_run_at"]
    if newest is None:
        raise SystemExit("the store holds no runs")
    newest = dt.datetime.fromisoformat(newest.replace("Z", ""))
    stop = newest.replace(second=0) + dt.timedelta(minutes=1)  # state.js timeWindow
    periods = [(7, "hour", 24), (30, "day", 1)]
    week = {"start": iso(stop - dt.timedelta(days=7)), "stop": iso(stop)}
    jobs = [j["job"] for j in fetch(base, "/api/v1/jobs", **week)["jobs"]]
    tests = [t["test_id"] for t in fetch(base, f"/api/v1/jobs/{urllib.parse.quote(jobs[0], safe='')}/tests",
                                         sort="failures", limit=100, **week)["tests"]]
    runs = [r["uuid"] for r in fetch(base, "/api/v1/runs", limit=200, **week)["runs"]]
    rng = random.Random(seed)
    enc = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731  (api.js: encodeURIComponent)
    out = []
    for _ in range(visits):
        days, res, span = periods[0] if rng.random() < 0.75 else periods[1]
        win = {"start": iso(stop - dt.timedelta(days=days)), "stop": iso(stop)}
        out += ["/api/v1/status", "/api/v1/metadata/keys"]  # main.js, once per visit
        for page in rng.choices(["overview", "job", "test", "run", "runs", "tests"],
                                weights=[4, 3, 2, 2, 1, 1], k=4):
            if page == "overview":
                out += [q("/api/v1/jobs", **win),
                        q("/api/v1/runs/over_time", key="build_name", **win, resolution=res,
                          groups=20, window=span),
                        q("/api/v1/failures/recent", limit=5, **win)]
            elif page == "job":
                name = enc(rng.choice(jobs))
                out += [q(f"/api/v1/jobs/{name}", **win, resolution=res, window=span, recent=10),
                        q(f"/api/v1/jobs/{name}/tests", **win, sort="failures", limit=100)]
            elif page == "test":
                out.append(q(f"/api/v1/tests/{enc(rng.choice(tests))}", **win, resolution=res,
                             window=span, recent=10))
            elif page == "run":
                out.append(f"/api/v1/runs/{enc(rng.choice(runs))}")
            elif page == "runs":
                out.append(q("/api/v1/runs", **win, limit=50, offset=0))
            else:
                out.append(q("/api/v1/tests", mode="prefix", sort=rng.choice(
                    ["test_id", "failures", "runs"]), limit=50, offset=0))
    return out


def warm_up(base: str, paths: list[str]) -> int:
    """One pass over the distinct paths (fills the cache); returns how many there are."""
    from concurrent.futures import ThreadPoolExecutor
    distinct = list(dict.fromkeys(paths))

    def one(path):
        status = urllib.request.urlopen(base + path, timeout=300).status
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, distinct))
    return len(distinct)


def run_wrk(base: str, paths_file: Path, script: Path, *, nocache: bool, duration: int,
            connections: int, threads: int, server: Server) -> dict:
    env = {**os.environ, "LOAD_PATHS": str(paths_file), "LOAD_NOCACHE": "1" if nocache else "0"}
    server_pids = server.pids()
    server_cpu = cpu_seconds(server_pids)
    t0 = time.time()
    proc = subprocess.Popen(["wrk", "-t", str(threads), "-c", str(connections),
                             "-d", f"{duration}s", "--timeout", "10s", "-s", str(script), base],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client_cpu = 0.0
    while proc.poll() is None:  # sample the client's CPU until it exits
        client_cpu = max(client_cpu, cpu_seconds([proc.pid]))
        time.sleep(0.5)
    out = proc.stdout.read()
    wall = time.time() - t0
    line = next((l for l in out.splitlines() if l.startswith("LOADJSON ")), None)
    if line is None:
        raise SystemExit("wrk failed:\n" + out)
    r = json.loads(line[len("LOADJSON "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = sum(r[k] for k in ("connect", "read", "write", "status", "timeout"))
    r["client_cpu"] = client_cpu / wall        # cores the client used
    # the master's cutime/cstime hold the workers gunicorn recycled meanwhile
    r["server_cpu"] = (cpu_seconds(server.pids()) - server_cpu) / wall
    # CPU per answer: what the load of others on the machine changes least
    r["cpu_ms"] = r["server_cpu"] * wall / max(r["requests"], 1) * 1000
    return r


def verdict(mix: str, r: dict) -> str:
    t = TARGETS[mix]
    ok = r["errors"] == 0 and r["p99"] < t["p99"] and r["rps"] >= t.get("rps", 0)
    return "meets target" if ok else "MISSES target"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small store, 15 s a mix")
    ap.add_argument("--engines", default="postgresql,sqlite")
    ap.add_argument("--duration", type=int, help="seconds per mix (60; --quick 15)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--server-threads", type=int, help="threads per worker (serve's default)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--uncached-connections", type=int, default=8,
                    help="connections of the uncached mix: with as many as the warm one its "
                         "latency is the queue before 16 busy threads, not a request's cost")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--mixes", default="warm,uncached")
    ap.add_argument("--redis-url", default=REDIS, help="a Redis database the bench may flush")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the stores")
    ap.add_argument("--server-log", help="keep the server's log (one JSON access line per "
                                         "request: route, duration) in this file")
    ap.add_argument("--store-name", help="the stores' name (PostgreSQL database, SQLite file "
                                         "stem); bench_load_<scale> by default")
    ap.add_argument("--build-only", action="store_true",
                    help="build (or check) the stores and exit, without serving")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/load.py needs wrk (Debian package wrk)")
    scale = "quick" if a.quick else "gate"
    duration = a.duration or (15 if a.quick else 60)
    days, jobs, per_day, tests = SCALES[scale]
    print(f"store: {days} days x {jobs} jobs x {per_day} runs x {tests} tests; "
          f"{a.workers} workers, wrk {a.threads} thread(s) x {a.connections} connections "
          f"({a.uncached_connections} uncached), {duration} s a mix")
    tmp = Path(tempfile.mkdtemp(prefix="ci-health-load-"))
    script = tmp / "mix.lua"
    script.write_text(WRK_SCRIPT)
    results = []
    failed = False
    for engine_name in a.engines.split(","):
        url = store(engine_name, scale, a.rebuild, a.store_name)
        if a.build_only:
            continue
        import redis
        redis.Redis.from_url(a.redis_url).flushdb()
        server = Server(url, a.workers, a.redis_url,
                        a.server_log and f"{a.server_log}.{engine_name}", a.server_threads)
        try:
            paths = dashboard_paths(server.base)
            paths_file = tmp / f"paths-{engine_name}.txt"
            paths_file.write_text("\n".join(paths) + "\n")
            t0 = time.time()
            distinct = warm_up(server.base, paths)
            print(f"  {engine_name}: {len(paths)} requests of {distinct} distinct URLs; "
                  f"cache filled in {time.time() - t0:.1f} s")
            for mix in a.mixes.split(","):
                r = run_wrk(server.base, paths_file, script, nocache=mix == "uncached",
                            duration=duration, threads=a.threads,
                            connections=a.uncached_connections if mix == "uncached" else a.connections,
                            server=server)
                failed |= r["errors"] > 0
                results.append((engine_name, mix, r))
                print(f"  {engine_name:10} {mix:8} {r['rps']:7.0f} req/s  p50 {r['p50']:6.1f}  "
                      f"p95 {r['p95']:6.1f}  p99 {r['p99']:6.1f}  max {r['max']:7.1f} ms  "
                      f"errors {r['errors']}  client {r['client_cpu']:.2f} / server "
                      f"{r['server_cpu']:.2f} cores, {r['cpu_ms']:.2f} ms CPU/request  "
                      f"[{verdict(mix, r)}]  load: {uptime()}",
                      flush=True)
        finally:
            server.stop()
    print("\n| engine | mix | req/s | p50 ms | p95 ms | p99 ms | errors | client / server cores "
          "| server CPU ms/request |")
    print("|---|---|---|---|---|---|---|---|---|")
    for engine_name, mix, r in results:
        print(f"| {engine_name} | {mix} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
              f"{r['p99']:.1f} | {r['errors']} | {r['client_cpu']:.2f} / {r['server_cpu']:.2f} "
              f"| {r['cpu_ms']:.2f} |")
    print(f"load: {uptime()}")
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
