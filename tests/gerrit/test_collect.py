"""Collecting decoded events into a batch (no database)."""
from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from health_api.gerrit.collect import collect_raw_events, collect_rest_changes
from health_api.gerrit.events import decode_event_line
from health_api.gerrit.journal import _line_ranges
from health_api.gerrit.rows import Batch, CiConfig, StoreStats, prepare_batch
from health_api.gerrit.systems import CiOverrides, CiSystemConfig
from sshd.helpers import (T0, comment_event, created_event, rest_change, status_event,
                          zuul_report)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "gerrit" / "events" / "sample.jsonl"
CONFIG = CiConfig({
    "zuul": CiSystemConfig("zuul", account_id=22348),
    "acme-ci": CiSystemConfig("acme-ci", account_id=555, overrides=CiOverrides(display_name="Acme")),
})


def collected(raws: list[dict]) -> tuple[Batch, StoreStats]:
    batch, stats = Batch(), StoreStats()
    collect_raw_events(raws, batch, stats, CONFIG)
    return batch, stats


# Gerrit-shaped events whose fields may each be missing, stringified (old
# servers) or of any other JSON type.
json_scalars = (st.none() | st.booleans() | st.integers(-5, 2**40) | st.floats(allow_nan=False)
                | st.text(max_size=12))


MISSING = object()


def naive(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)


