"""API latency benchmark: p50/p95 per endpoint, cold (cache flushed) and warm,
for 1-, 7- and 30-day windows, on PostgreSQL and SQLite, plus worker RSS.

    python bench/api.py                       # gate-month: 30 days x 30 jobs x 20 runs/day
    python bench/api.py --days 3 --jobs 6 --runs-per-day 4 --engines sqlite,postgresql

Builds each database with `ci-health demo-data`, serves it with `ci-health serve`
(gunicorn, Redis response cache on a dedicated Redis database so "cold" can flush
it), and times requests from this process.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "health_api.cli"]


def sh(*args, env=None):
    subprocess.run([*CLI, *args], check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def build(url: str, a) -> None:
    sh("db", "upgrade", "--db", url)
    t0 = time.time()
    sh("demo-data", "--db", url, "--days", str(a.days), "--jobs", str(a.jobs),
       "--runs-per-day", str(a.runs_per_day), "--seed", "1")
    print(f"  built in {time.time() - t0:.0f} s", flush=True)


def get(base: str, path: str, headers=None) -> tuple[int, float]:
    req = urllib.request.Request(base + path, headers=headers or {})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, (time.perf_counter() - t0) * 1000


def endpoints(base: str, days: int) -> list[str]:
    status = json.loads(urllib.request.urlopen(base + "/api/v1/status").read())
    newest = dt.datetime.fromisoformat(status["newest_run_at"].replace("Z", ""))
    stop = (newest + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:00:00Z")
    start = (newest + dt.timedelta(hours=1) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:00:00Z")
    jobs = json.loads(urllib.request.urlopen(f"{base}/api/v1/jobs?start={start}&stop={stop}").read())
    job = jobs["jobs"][0]["job"]
    tests = json.loads(urllib.request.urlopen(f"{base}/api/v1/tests?q=tempest.api&limit=1").read())
    test = urllib.parse.quote(tests["tests"][0]["test_id"])
    w = f"start={start}&stop={stop}"
    res = "hour" if days <= 7 else "day"
    return [f"/api/v1/runs/over_time?key=build_name&resolution={res}&{w}",
            f"/api/v1/runs?{w}&limit=50",
            f"/api/v1/jobs?{w}",
            f"/api/v1/jobs/{job}?resolution=day&{w}",
            f"/api/v1/jobs/{job}/tests?{w}&sort=failure_rate",
            "/api/v1/tests?q=tempest.api.compute&limit=50",
            "/api/v1/tests?q=servers&mode=substring&limit=50",
            f"/api/v1/tests/{test}?resolution=day&{w}",
            "/api/v1/failures/recent?limit=20",
            "/api/v1/metadata/values?key=node_provider",
            f"/api/v1/feeds/failures/atom?key=build_name&value={job}",
            f"/runs/key/build_name/{job}?start_date={start}&stop_date={stop}&datetime_resolution=day"]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def rss_mb(master: int) -> list[float]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().split()
            if int(stat[3]) == master:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out.append(int(line.split()[1]) / 1024)
        except (OSError, IndexError, ValueError):
            continue
    return out


def bench(url: str, label: str, a) -> None:
    import redis
    r = redis.Redis.from_url(a.redis)
    env = dict(os.environ, CI_HEALTH_CACHE_REDIS_URL=a.redis)
    proc = subprocess.Popen([*CLI, "serve", "--db", url, "--port", str(a.port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{a.port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/v1/status", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        print(f"\n== {label}  (p50 / p95 ms, {a.repeat} requests each)")
        print(f"{'window':>6} {'endpoint':<60} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} {'warm p95':>9}")
        for days in (1, 7, 30):
            for path in endpoints(base, days):
                cold, warm = [], []
                for _ in range(a.repeat):
                    r.flushdb()
                    status, ms = get(base, path)
                    cold.append(ms)
                    status2, ms2 = get(base, path)
                    warm.append(ms2)
                    assert status == 200 and status2 == 200, (path, status, status2)
                name = path.split("?")[0][:60]
                print(f"{days:>5}d {name:<60} {pct(cold, 50):9.1f} {pct(cold, 95):9.1f} "
                      f"{pct(warm, 50):9.1f} {pct(warm, 95):9.1f}", flush=True)
        print(f"worker RSS (MB): {', '.join(f'{x:.0f}' for x in rss_mb(proc.pid))}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        r.flushdb()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--jobs", type=int, default=30)
    p.add_argument("--runs-per-day", type=int, default=20)
    p.add_argument("--engines", default="postgresql,sqlite")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    p.add_argument("--port", type=int, default=18181)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--keep", action="store_true", help="reuse existing databases")
    a = p.parse_args()
    name = f"cih_bench_{a.days}_{a.jobs}_{a.runs_per_day}"
    tmp = Path(tempfile.gettempdir())
    for engine in a.engines.split(","):
        if engine == "sqlite":
            path = tmp / f"{name}.db"
            url = f"sqlite:///{path}"
            if not (a.keep and path.exists()):
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
                print(f"building {url}", flush=True)
                build(url, a)
        else:
            import sqlalchemy as sa
            admin = sa.create_engine(f"{a.pg.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                                     isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname=:n"),
                                      {"n": name}).first()
                if not (a.keep and exists):
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
                    conn.exec_driver_sql(f"CREATE DATABASE {name}")
                    exists = None
            url = f"{a.pg}/{name}"
            if not exists:
                print(f"building {url}", flush=True)
                build(url, a)
        bench(url, f"{engine}: {a.days} days x {a.jobs} jobs x {a.runs_per_day} runs/day", a)


if __name__ == "__main__":
    main()
