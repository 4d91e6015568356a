"""Issue 16 packaging: the built wheel, installed into a fresh virtualenv with
no checkout and no npm, serves the whole dashboard, and it draws its charts.

Offline: the wheel is built without build isolation (setuptools and wheel of
this venv) and installed with --no-deps --no-index; the fresh venv finds the
dependencies in this venv's site-packages through a .pth line (its .pth files
are not run, so this venv's editable ci-health stays out of sight).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, Console, _free_port, _new_page, wait_ready

pytestmark = pytest.mark.browser

SOURCES = ("setup.py", "MANIFEST.in", "requirements.txt", "test-requirements.txt", "README.md",
           "health_api", "migrations", "frontend")
#: what the copy of node_modules leaves out (the wheel takes a few built files)
_SKIP = shutil.ignore_patterns("__pycache__", "src", "test", "examples", "bin", "meteor",
                               "*.egg-info", ".package-lock.json")


def _run(*args, cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, timeout=timeout,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith(("CI_HEALTH_", "PIP_", "VIRTUAL_ENV"))})
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
    return done.stdout.decode()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin directory of a fresh venv holding only the built wheel, work directory)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=_SKIP)
        else:
            shutil.copy2(path, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", work / "dist", source, cwd=work)
    wheel = next((work / "dist").glob("ci_health-*.whl"))
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=work)
    site = Path(_run(venv / "bin" / "python", "-c",
                     "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work).strip())
    (site / "ci_health_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         wheel, cwd=work)
    return venv / "bin", work


def test_the_wheel_carries_the_dashboard(installed):
    bin_dir, work = installed
    where = _run(bin_dir / "python", "-c", "import health_api.app as a; print(a.FRONTEND)",
                 cwd=work).strip()
    frontend = Path(where)
    assert frontend.is_relative_to(bin_dir.parent), where  # the installed copy, not the checkout
    for name in ("index.html", "js/main.js", "css/app.css", "node_modules/d3/d3.min.js",
                 "node_modules/nvd3/build/nv.d3.min.js", "node_modules/nvd3/build/nv.d3.min.css",
                 "node_modules/d3/LICENSE", "node_modules/nvd3/LICENSE.md"):
        assert (frontend / name).is_file(), name
    assert not (frontend / "node_modules" / "d3" / "src").exists()


def test_the_installed_server_draws_charts(installed, browser, tmp_path):
    bin_dir, _work = installed
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    _run(bin_dir / "ci-health", "db", "upgrade", "--db", db, cwd=tmp_path)
    _run(bin_dir / "ci-health", "demo-data", "--db", db, "--days", "3", "--jobs", "3",
         "--runs-per-day", "3", "--seed", "5", cwd=tmp_path)
    port = _free_port()
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([bin_dir / "ci-health", "serve", "--db", db, "--port", str(port),
                               "--workers", "1"], cwd=tmp_path, stdout=log,
                              stderr=subprocess.STDOUT,
                              env={k: v for k, v in os.environ.items()
                                   if not k.startswith("CI_HEALTH_")})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/vendor/d3/d3.min.js", timeout=2) as answer:
                    assert answer.status == 200 and b"d3" in answer.read()
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "serve.log").read_text()[-2000:]
                time.sleep(0.3)
        context, page = _new_page(browser, url)
        console = Console(page)
        try:
            page.goto("/#/")
            assert wait_ready(page) == "ready"
            states = page.eval_on_selector_all(
                "[data-chart]", "els => els.map(e => e.dataset.chartState)")
            assert states and set(states) == {"ready"}, states
            lines = '[data-chart="failure-rate"] .nv-linesWrap path.nv-line'
            assert page.locator(lines).count() > 0
            assert console.errors == []
        finally:
            context.close()
    finally:
        server.terminate()
        server.wait(30)
        log.close()
