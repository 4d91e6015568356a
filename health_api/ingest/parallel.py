"""Produce results in a child process while this process writes them.

Decoding subunit (or generating demo data) is pure Python and so is much of
writing; on one interpreter they take turns under the GIL. A forked child
runs the producer on its own core and sends what it makes in batches over a
pipe; the parent stores it. The parent holds the transaction, so a killed
parent still leaves nothing behind, and a child that dies is reported as an
error. Several files (``ParsedAhead``) share one child that parses them in
turn, ahead of the runs the parent writes.
"""
from __future__ import annotations

import fcntl
import os
import signal
import stat
import threading
import time
from typing import Any, BinaryIO, Callable, Iterable

from .records import IngestError, Sink

#: items per message: large enough that pickling costs little per item
BATCH = 1000
#: pipe buffer asked for: room for several batches, so the child keeps going
#: while the parent is busy writing one (Linux's default is 64 KiB)
PIPE_BYTES = 1024 * 1024
#: below this many bytes a file is parsed in process: forking costs more
MIN_CHILD_BYTES = 2 * 1024 * 1024

#: produce(sink) -> a count, returned to the caller
Producer = Callable[[Callable[[Any], None]], int]
ParseFn = Callable[[BinaryIO, Sink, str], int]


def can_fork() -> bool:
    import multiprocessing  # here: a small input never needs it (import time)
    return "fork" in multiprocessing.get_all_start_methods()


def _widen(pipe) -> None:
    try:
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError):
        pass  # not Linux, or above fs.pipe-max-size: the default still works


class _Batches:
    """The child's sink: items go to the parent in lists of ``size``."""

    def __init__(self, pipe, size: int):
        self.pipe = pipe
        self.size = size
        self.items: list = []

    def __call__(self, item) -> None:
        self.items.append(item)
        if len(self.items) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.items:
            self.pipe.send(self.items)
            self.items = []


def _send_run(produce: Producer, batches: _Batches) -> None:
    """Run one producer into ``batches``, then send the marker that ends its run."""
    try:
        count = produce(batches)
    except IngestError as exc:
        batches.items = []  # the failed run's last items are of no use
        batches.pipe.send(("error", exc.message))
    else:
        batches.flush()
        batches.pipe.send(("done", count))


def _die_with_parent(parent_pid: int) -> None:
    """Make this child end when its parent does, however the parent ends
    (SIGKILL included). Otherwise a child blocked on its pipe or its input
    lives on, and with it its copy of the parent's database socket: the
    server then never sees the parent go, and its session stays "idle in
    transaction", holding the locks the next ingest of the same tests waits
    for. Linux: a parent-death signal; elsewhere a watchdog thread."""
    try:
        import ctypes
        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        armed = False
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                         name="ci-health-parent-watch").start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)


