"""Room for every row of a page to be updated in place (fillfactor 70 -> 50).

Each run adds to the counters of its tests in ``tests`` and ``ch_test_daily``:
an UPDATE of ten thousand rows for a large run, most of each page at once.
Revision 0002 kept 30% of each page free so that PostgreSQL could write the
new row versions on the same page without new index entries (a heap-only
update); but when every row of a page is updated, 30% holds new versions for
fewer than half of them, and the rest move to other pages and into every index
(three on ``tests``, two on ``ch_test_daily``). With half of each page free,
they all fit. ``bench/ingest.py``'s 10k-test runs on PostgreSQL went from
about 24-27k to 28-29k results/s when warm and 19-20k to 21-22k when cold.

The setting applies to pages written from now on; existing rows are not
moved, so this takes no time on a live database. Other engines have no such
setting.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TABLES = ("tests", "ch_test_daily")


def upgrade() -> None:
    _set_fillfactor(50)


def downgrade() -> None:
    _set_fillfactor(70)


def _set_fillfactor(percent: int) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")
