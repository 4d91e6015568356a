"""The openstack-health routes checked against the real OpenStack-Health's answers
(tests/data/osh-golden/api.json.gz, recorded by tools/osh-golden.py on the demo data of
tests/browser/osh_views.DEMO). The first group are the calls its own client makes for
its six views at osh_views.CLOCK; the rest cover the other routes and slashes in values.
Not here: /status (its "version" is OpenStack-Health's own), /run/<id>/tests (a 500
in OpenStack-Health on this data) and the RSS feed (XML with the request's URL)."""
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
