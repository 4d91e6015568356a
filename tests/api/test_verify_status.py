"""The verify-status channel on every engine: the plugin's POST and GET
contract, verdicts stored as the token's CI system in the same tables as
Gerrit's, and refused requests (no token, wrong or revoked token, too
large, malformed) store nothing."""
from __future__ import annotations

import json

import pytest

from health_api.app import create_app
from health_api.tokens import create_token, revoke_token

from api_helpers import no_cache_config
from streams import rows

URL = "/api/v1/changes/{}/revisions/{}/verify-status~verifications"
CHANGE_KEY = "I" + "8473b95934b5732ac55d26311a706c9c2bde9940"
PEP8 = {"value": -1, "url": "https://ci.example.org/jobs/pep8/2711", "reporter": "Acme CI",
        "comment": "Failed", "category": "cloud server", "duration": "3m 10s"}
PY27 = {"value": 1, "url": "https://ci.example.org/jobs/py27/1711", "abstain": True,
        "reporter": "Acme CI", "comment": "Informational only", "category": "third party",
        "duration": "7m 40s"}


@pytest.fixture
def client(db_url):
    app = create_app(db_url=db_url, config=no_cache_config(CI_HEALTH_API_MAX_BODY_BYTES="4000"))
    return app.test_client()


@pytest.fixture
def token(engine):
    return create_token(engine, "acme-ci")


def _post(client, plaintext, body, change="4242", revision="2"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL.format(change, revision), data=data,
                       headers={"Authorization": f"Bearer {plaintext}",
                                "Content-Type": "application/json"})


def _stored(engine):
    return rows(engine, "SELECT s.username, ch.number, ps.number, r.job, r.result, r.voting, "
                        "r.attempt, r.duration, r.source FROM ci_job_results r "
                        "JOIN ci_systems s ON s.id = r.ci_system_id "
                        "JOIN patch_sets ps ON ps.id = r.patch_set_id "
                        "JOIN changes ch ON ch.id = ps.change_id ORDER BY r.id")


def test_post_then_get(client, engine, token):
    _, plaintext = token
    first = _post(client, plaintext, {"verifications": {"gate-pep8": PEP8, "gate-py27": PY27}})
    assert first.status_code == 204, first.get_data(as_text=True)
    rerun = _post(client, plaintext, {"verifications": {"gate-pep8": {
        "value": 1, "rerun": True, "reporter": "Acme CI", "duration": "2m"}}})
    assert rerun.status_code == 204
    assert [tuple(bool(v) if i == 5 else v for i, v in enumerate(r)) for r in _stored(engine)] == [
        ("acme-ci", 4242, 2, "gate-pep8", "FAILURE", True, 1, 190, "verify-status"),
        ("acme-ci", 4242, 2, "gate-py27", "SUCCESS", False, 1, 460, "verify-status"),
        ("acme-ci", 4242, 2, "gate-pep8", "SUCCESS", True, 2, 120, "verify-status"),
    ]
    assert rows(engine, "SELECT used FROM (SELECT last_used_at IS NOT NULL AS used "
                        "FROM ch_api_tokens) t") in ([(True,)], [(1,)])

    every = client.get(URL.format(4242, 2))
    assert every.status_code == 200
    listed = list(every.get_json().values())
    assert [(v["name"], v["value"], v["rerun"]) for v in listed] == [
        ("gate-pep8", -1, False), ("gate-py27", 1, False), ("gate-pep8", 1, True)]
    pep8 = listed[0]
    assert {k: pep8[k] for k in PEP8} == PEP8 and pep8["abstain"] is False
    assert len(pep8["granted"]) == 29 and pep8["granted"][10] == " "
    assert listed[1]["abstain"] is True

    current = client.get(URL.format(4242, 2) + "?filter=CURRENT&sort=NAME").get_json()
    assert [(v["name"], v["value"]) for v in current.values()] == [
        ("gate-pep8", 1), ("gate-py27", 1)]
    failed = client.get(URL.format(4242, "current") + "?filter=FAILED").get_json()
    assert [(v["name"], v["value"]) for v in failed.values()] == [("gate-pep8", -1)]
    assert client.get(URL.format(4242, 3)).status_code == 404
    bad_sort = client.get(URL.format(4242, 2) + "?sort=SIZE")
    assert bad_sort.status_code == 400 and bad_sort.get_json()["error"]["field"] == "sort"


