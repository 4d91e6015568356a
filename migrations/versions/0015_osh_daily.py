"""``ch_osh_test_daily`` replaces ``ch_osh_test_hourly``: openstack-health's
/build_name/<job>/test_runs per (job, start day, test, run day) instead of per
hour (health_api.compat.rollup says why: at a gate's rate the hourly parts were
about one row per result; day parts are about 20 times fewer, and hour
resolution reads the results).

The runs in it are those of ch_rolled_runs: on a live database the table is
filled here from those runs' results, day by day of run_at, in the migration's
transaction (readers see it whole or not at all; until it commits the old code
keeps serving from the hourly table); a database whose runs are not rolled up
yet (adopted from subunit2sql) gets it from the rollup build that ``db
upgrade`` runs after the migrations. The hourly table goes at the end.

Revision ID: 0015_osh_daily
Revises: 0014_compat14
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_osh_daily"
down_revision = "0014_compat14"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ch_osh_test_daily",
        sa.Column("build_name", sa.String(255), primary_key=True),
        sa.Column("start_day", sa.Date, primary_key=True),
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
    op.create_index("ix_ch_osh_test_daily_day", "ch_osh_test_daily", ["day", "build_name"])
    from health_api.compat import rollup
    bind = op.get_bind()
    rollup.fill(bind)
    if bind.dialect.name == "postgresql":
        # the planner's statistics of the new rows (VACUUM cannot run in the transaction;
        # autovacuum sets the visibility map later, as db rebuild-rollups' VACUUM does)
        op.execute("ANALYZE ch_osh_test_daily")
    # IF EXISTS: a store whose hourly table a test or an operator already dropped
    op.execute("DROP TABLE IF EXISTS ch_osh_test_hourly")


def downgrade() -> None:
    # the hourly table comes back empty: the code of 0014 fills it with `ci-health db
    # rebuild-rollups` (this code cannot: it writes the daily one)
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
    op.drop_table("ch_osh_test_daily")
