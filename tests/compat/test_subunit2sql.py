"""ci-health against the real subunit2sql 1.10.0, on SQLite and PostgreSQL.

subunit2sql runs from the compat venv (tools/compat-venv.sh); ci-health runs
as its console script. The input is real Tempest results from OPNFV labs
(tests/data/opnfv-tempest, CC BY 4.0, see its README).
"""
from __future__ import annotations

import collections
import datetime as dt
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import subunit
import testtools
from sqlalchemy.pool import NullPool

from health_api.app import create_app
from health_api.config import Config
from health_api.db.migrate import head_revision
from health_api.db.models import SUBUNIT2SQL_TABLES
from health_api.ingest import records

pytestmark = pytest.mark.compat

DATA = Path(__file__).resolve().parents[1] / "data" / "opnfv-tempest"
SUBUNIT2SQL_HEAD = "10a2b6d4b06e"  # subunit2sql 1.10.0's alembic head


@dataclass(frozen=True)
class Stream:
    file: str
    build_name: str
    run_at: str  # given to both tools (see test_same_rows_as_subunit2sql)
    passes: int
    fails: int
    skips: int

    @property
    def path(self) -> Path:
        return DATA / self.file

    @property
    def tests(self) -> int:
        return self.passes + self.fails + self.skips

    @property
    def artifacts(self) -> str:
        return f"https://logs.example.org/{self.build_name}"


# Statuses counted from the files; many tests recur across the three runs, with
# passes turning into failures and back.
KVM = Stream("fuel-os-nosdn-kvm-ha-96f7bd7628cb149a.subunit", "fuel-os-nosdn-kvm-ha",
             "2016-04-27 15:59:11", passes=111, fails=14, skips=46)
APEX = Stream("apex-os-odl_l2-nofeature-ha-67f09646a557cbb5.subunit",
              "apex-os-odl_l2-nofeature-ha", "2016-05-02 08:00:00", passes=62, fails=8, skips=0)
NOSDN = Stream("fuel-os-nosdn-nofeature-ha-dbc147a6ddc49ca5.subunit",
               "fuel-os-nosdn-nofeature-ha", "2016-05-03 09:30:15", passes=182, fails=25, skips=3)
STREAMS = (KVM, APEX, NOSDN)


# -- running the tools -------------------------------------------------------

def ci_health(*args: str, cwd: Path) -> str:
    exe = Path(sys.executable).with_name("ci-health")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "health_api.cli"]
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True, cwd=cwd,
                          timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"ci-health {' '.join(args)} exited {proc.returncode}\n"
                    f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}")
    return proc.stdout


def subunit2sql_ingest(venv, url: str, stream: Stream, cwd: Path) -> None:
    venv.run("subunit2sql", "--database-connection", url,
             "--run_meta", f"build_name:{stream.build_name},pipeline:periodic",
             "--artifacts", stream.artifacts, "--run_at", stream.run_at,
             str(stream.path), cwd=cwd)


def our_ingest(url: str, stream: Stream, cwd: Path) -> dict:
    out = ci_health("ingest", "subunit", "--db", url, "--json",
                    "--run-meta", f"build_name={stream.build_name}",
                    "--run-meta", "pipeline=periodic",
                    "--artifacts", stream.artifacts, "--run-at", stream.run_at,
                    str(stream.path), cwd=cwd)
    lines = out.splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0])


def subunit2sql_schema(venv, url: str, cwd: Path) -> None:
    venv.run("subunit2sql-db-manage", "--database-connection", url, "upgrade", "head",
             cwd=cwd)


# -- reading databases and streams -------------------------------------------

def _engine(url: str) -> sa.Engine:
    # A plain engine: ci-health's make_engine would switch SQLite files to WAL,
    # and the point here is to look without touching.
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed, poolclass=NullPool)


def query(url: str, sql: str) -> list[tuple]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def schema(url: str) -> dict[str, dict]:
    """Every table's columns, primary key, indexes and unique constraints."""
    engine = _engine(url)
    try:
        inspector = sa.inspect(engine)
        snapshot = {}
        for table in sorted(inspector.get_table_names()):
            snapshot[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                            for c in inspector.get_columns(table)],
                "pk": inspector.get_pk_constraint(table).get("constrained_columns"),
                "indexes": sorted(((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                   for i in inspector.get_indexes(table)), key=repr),
                "uniques": sorted(((u["name"], tuple(u["column_names"]))
                                   for u in inspector.get_unique_constraints(table)), key=repr),
            }
        return snapshot
    finally:
        engine.dispose()


def contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, raw as the driver returns it."""
    tables = query(url, "SELECT name FROM sqlite_master WHERE type = 'table'") \
        if url.startswith("sqlite") else \
        query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name: sorted(query(url, f"SELECT * FROM {name}"), key=repr)
            for (name,) in sorted(tables)}


@dataclass
class Result:
    status: str
    start: dt.datetime | None
    stop: dt.datetime | None
    tags: frozenset[str]

    @property
    def duration(self) -> float:
        return (self.stop - self.start).total_seconds()


def parse_stream(data: bytes) -> dict[str, Result]:
    """A subunit v2 stream, decoded by python-subunit: test id -> its result."""
    results: dict[str, Result] = {}

    def on_test(test: dict) -> None:
        if test["status"] == "exists":
            return
        assert test["id"] not in results, f"{test['id']} reported twice"
        start, stop = test["timestamps"]
        results[test["id"]] = Result(test["status"], start, stop, frozenset(test["tags"]))

    collector = testtools.StreamToDict(on_test)
    collector.startTestRun()
    subunit.ByteStreamToStreamResult(io.BytesIO(data)).run(collector)
    collector.stopTestRun()
    return results


def stripped(results: dict[str, Result]) -> dict[str, Result]:
    """Test ids with subunit2sql's default attrs group (``[...]``) removed."""
    normalizer = records.TestIdNormalizer()
    out = {normalizer.split(test_id)[0]: result for test_id, result in results.items()}
    assert len(out) == len(results)
    return out


def input_results(stream: Stream) -> dict[str, Result]:
    return stripped(parse_stream(stream.path.read_bytes()))


# -- (a) adopting a subunit2sql database -------------------------------------

