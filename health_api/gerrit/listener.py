"""``ci-health gerrit listen``: Gerrit ``stream-events`` over SSH into the store.

* paramiko, with the server's host key checked against a known_hosts file:
  an unknown key is refused unless ``[gerrit] accept_unknown_host_key = true``
  (then it is added to the file: trust on first use); a changed key is
  always refused. Both stop the listener with one clear line (HostKeyError).
* keepalives every ``keepalive`` seconds, so a dead connection is noticed;
* every complete line goes to the JSON-lines journal (fsync'd) *before* it
  is stored, so ``ci-health gerrit replay`` can always rebuild the tables
  (cut into day segments that ``db expire`` removes: segments.py);
* storing is idempotent (store.py); malformed or truncated lines, events
  without a change or patch set and odd comments are counted and skipped
  or stored raw; nothing stored before is touched;
* after every (re)connect, and when Gerrit reports ``dropped-output``, the
  gap is filled from the REST API (rest.py), from the last stored event
  time minus ``backfill_margin`` seconds;
* a lost connection, an authentication failure or an unreadable key is
  retried by tenacity with exponential backoff and jitter; the backoff
  starts over once a connection delivered events.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import paramiko
import tenacity
from sqlalchemy.exc import InterfaceError, OperationalError

from . import metrics
from .rest import RestClient, RestError, backfill
from .segments import JournalWriter
from .store import GerritStore, StoreStats

__all__ = ["ConnectError", "HostKeyError", "Listener", "ListenerError", "ListenerSettings",
           "ListenerStats", "StreamEnded"]

log = logging.getLogger(__name__)
MAX_LINE_BYTES = 16 * 1024 * 1024


class ListenerError(Exception):
    """A one-line, user-facing problem of the listener."""


class HostKeyError(ListenerError):
    """The server's host key is unknown or changed: never retried."""


class ConnectError(ListenerError):
    """Connecting or authenticating failed: retried with backoff."""


class StreamEnded(ListenerError):
    """The server closed the stream or the connection died: retried."""


@dataclass
class ListenerSettings:
    host: str
    user: str
    port: int = 29418
    key_file: str | None = None
    key_passphrase: str | None = None
    known_hosts: str = "etc/gerrit_known_hosts"
    accept_unknown_host_key: bool = False
    keepalive: float = 15.0
    connect_timeout: float = 30.0
    backoff_initial: float = 1.0
    backoff_max: float = 300.0
    max_attempts: int = 0  # 0: retry forever
    journal: str = "gerrit-events.jsonl"
    command: str = "gerrit stream-events"
    rest_url: str | None = None
    rest_user: str | None = None
    rest_password: str | None = None
    backfill_margin: float = 300.0
    ci_systems: str = "etc/ci-systems.yaml"

    @classmethod
    def from_config(cls, config) -> "ListenerSettings":
        from ..config import ConfigError
        host, user = config.get("gerrit", "host"), config.get("gerrit", "user")
        if not host or not user:
            raise ConfigError("[gerrit] host and [gerrit] user are required "
                              "(or CI_HEALTH_GERRIT_HOST / CI_HEALTH_GERRIT_USER)")
        return cls(
            host=host, user=user, port=config.get_int("gerrit", "port", 29418),
            key_file=config.get("gerrit", "key_file"),
            key_passphrase=config.get("gerrit", "key_passphrase"),
            known_hosts=config.get("gerrit", "known_hosts", cls.known_hosts),
            accept_unknown_host_key=config.get_bool("gerrit", "accept_unknown_host_key", False),
            keepalive=config.get_float("gerrit", "keepalive", 15.0),
            connect_timeout=config.get_float("gerrit", "connect_timeout", 30.0),
            backoff_initial=config.get_float("gerrit", "backoff_initial", 1.0),
            backoff_max=config.get_float("gerrit", "backoff_max", 300.0),
            max_attempts=config.get_int("gerrit", "max_attempts", 0),
            journal=config.get("gerrit", "journal", cls.journal),
            command=config.get("gerrit", "command", cls.command),
            rest_url=config.get("gerrit", "rest_url"), rest_user=config.get("gerrit", "rest_user"),
            rest_password=config.get("gerrit", "rest_password"),
            backfill_margin=config.get_float("gerrit", "backfill_margin", 300.0),
            ci_systems=config.get("gerrit", "ci_systems", cls.ci_systems))

    def rest_client(self) -> RestClient | None:
        if not self.rest_url:
            return None
        return RestClient(self.rest_url, self.rest_user, self.rest_password)


@dataclass
class ListenerStats:
    connects: int = 0
    lines: int = 0
    truncated: int = 0  # a partial line when the connection dropped
    oversized: int = 0  # lines over 16 MiB, dropped
    backfills: int = 0
    backfill_errors: int = 0
    store: StoreStats = field(default_factory=StoreStats)
    backfilled: StoreStats = field(default_factory=StoreStats)


