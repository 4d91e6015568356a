"""Bulk writes at driver speed, one code path per engine.

Ingest writes tens of thousands of rows per second. SQLAlchemy's per-row
parameter processing costs more than the database itself at that rate, so
these helpers hand rows (tuples) straight to the driver, still as bound
parameters:

* PostgreSQL: plain inserts go through binary ``COPY`` (the fastest way in:
  no statement per row, no array building); upserts pass the rows as arrays
  expanded with ``unnest`` (one round trip for thousands of rows; both
  encodings in ``pg_params``);
* SQLite: ``executemany`` (a C loop inside the sqlite3 module);
* MySQL/MariaDB: ``executemany``, which PyMySQL folds into multi-row INSERTs.

Table and column names come from our own models, never from input.
"""
from __future__ import annotations

import datetime as dt
import operator
import sqlite3
import weakref
from typing import Any, Callable, Sequence

from sqlalchemy import Connection, Table, inspect
from sqlalchemy.exc import IntegrityError

from .pg_params import (pg_arrays, pg_copy, pg_types, pg_unnest, pg_unnest_arrays,
                        pg_unnest_of)

Row = Sequence


#: The format SQLAlchemy's SQLite DATETIME type writes and reads back; a
#: methodcaller, so that sqlite3 converts each value without a Python frame.
_sqlite_datetime = operator.methodcaller("isoformat", " ", "microseconds")

# sqlite3 converts our raw parameters in C through these adapters (its own
# defaults are deprecated and drop zero microseconds).
sqlite3.register_adapter(dt.datetime, _sqlite_datetime)
sqlite3.register_adapter(dt.date, dt.date.isoformat)


def datetime_param(conn: Connection) -> Callable[[dt.datetime], Any]:
    """What to put in a row for a datetime on this connection: on SQLite the
    text it stores (converting once a value that many rows share, such as a
    comment's time in each of its job results, instead of once per row
    through the adapter), elsewhere the datetime itself."""
    return _sqlite_datetime if conn.dialect.name == "sqlite" else _same


def _same(value):
    return value


def _prepare_sqlite(rows: Sequence[Row]) -> list:
    return rows if isinstance(rows, list) and (not rows or isinstance(rows[0], tuple)) \
        else list(map(tuple, rows))


def _names(columns: Sequence[str], quote) -> str:
    return ", ".join(quote(c) for c in columns)


def _insert(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row],
            on_conflict: str = "", on_duplicate: str = "", returning: str = "") -> list | None:
    """One INSERT of all rows, the driver's way: ``on_conflict`` is the
    PostgreSQL/SQLite clause, ``on_duplicate`` the MySQL one. ``returning``
    (PostgreSQL only: the others return row by row) gives the inserted rows'
    values of those columns."""
    if not rows:
        return [] if returning and conn.dialect.name == "postgresql" else None
    quote = conn.dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({_names(columns, quote)})"
    name = conn.dialect.name
    if name == "postgresql" and not on_conflict and not returning:
        pg_copy(conn, table, columns, rows, target)
    elif name == "postgresql":
        select, arrays = pg_unnest(conn, table, columns, rows)
        sql = f"INSERT INTO {target} {select} {on_conflict}"
        if returning:
            return conn.exec_driver_sql(f"{sql} RETURNING {returning}", tuple(arrays)).all()
        conn.exec_driver_sql(sql, tuple(arrays))
    elif name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks}) {on_conflict}",
                             _prepare_sqlite(rows))
    else:
        marks = ", ".join("%s" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks}) {on_duplicate}",
                             list(map(tuple, rows)))
    return None


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[Row]) -> None:
    """INSERT rows (tuples in ``columns`` order)."""
    _insert(conn, table, columns, rows)


