"""REST backfill against a local HTTP server answering Gerrit's shapes."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from health_api.cli_gerrit import gerrit
from health_api.gerrit.rest import RestClient, RestError, backfill, build_query
from health_api.gerrit.store import GerritStore
from sshd.gerrit_http import FakeGerritRest
from sshd.helpers import T0, count, rest_change, zuul_report

SINCE = dt.datetime.fromtimestamp(T0, dt.timezone.utc)


def changes(n: int) -> list[dict]:
    return [rest_change(100 + i, [
        (f"m{i}a", "ada", 1000, T0 + 5, 1, "Uploaded patch set 1."),
        (f"m{i}b", "zuul", 22348, T0 + 60 + i, 1, zuul_report([("tox", "SUCCESS"), ("tempest", "FAILURE")])),
        (f"m{i}c", "zuul", 22348, T0 - 3600, 1, zuul_report([("tox", "SUCCESS")])),  # before --since
    ], project="openstack/cinder" if i % 2 else "openstack/nova") for i in range(n)]


def test_paging_prefix_and_idempotency(engine):
    with FakeGerritRest(changes(5)) as rest:
        client = RestClient(rest.url, page_size=2)
        stats = backfill(GerritStore(engine), client, SINCE)
        again = backfill(GerritStore(engine), client, SINCE)
    assert [r["query"]["S"] for r in rest.requests[:3]] == [["0"], ["2"], ["4"]]
    assert len(rest.requests) == 6
    assert stats.comments == 5 and stats.job_results == 10 and stats.non_ci_comments == 5
    assert again.comments == 0 and again.duplicate_comments == 5
    assert count(engine, "ci_comments") == 5 and count(engine, "patch_sets") == 5


def test_query_auth_and_errors():
    query = build_query(SINCE, ["openstack/nova", "openstack/cinder"])
    assert query == ('since:"2026-09-21 14:13:20" (project:"openstack/nova" OR '
                     'project:"openstack/cinder")')
    with FakeGerritRest([]) as rest:
        client = RestClient(rest.url, user="ci-health", password="secret")
        assert list(client.query_changes("status:open")) == []
        assert rest.requests[0]["path"] == "/a/changes/"
        assert rest.requests[0]["auth"].startswith("Basic ")
        rest.fail_with = 503
        with pytest.raises(RestError, match="HTTP 503"):
            list(client.query_changes("x"))
    with pytest.raises(RestError):
        list(RestClient(rest.url, timeout=2).query_changes("x"))  # server gone


def test_backfill_command(engine, db_url):
    with FakeGerritRest(changes(3)) as rest:
        result = CliRunner().invoke(gerrit, [
            "backfill", "--db", db_url, "--since", "2026-09-21T14:13:20Z", "--rest-url", rest.url,
            "--project", "openstack/nova"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["comments"] == 3
    assert 'project:"openstack/nova"' in rest.requests[0]["query"]["q"][0]
    bad = CliRunner().invoke(gerrit, ["backfill", "--db", db_url, "--since", "yesterday",
                                      "--rest-url", "http://127.0.0.1:9"])
    assert bad.exit_code == 2 and "--since" in bad.output
