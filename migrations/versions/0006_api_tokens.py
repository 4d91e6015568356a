"""Bearer tokens for the write API: ``ch_api_tokens``.

Uploads over HTTP and the verify-status reporting channel need a token; each
is bound to a CI system name and stored as its SHA-256 only. A new, empty
table: instant on a live database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Name = sa.String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "ch_api_tokens",
        sa.Column("id", Id, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("ci_system", Name, nullable=False),
        sa.Column("note", sa.String(255)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime),
        sa.Column("revoked_at", sa.DateTime),
        sa.UniqueConstraint("token_hash", name="uq_ch_api_tokens_hash"),
    )


def downgrade() -> None:
    op.drop_table("ch_api_tokens")