def upsert_add_rows(conn: Connection, table: Table, columns: Sequence[str],
                    key_columns: Sequence[str], rows: Sequence[Row], *,
                    report_new: bool = False) -> list[bool] | None:
    """INSERT rows; where the key exists, add every non-key column to the stored value.

    Used for counters and sums (rollups), so concurrent writers add up. Callers
    pass rows unique per key and sorted, so lock order is stable. With
    ``report_new``, PostgreSQL tells for each row whether it was inserted
    rather than added to (None elsewhere)."""
    quote = conn.dialect.identifier_preparer.quote
    add = [quote(c) for c in columns if c not in key_columns]
    t = quote(table.name)
    sets = ", ".join(f"{c} = {t}.{c} + excluded.{c}" for c in add)
    # a row version this statement inserted has no xmax; one it updated has ours
    returned = _insert(
        conn, table, columns, rows,
        on_conflict=f"ON CONFLICT ({_names(key_columns, quote)}) DO UPDATE SET {sets}",
        on_duplicate="ON DUPLICATE KEY UPDATE "
                     + ", ".join(f"{c} = {c} + VALUES({c})" for c in add),
        returning="(xmax = 0)" if report_new and conn.dialect.name == "postgresql" else "")
    return None if returned is None else [bool(r[0]) for r in returned]


def add_to_stored_rows(conn: Connection, table: Table, columns: Sequence[str],
                       key_columns: Sequence[str], rows: Sequence[Row]) -> list:
    """PostgreSQL: add every non-key column of ``rows`` to the stored row with
    the same key, in one UPDATE joined to the rows; return the rows that
    matched none (for ``upsert_add_rows``). Where most rows exist, cheaper
    than the upsert's probe per row (26 instead of 40 ms for 10,000 rollup
    rows). Key columns with one value in every row become constants, so the
    planner reads only that range of the table's key: for rollups, the
    day's rows of one job, about as many as the run has tests."""
    if not rows:
        return []
    quote = conn.dialect.identifier_preparer.quote
    t = quote(table.name)
    values = [list(col) for col in zip(*rows)]
    varying = [i for i, c in enumerate(columns)
               if c not in key_columns or values[i].count(values[i][0]) != len(values[i])]
    types = pg_types(conn, table, columns)
    select, params = pg_unnest_arrays([values[i] for i in varying], [types[i] for i in varying])
    names = [f"c{i}" for i in varying]
    where, constants = [], []
    for i, c in enumerate(columns):
        if c in key_columns:
            if i in varying:
                where.append(f"{t}.{quote(c)} = d.c{i}")
            else:
                where.append(f"{t}.{quote(c)} = %s")
                constants.append(values[i][0])
    sets = ", ".join(f"{quote(c)} = {t}.{quote(c)} + d.c{i}"
                     for i, c in enumerate(columns) if c not in key_columns)
    joined = [i for i in varying if columns[i] in key_columns]
    returning = ", ".join(f"{t}.{quote(columns[i])}" for i in joined) or "1"
    result = conn.exec_driver_sql(
        f"UPDATE {t} SET {sets} FROM ({select}) AS d({', '.join(names)}) "
        f"WHERE {' AND '.join(where)} RETURNING {returning}",
        tuple(params) + tuple(constants))
    if result.rowcount == len(rows):
        return []  # the usual case: the keys of what matched need not be read
    matched = set(result.all())
    if not joined:  # every key column constant: one row, and it did not match
        return list(rows)
    return [row for row in rows if tuple(row[i] for i in joined) not in matched]


def insert_new_rows(conn: Connection, table: Table, columns: Sequence[str],
                    rows: Sequence[Row], *, ids: list | None = None) -> bool:
    """``insert_rows`` for rows whose keys the caller believes are not stored:
    True if they were inserted; False, with nothing written, if one was.
    With a list ``ids``, MySQL/MariaDB put there the ids the rows were given
    where ``insert_rows_ids`` can tell them (else it stays empty)."""
    try:
        with conn.begin_nested():  # a savepoint: a failed insert leaves the transaction usable
            given = insert_rows_ids(conn, table, columns, rows) if ids is not None else None
            if given is None:
                _insert(conn, table, columns, rows)
            else:
                ids.extend(given)
    # the driver's own error where COPY bypasses SQLAlchemy
    except (IntegrityError, conn.dialect.loaded_dbapi.IntegrityError):
        return False
    return True


