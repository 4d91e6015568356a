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

Speed matters (a backfill parses millions of comments, ~10 job lines each):
regexes are compiled once; cheap ``in``/``startswith`` checks skip work that
cannot match; a canonical Zuul job line (or Jenkins' ``URL : RESULT`` line)
is taken apart with one ``str.split`` and its "RESULT in 4m 21s" tail is
memoized, while any other line goes to the authoritative ``_JOB_LINE`` regex. No pattern here can
backtrack more than linearly in the length of one line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

from health_api.gerrit.events import Approval
from health_api.gerrit.systems import CiOverrides  # re-exported: parse_comment's argument

__all__ = [
    "CiOverrides",
    "JobResult",
    "KNOWN_RESULTS",
    "ParsedComment",
    "approval_votes",
    "job_name_from_url",
    "parse_comment",
    "parse_duration",
]

#: Result words seen in the wild; any other upper-case word is kept as-is.
KNOWN_RESULTS = frozenset({
    "SUCCESS", "FAILURE", "POST_FAILURE", "TIMED_OUT", "RETRY_LIMIT",
    "NODE_FAILURE", "SKIPPED", "ERROR", "ABORTED", "CANCELED", "UNSTABLE",
    "NOT_REGISTERED", "MERGE_CONFLICT",
})
#: results that do not make a buildset fail when no header says otherwise
_PASSING_RESULTS = frozenset({"SUCCESS", "SKIPPED"})


class JobResult(NamedTuple):
    """One job line. A NamedTuple because comments have up to ~100 of these
    and tuple construction is several times cheaper than a frozen dataclass."""

    name: str
    url: str | None
    result: str
    duration_seconds: int | None
    voting: bool
    detail: str | None


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

# The authority on what a job line is; groups: 1 job, 2 url (bullet form),
# 3 url (Jenkins bare-URL form), 4 result, 5 the rest (detail, duration,
# non-voting marker). Tokens are runs of anything but space and tab.
# Possessive quantifiers (*+, ++): what follows each run can never be one of
# its characters, so giving characters back could not help; not trying keeps
# a 1 MB token or word to a single pass.
_JOB_LINE = re.compile(
    r"[ \t]*+(?:[-*][ \t]++([^ \t\n]++)(?:[ \t]++([^ \t\n]++))?|(https?://[^ \t\n]++))"
    r"[ \t]++:[ \t]++([A-Z][A-Z0-9_]*+)(?:[ \t]++(.*))?"
)
_RESULT_WORD = re.compile(r"[A-Z][A-Z0-9_]*+")
#: Zuul's exact tail "RESULT[ in 1h 02m 03s][ (non-voting)]"; a shortcut
#: that must agree with _tail_info on every string it matches
_CANONICAL_TAIL = re.compile(
    r"([A-Z][A-Z0-9_]*+)(?: in (?:(\d{1,6})h )?(?:(\d{1,6})m )?(\d{1,6})s)?( \(non-voting\))?")
# Only the last few dozen characters are searched, so a 1 MB line costs O(1).
_ELAPSED_AT_END = re.compile(
    r"(?:^|(?<=[ \t]))in[ \t]+(?:(\d{1,6})h[ \t]*)?(?:(\d{1,6})m[ \t]*)?(\d{1,6})s\Z")
_ELAPSED_WINDOW = 48
_NON_VOTING = "(non-voting)"
#: first characters of lines that can be job lines (see _JOB_LINE)
_JOB_LINE_STARTS = frozenset("-* \th")
_CANONICAL_BULLETS = frozenset({"- ", "* "})
#: "RESULT[ rest]" -> (result, duration, voting, detail), or False when the
#: text does not start with a result word. Zuul repeats the same few thousand
#: tails ("SUCCESS in 4m 21s") endlessly; bounded by clearing when full.
_RESULT_TAIL_CACHE: dict[str, tuple | bool] = {}
_RESULT_TAIL_CACHE_MAX = 65536
_RESULT_TAIL_CACHE_KEY_MAX = 256
_URL_SCHEMES = ("http://", "https://")
_RECHECK = re.compile(r"^[ \t]*(?:recheck|reverify)(?![A-Za-z0-9_])", re.MULTILINE | re.IGNORECASE)

_DURATION_UNITS = re.compile(
    r"(\d{1,9})[ \t]*(h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?)(?![A-Za-z])",
    re.IGNORECASE)
_DURATION_CLOCK = re.compile(r"(?:(\d{1,6}):)?(\d{1,6}):(\d{1,2})")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}
#: URL path segments that never name a job
_NOISE_SEGMENTS = frozenset({
    "console", "consolefull", "console.html", "console.txt", "index.html",
    "logs", "log", "build", "builds", "artifact", "display", "redirect",
})
_HASHLIKE = re.compile(r"[0-9a-f]{7,64}")


# -- helpers -----------------------------------------------------------------


