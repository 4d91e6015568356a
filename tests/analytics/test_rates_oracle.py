"""The one Wilson implementation against independent oracles: statsmodels'
proportion_confint(method="wilson") and intervals worked out by hand."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from statsmodels.stats.proportion import proportion_confint

from health_api.analytics import rates


def oracle(failed: int, n: int) -> tuple[float, float]:
    low, high = proportion_confint(failed, n, alpha=0.05, method="wilson")
    return max(0.0, float(low)), min(1.0, float(high))


# Hand-computed with z = 1.96 (to 4 places): e.g. 1 of 4: p = .25,
# centre = (.25 + 3.8416/8) / (1 + 3.8416/4) = .7302/1.9604 = .3725,
# half = 1.96 * sqrt(.25*.75/4 + 3.8416/64) / 1.9604 = .3271 -> (.0456, .6994).
@pytest.mark.parametrize("failed,n,low,high", [
    (1, 4, 0.0456, 0.6994), (0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0), (1, 100, 0.0018, 0.0545), (0, 1, 0.0, 0.7935)])
def test_wilson_hand_computed(failed, n, low, high):
    r = rates.rate(failed, n - failed)
    assert r["n"] == n and r["failure_rate"] == pytest.approx(failed / n)
    assert r["ci_low"] == pytest.approx(low, abs=1e-4)
    assert r["ci_high"] == pytest.approx(high, abs=1e-4)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**6).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_rate_matches_statsmodels(case):
    failed, n = case
    r = rates.rate(failed, n - failed)
    low, high = oracle(failed, n)
    assert r["ci_low"] == pytest.approx(low, abs=1e-12)
    assert r["ci_high"] == pytest.approx(high, abs=1e-12)


def test_rate_columns_matches_statsmodels():
    cases = [(0, 0), (0, 1), (1, 0), (3, 7), (50, 50), (1, 999), (12345, 67)]
    frame = rates.rate_columns(pd.DataFrame(cases, columns=["failed", "passed"]))
    for (failed, passed), (_, row) in zip(cases, frame.iterrows()):
        n = failed + passed
        if n == 0:
            assert math.isnan(row["ci_low"]) and math.isnan(row["failure_rate"])
            continue
        low, high = oracle(failed, n)
        assert row["failure_rate"] == pytest.approx(failed / n)
        assert row["ci_low"] == pytest.approx(low, abs=1e-12)
        assert row["ci_high"] == pytest.approx(high, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_scalar_path_equals_vectorised(case):
    """One count (the scalar path) gives what the same count in an array gives."""
    failed, n = case
    one = rates.wilson_bounds(failed, n)
    many = rates.wilson_bounds([failed, 0], [n, 1])
    for a, b in zip(one, many):
        assert (math.isnan(a) and math.isnan(b[0])) or a == pytest.approx(b[0], abs=1e-15)
    assert rates.wilson(failed, n) == ((None, None) if n == 0 else
                                      (pytest.approx(one[1]), pytest.approx(one[2])))