#: rows per INSERT statement of ``insert_rows_ids``
ID_INSERT_ROWS = 1000

#: engine -> whether a multi-row INSERT's ids are consecutive (MySQL/MariaDB)
_consecutive_ids: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


def _ids_consecutive(conn: Connection) -> bool:
    """InnoDB gives the rows of one multi-row INSERT ... VALUES consecutive
    auto-increment ids in lock modes 0 ("traditional") and 1 ("consecutive",
    the default), step auto_increment_increment; mode 2 may interleave them
    with a concurrent insert's. Asked once per engine."""
    known = _consecutive_ids.get(conn.engine)
    if known is None:
        mode, step = conn.exec_driver_sql(
            "SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment").one()
        known = _consecutive_ids[conn.engine] = int(mode) in (0, 1) and int(step) == 1
    return known


def insert_rows_ids(conn: Connection, table: Table, columns: Sequence[str],
                    rows: Sequence[Row]) -> list[int] | None:
    """MySQL/MariaDB: ``insert_rows`` that also returns the auto-increment ids
    the rows were given, in row order, so that child rows need no read back
    (there is no RETURNING and no sequence to reserve ids from): each
    statement's first id is its LAST_INSERT_ID(), the others follow it (see
    ``_ids_consecutive``). None, with nothing written, elsewhere or where the
    server does not promise consecutive ids."""
    if conn.dialect.name not in ("mysql", "mariadb") or not _ids_consecutive(conn):
        return None
    quote = conn.dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({_names(columns, quote)})"
    group = "(" + ", ".join(["%s"] * len(columns)) + ")"
    ids: list[int] = []
    for start in range(0, len(rows), ID_INSERT_ROWS):
        part = rows[start:start + ID_INSERT_ROWS]
        params = tuple(value for row in part for value in row)
        first = conn.exec_driver_sql(
            f"INSERT INTO {target} VALUES {', '.join([group] * len(part))}", params).lastrowid
        ids.extend(range(first, first + len(part)))
    return ids


def insert_ignore_rows(conn: Connection, table: Table, columns: Sequence[str],
                       key_columns: Sequence[str], rows: Sequence[Row], *,
                       returning: Sequence[str] = ()) -> list | None:
    """INSERT rows, skipping those whose unique key already exists (also when a
    concurrent transaction inserts the same key: it waits, then skips).

    With ``returning`` columns, PostgreSQL gives them for the rows it
    inserted (so a caller needs no read back); elsewhere the result is None."""
    quote = conn.dialect.identifier_preparer.quote
    first = quote(key_columns[0])
    # Not INSERT IGNORE on MySQL: that would also swallow truncation and type errors.
    return _insert(conn, table, columns, rows,
                   on_conflict=f"ON CONFLICT ({_names(key_columns, quote)}) DO NOTHING",
                   on_duplicate=f"ON DUPLICATE KEY UPDATE {first} = {first}",
                   returning=_names(returning, quote) if returning else "")


