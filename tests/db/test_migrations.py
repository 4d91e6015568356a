"""Schema creation and upgrades on every engine."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from alembic import command

from health_api.db.migrate import alembic_config, head_revision, upgrade
from health_api.db.session import make_engine

from streams import run_cli

# subunit2sql 1.10.0's indexes and unique constraints (name -> columns)
SUBUNIT2SQL_INDEXES = {
    "tests": {"ix_test_ids": ["id", "test_id"], "ix_tests_test_id": ["test_id"]},
    "runs": {"ix_run_at": ["run_at"], "ix_run_uuid": ["uuid"]},
    "test_runs": {"ix_test_id_status": ["test_id", "status"],
                  "ix_test_id_start_time": ["test_id", "start_time"],
                  "ix_test_runs_test_id": ["test_id"], "ix_test_runs_run_id": ["run_id"],
                  "ix_test_runs_start_time": ["start_time"],
                  "ix_test_runs_stop_time": ["stop_time"], "uq_test_runs": ["test_id", "run_id"]},
    "run_metadata": {"ix_run_key_value": ["key", "value"], "ix_run_id": ["run_id"],
                     "uq_run_metadata": ["run_id", "key", "value"]},
    "test_run_metadata": {"ix_test_run_key_value": ["key", "value"],
                          "ix_test_run_id": ["test_run_id"],
                          "uq_test_run_metadata": ["test_run_id", "key", "value"]},
    "test_metadata": {"ix_test_key_value": ["key", "value"], "ix_test_id": ["test_id"],
                      "uq_test_metadata": ["test_id", "key", "value"]},
    "attachments": {"ix_attach_test_run_id": ["test_run_id"]},
}
UNIQUE = {"uq_test_runs", "uq_run_metadata", "uq_test_run_metadata", "uq_test_metadata",
          "uq_tests_test_id", "uq_runs_uuid"}


def _indexes(engine, table):
    inspector = sa.inspect(engine)
    found = {ix["name"]: (ix["column_names"], bool(ix["unique"]))
             for ix in inspector.get_indexes(table)}
    for uc in inspector.get_unique_constraints(table):
        found[uc["name"]] = (uc["column_names"], True)
    return found


def _scalar(engine, query: str):
    with engine.connect() as conn:
        return conn.exec_driver_sql(query).scalar()


def _downgrade(engine, revision: str) -> None:
    with engine.connect() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        conn.commit()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_fresh_schema_has_every_subunit2sql_index(fresh_db, kind):
    engine = make_engine(fresh_db(kind))
    report = upgrade(engine)
    assert (report.before, report.after) == (None, head_revision())
    for table, wanted in SUBUNIT2SQL_INDEXES.items():
        found = _indexes(engine, table)
        for name, columns in wanted.items():
            assert name in found, f"{table}.{name} missing on {kind}"
            assert found[name][0] == columns
            assert found[name][1] == (name in UNIQUE)
    assert _indexes(engine, "tests")["uq_tests_test_id"] == (["test_id"], True)
    assert _indexes(engine, "runs")["uq_runs_uuid"] == (["uuid"], True)
    with engine.connect() as conn:
        # subunit2sql-db-manage must see an up-to-date database, not a foreign one
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
            ("10a2b6d4b06e",)]
        assert conn.exec_driver_sql(
            "SELECT version_num FROM ci_health_alembic_version").all() == [(head_revision(),)]
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_upgrade_twice_is_a_no_op(fresh_db, kind):
    url = fresh_db(kind)
    first = run_cli("db", "upgrade", "--db", url)
    assert first.exit_code == 0
    assert first.stdout.strip() == f"schema upgraded from empty to {head_revision()}"
    engine = make_engine(url)
    before = {t: _indexes(engine, t) for t in sa.inspect(engine).get_table_names()}
    second = run_cli("db", "upgrade", "--db", url)
    assert second.exit_code == 0
    assert second.stdout.strip() == f"schema already at {head_revision()}; nothing to do"
    engine.dispose()
    engine = make_engine(url)
    assert {t: _indexes(engine, t) for t in sa.inspect(engine).get_table_names()} == before
    engine.dispose()


def test_adopts_subunit2sql_sqlite_schema_with_missing_indexes(fresh_db):
    """subunit2sql skips several indexes on SQLite; adoption adds them and
    leaves its tables and alembic_version alone."""
    url = fresh_db("sqlite")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL "
                             "PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('10a2b6d4b06e')")
        conn.exec_driver_sql("CREATE TABLE tests (id INTEGER NOT NULL PRIMARY KEY, test_id "
                             "VARCHAR(256) NOT NULL, run_count INTEGER, success INTEGER, "
                             "failure INTEGER, run_time FLOAT)")
        conn.exec_driver_sql("CREATE INDEX ix_tests_test_id ON tests (test_id)")
        conn.exec_driver_sql("INSERT INTO tests (test_id, run_count, success, failure) "
                             "VALUES ('a', 1, 1, 0), ('a', 1, 0, 1)")
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
            ("10a2b6d4b06e",)]
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM tests").scalar() == 2
    found = _indexes(engine, "tests")
    assert "ix_test_ids" in found
    # duplicate test ids written by a racy subunit2sql: the unique index is skipped, not forced
    assert "uq_tests_test_id" not in found
    assert "uq_test_runs" in _indexes(engine, "test_runs")
    engine.dispose()


def test_0005_leaves_room_for_counter_updates_on_postgresql(fresh_db):
    # tests and ch_test_daily have most rows of a page updated by each ingest:
    # half of each page stays free so that every new row version fits there.
    engine = make_engine(fresh_db("postgresql"))
    upgrade(engine, "0004")
    query = ("SELECT relname, reloptions FROM pg_class "
             "WHERE relname IN ('tests', 'ch_test_daily', 'ch_job_daily')")

    def fillfactors():
        with engine.connect() as conn:
            return dict(conn.exec_driver_sql(query).all())
    before = {"tests": ["fillfactor=70"], "ch_test_daily": ["fillfactor=70"],
              "ch_job_daily": ["fillfactor=70"]}
    assert fillfactors() == before
    upgrade(engine)
    assert fillfactors() == {**before, "tests": ["fillfactor=50"],
                             "ch_test_daily": ["fillfactor=50"]}
    _downgrade(engine, "0004")  # and back
    assert fillfactors() == before
    engine.dispose()


def test_0016_leaves_room_for_osh_part_updates_on_postgresql(fresh_db):
    # an ingest updates the parts its job's earlier runs of the day wrote: heap-only
    # updates need room on the page
    engine = make_engine(fresh_db("postgresql"))
    upgrade(engine, "0015_osh_daily")
    query = "SELECT reloptions FROM pg_class WHERE relname = 'ch_osh_test_daily'"
    assert _scalar(engine, query) is None
    upgrade(engine)
    assert _scalar(engine, query) == ["fillfactor=50"]
    _downgrade(engine, "0015_osh_daily")  # and back
    assert _scalar(engine, query) is None
    engine.dispose()


def test_0017_job_index_leaves_counter_updates_heap_only_on_postgresql(fresh_db):
    # an update is heap-only only when no indexed column changes: the job index must
    # not cover ch_test_daily's counters, which every ingest of a known test updates
    engine = make_engine(fresh_db("postgresql"))
    upgrade(engine, "0016_osh_fillfactor")
    query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_ch_test_daily_job'"
    assert "INCLUDE" in _scalar(engine, query)
    upgrade(engine)
    assert _scalar(engine, query).endswith("(build_name, day, test_id)")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO ch_test_daily (day, build_name, test_id, success,"
                             " failure, skip, timed, run_time_sum)"
                             " VALUES ('2026-12-01', 'job', 1, 1, 0, 0, 1, 2.0)")
    with engine.begin() as conn:  # the transaction's own counts: no wait for the stats
        conn.exec_driver_sql("UPDATE ch_test_daily SET success = success + 1")
        hot = conn.exec_driver_sql("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
                                   " WHERE relname = 'ch_test_daily'").one()
    assert tuple(hot) == (1, 1)
    _downgrade(engine, "0016_osh_fillfactor")  # and back
    assert "INCLUDE (success, failure, skip, timed, run_time_sum)" in _scalar(engine, query)
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_models_and_migrated_schema_agree(fresh_db, kind):
    """Migration 0001 writes its tables out (frozen history); every later revision
    changes both. The models and the schema the migrations build must agree: tables,
    columns, types, nullability, indexes (alembic's autogenerate finds no difference)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from health_api.db.models import OWN_INDEXES, Base

    engine = make_engine(fresh_db(kind))
    upgrade(engine)
    own = {name for name, _table, _columns in OWN_INDEXES}

    def include(obj, name, type_, reflected, compare_to):
        # alembic's own table, and our unique indexes on subunit2sql's tables, which the
        # models list in OWN_INDEXES rather than on the tables subunit2sql defines
        return not (type_ == "table" and name.endswith("alembic_version")) and name not in own

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": include})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    found = {ix["name"] for ix in sa.inspect(engine).get_indexes("tests")}
    found |= {uc["name"] for uc in sa.inspect(engine).get_unique_constraints("tests")}
    assert "uq_tests_test_id" in found


def _back_to_before_0020(engine, *, rollups: bool) -> None:
    """The state before 0020 (revision 0009): no ch_rolled_runs, no ix_ch_test_daily_job;
    ``rollups`` False: as a subunit2sql database adopted before 0020 (none built)."""
    with engine.begin() as conn:
        if conn.dialect.name in ("mysql", "mariadb"):
            conn.exec_driver_sql("DROP INDEX ix_ch_test_daily_job ON ch_test_daily")
        else:
            conn.exec_driver_sql("DROP INDEX ix_ch_test_daily_job")
        conn.exec_driver_sql("DROP TABLE ch_rolled_runs")
        # nor what the revisions after 0020 add (0013: the daily CI rollups)
        if conn.dialect.name in ("mysql", "mariadb"):
            conn.exec_driver_sql("DROP INDEX ix_ci_job_results_posted ON ci_job_results")
            conn.exec_driver_sql("DROP INDEX ix_ci_job_results_uncommented ON ci_job_results")
        else:
            conn.exec_driver_sql("DROP INDEX ix_ci_job_results_posted")
            conn.exec_driver_sql("DROP INDEX ix_ci_job_results_uncommented")
        conn.exec_driver_sql("DROP TABLE ci_daily_jobs")
        conn.exec_driver_sql("DROP TABLE ci_daily_reports")
        conn.exec_driver_sql("DROP TABLE ci_first_reports")
        conn.exec_driver_sql("DROP TABLE ch_osh_test_daily")  # 0015_osh_daily
        conn.exec_driver_sql("UPDATE ci_health_alembic_version SET version_num = '0009'")
        if not rollups:
            conn.exec_driver_sql("DELETE FROM ch_test_daily")
            conn.exec_driver_sql("DELETE FROM ch_job_daily")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_0020_on_a_live_store_and_on_one_adopted_without_rollups(fresh_db, kind):
    import datetime as dt
    from streams import ingest, stream
    url = fresh_db(kind)
    engine = make_engine(url)
    upgrade(engine)
    for hours in (0, 30):
        ingest(url, stream(("pkg.a", "success", 2.0), ("pkg.b", "fail"),
                           start=dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
                           + dt.timedelta(hours=hours)), "--run-meta", "build_name=j")
    with engine.connect() as conn:
        rollups = conn.exec_driver_sql("SELECT * FROM ch_test_daily ORDER BY 1, 2, 3").all()
    # a live ci-health store: its writer rolled every run up; 0020 records them
    _back_to_before_0020(engine, rollups=True)
    report = upgrade(engine)
    assert (report.before, report.after, report.rollups) == ("0009", head_revision(), None)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM ch_rolled_runs").scalar() == 2
    # adopted before 0020, no rollup ever built: the upgrade builds them, in SQL
    _back_to_before_0020(engine, rollups=False)
    report = upgrade(engine)
    assert report.rollups == {"runs": 2, "ranges": 1, "osh_test_daily_rows": 4}
    with engine.connect() as conn:
        got = conn.exec_driver_sql("SELECT * FROM ch_test_daily ORDER BY 1, 2, 3").all()
        assert [r[:7] for r in got] == [r[:7] for r in rollups]
        assert [r[7] for r in got] == pytest.approx([r[7] for r in rollups])
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("ch_test_daily")}
    assert "ix_ch_test_daily_job" in names


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_0009_adds_the_insight_tables_to_a_live_database(fresh_db, kind):
    url = fresh_db(kind)
    engine = make_engine(url)
    upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO runs (uuid, passes, fails) VALUES ('r1', 3, 1)"))
    upgrade(engine)
    engine.dispose()
    engine = make_engine(url)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"ch_analysis", "ch_cluster_labels", "ch_alert_state", "ch_alerts"} <= tables
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT uuid, passes, fails FROM runs")).all() == [("r1", 3, 1)]
        conn.execute(sa.text("INSERT INTO ch_analysis (kind, computed_at, payload) "
                             "VALUES ('k', '2026-12-01 00:00:00', :p)"), {"p": "x" * 100_000})
        assert len(conn.execute(sa.text("SELECT payload FROM ch_analysis")).scalar()) == 100_000
    engine.dispose()
