"""Constants shared by the API tests."""
from __future__ import annotations

import datetime as dt

END = dt.datetime(2026, 10, 4)
START = END - dt.timedelta(days=3)


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
