"""health_api.rules: the one home of the shared rules, served to the dashboard, and its
SQL run outcome equal to its Python one on every engine."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from health_api import rules
from health_api.app import create_app
from health_api.db import models as m

from api_helpers import no_cache_config

FIXTURE = Path(__file__).resolve().parents[2] / "frontend" / "test" / "rules.json"
COUNTS = [(None, None), (0, 0), (3, 0), (0, 2), (5, 1), (None, 1), (2, None), (0, None)]


def test_run_outcome_sql_is_the_python_rule(engine):
    with engine.begin() as conn:
        conn.execute(m.runs.insert(), [{"uuid": f"r{i}", "passes": p, "fails": f}
                                       for i, (p, f) in enumerate(COUNTS)])
        for outcome in rules.OUTCOMES:
            where = rules.run_outcome_is(m.runs.c.passes, m.runs.c.fails, outcome)
            got = set(conn.execute(sa.select(m.runs.c.uuid).where(where)).scalars())
            expected = {f"r{i}" for i, (p, f) in enumerate(COUNTS)
                        if rules.run_outcome(p, f) == outcome}
            assert got == expected, outcome
    # the rule itself, by hand
    assert [rules.run_outcome(p, f) for p, f in COUNTS] == [
        "empty", "empty", "passed", "failed", "failed", "failed", "passed", "empty"]


def test_the_dashboard_reads_the_served_rules(db_url):
    served = rules.as_json()
    # the frontend's unit tests use the same rules the server serves
    assert json.loads(FIXTURE.read_text()) == served
    client = create_app(db_url=db_url, config=no_cache_config()).test_client()
    assert client.get("/api/v1/status").get_json()["rules"] == served
    page = client.get("/").get_data(as_text=True)
    start = page.index('<script type="application/json" id="ci-health-rules">') + 53
    assert json.loads(page[start:page.index("</script>", start)]) == served
    assert [r["name"] for r in served["resolutions"]] == ["sec", "min", "hour", "day"]
    assert served["statuses"] == {"success": "pass", "xfail": "pass", "fail": "fail",
                                  "uxsuccess": "fail", "skip": "skip"}
