"""GET /runs/<id> (issue 16): a result's duration from the time difference's fields is the
old replace()-truncated one to the bit, and the answer, whose results skip clean's walk,
is the bytes of clean() over the whole run, on every engine."""
from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from health_api.analytics.jsonsafe import clean
from health_api.db import models as m
from health_api.db.session import make_engine
from health_api.queries import runs as rq

from runs_over_time_reference import json_bytes


def replace_duration(start, stop, start_us, stop_us):
    """queries.runs.duration as it was: whole seconds between the truncated times."""
    if start is None or stop is None:
        return None
    seconds = (stop.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds()
    us = (stop_us if stop_us is not None else stop.microsecond) - \
        (start_us if start_us is not None else start.microsecond)
    return seconds + us / 1e6


def test_duration_equals_the_truncated_difference():
    rng = random.Random(16)
    base = dt.datetime(2026, 10, 1)
    aware = dt.timezone(dt.timedelta(hours=5))
    for i in range(20000):
        start = base + dt.timedelta(microseconds=rng.randrange(-10 ** 13, 10 ** 13))
        stop = start + dt.timedelta(microseconds=rng.choice(
            [rng.randrange(-10 ** 7, 10 ** 7), rng.randrange(-10 ** 12, 10 ** 12), 0, -1]))
        if i % 10 == 0:
            start, stop = start.replace(tzinfo=aware), stop.replace(tzinfo=dt.timezone.utc)
        start_us = rng.choice([None, start.microsecond, rng.randrange(10 ** 6)])
        stop_us = rng.choice([None, stop.microsecond, rng.randrange(10 ** 6)])
        want = replace_duration(start, stop, start_us, stop_us)
        assert repr(rq.duration(start, stop, start_us, stop_us)) == repr(want)
    assert rq.duration(None, base, 1, 2) is None and rq.duration(base, None, 1, 2) is None


def test_run_detail_bytes_equal_clean_of_the_run(client, demo_url):
    engine = make_engine(demo_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.select(m.runs.c.uuid, m.runs.c.fails)
                                .order_by(m.runs.c.id)).all()
            refs = [u for u, _ in runs[::5]] + [u for u, f in runs if f][:3]
            wanted = {ref: json_bytes(clean(rq.run_detail(conn, ref))) for ref in refs}
    finally:
        engine.dispose()
    assert any(b'"traceback":"' in want for want in wanted.values())
    for ref, want in wanted.items():
        r = client.get(f"/api/v1/runs/{ref}")
        assert r.status_code == 200 and r.data == want, ref
