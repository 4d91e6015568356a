"""The tests table as a run sees it: ids learnt ahead from the job's latest day."""
from __future__ import annotations

import datetime as dt

from health_api.ingest.catalog import RunTests, TestIdCache

from streams import ingest, rows, stream

DAY1 = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.timezone.utc)
DAY2 = dt.datetime(2026, 9, 2, 8, 0, tzinfo=dt.timezone.utc)


def test_learns_the_tests_of_the_jobs_latest_day(db_url, engine):
    ingest(db_url, stream(("pkg.old_only", "success"), ("pkg.both", "fail"), start=DAY1),
           "--run-meta", "build_name=job-a")
    ingest(db_url, stream(("pkg.both", "success"), ("pkg.new", "skip"), start=DAY2),
           "--run-meta", "build_name=job-a")
    ingest(db_url, stream(("pkg.other_job", "success"), start=DAY2),
           "--run-meta", "build_name=job-b")
    ids = dict(rows(engine, "SELECT test_id, id FROM tests"))
    with engine.connect() as conn:
        cache = TestIdCache()
        assert RunTests(conn, cache).learn_job_tests("job-a") == 2
        assert cache.committed == {"pkg.both": ids["pkg.both"], "pkg.new": ids["pkg.new"]}
        # a job never stored, and a cache with no room left, learn nothing
        assert RunTests(conn, TestIdCache()).learn_job_tests("job-c") == 0
        full = TestIdCache(limit=1)
        full.committed["pkg.x"] = 1
        assert RunTests(conn, full).learn_job_tests("job-a") == 0
        small = TestIdCache(limit=1)
        assert RunTests(conn, small).learn_job_tests("job-a") == 1


def test_a_run_written_with_learnt_ids_matches_one_that_looked_them_up(db_url, engine):
    data = stream(("pkg.a", "success", 2.0), ("pkg.b", "fail"), ("pkg.c", "success", 4.0))
    ingest(db_url, data, "--run-meta", "build_name=job-a")
    ingest(db_url, data, "--run-meta", "build_name=job-a")  # a new process: learns them
    assert rows(engine, "SELECT test_id, run_count, success, failure FROM tests "
                        "ORDER BY test_id") == [("pkg.a", 2, 2, 0), ("pkg.b", 2, 0, 2),
                                                ("pkg.c", 2, 2, 0)]
    assert rows(engine, "SELECT COUNT(*), COUNT(DISTINCT test_id) FROM test_runs") == [(6, 3)]


def test_names_that_go_straight_to_the_insert_but_exist(db_url, engine, monkeypatch):
    # After a batch of only new tests, PostgreSQL inserts the next batch's
    # unknown names without looking them up; those that exist are skipped by
    # the INSERT, then looked up, and counted once like any known test.
    from health_api.ingest import writer
    monkeypatch.setitem(writer.RunWriter.__init__.__kwdefaults__, "batch_size", 150)
    known = [f"pkg.known_{i:03d}" for i in range(50)]
    # another job: its tests are not learnt ahead
    ingest(db_url, stream(*[(name, "success") for name in known]), "--run-meta", "build_name=a")
    first = [(f"pkg.first_{i:03d}", "success") for i in range(150)]
    second = [(name, "fail") for name in known] + [
        (f"pkg.second_{i:03d}", "success") for i in range(100)]
    ingest(db_url, stream(*first, *second), "--run-meta", "build_name=b")
    got = {r[0]: r[1:] for r in rows(engine, "SELECT test_id, run_count, success, failure "
                                             "FROM tests")}
    assert len(got) == 300
    assert {got[name] for name in known} == {(2, 1, 1)}
    assert {v for k, v in got.items() if k not in known} == {(1, 1, 0)}
    assert rows(engine, "SELECT COUNT(*), COUNT(DISTINCT test_id) FROM test_runs") == [
        (350, 300)]


def _attrs_by_test(engine):
    return rows(engine, "SELECT t.test_id, trm.value FROM test_run_metadata trm "
                        "JOIN test_runs tr ON tr.id = trm.test_run_id "
                        "JOIN tests t ON t.id = tr.test_id "
                        "WHERE trm.key = 'attrs' ORDER BY t.test_id")


def test_test_run_ids_given_by_the_server_or_read_back_link_the_same_rows(
        db_url, engine, monkeypatch):
    # MySQL/MariaDB take the ids of the test_runs (and of new tests) from the
    # INSERT where the server promises consecutive ids, else read them back:
    # both link every test_run_metadata row to its own test_run, over several
    # batches and statements, new tests and known ones.
    from health_api.db import bulk
    from health_api.ingest import writer
    monkeypatch.setitem(writer.RunWriter.__init__.__kwdefaults__, "batch_size", 40)
    monkeypatch.setattr(bulk, "ID_INSERT_ROWS", 15)
    tests = [(f"pkg.t{i:03d}[id-{i},{'smoke' if i % 3 else 'slow'}]", "success")
             for i in range(100)]
    expected = sorted((f"pkg.t{i:03d}", f"id-{i},{'smoke' if i % 3 else 'slow'}")
                      for i in range(100))
    ingest(db_url, stream(*tests), "--run-meta", "build_name=a")
    assert _attrs_by_test(engine) == expected
    monkeypatch.setattr(bulk, "_ids_consecutive", lambda conn: False)  # the read back
    ingest(db_url, stream(*tests), "--run-meta", "build_name=a")
    ingest(db_url, stream(*[(f"pkg.u{i:03d}[x-{i}]", "fail") for i in range(60)]),
           "--run-meta", "build_name=a")
    assert _attrs_by_test(engine) == sorted(expected * 2 + [
        (f"pkg.u{i:03d}", f"x-{i}") for i in range(60)])
    assert rows(engine, "SELECT COUNT(*), SUM(run_count), SUM(success), SUM(failure) "
                        "FROM tests") == [(160, 260, 200, 60)]
