"""The Flask application factory."""
from __future__ import annotations

from flask import Flask, jsonify

from . import __version__
from .config import load_config


def create_app(db_url: str | None = None, config=None) -> Flask:
    config = config or load_config()
    app = Flask(__name__)
    app.config["CI_HEALTH_DB"] = db_url or config.db_url

    @app.get("/api/v1/status")
    def status():
        from sqlalchemy import func, select

        from .db import models as m
        from .db.session import get_engine
        engine = get_engine(app.config["CI_HEALTH_DB"])
        with engine.connect() as conn:
            newest = conn.execute(select(func.max(m.runs.c.run_at))).scalar()
        return jsonify({"version": __version__, "database": "ok",
                        "newest_run_at": newest.isoformat() + "Z" if newest else None})
    return app
