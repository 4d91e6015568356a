"""pandas aggregation of what the queries return: bucketed counts, rates, run times.

No SQL and no Flask here: inputs are rows (tuples), outputs are JSON-ready
dicts/lists (NaN already turned into None).
"""
from __future__ import annotations

import decimal

import numpy as np
import pandas as pd

from . import buckets
from .jsonsafe import clean, finite_list, records
from .rates import rate, rate_columns, wilson_bounds
from .runtime import moments, rolling
from .. import rules

RUN_COUNTS = ("passed", "failed", "empty")


#: columns of whole counts: integers in every answer (the OpenAPI document says so)
COUNT_COLUMNS = frozenset({*RUN_COUNTS, "runs", "success", "failure", "skip", "timed"})


def numeric(frame: pd.DataFrame, skip=("bucket", "value", "job", "test_id", "status",
                                         "last_run_at")) -> pd.DataFrame:
    """SUM() comes back as Decimal on MySQL: make every count/sum column numeric, and
    the counts (COUNT_COLUMNS) integers, also with no row at all (an object column
    then, which would otherwise become float and answer ``0.0``)."""
    for column in frame.columns:
        if column not in skip and frame[column].dtype == object:
            frame[column] = _as_numbers(frame[column], column in COUNT_COLUMNS)
    return frame


def _as_numbers(values: pd.Series, count: bool) -> pd.Series:
    out = pd.to_numeric(values.astype(float), errors="coerce")
    # a count is a whole number below 2**53: exact through float
    return out.astype("int64") if count and not out.isna().any() else out


def _frame(rows, columns, resolution) -> pd.DataFrame:
    frame = numeric(pd.DataFrame(rows, columns=columns))
    frame["bucket"] = buckets.bucket_series(frame["bucket"].astype(str) if len(frame) else
                                            frame["bucket"], resolution)
    return frame


#: the failure rate over the trailing window of buckets, as ``rate`` gives it for one count
ROLLING_RATE = ("rolling_failure_rate", "rolling_n", "rolling_ci_low", "rolling_ci_high")


def trailing_rates(part: pd.DataFrame, window: int, failed: str = "failed",
                   passed: str = "passed") -> pd.DataFrame:
    """Add ROLLING_RATE: the failure rate of the runs of the trailing ``window`` buckets
    (the bucket and the window - 1 before it), with its Wilson interval."""
    sums = part[[failed, passed]].astype(float).rolling(window, min_periods=1).sum()
    rolled = rate_columns(sums, failed, passed, prefix="rolling_")
    out = part.copy()
    for column in ROLLING_RATE:
        out[column] = rolled[column]
    return out


def _period(part: pd.DataFrame, start: dt.datetime) -> pd.DataFrame:
    """The buckets from ``start`` on: the lead-in before it only fed the trailing windows."""
    return part.loc[part.index >= pd.Timestamp(start)]


RUN_COLUMNS = ("passed", "failed", "empty", "run_time_sum", "runs")


