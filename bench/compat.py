#!/usr/bin/env python3
"""OpenStack-Health against ci-health, route by route, on the same database.

    .venv/bin/python bench/compat.py --osh http://127.0.0.1:PORT --ci http://127.0.0.1:PORT

Start both on one database first (OpenStack-Health with its osh-reference launcher,
ci-health with `ci-health serve`), filled by `ci-health demo-data` with the options of
tests/browser/osh_views.DEMO, so the routes of tests/compat/osh_routes.ROUTES name
existing jobs, tests and runs. Prints per route: both servers' times for the first
request (cold) and a repeat (warm, response caches filled), both answer sizes, the
cold-time ratio, and whether the answers are equal (floats to 1e-6 relative, NaN of
OpenStack-Health's as null or absent, unordered lists where it leaves the order open).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "compat")]
import osh_routes  # noqa: E402
from test_osh_golden import differences  # noqa: E402


def get(base: str, route: str) -> tuple[float, int, object]:
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(base + route, timeout=600) as r:
            body = r.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    elapsed = time.perf_counter() - began
    try:
        return elapsed, len(body), json.loads(body)
    except ValueError:
        return elapsed, len(body), None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osh", required=True, help="OpenStack-Health's base URL")
    ap.add_argument("--ci", required=True, help="ci-health's base URL")
    args = ap.parse_args()
    print(f"{'route':60} {'osh cold':>9} {'osh warm':>9} {'ci cold':>8} {'ci warm':>8} "
          f"{'osh B':>9} {'ci B':>9} {'ratio':>6} equal")
    for route in osh_routes.ROUTES:
        oc, osize, obody = get(args.osh, route)
        ow, _, _ = get(args.osh, route)
        cc, csize, cbody = get(args.ci, route)
        cw, _, _ = get(args.ci, route)
        if route in osh_routes.UNORDERED and isinstance(obody, list):
            obody, cbody = sorted(obody), sorted(cbody or [])
        equal = obody is not None and not differences(cbody, obody)
        print(f"{route.split('?')[0][:60]:60} {oc:9.3f} {ow:9.3f} {cc:8.3f} {cw:8.3f} "
              f"{osize:9d} {csize:9d} {oc / cc:6.1f} {'yes' if equal else 'NO'}")


if __name__ == "__main__":
    main()