class _HostKeyPolicy(paramiko.MissingHostKeyPolicy):
    def __init__(self, settings: ListenerSettings):
        self.settings = settings

    def missing_host_key(self, client, hostname, key):
        if self.settings.accept_unknown_host_key:
            log.warning("accepting unknown host key %s %s for %s and adding it to %s",
                        key.get_name(), key.fingerprint, hostname, self.settings.known_hosts)
            client.get_host_keys().add(hostname, key.get_name(), key)
            return
        raise HostKeyError(
            f"host key of {hostname} ({key.get_name()} {key.fingerprint}) is not in "
            f"{self.settings.known_hosts}; refusing to connect (add it to that file, or set "
            f"[gerrit] accept_unknown_host_key = true to trust it on first use)")


class _Backoff(tenacity.wait.wait_base):
    """Exponential backoff with jitter over *consecutive* failed sessions, so
    the delay starts over once a connection worked."""

    def __init__(self, listener: "Listener"):
        self.listener = listener

    def __call__(self, retry_state) -> float:
        s = self.listener.settings
        failures = max(self.listener.failures, 1)
        base = min(s.backoff_max, s.backoff_initial * 2 ** (failures - 1))
        return base + random.uniform(0, base * 0.25)


RETRYABLE = (ConnectError, StreamEnded, OSError, paramiko.SSHException, EOFError,
             OperationalError, InterfaceError)


class Listener:
    def __init__(self, settings: ListenerSettings, store: GerritStore, *,
                 rest: RestClient | None = None, stop: threading.Event | None = None,
                 on_batch: Callable[["Listener"], None] | None = None):
        self.settings = settings
        self.store = store
        self.rest = rest if rest is not None else settings.rest_client()
        self.stop = stop or threading.Event()
        self.on_batch = on_batch
        self.stats = ListenerStats()
        self.failures = 0
        self.delays: list[float] = []  # every backoff delay slept, for logs and tests
        self.errors: list[str] = []
        self._journal = None

    # -- the retry loop (tenacity) ---------------------------------------------

    def run(self) -> ListenerStats:
        """Listen until ``stop`` is set (or ``max_attempts`` failures in a row)."""
        stop = tenacity.stop_when_event_set(self.stop)
        if self.settings.max_attempts:
            stop = stop | tenacity.stop_after_attempt(self.settings.max_attempts)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(RETRYABLE),
            wait=_Backoff(self), stop=stop, sleep=self.stop.wait,
            before_sleep=self._before_sleep, reraise=True)
        with JournalWriter(self.settings.journal) as self._journal:
            try:
                retrying(self._session)
            except tenacity.RetryError:  # pragma: no cover - reraise=True re-raises instead
                raise
        return self.stats

    def _before_sleep(self, retry_state) -> None:
        delay = retry_state.next_action.sleep if retry_state.next_action else 0.0
        self.delays.append(delay)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        message = _one_line(exc)
        self.errors.append(message)
        metrics.session_lost()
        log.error("gerrit listener: %s; retrying in %.1f s", message, delay)

    # -- one connection ----------------------------------------------------------

    def _session(self) -> None:
        if self.stop.is_set():
            return
        self.failures += 1
        client = self._connect()
        try:
            transport = client.get_transport()
            transport.set_keepalive(max(1, int(self.settings.keepalive)))
            channel = transport.open_session()
            channel.exec_command(self.settings.command)
            self.stats.connects += 1
            metrics.session_opened(self.stats.connects)
            log.info("connected to %s:%d, streaming events", self.settings.host,
                     self.settings.port)
            self._backfill("connect")
            self._read(channel, transport)
        finally:
            metrics.CONNECTED.set(0)
            client.close()

    def _load_key(self) -> paramiko.PKey | None:
        path = self.settings.key_file
        if not path:
            return None
        try:
            return paramiko.PKey.from_path(path, self.settings.key_passphrase or None)
        except FileNotFoundError:
            raise ConnectError(f"private key file {path} does not exist "
                               f"([gerrit] key_file)") from None
        except (paramiko.SSHException, ValueError, OSError, TypeError) as exc:
            raise ConnectError(f"cannot read private key {path}: {_one_line(exc)} "
                               f"([gerrit] key_file)") from None

    def _connect(self) -> paramiko.SSHClient:
        s = self.settings
        client = paramiko.SSHClient()
        known = Path(s.known_hosts)
        if known.is_file():
            client.load_host_keys(str(known))
        elif not s.accept_unknown_host_key:
            raise HostKeyError(f"known_hosts file {known} does not exist; refusing to connect "
                               f"to {s.host}:{s.port} (create it with the server's key, or set "
                               f"[gerrit] accept_unknown_host_key = true)")
        client.set_missing_host_key_policy(_HostKeyPolicy(s))
        pkey = self._load_key()
        try:
            client.connect(s.host, port=s.port, username=s.user, pkey=pkey,
                           key_filename=None, look_for_keys=False, allow_agent=False,
                           timeout=s.connect_timeout, banner_timeout=s.connect_timeout,
                           auth_timeout=s.connect_timeout)
        except HostKeyError:
            client.close()
            raise
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                f"host key of {s.host}:{s.port} changed: got {exc.key.get_name()} "
                f"{exc.key.fingerprint}, {known} has {exc.expected_key.fingerprint}; refusing "
                f"to connect (if the server's key really changed, update {known})") from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise ConnectError(f"authentication as {s.user!r} to {s.host}:{s.port} failed "
                               f"({_one_line(exc)}); check [gerrit] user and key_file") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            client.close()
            raise ConnectError(f"cannot connect to {s.host}:{s.port}: {_one_line(exc)}") from None
        if s.accept_unknown_host_key:
            known.parent.mkdir(parents=True, exist_ok=True)
            client.save_host_keys(str(known))
        return client

    def _read(self, channel: paramiko.Channel, transport: paramiko.Transport) -> None:
        channel.settimeout(0.3)
        buffer = bytearray()
        discarding = False
        liveness = _Liveness(transport, self.settings.keepalive)
        while not self.stop.is_set():
            try:
                data = channel.recv(1 << 16)
            except socket.timeout:
                if not transport.is_active():
                    raise StreamEnded("connection lost") from None
                liveness.check()
                continue
            liveness.heard()
            if not data:
                break
            buffer += data
            if b"\n" not in data:
                if len(buffer) > MAX_LINE_BYTES:
                    if not discarding:
                        self.stats.oversized += 1
                        log.warning("dropping a stream line over %d bytes", MAX_LINE_BYTES)
                    discarding = True
                    buffer.clear()
                continue
            *lines, rest = bytes(buffer).split(b"\n")
            buffer = bytearray(rest)
            if discarding:
                lines = lines[1:]
                discarding = False
            self._handle(lines)
        if self.stop.is_set():
            return
        if buffer.strip():
            self.stats.truncated += 1
            log.warning("connection closed in the middle of a line (%d bytes dropped; the "
                        "REST backfill fills the gap)", len(buffer))
        status = channel.recv_exit_status() if channel.exit_status_ready() else None
        raise StreamEnded(f"the server closed the stream (exit status {status})")

    def _handle(self, lines: list[bytes]) -> None:
        lines = [line for line in lines if line.strip()]
        if not lines:
            return
        self.failures = 0  # this connection works: the next backoff starts over
        self._journal.write(lines)
        self.stats.lines += len(lines)
        stats = self.store.ingest_lines(lines)
        self.stats.store.add(stats)
        metrics.batch_stored(lines, stats.job_results)
        if stats.dropped_output:
            log.warning("Gerrit dropped events (dropped-output): backfilling from REST")
            self._backfill("dropped-output")
        if self.on_batch is not None:
            self.on_batch(self)

    def _backfill(self, reason: str) -> None:
        if self.rest is None:
            return
        last = self.store.last_event_time()
        if last is None:
            log.info("nothing stored yet: no REST backfill on %s", reason)
            return
        since = last - dt.timedelta(seconds=self.settings.backfill_margin)
        try:
            stats = backfill(self.store, self.rest, since)
        except RestError as exc:
            self.stats.backfill_errors += 1
            metrics.BACKFILLS.labels("failed").inc()
            log.error("REST backfill (%s) failed: %s", reason, exc)
            return
        self.stats.backfills += 1
        metrics.BACKFILLS.labels("done").inc()
        self.stats.backfilled.add(stats)


