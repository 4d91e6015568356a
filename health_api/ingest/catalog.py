"""The ``tests`` table as one run sees it: ids for test names, then counters.

Each test name maps to one ``tests`` row, shared by every run and job: new
names are inserted as batches of a run are written, and the counters
(``run_count``, ``success``, ``failure``, ``run_time``) get the run's results
at its end, in test id order, so that concurrent ingesters take these row
locks in one order, for the short time between that update and the commit.
"""
from __future__ import annotations

from sqlalchemy import Connection, func, select

from ..db import bulk
from ..db import tables as m
from . import rollups
from .records import TEST_ID_MAX, IngestError, TestResult


#: unknown names in a batch, all new, from which the next batch's go
#: straight to the INSERT (see RunTests.expect_new)
EXPECT_NEW_MIN = 100


def _check_lengths(names: list[str]) -> None:
    """Refuse a test id too long for tests.test_id, on every engine alike."""
    for name in names:
        if len(name) > TEST_ID_MAX:
            raise IngestError(f"test id of {len(name)} characters (at most {TEST_ID_MAX}): "
                              f"{name[:80]!r}...")


class TestIdCache:
    """test_id -> tests.id, shared by the runs one process writes.

    Ids learnt inside a transaction only become visible to later runs once it
    commits: a rolled-back run may have inserted tests that no longer exist.
    Bounded: past ``limit`` names, further ones are looked up in the database.
    The limit holds a 100,000-test run whole (about 20 MB): below it, the
    second half of such a run looked its known tests up batch by batch, one
    query per 2,000 names on the critical path (known tests ingested slower
    than new ones on PostgreSQL).
    """

    __test__ = False

    def __init__(self, limit: int = 200_000) -> None:
        self.committed: dict[str, int] = {}
        self.limit = limit


