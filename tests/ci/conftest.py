"""CI fixtures: one demo Gerrit history per engine for the session (read-only
tests), its planted truth, and the app over it with the demo's ci-systems.yaml."""
from __future__ import annotations

import pytest

from health_api.app import create_app
from health_api.db.migrate import upgrade
from health_api.db.session import make_engine
from health_api.demo.gerrit import generate_gerrit

from ci_helpers import CI_END, CI_START, ci_config
from engines import ENGINES



@pytest.fixture(scope="session", params=ENGINES)
def ci_demo(request, databases):
    url = databases.new_url(request.param, "cidemo")
    engine = make_engine(url)
    upgrade(engine)
    truth = generate_gerrit(engine, start=CI_START, end=CI_END, seed=3, changes_per_day=30)
    engine.dispose()
    return url, truth


@pytest.fixture(scope="session")
def ci_url(ci_demo):
    return ci_demo[0]


@pytest.fixture(scope="session")
def truth(ci_demo):
    return ci_demo[1]


@pytest.fixture(scope="session")
def ci_app(ci_url):
    return create_app(db_url=ci_url, config=ci_config())


@pytest.fixture
def ci_client(ci_app):
    return ci_app.test_client()
