"""The SQL of openstack-health's day parts (``ch_osh_test_daily``, see
health_api.compat.rollup): the parts of a set of runs' results, as the rebuild,
the catch-up, expire and the route's partial days read them, and of one run, as
the writer adds it. Text only: no connection here."""
from __future__ import annotations

from .. import rules
from ..ingest.rollup_sql import _DAY, _DURATION as _DAILY_DURATION

#: the day of a result's start time (the bucket of datetime_resolution=day)
_START_DAY = {
    "postgresql": "CAST(tr.start_time AS DATE)",
    "mysql": "DATE(tr.start_time)",
    "sqlite": "date(tr.start_time)",
}
#: a result's duration as queries.common.duration_seconds computes it; on MySQL divided
#: by a double (1e6), not by 1000000.0, a DECIMAL quotient cut to 4 places there
#: (div_precision_increment): 0.8248 for 0.824782; on PostgreSQL whole seconds plus the
#: microsecond columns too, not the timestamps' difference, which differs where the
#: timestamps were stored to the second (bench/scale_store.py: 1.0 for 1.037) -- the
#: whole seconds as the difference of the floored epochs and the microseconds divided
#: as a double: date_trunc/interval arithmetic and a numeric quotient made this
#: expression 0.9 s of a gate day's 900,000 results, this form 0.15 s
_MICROS = "(COALESCE(tr.stop_time_microsecond, 0) - COALESCE(tr.start_time_microsecond, 0))"
_DURATION = {**_DAILY_DURATION,
             "mysql": f"TIMESTAMPDIFF(SECOND, tr.start_time, tr.stop_time) + {_MICROS} / 1e6",
             "postgresql": "floor(date_part('epoch', tr.stop_time))"
                           " - floor(date_part('epoch', tr.start_time))"
                           f" + CAST({_MICROS} AS DOUBLE PRECISION) / 1000000"}


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


#: openstack-health's own status classes (test_run_aggregator.Status): not ci-health's
#: table, as its answers are what this wing reproduces; anything else is a skip
OSH_PASS = frozenset({"success", "xfail"})
OSH_FAIL = frozenset({"fail", "unxsuccess"})
_PASS = _in(OSH_PASS)
_FAIL = _in(OSH_FAIL)
#: a result of test_runs tr that openstack-health counts as a pass / a fail
_PASSED = f"tr.status IN ({_PASS})"
_FAILED = f"tr.status IN ({_FAIL})"


def _keys_sql(kind: str, runs_where: str) -> str:
    """The runs ``runs_where`` selects (conditions on runs r and the build_name row b),
    once per job they are under (every build_name row of a run, as openstack-health's
    join put it), with their run day and an integer naming the (job, run day) pair:
    the results are grouped on it and not on the job's text, which PostgreSQL hashes
    and compares far more slowly, row by row."""
    return (f"SELECT r.id AS run_id, b.value AS build_name, {_DAY[kind]} AS day,"
            f" DENSE_RANK() OVER (ORDER BY b.value, {_DAY[kind]}) AS gk"
            f" FROM runs r JOIN run_metadata b ON b.run_id = r.id"
            f" AND b.key = '{rules.BUILD_NAME_KEY}' WHERE {runs_where}")


def _results_sql(kind: str, runs_where: str, results_where: str) -> str:
    """The results of those runs that ``results_where`` (conditions on test_runs tr)
    keeps, with their part's key and what the parts sum, classified once a result:
    pass and fail flags, the duration and the id of a pass (NULL for the others)."""
    source = f"({_keys_sql(kind, runs_where)})"
    return (f"SELECT k.gk, {_START_DAY[kind]} AS start_day, tr.test_id, tr.id,"
            f" CASE WHEN {_PASSED} THEN 1 ELSE 0 END AS passed,"
            f" CASE WHEN {_FAILED} THEN 1 ELSE 0 END AS failed,"
            f" CASE WHEN {_PASSED} THEN {_DURATION[kind]} END AS took,"
            f" CASE WHEN {_PASSED} THEN tr.id END AS pass_id"
            f" FROM test_runs tr JOIN {source} k ON k.run_id = tr.run_id"
            f" WHERE tr.start_time IS NOT NULL AND tr.test_id IS NOT NULL AND {results_where}")


