"""Browser fixtures: Debian's chromium driven by Playwright (sync API), against
the REAL dashboard: `ci-health serve` on a SQLite database of demo data.

Per session (per xdist worker):

- `live_server`: a tmp SQLite database (`ci-health db upgrade`, `ci-health
  demo-data --days 7 --jobs 6 --runs-per-day 4 --seed 3 --end <this hour>`)
  plus one run ingested with hostile names (HOSTILE_JOB as its build_name, a
  test id holding HOSTILE_TEST_PART), served by `ci-health serve --workers 1`
  on a free port;
- `stale_server` (on first use): a tiny database whose newest run is from
  STALE_END, for the stale-data banner.

One browser per session, one context per test. `api` (ApiStub) intercepts
/api/v1/ only where a real server cannot produce the case (500, a non-JSON
502, a network failure, a slow answer): everything else it passes through to
the real server.

Needs: `pip install playwright` (test-requirements), /usr/bin/chromium and
frontend/node_modules (tools/browser-deps.sh installs both). When one is
missing the browser tests are skipped with the reason, unless
CI_HEALTH_BROWSER_REQUIRED=1, which turns that into a failure (CI sets it).
"""
from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("CI_HEALTH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
VIEWPORT = {"width": 1360, "height": 900}

HOSTILE_JOB = "<script>alert(1)</script>"
HOSTILE_TEST_PART = '"><img src=x onerror=alert(1)>'
HOSTILE_TEST = f"hostile.{HOSTILE_TEST_PART}.HostileTest.test_escape"
STALE_END = "2020-01-01T00:00:00Z"
#: a CI system whose display name and job name are markup (replayed as Gerrit events)
HOSTILE_CI = "hostile-ci"
HOSTILE_CI_NAME = "<b>Evil</b> CI <script>alert(2)</script>"
HOSTILE_CI_JOB = '"><img/src=x/onerror=alert(3)>'
HOSTILE_CI_PROJECT = "openstack/nova"
DEMO_CI_SYSTEMS = Path(__file__).resolve().parents[2] / "etc" / "ci-systems.demo.yaml"
DEMO = ["--days", "7", "--jobs", "6", "--runs-per-day", "4", "--seed", "3"]


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


def _skip_or_fail(message: str):
    if os.environ.get("CI_HEALTH_BROWSER_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    missing = _missing()
    if missing:
        _skip_or_fail("browser tests need " + ", ".join(missing) + ": run tools/browser-deps.sh")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# ------------------------------------------------------------------ the real server

def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("ci-health")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "health_api.cli"]


def _run(*args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run([*_cli(), *args], input=stdin, capture_output=True, timeout=300, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"ci-health {' '.join(args[:2])} failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace')[-2000:]}")
    return proc.stdout.decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hostile_stream(start: dt.datetime) -> bytes:
    """A tiny subunit v2 stream: one passing test and the hostile test failing."""
    import subunit
    out = io.BytesIO()
    writer = subunit.StreamResultToBytes(out)
    now = start
    for test_id, status in (("hostile.SafeTest.test_ok", "success"), (HOSTILE_TEST, "fail")):
        writer.status(test_id=test_id, test_status="inprogress", timestamp=now)
        now += dt.timedelta(seconds=2)
        if status == "fail":
            writer.status(test_id=test_id, file_name="traceback", mime_type="text/plain;charset=utf8",
                          file_bytes=f"Traceback: {HOSTILE_TEST_PART} {HOSTILE_JOB}".encode(),
                          eof=True, timestamp=now)
        writer.status(test_id=test_id, test_status=status, timestamp=now)
    return out.getvalue()


def hostile_ci_events(at: dt.datetime) -> str:
    """A patch set and a Zuul-style report on it by HOSTILE_CI, as journal lines."""
    change = {"project": HOSTILE_CI_PROJECT, "branch": "master", "id": "I" + "e" * 40,
              "number": 999999, "subject": "<i>hostile</i> change", "status": "NEW",
              "owner": {"name": "Ada", "username": "ada"}}
    ps = {"number": 1, "revision": "f" * 40, "ref": "refs/changes/99/999999/1",
          "createdOn": int(at.timestamp()), "uploader": {"name": "Ada", "username": "ada"},
          "kind": "REWORK"}
    author = {"name": HOSTILE_CI_NAME, "username": HOSTILE_CI, "email": "hostile@example.org"}
    comment = ("Patch Set 1: Verified-1\n\nBuild failed (check pipeline).\n\n"
               f"- {HOSTILE_CI_JOB} https://logs.example.org/hostile/1 : FAILURE in 1m 02s")
    events = [
        {"type": "patchset-created", "change": change, "patchSet": ps, "uploader": change["owner"],
         "eventCreatedOn": int(at.timestamp())},
        {"type": "comment-added", "change": change, "patchSet": ps, "author": author,
         "comment": comment, "approvals": [{"type": "Verified", "value": "-1"}],
         "eventCreatedOn": int(at.timestamp()) + 600},
    ]
    return "".join(json.dumps(e) + "\n" for e in events)


class LiveServer:
    """`ci-health serve` on a database, in a subprocess; `get(path)` reads its API."""

    def __init__(self, db_url: str, log: Path, **info):
        self.db_url = db_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = None
        self.__dict__.update(info)

    def start(self, timeout: float = 60.0) -> "LiveServer":
        for _attempt in range(3):
            self.logfile = open(self.log, "wb")
            self.proc = subprocess.Popen(
                [*_cli(), "serve", "--db", self.db_url, "--port", str(self.port),
                 "--workers", "1"],
                stdout=self.logfile, stderr=subprocess.STDOUT, cwd=ROOT,
                env={**os.environ, "CI_HEALTH_GERRIT_CI_SYSTEMS": str(DEMO_CI_SYSTEMS)})
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(self.url + "/api/v1/status", timeout=2) as r:
                        if r.status == 200:
                            return self
                except (OSError, http.client.HTTPException):
                    # not up yet, or another test's server took the port first
                    time.sleep(0.2)
            else:
                break
            self.logfile.close()
            if "Address already in use" not in self.log.read_text():
                raise RuntimeError(f"ci-health serve exited: {self.log.read_text()[-2000:]}")
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        self.stop()
        raise RuntimeError(f"ci-health serve did not answer in {timeout:.0f}s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "logfile", None):
            self.logfile.close()

    def get(self, path: str):
        """The JSON of an API path (or a full URL of this server)."""
        url = path if path.startswith("http") else self.url + path
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return json.load(r)
        except urllib.error.HTTPError as exc:
            return json.load(exc)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    if _missing():
        _skip_or_fail("browser tests need " + ", ".join(_missing()))
    tmp = tmp_path_factory.mktemp("live")
    db = f"sqlite:///{tmp / 'demo.db'}"
    end = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    _run("db", "upgrade", "--db", db)
    _run("demo-data", "--db", db, *DEMO, "--end", end.strftime("%Y-%m-%dT%H:%M:%SZ"), "--quiet")
    hostile_at = end  # the newest run: first in the runs list and the recent failures
    out = _run("ingest", "subunit", "--db", db, "--run-meta", f"build_name={HOSTILE_JOB}",
               "--artifacts", "javascript:alert(1)", "--store-attachments", "--json", "-",
               stdin=hostile_stream(hostile_at))
    hostile_run = json.loads(out.strip().splitlines()[-1])
    journal = tmp / "hostile-ci.jsonl"
    journal.write_text(hostile_ci_events(end - dt.timedelta(hours=3)), encoding="utf-8")
    _run("gerrit", "replay", "--db", db, str(journal))
    server = LiveServer(db, tmp / "serve.log", end=end, hostile_run=hostile_run).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stale_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stale")
    db = f"sqlite:///{tmp / 'stale.db'}"
    _run("db", "upgrade", "--db", db)
    _run("demo-data", "--db", db, "--days", "1", "--jobs", "1", "--runs-per-day", "2", "--seed", "1",
         "--end", STALE_END, "--quiet")
    # a run without build_name: the job views show it as "(no job name)"
    _run("ingest", "subunit", "--db", db, "-",
         stdin=hostile_stream(dt.datetime.fromisoformat(STALE_END.replace("Z", "+00:00"))
                              - dt.timedelta(hours=2)))
    server = LiveServer(db, tmp / "serve.log").start()
    yield server
    server.stop()


# ------------------------------------------------------------------ pages

class ApiStub:
    """Intercepts the page's /api/v1/ calls.

    By default every call goes on to the real server (`calls` records each
    (path, query) asked for). `on(pattern, body, status)` answers the paths
    matching the regex instead (latest override first): for what a real
    server cannot be made to do. `hold_all` keeps the calls until
    `release()`.
    """

    def __init__(self, page):
        self.overrides: list[tuple[re.Pattern, dict]] = []
        self.calls: list[tuple[str, dict]] = []
        self.held: list = []
        self.hold_all = False
        page.route(re.compile(r".*/api/v1/.*"), self._handle)

    def on(self, pattern: str, body=None, status: int = 200, *, raw: str | None = None,
           abort: bool = False) -> "ApiStub":
        self.overrides.insert(0, (re.compile(pattern), {
            "body": body, "status": status, "raw": raw, "abort": abort}))
        return self

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def release(self) -> None:
        self.hold_all = False
        held, self.held = self.held, []
        for route in held:
            self._answer(route)

    def _handle(self, route):
        split = urlsplit(route.request.url)
        self.calls.append((split.path, {k: v[-1] for k, v in parse_qs(split.query).items()}))
        if self.hold_all:
            self.held.append(route)
            return
        self._answer(route)

    def _answer(self, route):
        path = urlsplit(route.request.url).path
        for pattern, spec in self.overrides:
            if pattern.search(path):
                if spec["abort"]:
                    route.abort("connectionrefused")
                elif spec["raw"] is not None:
                    route.fulfill(status=spec["status"], content_type="text/html", body=spec["raw"])
                else:
                    route.fulfill(status=spec["status"], content_type="application/json",
                                  body=json.dumps(spec["body"]))
                return
        route.continue_()


class Console:
    """Console errors, uncaught exceptions and dialogs (alert ...) of a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, msg):
        if msg.type == "error":
            self.errors.append(msg.text)
        elif msg.type == "warning":
            self.warnings.append(msg.text)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


class Requests:
    """The /api/v1/ URLs a page requested, in order."""

    def __init__(self, page):
        self.urls: list[str] = []
        page.on("request", lambda r: "/api/v1/" in r.url and self.urls.append(r.url))

    def find(self, path_regex: str) -> list[str]:
        return [u for u in self.urls if re.search(path_regex, urlsplit(u).path)]

    def query(self, url: str) -> dict:
        return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def _new_page(browser, base_url):
    context = browser.new_context(viewport=VIEWPORT, base_url=base_url, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = _new_page(browser, live_server.url)
    yield page
    context.close()


@pytest.fixture
def stale_page(browser, stale_server):
    context, page = _new_page(browser, stale_server.url)
    yield page
    context.close()


@pytest.fixture
def console(page):
    return Console(page)


@pytest.fixture
def requests(page):
    return Requests(page)


@pytest.fixture
def api(page):
    return ApiStub(page)


def ready_mark(page) -> str | None:
    """The current view's data-page-ready, for wait_ready(after=...)."""
    return page.eval_on_selector("#page", "m => m.dataset.pageReady || null")


def wait_ready(page, name: str | None = None, after: str | None = None) -> str:
    """Waits until every section of the page has finished; returns the page
    state. After a click the previous view may still be on screen: `name`
    waits for that page, `after` (a ready_mark() taken before) for a new view."""
    page.wait_for_function(
        "([name, after]) => { const m = document.getElementById('page');"
        " return (!name || m.dataset.page === name) && ['ready', 'error'].includes(m.dataset.pageState)"
        " && m.dataset.pageReady && m.dataset.pageReady !== after; }", arg=[name, after])
    return page.eval_on_selector("#page", "el => el.dataset.pageState")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
