"""CPU per request of each route of bench/load.py's dashboard mix, uncached.

One process, Flask's test client, the response cache disabled: every request
is what an uncached answer costs. Prints, per route, the requests timed, the
app's CPU per request (time.process_time: Flask, SQLAlchemy, pandas, JSON) and,
for a PostgreSQL store on this machine, the database backends' CPU per request
(/proc of the sessions of the store's database), the two figures a shared
machine's load changes least.

    python bench/route_cpu.py --db postgresql://postgres@127.0.0.1:5432/NAME
    python bench/route_cpu.py --db URL --route api_jobs.job_tests --repeat 5 --profile

The store is any store bench/load.py can drive (scale_store.build_store).
"""
from __future__ import annotations

import argparse
import cProfile
import collections
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402  (the mix's URLs: load.dashboard_paths)

from health_api.app import create_app  # noqa: E402
from health_api.config import load_config  # noqa: E402


class Backends:
    """CPU time of the PostgreSQL backends serving one database (local server)."""

    def __init__(self, url: str):
        self.engine = None
        if url.startswith("postgresql"):
            from health_api.db.session import make_engine
            self.database = url.rsplit("/", 1)[1].split("?")[0]
            self.engine = make_engine(url.rsplit("/", 1)[0] + "/postgres")

    def seconds(self) -> float:
        if self.engine is None:
            return 0.0
        from sqlalchemy import text
        with self.engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                {"d": self.database}).scalars().all()
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # not on this machine, or gone
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


def make_client(url: str):
    os.environ["CI_HEALTH_CACHE_DISABLED"] = "true"
    os.environ.pop("CI_HEALTH_CACHE_REDIS_URL", None)
    app = create_app(url, load_config())
    client = app.test_client()
    return app, client


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--visits", type=int, default=40, help="dashboard visits of the mix")
    ap.add_argument("--per-route", type=int, default=12, help="distinct URLs timed a route")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--route", help="only this endpoint")
    ap.add_argument("--profile", action="store_true", help="cProfile the timed requests")
    ap.add_argument("--no-gc-freeze", dest="gc_freeze", action="store_false",
                    help="leave the startup objects to the garbage collector (the server "
                         "before it froze them)")
    a = ap.parse_args()

    app, client = make_client(a.db)

    def fetch(_base, path, **query):
        r = client.get(load.q(path, **query))
        assert r.status_code == 200, (path, r.status_code)
        return r.get_json()

    load.fetch = fetch
    paths = list(dict.fromkeys(load.dashboard_paths("", visits=a.visits)))
    adapter = app.url_map.bind("localhost")
    by_route: dict[str, list[str]] = collections.defaultdict(list)
    for path in paths:
        endpoint, _ = adapter.match(path.split("?")[0])
        if a.route in (None, endpoint) and len(by_route[endpoint]) < a.per_route:
            by_route[endpoint].append(path)
    for urls in by_route.values():  # untimed: pools, imports, plans
        client.get(urls[0])
    if a.gc_freeze:
        from health_api.serve import freeze_startup_objects
        freeze_startup_objects()  # as `ci-health serve`'s workers do once the app is built
    backends = Backends(a.db)
    profile = cProfile.Profile(time.process_time) if a.profile else None
    print(f"{'route':34} {'n':>4} {'app CPU ms':>11} {'db CPU ms':>10} {'KB':>7}")
    for endpoint, urls in sorted(by_route.items()):
        db0, cpu0, size = backends.seconds(), time.process_time(), 0
        if profile:
            profile.enable()
        for _ in range(a.repeat):
            for url in urls:
                r = client.get(url, headers={"Cache-Control": "no-cache"})
                assert r.status_code == 200, (url, r.status_code)
                size += len(r.data)
        if profile:
            profile.disable()
        n = len(urls) * a.repeat
        cpu, db = time.process_time() - cpu0, backends.seconds() - db0
        print(f"{endpoint:34} {n:4} {cpu / n * 1000:11.1f} {db / n * 1000:10.1f} "
              f"{size / n / 1024:7.0f}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