def test_adopts_subunit2sql_database_and_both_keep_writing(compat_venv, new_db, tmp_path):
    url = new_db("adopt")
    subunit2sql_schema(compat_venv, url, tmp_path)
    subunit2sql_ingest(compat_venv, url, KVM, tmp_path)
    assert query(url, "SELECT version_num FROM alembic_version") == [(SUBUNIT2SQL_HEAD,)]
    schema_before, rows_before = schema(url), contents(url)
    assert set(SUBUNIT2SQL_TABLES) | {"alembic_version"} == set(schema_before)
    assert len(rows_before["test_runs"]) == KVM.tests

    head = head_revision()
    lines = ci_health("db", "upgrade", "--db", url, cwd=tmp_path).splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"adopted subunit2sql schema (revision {SUBUNIT2SQL_HEAD})")
    assert lines[1] == f"schema upgraded from empty to {head}"
    assert lines[2] == "daily rollups built for 1 runs"
    # the adopted run is in the rollups: the job answers its run, in integers
    detail = job_detail(url, KVM)
    assert [(p["passed"], p["failed"], p["empty"], p["runs"]) for p in detail["points"]
            if p["runs"]] == [(0, 1, 0, 1)]
    assert all(type(p[k]) is int for p in detail["points"]
               for k in ("passed", "failed", "empty", "runs"))

    assert query(url, "SELECT version_num FROM alembic_version") == [(SUBUNIT2SQL_HEAD,)]
    assert query(url, "SELECT version_num FROM ci_health_alembic_version") == [(head,)]
    schema_after = schema(url)
    for table in SUBUNIT2SQL_TABLES + ("alembic_version",):
        assert schema_after[table]["columns"] == schema_before[table]["columns"], table
        assert schema_after[table]["pk"] == schema_before[table]["pk"], table
        # adoption may add indexes, never drop or change subunit2sql's
        assert set(schema_before[table]["indexes"]) <= set(schema_after[table]["indexes"])
        assert set(schema_before[table]["uniques"]) <= set(schema_after[table]["uniques"])
    rows_after = contents(url)
    for table in SUBUNIT2SQL_TABLES + ("alembic_version",):
        assert rows_after[table] == rows_before[table], table

    # a second upgrade is a no-op
    lines = ci_health("db", "upgrade", "--db", url, cwd=tmp_path).splitlines()
    assert lines == [f"schema already at {head}; nothing to do"]
    assert schema(url) == schema_after
    assert contents(url) == rows_after

    # our ingest into the adopted database
    summary = our_ingest(url, APEX, tmp_path)
    assert {k: summary[k] for k in ("passes", "fails", "skips", "tests")} == {
        "passes": 62, "fails": 8, "skips": 0, "tests": 70}
    assert query(url, "SELECT passes, fails, skips, artifacts FROM runs "
                      f"WHERE uuid = '{summary['uuid']}'") == [(62, 8, 0, APEX.artifacts)]
    assert query(url, "SELECT COUNT(*) FROM test_runs tr JOIN runs r ON r.id = tr.run_id "
                      f"WHERE r.uuid = '{summary['uuid']}'") == [(70,)]
    assert sorted(query(url, "SELECT m.key, m.value FROM run_metadata m JOIN runs r "
                             f"ON r.id = m.run_id WHERE r.uuid = '{summary['uuid']}'")) == [
        ("build_name", APEX.build_name), ("pipeline", "periodic")]

    # ...and subunit2sql still writes into it afterwards
    subunit2sql_ingest(compat_venv, url, NOSDN, tmp_path)
    assert sorted(query(url, "SELECT passes, fails, skips, artifacts FROM runs")) == sorted(
        (s.passes, s.fails, s.skips, s.artifacts) for s in STREAMS)
    assert query(url, "SELECT COUNT(*) FROM test_runs") == [(171 + 70 + 210,)]
    assert query(url, "SELECT version_num FROM alembic_version") == [(SUBUNIT2SQL_HEAD,)]

    # the rollups: subunit2sql's later run added by --missing, and then they
    # equal a full rebuild in SQL (which recomputes our writer's APEX rows too)
    assert json.loads(ci_health("db", "rebuild-rollups", "--missing", "--db", url,
                                cwd=tmp_path))["runs"] == 1
    assert job_detail(url, NOSDN)["points"][-1]["runs"] == 1
    incremental = rollup_rows(url)
    assert len(incremental["ch_job_daily"]) == 3
    assert json.loads(ci_health("db", "rebuild-rollups", "--db", url, cwd=tmp_path))["runs"] == 3
    rebuilt = rollup_rows(url)
    for table, got in rebuilt.items():
        want = incremental[table]
        assert [r[:-2] for r in got] == [r[:-2] for r in want], table
        assert [r[-2:] for r in got] == [pytest.approx(r[-2:], rel=1e-9) for r in want], table

    # per-test counters of the three runs, whichever tool wrote them, match the input
    expected: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for stream in STREAMS:
        for name, result in input_results(stream).items():
            counts = expected[name]
            counts[0] += result.status in ("success", "fail")
            counts[1] += result.status == "success"
            counts[2] += result.status == "fail"
    stored = {name: [run_count, success, failure] for name, run_count, success, failure
              in query(url, "SELECT test_id, run_count, success, failure FROM tests")}
    assert query(url, "SELECT COUNT(*) FROM tests") == [(len(stored),)]  # no duplicates
    assert stored == dict(expected)


