"""Every field the OpenAPI document types as ``integer`` is a JSON integer in the
answer, on every engine: MariaDB's SUM() is a DECIMAL and a pandas column with no
row at all is float, and either used to leak out as ``4.0`` or ``0.0`` (counts of
``/runs/over_time``). Every GET operation is asked twice, over the demo data's
window and over a window with no run."""
from __future__ import annotations

import datetime as dt

from api_helpers import END, START, get_operations, iso, operation_url, valid_values

EMPTY = {"start": iso(END + dt.timedelta(days=30)), "stop": iso(END + dt.timedelta(days=31))}


def _types(schema: dict) -> set[str]:
    kind = schema.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


def float_where_integer(value, schema: dict, where: str = "$") -> list[str]:
    """The places in ``value`` where ``schema`` says integer and the JSON holds a
    float (``4.0``). Walks properties, additionalProperties, items and any/oneOf."""
    found = []
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += float_where_integer(value, alternative, where)
    types = _types(schema)
    if isinstance(value, float) and "integer" in types and "number" not in types:
        found.append(f"{where} = {value!r}")
    elif isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                found += float_where_integer(item, sub, f"{where}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += float_where_integer(item, schema["items"], f"{where}[{i}]")
    return found


def test_float_where_integer_finds_floats_only_where_the_schema_says_integer():
    schema = {"type": "object", "properties": {
        "n": {"type": "integer"}, "rate": {"type": ["number", "null"]},
        "rows": {"type": "array", "items": {"type": "object", "properties": {
            "count": {"type": ["integer", "null"]}}}}}}
    assert float_where_integer({"n": 3, "rate": 0.5, "rows": [{"count": None}]}, schema) == []
    assert float_where_integer({"n": 3.0, "rate": 1.0, "rows": [{"count": 2}, {"count": 0.0}]},
                               schema) == ["$.n = 3.0", "$.rows[1].count = 0.0"]


def test_every_integer_field_is_an_integer(client, raw):
    values = valid_values(raw)
    window = {"start": iso(START), "stop": iso(END)}
    asked, failures = 0, []
    for path, params, responses in get_operations(client):
        schema = responses.get("200", {}).get("content", {}).get("application/json", {})
        if "schema" not in schema:
            continue
        names = {p["name"] for p in params}
        for extra in (window, EMPTY) if {"start", "stop"} <= names else ({},):
            url = operation_url(path, params, {**values, **extra})
            r = client.get(url)
            if r.status_code != 200:  # a test's own route may 404 on the window with no run
                continue
            asked += 1
            failures += [f"{url}: {f}" for f in float_where_integer(r.get_json(),
                                                                     schema["schema"])[:3]]
    assert asked > 20
    assert not failures, "\n".join(failures[:30])
