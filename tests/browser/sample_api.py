"""Deterministic answers in the shapes frontend/js/api.js documents.

A stand-in for the Flask API while its endpoints are not final: the browser
tests answer intercepted /api/v1/ calls with these (and with errors and
empty results), so pages can be checked and screenshotted with realistic
data. Once the API is final, the screenshot tests should run against the real
app with `ci-health demo-data`, and this module shrinks to the error and
hostile-input cases.
"""
from __future__ import annotations

import math
import random
import zlib
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

Z95 = 1.959963984540054
BUCKET = {"sec": 1, "min": 60, "hour": 3600, "day": 86400}

JOBS = {
    # name: (runs per day, failure probability, mean run time s)
    "tempest-full-py3": (22, 0.16, 5400),
    "tempest-integrated-compute": (18, 0.11, 4700),
    "nova-grenade-multinode": (9, 0.27, 7300),
    "neutron-ovn-tempest-ovs-release": (14, 0.08, 4100),
    "openstack-tox-py311": (40, 0.03, 620),
    "openstack-tox-pep8": (40, 0.01, 240),
    "cinder-tempest-plugin-lvm-lio-barbican": (8, 0.21, 5100),
    "devstack-platform-debian-bookworm": (6, 0.34, 3300),
    "ironic-tempest-bios-ipmi-direct": (5, 0.06, 6100),
    "swift-tox-func-py311": (12, 0.04, 1500),
    "keystone-dsvm-functional": (7, 0.02, 2400),
    "heat-functional": (6, 0.13, 3900),
}

TESTS = [
    "tempest.api.compute.servers.test_create_server.ServersTestJSON.test_verify_server_details",
    "tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_reboot_server_hard",
    "tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_resize_server_confirm",
    "tempest.api.network.test_ports.PortsTestJSON.test_create_update_delete_port",
    "tempest.api.volume.test_volumes_actions.VolumesActionsTest.test_attach_detach_volume_to_instance",
    "tempest.scenario.test_network_basic_ops.TestNetworkBasicOps.test_network_basic_ops",
    "tempest.scenario.test_volume_boot_pattern.TestVolumeBootPattern.test_volume_boot_pattern",
    "tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_update_user_password",
    "tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_register_upload_get_image_file",
    "tempest.scenario.test_server_multinode.TestServerMultinode.test_schedule_to_all_nodes",
    "tempest.api.compute.admin.test_live_migration.LiveMigrationTest.test_live_block_migration",
    "tempest.api.object_storage.test_container_services.ContainerTest.test_list_container_contents",
    "nova.tests.unit.compute.test_compute.ComputeTestCase.test_run_instance_queries_macs",
    "nova.tests.functional.test_servers.ServersTest.test_create_and_rebuild_server",
    "neutron.tests.unit.plugins.ml2.test_plugin.TestMl2PortsV2.test_update_port_status_build",
    "cinder.tests.unit.volume.test_volume.VolumeTestCase.test_create_delete_volume",
]
FLAKY = {TESTS[1]: 0.12, TESTS[5]: 0.08, TESTS[9]: 0.2, TESTS[10]: 0.31}

NOW = None  # fixed by the tests through set_now(); else the real clock


def set_now(now: datetime | None) -> None:
    global NOW
    NOW = now


def now() -> datetime:
    return NOW or datetime.now(timezone.utc).replace(microsecond=0)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def wilson(failed: int, n: int) -> dict:
    if n <= 0:
        return {"value": None, "low": None, "high": None, "n": 0}
    p = failed / n
    z2 = Z95 * Z95
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return {"value": p, "low": max(0.0, centre - half), "high": min(1.0, centre + half), "n": n}


def _rng(*key) -> random.Random:
    return random.Random(zlib.crc32("|".join(map(str, key)).encode()))