#: the parts' primary-key order, for the inserts (left to right along the B-tree)
_KEY_ORDER = " ORDER BY k.build_name, a.start_day, a.test_id, k.day"


def _parts_sql(kind: str, runs_where: str, results_where: str = "1 = 1") -> str:
    """The parts (COLUMNS, in order) of the results of the runs ``runs_where`` selects
    (conditions on runs r and the build_name row b) that ``results_where`` keeps
    (conditions on test_runs tr), per job, start day, test and run day; the last
    select's aliases are ``a`` (the part) and ``k`` (its job and run day).

    A part's trailing sum needs its last other (the greatest id of a result that is
    not a pass) before it can sum the passes after it. SQLite and MariaDB take it
    from a window over the results (they join derived tables by nested loops: a
    100,000-test ingest took 50 s); PostgreSQL from the parts themselves
    (``_parts_sql_pg``)."""
    if kind == "postgresql":
        return _parts_sql_pg(runs_where, results_where)
    group = "x.gk, x.start_day, x.test_id"
    results = _results_sql(kind, runs_where, results_where)
    source = (f"(SELECT y.*, MAX(CASE WHEN y.passed = 1 THEN NULL ELSE y.id END) OVER ("
              f"PARTITION BY y.gk, y.start_day, y.test_id) AS lo FROM ({results}) y) x")
    aggregates = (" SUM(x.passed) AS passes, SUM(x.failed) AS fails,"
                  " COUNT(*) - SUM(x.passed) - SUM(x.failed) AS others,"
                  " COALESCE(SUM(x.took), 0) AS pass_sum,"
                  " COALESCE(SUM(CASE WHEN x.lo IS NULL OR x.id > x.lo THEN x.took END), 0)"
                  " AS trail_sum, MAX(x.lo) AS lo, MIN(x.pass_id) AS min_pass,"
                  " MAX(x.pass_id) AS max_pass")
    return (
        "SELECT k.build_name, a.start_day, a.test_id, k.day, a.passes, a.fails, a.others,"
        " a.pass_sum, a.trail_sum, a.lo, a.min_pass, a.max_pass, 0 "
        f"FROM (SELECT {group},{aggregates} FROM {source} GROUP BY {group}) a"
        f" JOIN (SELECT DISTINCT gk, build_name, day FROM ({_keys_sql(kind, runs_where)}) kk) k"
        " ON k.gk = a.gk")


