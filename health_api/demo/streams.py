"""Write synthetic subunit v2 streams with python-subunit's own encoder."""
from __future__ import annotations

import datetime as dt
import random
from typing import BinaryIO, Iterable

import subunit

EPOCH = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)


def tempest_like_ids(count: int, seed: int = 0) -> list[str]:
    """Test ids shaped like tempest's, with the ``[id-...,smoke]`` attrs group."""
    rng = random.Random(seed)
    services = ["compute", "network", "volume", "image", "identity", "object_storage"]
    ids = []
    for i in range(count):
        service = services[i % len(services)]
        attrs = f"id-{rng.getrandbits(64):016x}" + (",smoke" if i % 7 == 0 else "")
        ids.append(f"tempest.api.{service}.test_{service}_{i // 40}.Test{service.title()}"
                   f"{i // 40}.test_case_{i}[{attrs}]")
    return ids


def write_stream(out: BinaryIO, test_ids: Iterable[str], *, seed: int = 0,
                 start: dt.datetime = EPOCH, fail_every: int = 0, skip_every: int = 0,
                 traceback: bool = False, tags: frozenset[str] = frozenset()) -> int:
    """Encode one run: each test inprogress then its final status; returns the count."""
    rng = random.Random(seed)
    writer = subunit.StreamResultToBytes(out)
    now = start
    count = 0
    for i, test_id in enumerate(test_ids, 1):
        writer.status(test_id=test_id, test_status="inprogress", timestamp=now,
                      test_tags=set(tags) or None)
        now += dt.timedelta(microseconds=rng.randint(1_000, 3_000_000))
        status = "success"
        if fail_every and i % fail_every == 0:
            status = "fail"
        elif skip_every and i % skip_every == 0:
            status = "skip"
        if status == "fail" and traceback:
            writer.status(test_id=test_id, file_name="traceback",
                          file_bytes=f"Traceback (most recent call last):\n  AssertionError: "
                                     f"{test_id} failed\n".encode(),
                          mime_type="text/plain;charset=utf8", eof=True, timestamp=now)
        writer.status(test_id=test_id, test_status=status, timestamp=now,
                      test_tags=set(tags) or None)
        count += 1
    return count
