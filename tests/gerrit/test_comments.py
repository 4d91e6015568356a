"""health_api.gerrit.comments: the CI report comment parser."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from health_api.gerrit import joblines
from health_api.gerrit.comments import (
    KNOWN_RESULTS,
    CiOverrides,
    JobResult,
    ParsedComment,
    job_name_from_url,
    parse_comment,
    parse_duration,
)
from health_api.gerrit.systems import load_ci_systems

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "tests" / "data" / "gerrit" / "comments"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
SAMPLE_SYSTEMS = ROOT / "etc" / "ci-systems.yaml.sample"


def read_comment(name: str) -> str:
    # newline="" keeps the CRLF comment's line endings as Gerrit sent them
    with open(CORPUS / name, encoding="utf-8", newline="") as handle:
        return handle.read()


def as_dict(parsed: ParsedComment) -> dict:
    return {
        "votes": parsed.votes, "pipeline": parsed.pipeline, "buildset_url": parsed.buildset_url,
        "header": parsed.header, "overall": parsed.overall,
        "jobs": [list(job) for job in parsed.jobs], "parsed": parsed.parsed,
        "patch_set_number": parsed.patch_set_number, "recheck": parsed.recheck,
    }


DEFAULTS = {"votes": {}, "pipeline": None, "buildset_url": None, "header": None, "overall": None,
            "jobs": [], "parsed": False, "patch_set_number": None, "recheck": False}
INPUT_KEYS = ("approvals", "ci")


# -- the corpus ----------------------------------------------------------------


def test_corpus_files_and_expectations_match():
    files = sorted(p.name for p in CORPUS.glob("*.txt"))
    assert files == sorted(EXPECTED)
    assert len(files) >= 40


def approval(label: str, value: int, old_value: int | None) -> dict:
    """One entry of a stream event's ``approvals``, as Gerrit sends it."""
    entry = {"type": label, "description": label, "value": value}
    if old_value is not None:
        entry["oldValue"] = old_value
    return entry


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_comment(name):
    spec = EXPECTED[name]
    approvals = [approval(label, value, old) for label, value, old in spec.get("approvals", [])]
    overrides = None
    if "ci" in spec:
        overrides = load_ci_systems(SAMPLE_SYSTEMS)[spec["ci"]].overrides
    expected = dict(DEFAULTS, **{k: v for k, v in spec.items() if k not in INPUT_KEYS})
    parsed = parse_comment(read_comment(name), approvals or None, overrides)
    assert as_dict(parsed) == expected
    assert all(type(job) is JobResult for job in parsed.jobs)


def test_corpus_covers_every_result_word_and_format():
    results = {job[2] for spec in EXPECTED.values() for job in spec.get("jobs", [])}
    assert KNOWN_RESULTS <= results
    assert results - KNOWN_RESULTS == {"SOMETHING_NEW", "DISK_FULL"}
    texts = {name: read_comment(name) for name in EXPECTED}
    assert any("\n* " in t for t in texts.values()) and any("\n- " in t for t in texts.values())
    assert any("(non-voting)" in t for t in texts.values())
    assert {spec.get("overall") for spec in EXPECTED.values()} == {
        None, "SUCCESS", "FAILURE", "MERGE_CONFLICT", "CANCELED"}
    assert sum(spec.get("recheck", False) for spec in EXPECTED.values()) == 5
    assert sum(not spec.get("parsed", False) for spec in EXPECTED.values()) >= 15


# -- pieces ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("45s", 45), ("3m 05s", 185), ("1h 02m 03s", 3723), ("2h 00m 00s", 7200),
    ("12 min", 720), ("1 hour 2 minutes", 3720), ("3m05s", 185), ("1:02:03", 3723),
    ("02:03", 123), ("93", 93), (" 7 sec ", 7), ("", None), (None, None), ("soon", None),
    ("9" * 20, None),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("url", "name"), [
    ("http://jenkins/job/foo-bar/123/", "foo-bar"),
    ("https://jenkins.example.org/job/team/job/tempest/7/console", "team/tempest"),
    ("https://jenkins.example.org/job/foo/lastBuild/?x=1#y", "foo"),
    ("http://logs.example.org/45/712345/3/check/dsvm-tempest/9f8e7d6/", "dsvm-tempest"),
    ("http://ci.example.net/results/acme-unit/1234567/console.html", "acme-unit"),
    ("https://ci.example.net/", "https://ci.example.net/"),
    ("http://ci.example.net/1234/", "http://ci.example.net/1234/"),
])
def test_job_name_from_url(url, name):
    assert job_name_from_url(url) == name