def runs_by_value(rows, start, stop, resolution, max_groups: int, window: int = 1) -> dict:
    """rows: (bucket, value, passed, failed, empty, run_time_sum, runs) from
    ``buckets.lead_start(start, resolution, window)`` on -> one series per value.

    In numpy on codes, not in pandas groupbys: a week at hour is one row per run (4,200
    for 30 jobs), and the groupby/unstack/.loc path cost 35 ms of the route's 70 (issue
    16). The answer is the groupby path's to the byte: values of NULL are no group, the
    groups are the most runs first (ties by value), counts are integers on every
    engine (MySQL's SUM() is a Decimal) and with no row at all (``numeric``)."""
    index = buckets.grid(buckets.lead_start(start, resolution, window), stop, resolution)
    in_period = index >= pd.Timestamp(start)
    period_keys = buckets.keys(index[in_period])
    columns = list(zip(*rows)) or [()] * (2 + len(RUN_COLUMNS))
    numbers = {name: _column(values, name) for name, values in zip(RUN_COLUMNS, columns[2:])}
    bucket_codes, bucket_texts = pd.factorize(np.asarray(columns[0], dtype=object))
    # the distinct bucket texts (a few hundred), not every row's, parsed
    stamps = pd.DatetimeIndex(buckets.bucket_series(
        pd.Series(bucket_texts, dtype=object).astype(str) if len(bucket_texts) else
        pd.Series([], dtype="datetime64[ns]"), resolution))
    position = index.get_indexer(stamps)[bucket_codes]  # -1: off the grid, as reindex drops
    shown = np.asarray(stamps >= pd.Timestamp(start))[bucket_codes]
    value_codes, values = pd.factorize(np.asarray(columns[1], dtype=object))  # NULL: -1

    grouped = shown & (value_codes >= 0)
    per_value = {c: np.bincount(value_codes[grouped], weights=numbers[c][grouped],
                                minlength=len(values))
                 for c in ("passed", "failed", "empty", "runs")}
    present = np.flatnonzero(np.bincount(value_codes[grouped], minlength=len(values)))
    runs = per_value["runs"]
    order = sorted(present.tolist(), key=lambda v: (-int(runs[v]), str(values[v])))[:max_groups]
    series = [{"value": values[v], "runs": int(runs[v]),
               **{c: int(per_value[c][v]) for c in RUN_COUNTS},
               **rate(per_value["failed"][v], per_value["passed"][v]), "points": points}
              for v, points in zip(order, _group_points(
                  numbers, value_codes, len(values), position, order, len(index), in_period,
                  period_keys, window))]

    every = _sum_cells(numbers, RUN_COUNTS, np.where(shown, position, -1), (1, len(index)))
    counts = [every[c][0][in_period].tolist() for c in RUN_COUNTS]
    totals = [{"bucket": b, "passed": p, "failed": f, "empty": e}
              for b, p, f, e in zip(period_keys, *counts)]
    return {"buckets": list(period_keys), "window": window, "series": series,
            "totals": totals, "groups_total": len(present),
            "groups_truncated": len(present) > max_groups}


def _column(values, name: str) -> np.ndarray:
    """One count/sum column of the rows, in the dtype a DataFrame of them gets from
    ``numeric``: the driver's ints or floats; for Decimals (MySQL) and for no row at
    all, integers for the counts and floats for the sums."""
    out = np.asarray(values)
    if out.dtype.kind not in "if" or not len(out):  # no row: numpy's empty array is float
        out = _as_numbers(pd.Series(values, dtype=object), name in COUNT_COLUMNS).to_numpy()
    return out


def _sum_cells(numbers: dict, names, cell: np.ndarray, shape: tuple[int, int]) -> dict:
    """Per column, a ``shape`` array of the rows' sums by ``cell`` (the flat index of
    each row's cell; -1: in none), in the column's dtype. Each (value, bucket) is one row
    of the SQL GROUP BY, so a float cell adds one number: the exact value of pandas'
    (compensated) groupby sum."""
    keep = cell >= 0
    flat = cell[keep]
    out = {}
    for c in names:
        cells = np.zeros(shape[0] * shape[1], dtype=numbers[c].dtype)
        np.add.at(cells, flat, numbers[c][keep])
        out[c] = cells.reshape(shape)
    return out


def _group_points(numbers, value_codes, n_values, position, order, width, in_period,
                  period_keys, window) -> list[list[dict]]:
    """The points of every shown group at once, as rate_columns + trailing_rates + moments
    + _period + records give them one group at a time: one (groups x buckets) array per
    column (dtypes kept), the trailing sums from cumulative sums (whole counts: exact)."""
    if not order:
        return []
    group_of = np.full(n_values + 1, -1)  # the last: code -1 (NULL), in no group
    group_of[order] = np.arange(len(order))
    group = group_of[value_codes]
    cell = np.where((group >= 0) & (position >= 0), group * width + position, -1)
    wide = _sum_cells(numbers, RUN_COLUMNS, cell, (len(order), width))
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
    # tolist of every group at once: numpy values as Python ints and floats; NaN (and
    # infinities) become None, as clean makes them
    lists = [finite_list(col[:, in_period]) if col.dtype.kind == "f"
             else col[:, in_period].tolist() for col in columns]
    # a dict display, not dict(zip(keys, row)): a week at hour is 3,360 points of 13
    # keys, 7.6 -> 1.8 ms (the keys in the order the answer always had)
    return [[{"bucket": b, "passed": pa, "failed": fa, "empty": em, "failure_rate": fr,
              "n": nn, "ci_low": lo, "ci_high": hi, "rolling_failure_rate": rfr,
              "rolling_n": rnn, "rolling_ci_low": rlo, "rolling_ci_high": rhi,
              "mean_run_time": mrt}
             for b, pa, fa, em, fr, nn, lo, hi, rfr, rnn, rlo, rhi, mrt
             in zip(period_keys, *(values[g] for values in lists))]
            for g in range(len(order))]


