"""Pure, fast parser for CI report comments left on Gerrit changes.

Formats understood without configuration:

* the Gerrit vote header ``Patch Set 3: Verified+1 Code-Review-1`` (used for
  votes only when the event carried no approvals, e.g. REST messages);
* Zuul (v2 and v3+): ``Build succeeded (check pipeline).``, an optional
  buildset URL line, then ``- JOB URL : RESULT[ detail][ in 1h 02m 03s][ (non-voting)]``
  per job, with ``-`` or ``*`` bullets;
* Jenkins Gerrit Trigger: ``Build Successful`` then ``URL : RESULT`` lines,
  the job name taken from the URL.

Anything else is kept with ``parsed=False`` (votes are still reported).
Per-CI formats come in through ``CiOverrides`` (see ``systems.py``).

Speed matters (a backfill parses millions of comments): regexes are
compiled once and cheap ``in``/``startswith`` checks skip work that cannot
match. Job lines, most of the work, are parsed in ``joblines.py``. No
pattern here can backtrack more than linearly in the length of one line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from health_api.gerrit.fields import approval_votes
from health_api.gerrit.joblines import (KNOWN_RESULTS, URL_SCHEMES, JobResult, builtin_jobs,
                                        job_name_from_url, parse_duration)
from health_api.gerrit.systems import CiOverrides  # re-exported: parse_comment's argument

__all__ = [
    "CiOverrides",
    "JobResult",
    "KNOWN_RESULTS",
    "ParsedComment",
    "job_name_from_url",
    "parse_comment",
    "parse_duration",
]

#: results that do not make a buildset fail when no header says otherwise
_PASSING_RESULTS = frozenset({"SUCCESS", "SKIPPED"})


@dataclass(slots=True)
class ParsedComment:
    """What one comment says. ``parsed`` is True when it is a recognised CI
    report (a known header or at least one job line); an unparsed comment
    still carries its votes and patch set number."""

    votes: dict[str, int]  # label -> value
    pipeline: str | None = None
    buildset_url: str | None = None
    header: str | None = None  # e.g. "Build succeeded (check pipeline)."
    overall: str | None = None  # SUCCESS, FAILURE, MERGE_CONFLICT, CANCELED or None
    jobs: list[JobResult] = field(default_factory=list)
    parsed: bool = False  # recognised as a CI report
    patch_set_number: int | None = None
    recheck: bool = False


# -- patterns ----------------------------------------------------------------

# Digit runs are bounded (``\d{1,9}`` or less): int() of an unbounded run can
# raise, and no real patch set, vote or duration needs more.
_GERRIT_HEADER = re.compile(r"Patch Set (\d{1,9})(?!\d)(?::[ \t]*([^\n]*))?")
_VOTE_TOKEN = re.compile(r"([A-Za-z][A-Za-z0-9_-]*?)([+-]\d{1,4})|-([A-Za-z][A-Za-z0-9_-]*)")

# A header must end its sentence ("Build failed." / "Build Failed" alone on
# its line) so that prose such as "Build failed on my laptop" is not a report.
_REPORT_HEADER = re.compile(
    r"^[ \t]*(?:"
    r"(?P<verb>Build succeeded|Build failed|Build canceled|Build cancelled|Merge Failed"
    r"|Build Successful|Build Failed|Build Unstable|Build Aborted"
    r"|No Builds Executed|Build Not Built)"
    r"(?: \((?P<pipeline>[^()\n]{1,100}) pipeline\))?(?:\.|[ \t]*$)"
    r"|Build Started(?=[ \t]|$)"  # Jenkins start notice: "Build Started URL (1/2)"
    r"|Starting (?P<start_pipeline>[^\s.]{1,100}) jobs\."  # Zuul start notice
    r")",
    re.MULTILINE,
)
_HEADER_WORDS = ("Build ", "Merge Failed", "Starting ", "No Builds")
_LEADING_NEWLINES = re.compile(r"\n*")
_OVERALL_BY_VERB = {
    "Build succeeded": "SUCCESS",
    "Build Successful": "SUCCESS",
    "Build failed": "FAILURE",
    "Build Failed": "FAILURE",
    "Build Unstable": "FAILURE",
    "Merge Failed": "MERGE_CONFLICT",
    "Build canceled": "CANCELED",
    "Build cancelled": "CANCELED",
    "Build Aborted": "CANCELED",
}

_RECHECK = re.compile(r"^[ \t]*(?:recheck|reverify)(?![A-Za-z0-9_])", re.MULTILINE | re.IGNORECASE)



# -- helpers -----------------------------------------------------------------



def _votes_from_header(vote_text: str) -> dict[str, int]:
    votes: dict[str, int] = {}
    for token in vote_text.split():
        match = _VOTE_TOKEN.fullmatch(token)
        if match is None:
            continue  # "(1 comment)", old-style prose votes, ...
        label, value, removed = match.groups()
        if removed is not None:
            votes[removed] = 0
        else:
            votes[label] = int(value)
    return votes



def _override_jobs(body: str, overrides: CiOverrides) -> list[JobResult]:
    jobs = []
    result_map = overrides.result_map
    for pattern in overrides.result_patterns:
        names = pattern.groupindex
        for match in pattern.finditer(body):
            groups = match.groupdict()
            url = groups.get("url") or None
            name = groups.get("job") or (job_name_from_url(url) if url else None)
            result = (groups.get("result") or "").strip().upper()
            if not name or not result:
                continue
            result = result_map.get(result, result)
            duration = parse_duration(groups.get("duration")) if "duration" in names else None
            detail = (groups.get("detail") or "").strip() or None
            voting = not (groups.get("nonvoting") or "").strip()
            jobs.append(JobResult(name, url, result, duration, voting, detail))
    return jobs


def _find_header(body: str) -> re.Match[str] | None:
    # The header is nearly always the first line of the body: try there
    # before scanning every line start of the comment.
    header = _REPORT_HEADER.match(body, _LEADING_NEWLINES.match(body).end())
    if header is None and any(word in body for word in _HEADER_WORDS):
        header = _REPORT_HEADER.search(body)
    return header


def _find_buildset_url(body: str) -> str | None:
    """The first line that is nothing but a URL containing ``/buildset/``."""
    index = body.find("/buildset/")
    while index >= 0:
        start = body.rfind("\n", 0, index) + 1
        end = body.find("\n", index)
        if end < 0:
            end = len(body)
        line = body[start:end].strip(" \t")
        if line.startswith(URL_SCHEMES) and " " not in line and "\t" not in line:
            return line
        index = body.find("/buildset/", end)
    return None


def _overall_without_header(votes: dict[str, int], jobs: list[JobResult]) -> str:
    """Verdict of a report with job lines but no header: the CI's own vote
    when it cast one, else whether every voting job passed."""
    if votes:
        if min(votes.values()) < 0:
            return "FAILURE"
        if max(votes.values()) > 0:
            return "SUCCESS"
    for job in jobs:
        if job.voting and job.result not in _PASSING_RESULTS:
            return "FAILURE"
    return "SUCCESS"


# -- entry point -------------------------------------------------------------


def parse_comment(
    text: str | None,
    approvals: Any = None,
    overrides: CiOverrides | None = None,
    *,
    votes: dict[str, int] | None = None,
) -> ParsedComment:
    """Parse one Gerrit comment. Never raises for any text.

    Votes come from ``approvals`` (a stream event's ``approvals`` list as
    Gerrit sent it) by label when there are any; otherwise from the
    ``Patch Set N: Label+1`` header (REST). A caller that has the approvals'
    votes already (``fields.approval_votes``) passes them as ``votes`` instead.
    """
    text = text or ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")

    patch_set_number = None
    vote_text = None
    body = text
    if text.startswith("Patch Set "):
        gerrit_header = _GERRIT_HEADER.match(text)
        if gerrit_header is not None:
            number, vote_text = gerrit_header.groups()
            patch_set_number = int(number)
            body = text[gerrit_header.end():]
    if votes is None:
        votes = approval_votes(approvals)
    if votes is None:
        votes = _votes_from_header(vote_text) if vote_text else {}

    jobs: list[JobResult] = []
    if overrides is not None and overrides.result_patterns:
        jobs = _override_jobs(body, overrides)
    if not jobs and (" : " in body or "\t:" in body or ":\t" in body):
        jobs = builtin_jobs(body)

    header = _find_header(body)
    if header is None and not jobs:
        # Only a comment that is not itself a CI report can ask for a recheck
        # (reports often explain "leave a comment with recheck ...").
        recheck = bool(
            _RECHECK.search(body)
            or (overrides is not None and overrides.recheck_pattern is not None
                and overrides.recheck_pattern.search(body)))
        return ParsedComment(votes, None, None, None, None, jobs, False, patch_set_number, recheck)

    header_text = pipeline = overall = None
    if header is not None:
        header_text, verb, pipeline, start_pipeline = header.group(
            0, "verb", "pipeline", "start_pipeline")
        header_text = header_text.strip()
        pipeline = pipeline or start_pipeline
        overall = _OVERALL_BY_VERB.get(verb) if verb else None
    else:
        overall = _overall_without_header(votes, jobs)
    buildset_url = _find_buildset_url(body) if "/buildset/" in body else None
    return ParsedComment(votes, pipeline, buildset_url, header_text, overall, jobs,
                         True, patch_set_number, False)
