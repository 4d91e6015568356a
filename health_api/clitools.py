"""What every ``ci-health`` command shares: one-line errors with exit codes,
the ``--db`` option, ISO 8601 arguments, and no garbage collection while a
one-shot command starts.

Exit codes: 0 ok, 1 unexpected error, 2 bad input, 3 duplicate run,
4 database unreachable or not migrated, 5 an ingest rolled back by the
server to break a deadlock with concurrent ones (nothing stored; run it again).
"""
from __future__ import annotations

import datetime as dt
import functools
import gc
import sys

import click

from .config import ConfigError, load_config


class CliError(click.ClickException):
    """One-line error on stderr with a chosen exit code."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"ci-health: error: {self.message}", err=True)


def fail_cleanly(*input_errors: type[Exception]):
    """Turn domain errors into one-line CLI errors: database problems exit 4
    (or their own code), config problems and ``input_errors`` exit 2."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except (ConfigError, *input_errors) as exc:
                raise CliError(str(exc), 2) from None
            except Exception as exc:
                code = _domain_exit_code(exc)
                if code is None:
                    raise
                raise CliError(str(exc), code) from None
        return wrapper
    return decorate


def collect_after_startup(func):
    """For commands that call ``ingest.service.freeze_startup_heap`` once set up: no
    garbage collection before that. What a command allocates while it starts (its
    imports, SQLAlchemy and the driver, the engine and its first connection) lives as
    long as the process, so collecting it frees nothing: it took 50-70 ms of a 0.5 s
    PostgreSQL ingest of 1,500 tests, about 25 ms on SQLite. ``freeze_startup_heap``
    turns collection back on for what the command allocates next; leaving the
    command turns it back on however the command ends."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return wrapper


def _domain_exit_code(exc: Exception) -> int | None:
    """The exit code of an IngestError or DatabaseError, else None. Looked up
    in sys.modules rather than imported: a module that was never loaded
    raised nothing, and importing the database layer here would cost every
    command (and --help) the SQLAlchemy import."""
    for module_name, class_name in (("health_api.ingest.records", "IngestError"),
                                    ("health_api.db.session", "DatabaseError")):
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return exc.exit_code
    return None


def open_engine(db_url: str | None, *, check: bool = True):
    """The engine for ``--db`` (else the configured URL), its schema checked."""
    from .db.session import check_schema, get_engine
    url = db_url or load_config().db_url
    engine = get_engine(url)
    if check:
        check_schema(engine)
    return engine


def db_option(func):
    """``--db URL`` on every command: default from the config file / CI_HEALTH_DB."""
    return click.option("--db", "db_url", metavar="URL", default=None,
                        help="Database URL (default: [database] url in etc/ci-health.conf, "
                             "CI_HEALTH_DB, else sqlite:///ci-health.db).")(func)


def parse_time(value: str | None, name: str) -> dt.datetime | None:
    """An ISO 8601 argument as naive UTC (UTC unless it carries an offset)."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"{name}: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
            raise CliError(f"{name}: out of range: {value!r}") from None
    return parsed