def add_to_test_counters(conn: Connection, tests: Table, rows: Sequence[Row]) -> None:
    """rows: (tests.id, passes, failures, timed passes, sum of their durations).

    ``success = success + n`` in SQL, so concurrent ingesters lose nothing;
    run_time stays the mean duration of timed passes (negative values remove
    expired results from it; no pass left gives NULL). Rows must be sorted by
    id so that concurrent writers lock rows in the same order.
    """
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    t = quote(tests.name)
    name = conn.dialect.name
    if name == "postgresql":
        arrays = pg_arrays([list(col) for col in zip(*rows)],
                           ("bigint", "int", "int", "int", "float8"))
        select, params = pg_unnest_of(arrays)
        ids_sql, ids_params = arrays[0]  # the ids again, encoded once
        # "id = ANY(ids)" as well as the join: without it the planner may hash
        # the whole tests table to update a few hundred rows (seen: 4 ms for
        # 200 rows of a 10,000-test table, growing with the table).
        conn.exec_driver_sql(
            f"UPDATE {t} SET run_time = CASE WHEN d.timed = 0 THEN {t}.run_time "
            f"WHEN COALESCE({t}.success, 0) + d.timed > 0 THEN "
            f"(COALESCE({t}.run_time, 0) * COALESCE({t}.success, 0) + d.dur) / "
            f"(COALESCE({t}.success, 0) + d.timed) END, "
            f"success = COALESCE({t}.success, 0) + d.pass, "
            f"failure = COALESCE({t}.failure, 0) + d.fail, "
            f"run_count = COALESCE({t}.run_count, 0) + d.pass + d.fail "
            f"FROM ({select}) AS d(id, pass, fail, timed, dur) "
            f"WHERE {t}.id = ANY({ids_sql}) AND {t}.id = d.id",
            tuple(params) + tuple(ids_params))
        return
    if name in ("mysql", "mariadb"):
        _add_to_test_counters_mysql(conn, t, rows)
        return
    # SQLite: numbered parameters (?1 = id ... ?5 = dur), the rows go to the
    # driver as they are. SET uses the old values; run_time goes first anyway.
    mark = {"id": "?1", "pass": "?2", "fail": "?3", "timed": "?4", "dur": "?5"}
    params = rows
    conn.exec_driver_sql(
        f"UPDATE {t} SET run_time = (CASE WHEN {mark['timed']} = 0 THEN {t}.run_time "
        f"WHEN COALESCE({t}.success, 0) + {mark['timed']} > 0 THEN "
        f"(COALESCE({t}.run_time, 0) * COALESCE({t}.success, 0) + {mark['dur']}) / "
        f"(COALESCE({t}.success, 0) + {mark['timed']}) END), "
        f"success = COALESCE({t}.success, 0) + {mark['pass']}, "
        f"failure = COALESCE({t}.failure, 0) + {mark['fail']}, "
        f"run_count = COALESCE({t}.run_count, 0) + {mark['pass']} + {mark['fail']} "
        f"WHERE {t}.id = {mark['id']}", params)


