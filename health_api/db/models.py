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

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, Double, Float, Index, Integer,
                        LargeBinary, MetaData, SmallInteger, String, Text, UniqueConstraint,
                        false, text)
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
    # Double, not Float: MySQL's FLOAT is single precision, too coarse for sums
    run_time_sum: Mapped[float] = mapped_column(Double, default=0.0)
    run_time_sq_sum: Mapped[float] = mapped_column(Double, default=0.0)
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
    run_time_sum: Mapped[float] = mapped_column(Double, default=0.0)
    __table_args__ = (
        Index("ix_ch_test_daily_test", "test_id", "day"),
        # one job's tests over a window (/api/v1/jobs/{name}/tests) as one index
        # range; on PostgreSQL with the counts, read from the index alone
        Index("ix_ch_test_daily_job", "build_name", "day", "test_id",
              postgresql_include=["success", "failure", "skip", "timed", "run_time_sum"]),
    )


class RolledRun(Base):
    """A run whose results are in ch_job_daily/ch_test_daily (migration 0020):
    the runs without a row here (written by subunit2sql) are the ones
    ``ci-health db rebuild-rollups --missing`` adds."""

    __tablename__ = "ch_rolled_runs"
    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


job_daily = JobDaily.__table__
test_daily = TestDaily.__table__
rolled_runs = RolledRun.__table__


# -- CI verdicts ---------------------------------------------------------------
# From Gerrit (docs/design.md section 2), written by health_api.gerrit.writer.
# Times are naive UTC. No foreign keys (like the results tables); the store
# writes parents before children in one transaction. ``project`` (and the
# CI system, pipeline and time) are copied onto the child rows the CI queries
# filter on, so "by project and time" and "by CI system and time" are one
# index range each. MySQL: every index stays under 3072 bytes in utf8mb4.

