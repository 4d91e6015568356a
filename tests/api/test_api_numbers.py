"""Endpoint numbers checked against expectations computed in plain Python from raw rows."""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict

import numpy as np
import pytest

from statsmodels.stats.proportion import proportion_confint

from health_api.rules import FAIL_STATUSES, PASS_STATUSES

from api_helpers import END, START, iso

WINDOW = f"start={iso(START)}&stop={iso(END)}"


def day_key(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT00:00:00Z")


def check_rate(obj, failed, passed):
    n = failed + passed
    assert obj["n"] == n
    if n == 0:
        assert obj["failure_rate"] is None and obj["ci_low"] is None
    else:
        assert obj["failure_rate"] == pytest.approx(failed / n)
        # an independent oracle, not the production formula
        lo, hi = proportion_confint(failed, n, alpha=0.05, method="wilson")
        assert obj["ci_low"] == pytest.approx(max(0.0, lo), abs=1e-12)
        assert obj["ci_high"] == pytest.approx(min(1.0, hi), abs=1e-12)


def test_runs_over_time_by_build_name(client, raw):
    r = client.get(f"/api/v1/runs/over_time?key=build_name&resolution=day&{WINDOW}")
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    days = [iso(START + dt.timedelta(days=i)) for i in range(3)]
    assert data["buckets"] == days
    expected = defaultdict(Counter)
    for run in raw["runs"]:
        expected[(run["meta"]["build_name"], day_key(run["run_at"]))][run["outcome"]] += 1
    names = {run["meta"]["build_name"] for run in raw["runs"]}
    assert {s["value"] for s in data["series"]} == names
    for s in data["series"]:
        assert [p["bucket"] for p in s["points"]] == days
        for p in s["points"]:
            c = expected[(s["value"], p["bucket"])]
            assert (p["passed"], p["failed"], p["empty"]) == (c["passed"], c["failed"], c["empty"])
            check_rate(p, c["failed"], c["passed"])
        check_rate(s, sum(p["failed"] for p in s["points"]), sum(p["passed"] for p in s["points"]))


def test_runs_over_time_hour_with_meta_filter(client, raw):
    r = client.get(f"/api/v1/runs/over_time?key=node_provider&resolution=hour&{WINDOW}"
                   "&meta=build_queue:check")
    assert r.status_code == 200
    data = r.get_json()
    assert len(data["buckets"]) == 72
    expected = Counter()
    for run in raw["runs"]:
        if run["meta"]["build_queue"] == "check":
            expected[(run["meta"]["node_provider"], run["run_at"].strftime("%Y-%m-%dT%H:00:00Z"),
                      run["outcome"])] += 1
    got = Counter()
    for s in data["series"]:
        for p in s["points"]:
            for outcome in ("passed", "failed", "empty"):
                if p[outcome]:
                    got[(s["value"], p["bucket"], outcome)] = p[outcome]
    assert got == expected


def test_runs_list_filters_and_pages(client, raw):
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[0]
    expected = sorted((r for r in raw["runs"] if r["meta"]["build_name"] == job
                       and r["outcome"] == "passed"),
                      key=lambda r: (r["run_at"], r["id"]), reverse=True)
    r = client.get(f"/api/v1/runs?meta=build_name:{job}&outcome=passed&limit=2&offset=1")
    data = r.get_json()
    assert data["total"] == len(expected)
    assert [x["uuid"] for x in data["runs"]] == [e["uuid"] for e in expected[1:3]]
    assert all(x["metadata"]["build_name"] == job for x in data["runs"])


def test_run_detail_has_every_result_and_tracebacks(client, raw):
    run = max((r for r in raw["runs"] if r["outcome"] == "failed"), key=lambda r: r["id"])
    data = client.get(f"/api/v1/runs/{run['uuid']}").get_json()
    mine = [x for x in raw["results"] if x["run_id"] == run["id"]]
    assert len(data["tests"]) == len(mine)
    failed = sorted(raw["tests"][x["test_id"]] for x in mine if x["status"] in FAIL_STATUSES)
    assert sorted(t["test_id"] for t in data["failed_tests"]) == failed
    by_name = {raw["tests"][x["test_id"]]: x["id"] for x in mine}
    for t in data["failed_tests"]:
        assert t["traceback"] == raw["attachments"][by_name[t["test_id"]]].decode()
    assert data["metadata"] == run["meta"] and data["outcome"] == "failed"


def test_jobs_summary(client, raw):
    start = START + dt.timedelta(hours=36)
    data = client.get(f"/api/v1/jobs?start={iso(start)}&stop={iso(END)}").get_json()
    assert data["previous_start"] == iso(START)
    by_job = defaultdict(list)
    for run in raw["runs"]:
        by_job[run["meta"]["build_name"]].append(run)
    assert {j["job"] for j in data["jobs"]} == set(by_job)
    for j in data["jobs"]:
        cur = [r for r in by_job[j["job"]] if start <= r["run_at"] < END]
        prev = [r for r in by_job[j["job"]] if START <= r["run_at"] < start]
        c, p = Counter(r["outcome"] for r in cur), Counter(r["outcome"] for r in prev)
        assert j["runs"] == len(cur)
        check_rate(j, c["failed"], c["passed"])
        check_rate(j["previous"], p["failed"], p["passed"])
        if c["failed"] + c["passed"] and p["failed"] + p["passed"]:
            assert j["change"] == pytest.approx(
                c["failed"] / (c["failed"] + c["passed"]) - p["failed"] / (p["failed"] + p["passed"]))
        times = [r["run_time"] for r in cur]
        assert j["mean_run_time"] == pytest.approx(np.mean(times))
        assert j["p95_run_time"] == pytest.approx(np.percentile(times, 95))
        assert j["last_run_at"] == iso(max(r["run_at"] for r in cur))


@pytest.mark.parametrize("resolution", ["day", "hour"])
def test_job_detail(client, raw, resolution):
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[-1]
    runs = [r for r in raw["runs"] if r["meta"]["build_name"] == job]
    data = client.get(f"/api/v1/jobs/{job}?resolution={resolution}&{WINDOW}&window=3").get_json()
    step = dt.timedelta(days=1) if resolution == "day" else dt.timedelta(hours=1)
    fmt = "%Y-%m-%dT00:00:00Z" if resolution == "day" else "%Y-%m-%dT%H:00:00Z"
    per = defaultdict(list)
    for r in runs:
        per[r["run_at"].strftime(fmt)].append(r)
    assert len(data["points"]) == (3 if resolution == "day" else 72)
    # MySQL's FLOAT runs.run_time (subunit2sql's column) is single precision, so the
    # expected values computed from it differ from the double-precision rollup sums
    mysql = "mysql" in client.application.config["CI_HEALTH_DB"]
    tol, std_tol = (1e-5, 1e-4) if mysql else (1e-9, 1e-6)
    bucket_means = {}
    for p in data["points"]:
        group = per.get(p["bucket"], [])
        c = Counter(r["outcome"] for r in group)
        assert (p["passed"], p["failed"], p["empty"], p["runs"]) == \
            (c["passed"], c["failed"], c["empty"], len(group))
        check_rate(p, c["failed"], c["passed"])
        if group:
            times = [r["run_time"] or 0.0 for r in group]
            assert p["mean_run_time"] == pytest.approx(np.mean(times), rel=tol)
            if len(group) > 1:
                assert p["std_run_time"] == pytest.approx(np.std(times, ddof=1), rel=std_tol)
            bucket_means[p["bucket"]] = np.mean(times)
        else:
            assert p["mean_run_time"] is None
        # the trailing window: this bucket and the two before it, straight from raw runs
        at = dt.datetime.strptime(p["bucket"], "%Y-%m-%dT%H:%M:%SZ")
        trailing = [r for r in runs if at - 2 * step <= r["run_at"] < at + step]
        t = Counter(r["outcome"] for r in trailing)
        rolled = {k[len("rolling_"):]: v for k, v in p.items() if k.startswith("rolling_")}
        check_rate(rolled, t["failed"], t["passed"])
        keys = [(at - i * step).strftime(fmt) for i in (2, 1, 0)]
        means = [bucket_means[k] for k in keys if k in bucket_means]
        if means:
            assert p["rolling_mean"] == pytest.approx(np.mean(means), rel=tol)
            if len(means) > 1:
                assert p["rolling_std"] == pytest.approx(np.std(means, ddof=1), rel=std_tol)
            else:
                assert p["rolling_std"] is None
        else:
            assert p["rolling_mean"] is None
    c = Counter(r["outcome"] for r in runs if START <= r["run_at"] < END)
    assert (data["passed"], data["failed"], data["empty"]) == (c["passed"], c["failed"], c["empty"])
    check_rate(data, c["failed"], c["passed"])
    recent = sorted(runs, key=lambda r: (r["run_at"], r["id"]), reverse=True)[:20]
    assert [r["uuid"] for r in data["recent_runs"]] == [r["uuid"] for r in recent]
    assert data["recent_runs"][0]["artifacts"] == recent[0]["artifacts"]


def test_job_tests_stats(client, raw):
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[0]
    run_ids = {r["id"] for r in raw["runs"] if r["meta"]["build_name"] == job}
    stats = defaultdict(Counter)
    for x in raw["results"]:
        if x["run_id"] in run_ids:
            name = raw["tests"][x["test_id"]]
            klass = ("success" if x["status"] in PASS_STATUSES else "failure"
                     if x["status"] in FAIL_STATUSES else "skip")
            stats[name][klass] += 1
    data = client.get(f"/api/v1/jobs/{job}/tests?{WINDOW}&sort=test_id&limit=500").get_json()
    assert data["total"] == len(stats)
    assert [t["test_id"] for t in data["tests"]] == sorted(stats)[:500]
    for t in data["tests"]:
        s = stats[t["test_id"]]
        assert (t["success"], t["failure"], t["skip"]) == (s["success"], s["failure"], s["skip"])
        check_rate(t, s["failure"], s["success"])
    top = client.get(f"/api/v1/jobs/{job}/tests?{WINDOW}&sort=failures&limit=3").get_json()
    assert [t["failure"] for t in top["tests"]] == sorted((s["failure"] for s in stats.values()),
                                                          reverse=True)[:3]


def test_test_search_prefix_and_substring(client, raw):
    names = sorted(raw["tests"].values())
    prefix = "tempest.api.compute"
    data = client.get(f"/api/v1/tests?q={prefix}&limit=500").get_json()
    expected = [n for n in names if n.startswith(prefix)]
    assert data["total"] == len(expected)
    assert [t["test_id"] for t in data["tests"]] == expected[:500]
    data = client.get("/api/v1/tests?q=Test0Test&mode=substring&limit=5&offset=2").get_json()
    expected = [n for n in names if "Test0Test" in n]
    assert data["total"] == len(expected)
    assert [t["test_id"] for t in data["tests"]] == expected[2:7]
    # case matters, and LIKE wildcards are literal
    assert client.get("/api/v1/tests?q=TEMPEST").get_json()["total"] == 0
    assert client.get("/api/v1/tests?q=tempest_api&mode=substring").get_json()["total"] == 0


@pytest.mark.parametrize("resolution", ["day", "hour"])
def test_test_detail(client, raw, resolution):
    fails = Counter(x["test_id"] for x in raw["results"] if x["status"] in FAIL_STATUSES)
    test_db_id = fails.most_common(1)[0][0]
    name = raw["tests"][test_db_id]
    data = client.get(f"/api/v1/tests/{name}?resolution={resolution}&{WINDOW}").get_json()
    fmt = "%Y-%m-%dT00:00:00Z" if resolution == "day" else "%Y-%m-%dT%H:00:00Z"
    mine = [x for x in raw["results"] if x["test_id"] == test_db_id]
    per = defaultdict(Counter)
    for x in mine:
        klass = ("success" if x["status"] in PASS_STATUSES else "failure"
                 if x["status"] in FAIL_STATUSES else "skip")
        # the rollup files a result under its run's day, the raw path under its start time
        ts = x["start_time"] if resolution != "day" else \
            next(r["run_at"] for r in raw["runs"] if r["id"] == x["run_id"])
        per[ts.strftime(fmt)][klass] += 1
    for p in data["points"]:
        c = per.get(p["bucket"], Counter())
        assert (p["success"], p["failure"], p["skip"]) == (c["success"], c["failure"], c["skip"])
        check_rate(p, c["failure"], c["success"])
    assert sum(p["success"] + p["failure"] + p["skip"] for p in data["points"]) == len(mine)
    run_job = {r["id"]: r["meta"]["build_name"] for r in raw["runs"]}
    per_job = defaultdict(Counter)
    for x in mine:
        per_job[run_job[x["run_id"]]][x["status"] in FAIL_STATUSES] += 1
    assert {j["job"]: (j["failure"], j["success"]) for j in data["jobs"]} == \
        {k: (v[True], v[False]) for k, v in per_job.items()}
    failed = sorted((x for x in mine if x["status"] in FAIL_STATUSES),
                    key=lambda x: (x["start_time"], x["id"]), reverse=True)[:10]
    got = data["recent_failures"]
    assert [f["job"] for f in got] == [run_job[x["run_id"]] for x in failed]
    assert got[0]["traceback"] == "\n".join(
        raw["attachments"][failed[0]["id"]].decode().splitlines()[:10])
    assert got[0]["link"] == next(r["artifacts"] for r in raw["runs"] if r["id"] == failed[0]["run_id"])


def test_recent_failures(client, raw):
    data = client.get("/api/v1/failures/recent?limit=3").get_json()
    failed = sorted((r for r in raw["runs"] if r["outcome"] == "failed"),
                    key=lambda r: (r["run_at"], r["id"]), reverse=True)[:3]
    assert [r["uuid"] for r in data["runs"]] == [r["uuid"] for r in failed]
    for got, run in zip(data["runs"], failed):
        names = sorted(raw["tests"][x["test_id"]] for x in raw["results"]
                       if x["run_id"] == run["id"] and x["status"] in FAIL_STATUSES)
        assert [t["test_id"] for t in got["failed_tests"]] == names
        assert got["build_name"] == run["meta"]["build_name"]


def test_metadata(client, raw):
    keys = client.get("/api/v1/metadata/keys").get_json()["keys"]
    assert keys == sorted({k for r in raw["runs"] for k in r["meta"]})
    data = client.get("/api/v1/metadata/values?key=node_provider").get_json()
    expected = Counter(r["meta"]["node_provider"] for r in raw["runs"])
    assert {v["value"]: v["runs"] for v in data["values"]} == dict(expected)
    assert data["total"] == len(expected)
    assert [v["runs"] for v in data["values"]] == sorted(expected.values(), reverse=True)


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_feeds(client, raw, kind):
    job = Counter(r["meta"]["build_name"] for r in raw["runs"] if r["outcome"] == "failed")
    job = job.most_common(1)[0][0]
    r = client.get(f"/api/v1/feeds/failures/{kind}?key=build_name&value={job}")
    assert r.status_code == 200 and "xml" in r.content_type
    root = ET.fromstring(r.data)
    failed = sorted((x for x in raw["runs"] if x["outcome"] == "failed"
                     and x["meta"]["build_name"] == job),
                    key=lambda x: (x["run_at"], x["id"]), reverse=True)[:25]
    if kind == "atom":
        entries = root.findall("{http://www.w3.org/2005/Atom}entry")
        links = [e.find("{http://www.w3.org/2005/Atom}link").get("href") for e in entries]
    else:
        entries = root.findall("channel/item")
        links = [e.find("link").text for e in entries]
    assert links == [x["artifacts"] for x in failed]
    assert client.get(f"/api/v1/feeds/failures/{kind}?key=build_name&value=nope").status_code == 404


def test_status(client, raw):
    data = client.get("/api/v1/status").get_json()
    assert data["database"] == "ok" and data["schema"]["up_to_date"] is True
    assert data["newest_run_at"] == iso(max(r["run_at"] for r in raw["runs"]))
    assert data["cache"] == "none" and data["version"]


def test_compat_routes(client, raw):
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[0]
    runs = [r for r in raw["runs"] if r["meta"]["build_name"] == job]
    assert sorted(client.get("/runs/metadata/keys").get_json()) == \
        sorted({k for r in raw["runs"] for k in r["meta"]})
    data = client.get(f"/runs/key/build_name/{job}?start_date={iso(START)}&stop_date={iso(END)}"
                      "&datetime_resolution=day").get_json()
    for entry in data["data"]["timedelta"]:
        # openstack-health's day keys are dates; its padded (empty) buckets are not
        group = [r for r in runs if r["run_at"].date().isoformat() == entry["datetime"]]
        if not group:
            assert entry["job_data"] == []
            continue
        (jd,) = entry["job_data"]
        c = Counter(r["outcome"] for r in group)
        assert (jd["pass"], jd["fail"], jd["job_name"]) == (c["passed"], c["failed"], job)
    recent = client.get(f"/runs/key/build_name/{job}/recent?num_runs=5").get_json()
    expected = [r for r in sorted(runs, key=lambda r: (r["run_at"], r["id"]), reverse=True)[:5]
                if r["outcome"] != "empty"]
    assert [x["id"] for x in recent] == [r["uuid"] for r in expected]
    grouped = client.get(f"/runs/group_by/build_name?start_date={iso(START)}&stop_date={iso(END)}"
                         "&datetime_resolution=day").get_json()["runs"]
    assert sum(len(v) for b in grouped.values() for v in b.values()) == len(raw["runs"])
    assert client.get("/tests/prefix").get_json() == sorted({n.split(".")[0] for n in raw["tests"].values()})
    # openstack-health's prefix is the test id's first dotted component's tail
    tests = client.get("/tests/prefix/empest?limit=3&offset=1").get_json()["tests"]
    assert [t["test_id"] for t in tests] == sorted(
        n for n in raw["tests"].values() if n.split(".")[0].endswith("empest"))[1:4]
    assert client.get("/tests/prefix/tempest.api").get_json() == {"tests": []}
    status = client.get("/status").get_json()
    assert status["status"]["availability"]["database"] is True
    recent_fail = client.get("/tests/recent/fail?num_runs=2").get_json()
    assert set(recent_fail) == {"test_runs", "bugs"}
    every = client.get("/runs").get_json()["runs"]
    assert [(r["id"], r["uuid"]) for r in every] == sorted((r["id"], r["uuid"])
                                                           for r in raw["runs"])
    by_job = client.get(f"/build_name/{job}/test_runs?start_date={iso(START)}"
                        f"&stop_date={iso(END)}&datetime_resolution=day").get_json()["tests"]
    assert len(by_job) == 3


def test_compat_tests_and_run_tests(client, raw):
    names = sorted(raw["tests"].values())
    every = client.get("/tests").get_json()["tests"]
    assert sorted(t["test_id"] for t in every) == names
    assert [t["id"] for t in every] == sorted(t["id"] for t in every)
    run = max(raw["runs"], key=lambda r: (r["run_at"], r["id"]))
    ran = sorted({raw["tests"][x["test_id"]] for x in raw["results"]
                  if x["run_id"] == run["id"]})
    got = client.get(f"/run/{run['uuid']}/tests").get_json()["tests"]
    assert sorted(t["test_id"] for t in got) == ran
    assert client.get(f"/run/{run['id']}/tests").get_json()["tests"] == got
    # counters are the tests' all-time ones, as in openstack-health
    counts = Counter()
    for x in raw["results"]:
        klass = ("success" if x["status"] in PASS_STATUSES else "failure"
                 if x["status"] in FAIL_STATUSES else None)
        if klass:
            counts[(raw["tests"][x["test_id"]], klass)] += 1
    for t in got[:50]:
        assert (t["success"], t["failure"]) == (counts[(t["test_id"], "success")],
                                                counts[(t["test_id"], "failure")])
        assert t["run_count"] == t["success"] + t["failure"]
    missing = client.get("/run/no-such-run/tests")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["field"] == "run_id"


def test_compat_job_runs(client, raw):
    job = sorted(r["meta"]["build_name"] for r in raw["runs"])[-1]
    runs = sorted((r for r in raw["runs"] if r["meta"]["build_name"] == job),
                  key=lambda r: r["id"])
    got = client.get(f"/build_name/{job}/runs").get_json()["runs"]
    assert [(r["id"], r["uuid"]) for r in got] == [(r["id"], r["uuid"]) for r in runs]
    assert [(r["passes"], r["fails"], r["skips"]) for r in got] == \
        [(r["passes"], r["fails"], r["skips"]) for r in runs]
    assert client.get("/build_name/no-such-job/runs").get_json() == {"runs": []}
