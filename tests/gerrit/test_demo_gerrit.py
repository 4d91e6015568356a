"""The demo Gerrit history: deterministic, realistic, planted facts findable."""
from __future__ import annotations

import datetime as dt
import json

from health_api.demo.gerrit import generate_gerrit
from sshd.helpers import dump

START = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
END = START + dt.timedelta(days=3)


def test_demo_history(engine, tmp_path):
    truth_path = tmp_path / "truth.json"
    truth = generate_gerrit(engine, start=START, end=END, seed=7, changes_per_day=12,
                            truth=truth_path)
    assert json.loads(truth_path.read_text())["changes"] == truth.changes == 36
    assert truth.stats["failed"] == 0 and truth.ci_comments > 100 and truth.rechecks > 0
    with engine.connect() as conn:
        q = lambda sql: conn.exec_driver_sql(sql).all()  # noqa: E731
        systems = {r[0]: (bool(r[1]), r[2]) for r in q(
            "SELECT s.username, s.declared, COUNT(c.id) FROM ci_systems s "
            "LEFT JOIN ci_comments c ON c.ci_system_id = s.id GROUP BY s.username, s.declared")}
        flaky = q("SELECT s.username, j.job FROM ci_job_results j "
                  "JOIN ci_systems s ON s.id = j.ci_system_id GROUP BY s.username, j.job, "
                  "j.patch_set_id, j.pipeline HAVING COUNT(DISTINCT j.result) > 1")
        projects = {r[0] for r in q("SELECT DISTINCT project FROM changes")}
    assert len(systems) >= 23 and all(declared for declared, _ in systems.values())
    for silent in truth.silent_cis:
        assert systems[silent][1] == 0
    assert sum(1 for _, n in systems.values() if n > 0) >= 18
    flaky_systems = {name for name, _job in flaky}
    assert {f["username"] for f in truth.flaky_cis} & flaky_systems
    assert {"openstack/nova", "openstack/neutron", "openstack/cinder"} <= projects
    # deterministic: the same seed into a fresh set of tables gives the same rows
    ids = ("id", "comment_id", "patch_set_id", "ci_system_id", "change_id")
    first = dump(engine, drop=ids)
    from health_api.gerrit.replay import reset_ci_tables
    reset_ci_tables(engine)
    generate_gerrit(engine, start=START, end=END, seed=7, changes_per_day=12)
    assert dump(engine, drop=ids) == first