def _buckets(query: dict) -> tuple[list[datetime], int]:
    stop = parse(query.get("stop"), now())
    start = parse(query.get("start"), stop - timedelta(days=7))
    size = BUCKET.get(query.get("resolution") or "day", 86400)
    first = datetime.fromtimestamp(start.timestamp() // size * size, timezone.utc)
    out = []
    t = first
    while t < stop and len(out) < 5000:
        out.append(t)
        t += timedelta(seconds=size)
    return out, size


def _job_counts(name: str, bucket: datetime, size: int) -> tuple[int, int, int]:
    per_day, p_fail, _ = JOBS.get(name, (5, 0.1, 1000))
    rng = _rng(name, bucket.timestamp(), size)
    expected = per_day * size / 86400
    # a busier working day, a quiet night
    hour = bucket.hour
    if size < 86400:
        expected *= 1.6 if 8 <= hour <= 19 else 0.45
    runs = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
    # a bad week for devstack: a broken node provider
    day = bucket.timetuple().tm_yday
    p = p_fail * (2.2 if name.startswith("nova") and day % 9 < 2 else 1.0)
    failed = sum(1 for _ in range(runs) if rng.random() < p)
    empty = 1 if runs > failed and rng.random() < 0.02 else 0
    return runs - failed - empty, failed, empty


def timeline(query: dict) -> dict:
    buckets, size = _buckets(query)
    group_by = query.get("group_by") or "build_name"
    names = list(JOBS) if group_by == "build_name" else ["gate", "check", "periodic"]
    groups = []
    for name in names:
        passed, failed, empty = [], [], []
        for b in buckets:
            if group_by == "build_name":
                p, f, e = _job_counts(name, b, size)
            else:
                p = f = e = 0
                for job in JOBS:
                    if zlib.crc32((job + name).encode()) % 3 == 0 or name == "check":
                        jp, jf, je = _job_counts(job, b, size)
                        p, f, e = p + jp, f + jf, e + je
            passed.append(p)
            failed.append(f)
            empty.append(e)
        groups.append({"key": name, "passed": passed, "failed": failed, "empty": empty})
    return {"group_by": group_by, "resolution": query.get("resolution"),
            "buckets": [iso(b) for b in buckets], "groups": groups}


def jobs(query: dict) -> dict:
    q = dict(query, resolution="day")
    t = timeline(dict(q, group_by="build_name"))
    out = []
    for g in t["groups"]:
        passed, failed, empty = sum(g["passed"]), sum(g["failed"]), sum(g["empty"])
        _, _, mean = JOBS[g["key"]]
        out.append({
            "name": g["key"], "runs": passed + failed + empty, "passed": passed, "failed": failed,
            "empty": empty, "failure_rate": wilson(failed, passed + failed),
            "last_run_at": iso(now() - timedelta(minutes=7 + zlib.crc32(g["key"].encode()) % 200)),
            "mean_run_time": mean * (0.9 + _rng(g["key"]).random() * 0.2),
        })
    return {"jobs": out}


def job(name: str, query: dict) -> dict:
    buckets, size = _buckets(query)
    _, _, mean = JOBS.get(name, (5, 0.1, 1000))
    points = []
    tp = tf = te = 0
    for b in buckets:
        p, f, e = _job_counts(name, b, size)
        tp, tf, te = tp + p, tf + f, te + e
        rng = _rng(name, "time", b.timestamp())
        points.append({"t": iso(b), "passed": p, "failed": f, "empty": e,
                       "failure_rate": wilson(f, p + f),
                       "mean_run_time": mean * (0.85 + rng.random() * 0.3) if p + f else None})
    return {"name": name, "resolution": query.get("resolution"), "points": points,
            "summary": {"runs": tp + tf + te, "passed": tp, "failed": tf, "empty": te,
                        "failure_rate": wilson(tf, tp + tf), "mean_run_time": mean}}


def job_tests(name: str, query: dict) -> dict:
    out = []
    for i, test_id in enumerate(TESTS):
        rng = _rng(name, test_id)
        runs = 40 + rng.randrange(200)
        p = FLAKY.get(test_id, 0.004 * (i % 4))
        failures = sum(1 for _ in range(runs) if rng.random() < p)
        out.append({"test_id": test_id, "runs": runs, "failures": failures,
                    "failure_rate": wilson(failures, runs),
                    "flip_rate": min(1.0, 2 * failures / max(1, runs - 1)),
                    "mean_run_time": 2 + rng.random() * 120})
    return {"tests": out}


def tests(query: dict) -> dict:
    q = (query.get("q") or "").lower()
    limit = int(query.get("limit") or 50)
    offset = int(query.get("offset") or 0)
    matches = [t for t in TESTS if q in t.lower()]
    rows = []
    for test_id in matches[offset:offset + limit]:
        rng = _rng("all", test_id)
        runs = 500 + rng.randrange(4000)
        failure = int(runs * FLAKY.get(test_id, 0.01 * rng.random()))
        rows.append({"test_id": test_id, "run_count": runs, "success": runs - failure,
                     "failure": failure, "run_time": 1 + rng.random() * 90})
    return {"tests": rows, "total": len(matches), "limit": limit, "offset": offset}


def test(test_id: str, query: dict) -> dict:
    buckets, size = _buckets(query)
    p_fail = FLAKY.get(test_id, 0.02)
    points = []
    tp = tf = ts = 0
    for b in buckets:
        rng = _rng(test_id, b.timestamp(), size)
        n = int(30 * size / 86400 * (0.5 + rng.random()))
        if size < 86400 and rng.random() < 0.35:
            n = 0
        f = sum(1 for _ in range(n) if rng.random() < p_fail)
        s = sum(1 for _ in range(n) if rng.random() < 0.03)
        p = n - f - s
        tp, tf, ts = tp + p, tf + f, ts + s
        points.append({"t": iso(b), "passed": p, "failed": f, "skipped": s,
                       "failure_rate": wilson(f, p + f),
                       "mean_run_time": 20 + 8 * rng.random() if p else None})
    recent = []
    for i in range(12):
        rng = _rng(test_id, "recent", i)
        status = "fail" if rng.random() < max(p_fail, 0.15) else "success"
        recent.append({"run_id": f"{rng.getrandbits(128):032x}"[:8] + "-0000-4000-8000-" + f"{i:012d}",
                       "build_name": list(JOBS)[i % 4], "status": status,
                       "start_time": iso(now() - timedelta(minutes=37 * i + 5)),
                       "run_time": 15 + 20 * rng.random()})
    return {"test_id": test_id, "resolution": query.get("resolution"), "points": points,
            "summary": {"runs": tp + tf + ts, "passed": tp, "failed": tf, "skipped": ts,
                        "failure_rate": wilson(tf, tp + tf), "mean_run_time": 24.2},
            "recent": recent}


def _run(i: int, build_name: str | None = None) -> dict:
    rng = _rng("run", i)
    name = build_name or list(JOBS)[rng.randrange(len(JOBS))]
    fails = rng.choice([0, 0, 0, 0, 1, 2, 0, 5])
    return {
        "id": 1000 - i, "uuid": f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-8{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}",
        "run_at": iso(now() - timedelta(minutes=11 * i + 3)),
        "passes": 1200 + rng.randrange(300) if name.startswith(("tempest", "nova", "neutron", "cinder", "ironic", "devstack", "heat")) else 4000 + rng.randrange(900),
        "fails": fails, "skips": rng.randrange(120), "run_time": JOBS.get(name, (0, 0, 900))[2] * (0.85 + 0.3 * rng.random()),
        "artifacts": f"https://logs.example.test/{i:04d}/",
        "metadata": {"build_name": name, "build_queue": rng.choice(["gate", "check"]),
                     "project": "openstack/nova", "build_change": str(880000 + i), "build_patchset": str(1 + i % 5),
                     "node_provider": rng.choice(["rax-dfw", "ovh-gra1", "vexxhost-ca-ymq-1"])},
    }


def runs(query: dict, meta: list[str]) -> dict:
    limit = int(query.get("limit") or 50)
    offset = int(query.get("offset") or 0)
    build_name = None
    for m in meta:
        key, _, value = m.partition(":")
        if key == "build_name":
            build_name = value
    rows = [_run(i, build_name) for i in range(offset, offset + limit)]
    outcome = query.get("outcome")
    if outcome == "failed":
        rows = [r for r in rows if r["fails"]]
    elif outcome == "passed":
        rows = [r for r in rows if not r["fails"]]
    elif outcome == "empty":
        rows = []
    return {"runs": rows, "total": 1240, "limit": limit, "offset": offset}


def run(run_id: str) -> dict:
    i = zlib.crc32(run_id.encode()) % 100
    r = _run(i)
    r["fails"] = 2
    tests = []
    for j, test_id in enumerate(TESTS):
        status = "fail" if j in (1, 9) else "skip" if j == 6 else "success"
        start = now() - timedelta(minutes=90) + timedelta(seconds=37 * j)
        tests.append({"test_id": test_id, "status": status, "start_time": iso(start),
                      "stop_time": iso(start + timedelta(seconds=3 + j)), "run_time": 3.0 + j * 1.7})
    return {"run": r, "tests": tests}


def recent_failures(query: dict) -> dict:
    limit = int(query.get("limit") or 10)
    out = []
    for i in range(limit):
        rng = _rng("fail", i)
        out.append({"test_id": TESTS[[1, 9, 10, 5][i % 4]], "run_id": str(_run(i)["uuid"]),
                    "build_name": list(JOBS)[rng.randrange(4)], "status": "fail",
                    "run_at": iso(now() - timedelta(minutes=23 * i + 4))})
    return {"failures": out}


def status() -> dict:
    return {"version": "0.1.0", "database": "ok", "newest_run_at": iso(now() - timedelta(minutes=4))}


def answer(path: str, query: dict, multi: dict[str, list[str]]) -> tuple[int, dict]:
    """(status, body) for an /api/v1/ path (already percent-decoded per segment)."""
    parts = path.split("/api/v1/", 1)[1].split("/")
    parts = [unquote(p) for p in parts]
    if parts == ["status"]:
        return 200, status()
    if parts == ["runs", "timeline"]:
        return 200, timeline(query)
    if parts == ["jobs"]:
        return 200, jobs(query)
    if len(parts) == 2 and parts[0] == "jobs":
        return 200, job(parts[1], query)
    if len(parts) == 3 and parts[0] == "jobs" and parts[2] == "tests":
        return 200, job_tests(parts[1], query)
    if parts == ["tests"]:
        return 200, tests(query)
    if len(parts) == 2 and parts[0] == "tests":
        return 200, test(parts[1], query)
    if parts == ["runs"]:
        return 200, runs(query, multi.get("meta", []))
    if len(parts) == 2 and parts[0] == "runs":
        return 200, run(parts[1])
    if parts == ["failures", "recent"]:
        return 200, recent_failures(query)
    return 404, {"error": {"message": f"no such endpoint: {path}", "field": None}}


#: an empty answer of every endpoint (no data in the period)
EMPTY = {
    "status": {"version": "0.1.0", "database": "ok", "newest_run_at": None},
    "runs/timeline": {"group_by": "build_name", "resolution": "hour", "buckets": [], "groups": []},
    "jobs": {"jobs": []},
    "job": {"name": "", "resolution": "hour", "points": [],
            "summary": {"runs": 0, "passed": 0, "failed": 0, "empty": 0,
                        "failure_rate": wilson(0, 0), "mean_run_time": None}},
    "job/tests": {"tests": []},
    "tests": {"tests": [], "total": 0, "limit": 50, "offset": 0},
    "test": {"test_id": "", "resolution": "hour", "points": [], "recent": [],
             "summary": {"runs": 0, "passed": 0, "failed": 0, "skipped": 0,
                         "failure_rate": wilson(0, 0), "mean_run_time": None}},
    "runs": {"runs": [], "total": 0, "limit": 50, "offset": 0},
    "failures/recent": {"failures": []},
}


def empty_answer(path: str) -> tuple[int, dict]:
    parts = path.split("/api/v1/", 1)[1].split("/")
    if parts == ["status"]:
        return 200, dict(status())  # fresh data, else every page shows the stale banner
    if parts == ["runs", "timeline"]:
        return 200, EMPTY["runs/timeline"]
    if parts[0] == "jobs":
        if len(parts) == 1:
            return 200, EMPTY["jobs"]
        return 200, EMPTY["job/tests"] if parts[-1] == "tests" and len(parts) == 3 else EMPTY["job"]
    if parts[0] == "tests":
        return 200, EMPTY["tests"] if len(parts) == 1 else EMPTY["test"]
    if parts[0] == "runs":
        if len(parts) == 1:
            return 200, EMPTY["runs"]
        return 404, {"error": {"message": "No run with this id", "field": "run_id"}}
    if parts == ["failures", "recent"]:
        return 200, EMPTY["failures/recent"]
    return 404, {"error": {"message": f"no such endpoint: {path}", "field": None}}
