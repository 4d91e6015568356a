"""``ci-health zuul import`` against a local fake Zuul serving recorded
answers (tests/data/zuul): both JSON shapes of builds and of buildsets,
buildsets without builds stored as verdicts, paging, ``final``, ``--since``,
``--pipeline``, idempotent re-runs, retries, and one-line errors that leave
what is stored alone."""
from __future__ import annotations

import json

import pytest

from health_api.rules import CI_FAIL, CI_NEUTRAL, ci_classify
from health_api.zuul.buildsets import BUILDSET_JOB
from health_api.zuul.client import ZuulClient, ZuulError

from fake_zuul import FakeZuul
from streams import rows, run_cli


@pytest.fixture
def zuul():
    with FakeZuul({"openstack": "builds-zuul10-nested.json",
                   "sf": "builds-zuul4-flat.json"},
                  {"openstack": "buildsets-zuul10-nested.json",
                   "sf": "buildsets-zuul4-flat.json"}) as server:
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
                "WHERE r.source = 'zuul' ORDER BY r.posted_at, r.id")]


def _buildset_rows(engine):
    return [r for r in _stored(engine) if r[5] == BUILDSET_JOB]


def test_nested_shape_pages_and_reruns(db_url, engine, zuul):
    first = _import(db_url, zuul, "openstack")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "pages": 3, "builds": 5, "stored": 3, "duplicates": 0,
        "skipped": {"no_change": 1, "not_final": 1},
        "buildsets": {"pages": 4, "buildsets": 6, "stored": 3, "duplicates": 0,
                      "skipped": {"has_builds": 1, "no_change": 1, "running": 1}}}
    assert [r for r in zuul.requests if "skip=" in r] == [
        "/api/tenant/openstack/builds?skip=0&limit=2",
        "/api/tenant/openstack/builds?skip=2&limit=2",
        "/api/tenant/openstack/builds?skip=4&limit=2",
        "/api/tenant/openstack/buildsets?skip=0&limit=2",
        "/api/tenant/openstack/buildsets?skip=2&limit=2",
        "/api/tenant/openstack/buildsets?skip=4&limit=2",
        "/api/tenant/openstack/buildsets?skip=6&limit=2"]
    builds = [r for r in _stored(engine) if r[5] != BUILDSET_JOB]
    nova = "https://logs.example.org/52/908952/2/check/tempest-full-py3/5f1c2a9/"
    assert builds == [
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
    # the SUCCESS buildset of 908952/2 had builds: only its two builds are stored
    assert _buildset_rows(engine) == [
        ("zuul", "openstack/neutron", 908811, 1, "check", BUILDSET_JOB, True, "NO_JOBS", 1,
         None, None, None, "zuul-buildset:f0e1d2c3b4a5469788796a5b4c3d2e1f"),
        ("zuul", "openstack/neutron", 908870, 3, "gate", BUILDSET_JOB, True, "MERGE_FAILURE",
         1, None, None, "This change or one of its cross-repo dependencies was unable to be "
         "automatically merged with the current state of its repository. Please rebase the "
         "change and upload a new patchset.", "zuul-buildset:5d4c3b2a1f0e4d9c8b7a6f5e4d3c2b1a"),
        ("zuul", "openstack/nova", 908990, 4, "check", BUILDSET_JOB, True, "CONFIG_ERROR", 1,
         None, None, "Zuul encountered a syntax error while parsing its configuration in the "
         "repo openstack/nova on branch master.",
         "zuul-buildset:9b1e7c20d4a34f6e8a2b5c7d9e0f1a23"),
    ]
    assert [ci_classify(r[7]) for r in _buildset_rows(engine)] == [CI_NEUTRAL, CI_FAIL,
                                                                   CI_FAIL]
    assert rows(engine, "SELECT project FROM changes WHERE number = 908870") == [
        ("openstack/neutron",)]
    again = _import(db_url, zuul, "openstack")
    assert again.exit_code == 0
    rerun = json.loads(again.stdout)
    assert (rerun["stored"], rerun["duplicates"]) == (0, 3)
    assert (rerun["buildsets"]["stored"], rerun["buildsets"]["duplicates"]) == (0, 3)
    assert len(_stored(engine)) == 6


def test_flat_shape_since_and_pipeline(db_url, engine, zuul):
    result = _import(db_url, zuul, "sf", "--pipeline", "check", "--ci-system", "sf-zuul")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["skipped"] == {"running": 1}
    # flat buildsets: MERGE_CONFLICT stored; a buildset of a Zuul without times skipped
    assert json.loads(result.stdout)["buildsets"] == {
        "pages": 2, "buildsets": 2, "stored": 1, "duplicates": 0, "skipped": {"no_time": 1}}
    assert [(r[0], r[2], r[3], r[4], r[5], r[7], r[8]) for r in _stored(engine)] == [
        ("sf-zuul", 22894, 1, "check", "cabal-test", "POST_FAILURE", 1),
        ("sf-zuul", 22894, 1, "check", "cabal-test", "FAILURE", 2),
        ("sf-zuul", 22896, 1, "check", BUILDSET_JOB, "MERGE_CONFLICT", 1)]
    assert _buildset_rows(engine)[0][11].startswith("Merge Failed.\n\nThis change")
    assert all("pipeline=check" in r for r in zuul.requests)
    since = _import(db_url, zuul, "sf", "--since", "2026-10-13T12:55:00Z",
                    "--ci-system", "sf-zuul")
    assert since.exit_code == 0, since.output
    # newest first: the first page (running build, hlint) reaches past --since, the
    # second starts before it, so paging stops there
    assert json.loads(since.stdout) == {
        "pages": 2, "builds": 2, "stored": 1, "duplicates": 0,
        "skipped": {"before_since": 2, "running": 1},
        "buildsets": {"pages": 2, "buildsets": 3, "stored": 0, "duplicates": 1,
                      "skipped": {"has_builds": 1, "no_time": 1}}}
    assert [r[5] for r in _stored(engine)] == ["cabal-test", "cabal-test", "hlint",
                                               BUILDSET_JOB]


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


@pytest.mark.parametrize("answer, noun", [
    ({"description": "hello"}, "the answer is not a list of Zuul buildsets: not a Zuul API root"),
    ([{"uuid": "x", "job_name": "tox"}], "the answer is not a list of Zuul buildsets: not a "
                                         "Zuul API root"),
    ([{"uuid": "x", "change": 1, "result": "NO_JOBS"}] * 3,
     "3 buildsets answered for limit=2: not Zuul's buildsets paging"),
])
def test_bad_buildsets_answer_is_one_line_and_keeps_data(db_url, engine, zuul, answer, noun):
    assert _import(db_url, zuul, "sf").exit_code == 0
    before = _stored(engine)
    zuul.answers["sf", "buildsets"] = answer
    result = _import(db_url, zuul, "sf", "--retries", "1")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"ci-health: error: {zuul.root}/tenant/sf/buildsets")
    assert lines[0].endswith(noun)
    assert _stored(engine) == before


def test_buildset_reports_classed_by_rules(db_url, engine, zuul):
    """A MERGE_FAILURE/CONFIG_ERROR buildset is a failed report of the CI on the
    patch set; a NO_JOBS one a report without a verdict (counts in no rate)."""
    from sqlalchemy import text

    from health_api.verdicts.report_sql import class_params, expanding, reports
    assert _import(db_url, zuul, "openstack").exit_code == 0
    sql = reports(engine.dialect.name, "1=0", "j.job = :job")
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT ch.number, ps.number, r.pipeline, r.overall FROM (" + sql + ") r "
            "JOIN patch_sets ps ON ps.id = r.patch_set_id JOIN changes ch "
            "ON ch.id = ps.change_id ORDER BY ch.number").bindparams(*expanding(sql)),
            {**class_params(), "job": BUILDSET_JOB}).all()
    assert [tuple(r) for r in found] == [(908811, 1, "check", None),
                                         (908870, 3, "gate", "FAILURE"),
                                         (908990, 4, "check", "FAILURE")]
