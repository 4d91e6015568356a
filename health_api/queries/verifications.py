"""verify-status reads: which patch set a change and revision id name, and
the verifications reported on it (sorted and filtered as the plugin does).

Change ids take Gerrit's forms: the change number, ``project~number``,
``project~branch~I<Change-Id>`` or the bare ``I<Change-Id>``. Revision ids:
the patch set number, ``current`` (the highest stored) or a commit id (4 to
40 hex digits, a unique prefix).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from ..db import models as m

__all__ = ["ChangeRef", "ResolveError", "parse_change_id", "resolve_patch_set",
           "verifications", "SORTS", "FILTERS"]

SORTS = ("REPORTER", "NAME", "DATE")
FILTERS = ("CURRENT", "FAILED")
_CHANGE_KEY = re.compile(r"^I[0-9a-f]{40}$")
_SHA = re.compile(r"^[0-9a-f]{4,40}$")
_INT_MAX = 2**31 - 1


class ResolveError(LookupError):
    """An id that names nothing (or is not an id): ``field`` is the path part."""

    def __init__(self, field: str, message: str, status: int = 404):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class ChangeRef:
    number: int | None = None
    project: str | None = None
    branch: str | None = None
    change_key: str | None = None


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= 10 and 0 < int(text) <= _INT_MAX \
        else None


def parse_change_id(text: str) -> ChangeRef:
    parts = text.split("~")
    if len(parts) == 1:
        if _number(text) is not None:
            return ChangeRef(number=_number(text))
        if _CHANGE_KEY.match(text):
            return ChangeRef(change_key=text)
    elif len(parts) == 2 and parts[0] and _number(parts[1]) is not None:
        return ChangeRef(number=_number(parts[1]), project=parts[0])
    elif len(parts) == 3 and parts[0] and parts[1] and _CHANGE_KEY.match(parts[2]):
        return ChangeRef(project=parts[0], branch=parts[1], change_key=parts[2])
    raise ResolveError("change", "change must be a change number, project~number, "
                                 "project~branch~Change-Id or a Change-Id", 400)


def _change_id(conn: Connection, ref: ChangeRef) -> int | None:
    c = m.changes.c
    query = select(c.id)
    if ref.number is not None:
        query = query.where(c.number == ref.number)
    if ref.change_key is not None:
        query = query.where(c.change_key == ref.change_key)
    if ref.project is not None:
        query = query.where(c.project == ref.project)
    if ref.branch is not None:
        query = query.where(c.branch == ref.branch)
    found = conn.execute(query.limit(2)).scalars().all()
    if len(found) > 1:
        raise ResolveError("change", "change names more than one change: use "
                                     "project~branch~Change-Id or the number", 404)
    return found[0] if found else None


def resolve_patch_set(conn: Connection, change: str, revision: str) -> tuple[int, int] | None:
    """(change number, patch set number) of a stored patch set, or
    ResolveError (404) naming what is unknown."""
    ref = parse_change_id(change)
    change_id = _change_id(conn, ref)
    if change_id is None:
        raise ResolveError("change", f"no change {change[:100]}")
    number = conn.execute(select(m.changes.c.number).where(m.changes.c.id == change_id)).scalar()
    p = m.patch_sets.c
    query = select(p.number).where(p.change_id == change_id)
    if _number(revision) is not None:
        query = query.where(p.number == _number(revision))
    elif revision == "current":
        query = query.order_by(p.number.desc()).limit(1)
    elif _SHA.match(revision):
        query = query.where(p.revision.like(revision + "%")).limit(2)
    else:
        raise ResolveError("revision", "revision must be a patch set number, 'current' or a "
                                       "commit id", 400)
    found = conn.execute(query).scalars().all()
    if len(found) != 1:
        raise ResolveError("revision", f"no patch set {revision[:64]} of change {number}"
                           if not found else f"revision {revision} names more than one patch set")
    return number, found[0]


def verifications(conn: Connection, change_number: int, ps_number: int,
                  sort: str | None = None, only: str | None = None) -> list[dict]:
    """The verifications of a patch set, in the plugin's shape (with ``uuid``),
    oldest first unless ``sort`` says otherwise; ``only``: CURRENT (the latest
    of each job) or FAILED (value below 0)."""
    v, p, c = m.ci_verifications.c, m.patch_sets.c, m.changes.c
    ps_id = conn.execute(select(p.id).join(m.changes, c.id == p.change_id).where(
        c.number == change_number, p.number == ps_number)).scalar()
    if ps_id is None:
        return []
    query = select(v.uuid, v.name, v.value, v.abstain, v.rerun, v.url, v.reporter, v.comment,
                   v.category, v.duration, v.granted).where(v.patch_set_id == ps_id)
    if only == "CURRENT":
        latest = (select(v.name, func.max(v.id).label("id")).where(v.patch_set_id == ps_id)
                  .group_by(v.name).subquery())
        query = query.where(v.id.in_(select(latest.c.id)))
    elif only == "FAILED":
        query = query.where(v.value < 0)
    order = {"REPORTER": (v.reporter, v.name, v.granted, v.id), "NAME": (v.name, v.granted, v.id),
             "DATE": (v.granted.desc(), v.id.desc())}.get(sort or "", (v.granted, v.id))
    return [dict(row._mapping) for row in conn.execute(query.order_by(*order))]
