"""Issue 16, "Faults": 8 concurrent uploads (POST /api/v1/runs to `ci-health
serve`) of streams sharing new test names, into PostgreSQL and MariaDB: all
stored, and every counter exact (runs, tests, per-test counts, rollups)."""
from __future__ import annotations

import http.client
import json
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from health_api.tokens import create_token
from streams import rows, start_server, stream

UPLOADS = 8
SHARED = 300  # new test names every upload has, in its own order
OWN = 40      # names only one upload has


def _status(n: int, i: int) -> str:
    return "skip" if i % 17 == 0 else "fail" if (i * 7 + n * 3) % 11 == 0 else "success"


def _upload_tests(n: int) -> list[tuple[str, str]]:
    names = [(f"pkg.shared.Test.test_{i:04d}", i) for i in range(SHARED)]
    names = random.Random(n).sample(names, len(names))
    names += [(f"pkg.own{n}.Test.test_{i:04d}", SHARED + i) for i in range(OWN)]
    return [(name, _status(n, i)) for name, i in names]


@pytest.mark.parametrize("db_url", ["postgresql", "mysql"], indirect=True)
def test_concurrent_uploads_of_shared_new_tests(db_url, engine, tmp_path):
    _token_id, token = create_token(engine, "ci")
    proc, base = start_server(db_url, tmp_path / "serve.log", workers=2)
    host, port = base.replace("http://", "").split(":")
    uploads = [_upload_tests(n) for n in range(UPLOADS)]

    def post(n: int):
        conn = http.client.HTTPConnection(host, int(port), timeout=300)
        try:
            conn.request("POST", f"/api/v1/runs?meta=build_name:job-{n % 2}",
                         body=stream(*uploads[n]),
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/octet-stream"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()
    try:
        with ThreadPoolExecutor(UPLOADS) as pool:
            answers = list(pool.map(post, range(UPLOADS)))
    finally:
        proc.terminate()
        proc.wait(30)
    for status, body in answers:
        assert status == 201, (body, (tmp_path / "serve.log").read_text()[-3000:])

    # every run, with its own counts
    expected_runs = sorted((sum(s == "success" for _, s in u), sum(s == "fail" for _, s in u),
                            sum(s == "skip" for _, s in u)) for u in uploads)
    assert sorted(rows(engine, "SELECT passes, fails, skips FROM runs")) == expected_runs
    assert sorted((b["passes"], b["fails"], b["skips"]) for _, b in answers) == expected_runs
    # every test once, with its exact counters
    expected: dict[str, list[int]] = {}
    for u in uploads:
        for name, status in u:
            counts = expected.setdefault(name, [0, 0, 0])
            counts[0] += status != "skip"  # subunit2sql's run_count: skips not counted
            counts[1] += status == "success"
            counts[2] += status == "fail"
    stored = {name: [run_count, success, failure] for name, run_count, success, failure in
              rows(engine, "SELECT test_id, run_count, success, failure FROM tests")}
    assert stored == expected
    total = UPLOADS * (SHARED + OWN)
    assert rows(engine, "SELECT COUNT(*) FROM test_runs")[0][0] == total
    # the rollups the API reads add up to the same results and runs
    success, failure, skip = rows(engine, "SELECT SUM(success), SUM(failure), SUM(skip) "
                                          "FROM ch_test_daily")[0]
    assert (success, failure, skip) == (sum(r[0] for r in expected_runs),
                                        sum(r[1] for r in expected_runs),
                                        sum(r[2] for r in expected_runs))
    passed, failed = rows(engine, "SELECT SUM(passed), SUM(failed) FROM ch_job_daily")[0]
    assert passed + failed == UPLOADS
    assert failed == sum(1 for r in expected_runs if r[1])
