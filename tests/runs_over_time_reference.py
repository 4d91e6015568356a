"""The reference of GET /runs/over_time: the query and the pandas groupby path it served
before issue 16 (text buckets on every engine, a DataFrame of the rows, groupby/unstack),
kept to hold the served answer to it byte for byte (tests/api and tests/analytics)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from health_api.analytics import buckets
from health_api.analytics.jsonsafe import clean, finite_list
from health_api.analytics.rates import rate, wilson_bounds
from health_api.analytics.series import ROLLING_RATE, RUN_COUNTS, numeric
from health_api.api import cache
from health_api.queries.common import (META, RUNS, bucket, dialect, meta_filters,
                                       outcome_flags, window)


def reference_rows(conn, key, start, stop, resolution, meta) -> list[tuple]:
    """The rows with the bucket as 'YYYY-mm-dd HH:MM:SS' text on every engine."""
    grouped = META.alias("g")
    b = bucket(RUNS.c.run_at, resolution, dialect(conn)).label("bucket")
    passed, failed, empty = outcome_flags()
    stmt = (select(b, grouped.c.value, func.sum(passed), func.sum(failed), func.sum(empty),
                   func.sum(func.coalesce(RUNS.c.run_time, 0.0)), func.count())
            .select_from(RUNS.join(grouped, grouped.c.run_id == RUNS.c.id))
            .where(grouped.c.key == key, *window(RUNS.c.run_at, start, stop),
                   *meta_filters(meta))
            .group_by(b, grouped.c.value))
    return [tuple(r) for r in conn.execute(stmt)]


def reference_by_value(rows, start, stop, resolution, max_groups: int, window: int = 1) -> dict:
    cols = ["bucket", "value", "passed", "failed", "empty", "run_time_sum", "runs"]
    frame = numeric(pd.DataFrame(rows, columns=cols))
    frame["bucket"] = buckets.bucket_series(frame["bucket"].astype(str) if len(frame) else
                                            frame["bucket"], resolution)
    index = buckets.grid(buckets.lead_start(start, resolution, window), stop, resolution)
    shown = frame[frame["bucket"] >= pd.Timestamp(start)]
    totals = shown.groupby("value")[["passed", "failed", "empty", "runs"]].sum()
    totals = totals.sort_values(["runs"], ascending=False, kind="stable")
    order = sorted(totals.index[:max_groups], key=lambda v: (-int(totals.loc[v, "runs"]), str(v)))
    in_period = index >= pd.Timestamp(start)
    period_keys = buckets.keys(index[in_period])
    series = [{"value": value, "runs": int(totals.loc[value, "runs"]),
               **{c: int(totals.loc[value, c]) for c in RUN_COUNTS},
               **rate(totals.loc[value, "failed"], totals.loc[value, "passed"]), "points": points}
              for value, points in zip(order, _points(frame, order, index, in_period,
                                                      period_keys, window))]
    period = index[in_period]
    every = shown.groupby("bucket")[list(RUN_COUNTS)].sum().reindex(period, fill_value=0)
    every["bucket"] = period_keys
    return {"buckets": list(period_keys), "window": window, "series": series,
            "totals": _records(every, ["bucket", *RUN_COUNTS]),
            "groups_total": int(len(totals)), "groups_truncated": len(totals) > max_groups}


def _points(frame, order, index, in_period, period_keys, window) -> list[list[dict]]:
    if not order:
        return []
    cols = ["passed", "failed", "empty", "run_time_sum", "runs"]
    grouped = frame.groupby(["value", "bucket"])[cols].sum()
    wide = {c: grouped[c].unstack("bucket", fill_value=0)
            .reindex(index=order, columns=index, fill_value=0).to_numpy() for c in cols}
    f, p = wide["failed"].astype(float), wide["passed"].astype(float)
    n = f + p
    rate_, low, high = wilson_bounds(f, n)

    def trailing(values):
        c = np.cumsum(values, axis=1)
        out = c.copy()
        out[:, window:] = c[:, window:] - c[:, :-window]
        return out
    rf, rp = trailing(f), trailing(p)
    rn = rf + rp
    rrate, rlow, rhigh = wilson_bounds(rf, rn)
    runs = wide["runs"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(runs > 0, wide["run_time_sum"].astype(float) / runs, np.nan)
    columns = [wide["passed"], wide["failed"], wide["empty"], rate_, n.astype(int), low, high,
               rrate, rn.astype(int), rlow, rhigh, mean]
    keys = ["bucket", *RUN_COUNTS, "failure_rate", "n", "ci_low", "ci_high", *ROLLING_RATE,
            "mean_run_time"]
    out = []
    for g in range(len(order)):
        values = [finite_list(col[g][in_period]) if col.dtype.kind == "f"
                  else col[g][in_period].tolist() for col in columns]
        out.append([dict(zip(keys, row)) for row in zip(period_keys, *values)])
    return out


def _records(frame, columns) -> list[dict]:
    return [{c: clean(v) for c, v in zip(columns, row)}
            for row in frame[columns].itertuples(index=False, name=None)]


def json_bytes(payload) -> bytes:
    """The bytes the API writes for a payload."""
    return cache._serialise(payload, "application/json")
