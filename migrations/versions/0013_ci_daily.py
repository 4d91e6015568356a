"""The daily CI rollups ``ci_daily_jobs`` and ``ci_daily_reports`` and each CI's
first report per patch set ``ci_first_reports`` (health_api.verdicts.rollup),
built here from the stored verdicts, and
``ix_ci_job_results_posted``: the results of every CI in a time window as one
index range (the partial days at the ends of a window the rollups serve);
``ix_ci_job_results_uncommented``: those without a comment (Zuul builds,
verify-status reports: the reports that are not comments) in a window.

Building is one INSERT ... SELECT per week of verdicts (about a minute per
million job results on PostgreSQL); the writers keep the rollups from then on.

Revision ID: 0013
Revises: 0020
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from health_api.verdicts import rollup

revision = "0013"
down_revision = "0020"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Name = sa.String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb")


def _common() -> list:
    return [sa.Column("id", Id, primary_key=True),
            sa.Column("day", sa.Date, nullable=False),
            sa.Column("ci_system_id", sa.BigInteger, nullable=False),
            sa.Column("project", Name, nullable=False),
            sa.Column("pipeline", Name, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "ci_daily_jobs", *_common(),
        sa.Column("job", Name, nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("results", sa.Integer, nullable=False),
        sa.Column("first_results", sa.Integer, nullable=False),
        sa.Column("flips", sa.Integer, nullable=False),
        sa.Column("duration_sum", sa.BigInteger, nullable=False),
        sa.Column("durations", sa.Integer, nullable=False),
        sa.Column("first_at", sa.DateTime, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "ci_daily_reports", *_common(),
        sa.Column("reports", sa.Integer, nullable=False),
        sa.Column("voted", sa.Integer, nullable=False),
        sa.Column("success", sa.Integer, nullable=False),
        sa.Column("parsed", sa.Integer, nullable=False),
        sa.Column("first_at", sa.DateTime, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
        sa.Column("last_success_at", sa.DateTime),
    )
    op.create_table(
        "ci_first_reports",
        sa.Column("ci_system_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("patch_set_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("project", Name, nullable=False),
        sa.Column("first_at", sa.DateTime, nullable=False),
        sa.Column("created_on", sa.DateTime),
    )
    op.create_index("ix_ci_first_reports_system_first", "ci_first_reports",
                    ["ci_system_id", "first_at"])
    op.create_index("ix_ci_first_reports_project_first", "ci_first_reports",
                    ["project", "first_at"])
    op.create_index("ix_ci_first_reports_first", "ci_first_reports", ["first_at"])
    op.create_index("ix_ci_first_reports_created", "ci_first_reports", ["created_on"])
    for table in ("ci_daily_jobs", "ci_daily_reports"):
        op.create_index(f"ix_{table}_system_day", table, ["ci_system_id", "day"])
        op.create_index(f"ix_{table}_project_day", table, ["project", "day"])
        op.create_index(f"ix_{table}_day", table, ["day"])
    op.create_index("ix_ci_job_results_posted", "ci_job_results", ["posted_at"])
    op.create_index("ix_ci_job_results_uncommented", "ci_job_results",
                    ["comment_id", "posted_at", "ci_system_id", "patch_set_id"],
                    postgresql_where=sa.text("comment_id IS NULL"),
                    sqlite_where=sa.text("comment_id IS NULL"))
    rollup.build_all(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_ci_job_results_uncommented", table_name="ci_job_results")
    op.drop_index("ix_ci_job_results_posted", table_name="ci_job_results")
    op.drop_table("ci_first_reports")
    op.drop_table("ci_daily_reports")
    op.drop_table("ci_daily_jobs")
