"""openstack-health routes added for compatibility: /build_name/<name>/test_runs at every
datetime_resolution and /runs/key/<key>/<value>/recent/detail. Expectations are computed
here from the rows ingested (or read back with plain selects), never through the API's
queries."""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from email.utils import format_datetime

import pytest

from health_api.app import create_app

from api_helpers import END, iso
from api_helpers import no_cache_config
from streams import T0, ingest, stream

#: openstack-health's bucket keys
FORMATS = {"sec": "%Y-%m-%dT%H:%M:%S", "min": "%Y-%m-%dT%H:%M:00",
           "hour": "%Y-%m-%dT%H:00:00", "day": "%Y-%m-%d"}
#: openstack-health's classes (its TestRunAggregator knows "unxsuccess", not "uxsuccess")
CLASS = {"success": "pass", "xfail": "pass", "fail": "fail", "uxsuccess": "skip", "skip": "skip"}

# (job, offset of the run's first test from T0, [(test_id, status, seconds)])
RUNS = [
    ("alpha", dt.timedelta(0), [("t.a", "success", 1.5), ("t.b", "fail", 0.25),
                                ("t.c", "skip", 0.5)]),
    ("alpha", dt.timedelta(minutes=20, seconds=0.4), [("t.a", "xfail", 2.25),
                                                      ("t.b", "success", 0.5),
                                                      ("t.c", "uxsuccess", 1.0)]),
    ("alpha", dt.timedelta(minutes=20, seconds=30), [("t.a", "success", 0.75)]),
    ("alpha", dt.timedelta(hours=2), [("t.a", "fail", 1.0), ("t.b", "success", 3.125)]),
    ("alpha", dt.timedelta(days=2), [("t.a", "success", 1.0)]),  # outside the window
    ("beta", dt.timedelta(0), [("t.a", "success", 9.0), ("t.b", "fail", 1.0)]),
]


def expected_buckets(job: str, fmt: str, start: dt.datetime, stop: dt.datetime) -> dict:
    """{bucket: {test: {pass, fail, skip, run_time}}} from RUNS in ingest order, as
    openstack-health's TestRunAggregator counted: run_time the running mean of the passes'
    durations, back to 0 after a result that is not a pass."""
    out: dict = defaultdict(dict)
    for name, offset, tests in RUNS:
        at = T0.replace(tzinfo=None) + offset
        for test_id, status, seconds in tests:
            if name == job and start <= at <= stop:
                klass = CLASS[status]
                item = out[at.strftime(fmt)].setdefault(
                    test_id, {"pass": 0, "fail": 0, "skip": 0, "run_time": 0.0})
                duration = seconds if klass == "pass" else 0.0
                item["run_time"] = ((item["pass"] * item["run_time"] + duration) /
                                    (item["pass"] + 1) if klass == "pass" else 0.0)
                item[klass] += 1
            at += dt.timedelta(seconds=seconds)
    return dict(out)


@pytest.fixture
def ingested(db_url):
    for job, offset, tests in RUNS:
        ingest(db_url, stream(*tests, start=T0 + offset), "--run-meta", f"build_name={job}")
    return create_app(db_url=db_url, config=no_cache_config()).test_client()


def assert_same_buckets(got: dict, expected: dict) -> None:
    assert sorted(got) == sorted(expected)
    for key, tests in expected.items():
        assert sorted(got[key]) == sorted(tests), key
        for test_id, item in tests.items():
            g = got[key][test_id]
            assert (g["pass"], g["fail"], g["skip"]) == \
                (item["pass"], item["fail"], item["skip"]), (key, test_id)
            assert g["run_time"] == pytest.approx(item["run_time"], abs=1e-6), (key, test_id)


@pytest.mark.parametrize("resolution", ["sec", "min", "hour", "day"])
def test_job_test_runs_every_resolution(ingested, resolution):
    start = T0.replace(tzinfo=None) - dt.timedelta(hours=12)
    stop = start + dt.timedelta(days=1)
    r = ingested.get(f"/build_name/alpha/test_runs?start_date={iso(start)}&stop_date={iso(stop)}"
                     f"&datetime_resolution={resolution}")
    assert r.status_code == 200, r.data
    expected = expected_buckets("alpha", FORMATS[resolution], start, stop)
    assert_same_buckets(r.get_json()["tests"], expected)


