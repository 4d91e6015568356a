"""``ch_rolled_runs``: the ids of the runs whose results are in the daily
rollups; ``ix_ch_test_daily_job``: one job's tests over a window as one index
range (/api/v1/jobs/{name}/tests).

The writer adds a run to ch_job_daily/ch_test_daily in the run's own
transaction and records its id here; runs another tool wrote (subunit2sql,
still writing into a database we adopted) have no row, and
``ci-health db rebuild-rollups --missing`` adds exactly those.

On a live ci-health database every run already is in the rollups (its writer
put it there), so every run id is recorded here; on a database adopted from
subunit2sql before this revision, where no rollup was ever built, none is
(``ci-health db upgrade`` then builds them all, in SQL).

On PostgreSQL the index is built CONCURRENTLY, outside the migration's
transaction, so ingests keep writing ch_test_daily while it builds (in the
transaction they waited about 10 s per 4M rollup rows, a quarter of a 30-job
gate: bench/upgrade_locks.py); an index a killed build left invalid is
dropped and built again. MariaDB builds it online (InnoDB), SQLite in the
transaction (one writer at a time anyway).

Revision ID: 0020
Revises: 0009
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ch_rolled_runs",
        sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    columns = ["build_name", "day", "test_id"]
    covered = ["success", "failure", "skip", "timed", "run_time_sum"]
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_ch_test_daily_job")
            op.create_index("ix_ch_test_daily_job", "ch_test_daily", columns,
                            postgresql_include=covered, postgresql_concurrently=True)
    else:
        op.create_index("ix_ch_test_daily_job", "ch_test_daily", columns)
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM ch_job_daily LIMIT 1")).first() is not None:
        op.execute("INSERT INTO ch_rolled_runs (run_id) SELECT id FROM runs")


def downgrade() -> None:
    op.drop_index("ix_ch_test_daily_job", table_name="ch_test_daily")
    op.drop_table("ch_rolled_runs")
