"""Daily rollups per job and per test within a job (ours).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ch_job_daily",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("build_name", sa.String(255), primary_key=True),
        sa.Column("passed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("empty", sa.Integer, nullable=False, server_default="0"),
        sa.Column("run_time_sum", sa.Double, nullable=False, server_default="0"),
        sa.Column("run_time_sq_sum", sa.Double, nullable=False, server_default="0"),
    )
    op.create_index("ix_ch_job_daily_build_name", "ch_job_daily", ["build_name", "day"])
    op.create_table(
        "ch_test_daily",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("build_name", sa.String(255), primary_key=True),
        sa.Column("test_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("success", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failure", sa.Integer, nullable=False, server_default="0"),
        sa.Column("skip", sa.Integer, nullable=False, server_default="0"),
        sa.Column("timed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("run_time_sum", sa.Double, nullable=False, server_default="0"),
    )
    op.create_index("ix_ch_test_daily_test", "ch_test_daily", ["test_id", "day"])
    if op.get_bind().dialect.name == "postgresql":
        # Every ingest updates the counters of every test it ran and the rollup
        # rows of the day: free space on each page lets PostgreSQL update in
        # place (HOT) instead of writing new entries into every index.
        for table in ("tests", "ch_test_daily", "ch_job_daily"):
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tests RESET (fillfactor)")
    op.drop_table("ch_test_daily")
    op.drop_table("ch_job_daily")
