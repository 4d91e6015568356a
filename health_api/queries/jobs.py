"""Job (run metadata build_name) queries; day-resolution stats come from ch_job_daily
and ch_test_daily, finer ones from one GROUP BY over runs."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, and_, case, cast, desc, func, literal, select

from .. import rules
from ..db import models as m
from .common import (_PG, META, RUNS, bucket, dialect, duration_seconds, outcome_flags,
                     run_dict, window)

JD, TD = m.job_daily, m.test_daily


def _job_runs(name: str | None = None):
    """(job name column, runs outer-joined to their build_name metadata row, WHERE):
    a run without a build_name is the job rules.NO_JOB_NAME (the rollups file it under "")."""
    b = META.alias("b")
    joined = RUNS.outerjoin(b, and_(b.c.run_id == RUNS.c.id, b.c.key == rules.BUILD_NAME_KEY))
    where = []
    if name == rules.NO_JOB_NAME:
        where.append(b.c.id.is_(None))
    elif name is not None:
        where.append(b.c.value == name)
    return func.coalesce(b.c.value, rules.NO_JOB_NAME), joined, where


def rollup_name(name: str) -> str:
    """The build_name a job's rows have in the daily rollups."""
    return "" if name == rules.NO_JOB_NAME else name


def job_exists(conn, name: str) -> bool:
    if name == rules.NO_JOB_NAME:
        has_name = select(META.c.id).where(META.c.run_id == RUNS.c.id,
                                           META.c.key == rules.BUILD_NAME_KEY)
        return conn.execute(select(RUNS.c.id).where(~has_name.exists()).limit(1)).first() \
            is not None
    return conn.execute(select(META.c.id).where(META.c.key == rules.BUILD_NAME_KEY,
                                                META.c.value == name).limit(1)).first() is not None


def summary(conn, prev_start: dt.datetime, start: dt.datetime, stop: dt.datetime) -> list[tuple]:
    """(build_name, period 0=previous/1=current, passed, failed, empty, runs, mean run time,
    last run_at, p95 run time) for [prev_start, start) and [start, stop).

    The 95th percentile of the group's run times comes from PostgreSQL's
    percentile_cont (linear interpolation, as pandas' quantile; NULL run times
    ignored) in the same pass, instead of every run's time sent back (a gate
    month: 18,000 rows, ~20 ms of the API's CPU); it is None on the other engines
    (SQLite has no such aggregate, MariaDB only as a window function): the caller
    reads run_times there (p95_in_summary)."""
    job, joined, where = _job_runs()
    passed, failed, empty = outcome_flags()
    period = case((RUNS.c.run_at >= start, 1), else_=0).label("period")
    p95 = (func.percentile_cont(0.95).within_group(RUNS.c.run_time) if p95_in_summary(conn)
           else literal(None))
    stmt = (select(job.label("job"), period, func.sum(passed), func.sum(failed), func.sum(empty),
                   func.count(), func.avg(RUNS.c.run_time), func.max(RUNS.c.run_at), p95)
            .select_from(joined).where(*where, *window(RUNS.c.run_at, prev_start, stop))
            .group_by(job, period))
    return [tuple(r) for r in conn.execute(stmt)]


def p95_in_summary(conn) -> bool:
    return dialect(conn) == "postgresql"


def run_times(conn, start: dt.datetime, stop: dt.datetime, name: str | None = None) -> list[tuple]:
    """(build_name, run_time) of every run in the window: two columns, for percentiles."""
    job, joined, where = _job_runs(name)
    stmt = (select(job, RUNS.c.run_time).select_from(joined)
            .where(*where, RUNS.c.run_time.is_not(None), *window(RUNS.c.run_at, start, stop)))
    return [tuple(r) for r in conn.execute(stmt)]