def parse_duration(text: str | None) -> int | None:
    """Seconds from ``1h 02m 03s``, ``45s``, ``3 min``, ``1:02:03`` or ``93``."""
    if not text:
        return None
    text = text.strip()
    if text.isdigit() and len(text) <= 9:
        return int(text)
    clock = _DURATION_CLOCK.fullmatch(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    total = 0
    found = False
    for amount, unit in _DURATION_UNITS.findall(text):
        total += int(amount) * _UNIT_SECONDS[unit[0].lower()]
        found = True
    return total if found else None


def job_name_from_url(url: str) -> str:
    """A job name for formats that only give a URL (Jenkins Gerrit Trigger).

    Jenkins: every segment after ``/job/`` (folders joined by ``/``).
    Otherwise the last path segment that is not a build number, a hash or
    a log file name; failing that, the URL itself.
    """
    path = url.split("://", 1)[-1]
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")[1:]  # drop the host
    if "job" in segments:
        names = [segments[i + 1] for i, seg in enumerate(segments[:-1])
                 if seg == "job" and segments[i + 1]]
        if names:
            return "/".join(names)
    for segment in reversed(segments):
        if (segment and not segment.isdigit()
                and segment.lower() not in _NOISE_SEGMENTS
                and not _HASHLIKE.fullmatch(segment)):
            return segment
    return url


def approval_votes(approvals: Sequence[Approval] | None) -> dict[str, int] | None:
    """The votes of an event's approvals (label -> value); None without approvals."""
    if not approvals:
        return None
    # Gerrit >= 2.13 lists every label on every comment; a 0 that did not
    # change (no old_value) is "never voted", not a vote.
    return {a.label: a.value for a in approvals
            if a.value != 0 or a.old_value is not None}


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


def _tail_info(rest: str) -> tuple[int | None, bool, str | None]:
    """(duration, voting, detail) from what follows the result word."""
    text = rest.strip(" \t")
    voting = True
    if text.endswith(_NON_VOTING):
        voting = False
        text = text[:-len(_NON_VOTING)].rstrip(" \t")
    duration = None
    elapsed = _ELAPSED_AT_END.search(text, max(0, len(text) - _ELAPSED_WINDOW))
    if elapsed is not None:
        hours, minutes, seconds = elapsed.groups()
        duration = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)
        text = text[:elapsed.start()].rstrip(" \t")
        if text.endswith(_NON_VOTING):  # "(non-voting)" written before the duration
            voting = False
            text = text[:-len(_NON_VOTING)].rstrip(" \t")
    return duration, voting, text or None


def _result_tail(text: str) -> tuple | bool:
    """Memoized parse of a tab-free "RESULT[ rest]" (the text after " : ")."""
    info = _RESULT_TAIL_CACHE.get(text)
    if info is not None:
        return info
    canonical = _CANONICAL_TAIL.fullmatch(text)
    if canonical is not None:  # what Zuul writes: one C call instead of _tail_info
        result, hours, minutes, seconds, nonvoting = canonical.groups()
        duration = None
        if seconds is not None:
            duration = int(seconds)
            if minutes is not None:
                duration += int(minutes) * 60
            if hours is not None:
                duration += int(hours) * 3600
        info = (result, duration, nonvoting is None, None)
    else:
        result, _, rest = text.partition(" ")
        info = (result,) + _tail_info(rest) if _RESULT_WORD.fullmatch(result) else False
    if len(text) <= _RESULT_TAIL_CACHE_KEY_MAX:
        if len(_RESULT_TAIL_CACHE) >= _RESULT_TAIL_CACHE_MAX:
            _RESULT_TAIL_CACHE.clear()
        _RESULT_TAIL_CACHE[text] = info
    return info


def _general_job(line: str) -> JobResult | None:
    """Parse one line with the authoritative regex (any spacing, any form)."""
    match = _JOB_LINE.fullmatch(line)
    if match is None:
        return None
    name, url, bare_url, result, rest = match.groups()
    if bare_url:
        url = bare_url
        name = job_name_from_url(url)
    elif not url:
        if "://" in name:  # "- http://jenkins/job/x/1/ : SUCCESS"
            url = name
            name = job_name_from_url(url)
    elif url == name:  # Zuul puts the job name in the URL field when it has none
        url = None
    duration, voting, detail = _tail_info(rest or "")
    return JobResult(name, url, result, duration, voting, detail)


def _builtin_jobs(body: str) -> list[JobResult]:
    jobs: list[JobResult] = []
    append = jobs.append
    cached_tail = _RESULT_TAIL_CACHE.get
    new_job = tuple.__new__
    for line in body.split("\n"):
        if line[:2] in _CANONICAL_BULLETS:
            # Fast path for the canonical "- job url : RESULT..." line: one
            # split and a memoized tail instead of a regex. Whatever it does
            # not accept goes to _general_job, which gives the same answer
            # for the lines it does accept (checked by a property test).
            parts = line.split(" ", 4)
            if len(parts) == 5 and "\t" not in line:
                _, name, url, colon, tail = parts
                if colon == ":" and name and url:
                    info = cached_tail(tail)
                    if info is None:
                        info = _result_tail(tail)
                    if info:
                        append(new_job(JobResult, (name, None if url == name else url) + info))
                        continue
        elif line[:4] == "http":
            # The same for Jenkins' "URL : RESULT..." line
            parts = line.split(" ", 2)
            if len(parts) == 3 and "\t" not in line:
                url, colon, tail = parts
                if colon == ":" and url.startswith(_URL_SCHEMES) and url[-3:] != "://":
                    info = cached_tail(tail)
                    if info is None:
                        info = _result_tail(tail)
                    if info:
                        append(new_job(JobResult, (job_name_from_url(url), url) + info))
                        continue
        elif line[:1] not in _JOB_LINE_STARTS:
            continue
        if " :" not in line and "\t:" not in line:
            continue  # _JOB_LINE needs whitespace before the colon
        job = _general_job(line)
        if job is not None:
            append(job)
    return jobs


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
        if line.startswith(_URL_SCHEMES) and " " not in line and "\t" not in line:
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
    approvals: Sequence[Approval] | None = None,
    overrides: CiOverrides | None = None,
    *,
    votes: dict[str, int] | None = None,
) -> ParsedComment:
    """Parse one Gerrit comment. Never raises for any text.

    Votes come from ``approvals`` by label when there are any (stream
    events); otherwise from the ``Patch Set N: Label+1`` header (REST).
    A caller that has the approvals' votes already (``approval_votes``)
    passes them as ``votes`` instead.
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
        jobs = _builtin_jobs(body)

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
