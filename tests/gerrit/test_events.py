"""Stream events as every source hands them to the store: decoded dicts
(``events.decode_event_line``) collected into rows (``collect.collect_raw_events``)
with the lenient coercions of ``fields.py``."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from health_api.gerrit.collect import collect_raw_events
from health_api.gerrit.events import EventParseError, decode_event_line, event_key
from health_api.gerrit.fields import approval_fields
from health_api.gerrit.rows import Batch, CiConfig, StoreStats, prepare_batch

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "gerrit" / "events" / "sample.jsonl"
CONFIG = CiConfig()


@pytest.fixture(scope="module")
def sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def sample(sample_lines):
    return [decode_event_line(line) for line in sample_lines]


def naive(seconds: int) -> dt.datetime:
    """What the database stores for Gerrit's epoch seconds: naive UTC."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)


def collect(*raws: dict) -> tuple[Batch, StoreStats]:
    batch, stats = Batch(), StoreStats()
    collect_raw_events(list(raws), batch, stats, CONFIG)
    return batch, stats


def approvals_of(raw: dict) -> list[tuple]:
    """(label, value, old value) of the usable approvals of an event."""
    return [f for f in map(approval_fields, raw.get("approvals", [])) if f is not None]


# -- the fixture file ----------------------------------------------------------


def test_sample_decodes_and_is_counted_by_type(sample):
    assert len(sample) == 31
    assert Counter(e["type"] for e in sample) == {
        "comment-added": 16, "patchset-created": 5, "change-merged": 2, "change-abandoned": 1,
        "change-restored": 1, "dropped-output": 1, "reviewer-added": 1, "ref-updated": 1,
        "topic-changed": 1, "wip-state-changed": 1, "project-created": 1,
    }
    _, stats = collect(*sample)
    assert (stats.events, stats.dropped_output, stats.other_events) == (31, 1, 5)


def test_old_shape_numbers_as_strings(sample):
    batch, stats = collect(sample[0])
    assert sample[0]["type"] == "patchset-created"
    assert batch.changes == {712345: (
        "openstack/nova", "master", "I00000000000000000000000000000000000ade99",
        "Fix volume detach race", "NEW")}
    assert batch.patch_sets == {(712345, 1): ("a" * 40, naive(1600000000), "ada", "REWORK")}
    assert batch.last_event_at == dt.datetime(2020, 9, 13, 12, 26, 41)
    assert stats.skipped_missing == 0


def test_old_shape_comment_added(sample):
    batch, _ = collect(sample[3])
    [comment] = batch.comments
    assert (comment.username, comment.account_id, comment.name) == ("zuul", None, "Zuul")
    assert approvals_of(sample[3]) == [("Verified", -1, 1)]
    assert comment.votes == {"Verified": -1}
    assert (comment.change, comment.patch_set) == (712345, 2)
    assert batch.patch_sets[(712345, 2)][3] == "TRIVIAL_REBASE"
    assert comment.text.startswith("Patch Set 2: Verified-1\n\nBuild failed (check pipeline).")
    assert comment.posted_at == naive(1600008000)


def test_new_shape_ints_and_account_ids(sample):
    batch, _ = collect(sample[9])
    [comment] = batch.comments
    assert (comment.change, comment.patch_set) == (912377, 1)
    assert batch.changes[912377][0] == "openstack/os-brick"
    assert (comment.username, comment.account_id, comment.name) == ("zuul", 22348, "Zuul")
    assert batch.patch_sets[(912377, 1)] == ("c" * 40, dt.datetime(2023, 11, 14, 22, 13, 20),
                                              "ada", "REWORK")
    assert approvals_of(sample[9]) == [
        ("Code-Review", 0, None), ("Verified", -1, 0), ("Workflow", 0, None)]
    # a 0 that did not change is "never voted"
    assert comment.votes == {"Verified": -1}


def test_legacy_approval_categories_use_the_description(sample):
    assert approvals_of(sample[5]) == [("Verified", 1, None), ("Code Review", 0, None)]
    batch, _ = collect(sample[5])
    assert batch.comments[0].votes == {"Verified": 1}