# Comments reach 1 MB (and more): MySQL's TEXT stops at 64 KiB.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# Gerrit names (usernames, projects, jobs) are case-sensitive.
NameString = String(255).with_variant(
    mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb")


class CiSystem(Base):
    """A Gerrit account that reports CI results (declared or discovered)."""

    __tablename__ = "ci_systems"
    __table_args__ = (
        UniqueConstraint("username", name="uq_ci_systems_username"),
        Index("ix_ci_systems_account_id", "account_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Gerrit username; "account-<id>" when Gerrit gave only the numeric id
    username: Mapped[str] = mapped_column(NameString, nullable=False)
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(String(255))
    first_seen: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime)
    declared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class GerritChange(Base):
    __tablename__ = "changes"
    __table_args__ = (
        UniqueConstraint("number", name="uq_changes_number"),
        Index("ix_changes_project_branch", "project", "branch"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    project: Mapped[str | None] = mapped_column(NameString)
    branch: Mapped[str | None] = mapped_column(NameString)
    change_key: Mapped[str | None] = mapped_column(String(64))  # the I... Change-Id
    subject: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str | None] = mapped_column(String(32))  # NEW MERGED ABANDONED
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PatchSet(Base):
    __tablename__ = "patch_sets"
    __table_args__ = (
        UniqueConstraint("change_id", "number", name="uq_patch_sets_change_number"),
        Index("ix_patch_sets_project_created", "project", "created_on"),
        Index("ix_patch_sets_created", "created_on"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    change_id: Mapped[int] = mapped_column(BigInteger, nullable=False)  # -> changes.id
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    project: Mapped[str | None] = mapped_column(NameString)  # copy of changes.project
    branch: Mapped[str | None] = mapped_column(NameString)   # copy of changes.branch
    revision: Mapped[str | None] = mapped_column(String(64))
    created_on: Mapped[dt.datetime | None] = mapped_column(DateTime)
    uploader: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(32))


class CiComment(Base):
    """One comment of a CI system on a patch set; ``parsed`` false when no
    format was recognised (the text is kept either way).

    ``comment_key`` is the idempotency key, the same for the stream event
    and the REST message of one comment (see health_api.gerrit.rows.comment_key)."""

    __tablename__ = "ci_comments"
    __table_args__ = (
        UniqueConstraint("comment_key", name="uq_ci_comments_key"),
        Index("ix_ci_comments_system_posted", "ci_system_id", "posted_at"),
        Index("ix_ci_comments_project_posted", "project", "posted_at"),
        Index("ix_ci_comments_patch_set", "patch_set_id", "ci_system_id"),
        Index("ix_ci_comments_posted", "posted_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    comment_key: Mapped[str] = mapped_column(String(64), nullable=False)
    message_id: Mapped[str | None] = mapped_column(String(255))  # REST message id, if seen
    patch_set_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ci_system_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    project: Mapped[str | None] = mapped_column(NameString)
    posted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    pipeline: Mapped[str | None] = mapped_column(NameString)
    overall: Mapped[str | None] = mapped_column(String(32))  # SUCCESS FAILURE ... or NULL
    votes: Mapped[str | None] = mapped_column(Text)  # JSON {"Verified": 1}
    raw_text: Mapped[str | None] = mapped_column(LongText)
    parsed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class CiJobResult(Base):
    """One CI job verdict, whatever its source (``source``: gerrit, zuul,
    verify-status). A Gerrit job line has its comment as parent
    (``comment_id``, ``position``); a verdict from elsewhere has no comment and
    is identified by its natural ``result_key`` instead (see
    health_api.verdicts). ``attempt`` counts the results of the same (CI
    system, pipeline, patch set, job) in posted order from 1; the highest
    attempt is the current result."""

    __tablename__ = "ci_job_results"
    __table_args__ = (
        UniqueConstraint("comment_id", "position", name="uq_ci_job_results_comment_pos"),
        # partial where the engine can: comment lines have no result_key
        Index("uq_ci_job_results_result_key", "result_key", unique=True,
              postgresql_where=text("result_key IS NOT NULL"),
              sqlite_where=text("result_key IS NOT NULL")),
        Index("ix_ci_job_results_current", "patch_set_id", "ci_system_id", "pipeline", "job"),
        Index("ix_ci_job_results_system_posted", "ci_system_id", "posted_at"),
        Index("ix_ci_job_results_job_posted", "job", "posted_at"),
        Index("ix_ci_job_results_posted", "posted_at"),  # a window of every CI (0013)
        # the results without a comment (Zuul, verify-status) of a window, apart
        # from the many comment lines, from the index alone (0013; partial where
        # the engine can)
        Index("ix_ci_job_results_uncommented", "comment_id", "posted_at", "ci_system_id",
              "patch_set_id",
              postgresql_where=text("comment_id IS NULL"),
              sqlite_where=text("comment_id IS NULL")),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    comment_id: Mapped[int | None] = mapped_column(BigInteger)  # -> ci_comments.id, if any
    position: Mapped[int] = mapped_column(Integer, nullable=False)  # line order in the comment
    ci_system_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    patch_set_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    pipeline: Mapped[str | None] = mapped_column(NameString)
    posted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    job: Mapped[str] = mapped_column(NameString, nullable=False)
    result: Mapped[str] = mapped_column(String(32), nullable=False)
    url: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[int | None] = mapped_column(Integer)  # seconds
    voting: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    detail: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16), nullable=False, server_default="gerrit")
    result_key: Mapped[str | None] = mapped_column(String(64))  # results without a comment


class CiVerification(Base):
    """A verification reported through the verify-status channel, with the
    fields of the Gerrit verify-status plugin; its verdict is the
    ``ci_job_results`` row ``job_result_id`` (source 'verify-status')."""

    __tablename__ = "ci_verifications"
    __table_args__ = (
        UniqueConstraint("uuid", name="uq_ci_verifications_uuid"),
        Index("ix_ci_verifications_patch_set", "patch_set_id", "name", "granted"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), nullable=False)
    job_result_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    patch_set_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ci_system_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    name: Mapped[str] = mapped_column(NameString, nullable=False)  # the job
    value: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # -1, 0, 1
    abstain: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    rerun: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    url: Mapped[str | None] = mapped_column(Text)
    reporter: Mapped[str | None] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(255))
    duration: Mapped[str | None] = mapped_column(String(64))  # as reported: "3m 10s"
    granted: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class CiRecheckRequest(Base):
    """A request to run CI again ("recheck", "recheck <ci name>") seen on a
    patch set, so that a flip after a recheck can be told from a new patch set.
    ``target`` is the CI named, NULL when every CI is asked."""

    __tablename__ = "ci_recheck_requests"
    __table_args__ = (
        UniqueConstraint("request_key", name="uq_ci_recheck_requests_key"),
        Index("ix_ci_recheck_requests_patch_set", "patch_set_id", "requested_at"),
        Index("ix_ci_recheck_requests_project", "project", "requested_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, server_default="gerrit")
    patch_set_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    project: Mapped[str | None] = mapped_column(NameString)
    requester: Mapped[str] = mapped_column(NameString, nullable=False)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    target: Mapped[str | None] = mapped_column(NameString)
    text: Mapped[str | None] = mapped_column(String(255))


class CiDailyJobs(Base):
    """Per day (of posted_at), CI system, project, pipeline ('' for none), job
    and result: how many results, how many first attempts, recheck flips,
    durations. Recomputed from ci_job_results by health_api.verdicts.rollup
    in every verdict writer's transaction. No unique key: MySQL cannot index
    four names; the (CI system, day) rows are replaced together."""

    __tablename__ = "ci_daily_jobs"
    __table_args__ = (
        Index("ix_ci_daily_jobs_system_day", "ci_system_id", "day"),
        Index("ix_ci_daily_jobs_project_day", "project", "day"),
        Index("ix_ci_daily_jobs_day", "day"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ci_system_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    project: Mapped[str] = mapped_column(NameString, nullable=False)
    pipeline: Mapped[str] = mapped_column(NameString, nullable=False)
    job: Mapped[str] = mapped_column(NameString, nullable=False)
    result: Mapped[str] = mapped_column(String(32), nullable=False)
    results: Mapped[int] = mapped_column(Integer, nullable=False)
    first_results: Mapped[int] = mapped_column(Integer, nullable=False)  # attempt 1
    flips: Mapped[int] = mapped_column(Integer, nullable=False)
    duration_sum: Mapped[int] = mapped_column(BigInteger, nullable=False)
    durations: Mapped[int] = mapped_column(Integer, nullable=False)  # results with a duration
    first_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class CiDailyReports(Base):
    """Per day, CI system, project and pipeline: reports (whatever their
    source: health_api.verdicts.report_sql), verdicts, successes, parsed
    comments, first/last report, last success. Maintained with ci_daily_jobs."""

    __tablename__ = "ci_daily_reports"
    __table_args__ = (
        Index("ix_ci_daily_reports_system_day", "ci_system_id", "day"),
        Index("ix_ci_daily_reports_project_day", "project", "day"),
        Index("ix_ci_daily_reports_day", "day"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ci_system_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    project: Mapped[str] = mapped_column(NameString, nullable=False)
    pipeline: Mapped[str] = mapped_column(NameString, nullable=False)
    reports: Mapped[int] = mapped_column(Integer, nullable=False)
    voted: Mapped[int] = mapped_column(Integer, nullable=False)
    success: Mapped[int] = mapped_column(Integer, nullable=False)
    parsed: Mapped[int] = mapped_column(Integer, nullable=False)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class CiFirstReport(Base):
    """The first report (any source) of each CI system on each patch set, with
    the patch set's upload time: the report delays of the scoreboard, read
    per window without grouping every report. Maintained with the daily CI
    rollups (health_api.verdicts.rollup)."""

    __tablename__ = "ci_first_reports"
    __table_args__ = (
        Index("ix_ci_first_reports_system_first", "ci_system_id", "first_at"),
        Index("ix_ci_first_reports_project_first", "project", "first_at"),
        Index("ix_ci_first_reports_first", "first_at"),
        Index("ix_ci_first_reports_created", "created_on"),  # who has CI: by upload
    )
    ci_system_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    patch_set_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    project: Mapped[str] = mapped_column(NameString, nullable=False)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_on: Mapped[dt.datetime | None] = mapped_column(DateTime)


class CollectorState(Base):
    """Small key/value state of the collector: the last stored event time,
    replay checkpoints (journal byte offsets)."""

    __tablename__ = "ci_collector_state"
    key: Mapped[str] = mapped_column(String(191), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


ci_systems = CiSystem.__table__
changes = GerritChange.__table__
patch_sets = PatchSet.__table__
ci_comments = CiComment.__table__
ci_job_results = CiJobResult.__table__
ci_verifications = CiVerification.__table__
ci_recheck_requests = CiRecheckRequest.__table__
ci_daily_jobs = CiDailyJobs.__table__
ci_daily_reports = CiDailyReports.__table__
ci_first_reports = CiFirstReport.__table__
collector_state = CollectorState.__table__
#: the tables ``ci-health gerrit replay --reset`` empties, children first
CI_TABLES = ("ci_daily_jobs", "ci_daily_reports", "ci_first_reports", "ci_verifications",
             "ci_recheck_requests", "ci_job_results", "ci_comments",
             "patch_sets", "changes", "ci_systems", "ci_collector_state")


class ApiToken(Base):
    """A bearer token for the write API (uploads, verify-status reports), bound
    to one CI system name. Only the SHA-256 of the token is stored: a leaked
    database does not leak working tokens."""

    __tablename__ = "ch_api_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_ch_api_tokens_hash"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)  # shown in listings
    ci_system: Mapped[str] = mapped_column(NameString, nullable=False)
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


api_tokens = ApiToken.__table__


# -- failure intelligence (issue 15) -------------------------------------------

class Analysis(Base):
    """The latest result of each precomputed analysis (``ci-health analyze``):
    a JSON document per kind, served as is by the insight endpoints."""

    __tablename__ = "ch_analysis"
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    period_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    period_stop: Mapped[dt.datetime | None] = mapped_column(DateTime)
    payload: Mapped[str] = mapped_column(
        Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb"), nullable=False)


class ClusterLabel(Base):
    """A failure cluster's label and bug link (``PUT /api/v1/clusters/<id>/label``)."""

    __tablename__ = "ch_cluster_labels"
    cluster_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(String(255), nullable=False)
    bug_url: Mapped[str | None] = mapped_column(String(1024))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_by: Mapped[str | None] = mapped_column(String(255))


class AlertState(Base):
    """Whether an alert subject (a job's failure rate, a cluster) is raised:
    the hysteresis that fires each alert once per crossing."""

    __tablename__ = "ch_alert_state"
    subject: Mapped[str] = mapped_column(String(191), primary_key=True)
    raised: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Alert(Base):
    """Every alert fired, for the Atom feed; ``delivered_at`` once the webhook took it."""

    __tablename__ = "ch_alerts"
    __table_args__ = (Index("ix_ch_alerts_fired_at", "fired_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(191), nullable=False)
    title: Mapped[str] = mapped_column(String(512), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    fired_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


analysis = Analysis.__table__
cluster_labels = ClusterLabel.__table__
alert_state = AlertState.__table__
alerts = Alert.__table__