def counts_over_time(conn, name: str, start: dt.datetime, stop: dt.datetime,
                     resolution: str) -> list[tuple]:
    """(bucket, passed, failed, empty, run_time_sum, run_time_sq_sum, runs)."""
    if resolution == "day":
        stmt = (select(JD.c.day, JD.c.passed, JD.c.failed, JD.c.empty, JD.c.run_time_sum,
                       JD.c.run_time_sq_sum, JD.c.passed + JD.c.failed + JD.c.empty)
                .where(JD.c.build_name == rollup_name(name), JD.c.day >= start.date(),
                       JD.c.day < stop.date()))
        return [tuple(r) for r in conn.execute(stmt)]
    _, joined, where = _job_runs(name)
    bk = bucket(RUNS.c.run_at, resolution, dialect(conn)).label("bucket")
    passed, failed, empty = outcome_flags()
    rt = func.coalesce(RUNS.c.run_time, 0.0)
    stmt = (select(bk, func.sum(passed), func.sum(failed), func.sum(empty), func.sum(rt),
                   func.sum(rt * rt), func.count())
            .select_from(joined).where(*where, *window(RUNS.c.run_at, start, stop))
            .group_by(bk))
    return [tuple(r) for r in conn.execute(stmt)]


def recent_runs(conn, name: str, limit: int) -> list[dict]:
    _, joined, where = _job_runs(name)
    rows = conn.execute(select(RUNS).select_from(joined).where(*where)
                        .order_by(desc(RUNS.c.run_at), desc(RUNS.c.id)).limit(limit)).all()
    return [run_dict(r) for r in rows]


TEST_SORTS = {"failure_rate", "failures", "runs", "mean_run_time", "test_id"}


def test_stats(conn, name: str, start_day: dt.date, stop_day: dt.date, sort: str,
               limit: int, offset: int) -> tuple[int, list[dict]]:
    """Per-test pass/fail/skip within a job over whole days, from ch_test_daily.

    The job's rows of the window (one index range of ix_ch_test_daily_job) are
    summed per test id first and only then joined to the tests' names, and
    the total comes from the same pass (a window count), not a second one."""
    t = m.tests
    per_test = (select(TD.c.test_id, func.sum(TD.c.success).label("success"),
                       func.sum(TD.c.failure).label("failure"),
                       func.sum(TD.c.skip).label("skip"), func.sum(TD.c.timed).label("timed"),
                       func.sum(TD.c.run_time_sum).label("time_sum"))
                .where(TD.c.build_name == rollup_name(name), TD.c.day >= start_day,
                       TD.c.day < stop_day)
                .group_by(TD.c.test_id).subquery("per_test"))
    p = per_test.c
    runs = p.success + p.failure
    rate = case((runs > 0, p.failure * literal(1.0) / func.nullif(runs, 0)), else_=None)
    mean = case((p.timed > 0, p.time_sum / func.nullif(p.timed, 0)), else_=None)
    order = {"failure_rate": [desc(func.coalesce(rate, -1.0)), desc(p.failure)],
             "failures": [desc(p.failure)], "runs": [desc(runs)],
             "mean_run_time": [desc(func.coalesce(mean, -1.0))], "test_id": []}[sort]
    stmt = (select(t.c.test_id, p.success, p.failure, p.skip, mean.label("mean_run_time"),
                   func.count().over().label("total"))
            .select_from(per_test.join(t, t.c.id == p.test_id))
            .order_by(*order, t.c.test_id).limit(limit).offset(offset))
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    if rows:
        total = rows[0]["total"]
    else:  # past the last page (or nothing): the window count had no row to ride on
        total = conn.execute(select(func.count()).select_from(
            per_test.join(t, t.c.id == p.test_id))).scalar() or 0
    for row in rows:
        del row["total"]
    return total, rows


