"""Failure intelligence over the API on every engine: figures recomputed from
the raw rows, cluster labels through the token-protected PUT and the YAML
file, bad input, ``ci-health analyze`` and alerts to a real webhook."""
from __future__ import annotations

import http.server
import json
import threading
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa

from health_api.analytics.signatures import cluster_id, signature
from health_api.app import create_app
from health_api.config import Config
from health_api.db.session import make_engine
from health_api.insight.alerts import analyze_with_alerts
from health_api.insight.options import AlertOptions, InsightOptions
from health_api.tokens import create_token

from api_helpers import no_cache_config
from streams import run_cli

FAIL = {"fail", "uxsuccess"}
PASS = {"success", "xfail"}


def _expected_clusters(raw) -> Counter:
    return Counter(signature(raw["attachments"].get(r["id"])) for r in raw["results"]
                   if r["status"] in FAIL)


def _expected_evidence(raw) -> tuple[dict, set]:
    """Flaky evidence per test computed with plain Python, and the tests that
    failed 3+ times in one job (those may be in a failing spell: left out)."""
    runs = {r["id"]: r for r in raw["runs"]}
    by_change = defaultdict(set)
    for r in raw["runs"]:
        if "build_change" in r["meta"] and "build_patchset" in r["meta"]:
            by_change[(r["meta"]["build_change"], r["meta"]["build_patchset"])].add(r["id"])
    status = {(x["test_id"], x["run_id"]): x["status"] for x in raw["results"]}
    evidence, per_job = Counter(), Counter()
    for x in raw["results"]:
        if x["status"] not in FAIL:
            continue
        run = runs[x["run_id"]]
        per_job[(x["test_id"], run["meta"].get("build_name"))] += 1
        key = (run["meta"].get("build_change"), run["meta"].get("build_patchset"))
        if key not in by_change or (run["fails"] or 0) > 10:
            continue
        if any(status.get((x["test_id"], other)) in PASS for other in by_change[key] - {run["id"]}):
            evidence[raw["tests"][x["test_id"]]] += 1
    spells = {raw["tests"][t] for (t, _job), n in per_job.items() if n >= 3}
    return evidence, spells


def test_clusters_and_flaky_evidence_match_the_raw_rows(client, raw):
    clusters = client.get("/api/v1/clusters?limit=1000").get_json()
    expected = _expected_clusters(raw)
    expected.pop("", None)
    assert {c["signature"]: c["failures"] for c in clusters["clusters"]} == dict(expected)
    assert all(c["id"] == cluster_id(c["signature"]) for c in clusters["clusters"])
    one = clusters["clusters"][0]
    detail = client.get(f"/api/v1/clusters/{one['id']}").get_json()
    assert detail["failures"] == one["failures"] and detail["examples"]
    assert sum(p["failures"] for p in detail["per_day"]) == one["failures"]

    evidence, spells = _expected_evidence(raw)
    served = client.get("/api/v1/flaky-tests?limit=5000").get_json()
    got = {t["test_id"]: t["evidence"] for t in served["tests"]}
    assert {k: v for k, v in got.items() if k not in spells} == \
        {k: v for k, v in evidence.items() if k not in spells}
    for t in served["tests"]:
        assert t["ci_low"] <= t["failure_rate"] <= t["ci_high"]
        assert t["flaky"] == (t["evidence"] >= 1 and t["ci_low"] >= 0.005)


def test_every_insight_endpoint_answers_and_rejects_bad_input(client):
    for path in ("/api/v1/broken", "/api/v1/explained", "/api/v1/suspects",
                 "/api/v1/flaky-jobs", "/api/v1/alerts", "/api/v1/alerts/atom",
                 "/api/v1/flaky-tests?sort=flip_rate&flaky_only=true",
                 "/api/v1/clusters?new_only=true"):
        assert client.get(path).status_code == 200, path
    explained = client.get("/api/v1/explained").get_json()
    assert explained["failed_runs"] == sum(p["failed_runs"] for p in explained["points"])
    assert explained["unexplained_total"] == explained["failed_runs"] - explained["explained"]
    for path, field in (("/api/v1/flaky-tests?sort=nope", "sort"),
                        ("/api/v1/flaky-tests?limit=0", "limit"),
                        ("/api/v1/clusters?new_only=maybe", "new_only"),
                        ("/api/v1/clusters/XYZ0123456789abc", "cluster_id"),
                        ("/api/v1/broken?kind=car", "kind"),
                        ("/api/v1/explained?offset=-1", "offset")):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.get_json()["error"]["field"] == field
    for path, field in (("/api/v1/clusters/0123456789abcdef", "cluster_id"),
                        ("/api/v1/suspects?job=no-such-job", "job")):
        response = client.get(path)
        assert response.status_code == 404 and response.get_json()["error"]["field"] == field


