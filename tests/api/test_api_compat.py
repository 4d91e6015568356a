"""openstack-health routes added for compatibility: /build_name/<name>/test_runs at every
datetime_resolution and /runs/key/<key>/<value>/recent/detail. Expectations are computed
here from the rows ingested (or read back with plain selects), never through the API's
queries."""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest
import sqlalchemy as sa

from health_api.app import create_app
from health_api.db import models as m
from health_api.db.session import make_engine
from health_api.rules import FAIL_STATUSES, PASS_STATUSES, SKIP_STATUSES

from api_helpers import END, iso
from api_helpers import no_cache_config
from streams import T0, ingest, stream

FORMATS = {"sec": "%Y-%m-%dT%H:%M:%SZ", "min": "%Y-%m-%dT%H:%M:00Z",
           "hour": "%Y-%m-%dT%H:00:00Z", "day": "%Y-%m-%dT00:00:00Z"}
CLASS = {"success": "pass", "xfail": "pass", "fail": "fail", "uxsuccess": "fail", "skip": "skip"}

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
    """{bucket: {test: {pass, fail, skip, run_time}}} from RUNS, run_time being the mean
    duration of the passes (0.0 without any)."""
    counts: dict = defaultdict(lambda: defaultdict(lambda: {"pass": 0, "fail": 0, "skip": 0}))
    durations: dict = defaultdict(list)
    for name, offset, tests in RUNS:
        at = T0.replace(tzinfo=None) + offset
        for test_id, status, seconds in tests:
            if name == job and start <= at < stop:
                key = at.strftime(fmt)
                counts[key][test_id][CLASS[status]] += 1
                if CLASS[status] == "pass":
                    durations[(key, test_id)].append(seconds)
            at += dt.timedelta(seconds=seconds)
    return {key: {test_id: {**c, "run_time": (sum(durations[(key, test_id)]) /
                                              len(durations[(key, test_id)])
                                              if durations[(key, test_id)] else 0.0)}
                  for test_id, c in tests.items()}
            for key, tests in counts.items()}


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
    t_a = by_min.get_json()["tests"]["2026-10-01T12:20:00Z"]["t.a"]
    assert (t_a["pass"], t_a["fail"]) == (2, 0)
    assert t_a["run_time"] == pytest.approx((2.25 + 0.75) / 2)
    by_sec = ingested.get(f"/build_name/alpha/test_runs?{window}&datetime_resolution=sec")
    tests = by_sec.get_json()["tests"]
    assert tests["2026-10-01T12:00:01Z"]["t.c"] == {"pass": 0, "fail": 0, "skip": 1,
                                                     "run_time": 0.0}
    assert "2026-10-01T12:20:30Z" in tests and "2026-10-01T12:20:00Z" in tests


def test_job_test_runs_default_window_and_unknown_job(ingested):
    # no start_date: the day before stop_date
    stop = T0.replace(tzinfo=None) + dt.timedelta(hours=3)
    got = ingested.get(f"/build_name/alpha/test_runs?stop_date={iso(stop)}"
                       "&datetime_resolution=hour").get_json()["tests"]
    assert_same_buckets(got, expected_buckets("alpha", FORMATS["hour"],
                                              stop - dt.timedelta(days=1), stop))
    for res in ("sec", "hour", "day"):  # like /build_name/<name>/runs: empty, not an error
        r = ingested.get(f"/build_name/no-such-job/test_runs?stop_date={iso(stop)}"
                         f"&datetime_resolution={res}")
        assert r.status_code == 200 and r.get_json() == {"tests": {}}


@pytest.mark.parametrize("resolution,days,limit", [("sec", 2, "1 day"), ("min", 1.5, "1 day"),
                                                   ("hour", 8, "7 days"), ("day", 32, "31 days")])
