"""Failure intelligence: precomputed analyses, cluster labels, alert state and log.

Four new, empty tables: instant on a live database.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "ch_analysis",
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.Column("period_start", sa.DateTime),
        sa.Column("period_stop", sa.DateTime),
        sa.Column("payload", LongText, nullable=False),
    )
    op.create_table(
        "ch_cluster_labels",
        sa.Column("cluster_id", sa.String(16), primary_key=True),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("bug_url", sa.String(1024)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(255)),
    )
    op.create_table(
        "ch_alert_state",
        sa.Column("subject", sa.String(191), primary_key=True),
        sa.Column("raised", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "ch_alerts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(191), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("fired_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime),
    )
    op.create_index("ix_ch_alerts_fired_at", "ch_alerts", ["fired_at"])


def downgrade() -> None:
    op.drop_index("ix_ch_alerts_fired_at", "ch_alerts")
    for table in ("ch_alerts", "ch_alert_state", "ch_cluster_labels", "ch_analysis"):
        op.drop_table(table)