def job_detail(url: str, stream: Stream) -> dict:
    day = dt.datetime.strptime(stream.run_at, "%Y-%m-%d %H:%M:%S").date()
    app = create_app(db_url=url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"}))
    reply = app.test_client().get(
        f"/api/v1/jobs/{stream.build_name}?resolution=day"
        f"&start={day - dt.timedelta(days=1)}T00:00:00Z&stop={day + dt.timedelta(days=1)}T00:00:00Z")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def rollup_rows(url: str) -> dict[str, list[tuple]]:
    return {"ch_job_daily": query(url, "SELECT day, build_name, passed, failed, empty, "
                                       "run_time_sum, run_time_sq_sum FROM ch_job_daily "
                                       "ORDER BY day, build_name"),
            "ch_test_daily": query(url, "SELECT d.day, d.build_name, t.test_id, d.success, "
                                        "d.failure, d.skip, d.timed, d.run_time_sum, 0.0 "
                                        "FROM ch_test_daily d JOIN tests t ON t.id = d.test_id "
                                        "ORDER BY d.day, d.build_name, t.test_id")}


# -- (b) subunit2sql's sql2subunit reads our runs --------------------------------

def test_sql2subunit_reads_back_runs_we_ingested(compat_venv, new_db, tmp_path):
    compat_venv.require()
    url = new_db("export")
    ci_health("db", "upgrade", "--db", url, cwd=tmp_path)
    uuids = {stream: our_ingest(url, stream, tmp_path)["uuid"] for stream in (KVM, APEX)}
    for stream, run_uuid in uuids.items():
        out = compat_venv.run("sql2subunit", "--database-connection", url, run_uuid,
                              cwd=tmp_path).stdout
        exported = stripped(parse_stream(out))
        given = input_results(stream)
        assert len(exported) == stream.tests
        assert collections.Counter(r.status for r in exported.values()) == +collections.Counter(
            {"success": stream.passes, "fail": stream.fails, "skip": stream.skips})
        assert {k: r.status for k, r in exported.items()} == \
            {k: r.status for k, r in given.items()}
        # the times survive too, to the microsecond
        assert {k: (r.start, r.stop) for k, r in exported.items()} == \
            {k: (r.start, r.stop) for k, r in given.items()}


def test_sql2subunit_restores_attrs_and_tags_we_store(compat_venv, new_db, tmp_path):
    """The OPNFV streams have no attrs or tags: a small stream that has them."""
    compat_venv.require()
    t0 = dt.datetime(2016, 5, 4, 12, 0, 0, 250000, tzinfo=dt.timezone.utc)
    tests = [  # (raw id, status, tags, duration)
        ("tempest.api.compute.test_a.A.test_one[id-1b2c,smoke]", "success",
         {"worker-0"}, 1.5),
        ("tempest.api.compute.test_a.A.test_two[id-9f00]", "fail", {"worker-1", "slow"}, 0.25),
        ("tempest.api.network.test_b.B.test_three", "skip", set(), 0.0),
    ]
    buf = io.BytesIO()
    writer = subunit.StreamResultToBytes(buf)
    now = t0
    for test_id, status, tags, duration in tests:
        writer.status(test_id=test_id, test_status="inprogress", test_tags=tags or None,
                      timestamp=now)
        now += dt.timedelta(seconds=duration)
        writer.status(test_id=test_id, test_status=status, test_tags=tags or None,
                      timestamp=now)
    source = tmp_path / "attrs.subunit"
    source.write_bytes(buf.getvalue())
    given = parse_stream(source.read_bytes())
    assert len(given) == 3

    url = new_db("attrs")
    ci_health("db", "upgrade", "--db", url, cwd=tmp_path)
    summary = json.loads(ci_health("ingest", "subunit", "--db", url, "--json", str(source),
                                   cwd=tmp_path))
    assert {k: summary[k] for k in ("passes", "fails", "skips", "tests")} == {
        "passes": 1, "fails": 1, "skips": 1, "tests": 3}
    assert sorted(query(url, "SELECT test_id FROM tests")) == [
        ("tempest.api.compute.test_a.A.test_one",), ("tempest.api.compute.test_a.A.test_two",),
        ("tempest.api.network.test_b.B.test_three",)]
    out = compat_venv.run("sql2subunit", "--database-connection", url, summary["uuid"],
                          cwd=tmp_path).stdout
    exported = parse_stream(out)
    # sql2subunit puts the attrs back into the id and the tags back on the test
    assert {k: (r.status, r.tags, r.start, r.stop) for k, r in exported.items()} == \
        {k: (r.status, r.tags, r.start, r.stop) for k, r in given.items()}


# -- (c) the same rows as subunit2sql writes ---------------------------------

def logical_rows(url: str) -> dict[str, collections.Counter]:
    """The results tables without surrogate ids, uuids or ingest times: runs are
    keyed by run_at (given explicitly, distinct per run), tests by test_id."""
    runs = query(url, "SELECT run_at, passes, fails, skips, run_time, artifacts FROM runs")
    test_runs = query(
        url, "SELECT t.test_id, r.run_at, tr.status, tr.start_time, tr.stop_time, "
             "tr.start_time_microsecond, tr.stop_time_microsecond FROM test_runs tr "
             "JOIN tests t ON t.id = tr.test_id JOIN runs r ON r.id = tr.run_id")
    assert query(url, "SELECT COUNT(*) FROM test_runs") == [(len(test_runs),)]  # no orphans
    run_metadata = query(url, "SELECT r.run_at, m.key, m.value FROM run_metadata m "
                              "JOIN runs r ON r.id = m.run_id")
    test_run_metadata = query(
        url, "SELECT t.test_id, r.run_at, m.key, m.value FROM test_run_metadata m "
             "JOIN test_runs tr ON tr.id = m.test_run_id JOIN tests t ON t.id = tr.test_id "
             "JOIN runs r ON r.id = tr.run_id")
    tests = query(url, "SELECT test_id, run_count, success, failure FROM tests")
    return {"runs": collections.Counter(runs), "test_runs": collections.Counter(test_runs),
            "run_metadata": collections.Counter(run_metadata),
            "test_run_metadata": collections.Counter(test_run_metadata),
            "tests": collections.Counter(tests)}


def test_same_rows_as_subunit2sql(compat_venv, new_db, tmp_path):
    theirs, ours = new_db("theirs"), new_db("ours")
    subunit2sql_schema(compat_venv, theirs, tmp_path)
    ci_health("db", "upgrade", "--db", ours, cwd=tmp_path)
    for stream in STREAMS:
        # Known difference 1: without --run_at subunit2sql stores the ingest time
        # as runs.run_at, we the stream's first timestamp. Both get the same
        # explicit run_at here (subunit2sql: --run_at, ci-health: --run-at).
        subunit2sql_ingest(compat_venv, theirs, stream, tmp_path)
        our_ingest(ours, stream, tmp_path)

    expected, got = logical_rows(theirs), logical_rows(ours)
    assert got["runs"] == expected["runs"]
    assert sorted((r[1], r[2], r[3], r[5]) for r in got["runs"]) == sorted(
        (s.passes, s.fails, s.skips, s.artifacts) for s in STREAMS)
    assert got["run_metadata"] == expected["run_metadata"]
    assert sum(got["run_metadata"].values()) == 2 * len(STREAMS)
    assert got["test_runs"] == expected["test_runs"]
    assert sum(got["test_runs"].values()) == 171 + 70 + 210
    assert got["test_run_metadata"] == expected["test_run_metadata"] == collections.Counter()
    assert got["tests"] == expected["tests"]  # test_id, run_count, success, failure

    # Known difference 2, tests.run_time: subunit2sql sets a new test's run_time
    # to its first result's duration whatever its status (a failure, a skip) and
    # from then on keeps a running mean of successes; ci-health keeps the mean
    # duration of successful results only, NULL while there is none. So the two
    # agree wherever a test has succeeded at least once and differ for tests
    # that never did; values compared exactly below, per case.
    history: dict[str, list[Result]] = collections.defaultdict(list)
    for stream in STREAMS:
        for name, result in input_results(stream).items():
            history[name].append(result)
    their_time = dict(query(theirs, "SELECT test_id, run_time FROM tests"))
    our_time = dict(query(ours, "SELECT test_id, run_time FROM tests"))
    assert set(their_time) == set(our_time) == set(history)
    cases = collections.Counter()
    for name, results in history.items():
        statuses = {r.status for r in results}
        if statuses == {"success"}:
            cases["all successes"] += 1
            assert our_time[name] == their_time[name], name
            continue
        documented = None  # ci-health: running mean of successful durations
        successes = 0
        for result in results:
            if result.status == "success":
                documented = result.duration if documented is None else \
                    (documented * successes + result.duration) / (successes + 1)
                successes += 1
        assert our_time[name] == documented, name
        if successes:
            cases["mixed"] += 1
            assert their_time[name] == our_time[name], name
        else:
            cases["never succeeded"] += 1
            assert our_time[name] is None
            assert their_time[name] == results[0].duration, name
    assert cases == {"all successes": 198, "mixed": 24, "never succeeded": 69}
