"""Turn pandas/numpy values into plain JSON values: NaN and infinities become None."""
from __future__ import annotations

import datetime as dt
import decimal
import math

import numpy as np
import pandas as pd

from .buckets import key


def finite(value) -> float | None:
    """``value`` as a float; None for None, NaN and infinities (JSON has none of them)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def clean(value):
    # the plain types first, by exact type (bool and numpy types are not these):
    # a run's 1,500 results are ~30,000 values, and the isinstance chain below
    # cost a third of GET /runs/<id> (issue 16, bench/load.py)
    kind = type(value)
    if kind is str or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {k if type(k) is str else str(k): clean(v) for k, v in value.items()}
    if kind is list:
        return [clean(v) for v in value]
    if kind is dt.datetime and value.tzinfo is None:
        return key(value)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, decimal.Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return finite(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else key(value.to_pydatetime())
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return key(value)
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if value is pd.NaT:
        return None
    return value


def finite_list(values: np.ndarray) -> list:
    """A float array (of any shape) as (nested) lists of Python floats, None for NaN and
    infinities; the mask in numpy, not math.isfinite per value (a week at hour, 20
    groups: 84,000 values a request)."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values.tolist()
    out = values.astype(object)
    out[bad] = None
    return out.tolist()


def records(frame: pd.DataFrame, columns=None) -> list[dict]:
    """The rows of ``frame`` as dicts of clean values. Column by column: a numpy float,
    int or bool column becomes a list at once (what clean makes of each of its values),
    any other goes through clean value by value; a month at hour of the job page is
    720 points of 16 values, 11,520 clean calls before (issue 16)."""
    columns = list(columns or frame.columns)
    lists = [_clean_column(frame[c]) for c in columns]
    if not lists:
        return [{} for _ in range(len(frame))]
    return [dict(zip(columns, row)) for row in zip(*lists)]


def _clean_column(column: pd.Series) -> list:
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = column.to_numpy()
        return finite_list(values) if dtype.kind == "f" else values.tolist()
    return [clean(v) for v in column]
