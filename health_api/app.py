"""The Flask application factory: blueprints, JSON errors, caching, static frontend."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory

from . import __version__
from .config import load_config

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def create_app(db_url: str | None = None, config=None) -> Flask:
    config = config or load_config()
    app = Flask(__name__, static_folder=None)
    app.config["CI_HEALTH_DB"] = db_url or config.db_url
    app.json.sort_keys = False

    from .api import cache, compat, errors, feeds, jobs, runs, status, tests
    from .api.db import init_engine
    init_engine(app, app.config["CI_HEALTH_DB"])
    cache.init_cache(app, config)
    errors.register(app)
    for blueprint in (status.bp, runs.bp, jobs.bp, tests.bp, feeds.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(compat.bp, url_prefix=config.get("api", "compat_prefix", "") or None)

    frontend = Path(config.get("api", "frontend_dir", str(FRONTEND)))
    if frontend.is_dir() and (frontend / "index.html").is_file():
        @app.get("/")
        def index():
            return send_from_directory(frontend, "index.html")

        @app.get("/<path:filename>")
        def frontend_file(filename):
            return send_from_directory(frontend, filename)

    app.config["CI_HEALTH_VERSION"] = __version__
    return app