@st.composite
def loose(draw, value):
    """A field as Gerrit sends it (mostly), or missing, stringified, anything."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return MISSING
    if shape == 1:
        return draw(json_scalars)
    if isinstance(value, dict):
        fields = ((key, draw(loose(item))) for key, item in value.items())
        return {key: item for key, item in fields if item is not MISSING}
    if isinstance(value, list):
        return [item for item in (draw(loose(item)) for item in value) if item is not MISSING]
    if shape == 2 and isinstance(value, int) and not isinstance(value, bool):
        return draw(st.sampled_from([str(value), float(value), f" {value} ", f"{value}.5"]))
    return value


def templates():
    report = zuul_report([("tox", "SUCCESS"), ("tempest", "FAILURE")])
    comment = comment_event(7, 2, report, T0 + 60, verified=-1)
    comment["approvals"].append({"type": "Code-Review", "value": 0, "oldValue": "1"})
    comment["approvals"].append({"type": "VRIF", "description": "Verified", "value": "1"})
    by_account = comment_event(7, 2, "Build succeeded.", T0 + 70, author="acme-ci")
    by_account["author"] = {"accountId": "555", "name": "Acme CI"}
    return [created_event(7, 2, T0), comment, by_account,
            status_event("change-merged", 7, T0 + 90), status_event("change-abandoned", 7, T0),
            status_event("change-restored", 7, T0), {"type": "dropped-output"},
            {"type": "ref-updated", "eventCreatedOn": T0}]


def loose_event(template: dict):
    fields = {key: value for key, value in template.items() if key != "type"}
    return loose(fields).map(lambda event: {**(event if isinstance(event, dict) else {}),
                                            "type": template["type"]})


TEMPLATES = templates()
events = st.sampled_from(TEMPLATES).flatmap(loose_event)


def through_json(raws: list[dict]) -> list[dict]:
    """As the journal gives them back."""
    return [decode_event_line(json.dumps(raw)) for raw in raws]


STORED_TYPES = {"comment-added", "patchset-created", "change-merged", "change-abandoned",
                "change-restored"}


@settings(max_examples=500, deadline=None)
@given(raws=st.lists(events, max_size=6))
@example(raws=TEMPLATES)
def test_every_event_is_stored_or_counted_once(raws):
    """Loose events collect without error; each is either collected or counted
    (missing fields, dropped output, other types), and what is collected has
    every change and patch set its rows point to."""
    raws = through_json(raws)
    batch, stats = collected(raws)
    prepared = prepare_batch(batch, CONFIG)
    assert stats.events == len(raws)
    assert stats.dropped_output == sum(r["type"] == "dropped-output" for r in raws)
    assert stats.other_events == sum(r["type"] == "ref-updated" for r in raws)
    kept = sum(r["type"] in STORED_TYPES for r in raws) - stats.skipped_missing
    statuses = sum(r["type"] in ("change-merged", "change-abandoned", "change-restored")
                   for r in raws)
    created = sum(r["type"] == "patchset-created" for r in raws)
    assert 0 <= kept - len(batch.comments) - len(batch.statuses) <= created
    assert len(batch.statuses) <= statuses
    assert all((c.change, c.patch_set) in batch.patch_sets for c in batch.comments)
    assert all(number in batch.changes for number, _ in batch.patch_sets)
    assert all(number in batch.changes for number, _, _ in batch.statuses)
    assert len(prepared.comments) == len(batch.comments)


def test_the_sample_journal_collects_every_kind_of_row():
    raws = [decode_event_line(line) for line in SAMPLE.read_bytes().splitlines()]
    batch, stats = collected(raws)
    assert stats.events == 31 and len(batch.comments) > 5  # it exercises the comment path
    assert batch.statuses and batch.patch_sets


def test_stream_events_and_rest_give_the_same_change_and_patch_set_rows():
    """The REST backfill and the stream events name a change's fields differently;
    the rows they give are the same."""
    stream, _ = collected([created_event(7, 1), created_event(7, 2, T0 + 60)])
    rest = Batch()
    collect_rest_changes([rest_change(7, [], patch_sets=2)], rest, StoreStats(), CONFIG, None)
    assert stream.changes == rest.changes == {7: (
        "openstack/nova", "master", f"I{7:040d}", "Change 7", "NEW")}
    expected = {(7, n): (f"{n:02d}" * 20, created, "ada", "REWORK")
                for n, created in ((1, naive(T0)), (2, naive(T0 + 60)))}
    assert stream.patch_sets == expected
    # the REST helper gives every revision the change's creation time
    assert rest.patch_sets == {key: (rev, naive(T0), who, kind)
                               for key, (rev, _, who, kind) in expected.items()}


@settings(max_examples=200, deadline=None)
@given(raws=st.lists(events, max_size=8), cut=st.integers(0, 8))
def test_joined_batches_equal_one_batch(raws, cut):
    """The replay joins chunks prepared apart into one transaction."""
    raws = through_json(raws)
    whole, first, second = Batch(), Batch(), Batch()
    for batch, part in ((whole, raws), (first, raws[:cut]), (second, raws[cut:])):
        collect_raw_events(part, batch, StoreStats(), CONFIG)
    joined = prepare_batch(first, CONFIG)
    joined.extend(prepare_batch(second, CONFIG))
    assert joined == prepare_batch(whole, CONFIG)


def test_prepared_batches_survive_pickling():
    """Replay workers send prepared batches to the writer process."""
    raws = [decode_event_line(line) for line in SAMPLE.read_bytes().splitlines()]
    batch = Batch()
    collect_raw_events(raws, batch, StoreStats(), CONFIG)
    prepared = prepare_batch(batch, CONFIG)
    copy = pickle.loads(pickle.dumps(prepared, pickle.HIGHEST_PROTOCOL))
    assert copy == prepared
    assert [type(c) for c in copy.comments] == [type(c) for c in prepared.comments]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
       tail=st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"")),
       target=st.integers(1, 120), skip=st.integers(0, 5), data=st.data())
def test_line_ranges_cover_whole_lines_exactly(tmp_path_factory, lines, tail, target, skip, data):
    content = b"".join(line + b"\n" for line in lines) + tail
    path = tmp_path_factory.mktemp("ranges") / "journal"
    path.write_bytes(content)
    start = sum(len(line) + 1 for line in lines[:skip])
    with open(path, "rb") as handle:
        ranges = list(_line_ranges(handle, start, len(content), target))
    last_newline = content.rfind(b"\n") + 1
    expected_end = max(start, last_newline)
    assert [s for s, _ in ranges[1:]] == [e for _, e in ranges[:-1]]  # contiguous
    assert (ranges[0][0] if ranges else start) == start
    assert (ranges[-1][1] if ranges else start) == expected_end
    assert all(content[e - 1:e] == b"\n" and e > s for s, e in ranges)