def _add_to_test_counters_mysql(conn: Connection, t: str, rows: Sequence[Row]) -> None:
    """``add_to_test_counters`` on MySQL/MariaDB: one INSERT ... ON DUPLICATE KEY
    UPDATE per IN_CHUNK tests, on rows that exist (their names are read and
    locked first: the INSERT needs test_id, NOT NULL without a default, even
    for a row it only updates). PyMySQL would send an executemany UPDATE row
    by row, and an UPDATE carrying the chunk as CASE lists compares every row
    with every WHEN (10,000 known tests: 0.39-0.44 s against 0.16-0.19 s this
    way). The INSERT meets the
    primary key first and updates that row in place, so, as with the UPDATE
    through the primary key it replaces, locks are taken in test id order on the
    primary key alone: two ingesters cannot deadlock on the row's index records.

    VALUES() carries the deltas in the columns of the row it would insert:
    success and failure as themselves, run_count the timed passes, run_time
    their summed duration. Assignments run left to right on the old values
    until assigned: run_time first, on the old success count."""
    for start in range(0, len(rows), IN_CHUNK):
        chunk = rows[start:start + IN_CHUNK]
        # Locked as read, through the primary key in id order, as the INSERT
        # then locks them: a row deleted meanwhile (expire) would otherwise be
        # inserted again with the deltas as its values.
        names = dict(fetch_in(conn, f"SELECT id, test_id FROM {t} FORCE INDEX (PRIMARY)",
                              "id", [row[0] for row in chunk], " ORDER BY id FOR UPDATE"))
        params: list = []
        for test_id, passes, fails, timed, dur in chunk:
            if test_id in names:  # gone (expired meanwhile): nothing to add to
                params += (test_id, names[test_id], passes, fails, timed, dur)
        if not params:
            continue
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * (len(params) // 6))
        conn.exec_driver_sql(
            f"INSERT INTO {t} (id, test_id, success, failure, run_count, run_time) "
            f"VALUES {values} ON DUPLICATE KEY UPDATE "
            f"run_time = (CASE WHEN VALUES(run_count) = 0 THEN {t}.run_time "
            f"WHEN COALESCE({t}.success, 0) + VALUES(run_count) > 0 THEN "
            f"(COALESCE({t}.run_time, 0) * COALESCE({t}.success, 0) + VALUES(run_time)) / "
            f"(COALESCE({t}.success, 0) + VALUES(run_count)) END), "
            f"run_count = COALESCE({t}.run_count, 0) + VALUES(success) + VALUES(failure), "
            f"success = COALESCE({t}.success, 0) + VALUES(success), "
            f"failure = COALESCE({t}.failure, 0) + VALUES(failure)",
            tuple(params))


#: keys per IN (...) list: well under every engine's bind-parameter limit
IN_CHUNK = 500


def fetch_in(conn: Connection, sql: str, column: str, values: Sequence, suffix: str = ""
             ) -> list:
    """The rows of ``sql WHERE column IN values suffix`` (values: ints or
    strings; ``column`` quoted by the caller).

    PostgreSQL gets every value in one binary array parameter (one round
    trip, one index scan; a text array costs the driver 2.5 times as much);
    the others IN lists of ``IN_CHUNK`` driver parameters, without
    SQLAlchemy compiling a statement per list."""
    if not values:
        return []
    name = conn.dialect.name
    if name == "postgresql":
        return conn.exec_driver_sql(f"{sql} WHERE {column} = ANY(%b){suffix}",
                                    (list(values),)).fetchall()
    mark = "?" if name == "sqlite" else "%s"
    rows: list = []
    for start in range(0, len(values), IN_CHUNK):
        part = tuple(values[start:start + IN_CHUNK])
        rows.extend(conn.exec_driver_sql(
            f"{sql} WHERE {column} IN ({', '.join([mark] * len(part))}){suffix}",
            part).fetchall())
    return rows


def lookup_ids(conn: Connection, table: Table, key_column: str,
               keys: Sequence[str]) -> list[tuple[str, int]]:
    """(key, smallest id) of the rows of ``table`` whose ``key_column`` is one of
    ``keys`` (an adopted subunit2sql database may hold a key twice)."""
    quote = conn.dialect.identifier_preparer.quote
    t, k = quote(table.name), quote(key_column)
    return [tuple(r) for r in fetch_in(conn, f"SELECT {k}, MIN({quote('id')}) FROM {t}", k,
                                       keys, f" GROUP BY {k}")]


#: engine -> {(table name, columns): whether a unique index or constraint covers them}
_unique_keys: "weakref.WeakKeyDictionary[Any, dict[tuple, bool]]" = weakref.WeakKeyDictionary()


def has_unique_key(conn: Connection, table: Table, columns: Sequence[str]) -> bool:
    """Whether the database enforces ``columns`` of ``table`` as unique, which
    ``insert_ignore_rows`` needs. Our schema does; a subunit2sql database
    adopted with duplicate rows may lack one (see migration 0001). Looked up
    once per engine."""
    known = _unique_keys.setdefault(conn.engine, {})
    key = (table.name, tuple(columns))
    if key in known:
        return known[key]
    wanted = list(columns)
    if conn.dialect.name == "postgresql":
        # one catalog query instead of the inspector's several (10-15 ms);
        # unique constraints have their unique index there too
        known[key] = conn.exec_driver_sql(
            "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = %s::regclass "
            "AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL "
            "AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n "
            "ORDER BY k.o) = %s::text[])", (table.name, wanted)).scalar()
    else:
        inspector = inspect(conn)
        known[key] = any(
            ix["column_names"] == wanted for ix in inspector.get_indexes(table.name)
            if ix.get("unique")) or any(
            uc["column_names"] == wanted
            for uc in inspector.get_unique_constraints(table.name))
    return known[key]


#: engine -> {table name: its id sequence, or None}
_pg_sequences: "weakref.WeakKeyDictionary[Any, dict[str, str | None]]" = \
    weakref.WeakKeyDictionary()


def _pg_sequence(conn: Connection, table: Table) -> str | None:
    """The sequence of ``table``'s id column: one catalog query per table and engine."""
    sequences = _pg_sequences.setdefault(conn.engine, {})
    if table.name not in sequences:
        sequences[table.name] = conn.exec_driver_sql(
            "SELECT pg_get_serial_sequence(%s, 'id')", (table.name,)).scalar()
    return sequences[table.name]


def prepare_session(conn: Connection, tables: Sequence[Table]) -> None:
    """PostgreSQL: have this session load what it needs to write ``tables``:
    their catalog entries and their indexes' (planning a query on a table
    opens all of its indexes), and the id sequences. A new session does
    that on its first statement on each table, on the critical path of the
    first batch (30 ms for a cold 10k-test run); the writer calls this while
    that batch is still being parsed. Elsewhere, nothing to do."""
    if conn.dialect.name != "postgresql":
        return
    # once per session: the pool keeps .info with the driver connection
    prepared = conn.connection.info.setdefault("ci_health_prepared", set())
    quote = conn.dialect.identifier_preparer.quote
    for table in tables:
        if table.name in prepared:
            continue
        conn.exec_driver_sql(f"EXPLAIN SELECT 1 FROM {quote(table.name)} WHERE "
                             f"{quote(table.primary_key.columns.values()[0].name)} IS NULL")
        if "id" in table.c:
            _pg_sequence(conn, table)
        prepared.add(table.name)


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int] | None:
    """Reserve ``count`` primary keys of ``table`` for rows about to be inserted,
    so child rows can reference them without RETURNING or a read back.

    PostgreSQL draws them from the column's sequence; SQLite continues after
    MAX(id), safe because our transactions hold the write lock (BEGIN
    IMMEDIATE). Returns None on MySQL/MariaDB: the caller reads ids back.
    """
    if count <= 0:
        return []
    name = conn.dialect.name
    if name == "postgresql":
        seq = _pg_sequence(conn, table)
        if seq is None:
            return None
        return list(conn.exec_driver_sql(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (seq, count)).scalars())
    if name == "sqlite":
        quote = conn.dialect.identifier_preparer.quote
        top = conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {quote(table.name)}").scalar()
        return list(range(top + 1, top + 1 + count))
    return None


