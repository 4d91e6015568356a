"""Fixtures: a real database on every engine, a fresh schema per session,
empty tables per test.

PostgreSQL and MariaDB must be running (CI starts them); a missing server is
a failure, not a skip. Override the servers with CI_HEALTH_TEST_PG and
CI_HEALTH_TEST_MYSQL (server URLs without a database name).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from health_api.db.migrate import upgrade
from health_api.db.models import Base
from health_api.db.session import dispose_engines, make_engine
from engines import ENGINES

DATA = Path(__file__).resolve().parent / "data"
PG_SERVER = os.environ.get("CI_HEALTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
MYSQL_SERVER = os.environ.get("CI_HEALTH_TEST_MYSQL", "mysql://root@127.0.0.1:3306")


def _admin_engine(kind: str) -> sa.Engine:
    if kind == "postgresql":
        return make_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    return make_engine(f"{MYSQL_SERVER}/", isolation_level="AUTOCOMMIT")


class Databases:
    """Creates and drops throw-away databases on the real servers."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory.mktemp("sqlite")
        self.created: list[tuple[str, str]] = []
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"cih_{worker}_{os.getpid()}"

    def new_url(self, kind: str, label: str = "") -> str:
        name = f"{self.prefix}_{label or uuid.uuid4().hex[:8]}"
        if kind == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        admin = _admin_engine(kind)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            if kind == "mysql":
                conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            else:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        self.created.append((kind, name))
        server = PG_SERVER if kind == "postgresql" else MYSQL_SERVER
        return f"{server}/{name}"

    def drop_all(self) -> None:
        dispose_engines()
        for kind, name in self.created:
            admin = _admin_engine(kind)
            with admin.connect() as conn:
                if kind == "postgresql":
                    conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = Databases(tmp_path_factory)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def migrated_urls(databases):
    """One migrated database per engine for the whole session."""
    cache: dict[str, str] = {}

    def get(kind: str) -> str:
        if kind not in cache:
            url = databases.new_url(kind, "shared")
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            cache[kind] = url
        return cache[kind]
    return get


def empty_tables(engine: sa.Engine) -> None:
    names = [t for t in sa.inspect(engine).get_table_names()
             if t in Base.metadata.tables or t.startswith("ch_")]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(names)} RESTART IDENTITY")
        elif engine.dialect.name == "sqlite":
            for name in names:
                conn.exec_driver_sql(f"DELETE FROM {name}")
        else:
            for name in names:
                conn.exec_driver_sql(f"TRUNCATE TABLE {name}")


@pytest.fixture(params=ENGINES)
def db_url(request, migrated_urls):
    """A migrated database on each engine, emptied before the test."""
    url = migrated_urls(request.param)
    engine = make_engine(url)
    empty_tables(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_db(databases):
    """An empty (unmigrated) database of the given engine kind."""
    return databases.new_url
