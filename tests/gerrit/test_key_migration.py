"""Migration 0004: stored CI comment keys are rewritten to the time-ordered form."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from health_api.db.migrate import upgrade
from health_api.db.session import make_engine
from health_api.gerrit.rows import comment_key
from health_api.gerrit.store import GerritStore
from sshd.helpers import T0, comment_event, created_event, zuul_report


def _full_digest_key(change, patch_set, username, posted, text):
    """comment_key as revision 0003 stored it: all 64 hex digits of the digest."""
    digest = hashlib.sha256(f"{change}\x00{patch_set}\x00{username}\x00{posted.isoformat()}\x00"
                            .encode())
    digest.update(text.encode())
    return digest.hexdigest()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_0004_rewrites_stored_comment_keys_so_stored_comments_still_dedupe(fresh_db, kind):
    engine = make_engine(fresh_db(kind))
    upgrade(engine, "0003")
    report = zuul_report([("tox", "SUCCESS")])
    posted = dt.datetime.fromtimestamp(T0 + 600, dt.timezone.utc).replace(tzinfo=None)
    old_key = _full_digest_key(100, 1, "zuul", posted, report)
    # an older writer's row, and one that already has the new key (a writer
    # of this version ran before the migration did): the second stays as is
    later = posted + dt.timedelta(hours=1)
    new_key = comment_key(100, 1, "zuul", later, "Build failed.")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO ci_comments (id, comment_key, patch_set_id, ci_system_id, posted_at, "
            "raw_text, parsed) VALUES (1, :old, 1, 1, :at, :text, :p), "
            "(2, :new, 1, 1, :later, 'Build failed.', :p)"),
            {"old": old_key, "new": new_key, "at": posted, "later": later, "text": report,
             "p": True})
    upgrade(engine)
    with engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT comment_key FROM ci_comments ORDER BY id")).scalars()
        assert list(keys) == [comment_key(100, 1, "zuul", posted, report), new_key]
    assert comment_key(100, 1, "zuul", posted, report) == \
        posted.strftime("%Y%m%d%H%M%S") + old_key[:50]
    # the stream copy of the stored comment is recognised, not stored again
    store = GerritStore(engine)
    stats = store.store_raw_events([created_event(100), comment_event(100, 1, report, T0 + 600)])
    assert (stats.comments, stats.duplicate_comments) == (0, 1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ci_comments")).scalar() == 2
    engine.dispose()
