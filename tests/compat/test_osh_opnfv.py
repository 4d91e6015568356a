"""ci-health's openstack-health routes on a database the REAL subunit2sql built from the 17
OPNFV streams, compared with OpenStack-Health's answers on it (tests/data/osh-golden/
opnfv-*.json.gz, recorded by tools/osh-golden.py --opnfv; see that directory's README).

Each engine gets subunit2sql's rows as recorded (ids, times, its tests.run_time and
runs.run_time as it computed them), loaded into ci-health's schema, whose rollups are then
built as `ci-health db rebuild-rollups` builds them for data subunit2sql wrote."""
from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from health_api.app import create_app
from health_api.config import Config
from health_api.db import models as m
from health_api.db.bulk import insert_rows
from health_api.db.migrate import upgrade
from health_api.db.session import make_engine
from health_api.ingest.expire import rebuild_rollups

import osh_routes
from osh_compare import compare

DATA = Path(__file__).resolve().parents[1] / "data" / "osh-golden"
ENGINES = ("sqlite", "postgresql", "mysql")
_TIMES = {"run_at", "start_time", "stop_time"}


def _load(name: str):
    with gzip.open(DATA / name, "rt") as f:
        return json.load(f)


def _value(column: str, value):
    if value is not None and column in _TIMES:
        return dt.datetime.fromisoformat(value)
    if isinstance(value, dict):  # attachments' bytes, as hex
        return bytes.fromhex(value["hex"])
    return value


def load_subunit2sql_rows(engine, dump: dict) -> None:
    """subunit2sql's rows into ci-health's tables of the same names and columns."""
    with engine.begin() as conn:
        for table in osh_routes.SUBUNIT2SQL_TABLES:
            columns, rows = dump[table]["columns"], dump[table]["rows"]
            if rows:
                insert_rows(conn, m.Base.metadata.tables[table], columns,
                            [tuple(_value(c, v) for c, v in zip(columns, r)) for r in rows])


@pytest.fixture(scope="module", params=ENGINES)
def opnfv_app(request, databases):
    url = databases.new_url(request.param, "oshopnfv")
    engine = make_engine(url)
    upgrade(engine)
    load_subunit2sql_rows(engine, _load("opnfv-rows.json.gz"))
    assert rebuild_rollups(engine)["runs"] == 17
    engine.dispose()
    app = create_app(db_url=url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"}))
    app.config["OSH_ENGINE"] = request.param
    return app


def test_every_route_is_recorded():
    assert sorted(_load("opnfv-api.json.gz")) == sorted(osh_routes.OPNFV_ROUTES)


@pytest.mark.parametrize("route", osh_routes.OPNFV_ROUTES,
                         ids=[r.split("?")[0][:60] for r in osh_routes.OPNFV_ROUTES])
def test_route_answers_as_openstack_health(opnfv_app, route):
    want = _load("opnfv-api.json.gz")[route]
    problems = compare(opnfv_app, route, want, unordered=osh_routes.OPNFV_UNORDERED,
                       unordered_rows=osh_routes.OPNFV_UNORDERED_ROWS)
    assert not problems, "\n".join(problems)
