"""Benchmark of the /api/v1/ci/ endpoints on a generated CI verdict history.

Full size (the issue's): 90 days, 150 CI systems, 200 projects, about 2,000
patch sets a day, about 1.5M job results. ``--scale`` shrinks the days and the
patch sets per day together (0.1: 9 days x 200 patch sets). Prints p50/p95
per endpoint, cold (response cache off: every request runs the queries) and
warm (response cache on, the same request again), per engine.

    python bench/ci.py --engines sqlite,postgresql --scale 0.1
    python bench/ci.py --quick          # 9 days x 200 patch sets, 10 requests each
    python bench/ci.py                  # the issue's full size
"""
from __future__ import annotations

import argparse
import os
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_api.api.ci_reports import CiSettings  # noqa: E402
from health_api.app import create_app  # noqa: E402
from health_api.config import Config  # noqa: E402
from health_api.db import bulk, models as m  # noqa: E402
from health_api.db.migrate import upgrade  # noqa: E402
from health_api.db.session import make_engine  # noqa: E402
from health_api.gerrit.systems import CiOverrides, CiSystemConfig  # noqa: E402
from health_api.verdicts import rollup  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
END = dt.datetime(2026, 10, 1)
#: the issue's targets, on PostgreSQL
COLD_TARGET, WARM_TARGET = 300.0, 20.0
RESULTS = ("SUCCESS",) * 17 + ("FAILURE", "FAILURE", "NODE_FAILURE")


#: every VS_EVERY-th vendor CI reports on the verify-status channel (results
#: without a comment), the others comment on Gerrit
VS_EVERY = 10
_COMMENT_COLUMNS = ("id", "comment_key", "patch_set_id", "ci_system_id", "project", "posted_at",
                    "pipeline", "overall", "parsed")
_RESULT_COLUMNS = ("id", "comment_id", "position", "ci_system_id", "patch_set_id", "pipeline",
                   "posted_at", "job", "result", "url", "duration", "voting", "attempt",
                   "source", "result_key")


def generate(engine, days: int, per_day: int, systems: int = 150, projects: int = 200,
             seed: int = 0) -> tuple[dict, int]:
    """Rows straight into the CI tables (the writers' shape), in bulk (COPY on
    PostgreSQL), then the daily rollups built from them by the code ``ci-health
    db rebuild-rollups`` runs; returns the CI declarations and the result count."""
    rng = random.Random(seed)
    names = [f"project-{i:03d}" for i in range(projects)]
    ci = ["zuul"] + [f"vendor-{i:03d}-ci" for i in range(systems - 1)]
    scope = {name: rng.sample(names, 3) for name in ci[1:]}
    covering: dict[str, list[int]] = {p: [0] for p in names}
    for i, name in enumerate(ci[1:], 1):
        for p in scope[name]:
            covering[p].append(i)
    jobs = {i: [f"{name}-job{j}" for j in range(5 if i == 0 else rng.choice((1, 2, 3)))]
            for i, name in enumerate(ci)}
    start = END - dt.timedelta(days=days)
    with engine.begin() as conn:
        bulk.insert_rows(conn, m.ci_systems, ("id", "username", "display_name", "declared",
                                              "first_seen", "last_seen"),
                         [(i + 1, n, n, True, start, END) for i, n in enumerate(ci)])
    comment_id = job_id = ps_id = 0
    total = 0
    for day in range(days):
        changes, patch_sets, comments, results = [], [], [], []
        for _ in range(per_day):
            ps_id += 1
            project = rng.choice(names)
            created = start + dt.timedelta(days=day, seconds=int(rng.uniform(0, 86400)))
            changes.append((ps_id, 100000 + ps_id, project, "master", f"change {ps_id}", "NEW"))
            patch_sets.append((ps_id, ps_id, 1, project, "master", created))
            for sys_index in covering[project]:
                if rng.random() < 0.03:
                    continue  # missed
                comments_on = sys_index % VS_EVERY != 5
                for attempt in range(1, (2 if rng.random() < 0.1 else 1) + 1):
                    posted = created + dt.timedelta(seconds=int(rng.uniform(600, 20000)) * attempt)
                    outcome = [(job, rng.choice(RESULTS)) for job in jobs[sys_index]]
                    if comments_on:
                        comment_id += 1
                        overall = "SUCCESS" if all(r == "SUCCESS" for _, r in outcome) \
                            else "FAILURE"
                        comments.append((comment_id, uuid.UUID(int=rng.getrandbits(128)).hex,
                                         ps_id, sys_index + 1, project, posted, "check", overall,
                                         True))
                    for position, (job, result) in enumerate(outcome):
                        job_id += 1
                        results.append((
                            job_id, comment_id if comments_on else None, position,
                            sys_index + 1, ps_id, "check", posted, job, result,
                            f"https://logs/{job_id}", 600, True, attempt,
                            "gerrit" if comments_on else "verify-status",
                            None if comments_on else f"vs:{job_id}"))
        with engine.begin() as conn:
            for table, columns, rows in (
                    (m.changes, ("id", "number", "project", "branch", "subject", "status"),
                     changes),
                    (m.patch_sets, ("id", "change_id", "number", "project", "branch",
                                    "created_on"), patch_sets),
                    (m.ci_comments, _COMMENT_COLUMNS, comments),
                    (m.ci_job_results, _RESULT_COLUMNS, results)):
                for i in range(0, len(rows), 20000):
                    bulk.insert_rows(conn, table, columns, rows[i:i + 20000])
        total += len(results)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # ids were given: move the sequences past them
            for table in (m.ci_systems, m.changes, m.patch_sets, m.ci_comments,
                          m.ci_job_results):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                     f"'id'), (SELECT MAX(id) FROM {table.name}))")
    with engine.begin() as conn:
        rollup.build_all(conn)
    declared = {"zuul": CiSystemConfig("zuul", overrides=CiOverrides(trusted=True))}
    declared.update({n: CiSystemConfig(n, overrides=CiOverrides(projects=tuple(p)))
                     for n, p in scope.items()})
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # index-only scans need the visibility map
    return declared, total


