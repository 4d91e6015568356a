"""``ci-health report ci`` on the demo history, every engine: the API's figures
and the planted missed patch sets, as tables and as JSON; one-line errors."""
from __future__ import annotations

import json

from click.testing import CliRunner

from health_api.cli import main

from ci_helpers import DEMO_CI_SYSTEMS, WINDOW
from test_ci_api import expected_eligible, get

ENV = {"CI_HEALTH_GERRIT_CI_SYSTEMS": str(DEMO_CI_SYSTEMS)}
UNTIL = ["--until", WINDOW["stop"].rstrip("Z"), "--days", "5"]


def run(ci_url, *args):
    return CliRunner().invoke(main, ["report", "ci", "--db", ci_url, *UNTIL, *args], env=ENV)


def test_report_json_matches_the_api(ci_url, ci_client):
    result = run(ci_url, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    api = {r["system"]: r for r in get(ci_client, "/api/v1/ci/scoreboard")["systems"]}
    assert {r["system"]: (r["reports"], r["success"], r["status"]) for r in body["systems"]} == \
        {k: (r["reports"], r["success"], r["status"]) for k, r in api.items()}


def test_report_lists_the_planted_missed_patch_sets(ci_url, truth):
    planted = next(c for c in truth.ci_systems if c["username"] == "ceph-ci")
    eligible = expected_eligible(truth, {"openstack/glance"} & set(planted["projects"]))
    reported = {tuple(p) for p in truth.reported["ceph-ci"]}
    missed = sorted(p for p in eligible if p not in reported)
    result = run(ci_url, "--system", "ceph-ci", "--project", "openstack/glance")
    assert result.exit_code == 0, result.output
    head, _, listing = result.output.partition("Missed patch sets of ceph-ci:")
    assert listing.split()[0] == str(len(missed))
    listed = sorted(tuple(map(int, line.split()[0].split(","))) for line in listing.splitlines()[3:]
                    if line.strip())
    assert listed == missed
    table = [line.split() for line in head.splitlines()[3:] if line.strip()]
    assert [row[0] for row in table] == ["ceph-ci"]
    assert table[0][-2:] == [str(len(eligible)), str(len(missed))]


def test_report_errors(ci_url):
    for args, message in ((["--system", "no-such-ci"], "--system: no CI system 'no-such-ci'"),
                          (["--project", "no/such"], "--project: no project 'no/such'")):
        result = run(ci_url, *args)
        assert result.exit_code == 2
        assert result.output.strip().splitlines()[-1] == f"ci-health: error: {message}"
