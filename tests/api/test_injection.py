"""Issue 16, "Security": injection strings in every parameter of every GET
operation of the OpenAPI document (path and query), one parameter at a time
with the others valid, on every engine: each answer is a documented status
below 500 (a 400 names the parameter), nothing takes long (no injected sleep
runs), the stored data is unchanged, and no string comes back unescaped in
an XML feed."""
from __future__ import annotations

import time

import sqlalchemy as sa

from health_api.db.session import make_engine

from api_helpers import get_operations, operation_url, valid_values

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE runs; --",
    "x') UNION SELECT version(), NULL --",
    "'; SELECT pg_sleep(3); --",
    "1 AND SLEEP(3)",
    "<script>alert(1)</script>",
    "../../../../etc/passwd%' OR 1=1 -- ${jndi:ldap://127.0.0.1/a}{{7*7}}\\x27'\"`",
]
def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar()
               for t in ("runs", "tests", "test_runs", "run_metadata")}
    engine.dispose()
    return out


def test_injection_strings_in_every_parameter(client, raw, demo_url):
    before = _counts(demo_url)
    fill = valid_values(raw)
    sent, refused, failures = 0, 0, []
    for path, params, documented in get_operations(client):
        required = {p["name"] for p in params if p["in"] == "path" or p.get("required")}
        base = {k: v for k, v in fill.items() if k in required}
        # a 400 is the injected parameter's only when the valid request is not one
        base_status = client.get(operation_url(path, params, base)).status_code
        for param in params:
            for attack in INJECTIONS:
                values = {**base, param["name"]: attack}
                url = operation_url(path, params, values)
                started = time.monotonic()
                r = client.get(url)
                took = time.monotonic() - started
                sent += 1
                where = f"{url} -> {r.status_code}"
                if r.status_code >= 500 or str(r.status_code) not in documented:
                    failures.append(f"{where}: undocumented or server error {r.data[:200]!r}")
                elif took > 2.5:
                    failures.append(f"{where}: took {took:.1f} s")
                elif r.status_code == 400:
                    refused += 1
                    field = r.get_json()["error"]["field"]
                    if base_status != 400 and param["in"] == "query" and field != param["name"]:
                        failures.append(f"{where}: 400 names {field!r}, not {param['name']!r}")
                elif "xml" in (r.content_type or "") and b"<script>" in r.data:
                    failures.append(f"{where}: unescaped markup in the feed")
    assert not failures, "\n".join(failures[:20])
    assert _counts(demo_url) == before
    print(f"injection: {sent} requests, {refused} refused 400, the rest answered normally")
