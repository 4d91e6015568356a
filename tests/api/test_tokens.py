"""Bearer tokens: stored hashed, bound to a CI system, revocable at once, and
checked by require_token before a write route reads its body."""
from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from health_api.api.auth import require_token
from health_api.api.db import write_transaction
from health_api.app import create_app
from health_api.db.models import collector_state
from health_api.tokens import create_token, list_tokens, revoke_token, verify_token

from api_helpers import no_cache_config
from streams import rows, run_cli


def test_tokens_are_stored_hashed_and_revocable(engine):
    token_id, plaintext = create_token(engine, "Acme CI", note="gate post job")
    assert plaintext.startswith("cih_") and len(plaintext) == 47
    stored = rows(engine, "SELECT token_hash, prefix, ci_system FROM ch_api_tokens")
    assert stored == [(hashlib.sha256(plaintext.encode()).hexdigest(), plaintext[:12], "Acme CI")]
    with engine.connect() as conn:
        assert verify_token(conn, plaintext).ci_system == "Acme CI"
        assert verify_token(conn, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
        assert verify_token(conn, "") is None
    [listed] = list_tokens(engine)
    assert listed["prefix"] == plaintext[:12] and plaintext not in json.dumps(listed, default=str)
    assert revoke_token(engine, token_id) is True
    assert revoke_token(engine, token_id) is False
    with engine.connect() as conn:
        assert verify_token(conn, plaintext) is None


def test_token_cli(db_url, engine):
    created = run_cli("token", "create", "--db", db_url, "--ci-system", "Acme CI")
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip()
    assert "not shown again" in created.stderr
    listed = run_cli("token", "list", "--db", db_url, "--json")
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["ci_system"] == "Acme CI" and row["revoked_at"] is None
    assert plaintext not in listed.stdout
    revoked = run_cli("token", "revoke", "--db", db_url, str(row["id"]))
    assert revoked.exit_code == 0 and revoked.stdout.strip() == f"token {row['id']} revoked"
    again = run_cli("token", "revoke", "--db", db_url, str(row["id"]))
    assert (again.exit_code, again.stderr.strip()) == (
        2, f"ci-health: error: no active token {row['id']}")
    empty = run_cli("token", "create", "--db", db_url, "--ci-system", "  ")
    assert empty.exit_code == 2
    assert empty.stderr.strip().startswith("ci-health: error: CI system name must be")
    assert rows(engine, "SELECT COUNT(*) FROM ch_api_tokens") == [(1,)]


@pytest.fixture
def write_client(db_url):
    """The real app with one token-protected write route that stores its body's length."""
    bp = Blueprint("probe", __name__)

    @bp.post("/probe-write")
    def probe_write():
        token = require_token()
        body = request.get_data()
        with write_transaction() as conn:
            conn.execute(collector_state.insert().values(
                key=f"probe-{token.ci_system}", value=str(len(body))))
        return jsonify({"ci_system": token.ci_system, "bytes": len(body)})

    app = create_app(db_url=db_url, config=no_cache_config(CI_HEALTH_API_MAX_BODY_BYTES="1000"))
    app.register_blueprint(bp)
    return app.test_client()


def _stored(engine):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(collector_state.c.key, collector_state.c.value))]


def test_write_route_needs_a_live_token(write_client, engine):
    token_id, plaintext = create_token(engine, "Acme CI")
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer cih_wrong"}, {"Authorization": plaintext}):
        response = write_client.post("/probe-write", data=b"x", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"]["field"] == "Authorization"
    assert _stored(engine) == []

    ok = write_client.post("/probe-write", data=b"abc",
                           headers={"Authorization": f"Bearer {plaintext}"})
    assert ok.status_code == 200 and ok.get_json() == {"ci_system": "Acme CI", "bytes": 3}
    assert _stored(engine) == [("probe-Acme CI", "3")]

    revoke_token(engine, token_id)
    refused = write_client.post("/probe-write", data=b"abcd",
                                headers={"Authorization": f"Bearer {plaintext}"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["message"] == "the token is unknown or has been revoked"
    assert _stored(engine) == [("probe-Acme CI", "3")]


def test_oversized_body_is_413_and_stores_nothing(write_client, engine):
    _, plaintext = create_token(engine, "Acme CI")
    response = write_client.post("/probe-write", data=b"x" * 1001,
                                 headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 413
    assert response.get_json()["error"]["message"]
    assert _stored(engine) == []
