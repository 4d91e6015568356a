"""Bearer tokens for the write API (no Flask here: the CLI and the API share it).

A token is ``cih_`` and 43 URL-safe characters (256 random bits). Only its
SHA-256 is stored: looking a token up by its hash leaks nothing useful through
timing, and a copy of the database holds no usable token. Each token is bound
to one CI system name; writes made with it are attributed to that system.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from .db.models import api_tokens

TOKEN_PREFIX = "cih_"
#: characters of the token kept in clear for listings ("cih_" and 8 more)
SHOWN = 12
MAX_TOKEN_LENGTH = 200
MAX_SYSTEM_LENGTH = 255
MAX_NOTE_LENGTH = 255


class TokenError(ValueError):
    """A token request that cannot be carried out (the message says why)."""


@dataclass(frozen=True)
class TokenInfo:
    id: int
    ci_system: str


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(engine: sa.Engine, ci_system: str, note: str | None = None) -> tuple[int, str]:
    """Store a new token for ``ci_system``; returns (id, plaintext). The
    plaintext is not kept anywhere: show it once."""
    ci_system = (ci_system or "").strip()
    if not ci_system or len(ci_system) > MAX_SYSTEM_LENGTH or not ci_system.isprintable():
        raise TokenError(f"CI system name must be 1 to {MAX_SYSTEM_LENGTH} printable characters")
    if note is not None and (len(note) > MAX_NOTE_LENGTH or not note.isprintable()):
        raise TokenError(f"note must be at most {MAX_NOTE_LENGTH} printable characters")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        result = conn.execute(api_tokens.insert().values(
            token_hash=hash_token(plaintext), prefix=plaintext[:SHOWN], ci_system=ci_system,
            note=note, created_at=_utcnow()))
        return int(result.inserted_primary_key[0]), plaintext


def list_tokens(engine: sa.Engine) -> list[dict]:
    columns = [api_tokens.c[name] for name in
               ("id", "prefix", "ci_system", "note", "created_at", "last_used_at", "revoked_at")]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).order_by(api_tokens.c.id)).all()
    return [dict(row._mapping) for row in rows]


def revoke_token(engine: sa.Engine, token_id: int) -> bool:
    """Revoke a token at once; False if no such token or already revoked."""
    with engine.begin() as conn:
        result = conn.execute(
            api_tokens.update()
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=_utcnow()))
        return result.rowcount == 1


def verify_token(conn: sa.Connection, plaintext: str) -> TokenInfo | None:
    """The live token ``plaintext`` names, or None (unknown, malformed or revoked)."""
    if (not plaintext or len(plaintext) > MAX_TOKEN_LENGTH
            or not plaintext.startswith(TOKEN_PREFIX)):
        return None
    digest = hash_token(plaintext)
    row = conn.execute(
        sa.select(api_tokens.c.id, api_tokens.c.ci_system, api_tokens.c.token_hash)
        .where(api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None))).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return TokenInfo(id=int(row.id), ci_system=row.ci_system)


def mark_used(conn: sa.Connection, token: TokenInfo) -> None:
    """Record when a token was last used, inside the write it authorised."""
    conn.execute(api_tokens.update().where(api_tokens.c.id == token.id)
                 .values(last_used_at=_utcnow()))
