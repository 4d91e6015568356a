"""Run the WSGI app under gunicorn (or Flask's dev server with --dev)."""
from __future__ import annotations

import runpy
from pathlib import Path

from gunicorn.app.base import BaseApplication

JSON_WORKER = "health_api.serve_worker.JsonErrorThreadWorker"
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "etc" / "gunicorn.conf.py"


def child_exit(_server, worker) -> None:
    """gunicorn's child_exit hook (in the master): in Prometheus multiprocess mode,
    drop the exited worker's live gauges (its DB pool), so /metrics lists only
    the workers that run. The master imports no metric itself: it would show
    as a worker."""
    import os
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)


class _Gunicorn(BaseApplication):
    def __init__(self, db_url: str, options: dict):
        self.db_url = db_url
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        # JSON bodies for gunicorn's own errors even without etc/gunicorn.conf.py
        self.cfg.set("worker_class", JSON_WORKER)
        self.cfg.set("threads", 4)
        self.cfg.set("child_exit", child_exit)
        settings = runpy.run_path(str(GUNICORN_CONF)) if GUNICORN_CONF.is_file() else {}
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app
        _access_log_to_stderr()
        app = create_app(db_url=self.db_url)
        freeze_startup_objects()
        return app


def freeze_startup_objects() -> None:
    """Move every object alive once the app is built (the modules of Flask,
    SQLAlchemy, pandas, numpy: a few hundred thousand) out of the garbage
    collector's sight. They live as long as the worker, yet each full collection
    walked them all again, and a request that builds a large answer (the
    overview's chart: ~40,000 dicts and lists) set several off: 4-6 ms of a
    30 ms uncached answer. Called once, in each worker (gunicorn loads the app
    after the fork). A frozen object is never collected: what leaks is bounded
    by the startup heap, which the worker keeps for its life anyway, and the
    garbage of the start-up is collected first; what requests allocate later is
    collected as before."""
    import gc
    gc.collect()
    gc.freeze()


def _access_log_to_stderr() -> None:
    """The app's structured access line (JSON: request id, method, route, path, status,
    duration; api/metrics.py) on the worker's stderr, one per request, unless a logging
    config gave the logger handlers. It replaces gunicorn's plain access log, which
    etc/gunicorn.conf.py leaves off: one line per request, not two."""
    import logging
    import sys
    log = logging.getLogger("health_api.access")
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def run_server(db_url: str, *, host: str, port: int, workers: int, dev: bool,
               threads: int = 4) -> None:
    if dev:
        from .app import create_app
        create_app(db_url=db_url).run(host=host, port=port, debug=True)
        return
    _Gunicorn(db_url, {"bind": f"{host}:{port}", "workers": workers,
                       "threads": threads}).run()
