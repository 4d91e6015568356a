"""Two indexes of ``ci_first_reports`` cover the columns their reads use, so
a window is an index-only range on PostgreSQL instead of one heap page visit
per (CI, patch set) (bench/ci.py: a 7-day window of the upstream CI read
1,130 pages, now 92):

- ``ix_ci_first_reports_created``: "who has CI" (upload time, first report,
  patch set, CI system): its coverage counts (``projects``);
- ``ix_ci_first_reports_system_first``: the report delays of the scoreboard,
  a CI system's page and upstream health (CI system, first report, upload
  time, patch set).

Revision ID: 0013b
Revises: 0013
Create Date: 2026-12-06
"""
from alembic import op

revision = "0013b"
down_revision = "0013"
branch_labels = None
depends_on = None

#: index name -> (its columns before, its columns now)
INDEXES = {
    "ix_ci_first_reports_created": (
        ["created_on"], ["created_on", "first_at", "patch_set_id", "ci_system_id"]),
    "ix_ci_first_reports_system_first": (
        ["ci_system_id", "first_at"], ["ci_system_id", "first_at", "created_on", "patch_set_id"]),
}


def _rebuild(now: bool) -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="ci_first_reports")
        op.create_index(name, "ci_first_reports", columns[1 if now else 0])


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
