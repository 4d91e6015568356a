"""``ix_ci_first_reports_created`` covers the columns "who has CI" reads
(upload time, first report, patch set, CI system): the coverage counts of a
7-day window become an index-only range on PostgreSQL instead of one heap
page visit per (CI, patch set) (bench/ci.py ``projects``).

Revision ID: 0013b
Revises: 0013
Create Date: 2026-12-06
"""
from alembic import op

revision = "0013b"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ["created_on", "first_at", "patch_set_id", "ci_system_id"]


def upgrade() -> None:
    op.drop_index("ix_ci_first_reports_created", table_name="ci_first_reports")
    op.create_index("ix_ci_first_reports_created", "ci_first_reports", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_ci_first_reports_created", table_name="ci_first_reports")
    op.create_index("ix_ci_first_reports_created", "ci_first_reports", ["created_on"])
