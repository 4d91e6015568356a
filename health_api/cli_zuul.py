"""``ci-health zuul import``: Zuul builds and buildsets as CI verdicts (health_api.zuul).

Exit codes as for every command: 0 ok, 2 bad input (a bad URL, a tenant
Zuul does not know, an answer that is not Zuul's, a server that keeps
failing after the retries), 4 database unreachable or not migrated.
"""
from __future__ import annotations

import json

import click

from .clitools import db_option, fail_cleanly, parse_time


@click.group()
def zuul() -> None:
    """Zuul builds as a CI verdict source."""


def _fail_cleanly(func):
    from .zuul.builds import NotZuul
    from .zuul.client import ZuulError
    return fail_cleanly(ZuulError, NotZuul)(func)


@zuul.command("import")
@db_option
@click.option("--url", "api_root", required=True, metavar="ZUUL_API_ROOT",
              help="Zuul web's API root, e.g. https://zuul.example.org/api")
@click.option("--tenant", required=True, metavar="T", help="The Zuul tenant.")
@click.option("--since", metavar="TIME",
              help="Only builds that ended at or after TIME (ISO 8601, UTC unless an offset "
                   "is given); paging stops at older ones.")
@click.option("--pipeline", metavar="P", help="Only builds of this pipeline.")
@click.option("--ci-system", default="zuul", show_default=True, metavar="NAME",
              help="The CI system the builds are stored as (its Gerrit username, so that "
                   "its comments and its builds count as one CI).")
@click.option("--page-size", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Builds per request (Zuul's limit).")
@click.option("--retries", type=click.IntRange(1, 20), default=5, show_default=True,
              help="Tries per request on connection errors, timeouts, HTTP 429 and 5xx.")
@_fail_cleanly
def zuul_import(db_url, api_root, tenant, since, pipeline, ci_system, page_size, retries):
    """Store a tenant's final builds of Gerrit changes as verdicts, and its buildsets
    in which no build ran (merge failure, config error, no jobs) as a "(buildset)"
    result; re-running stores each once. Prints what was read and stored as JSON."""
    from .cli import open_engine
    from .zuul.client import ZuulClient
    from .zuul.importer import import_builds, import_buildsets
    options = dict(ci_system=ci_system, since=parse_time(since, "--since"), pipeline=pipeline,
                   page_size=page_size)
    client = ZuulClient(api_root, attempts=retries)
    engine = open_engine(db_url)
    builds = import_builds(engine, client, tenant, **options).as_dict("builds")
    # after the builds: a buildset whose builds are stored is skipped, not stored again
    buildsets = import_buildsets(engine, client, tenant, **options).as_dict("buildsets")
    click.echo(json.dumps({**builds, "buildsets": buildsets}))
