"""Issue 16 defects 6 and 7: only http(s) links leave the server in feeds; the
pages carry CSP, nosniff and frame options; the API answers JSON everywhere."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from api_helpers import no_cache_config
from health_api.app import create_app
from health_api.api.feeds import safe_link
from streams import ingest, start_server, stream

ATOM = "{http://www.w3.org/2005/Atom}"


def test_feeds_carry_only_http_links(db_url):
    ingest(db_url, stream(("t.a", "fail")), "--run-meta", "build_name=evil",
           "--artifacts", "javascript:alert(document.cookie)")
    ingest(db_url, stream(("t.a", "fail")), "--run-meta", "build_name=evil",
           "--artifacts", "https://logs.example.org/1/")
    client = create_app(db_url=db_url, config=no_cache_config()).test_client()
    atom = client.get("/api/v1/feeds/failures/atom?key=build_name&value=evil")
    rss = client.get("/api/v1/feeds/failures/rss?key=build_name&value=evil")
    compat = client.get("/runs/key/build_name/evil/recent/rss")
    for response in (atom, rss, compat):
        assert response.status_code == 200
        assert b"javascript" not in response.data
    entries = ET.fromstring(atom.data).findall(f"{ATOM}entry")
    assert len(entries) == 2
    links = [link.get("href") for e in entries for link in e.findall(f"{ATOM}link")]
    assert links == ["https://logs.example.org/1/"]
    items = ET.fromstring(rss.data).findall("channel/item")
    assert [i.findtext("link") for i in items if i.find("link") is not None] == [
        "https://logs.example.org/1/"]


def test_safe_link():
    assert safe_link("http://x.org/a?b") == "http://x.org/a?b"
    assert safe_link(" HTTPS://x.org/ ") == "HTTPS://x.org/"
    for bad in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>",
                "//x.org/a", "/relative", "http:///nohost", "", None, "http://[::1"):
        assert safe_link(bad) is None, bad


def test_pages_send_security_headers(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    api = client.get("/api/v1/metadata/keys")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_gunicorn_own_errors_are_json(db_url, tmp_path):
    """414 and 431 come from gunicorn before the app runs: JSON all the same,
    and the OpenAPI document lists them."""
    import json
    import urllib.error
    import urllib.request

    proc, base = start_server(db_url, tmp_path / "serve.log")
    try:
        for url, headers, status, field in [
                (base + "/api/v1/runs?q=" + "x" * 9000, {}, 414, "url"),
                (base + "/api/v1/runs", {"X-Big": "y" * 9000}, 431, "headers")]:
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20)
            error = caught.value
            assert error.code == status
            assert error.headers["Content-Type"] == "application/json"
            body = json.loads(error.read())
            assert body["error"]["field"] == field and body["error"]["message"]
        with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=20) as response:
            document = json.loads(response.read())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for path in document["paths"].values():
        for operation in path.values():
            assert {"414", "431"} <= set(operation["responses"])
