"""``ci-health zuul import`` against a local fake Zuul serving recorded
answers (tests/data/zuul): both JSON shapes, paging, ``final``, ``--since``,
``--pipeline``, idempotent re-runs, retries, and one-line errors that leave
what is stored alone."""
from __future__ import annotations

import json

import pytest

from health_api.zuul.client import ZuulClient, ZuulError

from fake_zuul import FakeZuul
from streams import rows, run_cli


@pytest.fixture
def zuul():
    with FakeZuul({"openstack": "builds-zuul10-nested.json",
                   "sf": "builds-zuul4-flat.json"}) as server:
        yield server


def _import(db_url, zuul, tenant, *more):
    return run_cli("zuul", "import", "--db", db_url, "--url", zuul.root, "--tenant", tenant,
                   "--page-size", "2", *more)


def _stored(engine):
    return [tuple(bool(v) if i == 6 else v for i, v in enumerate(r)) for r in rows(
        engine, "SELECT s.username, ch.project, ch.number, ps.number, r.pipeline, r.job, "
                "r.voting, r.result, r.attempt, r.duration, r.url, r.detail, r.result_key "
                "FROM ci_job_results r JOIN ci_systems s ON s.id = r.ci_system_id "
                "JOIN patch_sets ps ON ps.id = r.patch_set_id "
                "JOIN changes ch ON ch.id = ps.change_id "
                "WHERE r.source = 'zuul' ORDER BY r.posted_at")]


def test_nested_shape_pages_and_reruns(db_url, engine, zuul):
    first = _import(db_url, zuul, "openstack")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "pages": 3, "builds": 5, "stored": 3, "duplicates": 0,
        "skipped": {"no_change": 1, "not_final": 1}}
    assert [r for r in zuul.requests if "skip=" in r] == [
        "/api/tenant/openstack/builds?skip=0&limit=2",
        "/api/tenant/openstack/builds?skip=2&limit=2",
        "/api/tenant/openstack/builds?skip=4&limit=2"]
    nova = "https://logs.example.org/52/908952/2/check/tempest-full-py3/5f1c2a9/"
    assert _stored(engine) == [
        ("zuul", "openstack/neutron", 908811, 1, "gate", "openstack-tox-docs", False, "FAILURE",
         1, 570, "https://logs.example.org/11/908811/1/gate/openstack-tox-docs/7c6b5a4/", None,
         "zuul:7c6b5a4938271605f4e3d2c1b0a99887"),
        ("zuul", "openstack/nova", 908952, 2, "check", "openstack-tox-py311", True,
         "NODE_FAILURE", 1, None, None, "Node request 200-0012345678 failed",
         "zuul:a0b1c2d3e4f5460718293a4b5c6d7e8f"),
        ("zuul", "openstack/nova", 908952, 2, "check", "tempest-full-py3", True, "SUCCESS", 1,
         5751, nova, None, "zuul:5f1c2a9d0b7e4c1fa2d3e4b5c6d7e8f9"),
    ]
    assert rows(engine, "SELECT branch FROM changes WHERE number = 908811") == [
        ("stable/2026.2",)]
    again = _import(db_url, zuul, "openstack")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["stored"] == 0 and json.loads(again.stdout)[
        "duplicates"] == 3
    assert len(_stored(engine)) == 3


def test_flat_shape_since_and_pipeline(db_url, engine, zuul):
    result = _import(db_url, zuul, "sf", "--pipeline", "check", "--ci-system", "sf-zuul")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["skipped"] == {"running": 1}
    assert [(r[0], r[4], r[5], r[7], r[8]) for r in _stored(engine)] == [
        ("sf-zuul", "check", "cabal-test", "POST_FAILURE", 1),
        ("sf-zuul", "check", "cabal-test", "FAILURE", 2)]
    assert all("pipeline=check" in r for r in zuul.requests)
    since = _import(db_url, zuul, "sf", "--since", "2026-10-13T12:55:00Z",
                    "--ci-system", "sf-zuul")
    assert since.exit_code == 0, since.output
    # newest first: the first page (running build, hlint) reaches past --since, the
    # second starts before it, so paging stops there
    assert json.loads(since.stdout) == {"pages": 2, "builds": 2, "stored": 1, "duplicates": 0,
                                        "skipped": {"before_since": 2, "running": 1}}
    assert [r[5] for r in _stored(engine)] == ["cabal-test", "cabal-test", "hlint"]


def test_retries_then_succeeds(db_url, engine, zuul):
    zuul.fail_next = 2
    result = _import(db_url, zuul, "sf", "--retries", "3")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stored"] == 3
    assert zuul.requests[:3] == ["/api/tenant/sf/builds?skip=0&limit=2"] * 3


def test_client_gives_up_after_its_tries(zuul):
    zuul.fail_next = 10
    client = ZuulClient(zuul.root, attempts=2, backoff=0.01)
    with pytest.raises(ZuulError, match=r"HTTP 503 \(gave up after retries\)"):
        client.get_json("tenant/sf/builds")
    assert len(zuul.requests) == 2


@pytest.mark.parametrize("url, tenant, message", [
    ("not a url", "sf", "ci-health: error: --url must be an http(s) URL of a Zuul API root, "
                        "got 'not a url'"),
    ("{root}", "nosuch", "ci-health: error: {root}/tenant/nosuch/builds?skip=0&limit=2: "
                         "HTTP 404 (no such tenant, or not a Zuul API root)"),
    ("{html}", "sf", "ci-health: error: {html}/tenant/sf/builds?skip=0&limit=2: the answer is "
                     "not JSON: not a Zuul API"),
    ("{root}/tenant/sf/builds?x=", "sf", None),
])
def test_bad_url_or_answer_is_one_line_and_keeps_data(db_url, engine, zuul, url, tenant,
                                                      message):
    assert _import(db_url, zuul, "openstack").exit_code == 0
    before = _stored(engine)
    root, html = zuul.root, zuul.root.replace("/api", "/html")
    result = run_cli("zuul", "import", "--db", db_url, "--url",
                     url.format(root=root, html=html), "--tenant", tenant, "--page-size", "2",
                     "--retries", "1")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    if message is not None:
        assert lines[0] == message.format(root=root, html=html)
        assert _stored(engine) == before
    else:  # a server that ignores skip: stopped at the repeated page, the first one kept
        assert lines[0].endswith("answered builds already read: not Zuul's builds paging")
        assert set(before) <= set(_stored(engine))