def test_change_lifecycle_events(sample):
    merged, abandoned, restored = sample[7], sample[13], sample[14]
    assert merged["type"] == "change-merged"
    batch, _ = collect(merged)
    assert batch.statuses == [(712345, "MERGED", naive(1600012000))]  # time sent as a string
    assert batch.changes[712345][4] == "MERGED"
    assert batch.patch_sets[(712345, 2)][0] == "b" * 40
    batch, _ = collect(abandoned, restored)
    assert [(n, s) for n, s, _ in batch.statuses] == [(912377, "ABANDONED"), (912377, "NEW")]
    assert batch.changes[912377][4] == "ABANDONED"  # the first event that names it


def test_dropped_output_and_other_events_are_counted_not_stored(sample):
    dropped, ref_updated = sample[16], sample[15]
    assert dropped == {"type": "dropped-output", "eventCreatedOn": 1700010100}
    assert ref_updated["refUpdate"]["refName"] == "refs/heads/master"
    batch, stats = collect(dropped, ref_updated)
    assert (stats.dropped_output, stats.other_events, stats.skipped_missing) == (1, 1, 0)
    assert batch == Batch()


def test_known_types_missing_change_or_patch_set_are_skipped(sample):
    comment, created = sample[17], sample[18]
    assert comment["comment"] == "Build succeeded." and "change" not in comment
    assert created["change"] == {"project": "openstack/glance", "branch": "stable/2024.1",
                                 "number": "not-a-number"}
    batch, stats = collect(comment, created)
    assert stats.skipped_missing == 2
    assert batch == Batch()  # nothing half-collected, not even a change row


def test_odd_values_are_coerced_or_dropped(sample):
    odd = sample[24]
    batch, stats = collect(odd)
    assert stats.skipped_missing == 1  # an author with neither username nor account id
    assert batch == Batch()
    batch, stats = collect(dict(odd, author={"name": "Anonymous Coward", "accountId": "77"}))
    [comment] = batch.comments
    assert (comment.username, comment.account_id, comment.name) == \
        ("account-77", 77, "Anonymous Coward")
    assert (comment.change, comment.patch_set) == (712346, 4)  # " 4 "
    # "1600020000.5": the fraction is dropped
    assert batch.patch_sets[(712346, 4)] == ("a" * 40, naive(1600020000), None, None)
    # "+1" is a vote; an approval without a label and a non-object are not
    assert approvals_of(odd) == [("Verified", 1, None)]
    assert comment.votes == {"Verified": 1}


def test_decoding_keeps_every_field(sample, sample_lines):
    for event, line in zip(sample, sample_lines):
        assert event == json.loads(line)


def test_replayed_event_has_the_same_key_and_row(sample):
    assert event_key(sample[30]) == event_key(sample[1])
    keys = {event_key(e) for e in sample}
    assert len(keys) == 30
    once = prepare_batch(collect(sample[1])[0], CONFIG)
    twice = prepare_batch(collect(sample[1], sample[30])[0], CONFIG)
    assert [c.key for c in twice.comments] == [c.key for c in once.comments] * 2


# -- event_key ---------------------------------------------------------------


def test_event_key_is_sha256_of_canonical_json():
    line = '{ "type": "dropped-output",  "eventCreatedOn": 5 }'
    expected = hashlib.sha256(b'{"eventCreatedOn":5,"type":"dropped-output"}').hexdigest()
    assert event_key(decode_event_line(line)) == expected
    assert event_key({"eventCreatedOn": 5, "type": "dropped-output"}) == expected


def test_event_key_differs_when_content_differs():
    one = decode_event_line('{"type": "dropped-output", "eventCreatedOn": 5}')
    two = decode_event_line('{"type": "dropped-output", "eventCreatedOn": 6}')
    assert event_key(one) != event_key(two)


# -- errors ------------------------------------------------------------------


