"""Produce results in a child process while this process writes them.

Decoding subunit (or generating demo data) is pure Python and so is much of
writing; on one interpreter they take turns under the GIL. A forked child
runs the producer on its own core and sends what it makes in batches over a
pipe; the parent stores it. The parent holds the transaction, so a killed
parent still leaves nothing behind, and a child that dies is reported as an
error.
"""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import stat
from typing import Any, BinaryIO, Callable

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
    return "fork" in multiprocessing.get_all_start_methods()


def _widen(pipe) -> None:
    try:
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError):
        pass  # not Linux, or above fs.pipe-max-size: the default still works


def _child(produce: Producer, what: str, batch_size: int, pipe) -> None:
    batch: list = []

    def sink(item) -> None:
        batch.append(item)
        if len(batch) >= batch_size:
            pipe.send(batch[:])
            batch.clear()
    try:
        count = produce(sink)
        if batch:
            pipe.send(batch)
        pipe.send(("done", count))
    except IngestError as exc:
        pipe.send(("error", exc.message))
    except BaseException as exc:  # reported to the parent, which fails the run
        pipe.send(("crash", f"{what} failed: {type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


def produce_in_child(produce: Producer, sink: Callable[[Any], None], what: str, *,
                     batch_size: int = BATCH, handover_fd: int | None = None) -> int:
    """Run ``produce(child_sink)`` in a forked child and call ``sink`` here with
    each item it produced, in order; return what ``produce`` returned. Raises
    IngestError as the producer would have. ``handover_fd`` is an open file
    descriptor meant for the child only: the parent closes it once forked."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    _widen(sender)
    child = context.Process(target=_child, args=(produce, what, batch_size, sender),
                            daemon=True, name="ci-health-producer")
    try:
        child.start()
    finally:
        if handover_fd is not None:
            os.close(handover_fd)
        sender.close()
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                raise IngestError(f"{what} process died "
                                  f"(exit code {child.exitcode})") from None
            if isinstance(message, list):
                for item in message:
                    sink(item)
            elif message[0] == "done":
                return message[1]
            elif message[0] == "error":
                raise IngestError(message[1])
            else:
                raise RuntimeError(message[1])
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def parse_in_child(parse: ParseFn, source: BinaryIO, sink: Sink, source_name: str) -> int:
    """Run ``parse(source, ..., source_name)`` in a forked child, feeding ``sink``
    here. Raises IngestError as the parser would have."""
    fd = os.dup(source.fileno())

    def produce(child_sink) -> int:
        # multiprocessing closes sys.stdin in the child: read our own duplicate
        return parse(os.fdopen(fd, "rb"), child_sink, source_name)
    return produce_in_child(produce, sink, f"{source_name}: parser", handover_fd=fd)


def worth_a_child(source: BinaryIO) -> bool:
    """A child can read ``source`` only through a real file descriptor, and it
    pays only for large inputs (a pipe's size is unknown: assume large)."""
    if not can_fork():
        return False
    try:
        info = os.fstat(source.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return not stat.S_ISREG(info.st_mode) or info.st_size >= MIN_CHILD_BYTES
