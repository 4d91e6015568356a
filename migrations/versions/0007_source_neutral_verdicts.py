"""Source-neutral CI verdicts: job results without a Gerrit comment parent,
a ``source`` per result, verify-status verifications and recheck requests.

``ci_job_results.comment_id`` becomes nullable: a Zuul build or a
verify-status report has no comment. Such a result is identified by its
natural ``result_key`` (unique; NULL for comment lines, which keep their
``(comment_id, position)`` key). Existing rows are Gerrit comment lines and
take ``source = 'gerrit'`` from the column default, in place. Nothing is
renamed or dropped: readers written against 0006 keep working.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Name = sa.String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb")


def upgrade() -> None:
    # SQLite cannot drop NOT NULL in place: batch mode copies the table (keys,
    # indexes and rows kept); PostgreSQL and MariaDB alter the column.
    with op.batch_alter_table("ci_job_results") as batch:
        batch.alter_column("comment_id", existing_type=sa.BigInteger, nullable=True)
        batch.add_column(sa.Column("source", sa.String(16), nullable=False,
                                   server_default="gerrit"))
        batch.add_column(sa.Column("result_key", sa.String(64)))
    # Gerrit comment lines (nearly every row) have no result_key: PostgreSQL and
    # SQLite leave them out of the index (a partial index; the comment writer's
    # bulk inserts keep their speed). MariaDB has no partial indexes; its unique
    # index allows any number of NULLs.
    # On PostgreSQL the ALTERs above hold an ACCESS EXCLUSIVE lock (readers and
    # writers of ci_job_results wait) until their transaction ends: commit them
    # (catalog changes only, quick) and build the index CONCURRENTLY, so a live
    # listener and the API go on meanwhile (bench/upgrade_locks.py).
    index = dict(unique=True, postgresql_where=sa.text("result_key IS NOT NULL"),
                 sqlite_where=sa.text("result_key IS NOT NULL"))
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS uq_ci_job_results_result_key")
            op.create_index("uq_ci_job_results_result_key", "ci_job_results", ["result_key"],
                            postgresql_concurrently=True, **index)
    else:
        op.create_index("uq_ci_job_results_result_key", "ci_job_results", ["result_key"],
                        **index)

    op.create_table(
        "ci_verifications",
        sa.Column("id", Id, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("job_result_id", sa.BigInteger, nullable=False),
        sa.Column("patch_set_id", sa.BigInteger, nullable=False),
        sa.Column("ci_system_id", sa.BigInteger, nullable=False),
        sa.Column("name", Name, nullable=False),
        sa.Column("value", sa.SmallInteger, nullable=False),
        sa.Column("abstain", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("rerun", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("url", sa.Text),
        sa.Column("reporter", sa.String(255)),
        sa.Column("comment", sa.Text),
        sa.Column("category", sa.String(255)),
        sa.Column("duration", sa.String(64)),
        sa.Column("granted", sa.DateTime, nullable=False),
        sa.UniqueConstraint("uuid", name="uq_ci_verifications_uuid"),
    )
    op.create_index("ix_ci_verifications_patch_set", "ci_verifications",
                    ["patch_set_id", "name", "granted"])

    op.create_table(
        "ci_recheck_requests",
        sa.Column("id", Id, primary_key=True),
        sa.Column("request_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False, server_default="gerrit"),
        sa.Column("patch_set_id", sa.BigInteger, nullable=False),
        sa.Column("project", Name),
        sa.Column("requester", Name, nullable=False),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("target", Name),
        sa.Column("text", sa.String(255)),
        sa.UniqueConstraint("request_key", name="uq_ci_recheck_requests_key"),
    )
    op.create_index("ix_ci_recheck_requests_patch_set", "ci_recheck_requests",
                    ["patch_set_id", "requested_at"])
    op.create_index("ix_ci_recheck_requests_project", "ci_recheck_requests",
                    ["project", "requested_at"])


def downgrade() -> None:
    op.drop_table("ci_recheck_requests")
    op.drop_table("ci_verifications")
    # results that have no comment cannot live in the 0006 schema
    op.execute("DELETE FROM ci_job_results WHERE comment_id IS NULL")
    op.drop_index("uq_ci_job_results_result_key", "ci_job_results")
    with op.batch_alter_table("ci_job_results") as batch:
        batch.drop_column("result_key")
        batch.drop_column("source")
        batch.alter_column("comment_id", existing_type=sa.BigInteger, nullable=False)