def run_time_p95(times) -> list[tuple]:
    """times: (build_name, run_time) of every run -> (build_name, 95th percentile)
    (pandas' linear interpolation, as PostgreSQL's percentile_cont)."""
    tf = numeric(pd.DataFrame(times, columns=["job", "run_time"]))
    if not len(tf):
        return []
    return list(tf.groupby("job")["run_time"].quantile(0.95).items())


def _summary_value(value):
    """A summary column as the frame held it: MySQL's Decimal sums and means as float."""
    return float(value) if isinstance(value, decimal.Decimal) else value


def job_summary(rows, p95: dict) -> list[dict]:
    """rows: (build_name, period, passed, failed, empty, runs, mean, last) with period
    1 the window and 0 the one before it; p95: build_name -> 95th percentile of the
    window's run times. Plain dicts, not a frame: ~30 jobs, and pandas' row look-ups
    cost more than the arithmetic (10 ms a request)."""
    keys = ("passed", "failed", "empty", "runs", "mean_run_time", "last_run_at")
    cur, prev = {}, {}
    for job, period, *values in rows:
        (cur if int(period) == 1 else prev)[job] = dict(
            zip(keys, (_summary_value(v) for v in values)))
    out = []
    for job in sorted(set(cur) | set(prev)):
        c, p = cur.get(job), prev.get(job)
        now = rate(c["failed"], c["passed"]) if c is not None else rate(0, 0)
        before = rate(p["failed"], p["passed"]) if p is not None else rate(0, 0)
        change = (now["failure_rate"] - before["failure_rate"]
                  if now["failure_rate"] is not None and before["failure_rate"] is not None
                  else None)
        last = max([x["last_run_at"] for x in (c, p) if x is not None and
                    x["last_run_at"] is not None and not pd.isna(x["last_run_at"])],
                   default=None)
        out.append(clean({
            "job": job, "runs": int(c["runs"]) if c is not None else 0,
            **{k: int(c[k]) if c is not None else 0 for k in RUN_COUNTS},
            **now, "previous": before, "change": change,
            "mean_run_time": c["mean_run_time"] if c is not None else None,
            "p95_run_time": p95.get(job) if c is not None else None,
            "last_run_at": pd.Timestamp(last) if last is not None else None}))
    return out


def job_series(rows, start, stop, resolution, window: int) -> dict:
    """rows: (bucket, passed, failed, empty, rt_sum, rt_sq_sum, runs) from
    ``buckets.lead_start`` on -> {"summary": totals of the period, "points": per bucket:
    counts, failure rate, run time mean/std, and over the trailing ``window`` buckets the
    failure rate (ROLLING_RATE) and the rolling run time (runtime.rolling)}."""
    frame = _frame(rows, ["bucket", "passed", "failed", "empty", "rt_sum", "rt_sq", "runs"],
                   resolution)
    index = buckets.grid(buckets.lead_start(start, resolution, window), stop, resolution)
    part = frame.groupby("bucket").sum().reindex(index, fill_value=0)
    part = trailing_rates(rate_columns(part), window)
    part = moments(part, "runs", "rt_sum", "rt_sq")
    part = _period(rolling(part, window), start)
    part["bucket"] = buckets.keys(part.index)
    part = part.rename(columns={"mean": "mean_run_time", "std": "std_run_time"})
    totals = {c: int(part[c].sum()) for c in (*RUN_COUNTS, "runs")}
    runs, rt_sum = totals["runs"], float(part["rt_sum"].sum())
    summary = clean({**totals, **rate(totals["failed"], totals["passed"]),
                     "mean_run_time": rt_sum / runs if runs else None})
    return {"summary": summary,
            "points": records(part, ["bucket", *RUN_COUNTS, "runs", "failure_rate", "n",
                                     "ci_low", "ci_high", *ROLLING_RATE, "mean_run_time",
                                     "std_run_time", "rolling_mean", "rolling_std"])}