def requests_for(rng: random.Random, n: int, systems: list[str], projects: list[str]):
    window = {"start": (END - dt.timedelta(days=7)).isoformat(), "stop": END.isoformat()}
    out = {}
    out["scoreboard"] = [("/api/v1/ci/scoreboard", {**window, "project": p})
                         for p in rng.sample(projects, n)]
    out["series"] = [("/api/v1/ci/scoreboard/series", {**window, "system": s})
                     for s in rng.sample(systems, n)]
    out["system"] = [(f"/api/v1/ci/systems/{s}", window) for s in rng.sample(systems, n)]
    out["coverage"] = [(f"/api/v1/ci/systems/{s}/coverage", window) for s in rng.sample(systems, n)]
    out["jobs"] = [("/api/v1/ci/jobs", {**window, "system": s}) for s in rng.sample(systems, n)]
    out["agreement"] = [("/api/v1/ci/agreement", {**window, "project": p})
                        for p in rng.sample(projects, n)]
    out["grid"] = [("/api/v1/ci/grid", {**window, "project": p}) for p in rng.sample(projects, n)]
    out["projects"] = [("/api/v1/ci/projects", {"stop": (END - dt.timedelta(hours=i)).isoformat()})
                       for i in range(n)]
    out["upstream"] = [("/api/v1/ci/upstream", {"start": (END - dt.timedelta(days=7, hours=i)).isoformat(),
                                                "stop": END.isoformat()}) for i in range(n)]
    return out


def timed(client, path, params) -> float:
    t0 = time.perf_counter()
    response = client.get(path, query_string=params)
    elapsed = (time.perf_counter() - t0) * 1000
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    return elapsed


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_engine(url: str, declared: dict, n: int) -> None:
    rng = random.Random(1)
    settings = CiSettings(systems=declared)
    cold = create_app(url, Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"}))
    warm = create_app(url, Config(environ={}))
    for app in (cold, warm):
        app.extensions["ci_health_ci"] = settings
    systems = sorted(declared)
    projects = sorted({p for c in declared.values() for p in c.overrides.projects})
    plan = requests_for(rng, n, systems, projects)
    cold_client, warm_client = cold.test_client(), warm.test_client()
    print(f"{'endpoint':<12} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} {'warm p95':>9}"
          f"  {'cold/target':>11} {'warm/target':>11}  (ms; targets: p95 cold {COLD_TARGET} ms,"
          f" warm {WARM_TARGET} ms; load {load()})")
    for name, calls in plan.items():
        cold_ms = [timed(cold_client, p, q) for p, q in calls]
        path, params = calls[0]
        timed(warm_client, path, params)
        warm_ms = [timed(warm_client, path, params) for _ in range(n)]
        cold95, warm95 = pct(cold_ms, .95), pct(warm_ms, .95)
        print(f"{name:<12} {pct(cold_ms, .5):9.1f} {cold95:9.1f} "
              f"{pct(warm_ms, .5):9.1f} {warm95:9.1f}  {cold95 / COLD_TARGET:11.2f} "
              f"{warm95 / WARM_TARGET:11.2f}", flush=True)


def load() -> str:
    """The 1-minute load average (figures taken under load are not comparable)."""
    return f"{os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=20, help="requests per endpoint")
    parser.add_argument("--quick", action="store_true",
                        help="a few minutes' run: --scale 0.1 --requests 10")
    args = parser.parse_args()
    if args.quick:
        args.scale, args.requests = 0.1, 10
    days = max(8, round(90 * args.scale))
    per_day = max(50, round(2000 * args.scale))
    tmp = Path(tempfile.mkdtemp(prefix="bench-ci-"))
    for kind in args.engines.split(","):
        if kind == "sqlite":
            url = f"sqlite:///{tmp / 'ci.db'}"
        else:
            name = f"bench_ci_{uuid.uuid4().hex[:8]}"
            admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
            admin.dispose()
            url = f"{PG}/{name}"
        engine = make_engine(url)
        upgrade(engine)
        t0 = time.perf_counter()
        declared, results = generate(engine, days, per_day)
        engine.dispose()
        print(f"\n{kind}: {days} days x {per_day} patch sets/day, {results:,} job results "
              f"(generated, rollups built, in {time.perf_counter() - t0:.0f} s; load {load()})",
              flush=True)
        bench_engine(url, declared, args.requests)
        if kind != "sqlite":
            from health_api.db.session import dispose_engines
            dispose_engines()
            admin = make_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
            admin.dispose()


if __name__ == "__main__":
    main()
