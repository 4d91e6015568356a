"""Constants and helpers shared by the API tests."""
from __future__ import annotations

import datetime as dt
import urllib.parse

from health_api.config import Config

END = dt.datetime(2026, 10, 4)
START = END - dt.timedelta(days=3)


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def no_cache_config(**extra) -> Config:
    """The app's configuration with its response cache off (tests read fresh rows)."""
    return Config(environ={"CI_HEALTH_CACHE_DISABLED": "1", **extra})


#: a valid value per parameter name, from the demo data the API fixtures hold
VALID = {"name": "gate-tempest-full", "build_name": "gate-tempest-full", "key": "build_name",
         "run_metadata_key": "build_name", "value": "gate-tempest-full", "status": "fail",
         "limit": "5", "project": "openstack/nova"}


def get_operations(client) -> list[tuple[str, list[dict], dict]]:
    """(path, parameters, responses by status text) of every GET operation of the
    OpenAPI document."""
    doc = client.get("/api/v1/openapi.json").get_json()
    return [(path, item["get"].get("parameters", []), item["get"]["responses"])
            for path, item in sorted(doc["paths"].items()) if "get" in item]


def valid_values(raw) -> dict[str, str]:
    """A valid value for each parameter name, from the rows of the ``raw`` fixture."""
    run = next(r for r in raw["runs"] if r["fails"])
    test_id = next(iter(raw["tests"].values()))
    job = run["meta"].get("build_name", VALID["name"])
    return {**VALID, "name": job, "build_name": job, "value": job, "run_id": run["uuid"],
            "test_id": test_id, "prefix": test_id.split(".")[0], "cluster_id": "0" * 16}


def operation_url(path: str, params: list[dict], values: dict[str, str]) -> str:
    """``path`` with its path parameters and the query parameters ``values`` holds."""
    for p in params:
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}",
                                urllib.parse.quote(values.get(p["name"], "x"), safe=""))
    query = {p["name"]: values[p["name"]] for p in params
             if p["in"] == "query" and p["name"] in values}
    return path + ("?" + urllib.parse.urlencode(query) if query else "")