def test_series_daily(rows, start, stop, window: int) -> dict:
    """rows: (day, success, failure, skip, timed, run_time_sum) from the rollups."""
    frame = numeric(pd.DataFrame(rows, columns=["bucket", "success", "failure", "skip", "timed",
                                                "rt_sum"]))
    frame["bucket"] = pd.to_datetime(frame["bucket"].astype(str) if len(frame) else frame["bucket"])
    return _test_points(frame.groupby("bucket").sum(), start, stop, "day", window)


def test_series_buckets(rows, start, stop, resolution, window: int) -> dict:
    """rows: (bucket, success, failure, skip, timed, run_time_sum) per bucket of one
    test, summed in SQL (queries.tests.bucket_counts): as test_series_raw."""
    frame = _frame(rows, ["bucket", "success", "failure", "skip", "timed", "rt_sum"],
                   resolution)
    frame["rt_sum"] = frame["rt_sum"].astype(float)
    return _test_points(frame.groupby("bucket").sum(), start, stop, resolution, window)


def test_series_raw(rows, start, stop, resolution, window: int) -> dict:
    """rows: (start_time, raw status, duration) of one test, classified by health_api.rules."""
    frame = pd.DataFrame(rows, columns=["bucket", "status", "duration"])
    klass = frame["status"].map(rules.STATUS_CLASS)
    frame["success"] = (klass == rules.PASS).astype(int)
    frame["failure"] = (klass == rules.FAIL).astype(int)
    frame["skip"] = (klass == rules.SKIP).astype(int)
    timed = frame["success"].astype(bool) & frame["duration"].notna()
    frame["timed"] = timed.astype(int)
    frame["rt_sum"] = frame["duration"].where(timed, 0.0).astype(float)
    frame["bucket"] = buckets.bucket_series(frame["bucket"], resolution)
    grouped = frame.groupby("bucket")[["success", "failure", "skip", "timed", "rt_sum"]].sum()
    return _test_points(grouped, start, stop, resolution, window)


def _test_points(grouped, start, stop, resolution, window) -> dict:
    """{"summary", "points"} as job_series, for one test (a test's run time is that of its
    passes, so its mean is over the timed passes)."""
    index = buckets.grid(buckets.lead_start(start, resolution, window), stop, resolution)
    part = grouped.reindex(index, fill_value=0)
    part = rate_columns(part, failed="failure", passed="success")
    part = trailing_rates(part, window, failed="failure", passed="success")
    part = moments(part, "timed", "rt_sum")
    part = _period(rolling(part, window), start)
    part["bucket"] = buckets.keys(part.index)
    part = part.rename(columns={"mean": "mean_run_time"})
    totals = {c: int(part[c].sum()) for c in ("success", "failure", "skip", "timed")}
    summary = clean({"success": totals["success"], "failure": totals["failure"],
                     "skip": totals["skip"], "runs": totals["success"] + totals["failure"]
                     + totals["skip"], **rate(totals["failure"], totals["success"]),
                     "mean_run_time": float(part["rt_sum"].sum()) / totals["timed"]
                     if totals["timed"] else None})
    return {"summary": summary,
            "points": records(part, ["bucket", "success", "failure", "skip", "failure_rate", "n",
                                     "ci_low", "ci_high", *ROLLING_RATE, "mean_run_time",
                                     "rolling_mean", "rolling_std"])}


def jobs_total(jobs: list[dict]) -> dict:
    """The sum of job_summary's rows, with its failure rate (the overview's tiles)."""
    totals = {c: sum(j[c] for j in jobs) for c in ("runs", *RUN_COUNTS)}
    return {**totals, "jobs": len(jobs), **rate(totals["failed"], totals["passed"])}


def per_job_rates(rows) -> list[dict]:
    return [clean({"job": job or rules.NO_JOB_NAME, "success": int(s or 0),
                   "failure": int(f or 0), "skip": int(k or 0),
                   "runs": int(s or 0) + int(f or 0) + int(k or 0), **rate(f or 0, s or 0)})
            for job, s, f, k in rows]


def test_stat_rows(rows) -> list[dict]:
    out = []
    for r in rows:
        s, f = int(r["success"] or 0), int(r["failure"] or 0)
        k = int(r["skip"] or 0)
        out.append(clean({"test_id": r["test_id"], "success": s, "failure": f,
                          "skip": k, "runs": s + f + k, **rate(f, s),
                          "mean_run_time": r["mean_run_time"]}))
    return out
