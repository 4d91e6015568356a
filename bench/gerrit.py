"""Gerrit collector throughput: replay a journal of stream events into the store.

Generates a deterministic journal of N events (default 1,000,000): patch
sets created on 10 projects, CI reports from 150 CI systems (1-20 jobs
each, most CIs running few jobs), human rechecks (the CIs then report
again on the same patch set), merges. Then replays it as ``ci-health
gerrit replay`` does by default (``health_api.gerrit.replay``: worker
processes parse chunks of lines while this one writes them, bulk inserts,
one transaction and one journal checkpoint per chunk) into a fresh database
per engine and prints events/s.

    python bench/gerrit.py [--events N] [--engines sqlite,postgresql] [--chunk LINES]
                           [--workers N]

PostgreSQL: CI_HEALTH_TEST_PG (default postgresql://postgres@127.0.0.1:5432);
a throw-away database is created and dropped.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_api.db.migrate import upgrade  # noqa: E402
from health_api.db.session import make_engine  # noqa: E402
from health_api.gerrit.replay import (DEFAULT_CHUNK_LINES, default_workers,  # noqa: E402
                                      replay_journal)
from health_api.gerrit.store import GerritStore  # noqa: E402

PROJECTS = ["openstack/nova", "openstack/neutron", "openstack/cinder", "openstack/glance",
            "openstack/keystone", "openstack/swift", "openstack/tempest", "openstack/ironic",
            "openstack/horizon", "openstack/manila"]
RESULTS = ["SUCCESS"] * 17 + ["FAILURE", "FAILURE", "POST_FAILURE", "TIMED_OUT", "NODE_FAILURE"]
T0 = 1_790_000_000


def make_cis(rng: random.Random) -> list[dict]:
    cis = []
    for i in range(150):
        jobs = min(20, max(1, int(rng.paretovariate(1.2))))  # mostly 1-3, a few with 20
        if i == 0:
            jobs = 20  # the upstream Zuul
        projects = PROJECTS if i < 5 else rng.sample(PROJECTS, rng.randint(1, 3))
        cis.append({"user": f"ci-{i:03d}", "jobs": [f"ci{i}-job-{j}" for j in range(jobs)],
                    "projects": set(projects), "pipeline": "check" if i else "gate"})
    return cis


def account(user: str) -> dict:
    return {"name": user.title(), "email": f"{user}@example.org", "username": user}


def report(ci: dict, ps: int, rng: random.Random) -> str:
    results = [rng.choice(RESULTS) for _ in ci["jobs"]]
    failed = any(r != "SUCCESS" for r in results)
    lines = [f"Patch Set {ps}: Verified{'-1' if failed else '+1'}", "",
             f"Build {'failed' if failed else 'succeeded'} ({ci['pipeline']} pipeline).", "",
             f"https://zuul.example.org/t/openstack/buildset/{rng.getrandbits(64):016x}", ""]
    for job, result in zip(ci["jobs"], results):
        lines.append(f"- {job} https://logs.example.org/{rng.getrandbits(32):08x}/{job}/ : "
                     f"{result} in {rng.randrange(1, 90)}m {rng.randrange(60):02d}s")
    return "\n".join(lines)


def generate(path: Path, total: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    cis = make_cis(rng)
    by_project = {p: [c for c in cis if p in c["projects"]] for p in PROJECTS}
    counts = {"patchset-created": 0, "comment-added (CI)": 0, "comment-added (human)": 0,
              "change-merged": 0}
    now = T0
    number = 100000
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        def emit(event: dict, kind: str) -> None:
            nonlocal written
            event["eventCreatedOn"] = now
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
            counts[kind] += 1
            written += 1
        while written < total:
            number += 1
            project = rng.choice(PROJECTS)
            change = {"project": project, "branch": "master", "id": f"I{number:040x}",
                      "number": number, "subject": f"Change {number}", "status": "NEW",
                      "owner": account("ada"), "url": f"https://review.example.org/{number}"}
            ps = None
            for ps_number in range(1, rng.choice((1, 2, 2, 3)) + 1):
                if written >= total:
                    break
                ps = {"number": ps_number, "revision": f"{rng.getrandbits(160):040x}",
                      "uploader": account("ada"), "createdOn": now, "kind": "REWORK",
                      "ref": f"refs/changes/{number % 100:02d}/{number}/{ps_number}"}
                emit({"type": "patchset-created", "change": change, "patchSet": ps,
                      "uploader": account("ada")}, "patchset-created")
                for attempt in range(rng.choice((1, 1, 1, 2))):
                    if attempt and written < total:
                        now += 1
                        emit({"type": "comment-added", "change": change, "patchSet": ps,
                              "author": account("grace"),
                              "comment": f"Patch Set {ps_number}:\n\nrecheck"},
                             "comment-added (human)")
                    for ci in by_project[project]:
                        if written >= total:
                            break
                        now += 1
                        text = report(ci, ps_number, rng)
                        emit({"type": "comment-added", "change": change, "patchSet": ps,
                              "author": account(ci["user"]), "comment": text,
                              "approvals": [{"type": "Verified", "description": "Verified",
                                             "value": "-1" if "failed" in text[:60] else "1"}]},
                             "comment-added (CI)")
            if written < total and ps is not None and rng.random() < 0.6:
                emit({"type": "change-merged", "change": change, "patchSet": ps,
                      "submitter": account("ada")}, "change-merged")
    return counts


def new_database(kind: str):
    if kind == "sqlite":
        directory = tempfile.mkdtemp(prefix="bench-gerrit-")
        # a million events make a database of almost 2 GB: do not leave it behind
        return f"sqlite:///{directory}/bench.db", lambda: shutil.rmtree(directory, True)
    server = os.environ.get("CI_HEALTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
    name = f"bench_gerrit_{uuid.uuid4().hex[:8]}"
    admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()
    return f"{server}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK_LINES,
                        help="journal lines per transaction (default: the replay's)")
    parser.add_argument("--workers", type=int, default=None,
                        help=f"parsing processes (default: the replay's, here {default_workers()})")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-gerrit-journal-"))
    journal = work / "events.jsonl"
    started = time.perf_counter()
    counts = generate(journal, args.events, args.seed)
    print(f"journal: {args.events} events, {journal.stat().st_size / 1e6:.0f} MB, "
          f"generated in {time.perf_counter() - started:.1f} s; mix: {json.dumps(counts)}")
    workers = default_workers() if args.workers is None else args.workers
    print(f"replay: {args.chunk} lines per transaction, {workers} parsing worker(s)")
    for kind in args.engines.split(","):
        url, drop = new_database(kind)
        engine = make_engine(url)
        try:
            upgrade(engine)
            store = GerritStore(engine)
            started = time.perf_counter()
            result = replay_journal(engine, journal, store=store, chunk_size=args.chunk,
                                    workers=workers)
            elapsed = time.perf_counter() - started
            s = result.stats
            print(f"{kind:>10}: {s.events:,} events in {elapsed:.1f} s = "
                  f"{s.events / elapsed:,.0f} events/s ({s.comments:,} CI comments, "
                  f"{s.job_results:,} job results = {s.job_results / elapsed:,.0f} rows/s, "
                  f"{s.patch_sets:,} patch sets, {s.non_ci_comments:,} human comments, "
                  f"{s.failed} failed)", flush=True)
        finally:
            engine.dispose()
            drop()
    shutil.rmtree(work, True)


if __name__ == "__main__":
    main()