#: keepalive intervals a liveness probe may go unanswered before the peer is
#: declared stalled (so a stall is noticed within 1 + STALL_INTERVALS intervals)
STALL_INTERVALS = 2


class _Liveness:
    """Notices a peer that stopped answering (a half-open TCP connection, a
    stalled proxy): paramiko's keepalives ask for no reply, so alone they
    detect nothing until the kernel gives up, minutes later. After a quiet
    ``keepalive`` interval this sends a global request that wants a reply
    (any reply: OpenSSH and Gerrit answer unknown requests with a failure);
    with none after ``STALL_INTERVALS`` more intervals, StreamEnded."""

    def __init__(self, transport: paramiko.Transport, keepalive: float):
        self.transport = transport
        self.interval = max(0.5, float(keepalive))
        self.last_heard = time.monotonic()
        self.probe_sent: float | None = None
        self.answered = threading.Event()

    def heard(self) -> None:
        self.last_heard = time.monotonic()

    def check(self) -> None:
        now = time.monotonic()
        if self.probe_sent is not None:
            if self.answered.is_set():
                self.probe_sent, self.last_heard = None, now
            elif now - self.probe_sent > STALL_INTERVALS * self.interval:
                raise StreamEnded(f"no answer from the server for "
                                  f"{now - self.last_heard:.0f} s (stalled connection)")
            return
        if now - self.last_heard >= self.interval:
            self.probe_sent = now
            self.answered.clear()
            threading.Thread(target=self._probe, name="gerrit-liveness", daemon=True).start()

    def _probe(self) -> None:
        try:
            # blocks until the reply or until the transport closes (we close it
            # when we give up on the connection)
            self.transport.global_request("keepalive@openssh.com", wait=True)
        except Exception:  # noqa: BLE001 - a dead transport: the read loop notices
            return
        if self.transport.is_active():
            self.answered.set()


def _one_line(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
