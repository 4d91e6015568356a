"""series.runs_by_value (numpy on codes) writes the bytes of the pandas groupby path it
replaced (tests/runs_over_time_reference.py) on generated rows: MySQL's Decimal sums,
NULL values, ties on runs, truncated groups, empty windows, every resolution's grid."""
from __future__ import annotations

import datetime as dt
import decimal
import random

import pytest

from health_api.analytics import buckets, series

from runs_over_time_reference import json_bytes, reference_by_value

SECONDS = {"min": 60, "hour": 3600, "day": 86400}


def generated(rng: random.Random):
    resolution = rng.choice(sorted(SECONDS))
    window = rng.choice([1, 2, 3, 7, 24])
    start = dt.datetime(2026, 10, 1) + dt.timedelta(seconds=rng.randrange(3 * 86400))
    stop = start + dt.timedelta(seconds=SECONDS[resolution] * rng.randint(1, 30)
                                - rng.randrange(SECONDS[resolution]))
    start, stop = buckets.snap(start, stop, resolution)
    grid = buckets.grid(buckets.lead_start(start, resolution, window), stop, resolution)
    values = [None] * rng.randint(0, 1) + [rng.choice(["job-", "B", "é", ""]) + str(i)
                                           for i in range(rng.randint(0, 10))]
    decimals = rng.random() < 0.3  # MySQL: SUM() of the outcome flags is a Decimal
    density = rng.choice([0.1, 0.5, 0.9])
    rows = []
    for bucket in grid:
        for value in values:
            if rng.random() < density:
                counts = [rng.randint(0, 3), rng.randint(0, 3), rng.randint(0, 1)]
                run_time = rng.choice([0.0, rng.random() * 5000, rng.random() * 1e-7])
                if decimals:
                    counts = [decimal.Decimal(c) for c in counts]
                rows.append((bucket.strftime("%Y-%m-%d %H:%M:%S"), value, *counts, run_time,
                             int(sum(counts)) or 1))
    rng.shuffle(rows)
    if rng.random() < 0.2:  # every group the same size: the order is the values'
        rows = [(*row[:6], 1) for row in rows]
    return rows, start, stop, resolution, rng.choice([1, 2, 3, 20, 50]), window


@pytest.mark.parametrize("seed", range(8))
def test_runs_by_value_bytes_equal_groupby_path(seed):
    rng = random.Random(seed)
    for _ in range(40):
        rows, start, stop, resolution, groups, window = generated(rng)
        want = reference_by_value(rows, start, stop, resolution, groups, window)
        got = series.runs_by_value(rows, start, stop, resolution, groups, window)
        assert json_bytes(got) == json_bytes(want), (resolution, window, groups, len(rows))
