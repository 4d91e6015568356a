"""GET /api/v1/status reads the schema revision with one SELECT (migrate.served_revision)
instead of alembic's catalogue look-ups: the same revision as alembic reads, on every
engine, with and without the version table, and the connection usable after."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from health_api.app import create_app
from health_api.db import migrate
from health_api.db.session import make_engine

from api_helpers import no_cache_config
from engines import ENGINES


def test_served_revision_is_alembics(db_url, engine):
    with engine.connect() as conn:
        assert migrate.served_revision(conn) == migrate.revision_of(conn) == \
            migrate.head_revision()
        assert conn.execute(text("SELECT 1")).scalar() == 1
    status = create_app(db_url=db_url, config=no_cache_config()).test_client() \
        .get("/api/v1/status").get_json()
    assert status["schema"] == {"current": migrate.head_revision(),
                                "head": migrate.head_revision(), "up_to_date": True}


@pytest.mark.parametrize("kind", ENGINES)
def test_served_revision_without_version_table(fresh_db, kind):
    engine = make_engine(fresh_db(kind))
    try:
        with engine.connect() as conn:
            assert migrate.served_revision(conn) is None
            assert conn.execute(text("SELECT 1")).scalar() == 1  # not left aborted
    finally:
        engine.dispose()
