"""Every results rollup rebuilt from the results (``ci-health db rebuild-rollups``
and adopting a subunit2sql database): the daily rollups (rollup_sql.build_all) and
openstack-health's day parts (compat.rollup), the second range by range right
behind the first.

On PostgreSQL and MariaDB the parts of the committed ranges are built by two
more connections while the daily build goes on with the next range: each
statement is one server process's work, so the build uses the server's cores
instead of one, and the command takes about the two builds' CPU time divided
among them instead of its sum (a gate quarter: ~66 s daily + ~110 s parts of
one core's time). The ranges of one split day (more runs than a range holds)
go to one connection, in order: their parts combine by upsert, which two
connections could deadlock on (MariaDB's gap locks). SQLite has one writer:
there the parts follow each range in turn.
"""
from __future__ import annotations

import queue
import threading

from sqlalchemy import Engine

from ..compat import rollup as osh_rollup
from . import rollup_sql

#: connections building parts beside the daily build's one (servers only)
FOLLOWERS = 2


class _Followers:
    """Add the openstack-health parts of each range the daily build committed."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.rows = 0
        self.error: BaseException | None = None
        self._stopped = False
        self._lock = threading.Lock()
        self._queues: list[queue.Queue] = []
        self._threads: list[threading.Thread] = []
        self._next = 0
        if engine.dialect.name != "sqlite":
            for n in range(FOLLOWERS):
                self._queues.append(queue.Queue())
                thread = threading.Thread(target=self._work, args=(self._queues[n],),
                                          name=f"osh-rollup-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def clear(self, conn) -> None:
        # in the transaction that empties the daily rollups and ch_rolled_runs: a run
        # a writer rolls up meanwhile is in both tables or in neither
        osh_rollup.clear(conn)

    def add(self, run_ids: list[int], whole_days: bool) -> None:
        if self.error is not None:
            raise self.error
        if not self._queues:
            self._build(run_ids, whole_days)
            return
        if whole_days:  # a new day: the next connection; a split day's rest: the same
            self._next = (self._next + 1) % len(self._queues)
        self._queues[self._next].put((run_ids, whole_days))

    def _build(self, run_ids: list[int], whole_days: bool) -> None:
        with self.engine.begin() as conn:
            rows = osh_rollup.build_runs(conn, run_ids, whole_days)
        with self._lock:
            self.rows += rows

    def _work(self, jobs: queue.Queue) -> None:
        while (item := jobs.get()) is not None:
            if self._stopped or self.error is not None:
                continue
            try:
                self._build(*item)
            except BaseException as exc:  # handed to the building thread
                self.error = exc

    def _join(self) -> None:
        for jobs in self._queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join()

    def finish(self) -> None:
        self._join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        self._stopped = True
        self._join()


def build_all(engine: Engine, *, runs_per_range: int = rollup_sql.RUNS_PER_RANGE) -> dict:
    """Both from scratch; the report of the daily build and the parts' row count."""
    followers = _Followers(engine)
    try:
        report = rollup_sql.build_all(engine, runs_per_range=runs_per_range,
                                      follower=followers)
    except BaseException:
        followers.abort()
        raise
    followers.finish()
    osh_rollup.vacuum(engine)
    return {**report, "osh_test_daily_rows": followers.rows}
