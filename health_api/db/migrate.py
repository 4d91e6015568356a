"""Schema upgrades through alembic, callable from the CLI and the tests."""
from __future__ import annotations

import functools

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from .session import VERSION_TABLE, DatabaseError, describe

def _migrations_dir() -> Path:
    # Installed: the package health_api.migrations (setup.py maps it onto the
    # repository's migrations/); from a plain checkout: migrations/ itself.
    try:
        import health_api.migrations as package
        return Path(package.__file__).resolve().parent
    except ImportError:
        return Path(__file__).resolve().parent.parent.parent / "migrations"


MIGRATIONS_DIR = _migrations_dir()
SUBUNIT2SQL_VERSION_TABLE = "alembic_version"


@dataclass
class UpgradeReport:
    before: str | None
    after: str | None
    adopted_subunit2sql: str | None  # subunit2sql's alembic revision, if found
    rollups: dict | None = None  # what building the rollups of unrolled runs did


def alembic_config() -> AlembicConfig:
    if not MIGRATIONS_DIR.is_dir():
        raise DatabaseError(f"migrations directory {MIGRATIONS_DIR} is missing")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    # Reading the head compiles every migration file (50 ms); the files are the
    # installed code's, so a process reads them once (GET /status asks each time).
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return revision_of(conn)


def revision_of(conn) -> str | None:
    """The database's revision, read on a connection the caller holds."""
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def served_revision(conn) -> str | None:
    """revision_of for a database the API serves (its version table exists: `serve`
    checks it at start): one SELECT instead of alembic's catalogue look-ups (~2 ms of
    CPU and three round trips on each GET /api/v1/status). Without the table (the
    caller's transaction is rolled back: call it last), alembic's answer; a database
    that went away raises from there as from alembic."""
    try:
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    except (ProgrammingError, OperationalError):
        conn.rollback()
        return revision_of(conn)
    if len(rows) > 1:  # a branched history: alembic's own error, as before
        return revision_of(conn)
    return rows[0][0] if rows else None


def subunit2sql_revision(engine: Engine) -> str | None:
    """subunit2sql's own alembic revision, or None if it never managed this database."""
    with engine.connect() as conn:
        if SUBUNIT2SQL_VERSION_TABLE not in inspect(conn).get_table_names():
            return None
        row = conn.execute(text(f"SELECT version_num FROM {SUBUNIT2SQL_VERSION_TABLE}")).first()
        return row[0] if row else None


def upgrade(engine: Engine, revision: str = "head") -> UpgradeReport:
    try:
        before = current_revision(engine)
        adopted = subunit2sql_revision(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot connect to {describe(engine)}: {reason}") from None
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    after = current_revision(engine)
    return UpgradeReport(before=before, after=after, adopted_subunit2sql=adopted,
                         rollups=_roll_up_adopted_runs(engine) if after != before else None)


def _roll_up_adopted_runs(engine: Engine) -> dict | None:
    """Runs that subunit2sql wrote are in no rollup: build them, in SQL. All
    of them at once (by ranges of run ids) when none is rolled up, as on a
    freshly adopted database; else only the missing ones."""
    from ..ingest import rollup_sql  # the ingest layer builds on this module
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        if "ch_rolled_runs" not in tables:
            return None  # upgraded to a revision before 0020
        any_run = conn.execute(text("SELECT 1 FROM runs LIMIT 1")).first()
        any_rolled = conn.execute(text("SELECT 1 FROM ch_rolled_runs LIMIT 1")).first()
    if any_run is None:
        return None
    if any_rolled is None:
        from ..ingest import rebuild
        return rebuild.build_all(engine)
    # what subunit2sql wrote since, however young (nothing else writes during an upgrade)
    report = rollup_sql.catch_up(engine, settle=None)
    return report if report["runs"] else None
