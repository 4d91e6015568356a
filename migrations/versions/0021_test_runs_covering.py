"""``ix_test_runs_test_time_covering``: one test's results over a window with
every column the test page's buckets read (status, stop time, microsecond
columns), so the window is read from the index alone instead of one heap page
per result (queries.tests.bucket_counts; a week of one test in a 30-job store
is 4,800 results on 4,800 pages: 40-70 ms of PostgreSQL's CPU a request, and
disk reads once the table outgrows memory).

subunit2sql's ``ix_test_id_start_time`` (test_id, start_time) stays: the
schema a subunit2sql database has is kept whole.

On PostgreSQL the index is built CONCURRENTLY, outside the migration's
transaction, so ingests keep writing test_runs while it builds; an index a
killed build left invalid is dropped and built again. MariaDB builds it
online (InnoDB), SQLite in the transaction (one writer at a time anyway).

Revision ID: 0021
Revises: 0014_compat14
Create Date: 2026-12-06
"""
from alembic import op

revision = "0021"
down_revision = "0014_compat14"
branch_labels = None
depends_on = None

NAME = "ix_test_runs_test_time_covering"
COLUMNS = ["test_id", "start_time", "status", "stop_time", "start_time_microsecond",
           "stop_time_microsecond"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
            op.create_index(NAME, "test_runs", COLUMNS, postgresql_concurrently=True)
    else:
        op.create_index(NAME, "test_runs", COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, table_name="test_runs")
