"""``ix_ch_test_daily_job`` without the counters ``INCLUDE``d (PostgreSQL), so
that an ingest's updates of ``ch_test_daily`` are heap-only.

Each run of a job adds its counts to the day's rows of its tests: after the
day's first run, every ingest updates one row per result. 0005 left half of
each page free for the new row versions, but PostgreSQL writes a heap-only
update only when no indexed column changes, and 0020 made the job index cover
the counters (index-only reads of /api/v1/jobs/{name}/tests): every update then
wrote a new entry in all three of the table's indexes. Without the INCLUDE, on
a 100,000-test run of known tests (three runs each, same machine): 0 -> 98.9%
of the updates heap-only, that UPDATE ~1.0 s -> ~0.3 s. The route pays the heap
visits instead: on a gate month, 30 days, 6.5-6.8 -> 7.0-7.5 ms of PostgreSQL
CPU a request (bench/route_cpu.py --route jobs.job_tests).

The other engines never had the INCLUDE: nothing changes there. The new index is
built CONCURRENTLY before the old one is dropped, outside the migration's
transaction (as 0020), so ingests and reads go on meanwhile:
``bench/upgrade_locks.py --quick --from 0016_osh_fillfactor`` (130,500 rollup
rows) took 0.52 s, no lock stronger than row locks, the slowest concurrent read
9.2 ms and write 13.0 ms.

Revision ID: 0017_test_daily_hot
Revises: 0016_osh_fillfactor
Create Date: 2026-12-07
"""
from alembic import op

revision = "0017_test_daily_hot"
down_revision = "0016_osh_fillfactor"
branch_labels = None
depends_on = None

_COLUMNS = "build_name, day, test_id"
_COUNTERS = "success, failure, skip, timed, run_time_sum"


def _replace(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        # a killed earlier attempt may have left the new index invalid: build it again
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_ch_test_daily_job_new")
        op.execute("CREATE INDEX CONCURRENTLY ix_ch_test_daily_job_new"
                   f" ON ch_test_daily ({_COLUMNS}){include}")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_ch_test_daily_job")
        op.execute("ALTER INDEX ix_ch_test_daily_job_new RENAME TO ix_ch_test_daily_job")


def upgrade() -> None:
    _replace("")


def downgrade() -> None:
    _replace(f" INCLUDE ({_COUNTERS})")