def _child(producers: Iterable[Producer], what: str, batch_size: int, pipe,
           parent_pid: int, parent_end) -> None:
    """The child process: each producer's run in turn."""
    _die_with_parent(parent_pid)
    parent_end.close()  # the parent's end of the pipe: not ours to hold open
    batches = _Batches(pipe, batch_size)
    try:
        for produce in producers:
            _send_run(produce, batches)
    except BaseException as exc:  # reported to the parent, which fails the run
        pipe.send(("crash", f"{what} failed: {type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


def _fork(producers: Iterable[Producer], what: str, batch_size: int):
    """A started child running ``producers``, and the end of the pipe to read it from."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    _widen(sender)
    child = context.Process(target=_child, daemon=True, name="ci-health-producer",
                            args=(producers, what, batch_size, sender, os.getpid(), receiver))
    try:
        child.start()
    finally:
        sender.close()
    return child, receiver


def _reap(child, receiver) -> None:
    receiver.close()
    if child.is_alive():
        child.terminate()
    child.join()


def produce_in_child(produce: Producer, sink: Callable[[Any], None], what: str, *,
                     batch_size: int = BATCH, handover_fd: int | None = None) -> int:
    """Run ``produce(child_sink)`` in a forked child and call ``sink`` here with
    each item it produced, in order; return what ``produce`` returned. Raises
    IngestError as the producer would have. ``handover_fd`` is an open file
    descriptor meant for the child only: the parent closes it once forked."""
    try:
        child, receiver = _fork([produce], what, batch_size)
    finally:
        if handover_fd is not None:
            os.close(handover_fd)
    try:
        return _outcome(_receive_run(receiver, child, sink, what))
    finally:
        _reap(child, receiver)


def _receive_run(receiver, child, sink: Callable[[Any], None], what: str) -> tuple:
    """Feed ``sink`` what the child sends for one run; return the marker that
    ends it: ("done", count), ("error", message) or ("crash", message)."""
    while True:
        try:
            message = receiver.recv()
        except EOFError:
            raise IngestError(f"{what} process died (exit code {child.exitcode})") from None
        if not isinstance(message, list):
            return message
        for item in message:
            sink(item)


def _outcome(marker: tuple) -> int:
    kind, value = marker
    if kind == "done":
        return value
    if kind == "error":
        raise IngestError(value)
    raise RuntimeError(value)


def parse_in_child(parse: ParseFn, source: BinaryIO, sink: Sink, source_name: str) -> int:
    """Run ``parse(source, ..., source_name)`` in a forked child, feeding ``sink``
    here. Raises IngestError as the parser would have."""
    fd = os.dup(source.fileno())

    def produce(child_sink) -> int:
        # multiprocessing closes sys.stdin in the child: read our own duplicate
        return parse(os.fdopen(fd, "rb"), child_sink, source_name)
    return produce_in_child(produce, sink, f"{source_name}: parser", handover_fd=fd)


def _file_parser(parse: ParseFn, path: str) -> Producer:
    def produce(sink) -> int:
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise IngestError(f"{path}: cannot read: {exc.strerror}") from None
        with handle:
            return parse(handle, sink, path)
    return produce


class ParsedAhead:
    """Several files parsed in one forked child, ahead of the runs this
    process writes from them, so parsing run N+1 overlaps writing run N
    (small runs cost more to parse than to write, and a child per file
    would cost more than it saves).

    ``parse`` stands in for the file parser: called for the files in the
    order given, it hands over what the child parsed. Called again for the
    same source (a run retried after a deadlock) or for anything else, it
    parses in this process with ``here``, after skipping what the child
    sent for the run given up on. Memory stays bounded by the pipe."""

    def __init__(self, here: ParseFn, paths: list[str], batch_size: int = BATCH):
        self.here = here
        self.paths = list(paths)
        self.batch_size = batch_size
        self.next = 0  # index of the next file whose records come from the child
        self.last_source: BinaryIO | None = None
        self.unfinished = False  # the records of the last file were not all taken
        self._child = self._receiver = None

    def __enter__(self) -> "ParsedAhead":
        self._child, self._receiver = _fork(
            (_file_parser(self.here, path) for path in self.paths), "parser", self.batch_size)
        return self

    def __exit__(self, *exc_info) -> None:
        _reap(self._child, self._receiver)

    def parse(self, source: BinaryIO, sink: Sink, source_name: str) -> int:
        if (source is self.last_source or self.next >= len(self.paths)
                or source_name != self.paths[self.next]):
            self._skip_unfinished()
            return self.here(source, sink, source_name)
        self.last_source = source
        self.next += 1
        self.unfinished = True
        marker = _receive_run(self._receiver, self._child, sink, f"{source_name}: parser")
        self.unfinished = False
        return _outcome(marker)

    def _skip_unfinished(self) -> None:
        while self.unfinished:
            message = self._receiver.recv()
            if not isinstance(message, list):
                self.unfinished = False


def worth_a_child(source: BinaryIO) -> bool:
    """A child can read ``source`` only through a real file descriptor, and it
    pays only for large inputs (a pipe's size is unknown: assume large)."""
    try:
        info = os.fstat(source.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return ((not stat.S_ISREG(info.st_mode) or info.st_size >= MIN_CHILD_BYTES)
            and can_fork())
