"""The openstack-health routes checked against the real OpenStack-Health's answers
(tests/data/osh-golden/api.json.gz, recorded by tools/osh-golden.py on the demo data of
tests/browser/osh_views.DEMO). The first group are the calls its own client makes for
its six views at osh_views.CLOCK; the rest cover the other routes and slashes in values.
Not here: /status (its "version" is OpenStack-Health's own), /run/<id>/tests (a 500
in OpenStack-Health given a uuid: compared in the OPNFV set below, by integer id) and the
RSS feed (XML with the request's URL)."""
from __future__ import annotations

W7 = "start_date=2026-09-27T01:00:00.000Z&stop_date=2026-10-04T01:00:00.000Z"
W14 = "start_date=2026-09-20T01:00:00.000Z&stop_date=2026-10-04T01:00:00.000Z"
TEST = "neutron.tests.unit.test_neutron_0.Test0.test_case_11"
RUN = "e5dd52dea8176a4aa4324188eecbc90c"

CLIENT_CALLS = [
    f"/runs/group_by/project?datetime_resolution=hour&{W7}",
    "/tests/recent/fail",
    "/runs/metadata/keys",
    "/runs/key/build_queue/gate/recent?num_runs=1",
    f"/build_name/tempest-full-py3/test_runs?datetime_resolution=hour&{W7}",
    f"/runs/key/build_name/tempest-full-py3?datetime_resolution=hour&{W7}",
    "/runs/key/build_name/tempest-full-py3/recent",
    f"/test_runs/{TEST}?datetime_resolution=hour&{W7}",
    "/tests/prefix",
    "/tests/prefix/tempest?limit=100&offset=0",
    f"/runs/key/node_provider/rax-ord?datetime_resolution=hour&{W14}",
    "/runs/key/node_provider/rax-ord/recent",
]
OTHER = [
    f"/runs/group_by/build_name?datetime_resolution=day&{W7}",
    f"/runs/group_by/project?datetime_resolution=min&{W7}",
    f"/build_name/openstack-tox-py312-nova/test_runs?datetime_resolution=day&{W7}",
    f"/runs/key/project/openstack/nova?datetime_resolution=day&{W7}",
    "/runs/key/project/openstack/nova/recent",
    "/runs/key/project/openstack/nova/recent/detail?num_runs=3",
    "/build_name/tempest-full-py3/runs",
    f"/runs?{W7}",
    "/tests",
    f"/run/{RUN}/test_runs",
    f"/test_runs/{TEST}?datetime_resolution=day&{W7}",
]
ROUTES = CLIENT_CALLS + OTHER
#: routes where OpenStack-Health itself fails on PostgreSQL and SQLite (its `offset` is
#: passed to SQL as a string): recorded from it on MariaDB, where that worked
FROM_MYSQL = {"/tests/prefix/tempest?limit=100&offset=0"}
#: answers whose list order OpenStack-Health leaves to a set or the database
UNORDERED = {"/runs/metadata/keys", "/tests/prefix"}
#: answers whose rows OpenStack-Health leaves in the database's order ({field: [rows]}):
#: compared sorted by their integer id
UNORDERED_ROWS = {"/tests": "tests"}


# -- the OPNFV golden set: a database the REAL subunit2sql built ------------------

#: subunit2sql's tables, as tools/osh-golden.py --opnfv dumps them and the test loads them
SUBUNIT2SQL_TABLES = ("tests", "runs", "test_runs", "run_metadata", "test_run_metadata",
                      "test_metadata", "attachments")
OPNFV_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "opnfv-tempest"


def opnfv_runs() -> list[dict]:
    """The 17 OPNFV streams as subunit2sql is given them: run id (the file's digest),
    run_at (the stream's first test start, a minute later per earlier stream of the same
    start: subunit2sql orders recent runs by run_at alone), artifacts, and metadata whose project values
    have a slash (opnfv/<installer>), as OpenStack project names do."""
    import datetime as dt
    from health_api.ingest.subunit import parse_subunit
    runs, seen = [], {}
    for path in sorted(OPNFV_DIR.glob("*.subunit")):
        scenario, digest = path.stem.rsplit("-", 1)
        starts: list[dt.datetime] = []
        with open(path, "rb") as f:
            parse_subunit(f, lambda r: starts.append(r.start_time), source_name=path.name)
        first = min(s for s in starts if s is not None)
        first = first.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        seen[first] = seen.get(first, -1) + 1
        first += dt.timedelta(minutes=seen[first])
        runs.append({"path": path, "uuid": digest, "run_at": first.isoformat(sep=" "),
                     "artifacts": f"https://logs.example.org/opnfv/{scenario}/{digest}/",
                     "meta": {"build_name": scenario,
                              "project": "opnfv/" + scenario.split("-", 1)[0],
                              "build_queue": "periodic"}})
    return runs


OPNFV_WINDOW = "start_date=2016-02-01T00:00:00.000Z&stop_date=2016-05-01T00:00:00.000Z"
OPNFV_TEST = "tempest.scenario.test_volume_boot_pattern.TestVolumeBootPattern.test_volume_boot_pattern"
OPNFV_RUN = "dbc147a6ddc49ca5"
#: every route at the root of OpenStack-Health's api.py that answers JSON from the
#: database, but /tests/prefix/<p> (its offset reaches SQL as a string: a 500 on
#: PostgreSQL, and subunit2sql cannot build this database on MariaDB) and /status
OPNFV_ROUTES = [
    "/runs/metadata/keys",
    f"/runs/group_by/build_name?datetime_resolution=day&{OPNFV_WINDOW}",
    "/runs/group_by/project?datetime_resolution=hour",
    f"/runs/key/project/opnfv/fuel?datetime_resolution=day&{OPNFV_WINDOW}",
    "/runs/key/project/opnfv/fuel/recent",
    "/runs/key/project/opnfv/compass/recent/detail?num_runs=3",
    f"/runs/key/build_name/compass-os-onos-nofeature-ha?datetime_resolution=hour&{OPNFV_WINDOW}",
    "/runs/key/build_queue/periodic/recent?num_runs=20",
    f"/build_name/fuel-os-nosdn-ovs-ha/test_runs?datetime_resolution=day&{OPNFV_WINDOW}",
    "/build_name/compass-os-nosdn-nofeature-ha/test_runs?datetime_resolution=hour",
    "/build_name/compass-os-odl_l2-nofeature-ha/runs",
    "/runs",
    f"/runs?{OPNFV_WINDOW}",
    "/tests",
    "/tests/prefix",
    "/tests/recent/fail?num_runs=5",
    f"/test_runs/{OPNFV_TEST}?datetime_resolution=day&{OPNFV_WINDOW}",
    f"/test_runs/{OPNFV_TEST}?datetime_resolution=hour",
    f"/run/{OPNFV_RUN}/test_runs",
    "/run/3/tests",
]
#: answers in the database's order: compared sorted (keys), or their rows by id
OPNFV_UNORDERED = {"/runs/metadata/keys", "/tests/prefix"}
OPNFV_UNORDERED_ROWS = {"/tests": "tests", "/run/3/tests": "tests"}
