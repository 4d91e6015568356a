"""Browser fixtures: Debian's chromium driven by Playwright (sync API).

One browser per session (per xdist worker), one context per test. The
frontend is served by a tiny static server (static_server.py) laid out as
the Flask app serves it; /api/v1/ calls are intercepted by an ApiStub that
answers with sample data, empty results or errors.

Needs: `pip install playwright` (test-requirements), /usr/bin/chromium and
frontend/node_modules (tools/browser-deps.sh installs both). When one is
missing the browser tests are skipped with the reason, unless
CI_HEALTH_BROWSER_REQUIRED=1, which turns that into a failure (CI sets it).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from . import sample_api
from .static_server import FRONTEND, StaticServer

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("CI_HEALTH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
VIEWPORT = {"width": 1360, "height": 900}


def _missing() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (test-requirements.txt)")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    for lib in ("d3/d3.min.js", "nvd3/build/nv.d3.min.js"):
        if not (FRONTEND / "node_modules" / lib).is_file():
            missing.append(f"frontend/node_modules/{lib} (npm ci in frontend/)")
    return missing


@pytest.fixture(scope="session")
def browser():
    missing = _missing()
    if missing:
        message = "browser tests need " + ", ".join(missing) + ": run tools/browser-deps.sh"
        if os.environ.get("CI_HEALTH_BROWSER_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def static_server():
    with StaticServer() as server:
        yield server


class ApiStub:
    """Answers the page's /api/v1/ calls.

    The default answer is `mode`: "sample" (sample_api, realistic data) or
    "empty" (no data in the period). `on(pattern, body, status)` overrides
    the endpoints whose path matches the regex (latest override first);
    `calls` lists every (path, query) the page asked for.
    """

    def __init__(self, page, mode: str = "sample"):
        self.mode = mode
        self.overrides: list[tuple[re.Pattern, object]] = []
        self.calls: list[tuple[str, dict]] = []
        self.held: list = []
        self.hold_all = False
        page.route(re.compile(r".*/api/v1/.*"), self._handle)

    def on(self, pattern: str, body=None, status: int = 200, *, raw: str | None = None,
           abort: bool = False, handler=None) -> "ApiStub":
        self.overrides.insert(0, (re.compile(pattern), {
            "body": body, "status": status, "raw": raw, "abort": abort, "handler": handler}))
        return self

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def release(self) -> None:
        """Answers the calls held while hold_all was set."""
        self.hold_all = False
        held, self.held = self.held, []
        for route in held:
            self._answer(route)

    def _handle(self, route):
        split = urlsplit(route.request.url)
        multi = parse_qs(split.query)
        self.calls.append((split.path, {k: v[-1] for k, v in multi.items()}))
        if self.hold_all:
            self.held.append(route)
            return
        self._answer(route)

    def _answer(self, route):
        split = urlsplit(route.request.url)
        path = split.path
        multi = parse_qs(split.query)
        query = {k: v[-1] for k, v in multi.items()}
        for pattern, spec in self.overrides:
            if pattern.search(path):
                if spec["abort"]:
                    route.abort("connectionrefused")
                    return
                if spec["handler"]:
                    status, body = spec["handler"](path, query)
                    route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
                    return
                if spec["raw"] is not None:
                    route.fulfill(status=spec["status"], content_type="text/html", body=spec["raw"])
                    return
                route.fulfill(status=spec["status"], content_type="application/json",
                              body=json.dumps(spec["body"]))
                return
        if self.mode == "empty":
            status, body = sample_api.empty_answer(path)
        else:
            status, body = sample_api.answer(path, query, multi)
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


class Console:
    """Console errors and uncaught exceptions of a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.warnings: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(msg.text)
        elif msg.type == "warning":
            self.warnings.append(msg.text)


@pytest.fixture
def context(browser, static_server):
    context = browser.new_context(viewport=VIEWPORT, base_url=static_server.url,
                                  locale="en-US", timezone_id="UTC")
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    page.close()


@pytest.fixture
def console(page):
    return Console(page)


@pytest.fixture
def api(page):
    return ApiStub(page)


def wait_ready(page) -> str:
    """Waits until every section of the page has finished; returns the page state."""
    page.wait_for_function(
        "() => ['ready', 'error'].includes(document.getElementById('page').dataset.pageState)"
        " && document.getElementById('page').dataset.pageReady")
    return page.eval_on_selector("#page", "el => el.dataset.pageState")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
