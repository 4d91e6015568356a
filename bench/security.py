"""Security figures (issue 16, "Security") against a running `ci-health serve`:

    python bench/security.py                 # SQLite demo store, ~3 min
    python bench/security.py --db postgresql://postgres@127.0.0.1:5432/some_db --max-examples 25

Builds a demo store (`ci-health demo-data`) unless --db names one, serves it
with gunicorn (2 workers, body limit 1 MiB), then prints:

- uploads without a token, with a wrong one, with a revoked one: status, and
  the runs stored before and after (must not change);
- an upload over the body limit: 413;
- JUnit uploads with a billion-laughs DTD, an external entity (XXE) and an
  external DTD: status, time, nothing stored;
- injection strings (tests/api/test_injection.py's) in every parameter of every
  GET operation: statuses seen, slowest answer;
- schemathesis (examples, coverage and fuzzing phases, --max-examples per
  operation, every operation including the token-holding upload): its summary.
  Its per-request timeout is --request-timeout (120 s), not schemathesis's 10 s:
  some OpenStack-Health routes answer what OSH answered, padding included, e.g.
  ``/runs/group_by/build_branch`` (a key per second of the span, 6 MB, ~0.4 s of
  CPU on the demo store) and ``/runs/key/build_branch/master?datetime_resolution=
  sec`` (12 MB, ~1 s); ``/test_runs/<id>?start_date=2000-01-01&datetime_resolution=
  sec`` resamples only the buckets near its successes (ms, was ~6-9 s); a timeout
  is a failure, as is any 5xx or undocumented status.

Exits 1 when any figure is not the expected one.
"""
from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "api"))

from health_api.db.session import make_engine  # noqa: E402
from health_api.tokens import create_token, revoke_token  # noqa: E402
from streams import start_server  # noqa: E402
from test_injection import INJECTIONS  # noqa: E402

LIMIT = 1 << 20
BILLION_LAUGHS = (ROOT / "tests" / "data" / "junit" / "billion_laughs.xml").read_bytes()
XXE = (b'<?xml version="1.0"?><!DOCTYPE testsuite [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<testsuite><testcase classname="a" name="&x;"/></testsuite>')
EXTERNAL_DTD = b'<!DOCTYPE testsuite SYSTEM "http://127.0.0.1:9/junit.dtd"><testsuite/>'
JUNIT = b'<testsuite name="s"><testcase classname="pkg.A" name="test_ok" time="1"/></testsuite>'


def request(base: str, method: str, path: str, body: bytes | None = None, headers=None):
    host, port = base.replace("http://", "").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    t0 = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, data, time.monotonic() - t0
    except (OSError, http.client.HTTPException) as exc:  # e.g. reset after a 413
        return 0, str(exc).encode(), time.monotonic() - t0
    finally:
        conn.close()


def stored_runs(base: str) -> int:
    return json.loads(request(base, "GET", "/api/v1/runs?limit=1",
                              headers={"Cache-Control": "no-cache"})[1])["total"]


def uploads(base: str, engine, ok: list[bool]) -> None:
    live_id, live = create_token(engine, "bench-security")
    dead_id, dead = create_token(engine, "bench-security-revoked")
    revoke_token(engine, dead_id)
    post = "/api/v1/runs?format=junit&meta=build_name:bench-security"
    cases = [("no token", {}, JUNIT, 401),
             ("wrong token", {"Authorization": "Bearer not-a-token"}, JUNIT, 401),
             ("revoked token", {"Authorization": f"Bearer {dead}"}, JUNIT, 401),
             ("over the body limit", {"Authorization": f"Bearer {live}"},
              JUNIT + b" " * (LIMIT + 1), 413),
             ("billion laughs", {"Authorization": f"Bearer {live}"}, BILLION_LAUGHS, 400),
             ("external entity (XXE)", {"Authorization": f"Bearer {live}"}, XXE, 400),
             ("external DTD", {"Authorization": f"Bearer {live}"}, EXTERNAL_DTD, 400)]
    print("| upload | status | ms | runs before -> after |\n|---|---|---|---|")
    for label, headers, body, want in cases:
        before = stored_runs(base)
        status, _data, took = request(base, "POST", post, body,
                                      {**headers, "Content-Type": "application/xml"})
        after = stored_runs(base)
        good = status == want and before == after
        ok.append(good)
        print(f"| {label} | {status} (want {want}) | {took * 1000:.0f} | {before} -> {after} |"
              + ("" if good else " **UNEXPECTED**"))
    status, _d, _t = request(base, "POST", post, JUNIT, {"Authorization": f"Bearer {live}",
                                                         "Content-Type": "application/xml"})
    ok.append(status == 201)
    print(f"| valid token (control) | {status} (want 201) | | stored |")


