"""The one engine factory.

Every process part (CLI command, API worker, listener) gets its engine from
``get_engine(url)`` and works on Core connections (``engine.begin()``): no ORM
sessions are used.
"""
from __future__ import annotations

import atexit
import math
import os
import threading
import weakref

import tenacity
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

VERSION_TABLE = "ci_health_alembic_version"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DatabaseError(Exception):
    """The database cannot be used; the message tells the user what to do."""

    exit_code = 4


#: what the servers say when they roll a transaction back to break a lock
#: cycle with another one: MySQL/MariaDB error 1213, PostgreSQL SQLSTATE
#: 40P01 (deadlock) and 40001 (serialization failure)
_DEADLOCK_ERRNOS = frozenset({1213})
_DEADLOCK_SQLSTATES = frozenset({"40P01", "40001"})


def is_deadlock(exc: BaseException) -> bool:
    """True when ``exc`` is the server rolling our transaction back because
    it deadlocked with a concurrent one: running it again normally works.
    ``exc`` may be SQLAlchemy's wrapper or the driver's own error, as raised
    where bulk writes bypass SQLAlchemy (PostgreSQL's COPY)."""
    for error in (getattr(exc, "orig", None), exc):
        if error is None:
            continue
        if getattr(error, "sqlstate", None) in _DEADLOCK_SQLSTATES:  # psycopg
            return True
        args = getattr(error, "args", ())
        if args and isinstance(args[0], int) and args[0] in _DEADLOCK_ERRNOS:  # PyMySQL
            return True
    return False


#: tries of a transaction that keeps deadlocking with concurrent ones
DEADLOCK_ATTEMPTS = 5


def deadlock_retrying(*, enabled: bool = True, **hooks) -> tenacity.Retrying:
    """A tenacity ``Retrying`` that runs a transaction again when the server
    rolled it back to break a deadlock (``is_deadlock``): up to
    ``DEADLOCK_ATTEMPTS`` tries, random exponential backoff from 50 ms.
    ``hooks``: tenacity's ``before``/``before_sleep`` callbacks."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda exc: enabled and is_deadlock(exc)),
        stop=tenacity.stop_after_attempt(DEADLOCK_ATTEMPTS),
        wait=tenacity.wait_random_exponential(multiplier=0.05, max=2.0),
        reraise=True, **hooks)


def _normalise_url(url: str) -> str:
    """Pick the drivers we ship for bare ``postgresql://`` / ``mysql://`` URLs."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {url!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


# -- SQLite's write-ahead log, kept bounded --------------------------------
# WAL lets API readers work while an ingest writes (a checkpoint never blocks
# a reader). Left alone it grows without end here: every `ci-health ingest` is
# a new process, and one that exits without closing its connection leaves the
# WAL behind un-checkpointed; the next process must read all of it to open the
# database, so each run took longer than the last (0.44 s -> 0.92 s over 330
# runs, a 1 GB WAL beside a 36 MB database). Three things bound it:
# 1. wal_autocheckpoint: a passive checkpoint (waits for no one) once the WAL
#    passes WAL_AUTOCHECKPOINT_PAGES; rarer than SQLite's default 1,000 pages
#    because checkpointing after every commit dominated ingest time;
# 2. after a write transaction (a connection of a writing engine going back
#    to its pool) with the WAL over WAL_RESTART_BYTES: a TRUNCATE checkpoint,
#    which waits (at most WAL_RESTART_WAIT_MS) for readers of old snapshots to
#    finish -- API reads take milliseconds -- so that a steady stream of readers
#    cannot keep the WAL from ever starting over; readers are not blocked;
# 3. journal_size_limit: a WAL that starts over is cut back to this size
#    instead of keeping its high-water mark on disk; and every engine is
#    disposed at exit (atexit), so the last connection to close checkpoints
#    and removes the WAL, as SQLite does on a clean close.
WAL_AUTOCHECKPOINT_PAGES = 4000      # 16 MB at 4 KiB pages
WAL_RESTART_BYTES = 24 * 1024 * 1024
WAL_RESTART_WAIT_MS = 2000
WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024
BUSY_TIMEOUT_MS = 60000


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # busy_timeout makes parallel ingesters queue instead of failing with
    # "database is locked".
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=OFF")
    # A bigger page cache: ingest touches many index pages per run.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cursor.close()


