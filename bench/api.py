"""API latency benchmark: p50/p95 of every GET route of the OpenAPI document (the
/api/v1 routes and openstack-health's at the root), cold (cache flushed) and warm,
for 1-, 7- and 30-day windows where a route takes a window (the others once), on
PostgreSQL and SQLite, plus worker RSS.

    python bench/api.py                       # gate-month: 30 days x 30 jobs x 20 runs/day
    python bench/api.py --days 3 --jobs 6 --runs-per-day 4 --engines sqlite,postgresql

Builds each database with `ci-health demo-data`, serves it with `ci-health serve`
(gunicorn, Redis response cache on a dedicated Redis database so "cold" can flush
it), and times requests from this process. The routes come from /api/v1/openapi.json,
their parameters from the served data (a job, a test, a run, a metadata key/value);
a route whose path or required parameter has no filler stops the benchmark, so a new
route cannot be left out. A route answering anything but 200 is reported and makes
the benchmark exit non-zero.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "health_api.cli"]
WINDOWS = (1, 7, 30)
WINDOW_PARAMS = (("start", "stop"), ("start_date", "stop_date"))
RESOLUTION_PARAMS = ("resolution", "datetime_resolution")
#: served by the app but not described by the document (it is the document)
UNDOCUMENTED = ("/api/v1/openapi.json",)


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


def fetch(base: str, path: str, **query):
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    return json.loads(urllib.request.urlopen(url, timeout=120).read())


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_stop(base: str) -> dt.datetime:
    """The hour after the newest run: every window ends there."""
    newest = fetch(base, "/api/v1/status")["newest_run_at"]
    if newest is None:
        raise SystemExit("the database holds no runs")
    newest = dt.datetime.fromisoformat(newest.replace("Z", ""))
    return newest.replace(minute=0, second=0) + dt.timedelta(hours=1)


def fillers(base: str, stop: dt.datetime) -> dict[str, str]:
    """A value from the served data for every path (and required query) parameter name:
    the busiest job, its most failing test, one of its failed runs."""
    month = {"start": iso(stop - dt.timedelta(days=30)), "stop": iso(stop)}
    jobs = fetch(base, "/api/v1/jobs", **month)["jobs"]
    if not jobs:
        raise SystemExit("no job ran in the last 30 days of the data")
    job = max(jobs, key=lambda j: (j["runs"], j["job"]))["job"]
    tests = fetch(base, f"/api/v1/jobs/{job}/tests", sort="failures", limit=1, **month)["tests"]
    of_job = {"meta": f"build_name:{job}", "limit": 1}
    runs = (fetch(base, "/api/v1/runs", outcome="failed", **of_job)["runs"]
            or fetch(base, "/api/v1/runs", **of_job)["runs"])
    test_id = tests[0]["test_id"]
    clusters = fetch(base, "/api/v1/clusters", limit=1)["clusters"]
    return {"cluster_id": clusters[0]["id"] if clusters else "0" * 16, "name": job, "build_name": job, "run_metadata_key": "build_name", "key": "build_name",
            "value": job, "test_id": test_id, "run_id": runs[0]["uuid"], "status": "fail",
            "prefix": ".".join(test_id.split(".")[:2])}


def variants(fill: dict[str, str]) -> dict[str, list[dict]]:
    """Extra query strings for routes whose parameters pick different code paths."""
    word = fill["test_id"].split(".")[-2]
    return {"/api/v1/tests": [{}, {"q": fill["prefix"]}, {"q": word, "mode": "substring"}]}


@dataclass
class Case:
    route: str          # the document's path template
    label: str          # route plus the variant's parameters
    days: int | None    # window length, None for routes without a window
    resolution: str
    url: str


def operations(base: str) -> list[tuple[str, list[dict]]]:
    doc = fetch(base, "/api/v1/openapi.json")
    return [(path, item["get"].get("parameters", [])) for path, item in sorted(doc["paths"].items())
            if "get" in item]


def _filled(route: str, params: list[dict], fill: dict[str, str]) -> tuple[str, dict]:
    """The route's path with its path parameters filled, and its required query ones."""
    needed = {p["name"] for p in params if p["in"] == "path" or p.get("required")}
    missing = sorted((needed | set(re.findall(r"{(\w+)}", route))) - set(fill))
    if missing:
        raise SystemExit(f"bench/api.py has no value for parameter(s) {', '.join(missing)} "
                         f"of {route}: add them to fillers()")
    path = re.sub(r"{(\w+)}", lambda m: urllib.parse.quote(fill[m.group(1)], safe=""), route)
    return path, {p["name"]: fill[p["name"]] for p in params
                  if p["in"] == "query" and p.get("required")}


