"""The openstack-health compatibility wing: the routes at the root that answer as
openstack-health (github.com/openstack/openstack-health, Apache-2.0) did, so its users,
its AngularJS dashboard and scripts written against it switch to ci-health unchanged.

- ``routes``: the blueprint (declarative specs, thin views)
- ``reports``: one function per route, queries in, answer out
- ``shaping``: openstack-health's JSON shapes from query rows (its keys, its bucket keys,
  its padding, its status classes and run-time means, quirks included)
- ``rollup``: ``ch_osh_test_daily``, the rollup behind /build_name/<name>/test_runs at
  day resolution (counts and the trailing duration sum its resetting running mean needs)
  and its upkeep (writer, rebuild-rollups, --missing, expire)
- ``parts_sql``: the SQL of that rollup's parts (of a set of runs, of one run)
- ``day_buckets``: that route at day resolution, read from it
- ``jsonp``: ``callback=NAME`` answers, as its client fetches every route by JSONP

Checked against its recorded answers (tests/data/osh-golden/: tests/compat/
test_osh_golden.py on generated gate data, test_osh_opnfv.py on a database the real
subunit2sql built from the OPNFV streams; SQLite/PostgreSQL/MariaDB). Same answers:
/runs/metadata/keys, /runs/group_by/<key>, /runs/key/<key>/<value>, .../recent, .../recent/detail,
/tests/recent/<status>, /build_name/<name>/test_runs, /build_name/<name>/runs, /runs,
/test_runs/<test_id> (hour and day), /tests, /tests/prefix, /tests/prefix/<prefix>,
/run/<id>/test_runs. Rows as subunit2sql's to_dict() gave them (integer id, the uuid
apart, tests.run_time, run_at and result times RFC 1123 as Flask's jsonify wrote a
datetime), every row, unpaginated, as it answered (/tests/prefix/<prefix> alone takes
limit and offset, any, as it did). /run/<id>/tests is compared given an integer id
(given a uuid, a 500 in openstack-health on PostgreSQL: it compared the uuid with
test_runs.run_id; here the run is found by uuid or integer id). Not compared: /status
(its version is its own), .../recent/rss, and / (its route list; ci-health's / is its
dashboard).

Where openstack-health itself failed, this answers what it would have had it worked:
NaN means are null (invalid JSON there), or left out of /runs/key's numeric series,
and of /test_runs/<test_id>'s numeric entries, whose points its client skips when NaN
but would draw at 0 (/runs/key) or NaN (/test_runs) when null; /tests/prefix/<p>
takes an integer offset on every engine (a string there, which only MySQL accepted);
/run/<id>/test_runs takes a NULL microsecond column as the time's own (replace() failed
there) and gives metadata to a test whose first result had none (a KeyError there).
Bounds, none of which openstack-health had: /runs, /tests, /build_name/<name>/runs and
/run/<id>/tests answer at most 1,000,000 rows, /runs/group_by and /runs/key read at most
500,000 runs, /build_name/<name>/test_runs answers at most 2,000,000 (bucket, test)
entries and /test_runs/<test_id> reads at most 2,000,000 results (400 beyond). /test_runs/<test_id> computes each resolution (openstack-health
cached its data per window without the resolution: a second resolution of a window got
the first one's answer there).

The v1 API (health_api/api/) does not import from here except for the JSONP switch
in the shared response cache; removing this package and its blueprint line in app.py
removes the legacy surface.
"""
