"""Issue 16 observability: the Gerrit listener's connects, reconnects, events,
lag and backfills, in its own exporter (it is a process of its own), against
the real OpenSSH server of tests/gerrit/sshd/ on every engine."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from health_api.gerrit import metrics
from health_api.gerrit.listener import Listener
from health_api.gerrit.rest import RestClient
from health_api.gerrit.store import GerritStore
from sshd.gerrit_http import FakeGerritRest
from sshd.helpers import T0, comment_event, created_event, line, rest_change
from test_listener import report, run_until, server, settings_for, sshd  # noqa: F401

NAMES = ("ci_health_gerrit_connects_total", "ci_health_gerrit_reconnects_total",
         "ci_health_gerrit_connection_errors_total", "ci_health_gerrit_events_total",
         "ci_health_gerrit_job_results_total")


def _values() -> dict[str, float]:
    out = {name: metrics.REGISTRY.get_sample_value(name) or 0.0 for name in NAMES}
    out["backfills"] = metrics.REGISTRY.get_sample_value(
        "ci_health_gerrit_backfills_total", {"outcome": "done"}) or 0.0
    return out


def test_reconnects_events_and_lag_are_counted(server, tmp_path, engine):  # noqa: F811
    events = [created_event(7)] + [comment_event(7, 1, report(i), T0 + 60 * i)
                                   for i in range(1, 5)]
    lines = [line(e) for e in events]
    # session 1 drops after two lines, session 2 delivers the rest
    server.play(lines, [{"start": 0, "stop": 2, "then": "drop"}, {"start": 2, "then": "hold"}])
    before = _values()
    with FakeGerritRest([rest_change(7, [])]) as rest:
        listener = Listener(settings_for(server, tmp_path), GerritStore(engine),
                            rest=RestClient(rest.url))
        run_until(listener, lambda li: li.stats.connects == 2 and li.stats.lines == 5)
    delta = {name: value - before[name] for name, value in _values().items()}
    assert delta["ci_health_gerrit_connects_total"] == 2
    assert delta["ci_health_gerrit_reconnects_total"] == 1
    assert delta["ci_health_gerrit_connection_errors_total"] == 1
    assert delta["ci_health_gerrit_events_total"] == 5
    assert delta["ci_health_gerrit_job_results_total"] == 8  # 4 reports x 2 jobs
    assert delta["backfills"] == 1  # on reconnect (the first connect had nothing stored)
    # the newest event was created at T0 + 240: the lag is the time since then
    lag = metrics.REGISTRY.get_sample_value("ci_health_gerrit_event_lag_seconds")
    assert abs(lag - (time.time() - (T0 + 240))) < 60
    assert abs(metrics.REGISTRY.get_sample_value(
        "ci_health_gerrit_last_event_timestamp_seconds") - time.time()) < 60
    assert metrics.REGISTRY.get_sample_value("ci_health_gerrit_connected") == 0  # stopped


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {ln.split(" ")[0]: float(ln.split(" ")[1]) for ln in text.splitlines()
            if ln.startswith("ci_health_gerrit_")}


def start_listen(server, tmp_path, db_url, preexec_fn=None):
    """``ci-health gerrit listen`` against ``server``, its metrics on a free port:
    (the process, the port)."""
    settings = settings_for(server, tmp_path)
    port = _free_port()
    env = {**os.environ, "CI_HEALTH_CONFIG": "", "CI_HEALTH_DB": db_url,
           "CI_HEALTH_GERRIT_HOST": settings.host, "CI_HEALTH_GERRIT_PORT": str(settings.port),
           "CI_HEALTH_GERRIT_USER": settings.user, "CI_HEALTH_GERRIT_KEY_FILE": settings.key_file,
           "CI_HEALTH_GERRIT_KNOWN_HOSTS": settings.known_hosts,
           "CI_HEALTH_GERRIT_JOURNAL": settings.journal,
           "CI_HEALTH_GERRIT_CI_SYSTEMS": str(tmp_path / "none.yaml"),
           "CI_HEALTH_GERRIT_METRICS_PORT": str(port),
           # a listener that does not stop is sent SIGABRT: every thread's stack on stderr
           "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "health_api.cli", "gerrit", "listen"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=preexec_fn)
    return proc, port


def wait_for_events(proc, port: int, events: int) -> dict[str, float]:
    """The listener's metrics once it has counted ``events`` events (at most 30 s)."""
    deadline, seen = time.monotonic() + 30, {}
    while time.monotonic() < deadline and seen.get("ci_health_gerrit_events_total") != events:
        time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read()
        try:
            seen = _scrape(port)
        except OSError:
            continue
    assert seen.get("ci_health_gerrit_events_total") == events, seen
    return seen


def stack_dump(proc) -> str:
    """SIGABRT to a listener that hangs: where its threads were (PYTHONFAULTHANDLER)."""
    proc.send_signal(signal.SIGABRT)
    _out, err = proc.communicate(timeout=30)
    return err.decode(errors="replace")[-8000:]


def test_listen_command_serves_its_metrics(server, tmp_path, db_url):  # noqa: F811
    lines = [line(created_event(8)), line(comment_event(8, 1, report(1), T0 + 60))]
    server.play(lines, [{"then": "hold"}])
    proc, port = start_listen(server, tmp_path, db_url)
    try:
        seen = wait_for_events(proc, port, 2)
        assert seen["ci_health_gerrit_connected"] == 1
        assert seen["ci_health_gerrit_connects_total"] == 1
        assert seen["ci_health_gerrit_job_results_total"] == 2
        assert seen["ci_health_gerrit_event_lag_seconds"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("the listener did not stop within 30 s of SIGINT; where its "
                                 "threads were:\n" + stack_dump(proc)) from None


def test_a_taken_metrics_port_is_one_line(server, tmp_path, db_url):  # noqa: F811
    settings = settings_for(server, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**os.environ, "CI_HEALTH_CONFIG": "", "CI_HEALTH_DB": db_url,
               "CI_HEALTH_GERRIT_HOST": settings.host, "CI_HEALTH_GERRIT_USER": settings.user,
               "CI_HEALTH_GERRIT_CI_SYSTEMS": str(tmp_path / "none.yaml"),
               "CI_HEALTH_GERRIT_METRICS_PORT": str(taken.getsockname()[1])}
        done = subprocess.run([sys.executable, "-m", "health_api.cli", "gerrit", "listen"],
                              env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "metrics_port" in lines[0], lines