def job_test_buckets(conn, name: str, start, stop, resolution: str, passes, fails,
                     limit: int) -> list[tuple]:
    """(bucket text, test_id, passes, fails, others, trailing) per bucket of start_time
    and test, over the results of the job's runs whose start_time is in the closed window
    [start, stop]: ``passes``/``fails`` are the statuses counted as such, ``trailing`` the
    summed durations of the passes after the bucket's last other result in test_runs.id
    order (openstack-health's running mean is trailing / passes). At most ``limit`` rows."""
    b, tr, t = META.alias("b"), m.test_runs, m.tests
    d = dialect(conn)
    where = [tr.c.start_time.is_not(None)]
    if start is not None:
        where.append(tr.c.start_time >= start)
    if stop is not None:
        where.append(tr.c.start_time <= stop)
    # PostgreSQL partitions and groups on the truncated timestamp and the integer test id
    # (cheaper to sort than their text) and writes the key text once per group
    key = func.date_trunc(_PG[resolution], tr.c.start_time) if d == "postgresql" \
        else bucket(tr.c.start_time, resolution, d)
    passed = tr.c.status.in_(list(passes))
    results = (select(key.label("k"), tr.c.test_id, tr.c.id, tr.c.status,
                      case((passed, duration_seconds(tr.c.start_time, tr.c.stop_time,
                                                     tr.c.start_time_microsecond,
                                                     tr.c.stop_time_microsecond, d)),
                           else_=None).label("took"),
                      func.max(case((passed, None), else_=tr.c.id))
                      .over(partition_by=[key, tr.c.test_id]).label("last_other"))
               .select_from(tr.join(b, (b.c.run_id == tr.c.run_id)
                                    & (b.c.key == rules.BUILD_NAME_KEY) & (b.c.value == name)))
               .where(*where).subquery())
    r = results.c
    is_pass = r.status.in_(list(passes))
    counts = (select(r.k, r.test_id.label("tid"),
                     func.sum(case((is_pass, 1), else_=0)).label("passes"),
                     func.sum(case((r.status.in_(list(fails)), 1), else_=0)).label("fails"),
                     func.sum(case((is_pass, 0), (r.status.in_(list(fails)), 0),
                                   else_=1)).label("others"),
                     func.sum(case((is_pass & (r.last_other.is_(None) | (r.id > r.last_other)),
                                    func.coalesce(r.took, 0)), else_=0)).label("trailing"))
              .group_by(r.k, r.test_id).limit(limit).subquery())
    c = counts.c
    if d == "postgresql":
        return _pg_buckets(conn, counts)
    stmt = (select(c.k, t.c.test_id, c.passes, c.fails, c.others, c.trailing)
            .select_from(counts.join(t, t.c.id == c.tid)))
    return [tuple(row) for row in conn.execute(stmt)]


def _pg_buckets(conn, counts) -> list[tuple]:
    """PostgreSQL: the buckets as integers (epoch seconds, test id; the sum as a float8,
    not a numeric), named and formatted here once per distinct value: a Tempest job's
    week at hour is 210,000 rows, whose timestamp and name texts took longer to read
    than the query took to run."""
    c = counts.c
    stmt = select(cast(func.floor(func.date_part("epoch", c.k)), BigInteger), c.tid,
                  c.passes, c.fails, c.others, cast(c.trailing, Float))
    rows = conn.execute(stmt).all()
    names = dict(conn.execute(select(m.tests.c.id, m.tests.c.test_id).where(
        m.tests.c.id.in_({row[1] for row in rows}))).all()) if rows else {}
    texts: dict[int, str] = {}
    out = []
    for epoch, tid, passes, fails, others, trailing in rows:
        key = texts.get(epoch)
        if key is None:
            at = _EPOCH + dt.timedelta(seconds=epoch)
            key = texts[epoch] = (f"{at.year:04d}-{at.month:02d}-{at.day:02d}"
                                  f" {at.hour:02d}:{at.minute:02d}:{at.second:02d}")
        out.append((key, names[tid], passes, fails, others, trailing))
    return out


_EPOCH = dt.datetime(1970, 1, 1)
