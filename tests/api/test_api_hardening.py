"""Issue 16 defects 6 and 7: only http(s) links leave the server in feeds; the
pages carry CSP, nosniff and frame options; the API answers JSON everywhere."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from api_helpers import no_cache_config
from health_api.app import create_app
from health_api.api.feeds import safe_link
from streams import ingest, stream

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