@pytest.mark.parametrize(("text", "votes"), [
    ("Patch Set 3: Verified+1", {"Verified": 1}),
    ("Patch Set 3: Verified-1 Code-Review+2", {"Verified": -1, "Code-Review": 2}),
    ("Patch Set 3: -Verified", {"Verified": 0}),
    ("Patch Set 3: Verified+2 Workflow+1\n\nThanks", {"Verified": 2, "Workflow": 1}),
    ("Patch Set 3: Looks good to me, approved", {}),
    ("Patch Set 3: Code-Review-2 (1 comment)", {"Code-Review": -2}),
    ("Patch Set 3:", {}),
    ("Verified+1", {}),  # only a Gerrit header carries votes
])
def test_votes_from_header_without_approvals(text, votes):
    assert parse_comment(text).votes == votes
    assert parse_comment(text, []).votes == votes


def test_votes_come_from_approvals_by_label_not_position():
    approvals = [approval("Workflow", 0, None), approval("Code-Review", 0, 1),
                 approval("Verified", -1, 0)]
    parsed = parse_comment("Patch Set 2: Verified+1 Code-Review+2", approvals)
    # a 0 that did not change is "never voted"; a change to 0 is a removed vote
    assert parsed.votes == {"Code-Review": 0, "Verified": -1}


@pytest.mark.parametrize(("line", "job"), [
    ("- j https://x : FAILURE in 3m 05s (non-voting)", JobResult("j", "https://x", "FAILURE", 185, False, None)),
    ("- j https://x : FAILURE (non-voting) in 3m 05s", JobResult("j", "https://x", "FAILURE", 185, False, None)),
    ("- j https://x : ERROR Job not defined in project", JobResult("j", "https://x", "ERROR", None, True, "Job not defined in project")),
    ("- j https://x : ERROR Timed out waiting in 45s", JobResult("j", "https://x", "ERROR", 45, True, "Timed out waiting")),
    ("- j https://x : SUCCESS in 1h 2m 3s", JobResult("j", "https://x", "SUCCESS", 3723, True, None)),
    ("- j https://x : SUCCESS in 3m", JobResult("j", "https://x", "SUCCESS", None, True, "in 3m")),
    ("- j j : SKIPPED", JobResult("j", None, "SKIPPED", None, True, None)),
    ("- j : NOT_REGISTERED", JobResult("j", None, "NOT_REGISTERED", None, True, None)),
    ("-\tj\thttps://x\t:\tRETRY_LIMIT\tin 45s", JobResult("j", "https://x", "RETRY_LIMIT", 45, True, None)),
    ("http://jenkins/job/foo/1/ : UNSTABLE", JobResult("foo", "http://jenkins/job/foo/1/", "UNSTABLE", None, True, None)),
])
def test_single_job_lines(line, job):
    assert parse_comment(line).jobs == [job]


@pytest.mark.parametrize("line", [
    "- j https://x : success", "- j https://x: SUCCESS", "-j https://x : SUCCESS",
    "- j\tx https://x : SUCCESS", "job https://x : SUCCESS", "> - j https://x : SUCCESS",
    "- j https://x : SUCCESS.", "- a b c : SUCCESS",
])
def test_lines_that_are_not_job_lines(line):
    assert parse_comment(line).jobs == []


def test_patch_set_number_from_header():
    assert parse_comment("Patch Set 12: Verified+1").patch_set_number == 12
    assert parse_comment("Patch Set 1234567890: x").patch_set_number is None
    assert parse_comment("Uploaded patch set 3.").patch_set_number is None


def test_none_and_empty_text():
    assert parse_comment(None) == ParsedComment(votes={})
    assert parse_comment("") == ParsedComment(votes={})


def test_overall_without_header_falls_back_to_jobs():
    lines = "- unit https://x/1 : SUCCESS\n- lint https://x/2 : FAILURE (non-voting)\n"
    assert parse_comment(lines).overall == "SUCCESS"
    assert parse_comment(lines + "- func https://x/3 : POST_FAILURE\n").overall == "FAILURE"
    assert parse_comment(lines + "- func https://x/3 : SKIPPED\n").overall == "SUCCESS"


def test_overrides_take_precedence_and_map_results():
    import re
    overrides = CiOverrides(
        result_patterns=(re.compile(r"^(?P<job>\w+) => (?P<result>\w+)$", re.MULTILINE),),
        result_map={"OK": "SUCCESS"})
    text = "Build succeeded.\n\nunit => ok\n- lint https://x/2 : FAILURE\n"
    assert parse_comment(text, None, overrides).jobs == [
        JobResult("unit", None, "SUCCESS", None, True, None)]
    # when the overrides find nothing, the built-in formats still apply
    assert parse_comment("- lint https://x/2 : FAILURE", None, overrides).jobs == [
        JobResult("lint", "https://x/2", "FAILURE", None, True, None)]


