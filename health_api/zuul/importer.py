"""``ci-health zuul import``: page through a tenant's builds, then its
buildsets, newest first, and store them as verdicts.

Pages are ``skip``/``limit`` requests of ``/tenant/<t>/builds`` (then
``/buildsets``; Zuul lists both newest first); with ``since``, paging stops
at the first page whose entries all ended before it. Each page is written
in one transaction; an entry stored before (same uuid) is counted as a
duplicate, so a re-run, or two overlapping runs, store each one once.
Buildsets are read for those no build ran in (buildsets.py): a buildset
with builds is skipped, its builds already stored.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from ..db.session import deadlock_retrying
from ..verdicts import VerdictWriter
from .builds import NotZuul, build_time, build_verdict, is_build
from .buildsets import buildset_time, buildset_verdict, is_buildset
from .client import ZuulClient

__all__ = ["ImportStats", "import_builds", "import_buildsets"]

DEFAULT_PAGE = 100


@dataclass
class ImportStats:
    pages: int = 0
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self, noun: str = "builds") -> dict:
        return {"pages": self.pages, noun: self.read, "stored": self.stored,
                "duplicates": self.duplicates, "skipped": dict(sorted(self.skipped.items()))}


@dataclass(frozen=True)
class _Route:
    name: str                          # builds | buildsets
    is_entry: Callable[[Any], bool]
    time_of: Callable[[dict], dt.datetime | None]
    verdict_of: Callable[[dict, str], Any]


BUILDS = _Route("builds", is_build, build_time, build_verdict)
BUILDSETS = _Route("buildsets", is_buildset, buildset_time, buildset_verdict)


def _pages(client: ZuulClient, tenant: str, route: _Route, pipeline: str | None,
           page_size: int, stats: ImportStats) -> Iterator[list[dict]]:
    """The route's pages until one is short; NotZuul for an answer that is not
    a list of its entries or not Zuul's paging."""
    path = "tenant/" + tenant.replace("/", "%2F") + "/" + route.name
    skip = 0
    seen: set[str] = set()
    while True:
        entries = client.get_json(path, {"pipeline": pipeline, "skip": skip,
                                         "limit": page_size})
        if not isinstance(entries, list) or not all(map(route.is_entry, entries)):
            raise NotZuul(f"{client.url(path)}: the answer is not a list of Zuul "
                          f"{route.name}: not a Zuul API root")
        stats.pages += 1
        if not entries:
            return
        uuids = {entry["uuid"] for entry in entries}
        if uuids <= seen:
            raise NotZuul(f"{client.url(path)}: skip={skip} answered {route.name} already "
                          f"read: not Zuul's {route.name} paging")
        seen |= uuids
        if len(entries) > page_size:
            # a server that ignores limit (and so skip) would be paged forever
            raise NotZuul(f"{client.url(path)}: {len(entries)} {route.name} answered for "
                          f"limit={page_size}: not Zuul's {route.name} paging")
        yield entries
        if len(entries) < page_size:
            return
        skip += len(entries)


def _import(engine: Engine, client: ZuulClient, tenant: str, route: _Route, *,
            ci_system: str, since: dt.datetime | None, pipeline: str | None,
            page_size: int, declared) -> ImportStats:
    stats = ImportStats()
    writer = VerdictWriter(declared)
    for entries in _pages(client, tenant, route, pipeline, page_size, stats):
        verdicts = []
        for entry in entries:
            at = route.time_of(entry)
            if since is not None and at is not None and at < since:
                stats.skipped["before_since"] += 1
                continue
            stats.read += 1
            verdict = route.verdict_of(entry, ci_system)
            if isinstance(verdict, str):
                stats.skipped[verdict] += 1
            else:
                verdicts.append(verdict)
        if verdicts:
            def write():
                try:
                    with engine.begin() as conn:
                        return writer.write(conn, verdicts)
                except IntegrityError:
                    # an overlapping import stored some of these meanwhile:
                    # once more, and they are found stored
                    writer.reset_caches()
                    with engine.begin() as conn:
                        return writer.write(conn, verdicts)
            result = deadlock_retrying(before_sleep=lambda _s: writer.reset_caches())(write)
            stats.stored += result.stored
            stats.duplicates += result.duplicates
        times = [t for t in map(route.time_of, entries) if t is not None]
        if since is not None and times and max(times) < since:
            break  # newest first: every later page is older still
    return stats


def import_builds(engine: Engine, client: ZuulClient, tenant: str, *, ci_system: str,
                  since: dt.datetime | None = None, pipeline: str | None = None,
                  page_size: int = DEFAULT_PAGE, declared=None) -> ImportStats:
    """Store the tenant's final builds of Gerrit changes."""
    return _import(engine, client, tenant, BUILDS, ci_system=ci_system, since=since,
                   pipeline=pipeline, page_size=page_size, declared=declared)


def import_buildsets(engine: Engine, client: ZuulClient, tenant: str, *, ci_system: str,
                     since: dt.datetime | None = None, pipeline: str | None = None,
                     page_size: int = DEFAULT_PAGE, declared=None) -> ImportStats:
    """Store the tenant's buildsets of Gerrit changes in which no build ran."""
    return _import(engine, client, tenant, BUILDSETS, ci_system=ci_system, since=since,
                   pipeline=pipeline, page_size=page_size, declared=declared)
