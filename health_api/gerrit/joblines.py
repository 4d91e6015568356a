"""Job lines of CI report comments: the per-job part of ``comments.py``.

A canonical Zuul job line (``- JOB URL : RESULT in 1h 02m 03s``) or
Jenkins' ``URL : RESULT`` line is taken apart with one ``str.split`` and its
"RESULT in 4m 21s" tail is memoized; any other line goes to the
authoritative ``_JOB_LINE`` regex. No pattern here can backtrack more than
linearly in the length of one line. Also the helpers for formats that give
a duration as text or a job only as a URL.
"""
from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["JobResult", "KNOWN_RESULTS", "URL_SCHEMES", "builtin_jobs", "job_name_from_url",
           "parse_duration"]

#: Result words seen in the wild; any other upper-case word is kept as-is.
KNOWN_RESULTS = frozenset({
    "SUCCESS", "FAILURE", "POST_FAILURE", "TIMED_OUT", "RETRY_LIMIT",
    "NODE_FAILURE", "SKIPPED", "ERROR", "ABORTED", "CANCELED", "UNSTABLE",
    "NOT_REGISTERED", "MERGE_CONFLICT",
})


class JobResult(NamedTuple):
    """One job line. A NamedTuple because comments have up to ~100 of these
    and tuple construction is several times cheaper than a frozen dataclass."""

    name: str
    url: str | None
    result: str
    duration_seconds: int | None
    voting: bool
    detail: str | None


# -- patterns ----------------------------------------------------------------

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
URL_SCHEMES = ("http://", "https://")
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
    if text.isascii() and text.isdigit() and len(text) <= 9:
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


def builtin_jobs(body: str) -> list[JobResult]:
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
                if colon == ":" and url.startswith(URL_SCHEMES) and url[-3:] != "://":
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
