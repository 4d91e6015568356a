#!/usr/bin/env python3
"""Record the real OpenStack-Health's answers as golden files for ci-health's tests.

    .venv/bin/python tools/osh-golden.py --osh-reference PATH/osh-reference \\
        --pg postgresql://postgres@127.0.0.1/osh_golden --mysql mysql+pymysql://root@127.0.0.1/osh_golden

Both databases are emptied and filled by ci-health (`db upgrade`, then `demo-data` with
tests/browser/osh_views.DEMO: a subunit2sql-schema database), OpenStack-Health
(osh-reference: its last source under the old dependencies it needs) is started on each,
and this writes into tests/data/osh-golden/:

- api.json.gz: {url: {"status", "body"}} for every route of tests/compat/osh_routes.ROUTES,
  from OpenStack-Health on PostgreSQL (FROM_MYSQL ones on MariaDB, where they work);
- views.json: what its own dashboard client (tools/osh-client.sh) draws for each of the
  six views of osh_views.VIEWS at osh_views.CLOCK, against the same server.

    .venv/bin/python tools/osh-golden.py --osh-reference PATH/osh-reference \
        --opnfv postgresql://postgres@127.0.0.1/osh_golden_opnfv [--subunit2sql-venv .compat-venv]

instead builds the database with the REAL subunit2sql (its venv: tools/compat-venv.sh) from
the 17 OPNFV streams of tests/data/opnfv-tempest/ (osh_routes.opnfv_runs: their metadata,
run ids and times), and writes opnfv-rows.json.gz (every row subunit2sql wrote, which the
test loads on each engine) and opnfv-api.json.gz (OpenStack-Health's answers to
osh_routes.OPNFV_ROUTES on it).
"""
from __future__ import annotations

import argparse
import gzip
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests" / "compat")]
import osh_routes  # noqa: E402
import osh_views  # noqa: E402

OUT = ROOT / "tests" / "data" / "osh-golden"


