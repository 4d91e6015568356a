"""Issue 16, defect 2: concurrent ingests of streams sharing new test names
into PostgreSQL all land. A deadlock raised by the driver itself (the raw COPY
path bypasses SQLAlchemy) is recognised and retried like any other."""
from __future__ import annotations

import io
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from health_api.db.session import is_deadlock
from health_api.demo.streams import write_stream

from streams import rows, table_counts

CONCURRENT = 8
TESTS = 5000


def test_the_drivers_own_deadlock_error_is_a_deadlock():
    assert is_deadlock(psycopg.errors.DeadlockDetected("deadlock detected"))
    assert is_deadlock(psycopg.errors.SerializationFailure("could not serialize"))
    assert not is_deadlock(psycopg.errors.UniqueViolation("duplicate key"))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_ingests_of_shared_new_tests_all_land(db_url, engine, tmp_path):
    url = db_url
    ids = [f"pkg.shared.Test.test_{i:05d}" for i in range(TESTS)]
    paths = []
    for n in range(CONCURRENT):
        data = io.BytesIO()
        # the same new names in every stream, in a different order in each
        order = random.Random(n).sample(ids, len(ids))
        write_stream(data, order, seed=n, fail_every=n + 2)
        paths.append(tmp_path / f"run{n}.subunit")
        paths[-1].write_bytes(data.getvalue())

    def run(path):
        return subprocess.run([sys.executable, "-m", "health_api.cli", "ingest", "subunit",
                               "--db", url, "--run-meta", "build_name=shared", str(path)],
                              capture_output=True, timeout=600)
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        results = list(pool.map(run, paths))
    for result in results:
        assert result.returncode == 0, result.stderr.decode()[-2000:]
    counts = table_counts(engine)
    assert counts["runs"] == CONCURRENT
    assert counts["tests"] == TESTS
    assert counts["test_runs"] == CONCURRENT * TESTS
    run_counts = rows(engine, "SELECT MIN(run_count), MAX(run_count) FROM tests")[0]
    assert run_counts == (CONCURRENT, CONCURRENT)
    daily = rows(engine, "SELECT SUM(success + failure) FROM ch_test_daily")[0][0]
    assert daily == CONCURRENT * TESTS