def injections(base: str, ok: list[bool]) -> None:
    doc = json.loads(request(base, "GET", "/api/v1/openapi.json")[1])
    statuses: collections.Counter = collections.Counter()
    slowest, bad = 0.0, []
    for path, item in sorted(doc["paths"].items()):
        if "get" not in item:
            continue
        params = item["get"].get("parameters", [])
        for param in params:
            for attack in INJECTIONS:
                url = path
                for p in params:
                    if p["in"] == "path":
                        value = attack if p is param else "x"
                        url = url.replace("{" + p["name"] + "}", urllib.parse.quote(value, safe=""))
                if param["in"] == "query":
                    url += "?" + urllib.parse.urlencode({param["name"]: attack})
                status, _data, took = request(base, "GET", url)
                statuses[status] += 1
                slowest = max(slowest, took)
                if status >= 500 or status == 0 or str(status) not in item["get"]["responses"]:
                    bad.append(f"{url} -> {status}")
    ok.append(not bad)
    print(f"\ninjection strings: {sum(statuses.values())} requests, statuses "
          f"{dict(sorted(statuses.items()))}, slowest {slowest * 1000:.0f} ms, "
          f"undocumented or 5xx: {len(bad)}")
    for line in bad[:10]:
        print("  ", line)


def fuzz(base: str, engine, max_examples: int, ok: list[bool],
         request_timeout: float = 120.0) -> None:
    _id, token = create_token(engine, "bench-security-fuzz")
    exe = Path(sys.executable).parent / "schemathesis"
    cmd = [str(exe), "--no-color", "run", f"{base}/api/v1/openapi.json", "--phases",
           "examples,coverage,fuzzing", "--max-examples", str(max_examples),
           "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
           "response_schema_conformance", "--generation-deterministic",
           "-H", f"Authorization: Bearer {token}"]
    print(f"\nschemathesis run (examples, coverage, fuzzing), --max-examples {max_examples}, "
          f"--request-timeout {request_timeout:g} s:")
    started = time.time()
    # in a temporary directory: schemathesis writes its crash cache into the working one
    with tempfile.TemporaryDirectory() as cwd:
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    summary = [line for line in result.stdout.splitlines()
               if any(w in line for w in ("passed", "failed", "Test cases", "operations",
                                          "Operations", "errors", "Seed", "Phases"))]
    print("\n".join("  " + line.strip() for line in summary[-12:]))
    print(f"  exit code {result.returncode}, {time.time() - started:.0f} s")
    ok.append(result.returncode == 0)
    if result.returncode != 0:  # the failures, each with its reproducing request
        out = result.stdout
        start, end = out.find("FAILURES"), out.find("SUMMARY")
        print(out[max(start - 40, 0):end if end > start else None][-12000:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="a migrated database with data (default: a new SQLite demo store)")
    ap.add_argument("--max-examples", type=int, default=25)
    ap.add_argument("--skip-fuzz", action="store_true")
    ap.add_argument("--request-timeout", type=float, default=120.0,
                    help="seconds schemathesis waits for one answer (its own default: 10)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ci-health-security-"))
    url = a.db
    if url is None:
        url = f"sqlite:///{tmp / 'demo.db'}"
        cli = [sys.executable, "-m", "health_api.cli"]
        subprocess.run([*cli, "db", "upgrade", "--db", url], check=True, capture_output=True)
        subprocess.run([*cli, "demo-data", "--db", url, "--days", "3", "--jobs", "4",
                        "--runs-per-day", "3", "--seed", "1"], check=True, capture_output=True)
    engine = make_engine(url)
    proc, base = start_server(url, tmp / "serve.log", workers=2,
                              env={"CI_HEALTH_API_MAX_BODY_BYTES": str(LIMIT)})
    ok: list[bool] = []
    try:
        uploads(base, engine, ok)
        injections(base, ok)
        if not a.skip_fuzz:
            fuzz(base, engine, a.max_examples, ok, a.request_timeout)
    finally:
        proc.terminate()
        proc.wait(30)
        engine.dispose()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\n{'all figures as expected' if all(ok) else 'SOME FIGURES UNEXPECTED'}; load: {load}")
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
