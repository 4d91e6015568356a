"""Results schema: subunit2sql's tables, created where missing, adopted where present.

On an empty database this creates subunit2sql 1.10.0's tables with all of its
indexes and unique constraints. On a database subunit2sql made, it leaves the
tables and ``alembic_version`` alone and only adds the indexes that are
missing (subunit2sql skips several of them on SQLite) plus our own unique
indexes, compared by column set so differently named equivalents count.

The tables are written out here, frozen as this revision made them: the
live models (health_api/db/models.py) may change in later revisions, this
history may not. tests/db/test_migrations.py checks that the models and the
migrated schema agree on every engine.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# the column types of subunit2sql 1.10.0's tables, as this revision creates them
#: MySQL's BLOB stops at 64 KiB; a traceback or log attachment is often larger
_BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
#: test ids differ by case ("test_Foo" vs "test_foo"): compared exactly
_TEST_ID = sa.String(256).with_variant(mysql.VARCHAR(256, collation="utf8mb4_bin"),
                                       "mysql", "mariadb")
#: BIGINT everywhere but SQLite, where only INTEGER PRIMARY KEY autoincrements
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_META = sa.MetaData()


def _id() -> sa.Column:
    return sa.Column("id", _ID, primary_key=True)


def _key_value(table: str, owner: str, prefix: str, unique: str) -> sa.Table:
    return sa.Table(
        table, _META, _id(), sa.Column("key", sa.String(255)), sa.Column("value", sa.String(255)),
        sa.Column(owner, sa.BigInteger),
        sa.Index(f"ix_{prefix}_key_value", "key", "value"), sa.Index(f"ix_{prefix}_id", owner),
        sa.UniqueConstraint(owner, "key", "value", name=unique))


TABLES = {t.name: t for t in (
    sa.Table("tests", _META, _id(), sa.Column("test_id", _TEST_ID, nullable=False),
             sa.Column("run_count", sa.Integer), sa.Column("success", sa.Integer),
             sa.Column("failure", sa.Integer), sa.Column("run_time", sa.Float),
             sa.Index("ix_test_ids", "id", "test_id", mysql_length={"test_id": 30}),
             sa.Index("ix_tests_test_id", "test_id", mysql_length=30)),
    sa.Table("runs", _META, sa.Column("uuid", sa.String(36)), _id(),
             sa.Column("skips", sa.Integer), sa.Column("fails", sa.Integer),
             sa.Column("passes", sa.Integer), sa.Column("run_time", sa.Float),
             sa.Column("artifacts", sa.Text), sa.Column("run_at", sa.DateTime),
             sa.Index("ix_run_at", "run_at"), sa.Index("ix_run_uuid", "uuid")),
    sa.Table("test_runs", _META, _id(), sa.Column("test_id", sa.BigInteger),
             sa.Column("run_id", sa.BigInteger), sa.Column("status", sa.String(256)),
             sa.Column("start_time", sa.DateTime), sa.Column("stop_time", sa.DateTime),
             sa.Column("start_time_microsecond", sa.Integer),
             sa.Column("stop_time_microsecond", sa.Integer),
             sa.Index("ix_test_id_status", "test_id", "status", mysql_length={"status": 30}),
             sa.Index("ix_test_id_start_time", "test_id", "start_time"),
             sa.Index("ix_test_runs_test_id", "test_id"),
             sa.Index("ix_test_runs_run_id", "run_id"),
             sa.Index("ix_test_runs_start_time", "start_time"),
             sa.Index("ix_test_runs_stop_time", "stop_time"),
             sa.UniqueConstraint("test_id", "run_id", name="uq_test_runs")),
    _key_value("run_metadata", "run_id", "run", "uq_run_metadata"),
    _key_value("test_run_metadata", "test_run_id", "test_run", "uq_test_run_metadata"),
    _key_value("test_metadata", "test_id", "test", "uq_test_metadata"),
    sa.Table("attachments", _META, _id(), sa.Column("test_run_id", sa.BigInteger),
             sa.Column("label", sa.String(255)), sa.Column("attachment", _BLOB),
             sa.Index("ix_attach_test_run_id", "test_run_id")),
)}

#: the tables subunit2sql owns; created only where they are missing
SUBUNIT2SQL_TABLES = tuple(TABLES)

#: our unique indexes on subunit2sql tables: (name, table, columns)
OWN_INDEXES = (
    ("uq_tests_test_id", "tests", ("test_id",)),
    ("uq_runs_uuid", "runs", ("uuid",)),
)


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
        table = TABLES[name]
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