def _labels(url: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = [tuple(r) for r in conn.execute(sa.text(
            "SELECT cluster_id, label, bug_url, updated_by FROM ch_cluster_labels"))]
    engine.dispose()
    return out


def test_cluster_label_needs_a_token_and_stores_nothing_on_bad_input(client, demo_url):
    engine = make_engine(demo_url)
    _token_id, token = create_token(engine, "triage-bot")
    engine.dispose()
    target = client.get("/api/v1/clusters").get_json()["clusters"][0]["id"]
    url = f"/api/v1/clusters/{target}/label"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        assert client.put(url, json={"label": "x"}).status_code == 401
        for body, field in (({"label": ""}, "label"), ({"label": 3}, "label"),
                            ({"label": "ok", "bug_url": "javascript:alert(1)"}, "bug_url"),
                            ([1, 2], "body")):
            response = client.put(url, json=body, headers=auth)
            assert response.status_code == 400 and response.get_json()["error"]["field"] == field
        bad_id = client.put("/api/v1/clusters/nothex/label", json={"label": "x"}, headers=auth)
        assert bad_id.status_code == 400
        missing = client.put("/api/v1/clusters/0123456789abcdef/label", json={"label": "x"},
                             headers=auth)
        assert missing.status_code == 404
        assert _labels(demo_url) == []
        ok = client.put(url, json={"label": "mirror down", "bug_url": "https://bugs.example/1"},
                        headers=auth)
        assert ok.status_code == 200 and ok.get_json()["updated_by"] == "triage-bot"
        again = client.put(url, json={"label": "mirror down <b>", "bug_url": None}, headers=auth)
        assert again.status_code == 200
        assert _labels(demo_url) == [(target, "mirror down <b>", None, "triage-bot")]
        shown = client.get(f"/api/v1/clusters/{target}").get_json()
        assert shown["label"] == "mirror down <b>" and shown["bug_url"] is None
    finally:
        engine = make_engine(demo_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM ch_cluster_labels"))
        engine.dispose()


def test_labels_from_the_yaml_file(demo_url, tmp_path, client):
    target = client.get("/api/v1/clusters").get_json()["clusters"][0]["id"]
    labels = tmp_path / "cluster-labels.yaml"
    labels.write_text(f"- cluster: '{target}'\n  label: infra mirror\n"
                      f"  bug_url: https://bugs.example/2\n")
    app = create_app(db_url=demo_url, config=Config(environ={
        "CI_HEALTH_CACHE_DISABLED": "1", "CI_HEALTH_INSIGHT_LABELS_FILE": str(labels)}))
    shown = app.test_client().get(f"/api/v1/clusters/{target}").get_json()
    assert (shown["label"], shown["bug_url"]) == ("infra mirror", "https://bugs.example/2")


@pytest.mark.parametrize("text, says", [
    ("- cluster: [unclosed\n", "not valid YAML"),
    ("cluster: 0123456789abcdef\n", "expected a list"),
    ("- cluster: nothex\n  label: x\n", "entry 1 needs cluster"),
])
def test_a_broken_labels_file_is_a_clear_json_error(demo_url, tmp_path, text, says):
    labels = tmp_path / "cluster-labels.yaml"
    labels.write_text(text)
    app = create_app(db_url=demo_url, config=Config(environ={
        "CI_HEALTH_CACHE_DISABLED": "1", "CI_HEALTH_INSIGHT_LABELS_FILE": str(labels)}))
    r = app.test_client().get("/api/v1/clusters")
    assert r.status_code == 500 and r.is_json
    message = r.get_json()["error"]["message"]
    assert message.startswith("server configuration error: ") and says in message, message


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_analyze_cli_and_alerts_fire_once_per_crossing(demo_url, client):
    result = run_cli("analyze", "--db", demo_url, "--no-alerts")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kinds"] == ["flaky_tests", "clusters", "broken",
                                                  "explained", "suspects", "flaky_jobs",
                                                  "test_ranking"]
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.received = []
    engine = make_engine(demo_url)
    options = AlertOptions(webhook_url=f"http://127.0.0.1:{server.server_port}/hook",
                           window_hours=24 * 5, min_runs=3, raise_rate=0.2, clear_rate=0.1)
    try:
        first = analyze_with_alerts(engine, InsightOptions(), options)
        assert first["alerts"]["fired"] >= 1
        assert first["alerts"]["delivered"] == first["alerts"]["fired"]
        kinds = Counter(a["kind"] for a in _Hook.received)
        assert kinds["job_failure_rate"] >= 1 and kinds["new_cluster"] >= 1
        second = analyze_with_alerts(engine, InsightOptions(), options)
        assert second["alerts"] == {"fired": 0, "delivered": 0, "undelivered": 0}
        assert len(_Hook.received) == first["alerts"]["fired"]
        feed = client.get("/api/v1/alerts/atom")
        assert feed.data.count(b"<entry>") == first["alerts"]["fired"]
    finally:
        server.shutdown()
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM ch_alerts"))
            conn.execute(sa.text("DELETE FROM ch_alert_state"))
        engine.dispose()


def _all_ranked(client, sort: str) -> list[dict]:
    out, offset = [], 0
    while True:
        page = client.get(f"/api/v1/test-ranking?sort={sort}&limit=500&offset={offset}")
        assert page.status_code == 200
        body = page.get_json()
        out += body["tests"]
        offset += 500
        if offset >= body["total"]:
            assert len(out) == body["total"]
            return out


def test_test_ranking_ranks_every_test(client, raw):
    runs = {r["id"]: r for r in raw["runs"]}
    counts = defaultdict(lambda: [0, 0, 0])  # success, failure, impact
    for x in raw["results"]:
        name = raw["tests"][x["test_id"]]
        counts[name]  # every test with a result is ranked, skips too
        if x["status"] in PASS:
            counts[name][0] += 1
        elif x["status"] in FAIL:
            counts[name][1] += 1
            counts[name][2] += runs[x["run_id"]]["fails"] == 1
    flaky = {t["test_id"]: t for t in
             client.get("/api/v1/flaky-tests?limit=5000").get_json()["tests"]}
    for sort in ("failure_rate", "flakiness", "impact"):
        ranked = _all_ranked(client, sort)
        assert {t["test_id"]: [t["success"], t["failure"], t["impact"]] for t in ranked} == \
            dict(counts)
        for t in ranked:
            assert t["evidence"] == flaky.get(t["test_id"], {}).get("evidence", 0)
            assert t["flaky"] == flaky.get(t["test_id"], {}).get("flaky", False)
        keys = {"failure_rate": lambda t: (t["failure_rate"] if t["n"] else -1, t["failure"]),
                "flakiness": lambda t: (t["flaky"], t["evidence"]),
                "impact": lambda t: (t["impact"], t["failure"])}[sort]
        assert [keys(t) for t in ranked] == sorted((keys(t) for t in ranked), reverse=True)
    assert _all_ranked(client, "impact")[0]["impact"] == max(c[2] for c in counts.values()) > 0
    some = next(iter(counts))[:20]
    found = client.get(f"/api/v1/test-ranking?q={some}&sort=test_id&limit=500").get_json()
    assert [t["test_id"] for t in found["tests"]] == sorted(n for n in counts if some in n)
    for path, field in (("/api/v1/test-ranking?sort=nope", "sort"),
                        ("/api/v1/test-ranking?limit=0", "limit"),
                        ("/api/v1/test-ranking?offset=-1", "offset"),
                        ("/api/v1/test-ranking?q=" + "x" * 300, "q")):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.get_json()["error"]["field"] == field