def test_job_test_runs_window_limits(client, resolution, days, limit):
    start = END - dt.timedelta(days=days)
    base = f"/build_name/x/test_runs?datetime_resolution={resolution}&stop_date={iso(END)}"
    r = client.get(f"{base}&start_date={iso(start)}")
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["field"] == "start_date" and limit in error["message"]
    widest = {"1 day": 1, "7 days": 7, "31 days": 31}[limit]
    ok = client.get(f"{base}&start_date={iso(END - dt.timedelta(days=widest))}")
    assert ok.status_code == 200, ok.data


def test_job_test_runs_demo_data_hour(client, raw, demo_url):
    """The demo gate history, every result of one job over its last day, per hour."""
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[0]
    runs = {r["id"] for r in raw["runs"] if r["meta"]["build_name"] == job}
    start, stop = END - dt.timedelta(days=1), END
    tr = m.test_runs
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tr.c.test_id, tr.c.run_id, tr.c.status, tr.c.start_time,
                                      tr.c.stop_time, tr.c.start_time_microsecond,
                                      tr.c.stop_time_microsecond)
                            .where(tr.c.start_time >= start, tr.c.start_time < stop)).all()
    engine.dispose()
    counts = defaultdict(lambda: {"pass": 0, "fail": 0, "skip": 0})
    durations = defaultdict(list)
    for r in rows:
        if r.run_id not in runs:
            continue
        key = (r.start_time.strftime(FORMATS["hour"]), raw["tests"][r.test_id])
        klass = ("pass" if r.status in PASS_STATUSES else "fail" if r.status in FAIL_STATUSES
                 else "skip" if r.status in SKIP_STATUSES else None)
        counts[key][klass] += 1
        if klass == "pass":
            begin = r.start_time.replace(microsecond=r.start_time_microsecond)
            end = r.stop_time.replace(microsecond=r.stop_time_microsecond)
            durations[key].append((end - begin).total_seconds())
    assert counts, "the demo job ran nothing in its last day"
    flat, pages, offset = {}, 0, 0
    while True:  # the tests come a page at a time: every page, each test once
        got = client.get(f"/build_name/{job}/test_runs?start_date={iso(start)}&stop_date="
                         f"{iso(stop)}&datetime_resolution=hour&limit=200&offset={offset}"
                         ).get_json()["tests"]
        if not got:
            break
        page = {(bucket, test_id): item for bucket, tests in got.items()
                for test_id, item in tests.items()}
        assert not set(page) & set(flat)
        flat.update(page)
        pages, offset = pages + 1, offset + 200
    assert pages > 1, "the demo job should need several pages of tests"
    assert sorted(flat) == sorted(counts)
    for key, c in counts.items():
        item = flat[key]
        assert (item["pass"], item["fail"], item["skip"]) == (c["pass"], c["fail"], c["skip"])
        mean = sum(durations[key]) / len(durations[key]) if durations[key] else 0.0
        assert item["run_time"] == pytest.approx(mean, abs=1e-6)


def _ordered(runs):
    return sorted(runs, key=lambda r: (r["run_at"], r["id"]), reverse=True)


def test_recent_detail(client, raw):
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[-1]
    expected = _ordered(r for r in raw["runs"] if r["meta"]["build_name"] == job)[:4]
    got = client.get(f"/runs/key/build_name/{job}/recent/detail?num_runs=4").get_json()
    assert [g["id"] for g in got] == [r["uuid"] for r in expected]
    for g, r in zip(got, expected):
        assert (g["passes"], g["fails"], g["skips"]) == (r["passes"], r["fails"], r["skips"])
        assert g["run_time"] == pytest.approx(r["run_time"])
        assert (g["artifacts"], g["run_at"], g["build_name"]) == \
            (r["artifacts"], iso(r["run_at"]), job)
    # any key: each run carries its own job
    provider = raw["runs"][0]["meta"]["node_provider"]
    expected = _ordered(r for r in raw["runs"] if r["meta"]["node_provider"] == provider)
    got = client.get(f"/runs/key/node_provider/{provider}/recent/detail?num_runs=100").get_json()
    assert [(g["id"], g["build_name"]) for g in got] == \
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
