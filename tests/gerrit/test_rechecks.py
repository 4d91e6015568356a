"""Recheck requests seen on Gerrit are stored (ci_recheck_requests), once
however often the events arrive, with the CI they name."""
from __future__ import annotations

import re

from health_api.gerrit.store import GerritStore
from health_api.gerrit.systems import CiOverrides, CiSystemConfig
from sshd.helpers import T0, comment_event, created_event, zuul_report

from streams import rows


def test_rechecks_are_stored_once_with_their_target(engine):
    declared = {"acme-ci": CiSystemConfig("acme-ci", overrides=CiOverrides(
        recheck_pattern=re.compile(r"^please run acme", re.M)))}
    events = [
        created_event(7),
        comment_event(7, 1, zuul_report([("flaky", "FAILURE")]), T0 + 100),
        comment_event(7, 1, "Patch Set 1:\n\nrecheck", T0 + 200, author="ada"),
        comment_event(7, 1, "Patch Set 1:\n\nrecheck acme-ci", T0 + 300, author="bob"),
        comment_event(7, 1, "Patch Set 1:\n\nplease run acme again", T0 + 400, author="cy"),
        comment_event(7, 1, "Patch Set 1:\n\nLooks good, no recheck needed", T0 + 500,
                      author="dee"),
        # a report explaining how to recheck is not a request
        comment_event(7, 1, zuul_report([("flaky", "SUCCESS")]) + "\n\nrecheck to run again",
                      T0 + 600),
    ]
    store = GerritStore(engine, declared)
    first = store.store_raw_events(events)
    again = GerritStore(engine, declared).store_raw_events(events)
    assert (first.recheck_requests, again.recheck_requests) == (3, 0)
    found = rows(engine, "SELECT r.requester, r.target, r.source, r.project, ps.number "
                         "FROM ci_recheck_requests r JOIN patch_sets ps ON "
                         "ps.id = r.patch_set_id ORDER BY r.requested_at")
    assert found == [("ada", None, "gerrit", "openstack/nova", 1),
                     ("bob", "acme-ci", "gerrit", "openstack/nova", 1),
                     ("cy", "acme-ci", "gerrit", "openstack/nova", 1)]
