"""Failure-intelligence benchmark: `ci-health analyze` time, quality against the
demo truth, and each insight endpoint's p50/p95 cold.

    python bench/insight.py --db URL --truth TRUTH.json [--repeat 20]
    python bench/insight.py --db URL --generate --days 30 --jobs 30 --runs-per-day 20
    python bench/insight.py --db URL --quick    # about a minute: the quality test's store

gate-month is 30 days x 30 jobs x 20 runs/day on PostgreSQL. --generate fills the
(empty, migrated) database with `ci-health demo-data` first and writes the truth
next to it. --quick generates, into the empty migrated database, the smaller
store of tests/insight/test_insight_quality.py (same planting: 8 days x 12 jobs
x 24 runs a day over a 60-test pool) and times each route 5 times. "Cold" means a fresh app per request: no response cache, no parsed
analysis in memory, a new database connection; the stored analyses are read
from the database as a new worker reads them. Baseline: /api/v1/jobs (the
existing job summary) timed the same way in the same run, as a ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from health_api.app import create_app  # noqa: E402
from health_api.config import Config  # noqa: E402
from health_api.db.session import dispose_engines, make_engine  # noqa: E402
from health_api.insight import quality, serve  # noqa: E402
from health_api.insight.analyze import analyze_and_store  # noqa: E402
from health_api.insight.options import InsightOptions  # noqa: E402

ROUTES = ("/api/v1/flaky-tests", "/api/v1/flaky-tests?sort=flip_rate&flaky_only=true",
          "/api/v1/clusters", "/api/v1/clusters?new_only=true", "/api/v1/broken",
          "/api/v1/explained", "/api/v1/suspects", "/api/v1/flaky-jobs", "/api/v1/alerts",
          "/api/v1/test-ranking?sort=impact", "/api/v1/test-ranking?sort=flakiness&offset=100")
QUICK = {"days": 8, "jobs": 12, "runs_per_day": 24, "pool_size": 60, "seed": 0}
BASELINE = "/api/v1/jobs"


def cold_times(url: str, path: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        serve._PARSED.clear()
        dispose_engines()
        app = create_app(db_url=url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"}))
        client = app.test_client()
        started = time.perf_counter()
        response = client.get(path)
        out.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.data[:200]!r}")
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--truth")
    ap.add_argument("--generate", action="store_true")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=30)
    ap.add_argument("--runs-per-day", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--quick", action="store_true",
                    help="generate the quality test's small store first; 5 repeats")
    args = ap.parse_args()
    truth_path = args.truth
    if args.quick:
        import datetime as dt
        from dataclasses import asdict
        from health_api.demo.gate import generate
        truth_path = truth_path or "insight-bench-quick.truth.json"
        started = time.perf_counter()
        truth = generate(make_engine(args.db), **QUICK, end=dt.datetime(2026, 11, 1))
        Path(truth_path).write_text(json.dumps(asdict(truth)))
        print(f"generated {truth.runs} runs, {truth.results} results in "
              f"{time.perf_counter() - started:.1f} s")
        args.repeat = min(args.repeat, 5)
    if args.generate:
        truth_path = truth_path or "insight-bench.truth.json"
        subprocess.run([sys.executable, "-m", "health_api.cli", "demo-data", "--db", args.db,
                        "--days", str(args.days), "--jobs", str(args.jobs), "--runs-per-day",
                        str(args.runs_per_day), "--end", "2026-11-01T00:00:00", "--truth",
                        truth_path, "--quiet"], check=True)
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    engine = make_engine(args.db)
    started = time.perf_counter()
    summary = analyze_and_store(engine, InsightOptions())
    elapsed = time.perf_counter() - started
    print(f"analyze: {elapsed:.1f} s  (phases, cumulative s: "
          f"{ {k: round(v, 1) for k, v in summary['timings'].items()} })")
    if truth_path:
        truth = json.loads(Path(truth_path).read_text())
        with engine.connect() as conn:
            docs = {k: serve.stored(conn, k) for k in ("flaky_tests", "broken", "clusters",
                                                       "suspects")}
        fq = quality.flaky_quality(truth, docs["flaky_tests"])
        print(f"flaky tests: precision {fq['precision']}, recall {fq['recall']} "
              f"({fq['true_positives']} of {fq['planted']} planted, {fq['found']} found; "
              f"false positives {fq['false_positives']}, missed {fq['missed']})")
        for b in quality.broken_quality(truth, docs["broken"]):
            err = "not found" if b["error_hours"] is None else f"{b['error_hours']:.2f} h"
            print(f"broken since {b['test_id']} [{b['job']}]: planted {b['planted_from']}, "
                  f"found {b['found_since']} (p={b['probability']}), error {err}")
        cq = quality.cluster_quality(truth, docs["clusters"])
        print(f"clusters: {cq['causes_with_one_cluster']} of {len(cq['causes'])} planted causes "
              f"in exactly one cluster ({cq['clusters_total']} clusters in all): "
              + ", ".join(f"{c['kind']}={c['clusters']}" for c in cq["causes"]))
        print(f"bad node provider rank among suspects: {quality.suspect_rank(truth, docs['suspects'])}")
    base = cold_times(args.db, BASELINE, args.repeat)
    print(f"{'route':58s} {'p50 ms':>8s} {'p95 ms':>8s} {'p95/baseline':>12s}")
    print(f"{BASELINE + ' (baseline)':58s} {statistics.median(base) * 1e3:8.1f} "
          f"{p95(base) * 1e3:8.1f} {1.0:12.2f}")
    worst = 0.0
    for path in ROUTES:
        times = cold_times(args.db, path, args.repeat)
        worst = max(worst, p95(times))
        print(f"{path:58s} {statistics.median(times) * 1e3:8.1f} {p95(times) * 1e3:8.1f} "
              f"{p95(times) / p95(base):12.2f}")
    print(f"worst insight p95 cold: {worst * 1e3:.0f} ms (target <= 500 ms); "
          f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
