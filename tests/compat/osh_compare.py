"""Comparing ci-health's answer to a route with OpenStack-Health's recorded one: keys,
shapes, list order (where it orders), timestamp formats, numbers to 1e-6 relative."""
from __future__ import annotations

import math
import re

_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{6}$")


def seconds_only(value):
    """A golden answer as OpenStack-Health gives it on MySQL/MariaDB, whose DATETIME
    columns (subunit2sql's schema, and ci-health's there) keep whole seconds."""
    if isinstance(value, dict):
        return {seconds_only(k): seconds_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [seconds_only(v) for v in value]
    if isinstance(value, str):
        return _FRACTION.sub(r"\1", value)
    return value


def mysql_golden(route: str, body):
    """The golden answer as OpenStack-Health gives it on MySQL/MariaDB: whole seconds
    where the time is a runs.run_at; /test_runs/<id> keys its data by test_runs start
    times, whose microseconds are kept there, so only its failed_runs lose them."""
    if route.startswith("/test_runs/") and isinstance(body, dict) and isinstance(
            body.get("failed_runs"), list):
        return {**body, "failed_runs": seconds_only(body["failed_runs"])}
    return seconds_only(body)


def differences(got, want, path="", out=None, limit=5, rel=1e-6) -> list[str]:
    """Where got differs from want (at most ``limit`` places)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(want, dict) and isinstance(got, dict):
        # a NaN of OpenStack-Health's (invalid JSON) is answered null, or left out where
        # its client would draw a null (the run-time series of /runs/key/<k>/<v>)
        want = {k: v for k, v in want.items()
                if not (k not in got and isinstance(v, float) and math.isnan(v))}
        if set(got) != set(want):
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            out.append(f"{path}: keys missing {missing[:5]} extra {extra[:5]}")
        for k in want:
            if k in got:
                differences(got[k], want[k], f"{path}/{k}", out, limit, rel)
    elif isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            out.append(f"{path}: {len(got)} items, OpenStack-Health {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            differences(g, w, f"{path}[{i}]", out, limit, rel)
    elif isinstance(want, float) and math.isnan(want):
        if got is not None:  # OpenStack-Health wrote NaN (invalid JSON): ci-health null
            out.append(f"{path}: {got!r} != null (OpenStack-Health: NaN)")
    elif isinstance(want, float) or (isinstance(got, float) and isinstance(want, int)
                                      and not isinstance(want, bool)):
        if not (isinstance(got, (int, float)) and not isinstance(got, bool)
                and math.isclose(got, want, rel_tol=rel, abs_tol=1e-9)):
            out.append(f"{path}: {got!r} != {want!r}")
    elif got != want or type(got) is not type(want):
        out.append(f"{path}: {got!r} != {want!r}")
    return out


def compare(app, route: str, want: dict, *, unordered=(), unordered_rows=None,
            float32: bool = False) -> list[str]:
    """Where ci-health's answer to ``route`` differs from ``want`` ({status, body}).
    unordered: routes whose list OpenStack-Health left in set or database order
    (compared sorted); unordered_rows: {route: field} whose rows are (sorted by id);
    float32: recorded on MariaDB, whose FLOAT columns are single precision."""
    response = app.test_client().get(route)
    if response.status_code != want["status"]:
        return [f"status {response.status_code} != {want['status']}: "
                f"{response.get_data()[:300]!r}"]
    got, want_body = response.get_json(), want["body"]
    if route in unordered:
        got, want_body = sorted(got), sorted(want_body)
    elif route in (unordered_rows or {}):
        field = unordered_rows[route]
        got = {field: sorted(got[field], key=lambda r: r["id"])}
        want_body = {field: sorted(want_body[field], key=lambda r: r["id"])}
    problems = differences(got, want_body, rel=1e-5 if float32 else 1e-6)
    if problems and app.config["OSH_ENGINE"] == "mysql":
        # what OpenStack-Health answers there: runs.run_at in whole seconds (test_runs
        # keep their microseconds in columns of their own), and runs.run_time a FLOAT
        # (single precision, about 6 significant digits) in subunit2sql's schema
        problems = differences(got, mysql_golden(route, want_body), rel=1e-5)
    return problems
