"""Constants shared by the API tests."""
from __future__ import annotations

import datetime as dt

from health_api.config import Config

END = dt.datetime(2026, 10, 4)
START = END - dt.timedelta(days=3)


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def no_cache_config(**extra) -> Config:
    """The app's configuration with its response cache off (tests read fresh rows)."""
    return Config(environ={"CI_HEALTH_CACHE_DISABLED": "1", **extra})
