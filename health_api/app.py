"""The Flask application factory: blueprints, JSON errors, caching, static frontend."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, send_from_directory

from . import __version__
from .config import load_config

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
#: /vendor/<lib>/<file> -> the directory under frontend/ it is served from; nothing
#: else of node_modules/ is reachable
VENDOR = {"d3": Path("node_modules") / "d3", "nvd3": Path("node_modules") / "nvd3" / "build"}
VENDOR_SUFFIXES = (".js", ".css", ".map")
FRONTEND_DIRS = ("js", "css")
_MIMETYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
              ".map": "application/json", ".html": "text/html", ".svg": "image/svg+xml"}


def create_app(db_url: str | None = None, config=None) -> Flask:
    config = config or load_config()
    app = Flask(__name__, static_folder=None)
    app.config["CI_HEALTH_DB"] = db_url or config.db_url
    app.json.sort_keys = False

    from .api import cache, errors, feeds, jobs, runs, status, tests
    from .api.auth import init_body_limit
    from .api.cors import init_cors
    from .api.db import init_engine
    init_engine(app, app.config["CI_HEALTH_DB"])
    init_body_limit(app, config)
    init_cors(app, config)
    cache.init_cache(app, config)
    errors.register(app)
    for blueprint in (status.bp, runs.bp, jobs.bp, tests.bp, feeds.bp):
        app.register_blueprint(blueprint)
    from .compat.routes import bp as compat_bp
    app.register_blueprint(compat_bp, url_prefix=config.get("api", "compat_prefix", "") or None)

    frontend = Path(config.get("api", "frontend_dir", str(FRONTEND)))
    if frontend.is_dir() and (frontend / "index.html").is_file():
        _frontend_routes(app, frontend)

    app.config["CI_HEALTH_VERSION"] = __version__
    return app


def _send(directory: Path, filename: str):
    """A static file with an explicit type (the platform's mimetypes table may
    lack .js or map it to text/plain, which browsers refuse for modules)."""
    mimetype = _MIMETYPES.get(Path(filename).suffix.lower())
    response = send_from_directory(directory, filename, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _frontend_routes(app: Flask, frontend: Path) -> None:
    @app.get("/")
    def index():
        return _send(frontend, "index.html")

    @app.get("/vendor/<string:lib>/<path:filename>")
    def vendor_file(lib, filename):
        if (lib not in VENDOR or Path(filename).suffix.lower() not in VENDOR_SUFFIXES
                or any(p in ("", ".", "..") for p in filename.split("/"))):
            abort(404)
        return _send(frontend / VENDOR[lib], filename)

    @app.get("/<path:filename>")
    def frontend_file(filename):
        # the page's own files only: not node_modules/, test/, package.json ...
        parts = filename.split("/")
        if parts[0] not in FRONTEND_DIRS or any(p in ("", ".", "..") for p in parts):
            abort(404)
        return _send(frontend, filename)
