"""The schema, once, as SQLAlchemy Core tables.

The results tables mirror subunit2sql 1.10.0 (alembic head 10a2b6d4b06e) by
name, column and index, so an existing subunit2sql database is served as is
and subunit2sql's tools keep working on ours. Like subunit2sql, there are no
foreign key constraints; deletes keep the tables consistent instead.

Our own additions are named ``uq_tests_test_id`` and ``uq_runs_uuid`` (they
make concurrent ingest race-free) and live in ``OWN_INDEXES``.

Core only: ``ci-health ingest`` writes through these tables without loading
the ORM (a fifth of a one-stream ingest's time went into importing it);
health_api.db.models maps ORM classes onto them. The tables and indexes the
ingest does not need are in health_api.db.tables_extra, on the same MetaData.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, Double, Float, Index, Integer,
                        LargeBinary, MetaData, String, Table, Text, UniqueConstraint)
from sqlalchemy.dialects import mysql

metadata = MetaData()

# MySQL's BLOB stops at 64 KiB; a traceback or log attachment is often larger.
AttachmentBlob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
# Test ids differ by case ("test_Foo" vs "test_foo"): compare them exactly.
TestIdString = String(256).with_variant(
    mysql.VARCHAR(256, collation="utf8mb4_bin"), "mysql", "mariadb")
# Ids are BIGINT everywhere but SQLite, where only INTEGER PRIMARY KEY autoincrements.
Id = BigInteger().with_variant(Integer(), "sqlite")


tests = Table(
    "tests", metadata,
    Column("id", Id, primary_key=True),
    Column("test_id", TestIdString, nullable=False),
    Column("run_count", Integer),
    Column("success", Integer),
    Column("failure", Integer),
    Column("run_time", Float),
    Index("ix_test_ids", "id", "test_id", mysql_length={"test_id": 30}),
    Index("ix_tests_test_id", "test_id", mysql_length=30),
)


runs = Table(
    "runs", metadata,
    Column("uuid", String(36)),
    Column("id", Id, primary_key=True),
    Column("skips", Integer),
    Column("fails", Integer),
    Column("passes", Integer),
    Column("run_time", Float),
    Column("artifacts", Text),
    Column("run_at", DateTime),
    Index("ix_run_at", "run_at"),
    Index("ix_run_uuid", "uuid"),
)


test_runs = Table(
    "test_runs", metadata,
    Column("id", Id, primary_key=True),
    Column("test_id", BigInteger),
    Column("run_id", BigInteger),
    Column("status", String(256)),
    Column("start_time", DateTime),
    Column("stop_time", DateTime),
    Column("start_time_microsecond", Integer),
    Column("stop_time_microsecond", Integer),
    Index("ix_test_id_status", "test_id", "status", mysql_length={"status": 30}),
    Index("ix_test_id_start_time", "test_id", "start_time"),
    Index("ix_test_runs_test_id", "test_id"),
    Index("ix_test_runs_run_id", "run_id"),
    Index("ix_test_runs_start_time", "start_time"),
    Index("ix_test_runs_stop_time", "stop_time"),
    UniqueConstraint("test_id", "run_id", name="uq_test_runs"),
)


run_metadata = Table(
    "run_metadata", metadata,
    Column("id", Id, primary_key=True),
    Column("key", String(255)),
    Column("value", String(255)),
    Column("run_id", BigInteger),
    Index("ix_run_key_value", "key", "value"),
    Index("ix_run_id", "run_id"),
    UniqueConstraint("run_id", "key", "value", name="uq_run_metadata"),
)


test_run_metadata = Table(
    "test_run_metadata", metadata,
    Column("id", Id, primary_key=True),
    Column("key", String(255)),
    Column("value", String(255)),
    Column("test_run_id", BigInteger),
    Index("ix_test_run_key_value", "key", "value"),
    Index("ix_test_run_id", "test_run_id"),
    UniqueConstraint("test_run_id", "key", "value", name="uq_test_run_metadata"),
)


test_metadata = Table(
    "test_metadata", metadata,
    Column("id", Id, primary_key=True),
    Column("key", String(255)),
    Column("value", String(255)),
    Column("test_id", BigInteger),
    Index("ix_test_key_value", "key", "value"),
    Index("ix_test_id", "test_id"),
    UniqueConstraint("test_id", "key", "value", name="uq_test_metadata"),
)


attachments = Table(
    "attachments", metadata,
    Column("id", Id, primary_key=True),
    Column("test_run_id", BigInteger),
    Column("label", String(255)),
    Column("attachment", AttachmentBlob),
    Index("ix_attach_test_run_id", "test_run_id"),
)

#: the tables subunit2sql owns; we create them only where they are missing
SUBUNIT2SQL_TABLES = ("tests", "runs", "test_runs", "run_metadata",
                      "test_run_metadata", "test_metadata", "attachments")

#: our unique indexes on subunit2sql tables: (name, table, columns)
OWN_INDEXES = (
    ("uq_tests_test_id", "tests", ("test_id",)),
    ("uq_runs_uuid", "runs", ("uuid",)),
)


# -- our own tables -----------------------------------------------------------

# Per day and job (run metadata build_name): run outcomes and run times.
#
# Maintained inside each ingest transaction; ``ci-health db rebuild-rollups``
# recomputes it for databases subunit2sql filled.
job_daily = Table(
    "ch_job_daily", metadata,
    Column("day", Date, primary_key=True),
    Column("build_name", String(255), primary_key=True),
    Column("passed", Integer, default=0, nullable=False),
    Column("failed", Integer, default=0, nullable=False),
    Column("empty", Integer, default=0, nullable=False),
    # Double, not Float: MySQL's FLOAT is single precision, too coarse for sums
    Column("run_time_sum", Double, default=0.0, nullable=False),
    Column("run_time_sq_sum", Double, default=0.0, nullable=False),
    Index("ix_ch_job_daily_build_name", "build_name", "day"),
)


# Per day, job and test: status counts and the run time of passes.
test_daily = Table(
    "ch_test_daily", metadata,
    Column("day", Date, primary_key=True),
    Column("build_name", String(255), primary_key=True),
    Column("test_id", BigInteger, primary_key=True, autoincrement=False),
    Column("success", Integer, default=0, nullable=False),
    Column("failure", Integer, default=0, nullable=False),
    Column("skip", Integer, default=0, nullable=False),
    Column("timed", Integer, default=0, nullable=False),
    Column("run_time_sum", Double, default=0.0, nullable=False),
    Index("ix_ch_test_daily_test", "test_id", "day"),
    # ix_ch_test_daily_job: in tables_extra.py
)


# A run whose results are in ch_job_daily/ch_test_daily (migration 0020):
# the runs without a row here (written by subunit2sql) are the ones
# ``ci-health db rebuild-rollups --missing`` adds.
rolled_runs = Table(
    "ch_rolled_runs", metadata,
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
)

# -- openstack-health rollup (migration 0015_osh_daily) ------------------------
# Per job, day of the results' start time, test and run day (the run's run_at
# date, as ch_test_daily's day: what expire deletes by): openstack-health's
# pass/fail/other counts of /build_name/<job>/test_runs and what its resetting
# running mean needs -- ``trail_sum``, the durations of the passes after the
# part's last other result in test_runs.id order, ``pass_sum`` of all its passes,
# and the ids that say how parts combine (health_api.compat.rollup). The runs in
# it are exactly those of ch_rolled_runs.
osh_test_daily = Table(
    "ch_osh_test_daily", metadata,
    Column("build_name", String(255), primary_key=True),
    Column("start_day", Date, primary_key=True),
    Column("test_id", BigInteger, primary_key=True, autoincrement=False),
    Column("day", Date, primary_key=True),
    Column("passes", Integer, nullable=False, default=0),
    Column("fails", Integer, nullable=False, default=0),
    Column("others", Integer, nullable=False, default=0),
    Column("pass_sum", Double, nullable=False, default=0.0),
    Column("trail_sum", Double, nullable=False, default=0.0),
    Column("last_other", BigInteger),
    Column("min_pass", BigInteger),
    Column("max_pass", BigInteger),
    Column("tangled", Integer, nullable=False, default=0),
    Index("ix_ch_osh_test_daily_day", "day", "build_name"),
)
