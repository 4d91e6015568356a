"""``ci-health token create|list|revoke``: bearer tokens for the write API."""
from __future__ import annotations

import json

import click

from .clitools import CliError, db_option, fail_cleanly


def _engine(db_url):
    from .clitools import open_engine
    return open_engine(db_url)


@click.group()
def token() -> None:
    """Bearer tokens for uploads and CI reports (stored hashed, one per CI system)."""


@token.command("create")
@db_option
@click.option("--ci-system", required=True, metavar="NAME",
              help="The CI system the token reports as.")
@click.option("--note", metavar="TEXT", help="What the token is for (shown in listings).")
@fail_cleanly()
def token_create(db_url, ci_system, note):
    """Create a token and print it once (only its hash is stored)."""
    from .tokens import TokenError, create_token
    try:
        token_id, plaintext = create_token(_engine(db_url), ci_system, note)
    except TokenError as exc:
        raise CliError(str(exc)) from None
    click.echo(plaintext)
    click.echo(f"token {token_id} for CI system {ci_system!r}: store it now, it is not "
               f"shown again", err=True)


@token.command("list")
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per token.")
@fail_cleanly()
def token_list(db_url, as_json):
    """List tokens (their first characters, never the tokens)."""
    from .tokens import list_tokens
    for row in list_tokens(_engine(db_url)):
        if as_json:
            click.echo(json.dumps({k: v.isoformat() + "Z" if hasattr(v, "isoformat") else v
                                   for k, v in row.items()}))
            continue
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        used = f"{row['last_used_at']:%Y-%m-%d %H:%M}" if row["last_used_at"] else "never"
        click.echo(f"{row['id']:>5}  {row['prefix']}…  {row['ci_system']}  {state}  "
                   f"last used {used}  {row['note'] or ''}".rstrip())


@token.command("revoke")
@db_option
@click.argument("token_id", type=click.IntRange(min=1), metavar="ID")
@fail_cleanly()
def token_revoke(db_url, token_id):
    """Revoke a token; requests with it get 401 from now on."""
    from .tokens import revoke_token
    if not revoke_token(_engine(db_url), token_id):
        raise CliError(f"no active token {token_id}")
    click.echo(f"token {token_id} revoked")
