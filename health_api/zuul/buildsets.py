"""Zuul web ``buildsets`` entries as verdicts (pure).

A buildset is Zuul's run of one pipeline on one item. When jobs ran, its
builds are the verdicts (read from the ``builds`` route): the buildset is
not stored again. When none ran, the buildset's result is the only verdict
Zuul gave the patch set (MERGE_CONFLICT/MERGE_FAILURE: the change does not
merge; CONFIG_ERROR: it breaks Zuul's configuration; NO_JOBS: nothing to
run): it is stored as one result of the pseudo job ``BUILDSET_JOB``,
classified by health_api.rules.CI_RESULT_CLASS like any job result.

Two shapes, as for builds: up to Zuul 9 the change is flat on the buildset
(``project``, ``branch``, ``change``, ``patchset`` ...); from Zuul 10 it is
in ``refs`` (a list of ref objects). Times: ``last_build_end_time``, else
``event_timestamp`` (releases before 4.x give neither).
"""
from __future__ import annotations

from typing import Any, Mapping

from ..verdicts import Verdict
from .builds import NO_CHANGE, RUNNING, entry_time, positive_int, text_field

__all__ = ["BUILDSET_JOB", "NO_BUILD_RESULTS", "buildset_time", "buildset_verdict",
           "is_buildset"]

#: the job name a buildset without builds is stored under
BUILDSET_JOB = "(buildset)"
#: buildset results that mean no build ran (MERGE_CONFLICT: before Zuul 4.x)
NO_BUILD_RESULTS = frozenset({"MERGE_CONFLICT", "MERGE_FAILURE", "CONFIG_ERROR", "NO_JOBS"})
#: why a buildset is not stored (besides RUNNING, NO_CHANGE); keys of ImportStats.skipped
HAS_BUILDS, NO_TIME = "has_builds", "no_time"


def is_buildset(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("uuid"), str) \
        and "job_name" not in entry and ("refs" in entry or "change" in entry)


def buildset_time(entry: Mapping[str, Any]):
    return entry_time(entry, "last_build_end_time", "event_timestamp")


def _ref(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    refs = entry.get("refs")
    if isinstance(refs, list):  # Zuul 10: the first ref is the item's change
        return refs[0] if refs and isinstance(refs[0], dict) else {}
    return entry


def buildset_verdict(entry: Mapping[str, Any], ci_system: str) -> Verdict | str:
    """The verdict of a buildset without builds, or why it has none
    (RUNNING, HAS_BUILDS, NO_CHANGE, NO_TIME)."""
    result = entry.get("result")
    if not isinstance(result, str) or not result:
        return RUNNING
    if result.upper() not in NO_BUILD_RESULTS:
        return HAS_BUILDS  # its builds are the verdicts
    ref = _ref(entry)
    change, patch_set = positive_int(ref.get("change")), positive_int(ref.get("patchset"))
    if change is None or patch_set is None:
        return NO_CHANGE
    posted = buildset_time(entry)
    if posted is None:
        return NO_TIME
    return Verdict(
        ci_system=ci_system, change=change, patch_set=patch_set, job=BUILDSET_JOB,
        result=result, posted_at=posted, source="zuul",
        result_key="zuul-buildset:" + entry["uuid"],
        pipeline=text_field(entry, "pipeline"), detail=text_field(entry, "message"),
        project=text_field(ref, "project"), branch=text_field(ref, "branch"),
        revision=text_field(ref, "newrev"))