def wal_size(engine: Engine) -> int:
    """Bytes of the SQLite database's WAL file (0 when there is none)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return 0
    try:
        return os.path.getsize(database + "-wal")
    except OSError:
        return 0


def _checkpoint_after_write(engine: Engine):
    def on_checkin(dbapi_conn, _record) -> None:
        if dbapi_conn is None or wal_size(engine) <= WAL_RESTART_BYTES:
            return
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={WAL_RESTART_WAIT_MS}")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # noqa: BLE001 - a checkpoint is an optimisation; the next one retries
            pass
        finally:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()
    return on_checkin


def _sqlite_begin(conn) -> None:
    # pysqlite's implicit BEGIN is deferred; take the write lock up front so
    # two writers never deadlock upgrading read locks.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _timeout_args(backend: str, connect_timeout: float | None,
                  statement_timeout: float | None) -> dict:
    """Driver arguments that bound how long a hung server can hold a caller:
    ``connect_timeout`` for reaching it, ``statement_timeout`` for one statement
    (PostgreSQL cancels it server-side, and deadlines.py shuts the socket of a
    server that stopped answering at all; PyMySQL gives up reading the answer)."""
    args: dict = {}
    if backend in ("mysql", "mariadb"):
        if connect_timeout:
            args["connect_timeout"] = max(1, math.ceil(connect_timeout))
        if statement_timeout:
            args["read_timeout"] = args["write_timeout"] = max(1, math.ceil(statement_timeout))
    elif backend == "postgresql":
        if connect_timeout:
            args["connect_timeout"] = max(2, math.ceil(connect_timeout))  # libpq's minimum
        if statement_timeout:
            args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
    return args


#: hosts whose connections never leave the machine
_LOOPBACK_HOSTS = frozenset({None, "", "localhost", "127.0.0.1", "::1"})


def _mysql_tls_args(parsed) -> dict:
    """PyMySQL (1.2) tries TLS on every connection unless told otherwise, and
    sets up a certificate context for it even when the server has no TLS:
    ~30 ms a connection here (0.7 ms without), a twentieth of a one-job
    ingest. On the loopback interface or a Unix socket TLS protects nothing,
    so it is turned off there, unless the URL sets any ``ssl*`` option, which
    keeps PyMySQL's own choice (a URL asking for a CA must not lose TLS)."""
    if parsed.get_driver_name() != "pymysql" or any(key.startswith("ssl")
                                                    for key in parsed.query):
        return {}
    if parsed.host in _LOOPBACK_HOSTS or "unix_socket" in parsed.query:
        return {"ssl_disabled": True}
    return {}


def make_engine(url: str, *, read_only: bool = False, connect_timeout: float | None = None,
                statement_timeout: float | None = None, **kwargs) -> Engine:
    """A new engine with this project's per-dialect settings.

    ``read_only`` (the API): SQLite transactions start deferred, so readers
    run beside each other and beside an ingest instead of queueing for the
    write lock. ``connect_timeout`` / ``statement_timeout`` (seconds, None:
    none): see ``_timeout_args``; the API sets both from ``[database]``."""
    url = _normalise_url(url)
    backend = make_url(url).get_backend_name()
    options: dict = {"future": True}
    if backend == "sqlite":
        options["connect_args"] = {"timeout": 60, "check_same_thread": False}
    elif backend in ("mysql", "mariadb"):
        # Repeatable read would hide tests another ingester just committed.
        options["isolation_level"] = "READ COMMITTED"
        options["pool_recycle"] = 3600
        options["pool_pre_ping"] = True
        options["connect_args"] = _mysql_tls_args(make_url(url))
    else:
        options["pool_pre_ping"] = True
        # psycopg prepares a statement after 5 runs and may then switch to a
        # generic plan: for `test_id IN (500 values)` that plan scanned the
        # whole tests table (170 ms instead of 1 ms).
        options["connect_args"] = {"prepare_threshold": None}
    options["connect_args"].update(_timeout_args(backend, connect_timeout, statement_timeout))
    if connect_timeout and backend != "sqlite":
        options["pool_timeout"] = connect_timeout  # waiting for a free pooled connection
    options.update(kwargs)
    try:
        engine = create_engine(url, **options)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # Take over transaction control from pysqlite (SQLAlchemy's documented recipe).
        event.listen(engine, "connect",
                     lambda dbapi_conn, _r: setattr(dbapi_conn, "isolation_level", None))
        if not read_only:
            event.listen(engine, "begin", _sqlite_begin)
            event.listen(engine.pool, "checkin", _checkpoint_after_write(engine))
        _sqlite_engines.add(engine)
    elif backend == "postgresql" and statement_timeout:
        from .deadlines import bound_round_trips
        bound_round_trips(engine, statement_timeout)  # a stopped server answers nothing
    return engine


def get_engine(url: str, **options) -> Engine:
    """The process-wide engine for ``url`` and ``options`` (``make_engine``'s
    keywords, e.g. timeouts), created on first use."""
    key = url if not options else f"{url}#{sorted(options.items())!r}"
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = make_engine(url, **options)
        return engine


def _forget_parent_pools() -> None:
    """In a forked child (gunicorn workers fork from the master, which opened the
    engine to check the schema): start with empty pools. Using the parent's
    pooled connections would put two processes on one socket; close=False
    leaves them open for the parent."""
    global _lock
    _lock = threading.Lock()  # another thread may have held it at fork time
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_pools)


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


#: every SQLite engine of the process, closed at exit (see WAL_RESTART_BYTES)
_sqlite_engines: "weakref.WeakSet[Engine]" = weakref.WeakSet()


@atexit.register
def _close_sqlite_at_exit() -> None:
    for engine in list(_sqlite_engines):
        try:
            engine.dispose()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass



def describe(engine: Engine) -> str:
    """The URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def check_schema(engine: Engine) -> None:
    """Raise DatabaseError unless the database is reachable and migrated.

    One query naming both tables, no catalog reflection: every ingest
    process runs this first."""
    try:
        conn = engine.connect()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot connect to {describe(engine)}: {reason}") from None
    with conn:
        try:
            conn.exec_driver_sql(f"SELECT 1 FROM {VERSION_TABLE}, test_runs WHERE 1 = 0")
        except DBAPIError:
            raise DatabaseError(
                f"database {describe(engine)} has no ci-health schema; "
                f"run `ci-health db upgrade --db URL` first") from None