def test_job_test_runs_fine_buckets_are_start_times(ingested):
    """Two runs in one minute land in one min bucket, in two sec buckets; a result that
    starts at 12:00:01.75 is in the 12:00:01 second."""
    start, stop = T0.replace(tzinfo=None), T0.replace(tzinfo=None) + dt.timedelta(hours=1)
    window = f"start_date={iso(start)}&stop_date={iso(stop)}"
    by_min = ingested.get(f"/build_name/alpha/test_runs?{window}&datetime_resolution=min")
    t_a = by_min.get_json()["tests"]["2026-10-01T12:20:00"]["t.a"]
    assert (t_a["pass"], t_a["fail"]) == (2, 0)
    assert t_a["run_time"] == pytest.approx((2.25 + 0.75) / 2)
    by_sec = ingested.get(f"/build_name/alpha/test_runs?{window}&datetime_resolution=sec")
    tests = by_sec.get_json()["tests"]
    assert tests["2026-10-01T12:00:01"]["t.c"] == {"pass": 0, "fail": 0, "skip": 1,
                                                     "run_time": 0.0}
    assert "2026-10-01T12:20:30" in tests and "2026-10-01T12:20:00" in tests


def test_job_test_runs_default_window_and_unknown_job(ingested):
    # no start_date: everything up to stop_date, as openstack-health read it
    stop = T0.replace(tzinfo=None) + dt.timedelta(hours=3)
    got = ingested.get(f"/build_name/alpha/test_runs?stop_date={iso(stop)}"
                       "&datetime_resolution=hour").get_json()["tests"]
    assert_same_buckets(got, expected_buckets("alpha", FORMATS["hour"],
                                              dt.datetime(1970, 1, 1), stop))
    for res in ("sec", "hour", "day"):  # like /build_name/<name>/runs: empty, not an error
        r = ingested.get(f"/build_name/no-such-job/test_runs?stop_date={iso(stop)}"
                         f"&datetime_resolution={res}")
        assert r.status_code == 200 and r.get_json() == {"tests": {}}


@pytest.mark.parametrize("resolution,days", [("sec", 2), ("min", 7), ("hour", 90), ("day", 90)])
def test_job_test_runs_wide_windows_are_answered(client, resolution, days):
    """openstack-health answered any window (its dashboard asks for 90 days): no
    "window too large" here either."""
    start = END - dt.timedelta(days=days)
    r = client.get(f"/build_name/x/test_runs?datetime_resolution={resolution}"
                   f"&stop_date={iso(END)}&start_date={iso(start)}")
    assert r.status_code == 200, r.data


def _ordered(runs):
    return sorted(runs, key=lambda r: (r["run_at"], r["id"]), reverse=True)


def test_recent_detail(client, raw):
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[-1]
    expected = _ordered(r for r in raw["runs"] if r["meta"]["build_name"] == job)[:4]
    got = client.get(f"/runs/key/build_name/{job}/recent/detail?num_runs=4").get_json()
    assert [(g["id"], g["uuid"]) for g in got] == [(r["id"], r["uuid"]) for r in expected]
    for g, r in zip(got, expected):
        assert (g["passes"], g["fails"], g["skips"]) == (r["passes"], r["fails"], r["skips"])
        assert g["run_time"] == pytest.approx(r["run_time"])
        assert (g["artifacts"], g["run_at"], g["build_name"]) == \
            (r["artifacts"], format_datetime(r["run_at"].replace(tzinfo=dt.timezone.utc),
                                             usegmt=True), job)
    # any key: each run carries its own job
    provider = raw["runs"][0]["meta"]["node_provider"]
    expected = _ordered(r for r in raw["runs"] if r["meta"]["node_provider"] == provider)
    got = client.get(f"/runs/key/node_provider/{provider}/recent/detail?num_runs=100").get_json()
    assert [(g["uuid"], g["build_name"]) for g in got] == \
        [(r["uuid"], r["meta"]["build_name"]) for r in expected[:100]]
    # the default is 10 runs, like openstack-health
    assert len(client.get(f"/runs/key/build_name/{job}/recent/detail").get_json()) == \
        min(10, sum(r["meta"]["build_name"] == job for r in raw["runs"]))
    assert client.get("/runs/key/build_name/no-such-job/recent/detail").get_json() == []


def test_recent_detail_keeps_empty_runs(db_url):
    """Unlike /recent (which drops runs that neither passed nor failed), detail lists them."""
    ingest(db_url, stream(("t.a", "success")), "--run-meta", "build_name=j")
    ingest(db_url, stream(("t.a", "skip"), start=T0 + dt.timedelta(hours=1)),
           "--run-meta", "build_name=j")
    client = create_app(db_url=db_url, config=no_cache_config()).test_client()
    detail = client.get("/runs/key/build_name/j/recent/detail").get_json()
    assert [(d["passes"], d["skips"]) for d in detail] == [(0, 1), (1, 0)]
    assert len(client.get("/runs/key/build_name/j/recent").get_json()) == 1


# /metrics is Prometheus text for scrapers, not part of the JSON API
NOT_API = {"index", "vendor_file", "frontend_file", "status.openapi", "metrics"}


