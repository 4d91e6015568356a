"""The Flask application factory: blueprints, JSON errors, caching, static frontend."""
from __future__ import annotations

from pathlib import Path

import json

from flask import Flask, Response, abort, send_from_directory

from . import __version__, rules
from .config import load_config

#: the checkout's frontend/ (with node_modules/ from `npm ci`), else the copy a wheel
#: carries (setup.py puts the frontend and the pinned d3/NVD3 files into the package)
FRONTEND = next((p for p in (Path(__file__).resolve().parent.parent / "frontend",
                             Path(__file__).resolve().parent / "frontend")
                 if (p / "index.html").is_file()), Path(__file__).resolve().parent / "frontend")
#: /vendor/<lib>/<file> -> the directory under frontend/ it is served from; nothing
#: else of node_modules/ is reachable
VENDOR = {"d3": Path("node_modules") / "d3", "nvd3": Path("node_modules") / "nvd3" / "build"}
VENDOR_SUFFIXES = (".js", ".css", ".map")
FRONTEND_DIRS = ("js", "css")
RULES_PLACEHOLDER = '<script type="application/json" id="ci-health-rules">null</script>'
_MIMETYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
              ".map": "application/json", ".html": "text/html", ".svg": "image/svg+xml"}


def create_app(db_url: str | None = None, config=None) -> Flask:
    config = config or load_config()
    app = Flask(__name__, static_folder=None)
    app.config["CI_HEALTH_DB"] = db_url or config.db_url
    app.json.sort_keys = False

    from .api import (alerts, cache, ci, errors, feeds, insight, jobs, runs, status, tests,
                      upload, verify_status)
    from .api.auth import init_body_limit
    from .api.cors import init_cors
    from .api.db import init_engine
    from .api.metrics import init_metrics
    from .compat import routes as compat_routes
    from .insight.options import insight_options
    init_engine(app, app.config["CI_HEALTH_DB"], config, config.read_urls)
    init_body_limit(app, config)
    init_cors(app, config)
    cache.init_cache(app, config)
    errors.register(app)
    init_metrics(app)
    ci.init_ci(app, config)
    app.config["CI_HEALTH_INSIGHT"] = insight_options(config)
    for blueprint in (status.bp, runs.bp, jobs.bp, tests.bp, feeds.bp, upload.bp, ci.bp,
                      verify_status.bp, insight.bp, alerts.bp):
        app.register_blueprint(blueprint)
    for module in (upload, verify_status, insight):
        module.register_operations(app)  # write routes in the OpenAPI document
    app.register_blueprint(compat_routes.bp,
                           url_prefix=config.get("api", "compat_prefix", "") or None)

    frontend = Path(config.get("api", "frontend_dir", str(FRONTEND)))
    if frontend.is_dir() and (frontend / "index.html").is_file():
        _frontend_routes(app, frontend)

    app.after_request(_security_headers)
    app.config["CI_HEALTH_VERSION"] = __version__
    return app


#: The dashboard loads its scripts and styles from this origin only and calls
#: only this API; NVD3 sets inline style attributes, hence 'unsafe-inline' for
#: styles (never for scripts). No page may be framed (clickjacking).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _send(directory: Path, filename: str):
    """A static file with an explicit type (the platform's mimetypes table may
    lack .js or map it to text/plain, which browsers refuse for modules)."""
    mimetype = _MIMETYPES.get(Path(filename).suffix.lower())
    response = send_from_directory(directory, filename, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _frontend_routes(app: Flask, frontend: Path) -> None:
    page = (frontend / "index.html").read_text(encoding="utf-8")
    # the page carries the shared rules (also at GET /api/v1/status), so the dashboard
    # has them before its first request and copies none of them; "<" is escaped so the
    # JSON cannot close the script element
    rules_json = json.dumps(rules.as_json(), sort_keys=True).replace("<", "\\u003c")
    page = page.replace(RULES_PLACEHOLDER, RULES_PLACEHOLDER.replace(">null<", f">{rules_json}<"))

    @app.get("/")
    def index():
        response = Response(page, mimetype="text/html")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

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
