"""Store verify-status reports: each verification a verdict (source
'verify-status', result from its value, non-voting when it abstains) and a
``ci_verifications`` row with the plugin's fields, in one transaction.

Every report is kept, as the plugin keeps them: posting the same job again
(a rerun) adds its next attempt, and ``filter=CURRENT`` shows the latest.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Sequence

from sqlalchemy import Connection

from ..db.models import ci_verifications
from ..verdicts import Verdict, VerdictWriter
from ..verdicts.values import clean_text
from .body import RESULT_BY_VALUE, VerificationInput, duration_seconds

__all__ = ["store_verifications"]


def store_verifications(conn: Connection, writer: VerdictWriter, ci_system: str,
                        change: int, patch_set: int, inputs: Sequence[VerificationInput],
                        now: dt.datetime, project: str | None = None) -> list[str]:
    """Write ``inputs`` as reported by ``ci_system`` on a patch set; returns
    the new verifications' uuids in input order."""
    now = now.replace(microsecond=0, tzinfo=None)
    ids = [str(uuid.uuid4()) for _ in inputs]
    verdicts = [Verdict(ci_system=ci_system, change=change, patch_set=patch_set, job=item.name,
                        result=RESULT_BY_VALUE[item.value], posted_at=now,
                        source="verify-status", result_key=f"vs:{key}", url=item.url,
                        duration=duration_seconds(item.duration), voting=not item.abstain,
                        detail="rerun" if item.rerun else None, project=project)
                for key, item in zip(ids, inputs)]
    written = writer.write(conn, verdicts)
    systems = writer.load_systems(conn)
    ps_id = writer.ensure_patch_sets(conn, {(change, patch_set): (None, None, None, None)},
                                     {change: (project, None, None, None, None)},
                                     writer.ensure_changes(conn, {change: (project, None, None,
                                                                           None, None)}))[0]
    rows = [{"uuid": key, "job_result_id": written.rows[f"vs:{key}"][0],
             "patch_set_id": ps_id[(change, patch_set)], "ci_system_id": systems[ci_system][0],
             "name": item.name, "value": item.value, "abstain": item.abstain,
             "rerun": item.rerun, "url": item.url, "reporter": clean_text(item.reporter),
             "comment": clean_text(item.comment, 65535), "category": clean_text(item.category),
             "duration": item.duration, "granted": now}
            for key, item in zip(ids, inputs)]
    conn.execute(ci_verifications.insert(), rows)
    return ids