@pytest.mark.parametrize(("line", "message"), [
    ("", "empty line"),
    ("   \n", "empty line"),
    ("{not json", "malformed JSON at column 2: Expecting property name enclosed in double quotes"),
    ('{"type": "comment-added"', "malformed JSON at column 25: Expecting ',' delimiter"),
    ("[1, 2]", "expected a JSON object, got list"),
    ("42", "expected a JSON object, got int"),
    ('"comment-added"', "expected a JSON object, got str"),
    ("null", "expected a JSON object, got NoneType"),
    ('{"change": {}}', 'event has no "type"'),
    ('{"type": null}', 'event has no "type"'),
    ('{"type": 7}', 'event "type" is int, not a string'),
    (b"\xff\xfe{}", "line is not UTF-8 (byte 0)"),
])
def test_decode_errors(line, message):
    with pytest.raises(EventParseError) as caught:
        decode_event_line(line)
    assert caught.value.message == message
    assert str(caught.value) == message


def test_absurdly_deep_json_is_a_parse_error():
    with pytest.raises(EventParseError) as caught:
        decode_event_line("[" * 100000 + "]" * 100000)
    assert caught.value.message.startswith("malformed JSON: ")
    assert "recursion" in caught.value.message
    assert "\n" not in caught.value.message


def test_decode_accepts_bytes_and_surrounding_whitespace():
    event = decode_event_line(b'  {"type": "change-restored", "reason": "oops"}\n')
    assert event == {"type": "change-restored", "reason": "oops"}
    batch, stats = collect(event)
    assert stats.skipped_missing == 1 and batch == Batch()  # no change to restore


# -- properties --------------------------------------------------------------

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                | st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
KNOWN_TYPES = ["patchset-created", "comment-added", "change-abandoned", "change-merged",
               "change-restored", "dropped-output", "ref-updated"]
FIELDS = ["change", "patchSet", "author", "uploader", "approvals", "comment", "eventCreatedOn",
          "abandoner", "submitter", "restorer", "reason", "newRev"]
SUB_FIELDS = ["project", "branch", "number", "id", "subject", "status", "url", "owner", "revision",
              "createdOn", "uploader", "kind", "accountId", "username", "name", "email",
              "type", "description", "value", "oldValue"]
# values shaped like Gerrit's, but of any type, nested where Gerrit nests
sub_records = st.dictionaries(st.sampled_from(SUB_FIELDS), json_values | json_scalars, max_size=8)
field_values = json_scalars | sub_records | st.lists(sub_records | json_scalars, max_size=4) | json_values


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KNOWN_TYPES),
       fields=st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=8))
def test_known_types_with_arbitrary_fields_never_fail(kind, fields):
    raw = dict(fields, type=kind)
    event = decode_event_line(json.dumps(raw))
    assert event == raw
    assert len(event_key(event)) == 64
    batch, stats = collect(event)
    prepare_batch(batch, CONFIG)
    assert stats.events == 1
    for number, (project, branch, change_key, subject, status) in batch.changes.items():
        assert isinstance(number, int) and not isinstance(number, bool)
        assert all(v is None or isinstance(v, str) for v in (project, branch, change_key,
                                                                subject, status))
    for (_, ps_number), (_, created_on, _, _) in batch.patch_sets.items():
        assert isinstance(ps_number, int) and not isinstance(ps_number, bool)
        assert created_on is None or (isinstance(created_on, dt.datetime)
                                      and created_on.tzinfo is None)
    for comment in batch.comments:
        for label, value in (comment.votes or {}).items():
            assert isinstance(label, str) and label
            assert isinstance(value, int) and not isinstance(value, bool)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_arbitrary_json_raises_only_event_parse_error(value):
    try:
        event = decode_event_line(json.dumps(value))
    except EventParseError as exc:
        assert "\n" not in exc.message
    else:
        assert isinstance(value, dict) and isinstance(value.get("type"), str)
        assert event == value


@settings(max_examples=300, deadline=None)
@given(line=st.text(max_size=200) | st.binary(max_size=200))
def test_garbage_lines_raise_only_event_parse_error(line):
    try:
        decode_event_line(line)
    except EventParseError as exc:
        assert "\n" not in exc.message
