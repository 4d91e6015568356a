"""health_api.gerrit.events: typed stream-events parsing."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from health_api.gerrit.events import (
    Account,
    Approval,
    Change,
    ChangeAbandoned,
    ChangeMerged,
    ChangeRestored,
    CommentAdded,
    DroppedOutput,
    EventParseError,
    OtherEvent,
    PatchSet,
    PatchsetCreated,
    event_from_dict,
    event_key,
    parse_event,
)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "gerrit" / "events" / "sample.jsonl"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def sample(sample_lines):
    return [parse_event(line) for line in sample_lines]


def utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=UTC)


# -- the fixture file ----------------------------------------------------------


def test_sample_parses_into_the_expected_types(sample):
    assert len(sample) == 31
    assert Counter(type(e).__name__ for e in sample) == {
        "CommentAdded": 16, "PatchsetCreated": 5, "ChangeMerged": 2, "ChangeAbandoned": 1,
        "ChangeRestored": 1, "DroppedOutput": 1, "OtherEvent": 5,
    }
    others = [e.type for e in sample if isinstance(e, OtherEvent)]
    assert others == ["reviewer-added", "ref-updated", "topic-changed", "wip-state-changed",
                      "project-created"]


def test_old_shape_numbers_as_strings(sample):
    created = sample[0]
    assert isinstance(created, PatchsetCreated)
    assert created.type == "patchset-created"
    ada = Account(account_id=None, username="ada", name="Ada Lovelace", email="ada@example.org")
    assert created.change == Change(
        project="openstack/nova", branch="master", number=712345,
        change_id="I00000000000000000000000000000000000ade99", subject="Fix volume detach race",
        status="NEW", url="https://review.example.org/712345", owner=ada)
    assert created.patch_set == PatchSet(number=1, revision="a" * 40, created_on=utc(1600000000),
                                         uploader=ada, kind="REWORK")
    assert created.uploader == ada
    assert created.event_created_on == dt.datetime(2020, 9, 13, 12, 26, 41, tzinfo=UTC)


def test_old_shape_comment_added(sample):
    comment = sample[3]
    assert isinstance(comment, CommentAdded)
    assert comment.author == Account(None, "zuul", "Zuul", "zuul@example.org")
    assert comment.approvals == (Approval(label="Verified", value=-1, old_value=1),)
    assert comment.patch_set.number == 2
    assert comment.patch_set.kind == "TRIVIAL_REBASE"
    assert comment.comment.startswith("Patch Set 2: Verified-1\n\nBuild failed (check pipeline).")
    assert comment.event_created_on == utc(1600008000)


def test_new_shape_ints_and_account_ids(sample):
    comment = sample[9]
    assert isinstance(comment, CommentAdded)
    assert comment.change.number == 912377
    assert comment.change.project == "openstack/os-brick"
    assert comment.change.url == "https://review.example.org/c/openstack/os-brick/+/912377"
    assert comment.change.owner == Account(1001, "ada", "Ada Lovelace", "ada@example.org")
    assert comment.author == Account(22348, "zuul", "Zuul", "zuul@example.org")
    assert comment.patch_set.number == 1
    assert comment.patch_set.created_on == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert comment.approvals == (
        Approval("Code-Review", 0, None), Approval("Verified", -1, 0), Approval("Workflow", 0, None))


def test_legacy_approval_categories_use_the_description(sample):
    assert sample[5].approvals == (Approval("Verified", 1, None), Approval("Code Review", 0, None))


def test_change_lifecycle_events(sample):
    merged, abandoned, restored = sample[7], sample[13], sample[14]
    assert isinstance(merged, ChangeMerged)
    assert merged.type == "change-merged"
    assert merged.new_rev == "d" * 40
    assert merged.submitter.username == "zuul"
    assert merged.change.status == "MERGED"
    assert merged.event_created_on == utc(1600012000)  # sent as a string
    assert isinstance(abandoned, ChangeAbandoned)
    assert (abandoned.abandoner.username, abandoned.reason) == ("ada", "Superseded by I1234")
    assert abandoned.change.status == "ABANDONED"
    assert isinstance(restored, ChangeRestored)
    assert (restored.restorer.account_id, restored.reason) == (1001, "Still needed after all")


def test_dropped_output_and_other_events_keep_raw(sample):
    dropped = sample[16]
    assert isinstance(dropped, DroppedOutput)
    assert dropped.type == "dropped-output"
    assert dropped.raw == {"type": "dropped-output", "eventCreatedOn": 1700010100}
    ref_updated = sample[15]
    assert isinstance(ref_updated, OtherEvent)
    assert ref_updated.type == "ref-updated"
    assert ref_updated.raw["refUpdate"]["refName"] == "refs/heads/master"
    assert ref_updated.event_created_on == utc(1700010000)


def test_known_types_missing_change_or_patch_set_still_parse(sample):
    comment = sample[17]
    assert isinstance(comment, CommentAdded)
    assert (comment.change, comment.patch_set) == (None, None)
    assert comment.comment == "Build succeeded."
    assert comment.approvals == ()
    created = sample[18]
    assert isinstance(created, PatchsetCreated)
    assert created.patch_set is None
    assert created.change == Change(project="openstack/glance", branch="stable/2024.1")
    assert created.uploader == Account(username="bot")
    assert created.event_created_on is None  # negative timestamp


def test_odd_values_are_coerced_or_dropped(sample):
    comment = sample[24]
    assert comment.patch_set == PatchSet(number=4, revision="a" * 40,
                                         created_on=utc(1600020000))  # fraction dropped
    assert comment.author == Account(name="Anonymous Coward")
    # "+1" is a vote; an approval without a label and a non-object are not
    assert comment.approvals == (Approval("Verified", 1, None),)


def test_every_event_keeps_its_raw_dict(sample, sample_lines):
    for event, line in zip(sample, sample_lines):
        assert event.raw == json.loads(line)


def test_replayed_event_has_the_same_key(sample):
    assert event_key(sample[30]) == event_key(sample[1])
    keys = {event_key(e) for e in sample}
    assert len(keys) == 30


# -- event_key ---------------------------------------------------------------


def test_event_key_is_sha256_of_canonical_json():
    line = '{ "type": "dropped-output",  "eventCreatedOn": 5 }'
    expected = hashlib.sha256(b'{"eventCreatedOn":5,"type":"dropped-output"}').hexdigest()
    assert event_key(parse_event(line)) == expected
    assert event_key({"eventCreatedOn": 5, "type": "dropped-output"}) == expected


def test_event_key_differs_when_content_differs():
    one = parse_event('{"type": "dropped-output", "eventCreatedOn": 5}')
    two = parse_event('{"type": "dropped-output", "eventCreatedOn": 6}')
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
def test_parse_event_errors(line, message):
    with pytest.raises(EventParseError) as caught:
        parse_event(line)
    assert caught.value.message == message
    assert str(caught.value) == message


def test_absurdly_deep_json_is_a_parse_error():
    with pytest.raises(EventParseError) as caught:
        parse_event("[" * 100000 + "]" * 100000)
    assert caught.value.message.startswith("malformed JSON: ")
    assert "recursion" in caught.value.message
    assert "\n" not in caught.value.message


def test_parse_event_accepts_bytes_and_surrounding_whitespace():
    event = parse_event(b'  {"type": "change-restored", "reason": "oops"}\n')
    assert isinstance(event, ChangeRestored)
    assert event.reason == "oops"
    assert event.change is None and event.restorer is None


def test_event_from_dict_rejects_non_objects():
    with pytest.raises(EventParseError, match="expected a JSON object, got list"):
        event_from_dict([])  # type: ignore[arg-type]


def test_events_are_hashable_and_frozen(sample):
    assert len({sample[0], sample[0]}) == 1
    with pytest.raises(AttributeError):
        sample[0].uploader = None  # type: ignore[misc]


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
    event = parse_event(json.dumps(raw))
    assert event.type == kind
    assert event.raw == raw
    assert len(event_key(event)) == 64
    change = getattr(event, "change", None)
    if change is not None:
        assert change.number is None or isinstance(change.number, int)
        assert change.project is None or isinstance(change.project, str)
    patch_set = getattr(event, "patch_set", None)
    if patch_set is not None:
        assert patch_set.number is None or isinstance(patch_set.number, int)
        assert patch_set.created_on is None or patch_set.created_on.tzinfo is UTC
    for approval in getattr(event, "approvals", ()):
        assert isinstance(approval.label, str) and approval.label
        assert isinstance(approval.value, int) and not isinstance(approval.value, bool)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_arbitrary_json_raises_only_event_parse_error(value):
    try:
        event = parse_event(json.dumps(value))
    except EventParseError as exc:
        assert "\n" not in exc.message
    else:
        assert isinstance(value, dict) and isinstance(value.get("type"), str)
        assert event.raw == value


@settings(max_examples=300, deadline=None)
@given(line=st.text(max_size=200) | st.binary(max_size=200))
def test_garbage_lines_raise_only_event_parse_error(line):
    try:
        parse_event(line)
    except EventParseError as exc:
        assert "\n" not in exc.message
