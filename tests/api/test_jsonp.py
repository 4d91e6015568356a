"""JSONP on every openstack-health route (its AngularJS client fetches them all with
$http.jsonp), never on v1; CORS for v1 reads when configured."""
from __future__ import annotations

import json

import pytest

from health_api.api.cors import parse_origins
from health_api.app import create_app
from health_api.compat import jsonp
from health_api.config import Config, ConfigError

from api_helpers import END, START, iso, no_cache_config

CB = "angular.callbacks._0"
WINDOW = f"start_date={iso(START)}&stop_date={iso(END)}"


@pytest.fixture(scope="module")
def compat_urls(app):
    """One URL per openstack-health JSON route, its path parameters taken from the data."""
    c = app.test_client()
    run = c.get(f"/runs?{WINDOW}").get_json()["runs"][0]["uuid"]
    test_id = c.get("/tests").get_json()["tests"][0]["test_id"]
    detail = c.get(f"/api/v1/runs/{run}").get_json()
    job = detail["metadata"]["build_name"] if "metadata" in detail else detail["build_name"]
    values = {"key": "build_name", "run_metadata_key": "build_name", "value": job,
              "build_name": job, "run_id": run, "test_id": test_id, "status": "fail",
              "prefix": test_id.split(".")[0]}
    urls = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.startswith("compat.") and view._spec.jsonp:
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<{rule._converters[arg].__class__.__name__}:{arg}>", "")
                path = path.replace(f"<string:{arg}>", values[arg]).replace(
                    f"<path:{arg}>", values[arg])
            if "start_date" in {p.name for p in view._spec.params}:
                path += "?" + WINDOW + "&datetime_resolution=hour"
            urls.append(path)
    return urls


def test_every_compat_json_route_answers_jsonp(client, compat_urls):
    assert len(compat_urls) == 16
    for url in compat_urls:
        plain = client.get(url)
        assert plain.status_code == 200, (url, plain.get_data()[:200])
        assert plain.mimetype == "application/json"
        sep = "&" if "?" in url else "?"
        wrapped = client.get(f"{url}{sep}callback={CB}")
        assert wrapped.status_code == 200, url
        assert wrapped.mimetype == "application/javascript", url
        assert wrapped.headers["X-Content-Type-Options"] == "nosniff"
        body = wrapped.get_data()
        assert body == CB.encode() + b"(" + plain.get_data() + b");", url
        json.loads(body[len(CB) + 1:-2])


def test_rss_and_v1_stay_unwrapped(client, compat_urls):
    v1 = client.get(f"/api/v1/runs?callback={CB}")
    assert v1.status_code == 200 and v1.mimetype == "application/json"
    assert v1.get_data().startswith(b"{")
    keys = client.get(f"/api/v1/metadata/keys?callback=bad(")  # v1 ignores the name
    assert keys.status_code == 200 and keys.mimetype == "application/json"


@pytest.mark.parametrize("name", ["a(b)", "1abc", "a..b", "a.", ".a", "a-b", "<script>",
                                  "alert(1);x", "é", "a b", "x" * (jsonp.MAX_LENGTH + 1), "a[0]"])
def test_bad_callback_is_a_plain_400(client, name):
    response = client.get("/runs/metadata/keys", query_string={"callback": name})
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["field"] == "callback"
    assert ("JavaScript identifier path" in error["message"]
            or f"longer than {jsonp.MAX_LENGTH}" in error["message"])


def test_callback_twice_and_good_names(client):
    twice = client.get("/runs/metadata/keys?callback=a&callback=b")
    assert twice.status_code == 400
    assert twice.get_json()["error"] == {"message": "callback given more than once",
                                         "field": "callback"}
    for name in ("cb", "$", "_x9", "jQuery1234_5678", "a.$b.c_1", "x" * jsonp.MAX_LENGTH):
        ok = client.get("/runs/metadata/keys", query_string={"callback": name})
        assert ok.status_code == 200 and ok.get_data().startswith(name.encode() + b"(")


def test_errors_are_wrapped_with_their_status(client):
    response = client.get(f"/runs/group_by/no-such-key?callback={CB}")
    assert response.status_code == 400
    assert response.mimetype == "application/javascript"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data()
    assert body.startswith(CB.encode() + b"(") and body.endswith(b");")
    error = json.loads(body[len(CB) + 1:-2])["error"]
    assert error["field"] == "key" and "no-such-key" in error["message"]
    bad_param = client.get(f"/runs/group_by/build_name?datetime_resolution=week&callback=cb")
    assert bad_param.status_code == 400
    assert json.loads(bad_param.get_data()[3:-2])["error"]["field"] == "datetime_resolution"
    missing = client.get("/run/no-such-run/test_runs?callback=cb")
    assert missing.status_code == 404 and missing.get_data().startswith(b"cb({\"error\"")


def test_etag_and_cache_key_include_the_callback(demo_url):
    cached = create_app(db_url=demo_url, config=Config(environ={})).test_client()
    first = cached.get("/runs/metadata/keys?callback=one")
    second = cached.get("/runs/metadata/keys?callback=two")
    plain = cached.get("/runs/metadata/keys")
    assert first.get_data().startswith(b"one(") and second.get_data().startswith(b"two(")
    assert plain.get_data().startswith(b"[")
    assert len({first.headers["ETag"], second.headers["ETag"], plain.headers["ETag"]}) == 3
    again = cached.get("/runs/metadata/keys?callback=one",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = cached.get("/runs/metadata/keys?callback=two",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.get_data() == second.get_data()


def test_cors_for_v1_reads_only(demo_url):
    origin = "https://dash.example.org"
    app = create_app(db_url=demo_url, config=no_cache_config(
        CI_HEALTH_API_CORS_ORIGINS=f"{origin}, http://localhost:3000"))
    c = app.test_client()
    ok = c.get("/api/v1/metadata/keys", headers={"Origin": origin})
    assert ok.headers["Access-Control-Allow-Origin"] == origin
    assert "ETag" in ok.headers["Access-Control-Expose-Headers"]
    assert "Origin" in ok.headers["Vary"]
    stranger = c.get("/api/v1/metadata/keys", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    compat = c.get("/runs/metadata/keys", headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in compat.headers
    preflight = c.options("/api/v1/metadata/keys", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"})
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    write = c.options("/api/v1/metadata/keys", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in write.headers
    anyone = create_app(db_url=demo_url, config=no_cache_config(
        CI_HEALTH_API_CORS_ORIGINS="*")).test_client()
    assert anyone.get("/api/v1/runs", headers={"Origin": "https://a.example"}).headers[
        "Access-Control-Allow-Origin"] == "*"
    off = create_app(db_url=demo_url, config=no_cache_config()).test_client()
    assert "Access-Control-Allow-Origin" not in off.get(
        "/api/v1/runs", headers={"Origin": origin}).headers


def test_cors_origins_config_errors():
    assert parse_origins("") is None
    assert parse_origins(" https://a.example/ ,http://b:8080") == {"https://a.example",
                                                                  "http://b:8080"}
    with pytest.raises(ConfigError, match=r"\[api\] cors_origins: 'a.example' is not an origin"):
        parse_origins("a.example")
