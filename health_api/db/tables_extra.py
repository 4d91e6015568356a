"""The rest of the schema, on the same MetaData as health_api.db.tables (see
there): the CI verdict, API token and failure-intelligence tables, and the
indexes with PostgreSQL options. Apart because the ingest path needs none of
them: building them costs import time, and a ``postgresql_*`` option makes
SQLAlchemy import its whole postgresql dialect package to validate it, a
tenth of a one-stream ingest on SQLite.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Index, Integer,
                        SmallInteger, String, Table, Text, UniqueConstraint, false, text)
from sqlalchemy.dialects import mysql

from .tables import Id, metadata, test_daily

# one job's tests over a window (/api/v1/jobs/{name}/tests) as one index
# range; without the counters, so that the ingest's updates of them are
# heap-only on PostgreSQL (migration 0017)
Index("ix_ch_test_daily_job", test_daily.c.build_name, test_daily.c.day, test_daily.c.test_id)

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


# A Gerrit account that reports CI results (declared or discovered).
ci_systems = Table(
    "ci_systems", metadata,
    Column("id", Id, primary_key=True),
    # Gerrit username; "account-<id>" when Gerrit gave only the numeric id
    Column("username", NameString, nullable=False),
    Column("account_id", BigInteger),
    Column("display_name", String(255)),
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
    Column("declared", Boolean, nullable=False, default=False),
    UniqueConstraint("username", name="uq_ci_systems_username"),
    Index("ix_ci_systems_account_id", "account_id"),
)


changes = Table(
    "changes", metadata,
    Column("id", Id, primary_key=True),
    Column("number", Integer, nullable=False),
    Column("project", NameString),
    Column("branch", NameString),
    Column("change_key", String(64)),  # the I... Change-Id
    Column("subject", String(512)),
    Column("status", String(32)),  # NEW MERGED ABANDONED
    Column("status_changed_at", DateTime),
    UniqueConstraint("number", name="uq_changes_number"),
    Index("ix_changes_project_branch", "project", "branch"),
)


patch_sets = Table(
    "patch_sets", metadata,
    Column("id", Id, primary_key=True),
    Column("change_id", BigInteger, nullable=False),  # -> changes.id
    Column("number", Integer, nullable=False),
    Column("project", NameString),  # copy of changes.project
    Column("branch", NameString),   # copy of changes.branch
    Column("revision", String(64)),
    Column("created_on", DateTime),
    Column("uploader", String(255)),
    Column("kind", String(32)),
    UniqueConstraint("change_id", "number", name="uq_patch_sets_change_number"),
    Index("ix_patch_sets_project_created", "project", "created_on"),
    Index("ix_patch_sets_created", "created_on"),
)


# One comment of a CI system on a patch set; ``parsed`` false when no
# format was recognised (the text is kept either way).
#
# ``comment_key`` is the idempotency key, the same for the stream event
# and the REST message of one comment (see health_api.gerrit.rows.comment_key).
ci_comments = Table(
    "ci_comments", metadata,
    Column("id", Id, primary_key=True),
    Column("comment_key", String(64), nullable=False),
    Column("message_id", String(255)),  # REST message id, if seen
    Column("patch_set_id", BigInteger, nullable=False),
    Column("ci_system_id", BigInteger, nullable=False),
    Column("project", NameString),
    Column("posted_at", DateTime, nullable=False),
    Column("pipeline", NameString),
    Column("overall", String(32)),  # SUCCESS FAILURE ... or NULL
    Column("votes", Text),  # JSON {"Verified": 1}
    Column("raw_text", LongText),
    Column("parsed", Boolean, nullable=False, default=False),
    UniqueConstraint("comment_key", name="uq_ci_comments_key"),
    Index("ix_ci_comments_system_posted", "ci_system_id", "posted_at"),
    Index("ix_ci_comments_project_posted", "project", "posted_at"),
    Index("ix_ci_comments_patch_set", "patch_set_id", "ci_system_id"),
    Index("ix_ci_comments_posted", "posted_at"),
)


# One CI job verdict, whatever its source (``source``: gerrit, zuul,
# verify-status). A Gerrit job line has its comment as parent
# (``comment_id``, ``position``); a verdict from elsewhere has no comment and
# is identified by its natural ``result_key`` instead (see
# health_api.verdicts). ``attempt`` counts the results of the same (CI
# system, pipeline, patch set, job) in posted order from 1; the highest
# attempt is the current result.
ci_job_results = Table(
    "ci_job_results", metadata,
    Column("id", Id, primary_key=True),
    Column("comment_id", BigInteger),  # -> ci_comments.id, if any
    Column("position", Integer, nullable=False),  # line order in the comment
    Column("ci_system_id", BigInteger, nullable=False),
    Column("patch_set_id", BigInteger, nullable=False),
    Column("pipeline", NameString),
    Column("posted_at", DateTime, nullable=False),
    Column("job", NameString, nullable=False),
    Column("result", String(32), nullable=False),
    Column("url", Text),
    Column("duration", Integer),  # seconds
    Column("voting", Boolean, nullable=False, default=True),
    Column("attempt", Integer, nullable=False, default=1),
    Column("detail", String(255)),
    Column("source", String(16), nullable=False, server_default="gerrit"),
    Column("result_key", String(64)),  # results without a comment
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


# A verification reported through the verify-status channel, with the
# fields of the Gerrit verify-status plugin; its verdict is the
# ``ci_job_results`` row ``job_result_id`` (source 'verify-status').
ci_verifications = Table(
    "ci_verifications", metadata,
    Column("id", Id, primary_key=True),
    Column("uuid", String(36), nullable=False),
    Column("job_result_id", BigInteger, nullable=False),
    Column("patch_set_id", BigInteger, nullable=False),
    Column("ci_system_id", BigInteger, nullable=False),
    Column("name", NameString, nullable=False),  # the job
    Column("value", SmallInteger, nullable=False),  # -1, 0, 1
    Column("abstain", Boolean, nullable=False, server_default=false()),
    Column("rerun", Boolean, nullable=False, server_default=false()),
    Column("url", Text),
    Column("reporter", String(255)),
    Column("comment", Text),
    Column("category", String(255)),
    Column("duration", String(64)),  # as reported: "3m 10s"
    Column("granted", DateTime, nullable=False),
    UniqueConstraint("uuid", name="uq_ci_verifications_uuid"),
    Index("ix_ci_verifications_patch_set", "patch_set_id", "name", "granted"),
)


# A request to run CI again ("recheck", "recheck <ci name>") seen on a
# patch set, so that a flip after a recheck can be told from a new patch set.
# ``target`` is the CI named, NULL when every CI is asked.
ci_recheck_requests = Table(
    "ci_recheck_requests", metadata,
    Column("id", Id, primary_key=True),
    Column("request_key", String(64), nullable=False),
    Column("source", String(16), nullable=False, server_default="gerrit"),
    Column("patch_set_id", BigInteger, nullable=False),
    Column("project", NameString),
    Column("requester", NameString, nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("target", NameString),
    Column("text", String(255)),
    UniqueConstraint("request_key", name="uq_ci_recheck_requests_key"),
    Index("ix_ci_recheck_requests_patch_set", "patch_set_id", "requested_at"),
    Index("ix_ci_recheck_requests_project", "project", "requested_at"),
)


# Small key/value state of the collector: the last stored event time,
# replay checkpoints (journal byte offsets).
collector_state = Table(
    "ci_collector_state", metadata,
    Column("key", String(191), primary_key=True),
    Column("value", Text),
    Column("updated_at", DateTime),
)


# -- CI rollups (0013), recomputed from ci_job_results by
# health_api.verdicts.rollup in every verdict writer's transaction.

# Per day (of posted_at), CI system, project, pipeline ('' for none), job and
# result: how many results, how many first attempts, recheck flips, durations.
# No unique key: MySQL cannot index four names; the (CI system, day) rows are
# replaced together.
ci_daily_jobs = Table(
    "ci_daily_jobs", metadata,
    Column("id", Id, primary_key=True),
    Column("day", Date, nullable=False),
    Column("ci_system_id", BigInteger, nullable=False),
    Column("project", NameString, nullable=False),
    Column("pipeline", NameString, nullable=False),
    Column("job", NameString, nullable=False),
    Column("result", String(32), nullable=False),
    Column("results", Integer, nullable=False),
    Column("first_results", Integer, nullable=False),  # attempt 1
    Column("flips", Integer, nullable=False),
    Column("duration_sum", BigInteger, nullable=False),
    Column("durations", Integer, nullable=False),  # results with a duration
    Column("first_at", DateTime, nullable=False),
    Column("last_at", DateTime, nullable=False),
    Index("ix_ci_daily_jobs_system_day", "ci_system_id", "day"),
    Index("ix_ci_daily_jobs_project_day", "project", "day"),
    Index("ix_ci_daily_jobs_day", "day"),
)

# Per day, CI system, project and pipeline: reports (whatever their source:
# health_api.verdicts.report_sql), verdicts, successes, parsed comments,
# first/last report, last success. Maintained with ci_daily_jobs.
ci_daily_reports = Table(
    "ci_daily_reports", metadata,
    Column("id", Id, primary_key=True),
    Column("day", Date, nullable=False),
    Column("ci_system_id", BigInteger, nullable=False),
    Column("project", NameString, nullable=False),
    Column("pipeline", NameString, nullable=False),
    Column("reports", Integer, nullable=False),
    Column("voted", Integer, nullable=False),
    Column("success", Integer, nullable=False),
    Column("parsed", Integer, nullable=False),
    Column("first_at", DateTime, nullable=False),
    Column("last_at", DateTime, nullable=False),
    Column("last_success_at", DateTime),
    Index("ix_ci_daily_reports_system_day", "ci_system_id", "day"),
    Index("ix_ci_daily_reports_project_day", "project", "day"),
    Index("ix_ci_daily_reports_day", "day"),
)

# The first report (any source) of each CI system on each patch set, with the
# patch set's upload time: the report delays of the scoreboard, read per
# window without grouping every report.
ci_first_reports = Table(
    "ci_first_reports", metadata,
    Column("ci_system_id", BigInteger, primary_key=True, autoincrement=False),
    Column("patch_set_id", BigInteger, primary_key=True, autoincrement=False),
    Column("project", NameString, nullable=False),
    Column("first_at", DateTime, nullable=False),
    Column("created_on", DateTime),
    # the report delays of a window, covered (0013b)
    Index("ix_ci_first_reports_system_first", "ci_system_id", "first_at", "created_on",
          "patch_set_id"),
    Index("ix_ci_first_reports_project_first", "project", "first_at"),
    Index("ix_ci_first_reports_first", "first_at"),
    # who has CI: by upload, covering what it reads (index-only on PostgreSQL; 0013b)
    Index("ix_ci_first_reports_created", "created_on", "first_at", "patch_set_id",
          "ci_system_id"),
)

#: the tables ``ci-health gerrit replay --reset`` empties, children first
CI_TABLES = ("ci_daily_jobs", "ci_daily_reports", "ci_first_reports", "ci_verifications",
             "ci_recheck_requests", "ci_job_results", "ci_comments",
             "patch_sets", "changes", "ci_systems", "ci_collector_state")


# A bearer token for the write API (uploads, verify-status reports), bound
# to one CI system name. Only the SHA-256 of the token is stored: a leaked
# database does not leak working tokens.
api_tokens = Table(
    "ch_api_tokens", metadata,
    Column("id", Id, primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("prefix", String(12), nullable=False),  # shown in listings
    Column("ci_system", NameString, nullable=False),
    Column("note", String(255)),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
    UniqueConstraint("token_hash", name="uq_ch_api_tokens_hash"),
)


# -- failure intelligence (issue 15) -------------------------------------------

# The latest result of each precomputed analysis (``ci-health analyze``):
# a JSON document per kind, served as is by the insight endpoints.
analysis = Table(
    "ch_analysis", metadata,
    Column("kind", String(64), primary_key=True),
    Column("computed_at", DateTime, nullable=False),
    Column("period_start", DateTime),
    Column("period_stop", DateTime),
    Column("payload", Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb"),
           nullable=False),
)


# A failure cluster's label and bug link (``PUT /api/v1/clusters/<id>/label``).
cluster_labels = Table(
    "ch_cluster_labels", metadata,
    Column("cluster_id", String(16), primary_key=True),
    Column("label", String(255), nullable=False),
    Column("bug_url", String(1024)),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(255)),
)


# Whether an alert subject (a job's failure rate, a cluster) is raised:
# the hysteresis that fires each alert once per crossing.
alert_state = Table(
    "ch_alert_state", metadata,
    Column("subject", String(191), primary_key=True),
    Column("raised", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime, nullable=False),
)


# Every alert fired, for the Atom feed; ``delivered_at`` once the webhook took it.
alerts = Table(
    "ch_alerts", metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(191), nullable=False),
    Column("title", String(512), nullable=False),
    Column("payload", Text, nullable=False),
    Column("fired_at", DateTime, nullable=False),
    Column("delivered_at", DateTime),
    Index("ix_ch_alerts_fired_at", "fired_at"),
)

