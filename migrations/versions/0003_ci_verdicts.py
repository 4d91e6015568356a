"""CI verdicts from Gerrit: CI systems, changes, patch sets, CI comments, job results.

Mirrors the "CI verdicts" section of health_api/db/models.py (kept explicit
here so later model edits never change what this revision creates).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Name = sa.String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "ci_systems",
        sa.Column("id", Id, primary_key=True),
        sa.Column("username", Name, nullable=False),
        sa.Column("account_id", sa.BigInteger),
        sa.Column("display_name", sa.String(255)),
        sa.Column("first_seen", sa.DateTime),
        sa.Column("last_seen", sa.DateTime),
        sa.Column("declared", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("username", name="uq_ci_systems_username"),
    )
    op.create_index("ix_ci_systems_account_id", "ci_systems", ["account_id"])

    op.create_table(
        "changes",
        sa.Column("id", Id, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("project", Name),
        sa.Column("branch", Name),
        sa.Column("change_key", sa.String(64)),
        sa.Column("subject", sa.String(512)),
        sa.Column("status", sa.String(32)),
        sa.Column("status_changed_at", sa.DateTime),
        sa.UniqueConstraint("number", name="uq_changes_number"),
    )
    op.create_index("ix_changes_project_branch", "changes", ["project", "branch"])

    op.create_table(
        "patch_sets",
        sa.Column("id", Id, primary_key=True),
        sa.Column("change_id", sa.BigInteger, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("project", Name),
        sa.Column("branch", Name),
        sa.Column("revision", sa.String(64)),
        sa.Column("created_on", sa.DateTime),
        sa.Column("uploader", sa.String(255)),
        sa.Column("kind", sa.String(32)),
        sa.UniqueConstraint("change_id", "number", name="uq_patch_sets_change_number"),
    )
    op.create_index("ix_patch_sets_project_created", "patch_sets", ["project", "created_on"])
    op.create_index("ix_patch_sets_created", "patch_sets", ["created_on"])

    op.create_table(
        "ci_comments",
        sa.Column("id", Id, primary_key=True),
        sa.Column("comment_key", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("patch_set_id", sa.BigInteger, nullable=False),
        sa.Column("ci_system_id", sa.BigInteger, nullable=False),
        sa.Column("project", Name),
        sa.Column("posted_at", sa.DateTime, nullable=False),
        sa.Column("pipeline", Name),
        sa.Column("overall", sa.String(32)),
        sa.Column("votes", sa.Text),
        sa.Column("raw_text", LongText),
        sa.Column("parsed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("comment_key", name="uq_ci_comments_key"),
    )
    op.create_index("ix_ci_comments_system_posted", "ci_comments", ["ci_system_id", "posted_at"])
    op.create_index("ix_ci_comments_project_posted", "ci_comments", ["project", "posted_at"])
    op.create_index("ix_ci_comments_patch_set", "ci_comments", ["patch_set_id", "ci_system_id"])
    op.create_index("ix_ci_comments_posted", "ci_comments", ["posted_at"])

    op.create_table(
        "ci_job_results",
        sa.Column("id", Id, primary_key=True),
        sa.Column("comment_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("ci_system_id", sa.BigInteger, nullable=False),
        sa.Column("patch_set_id", sa.BigInteger, nullable=False),
        sa.Column("pipeline", Name),
        sa.Column("posted_at", sa.DateTime, nullable=False),
        sa.Column("job", Name, nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("duration", sa.Integer),
        sa.Column("voting", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("detail", sa.String(255)),
        sa.UniqueConstraint("comment_id", "position", name="uq_ci_job_results_comment_pos"),
    )
    op.create_index("ix_ci_job_results_current", "ci_job_results",
                    ["patch_set_id", "ci_system_id", "pipeline", "job"])
    op.create_index("ix_ci_job_results_system_posted", "ci_job_results",
                    ["ci_system_id", "posted_at"])
    op.create_index("ix_ci_job_results_job_posted", "ci_job_results", ["job", "posted_at"])

    op.create_table(
        "ci_collector_state",
        sa.Column("key", sa.String(191), primary_key=True),
        sa.Column("value", sa.Text),
        sa.Column("updated_at", sa.DateTime),
    )


def downgrade() -> None:
    for name in ("ci_collector_state", "ci_job_results", "ci_comments", "patch_sets",
                 "changes", "ci_systems"):
        op.drop_table(name)