class RunTests:
    """The ``tests`` rows of one run, inside the run's transaction."""

    def __init__(self, conn: Connection, cache: TestIdCache | None = None):
        self.conn = conn
        self.cache = cache or TestIdCache()
        self.pending: dict[str, int] = {}  # learnt in this transaction
        # Tests this run inserts get their counters in the INSERT, saving an
        # UPDATE of each new row at the end; that needs to know which rows the
        # INSERT wrote rather than a concurrent ingester: PostgreSQL says so
        # (RETURNING), SQLite holds the write lock. Not MySQL/MariaDB.
        self.counts_new_tests = conn.dialect.name in ("postgresql", "sqlite")
        # MySQL/MariaDB cannot tell which rows an INSERT ... ON DUPLICATE KEY
        # wrote, but a plain INSERT that succeeds wrote them all: new tests
        # are tried that way first (see _insert_counted)
        self.counts_if_all_new = conn.dialect.name in ("mysql", "mariadb")
        # tests.id of the tests whose INSERT counted their result in this run;
        # a set, not their counts: the run keeps each test's result anyway,
        # and a large run's new tests would otherwise cost tens of MB
        self.precounted: set[int] = set()
        # those of them that ran again in a later batch: the result counted
        self.recounted: dict[int, tuple[str, float | None]] = {}
        # The last batch's unknown names were all new (a job's first run, or a
        # new database): the next batch's are likely new too, so they go
        # straight to the INSERT. PostgreSQL, where RETURNING tells which rows
        # it wrote; SQLite and MySQL/MariaDB, whose plain INSERT of them all
        # either writes every row or nothing (then they are looked up as usual).
        self.expect_new = False

    def ids(self, fresh: dict[str, tuple[TestResult, str | None]]) -> dict[str, int]:
        """tests.id of each name in ``fresh`` (name -> (its last result in the
        batch, attrs)), inserting the tests not stored yet."""
        found: dict[str, int] = {}
        missing = []
        committed, pending = self.cache.committed.get, self.pending.get
        for name in fresh:
            hit = committed(name)  # the usual place: a test seen in an earlier run
            if hit is None:
                hit = pending(name)
            if hit is None:
                missing.append(name)
            else:
                found[name] = hit
        if missing:
            missing.sort()  # new tests are inserted in name order: a stable lock order
            if not self.expect_new:
                self._select(missing, found)
            new = [n for n in missing if n not in found]
            _check_lengths(new)
            written = self._insert(new, fresh, found) if new else 0
            self.expect_new = (written == len(missing) >= EXPECT_NEW_MIN
                               and self.conn.dialect.name in ("postgresql", "sqlite",
                                                              "mysql", "mariadb")
                               and bulk.has_unique_key(self.conn, m.tests, ("test_id",)))
            room = self.cache.limit - len(self.cache.committed) - len(self.pending)
            for name in missing[:max(room, 0)]:
                self.pending[name] = found[name]
        return found

    def _insert(self, names: list[str], fresh: dict, found: dict[str, int]) -> int | None:
        """Insert the tests ``names`` (sorted; on PostgreSQL some may be stored
        already, elsewhere none was when looked up) and add their ids to
        ``found``; where we can tell which rows this INSERT wrote, they carry
        this run's counts (see ``counts_new_tests``). Returns how many rows
        it wrote, or None where it cannot tell."""
        rows = []
        unique = bulk.has_unique_key(self.conn, m.tests, ("test_id",))
        counted = self.counts_new_tests or (self.counts_if_all_new and unique)
        for name in names:
            if counted:
                result = fresh[name][0]
                c = rollups.result_counts(result.status, result.duration)
                rows.append((name, c[0] + c[1], c[0], c[1], c[4] if c[3] else None))
            else:
                rows.append((name, 0, 0, 0, None))
        columns = ("test_id", "run_count", "success", "failure", "run_time")
        if not unique:
            return self._insert_unchecked(columns, rows, found)
        if self.counts_if_all_new:
            return self._insert_counted(columns, rows, names, found)
        if self.conn.dialect.name == "sqlite":
            return self._insert_sqlite(columns, rows, found)
        inserted = self._copy_new(columns, rows)
        if inserted is None:
            inserted = bulk.insert_ignore_rows(self.conn, m.tests, columns, ("test_id",), rows,
                                               returning=("test_id", "id"))
        ours: list[str] | None = None
        if inserted is not None:  # PostgreSQL: the rows this INSERT wrote
            found.update(inserted)
            ours = [name for name, _id in inserted]
            names = [n for n in names if n not in found]  # inserted meanwhile by others
        if names:
            self._select(names, found)
        if self.counts_new_tests and ours is not None:
            self.precounted.update(found[name] for name in ours)
        return None if ours is None else len(ours)

    def _insert_sqlite(self, columns, rows: list[tuple], found: dict[str, int]) -> int:
        """SQLite: insert the tests of ``rows`` with ids counted on from MAX(id)
        (``bulk.allocate_ids``: our transaction holds the write lock, nobody
        else inserts), so their ids need no look-up afterwards. Names that
        were not looked up (``expect_new``) go in by a plain INSERT in a
        savepoint; if one is stored after all, nothing of it stays, the names
        are looked up and only the others inserted. (Looked-up names need no
        savepoint, whose journal of the pages it changes costs time.)"""
        ids = bulk.allocate_ids(self.conn, m.tests, len(rows))
        with_ids = [(i,) + row for i, row in zip(ids, rows)]
        if not self.expect_new:  # looked up: none is stored, and no savepoint to pay
            bulk.insert_rows(self.conn, m.tests, ("id",) + columns, with_ids)
        elif not bulk.insert_new_rows(self.conn, m.tests, ("id",) + columns, with_ids):
            self._select([row[0] for row in rows], found)
            rows = [row for row in rows if row[0] not in found]
            ids = bulk.allocate_ids(self.conn, m.tests, len(rows))
            bulk.insert_rows(self.conn, m.tests, ("id",) + columns,
                             [(i,) + row for i, row in zip(ids, rows)])
        found.update(zip((row[0] for row in rows), ids))
        self.precounted.update(ids)
        return len(rows)

    def _insert_counted(self, columns, rows: list[tuple], names: list[str],
                        found: dict[str, int]) -> int | None:
        """MySQL/MariaDB: insert the tests ``names`` (none was stored when looked
        up, or not looked up: ``expect_new``) with this run's counts by a plain
        INSERT, in a savepoint. If it
        succeeds every row is ours (the unique index makes a concurrent
        ingester's INSERT of the same name wait for us, then fail) and the
        counters need no UPDATE at the end: for a run of new tests that UPDATE
        cost as much as writing its test_runs. If a name was stored meanwhile,
        nothing of it stays: the rows go in without counts, skipping stored
        names, and the counters are updated at the end as for known tests."""
        ids: list[int] = []
        if bulk.insert_new_rows(self.conn, m.tests, columns, rows, ids=ids):
            if ids:
                found.update(zip(names, ids))
            else:
                self._select(names, found)
            self.precounted.update(found[name] for name in names)
            return len(names)
        bulk.insert_ignore_rows(self.conn, m.tests, columns, ("test_id",),
                                [(row[0], 0, 0, 0, None) for row in rows])
        self._select(names, found)
        return None

    def learn_job_tests(self, build_name: str) -> int:
        """Put the ids of the tests the job ran on its latest stored day into
        the cache; return how many. A new ingest process starts with an empty
        cache and would otherwise look up every test of its first run batch
        by batch, on the critical path; the writer calls this while the first
        batch is still being parsed. The daily rollups make it two index
        range scans, however long the job's history."""
        room = self.cache.limit - len(self.cache.committed)
        if room <= 0:
            return 0
        jd, td, t = m.job_daily, m.test_daily, m.tests
        latest = (select(func.max(jd.c.day)).where(jd.c.build_name == build_name)
                  .scalar_subquery())
        known = self.conn.execute(
            select(t.c.test_id, t.c.id).join(td, td.c.test_id == t.c.id)
            .where(td.c.build_name == build_name, td.c.day == latest).limit(room)).all()
        # committed rows: valid for later runs whatever becomes of this one
        self.cache.committed.update(known)
        return len(known)

    def _copy_new(self, columns, rows: list[tuple]) -> list[tuple[str, int]] | None:
        """PostgreSQL: insert ``rows`` with ids drawn from the sequence by COPY,
        cheaper than INSERT ... ON CONFLICT ... RETURNING; as (name, id) of the
        rows written. None, with nothing written, where any name is stored
        (concurrently, or already when it was not looked up) or elsewhere."""
        if self.conn.dialect.name != "postgresql":
            return None
        ids = bulk.allocate_ids(self.conn, m.tests, len(rows))
        if ids is None or not bulk.insert_new_rows(
                self.conn, m.tests, ("id",) + columns,
                [(i,) + row for i, row in zip(ids, rows)]):
            return None
        return [(row[0], i) for i, row in zip(ids, rows)]

    def _insert_unchecked(self, columns, rows: list[tuple], found: dict[str, int]) -> int:
        """``_insert`` for a subunit2sql database adopted with duplicate test
        names, where tests.test_id has no unique index to insert against.
        PostgreSQL: other ingesters wait on a table lock until this run
        commits, then see the new rows. SQLite's write lock does the same.
        MySQL/MariaDB: concurrent ingests may then store a name twice, as
        subunit2sql itself did (migration 0001 warns of this)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("LOCK TABLE tests IN SHARE ROW EXCLUSIVE MODE")
            self._select([row[0] for row in rows], found)  # committed meanwhile
            rows = [row for row in rows if row[0] not in found]
        bulk.insert_rows(self.conn, m.tests, columns, rows)
        names = [row[0] for row in rows]
        self._select(names, found)
        if self.counts_new_tests:
            self.precounted.update(found[name] for name in names)
        return len(names)

    def _select(self, names: list[str], found: dict[str, int]) -> None:
        found.update(bulk.lookup_ids(self.conn, m.tests, "test_id", names))

    def retried(self, test_db_id: int, status: str, duration: float | None) -> None:
        """The test ran again in a later batch; ``status``/``duration`` is the
        result stored so far, the one its INSERT counted if it was new."""
        if test_db_id in self.precounted:
            self.recounted.setdefault(test_db_id, (status, duration))

    def add_counts(self, per_test: dict[int, list]) -> None:
        """Add the run's counts (``rollups.tally``) to its tests, except where
        the INSERT of a new test already did; if such a test ran again in a
        later batch, what the INSERT counted is taken back first. Both
        statements go in id order."""
        take_back, add = [], []
        precounted, recounted = self.precounted, self.recounted
        for test_id, d in sorted(per_test.items()):
            if test_id in precounted:
                first = recounted.get(test_id)
                if first is None:
                    continue  # counted by its INSERT
                counted = rollups.result_counts(*first)
                if counted == d:
                    continue
                if counted[0] or counted[1]:
                    take_back.append((test_id, -counted[0], -counted[1], -counted[3],
                                      -counted[4]))
            if d[0] or d[1]:
                add.append((test_id, d[0], d[1], d[3], d[4]))
        bulk.add_to_test_counters(self.conn, m.tests, take_back)
        bulk.add_to_test_counters(self.conn, m.tests, add)

    def committed(self) -> None:
        """Call after the transaction committed: share the learnt test ids."""
        self.cache.committed.update(self.pending)
