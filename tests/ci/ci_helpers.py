"""Constants shared by the CI tests."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from health_api.config import Config

DEMO_CI_SYSTEMS = Path(__file__).resolve().parents[2] / "etc" / "ci-systems.demo.yaml"
CI_END = dt.datetime(2026, 10, 4)
CI_START = CI_END - dt.timedelta(days=4)
#: the window every planted report falls in (reports at END are stored; stop is exclusive)
WINDOW = {"start": "2026-09-29T00:00:00Z", "stop": "2026-10-04T00:00:01Z"}
AS_OF = CI_END + dt.timedelta(seconds=1)


def ci_config(**extra) -> Config:
    return Config(environ={"CI_HEALTH_CACHE_DISABLED": "1",
                           "CI_HEALTH_GERRIT_CI_SYSTEMS": str(DEMO_CI_SYSTEMS), **extra})