def test_every_get_route_is_in_the_openapi_document(app):
    """bench/api.py times the routes of the document: none may be missing from it."""
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint not in NOT_API:
            path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule)
            assert "get" in paths.get(path, {}), rule.rule


def _starts(test_id: str) -> list[tuple[str, str, str]]:
    """(job, status, start time as openstack-health keys it) of every result of test_id."""
    out = []
    for name, offset, tests in RUNS:
        at = T0.replace(tzinfo=None) + offset
        for tid, status, seconds in tests:
            if tid == test_id:
                out.append((name, status, at.isoformat()))
            at += dt.timedelta(seconds=seconds)
    return out


def test_test_runs_per_result_without_a_window(ingested):
    """/test_runs/<id> without start_date/stop_date reads every result (as openstack-health
    did); data keyed per result start time, numeric the successes' run times per bucket
    (fewer than 20 buckets: no rolling mean), failed_runs the runs with a "fail"."""
    got = ingested.get("/test_runs/t.b?datetime_resolution=hour").get_json()
    starts = _starts("t.b")
    assert {k: v["status"] for k, v in got["data"].items()} == {at: s for _, s, at in starts}
    assert all(type(v["run_id"]) is int for v in got["data"].values())
    assert len({v["run_id"] for v in got["data"].values()}) == len(starts)
    seconds = {status_at: sec for (_, status, status_at), (_, _, sec) in zip(
        starts, [t for _, _, tests in RUNS for t in tests if t[0] == "t.b"])
        if status == "success"}
    assert got["numeric"] == {
        dt.datetime.fromisoformat(at).replace(minute=0, second=0, microsecond=0).isoformat():
            {"run_time": pytest.approx(sec, abs=1e-6)} for at, sec in seconds.items()}
    assert [(r["job_name"], r["provider"], r["bugs"]) for r in got["failed_runs"]] == \
        [(job, None, []) for job, status, _ in starts if status == "fail"]


def test_test_runs_without_successes_and_unknown(ingested):
    got = ingested.get("/test_runs/t.c").get_json()
    assert sorted(v["status"] for v in got["data"].values()) == ["skip", "uxsuccess"]
    assert got["numeric"] == {} and got["failed_runs"] == []
    # openstack-health's answer when the test has no result: failed_runs an object
    assert ingested.get("/test_runs/t.none").get_json() == {"numeric": {}, "data": {},
                                                             "failed_runs": {}}


def test_test_runs_bounds_its_buckets(ingested, monkeypatch):
    """The bound is on the buckets computed (those with a success and up to 40 after
    each, analytics.sparse_resample), not on the span: t.a's few successes over 2 days
    at sec resolution (170,000 buckets of span) are far under 1,000; beyond the bound,
    a 400."""
    from health_api.compat import reports
    monkeypatch.setattr(reports, "COMPAT_MAX_BUCKETS", 1000)
    assert ingested.get("/test_runs/t.a?datetime_resolution=sec").status_code == 200
    monkeypatch.setattr(reports, "COMPAT_MAX_BUCKETS", 2)
    r = ingested.get("/test_runs/t.a?datetime_resolution=sec")
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == "datetime_resolution"


def test_run_test_runs_metadata_and_rfc1123_times(db_url):
    """/run/<id>/test_runs as subunit2sql's get_tests_run_dicts_from_run_id: times in
    RFC 1123, "metadata" only for a result with test_run_metadata (its attrs, its tags)."""
    out = ingest(db_url, stream(("t.plain", "success", 1.5),
                                ("t.tagged[id-7,smoke]", "fail", 0.5, {"worker-0"})),
                 "--run-meta", "build_name=gamma")
    client = create_app(db_url=db_url, config=no_cache_config()).test_client()
    run = client.get("/build_name/gamma/runs").get_json()["runs"][0]
    got = client.get(f"/run/{run['uuid']}/test_runs").get_json()
    assert got == {
        "t.plain": {"status": "success", "start_time": "Thu, 01 Oct 2026 12:00:00 GMT",
                    "stop_time": "Thu, 01 Oct 2026 12:00:01 GMT"},
        "t.tagged": {"status": "fail", "start_time": "Thu, 01 Oct 2026 12:00:01 GMT",
                     "stop_time": "Thu, 01 Oct 2026 12:00:02 GMT",
                     "metadata": {"attrs": "id-7,smoke", "tags": "worker-0"}}}, out
    assert client.get(f"/run/{run['id']}/test_runs").get_json() == got
    missing = client.get("/run/no-such-run/test_runs")
    assert missing.status_code == 404 and missing.get_json()["error"]["field"] == "run_id"