def fresh_database(url: str) -> None:
    u = make_url(url)
    admin = sa.create_engine(u.set(database="postgres" if u.get_backend_name() == "postgresql"
                                   else "mysql"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        q = '"' if u.get_backend_name() == "postgresql" else "`"
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {q}{u.database}{q}"))
        conn.execute(sa.text(f"CREATE DATABASE {q}{u.database}{q}"))
    admin.dispose()
    cli = [str(Path(sys.executable).with_name("ci-health"))]
    subprocess.run([*cli, "db", "upgrade", "--db", url], check=True, capture_output=True)
    subprocess.run([*cli, "demo-data", "--db", url, *osh_views.DEMO, "--quiet",
                    "--truth", "/dev/null"], check=True, capture_output=True)


def old_stack_url(url: str) -> str:
    u = make_url(url)
    driver = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql"}[u.get_backend_name()]
    return u.set(drivername=driver).render_as_string(hide_password=False)


def start_osh(reference: str, url: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([reference, old_stack_url(url), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/status", timeout=2).read()
            return proc, base
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise SystemExit(f"OpenStack-Health did not start on {url}")


def fetch(base: str, route: str) -> dict:
    try:
        with urllib.request.urlopen(base + route, timeout=600) as r:
            return {"status": r.status, "body": json.loads(r.read())}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": None}


def fetch_fresh(reference: str, url: str, route: str) -> dict:
    """route from an OpenStack-Health started for it alone: its /test_runs/<id> caches
    its data (dogpile) on (test_id, start_date, stop_date) without datetime_resolution,
    so in a running one a second resolution of a window gets the first one's answer."""
    proc, base = start_osh(reference, url)
    try:
        return fetch(base, route)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _empty_database(url: str) -> None:
    u = make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{u.database}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def _rows(url: str) -> dict:
    """Every row of subunit2sql's tables, in id order, times as isoformat."""
    def plain(v):
        if hasattr(v, "isoformat"):
            return v.isoformat()
        if isinstance(v, (bytes, memoryview)):
            return {"hex": bytes(v).hex()}
        return v
    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in osh_routes.SUBUNIT2SQL_TABLES:
            result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))
            out[table] = {"columns": list(result.keys()),
                          "rows": [[plain(v) for v in r] for r in result]}
    engine.dispose()
    return out


def record_opnfv(reference: str, url: str, venv: Path) -> None:
    """The OPNFV golden set: subunit2sql builds the database, OpenStack-Health answers."""
    _empty_database(url)
    plain_url = old_stack_url(url)
    subprocess.run([str(venv / "bin" / "subunit2sql-db-manage"), "--database-connection",
                    plain_url, "upgrade", "head"], check=True, capture_output=True)
    for run in osh_routes.opnfv_runs():
        meta = ",".join(f"{k}:{v}" for k, v in run["meta"].items())
        subprocess.run([str(venv / "bin" / "subunit2sql"), "--database-connection",
                        plain_url, "--run_id", run["uuid"], "--run_at", run["run_at"],
                        "--artifacts", run["artifacts"], "--run_meta", meta,
                        str(run["path"])], check=True, capture_output=True)
    proc, base = start_osh(reference, url)
    try:
        api = {route: fetch(base, route) for route in osh_routes.OPNFV_ROUTES}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for route in osh_routes.OPNFV_ROUTES:
        if route.startswith("/test_runs/"):
            api[route] = fetch_fresh(reference, url, route)
    for name, body in (("opnfv-rows.json.gz", _rows(url)), ("opnfv-api.json.gz", api)):
        with gzip.GzipFile(OUT / name, "wb", mtime=0) as f:
            f.write((json.dumps(body, sort_keys=True) + "\n").encode())
    print({route: r["status"] for route, r in api.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osh-reference", required=True, help="the osh-reference launcher")
    ap.add_argument("--pg", help="a PostgreSQL database URL (emptied)")
    ap.add_argument("--mysql", help="a MariaDB database URL (emptied)")
    ap.add_argument("--opnfv", help="a PostgreSQL database URL (emptied): record the OPNFV "
                                    "golden set instead")
    ap.add_argument("--subunit2sql-venv", type=Path, default=ROOT / ".compat-venv",
                    help="the venv of tools/compat-venv.sh")
    args = ap.parse_args()
    if args.opnfv:
        record_opnfv(args.osh_reference, args.opnfv, args.subunit2sql_venv)
        return
    if not (args.pg and args.mysql):
        ap.error("--pg and --mysql are needed (or --opnfv)")
    fresh_database(args.pg)
    fresh_database(args.mysql)
    pg, pg_base = start_osh(args.osh_reference, args.pg)
    my, my_base = start_osh(args.osh_reference, args.mysql)
    try:
        api = {route: fetch(my_base if route in osh_routes.FROM_MYSQL else pg_base, route)
               for route in osh_routes.ROUTES}
        for route in osh_routes.ROUTES:
            if route.startswith("/test_runs/"):
                api[route] = fetch_fresh(args.osh_reference, args.pg, route)
        build = subprocess.run([str(ROOT / "tools" / "osh-client.sh")], check=True,
                               capture_output=True, text=True).stdout.strip()
        from playwright.sync_api import sync_playwright
        views = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--no-sandbox"])
            for name, route in osh_views.VIEWS:
                base = my_base if name == "tests_of_prefix" else pg_base
                server = osh_views.serve_client(Path(build), base)
                drawn = osh_views.draw(browser, f"http://127.0.0.1:{server.server_address[1]}",
                                       route)
                server.shutdown()
                drawn["calls"] = [c.replace(base, "") for c in drawn["calls"]]
                views[name] = drawn
            browser.close()
    finally:
        for proc in (pg, my):
            proc.terminate()
            proc.wait(timeout=30)
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT / "api.json.gz", "wb", mtime=0) as f:
        f.write((json.dumps(api, sort_keys=True) + "\n").encode())
    (OUT / "views.json").write_text(json.dumps(views, indent=0, sort_keys=True) + "\n")
    for name, drawn in views.items():
        print(name, "failures:", drawn["failures"])
    print({route: r["status"] for route, r in api.items()})


if __name__ == "__main__":
    main()
