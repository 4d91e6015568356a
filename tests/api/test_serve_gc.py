"""`ci-health serve`'s workers take the objects alive once the app is built out of
the garbage collector's full collections (health_api.serve.freeze_startup_objects)."""
from __future__ import annotations

import gc

from health_api import serve


def test_worker_load_freezes_the_startup_objects(tmp_path):
    app = serve._Gunicorn.__new__(serve._Gunicorn)  # load() only: no config, no server
    app.db_url = f"sqlite:///{tmp_path / 'store.db'}"
    try:
        gc.unfreeze()
        flask_app = app.load()
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # the test session's objects back to the collector
    assert flask_app.name == "health_api.app"
    assert frozen > 10_000  # the modules of Flask, SQLAlchemy, pandas and the app
