"""ci-health's openstack-health routes give OpenStack-Health's answers: compared with
its recorded answers (tests/data/osh-golden/api.json.gz, see its README) on the same
demo data, on SQLite, PostgreSQL and MariaDB. Keys, shapes, list order (where it
orders), timestamp formats, and numbers to 1e-6 relative."""
from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from health_api.app import create_app
from health_api.config import Config
from health_api.db.migrate import upgrade
from health_api.db.session import make_engine
from health_api.demo.gate import generate

import osh_routes
from osh_compare import compare
from engines import ENGINES

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "osh-golden" / "api.json.gz"
#: routes whose answers still differ from OpenStack-Health's, and how (strict: a fix
#: that makes one match fails the test until it is taken off this list)
DIFFERS: dict[str, str] = {}


def _golden() -> dict:
    with gzip.open(GOLDEN, "rt") as f:
        return json.load(f)


@pytest.fixture(scope="module", params=ENGINES)
def osh_app(request, databases):
    url = databases.new_url(request.param, "oshgolden")
    engine = make_engine(url)
    upgrade(engine)
    generate(engine, days=7, jobs=6, runs_per_day=2, seed=3, end=dt.datetime(2026, 10, 4))
    engine.dispose()
    app = create_app(db_url=url, config=Config(environ={"CI_HEALTH_CACHE_DISABLED": "1"}))
    app.config["OSH_ENGINE"] = request.param
    return app


def _params():
    for route in osh_routes.ROUTES:
        marks = [pytest.mark.xfail(strict=True, reason=DIFFERS[route])] if route in DIFFERS else []
        yield pytest.param(route, marks=marks, id=route.split("?")[0])


@pytest.mark.parametrize("route", list(_params()))
def test_route_answers_as_openstack_health(osh_app, route):
    problems = compare(osh_app, route, _golden()[route], unordered=osh_routes.UNORDERED,
                       unordered_rows=osh_routes.UNORDERED_ROWS,
                       float32=route in osh_routes.FROM_MYSQL)
    assert not problems, "\n".join(problems)
