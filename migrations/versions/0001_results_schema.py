"""Results schema: subunit2sql's tables, created where missing, adopted where present.

On an empty database this creates subunit2sql 1.10.0's tables with all of its
indexes and unique constraints. On a database subunit2sql made, it leaves the
tables and ``alembic_version`` alone and only adds the indexes that are
missing (subunit2sql skips several of them on SQLite) plus our own unique
indexes, compared by column set so differently named equivalents count.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import logging

import sqlalchemy as sa
from alembic import op

from health_api.db.models import OWN_INDEXES, SUBUNIT2SQL_TABLES, Base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _existing_column_sets(inspector, table: str) -> set[tuple[tuple[str, ...], bool]]:
    found = set()
    for index in inspector.get_indexes(table):
        found.add((tuple(index["column_names"]), bool(index.get("unique"))))
    for constraint in inspector.get_unique_constraints(table):
        found.add((tuple(constraint["column_names"]), True))
    pk = inspector.get_pk_constraint(table).get("constrained_columns") or []
    if pk:
        found.add((tuple(pk), True))
    return found


def _has_duplicates(bind, table: str, columns: tuple[str, ...]) -> bool:
    cols = ", ".join(columns)
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    query = sa.text(f"SELECT 1 FROM {table} WHERE {not_null} "
                    f"GROUP BY {cols} HAVING COUNT(*) > 1 LIMIT 1")
    return bind.execute(query).first() is not None


#: subunit2sql's alembic head; written on a schema we create from scratch so that
#: subunit2sql-db-manage sees an up-to-date database rather than a foreign one
SUBUNIT2SQL_HEAD = "10a2b6d4b06e"


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    if not present.intersection(SUBUNIT2SQL_TABLES) and "alembic_version" not in present:
        version = sa.Table("alembic_version", sa.MetaData(),
                           sa.Column("version_num", sa.String(32), primary_key=True))
        version.create(bind)
        bind.execute(version.insert().values(version_num=SUBUNIT2SQL_HEAD))
    for name in SUBUNIT2SQL_TABLES:
        table = Base.metadata.tables[name]
        if name not in present:
            table.create(bind)
            continue
        existing = _existing_column_sets(inspector, name)
        wanted = [(ix.name, tuple(c.name for c in ix.columns), bool(ix.unique))
                  for ix in table.indexes]
        wanted += [(uc.name, tuple(c.name for c in uc.columns), True)
                   for uc in table.constraints if isinstance(uc, sa.UniqueConstraint)]
        for index_name, columns, unique in wanted:
            if (columns, unique) in existing or (unique is False and (columns, True) in existing):
                continue
            if unique and _has_duplicates(bind, name, columns):
                log.warning("not adding unique index %s on %s%s: duplicate rows exist",
                            index_name, name, columns)
                continue
            index = next((ix for ix in table.indexes if ix.name == index_name), None)
            if index is not None:
                index.create(bind)
            else:
                op.create_index(index_name, name, list(columns), unique=True)

    inspector = sa.inspect(bind)
    for index_name, table_name, columns in OWN_INDEXES:
        existing = _existing_column_sets(inspector, table_name)
        if (columns, True) in existing:
            continue
        if _has_duplicates(bind, table_name, columns):
            log.warning("not adding unique index %s on %s%s: duplicate rows exist; "
                        "concurrent ingest may then duplicate rows", index_name,
                        table_name, columns)
            continue
        op.create_index(index_name, table_name, list(columns), unique=True)


def downgrade() -> None:
    for index_name, table_name, _columns in OWN_INDEXES:
        op.drop_index(index_name, table_name=table_name)