def cases(ops, fill: dict[str, str], stop: dt.datetime) -> list[Case]:
    extra = variants(fill)
    out = [Case(path, path, None, "", path) for path in UNDOCUMENTED]
    for route, params in ops:
        path, required = _filled(route, params, fill)
        names = {p["name"] for p in params}
        window = next((w for w in WINDOW_PARAMS if set(w) <= names), None)
        res_param = next((r for r in RESOLUTION_PARAMS if r in names), None)
        for variant in extra.get(route, [{}]):
            label = route + "".join(f" {k}={v}" for k, v in variant.items())
            if window is None:
                out.append(Case(route, label, None, "", _url(path, {**required, **variant})))
                continue
            for days in WINDOWS:
                # hour fits every route's widest window up to 7 days, day beyond
                res = "hour" if days <= 7 else "day"
                query = {**required, **variant, window[0]: iso(stop - dt.timedelta(days=days)),
                         window[1]: iso(stop)}
                if res_param:
                    query[res_param] = res
                out.append(Case(route, label, days, res if res_param else "", _url(path, query)))
    return sorted(out, key=lambda c: (c.days or 0, c.label))


def _url(path: str, query: dict) -> str:
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


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


def time_case(base: str, r, case: Case, repeat: int) -> tuple[list, list, set]:
    """``repeat`` times: flush the response cache, GET (cold), GET again (warm)."""
    cold, warm, statuses = [], [], set()
    for _ in range(repeat):
        r.flushdb()
        status, ms = get(base, case.url)
        cold.append(ms)
        status2, ms2 = get(base, case.url)
        warm.append(ms2)
        statuses |= {status, status2}
    return cold, warm, statuses


def bench(url: str, label: str, a) -> list[str]:
    """Times every case on one database; returns the cases that did not answer 200."""
    import redis
    r = redis.Redis.from_url(a.redis)
    env = dict(os.environ, CI_HEALTH_CACHE_REDIS_URL=a.redis)
    proc = subprocess.Popen([*CLI, "serve", "--db", url, "--port", str(a.port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{a.port}"
    failures = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/v1/status", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        stop = window_stop(base)
        ops = operations(base)
        todo = cases(ops, fillers(base, stop), stop)
        # A deployed server has served each route before: one untimed request per
        # case and worker first, so no figure includes a worker's first-call set-up.
        for case in todo:
            for _ in range(2):
                r.flushdb()
                get(base, case.url)
        print(f"\n== {label}  (p50 / p95 ms, {a.repeat} requests each after one untimed pass; "
              f"{len(ops)} documented GET routes + {len(UNDOCUMENTED)}, {len(todo)} cases)")
        print(f"{'window':>6} {'res':<4} {'route':<52} {'cold p50':>9} {'cold p95':>9} "
              f"{'warm p50':>9} {'warm p95':>9} {'status':>6}")
        for case in todo:
            cold, warm, statuses = time_case(base, r, case, a.repeat)
            bad = sorted(statuses - {200})
            if bad:
                failures.append(f"{label}: GET {case.url} -> {', '.join(map(str, bad))}")
            window = f"{case.days}d" if case.days else "-"
            print(f"{window:>6} {case.resolution:<4} {case.label[:52]:<52} {pct(cold, 50):9.1f} "
                  f"{pct(cold, 95):9.1f} {pct(warm, 50):9.1f} {pct(warm, 95):9.1f} "
                  f"{'/'.join(map(str, sorted(statuses))):>6}", flush=True)
        print(f"worker RSS (MB): {', '.join(f'{x:.0f}' for x in rss_mb(proc.pid))}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        r.flushdb()
    return failures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--jobs", type=int, default=30)
    p.add_argument("--runs-per-day", type=int, default=20)
    p.add_argument("--engines", default="postgresql,sqlite")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    p.add_argument("--port", type=int, default=18181)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--keep", action="store_true", help="reuse existing databases")
    a = p.parse_args()
    name = f"cih_bench_{a.days}_{a.jobs}_{a.runs_per_day}"
    tmp = Path(tempfile.gettempdir())
    failures = []
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
        failures += bench(url, f"{engine}: {a.days} days x {a.jobs} jobs x {a.runs_per_day} "
                               f"runs/day", a)
    if failures:
        raise SystemExit("routes that did not answer 200:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
