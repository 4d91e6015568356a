"""Parse in a child process while this process writes.

Decoding subunit is pure Python and so is much of writing; on one
interpreter they take turns under the GIL. A forked child runs the parser
on its own core and sends finished results in batches over a pipe; the
parent stores them. The parent holds the transaction, so a killed parent
still leaves nothing behind, and a child that dies is reported as an error.
"""
from __future__ import annotations

import multiprocessing
import os
import stat
from typing import BinaryIO, Callable

from .records import IngestError, Sink, TestResult

#: results per message: large enough that pickling costs little per result
BATCH = 1000

ParseFn = Callable[[BinaryIO, Sink, str], int]


def _child(parse: ParseFn, fd: int, source_name: str, pipe) -> None:
    # multiprocessing closes sys.stdin in the child: read our own duplicate
    source = os.fdopen(fd, "rb")
    batch: list[TestResult] = []

    def sink(result: TestResult) -> None:
        batch.append(result)
        if len(batch) >= BATCH:
            pipe.send(batch[:])
            batch.clear()
    try:
        count = parse(source, sink, source_name)
        if batch:
            pipe.send(batch)
        pipe.send(("done", count))
    except IngestError as exc:
        pipe.send(("error", exc.message))
    except BaseException as exc:  # reported to the parent, which fails the run
        pipe.send(("crash", f"{source_name}: parser failed: {type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


def parse_in_child(parse: ParseFn, source: BinaryIO, sink: Sink, source_name: str) -> int:
    """Run ``parse(source, ..., source_name)`` in a forked child, feeding ``sink``
    here. Raises IngestError as the parser would have."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    fd = os.dup(source.fileno())
    child = context.Process(target=_child, args=(parse, fd, source_name, sender),
                            daemon=True, name="ci-health-parser")
    try:
        child.start()
    finally:
        os.close(fd)
        sender.close()
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                raise IngestError(f"{source_name}: the parser process died "
                                  f"(exit code {child.exitcode})") from None
            if isinstance(message, list):
                for result in message:
                    sink(result)
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


#: below this many bytes a file is parsed in process: forking costs more
MIN_CHILD_BYTES = 2 * 1024 * 1024


def worth_a_child(source: BinaryIO) -> bool:
    """A child can read ``source`` only through a real file descriptor, and it
    pays only for large inputs (a pipe's size is unknown: assume large)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        info = os.fstat(source.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return not stat.S_ISREG(info.st_mode) or info.st_size >= MIN_CHILD_BYTES