def _parts_sql_pg(runs_where: str, results_where: str) -> str:
    """``_parts_sql`` on PostgreSQL, in one pass over the results: each part's counts,
    pass sum, last other and first and last pass. Only a part whose last other lies
    between its first and last pass ("mixed": 3,764 of a gate day's 45,000) reads its
    passes after the last other again, by (test, run) through uq_test_runs; for the
    others the trailing sum is the pass sum (no other after a pass) or 0 (no pass
    after the last other). A grouped second read of the others joined back by key
    (the form before) cost a gate day's 900,000 results 1.57 s of server CPU, this
    one 1.30 s (medians of 6, same day and session), with answers equal to the bit
    there (a mixed part's sum may add its values in another order than the scan did:
    the tests compare to 1e-9, as for the parts the writer combines)."""
    kind = "postgresql"
    start_day, took = _START_DAY[kind], _DURATION[kind]
    return (
        f"WITH rk AS MATERIALIZED ({_keys_sql(kind, runs_where)}),"
        f" pa AS MATERIALIZED (SELECT k.gk, {start_day} AS start_day, tr.test_id,"
        f" SUM(CASE WHEN {_PASSED} THEN 1 ELSE 0 END) AS passes,"
        f" SUM(CASE WHEN {_FAILED} THEN 1 ELSE 0 END) AS fails, COUNT(*) AS n,"
        f" COALESCE(SUM(CASE WHEN {_PASSED} THEN {took} END), 0) AS pass_sum,"
        f" MAX(CASE WHEN {_PASSED} THEN NULL ELSE tr.id END) AS lo,"
        f" MIN(CASE WHEN {_PASSED} THEN tr.id END) AS min_pass,"
        f" MAX(CASE WHEN {_PASSED} THEN tr.id END) AS max_pass"
        " FROM test_runs tr JOIN rk k ON k.run_id = tr.run_id"
        f" WHERE tr.start_time IS NOT NULL AND tr.test_id IS NOT NULL AND {results_where}"
        f" GROUP BY k.gk, {start_day}, tr.test_id),"
        " gr AS MATERIALIZED (SELECT gk, array_agg(run_id) AS runs FROM rk GROUP BY gk),"
        " mixed AS (SELECT a.gk, a.start_day, a.test_id, s.trail"
        " FROM pa a JOIN gr g ON g.gk = a.gk CROSS JOIN LATERAL (SELECT SUM("
        f"{took}) AS trail FROM test_runs tr WHERE tr.test_id = a.test_id"
        f" AND tr.run_id = ANY(g.runs) AND tr.id > a.lo AND {_PASSED}"
        f" AND {start_day} = a.start_day AND {results_where}) s"
        " WHERE a.lo > a.min_pass AND a.lo < a.max_pass) "
        "SELECT k.build_name, a.start_day, a.test_id, k.day, a.passes, a.fails,"
        " a.n - a.passes - a.fails, a.pass_sum,"
        " CASE WHEN a.lo IS NULL OR a.lo < a.min_pass THEN a.pass_sum"
        " WHEN a.min_pass IS NULL OR a.lo > a.max_pass THEN 0.0 ELSE COALESCE(m.trail, 0.0) END,"
        " a.lo, a.min_pass, a.max_pass, 0 "
        "FROM pa a JOIN (SELECT DISTINCT gk, build_name, day FROM rk) k ON k.gk = a.gk"
        " LEFT JOIN mixed m ON m.gk = a.gk AND m.start_day = a.start_day"
        " AND m.test_id = a.test_id")


def _run_parts_sql(kind: str) -> str:
    """``_parts_sql`` of one run (``:run_id``; the writer's), in primary-key order: a
    test has one result a run (subunit2sql's unique (test_id, run_id)), so each part
    holds that one result -- under each build_name row of the run -- and needs no
    last other to trail by: its passes trail it whole. Grouped all the same (a
    build_name row repeated counts the result again, as openstack-health's join did)."""
    took = f"CASE WHEN {_PASSED} THEN COALESCE({_DURATION[kind]}, 0) ELSE 0 END"
    key = f"b.value, {_START_DAY[kind]}, tr.test_id, {_DAY[kind]}"
    return (f"SELECT {key}, SUM(CASE WHEN {_PASSED} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {_FAILED} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {_PASSED} OR {_FAILED} THEN 0 ELSE 1 END),"
            f" SUM({took}), SUM({took}), MAX(CASE WHEN {_PASSED} THEN NULL ELSE tr.id END),"
            f" MIN(CASE WHEN {_PASSED} THEN tr.id END), MAX(CASE WHEN {_PASSED} THEN tr.id END), 0"
            " FROM test_runs tr JOIN runs r ON r.id = tr.run_id"
            f" JOIN run_metadata b ON b.run_id = r.id AND b.key = '{rules.BUILD_NAME_KEY}'"
            " WHERE r.id = :run_id AND tr.start_time IS NOT NULL AND tr.test_id IS NOT NULL"
            f" GROUP BY {key} ORDER BY {key}")
