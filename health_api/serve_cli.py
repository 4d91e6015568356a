"""``ci-health serve``: the API and the dashboard."""
from __future__ import annotations

import click

from .clitools import db_option, fail_cleanly, open_engine
from .config import load_config


@click.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="gunicorn workers (default: [api] workers, else 2).")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="threads per worker (default: [api] threads, else 4).")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@fail_cleanly()
def serve(db_url, host, port, workers, threads, dev):
    """Serve the API and the dashboard."""
    from .serve import run_server
    config = load_config()
    url = db_url or config.db_url
    open_engine(url)  # fail fast, with the usual message, if the schema is missing
    from .db.session import dispose_engines
    dispose_engines()  # the workers open their own connections
    run_server(url, host=host, port=port,
               workers=workers or config.get_int("api", "workers", 2),
               threads=threads or config.get_int("api", "threads", 4), dev=dev)
