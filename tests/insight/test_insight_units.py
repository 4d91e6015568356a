"""Pure parts of failure intelligence: signatures, change points, flaky
arithmetic, suspects, alert hysteresis."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from health_api.analytics import changepoint, flaky, suspects
from health_api.analytics.signatures import cluster_id, exception_line, normalise, signature
from health_api.insight.alerts import decide
from health_api.insight.options import AlertOptions


def test_signature_masks_every_variable_part():
    a = ("Traceback (most recent call last):\n  File \"/opt/stack/x.py\", line 3, in f\n"
         "requests.exceptions.ConnectionError: HTTPConnectionPool(host='10.0.3.7', port=8774)"
         " at 0x7f3a2b1c for /var/lib/nova/instances/abc and "
         "3f2a1b4c-1d2e-4f5a-8b9c-0d1e2f3a4b5c after 12 tries, id deadbeefcafe1234\n")
    b = a.replace("10.0.3.7", "172.16.9.250").replace("0x7f3a2b1c", "0x55d0").replace(
        "/var/lib/nova/instances/abc", "/srv/x/y").replace("3f2a1b4c", "00000000").replace(
        "12", "7").replace("deadbeefcafe1234", "0123456789abcdef")
    assert signature(a) == signature(b) == (
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host=<Q>, port=<N>) at <ADDR> "
        "for <PATH> and <UUID> after <N> tries, id <HEX>")
    assert cluster_id(signature(a)) == cluster_id(signature(b))
    assert signature("KeyError: 'a'") != signature("ValueError: 'a'")


def test_exception_line_is_the_last_one_naming_an_exception():
    text = "Traceback (most recent call last):\n  File \"x\", line 1\nValueError: bad\n\nDetails\n"
    assert exception_line(text) == "ValueError: bad"
    assert exception_line("") == "" and signature(None) == ""


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_normalise_is_idempotent_and_bounded(line):
    once = normalise(line)
    assert normalise(once) == once
    assert len(once) <= 300 and "\n" not in once


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**12), st.uuids())
def test_numbers_and_uuids_never_change_a_signature(number, uuid):
    base = normalise("TimeoutException: server 1 in state 'BUILD' after 2 s")
    assert normalise(f"TimeoutException: server {uuid} in state 'X{number}' after {number} s") \
        == base.replace("server <N>", "server <UUID>")


def test_change_point_finds_a_planted_break_and_not_noise():
    rng = np.random.default_rng(4)
    x = np.r_[rng.random(150) < 0.02, np.ones(30), rng.random(100) < 0.02].astype(int)
    segs = changepoint.segments(x)
    assert [s["start"] for s in segs] == [0, 150, 180]
    assert segs[1]["failed"] == 30 and segs[1]["p_change"] > 0.999
    steady = (rng.random(400) < 0.05).astype(int)
    k, p = changepoint.split_posterior(steady)
    assert p < 0.5 and changepoint.segments(steady) == [
        {"start": 0, "stop": 400, "failed": int(steady.sum()), "n": 400, "p_change": None}]


def test_a_short_window_in_a_long_stable_run_is_found():
    # 60 passes, 12 failures, 95 passes: one split averages the window away
    x = np.r_[np.zeros(60), np.ones(12), np.zeros(95)].astype(int)
    assert changepoint.split_posterior(x)[1] < 0.99
    a, b, p = changepoint.window_posterior(x)
    assert (a, b) == (60, 72) and p > 0.999
    assert [(s["start"], s["failed"]) for s in changepoint.segments(x)] == \
        [(0, 0), (60, 12), (72, 0)]
    rng = np.random.default_rng(7)
    assert changepoint.window_posterior((rng.random(300) < 0.05).astype(int))[2] < 0.5


def test_runs_needed_and_flip_rate():
    from health_api.analytics.rates import wilson
    more = flaky.runs_needed(1, 100, 0.005)             # 1 in 100: not yet sure
    assert more > 0
    n = 100 + more
    assert wilson(n * 0.01, n)[0] >= 0.005 > wilson((n - 20) * 0.01, n - 20)[0]
    assert flaky.runs_needed(30, 1000, 0.005) == 0      # 3 %: sure
    assert flaky.runs_needed(1, 1000, 0.005) is None    # below the bar: runs won't tell
    assert flaky.flip_rate(["pass", "fail", "pass", "pass"]) == 2 / 3
    assert flaky.flip_rate(["pass"]) is None


def test_evidence_needs_a_pass_on_the_same_change_and_patch_set():
    runs = pd.DataFrame({"id": [1, 2, 3, 4], "change": ["9", "9", "9", None],
                         "patchset": ["1", "1", "2", None], "fails": [1, 0, 0, 1]})
    failures = pd.DataFrame({"test_db_id": [7, 8], "run_id": [1, 4]})
    pairs = flaky.sibling_pairs(failures, runs, infra_run_failures=10)
    assert pairs.to_dict("records") == [{"test_db_id": 7, "run_id": 1, "sibling": 2}]
    passed = pd.DataFrame({"test_db_id": [7], "run_id": [2]})
    assert flaky.evidence(pairs, passed).to_dict("records") == [{"test_db_id": 7, "run_id": 1}]
    assert flaky.evidence(pairs, passed.iloc[0:0]).empty
    infra = flaky.sibling_pairs(failures, runs.assign(fails=[50, 0, 0, 1]), 10)
    assert infra.empty


def test_suspects_put_a_bad_spell_on_top():
    rng = np.random.default_rng(2)
    start = dt.datetime(2026, 10, 1)
    rows = []
    for i in range(3000):
        at = start + dt.timedelta(minutes=10 * i)
        provider = ["a", "b", "c", "d"][i % 4]
        bad = provider == "c" and dt.datetime(2026, 10, 10) <= at < dt.datetime(2026, 10, 11, 12)
        failed = rng.random() < (0.5 if bad else 0.2)
        rows.append({"job": "j", "run_at": at, "fails": int(failed), "passes": 10,
                     "node_provider": provider})
    top = suspects.suspects(pd.DataFrame(rows), ["node_provider"])[0]
    assert (top["key"], top["value"]) == ("node_provider", "c")
    assert top["p_value"] < 0.01
    assert top["window_start"] >= dt.datetime(2026, 10, 9)
    assert top["window"]["failure_rate"] > top["window_rest"]["failure_rate"]
    assert set(top["period"]) >= {"failure_rate", "n", "ci_low", "ci_high"}


def test_alerts_fire_once_per_crossing():
    options = AlertOptions(min_runs=10, raise_rate=0.5, clear_rate=0.3)
    high = {"j": {"failure_rate": 0.6, "n": 20}}
    fire, changes = decide(high, set(), [], options)
    assert [a["subject"] for a in fire] == ["job:j"] and changes == {"job:j": True}
    assert decide(high, {"job:j"}, [], options) == ([], {})           # still raised: quiet
    between = {"j": {"failure_rate": 0.4, "n": 20}}
    assert decide(between, {"job:j"}, [], options) == ([], {})        # hysteresis band
    fire, changes = decide({"j": {"failure_rate": 0.1, "n": 20}}, {"job:j"}, [], options)
    assert fire == [] and changes == {"job:j": False}                  # cleared
    assert decide({"j": {"failure_rate": 0.9, "n": 5}}, set(), [], options) == ([], {})
    cluster = {"id": "0" * 16, "failures": 3, "tests": 2, "signature": "X: <N>",
               "first_seen": "2026-10-01T00:00:00Z"}
    fire, _ = decide({}, set(), [cluster], options)
    assert fire[0]["kind"] == "new_cluster"
    assert decide({}, {"cluster:" + "0" * 16}, [cluster], options) == ([], {})
