"""``ci-health zuul import``: page through a tenant's builds, newest first,
and store the final builds of Gerrit changes as verdicts.

Pages are ``skip``/``limit`` requests of ``/tenant/<t>/builds`` (Zuul
lists newest first); with ``since``, paging stops at the first page whose
builds all ended before it. Each page is written in one transaction; a
build stored before (same uuid) is counted as a duplicate, so a re-run, or
two overlapping runs, store each build once.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from ..db.session import deadlock_retrying
from ..verdicts import VerdictWriter
from .builds import NotZuul, build_time, build_verdict, is_build
from .client import ZuulClient

__all__ = ["ImportStats", "import_builds"]

DEFAULT_PAGE = 100


@dataclass
class ImportStats:
    pages: int = 0
    builds: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"pages": self.pages, "builds": self.builds, "stored": self.stored,
                "duplicates": self.duplicates, "skipped": dict(sorted(self.skipped.items()))}


def _page(client: ZuulClient, tenant: str, pipeline: str | None, skip: int, limit: int
          ) -> list[dict]:
    path = "tenant/" + tenant.replace("/", "%2F") + "/builds"
    answer = client.get_json(path, {"pipeline": pipeline, "skip": skip, "limit": limit})
    if not isinstance(answer, list) or not all(is_build(entry) for entry in answer):
        raise NotZuul(f"{client.url(path)}: the answer is not a list of Zuul builds: not a "
                      f"Zuul API root")
    return answer


def import_builds(engine: Engine, client: ZuulClient, tenant: str, *, ci_system: str,
                  since: dt.datetime | None = None, pipeline: str | None = None,
                  page_size: int = DEFAULT_PAGE, max_pages: int | None = None,
                  declared=None) -> ImportStats:
    stats = ImportStats()
    writer = VerdictWriter(declared)
    skip = 0
    seen: set[str] = set()
    while max_pages is None or stats.pages < max_pages:
        entries = _page(client, tenant, pipeline, skip, page_size)
        stats.pages += 1
        if not entries:
            break
        uuids = {entry["uuid"] for entry in entries}
        if uuids <= seen:
            raise NotZuul(f"{client.url('tenant/' + tenant + '/builds')}: skip={skip} answered "
                          f"builds already read: not Zuul's builds paging")
        seen |= uuids
        if len(entries) > page_size:
            # a server that ignores limit (and so skip) would be paged forever
            raise NotZuul(f"{client.url('tenant/' + tenant + '/builds')}: {len(entries)} builds "
                          f"answered for limit={page_size}: not Zuul's builds paging")
        verdicts = []
        for entry in entries:
            at = build_time(entry)
            if since is not None and at is not None and at < since:
                stats.skipped["before_since"] += 1
                continue
            stats.builds += 1
            verdict = build_verdict(entry, ci_system)
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
                    # an overlapping import stored some of these builds meanwhile:
                    # once more, and they are found stored
                    writer.reset_caches()
                    with engine.begin() as conn:
                        return writer.write(conn, verdicts)
            result = deadlock_retrying(before_sleep=lambda _s: writer.reset_caches())(write)
            stats.stored += result.stored
            stats.duplicates += result.duplicates
        times = [t for t in map(build_time, entries) if t is not None]
        if since is not None and times and max(times) < since:
            break  # newest first: every later page is older still
        if len(entries) < page_size:
            break
        skip += len(entries)
    return stats
