"""SQLAlchemy 2 models.

The results tables mirror subunit2sql 1.10.0 (alembic head 10a2b6d4b06e) by
name, column and index, so an existing subunit2sql database is served as is
and subunit2sql's tools keep working on ours. Like subunit2sql, there are no
foreign key constraints; deletes keep the tables consistent instead.

Our own additions are named ``uq_tests_test_id`` and ``uq_runs_uuid`` (they
make concurrent ingest race-free) and live in ``OWN_INDEXES``.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (BigInteger, Date, DateTime, Float, Index, Integer, LargeBinary,
                        MetaData, String, Text, UniqueConstraint)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# MySQL's BLOB stops at 64 KiB; a traceback or log attachment is often larger.
AttachmentBlob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
# Test ids differ by case ("test_Foo" vs "test_foo"): compare them exactly.
TestIdString = String(256).with_variant(
    mysql.VARCHAR(256, collation="utf8mb4_bin"), "mysql", "mariadb")
# Ids are BIGINT everywhere but SQLite, where only INTEGER PRIMARY KEY autoincrements.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData()


class Test(Base):
    __tablename__ = "tests"
    __table_args__ = (
        Index("ix_test_ids", "id", "test_id", mysql_length={"test_id": 30}),
        Index("ix_tests_test_id", "test_id", mysql_length=30),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    test_id: Mapped[str] = mapped_column(TestIdString, nullable=False)
    run_count: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[int | None] = mapped_column(Integer)
    failure: Mapped[int | None] = mapped_column(Integer)
    run_time: Mapped[float | None] = mapped_column(Float)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_run_at", "run_at"), Index("ix_run_uuid", "uuid"))
    uuid: Mapped[str | None] = mapped_column(String(36))
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    skips: Mapped[int | None] = mapped_column(Integer)
    fails: Mapped[int | None] = mapped_column(Integer)
    passes: Mapped[int | None] = mapped_column(Integer)
    run_time: Mapped[float | None] = mapped_column(Float)
    artifacts: Mapped[str | None] = mapped_column(Text)
    run_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TestRun(Base):
    __tablename__ = "test_runs"
    __table_args__ = (
        Index("ix_test_id_status", "test_id", "status", mysql_length={"status": 30}),
        Index("ix_test_id_start_time", "test_id", "start_time"),
        Index("ix_test_runs_test_id", "test_id"),
        Index("ix_test_runs_run_id", "run_id"),
        Index("ix_test_runs_start_time", "start_time"),
        Index("ix_test_runs_stop_time", "stop_time"),
        UniqueConstraint("test_id", "run_id", name="uq_test_runs"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    test_id: Mapped[int | None] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(256))
    start_time: Mapped[dt.datetime | None] = mapped_column(DateTime)
    stop_time: Mapped[dt.datetime | None] = mapped_column(DateTime)
    start_time_microsecond: Mapped[int | None] = mapped_column(Integer)
    stop_time_microsecond: Mapped[int | None] = mapped_column(Integer)


class RunMetadata(Base):
    __tablename__ = "run_metadata"
    __table_args__ = (
        Index("ix_run_key_value", "key", "value"),
        Index("ix_run_id", "run_id"),
        UniqueConstraint("run_id", "key", "value", name="uq_run_metadata"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))
    run_id: Mapped[int | None] = mapped_column(BigInteger)


class TestRunMetadata(Base):
    __tablename__ = "test_run_metadata"
    __table_args__ = (
        Index("ix_test_run_key_value", "key", "value"),
        Index("ix_test_run_id", "test_run_id"),
        UniqueConstraint("test_run_id", "key", "value", name="uq_test_run_metadata"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))
    test_run_id: Mapped[int | None] = mapped_column(BigInteger)


class TestMetadata(Base):
    __tablename__ = "test_metadata"
    __table_args__ = (
        Index("ix_test_key_value", "key", "value"),
        Index("ix_test_id", "test_id"),
        UniqueConstraint("test_id", "key", "value", name="uq_test_metadata"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))
    test_id: Mapped[int | None] = mapped_column(BigInteger)


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attach_test_run_id", "test_run_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    test_run_id: Mapped[int | None] = mapped_column(BigInteger)
    label: Mapped[str | None] = mapped_column(String(255))
    attachment: Mapped[bytes | None] = mapped_column(AttachmentBlob)


#: the tables subunit2sql owns; we create them only where they are missing
SUBUNIT2SQL_TABLES = ("tests", "runs", "test_runs", "run_metadata",
                      "test_run_metadata", "test_metadata", "attachments")

#: our unique indexes on subunit2sql tables: (name, table, columns)
OWN_INDEXES = (
    ("uq_tests_test_id", "tests", ("test_id",)),
    ("uq_runs_uuid", "runs", ("uuid",)),
)

tests = Test.__table__
runs = Run.__table__
test_runs = TestRun.__table__
run_metadata = RunMetadata.__table__
test_run_metadata = TestRunMetadata.__table__
test_metadata = TestMetadata.__table__
attachments = Attachment.__table__


# -- our own tables -----------------------------------------------------------

class JobDaily(Base):
    """Per day and job (run metadata build_name): run outcomes and run times.

    Maintained inside each ingest transaction; ``ci-health db rebuild-rollups``
    recomputes it for databases subunit2sql filled."""

    __tablename__ = "ch_job_daily"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    build_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    empty: Mapped[int] = mapped_column(Integer, default=0)
    run_time_sum: Mapped[float] = mapped_column(Float, default=0.0)
    run_time_sq_sum: Mapped[float] = mapped_column(Float, default=0.0)
    __table_args__ = (Index("ix_ch_job_daily_build_name", "build_name", "day"),)


class TestDaily(Base):
    """Per day, job and test: status counts and the run time of passes."""

    __tablename__ = "ch_test_daily"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    build_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    test_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    success: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[int] = mapped_column(Integer, default=0)
    skip: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)
    run_time_sum: Mapped[float] = mapped_column(Float, default=0.0)
    __table_args__ = (Index("ix_ch_test_daily_test", "test_id", "day"),)


job_daily = JobDaily.__table__
test_daily = TestDaily.__table__