def test_change_id_forms(client, engine, token):
    _, plaintext = token
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO changes (number, project, branch, change_key) VALUES "
            f"(77, 'openstack/nova', 'master', '{CHANGE_KEY}')")
        conn.exec_driver_sql("INSERT INTO patch_sets (change_id, number, project, branch, "
                             "revision) SELECT id, 3, project, branch, "
                             "'674ac754f91e64a0efb8087e59a176484bd534d1' FROM changes")
    change = f"openstack%2Fnova~master~{CHANGE_KEY}"
    ok = _post(client, plaintext, {"verifications": {"unit": {"value": 1}}}, change, "674ac754")
    assert ok.status_code == 204, ok.get_data(as_text=True)
    for change_id, revision in ((CHANGE_KEY, "3"), ("openstack%2Fnova~77", "current"),
                                ("77", "674ac754f91e64a0efb8087e59a176484bd534d1")):
        got = client.get(URL.format(change_id, revision))
        assert got.status_code == 200 and [v["name"] for v in got.get_json().values()] == [
            "unit"], (change_id, revision)
    unknown = _post(client, plaintext, {"verifications": {"unit": {"value": 1}}},
                    "I" + "0" * 40, "1")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["field"] == "change"
    bad = client.get(URL.format("not~a~change~id", "1"))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "change"
    assert len(_stored(engine)) == 1


@pytest.mark.parametrize("body, field, message", [
    (b"{not json", "body", "the body is not JSON"),
    ([1, 2], "body", "the body must be a JSON object"),
    ({"verification": {}}, "verifications", "verifications must be an object of job name"),
    ({"verifications": {}}, "verifications", "verifications is empty"),
    ({"verifications": {"unit": {"url": "https://x"}}}, "verifications.unit.value",
     "verifications.unit.value is required and must be -1, 0 or 1"),
    ({"verifications": {"unit": {"value": 2}}}, "verifications.unit.value",
     "verifications.unit.value is required and must be -1, 0 or 1"),
    ({"verifications": {"ok": {"value": 1}, "unit": {"value": 1, "abstain": "yes"}}},
     "verifications.unit.abstain", "verifications.unit.abstain must be true or false"),
    ({"verifications": {"unit": {"value": 1, "url": "javascript:alert(1)"}}},
     "verifications.unit.url", "verifications.unit.url must be an http(s) URL"),
    ({"verifications": {"unit": {"value": 1, "comment": 5}}}, "verifications.unit.comment",
     "verifications.unit.comment must be a string"),
    ({"verifications": {" unit": {"value": 1}}}, "verifications. unit",
     "a job name must be 1 to 255 printable characters"),
])
def test_malformed_body_is_400_naming_the_field_and_stores_nothing(client, engine, token, body,
                                                                    field, message):
    _, plaintext = token
    assert _post(client, plaintext, {"verifications": {"keep": {"value": 1}}}).status_code == 204
    response = _post(client, plaintext, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"].startswith(message)
    assert [r[3] for r in _stored(engine)] == ["keep"]
    assert rows(engine, "SELECT COUNT(*) FROM ci_verifications") == [(1,)]


def test_refused_writes_store_nothing(client, engine, token):
    token_id, plaintext = token
    body = {"verifications": {"unit": {"value": 1}}}
    for headers in ({}, {"Authorization": "Bearer cih_wrong"}, {"Authorization": plaintext}):
        response = client.post(URL.format(4242, 2), data=json.dumps(body), headers=headers)
        assert response.status_code == 401 and response.get_json()["error"]["field"] == \
            "Authorization"
    big = _post(client, plaintext, {"verifications": {"unit": {"value": 1,
                                                                "comment": "x" * 5000}}})
    assert big.status_code == 413
    revoke_token(engine, token_id)
    assert _post(client, plaintext, body).status_code == 401
    assert _stored(engine) == []
    assert rows(engine, "SELECT COUNT(*) FROM changes") == [(0,)]
    assert rows(engine, "SELECT COUNT(*) FROM ci_verifications") == [(0,)]


def test_non_ascii_digits_are_refused_not_crashed(client, engine, token):
    """'²' is str.isdigit() but no int(): it was a 500 (found by schemathesis)."""
    got = client.get(URL.format("%C2%B2", "1"))
    assert got.status_code in (400, 404) and got.get_json()["error"]["field"] == "change"
    _, plaintext = token
    posted = _post(client, plaintext, {"verifications": {"unit": {"value": 1}}}, "4242", "²")
    assert posted.status_code in (400, 404) and posted.get_json()["error"]["field"] in ("change", "revision")
    assert _stored(engine) == []


def test_post_to_a_malformed_change_is_400_not_500(client, engine, token):
    """'0' (or 600 zeros) is no change number: the POST answered 500 (issue 16,
    found by schemathesis's fuzzing phase in bench/security.py)."""
    _, plaintext = token
    for change in ("0", "0" * 600):
        posted = _post(client, plaintext, {"verifications": {"unit": {"value": 1}}}, change, "1")
        assert posted.status_code == 400 and posted.get_json()["error"]["field"] == "change"
    assert _stored(engine) == []
