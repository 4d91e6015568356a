"""CI comment keys start with their posted second.

``ci_comments.comment_key`` was the 64 hex digits of a SHA-256 digest, so
every new comment went to a random page of ``uq_ci_comments_key``: a large
replay rewrote most of that index on every transaction, and the cost grew
with the table (a 1,000,000-event replay spent about a fifth of its time
there on SQLite). Keys are now ``YYYYMMDDhhmmss`` of ``posted_at`` followed
by the first 50 digits of the same digest (see
health_api.gerrit.rows.comment_key), so new keys land at the end of the
index. This revision rewrites the stored keys the same way, in one UPDATE
per engine; keys that already have their prefix are left alone, so it is
safe to run while an older writer is still adding rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: the posted second as YYYYMMDDhhmmss, per dialect
_PREFIX = {
    "sqlite": "strftime('%Y%m%d%H%M%S', posted_at)",
    "postgresql": "to_char(posted_at, 'YYYYMMDDHH24MISS')",
    "mysql": "DATE_FORMAT(posted_at, '%Y%m%d%H%i%s')",
    "mariadb": "DATE_FORMAT(posted_at, '%Y%m%d%H%i%s')",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    prefix = _PREFIX[dialect]
    digest = "substr(comment_key, 1, 50)"
    if dialect in ("mysql", "mariadb"):
        new_key = f"CONCAT({prefix}, {digest})"
    else:
        new_key = f"{prefix} || {digest}"
    op.execute(f"UPDATE ci_comments SET comment_key = {new_key} "
               f"WHERE substr(comment_key, 1, 14) <> {prefix}")


def downgrade() -> None:
    # The 14 digits dropped from each digest cannot be recomputed from the
    # stored rows (long texts are stored cut short), and an older writer
    # would store every comment it meets again under its full-digest key.
    raise NotImplementedError("revision 0004 (time-ordered CI comment keys) cannot be "
                              "downgraded; restore a backup taken before it instead")
