"""How far a PostgreSQL streaming replica is behind its primary."""
from __future__ import annotations

from sqlalchemy import text

# pg_last_wal_receive_lsn = pg_last_wal_replay_lsn: everything received is
# replayed, so with the WAL receiver streaming the replica is current (the
# age of its last replayed transaction then only says the primary is idle).
# Otherwise the lag is the age of the last transaction it replayed.
_LAG = text(
    "SELECT pg_is_in_recovery(),"
    " COALESCE(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false),"
    " date_part('epoch', now() - pg_last_xact_replay_timestamp()),"
    " EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')")


def replica_state(conn) -> dict | None:
    """{"lag_seconds", "streaming"} of the standby ``conn`` is on; None when it
    is not a PostgreSQL standby (a primary, SQLite, MariaDB)."""
    if conn.dialect.name != "postgresql":
        return None
    in_recovery, caught_up, replay_age, streaming = conn.execute(_LAG).one()
    if not in_recovery:
        return None
    if caught_up and streaming:
        lag = 0.0
    else:
        lag = None if replay_age is None else max(0.0, float(replay_age))
    return {"lag_seconds": lag, "streaming": bool(streaming)}
