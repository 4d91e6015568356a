"""The openstack-health compatibility wing: the routes at the root that answer as
openstack-health (github.com/openstack/openstack-health, Apache-2.0) did, so its users,
its AngularJS dashboard and scripts written against it switch to ci-health unchanged.

- ``routes``: the blueprint (declarative specs, thin views)
- ``reports``: one function per route, queries in, answer out
- ``shaping``: openstack-health's JSON shapes from query rows
- ``jsonp``: ``callback=NAME`` answers, as its client fetches every route by JSONP

The v1 API (health_api/api/) does not import from here except for the JSONP switch
in the shared response cache; removing this package and its blueprint line in app.py
removes the legacy surface.
"""