def drop_secondary_indexes(conn: Connection, tables: Sequence[Table]) -> list:
    """Inside the caller's transaction, drop the plain (non-unique) indexes of
    ``tables`` that exist; return them for ``create_indexes``.

    For a bulk load into empty SQLite tables: building an index once, by
    sorting, costs a fraction of keeping a randomly keyed one up to date row by
    row. SQLite's DDL is transactional, so a load that fails rolls back to the
    indexes it started with. Unique indexes and constraints stay, so the load is
    checked as it goes. (Not PostgreSQL: a load long enough to gain is too long
    for one transaction there, see demo/gate.py.)"""
    if conn.dialect.name != "sqlite":
        raise ValueError(f"bulk loads drop indexes on SQLite only, not {conn.dialect.name}")
    inspector = inspect(conn)
    dropped = []
    for table in tables:
        present = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda ix: ix.name):
            if not index.unique and index.name in present:
                index.drop(conn)
                dropped.append(index)
    return dropped


def create_indexes(conn: Connection, indexes: Sequence) -> None:
    """Build ``indexes`` (from ``drop_secondary_indexes``) again, in the same transaction."""
    # let SQLite's sorter use a helper thread (ignored where it is built without)
    conn.exec_driver_sql("PRAGMA threads=2")
    for index in indexes:
        index.create(conn)