def test_override_recheck_adds_to_builtin_recheck():
    import re
    overrides = CiOverrides(recheck_pattern=re.compile(r"^acme: again$", re.MULTILINE))
    assert parse_comment("Patch Set 1:\n\nacme: again", None, overrides).recheck is True
    assert parse_comment("Patch Set 1:\n\nacme: again").recheck is False
    assert parse_comment("Patch Set 1:\n\nrecheck", None, overrides).recheck is True


def test_tail_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(joblines, "_RESULT_TAIL_CACHE_MAX", 10)
    joblines._RESULT_TAIL_CACHE.clear()
    for seconds in range(50):
        job, = parse_comment(f"- j https://x : SUCCESS in {seconds}s").jobs
        assert job.duration_seconds == seconds
    assert 0 < len(joblines._RESULT_TAIL_CACHE) <= 10


# -- robustness and speed ----------------------------------------------------------

MEGABYTE = 1 << 20
PATHOLOGICAL = {
    "duration-like words": "- job https://x : ERROR " + "in 1s " * (MEGABYTE // 6) + "x",
    "many tokens": "- " + "a " * (MEGABYTE // 2),
    "one long token": "- " + "a" * MEGABYTE + " : SUCCESS",
    "long result word": "- a b : " + "A" * MEGABYTE + "x",
    "spaces then colon": "- a" + " \t" * (MEGABYTE // 2) + ":",
    "header prefix": "Build failed (" + "x" * MEGABYTE,
    "patch set digits": "Patch Set " + "9" * MEGABYTE,
    "vote tokens": "Patch Set 1: " + "Code-Review-" * (MEGABYTE // 12),
    "newlines": "\n" * MEGABYTE,
    "colons": " : " * (MEGABYTE // 3),
    "recheck-ish": "rechec" * (MEGABYTE // 6),
    "buildset urls": "https://x/buildset/ y" * (MEGABYTE // 21),
    "bullet lines": "- a b : SUCCESS in 1h " * (MEGABYTE // 22),
    "job lines": "- a https://x : SUCCESS in 3m 05s\n" * (MEGABYTE // 34),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_megabyte_input_is_fast(name):
    text = PATHOLOGICAL[name]
    assert len(text) >= MEGABYTE - 64
    start = time.perf_counter()
    parse_comment(text)
    # Linear parsing takes ~0.05 s; catastrophic backtracking would take minutes.
    # The bound is loose so a loaded CI machine cannot fail it (speed itself is
    # measured by bench/comment_parse.py, not here).
    assert time.perf_counter() - start < 5.0


def test_a_megabyte_of_free_text_is_unparsed_with_votes_kept():
    text = "Patch Set 2: Code-Review+1\n\n" + ("Looks good. " * 90000)
    parsed = parse_comment(text)
    assert (parsed.parsed, parsed.votes, parsed.jobs) == (False, {"Code-Review": 1}, [])


@settings(max_examples=500, deadline=None)
@given(text=st.text())
def test_any_text_parses_without_error(text):
    parsed = parse_comment(text)
    assert isinstance(parsed.parsed, bool)
    assert parsed.parsed == (parsed.header is not None or bool(parsed.jobs))
    for job in parsed.jobs:
        assert job.name and job.result
        assert job.duration_seconds is None or job.duration_seconds >= 0


# Pieces that make the parser's interesting cases likely in generated lines.
LINE_PIECES = st.sampled_from([
    "- ", "* ", "-", "*", " ", "  ", "\t", ":", " : ", " :", ": ", "job", "j-1", "https://x/a",
    "http://jenkins/job/foo/1/", "SUCCESS", "FAILURE", "NEW_WORD", "X", "success", " in ", "in",
    "3m", "05s", "1h", "0s", "45s", " (non-voting)", "(non-voting)", "detail", "\u00a0", "é", "\x0b",
])


@settings(max_examples=1500, deadline=None)
@given(pieces=st.lists(LINE_PIECES, max_size=12))
@example(pieces=["- ", "job", "\t", "x", " ", "https://x/a", " : ", "SUCCESS"])  # tab inside a token
@example(pieces=["- ", " ", "job", " : ", "SUCCESS"])  # two spaces: no empty job name
@example(pieces=["- ", "job", "  ", ":", " ", "SUCCESS"])  # two spaces: no empty URL
@example(pieces=["- ", "job", " ", "job", " : ", "X", " in ", "45s", "(non-voting)"])
@example(pieces=["- ", "job", " ", "https://x/a", " : ", "X", " (non-voting)", " in ", "3m", " ", "05s"])
@example(pieces=["http://jenkins/job/foo/1/", " : ", "SUCCESS", " in ", "45s"])  # Jenkins form
@example(pieces=["https://x/a", " : ", "X", " ", "(non-voting)"])
@example(pieces=["https://", " : ", "SUCCESS"])  # a scheme alone is no URL
def test_fast_path_agrees_with_the_general_job_regex(pieces):
    line = "".join(pieces)
    joblines._RESULT_TAIL_CACHE.clear()  # exercise the miss path, canonical or not
    general = joblines._general_job(line)
    assert joblines.builtin_jobs(line) == ([] if general is None else [general])
    assert joblines.builtin_jobs(line) == ([] if general is None else [general])  # cache hit


# -- round trip: render Zuul reports, parse them back -------------------------------

RESULT_WORDS = st.sampled_from(sorted(KNOWN_RESULTS)) | st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True)
JOB_NAMES = st.from_regex(r"[a-z][a-z0-9_.-]{0,30}", fullmatch=True)
DETAIL_WORDS = st.sampled_from(["Project", "foo", "does", "not", "exist", "Build", "took", "too",
                                "long", "Unable", "to", "freeze", "job", "graph:", "the", "node"])


@st.composite
def zuul_jobs(draw):
    name = draw(JOB_NAMES)
    has_url = draw(st.booleans())
    url = f"https://zuul.example.org/t/x/build/{draw(st.uuids()).hex}" if has_url else None
    detail = draw(st.none() | st.lists(DETAIL_WORDS, min_size=1, max_size=6).map(" ".join))
    duration = draw(st.none() | st.integers(min_value=0, max_value=99 * 3600))
    return JobResult(name, url, draw(RESULT_WORDS), duration, draw(st.booleans()), detail)


def render_elapsed(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f" in {hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f" in {minutes}m {secs:02d}s"
    return f" in {secs}s"


def render_zuul(jobs, bullets, header, pipeline) -> str:
    lines = []
    for job, bullet in zip(jobs, bullets):
        url = job.url or job.name  # what Zuul writes when a job has no URL
        detail = f" {job.detail}" if job.detail else ""
        elapsed = "" if job.duration_seconds is None else render_elapsed(job.duration_seconds)
        voting = "" if job.voting else " (non-voting)"
        lines.append(f"{bullet} {job.name} {url} : {job.result}{detail}{elapsed}{voting}")
    suffix = f" ({pipeline} pipeline)." if pipeline else "."
    return f"Patch Set 2: Verified+1\n\n{header}{suffix}\n\n" + "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(jobs=st.lists(zuul_jobs(), max_size=20), data=st.data(),
       header=st.sampled_from(["Build succeeded", "Build failed", "Build canceled"]),
       pipeline=st.none() | st.sampled_from(["check", "gate", "third-party-check"]))
def test_rendered_zuul_reports_round_trip(jobs, data, header, pipeline):
    bullets = data.draw(st.lists(st.sampled_from("-*"), min_size=len(jobs), max_size=len(jobs)))
    parsed = parse_comment(render_zuul(jobs, bullets, header, pipeline))
    assert parsed.jobs == jobs
    assert parsed.parsed is True
    assert parsed.pipeline == pipeline
    assert parsed.overall == {"Build succeeded": "SUCCESS", "Build failed": "FAILURE",
                              "Build canceled": "CANCELED"}[header]
    assert parsed.votes == {"Verified": 1}
    assert parsed.patch_set_number == 2


@settings(max_examples=200, deadline=None)
@given(jobs=st.lists(zuul_jobs(), min_size=1, max_size=5))
def test_rendered_reports_round_trip_with_crlf_and_approvals(jobs):
    text = render_zuul(jobs, ["-"] * len(jobs), "Build failed", "gate").replace("\n", "\r\n")
    parsed = parse_comment(text, [approval("Verified", -2, 0)])
    assert parsed.jobs == jobs
    assert parsed.votes == {"Verified": -2}


def test_round_trip_example_is_exact():
    jobs = [JobResult("a", "https://x/1", "SUCCESS", 3723, False, None),
            JobResult("b", None, "ERROR", None, True, "Project foo does not exist"),
            JobResult("c", "https://x/3", "FAILURE", 7200, True, "Build took too long")]
    text = render_zuul(jobs, "-*-", "Build failed", "check")
    assert text == (
        "Patch Set 2: Verified+1\n\nBuild failed (check pipeline).\n\n"
        "- a https://x/1 : SUCCESS in 1h 02m 03s (non-voting)\n"
        "* b b : ERROR Project foo does not exist\n"
        "- c https://x/3 : FAILURE Build took too long in 2h 00m 00s\n")
    assert parse_comment(text).jobs == jobs


@settings(max_examples=200, deadline=None)
@given(word=st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True))
def test_any_upper_case_result_word_is_kept_as_is(word):
    assume(word)
    job, = parse_comment(f"- job https://x : {word}").jobs
    assert job.result == word
