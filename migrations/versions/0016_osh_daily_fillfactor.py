"""Room on each page of ``ch_osh_test_daily`` for its rows to be updated in place
(fillfactor 50, as 0005 gave ``tests`` and ``ch_test_daily``).

Every run adds to one part per result: (job, start day, test, run day). At a
gate's rate a job's runs of a day all add to the same rows, so after the day's
first run each ingest UPDATEs rows it did not INSERT. None of the columns it
updates is indexed, so PostgreSQL can write the new row version on the same
page without new entries in the table's two indexes (a heap-only update), but
only where the page has room: with full pages (the default) none of them was.
With half of each page free, on a 100,000-test run of known tests: 100,000 of
100,000 updates heap-only instead of 0, and that statement 3.2 / 2.0 s -> 1.1 /
1.2 s (two runs each). The table grows by about a quarter (45 -> 56 MB with its
indexes, there).

The setting applies to pages written from now on; existing rows are not moved,
so this takes no time on a live database. Other engines have no such setting.

Revision ID: 0016_osh_fillfactor
Revises: 0015_osh_daily
Create Date: 2026-12-07
"""
from alembic import op

revision = "0016_osh_fillfactor"
down_revision = "0015_osh_daily"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ch_osh_test_daily SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ch_osh_test_daily RESET (fillfactor)")
