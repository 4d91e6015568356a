"""``ch_osh_test_hourly``: openstack-health's /build_name/<job>/test_runs per
(job, hour, test, run day) -- its pass/fail/other counts and the "trailing"
duration sum its resetting running mean needs (health_api.compat.rollup).

Superseded by 0015_osh_daily (parts per day: hourly parts were about one row
per result at a gate's rate), which fills its table from the results and drops
this one: so this revision only creates the table now (filling it here, with
code that writes the daily table, would be work 0015 throws away).

Revision ID: 0014_compat14
Revises: 0013b
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_compat14"
down_revision = "0013b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ch_osh_test_hourly",
        sa.Column("build_name", sa.String(255), primary_key=True),
        sa.Column("hour", sa.DateTime, primary_key=True),
        sa.Column("test_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("passes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fails", sa.Integer, nullable=False, server_default="0"),
        sa.Column("others", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pass_sum", sa.Double, nullable=False, server_default="0"),
        sa.Column("trail_sum", sa.Double, nullable=False, server_default="0"),
        sa.Column("last_other", sa.BigInteger),
        sa.Column("min_pass", sa.BigInteger),
        sa.Column("max_pass", sa.BigInteger),
        sa.Column("tangled", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_ch_osh_test_hourly_day", "ch_osh_test_hourly", ["day", "build_name"])


def downgrade() -> None:
    op.drop_table("ch_osh_test_hourly")
