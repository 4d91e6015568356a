"""``ci-health gerrit listen`` stops cleanly on SIGTERM (systemd, ``docker stop``)
and on SIGINT, also where SIGINT was ignored when it started (a shell starts its
background jobs so): the batch in hand is stored, the summary printed, exit 0.
Against the real OpenSSH server of tests/gerrit/sshd/."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from sshd.helpers import T0, comment_event, created_event, line
from test_listener import report, server, settings_for, sshd  # noqa: F401
from test_listener_metrics import _free_port, _scrape


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("signum, preexec, change", [
    (signal.SIGTERM, None, 91),
    (signal.SIGINT, _ignore_sigint, 92),  # as `ci-health gerrit listen &` from a script
], ids=["sigterm", "sigint-ignored-at-start"])
def test_listen_stops_on_a_signal(server, tmp_path, migrated_urls, signum,  # noqa: F811
                                  preexec, change):
    # a change of its own: the database is shared with the session's other tests
    lines = [line(created_event(change)), line(comment_event(change, 1, report(1), T0 + 60))]
    server.play(lines, [{"then": "hold"}])
    settings = settings_for(server, tmp_path)
    port = _free_port()
    env = {**os.environ, "CI_HEALTH_CONFIG": "", "CI_HEALTH_DB": migrated_urls("sqlite"),
           "CI_HEALTH_GERRIT_HOST": settings.host, "CI_HEALTH_GERRIT_PORT": str(settings.port),
           "CI_HEALTH_GERRIT_USER": settings.user, "CI_HEALTH_GERRIT_KEY_FILE": settings.key_file,
           "CI_HEALTH_GERRIT_KNOWN_HOSTS": settings.known_hosts,
           "CI_HEALTH_GERRIT_JOURNAL": settings.journal,
           "CI_HEALTH_GERRIT_CI_SYSTEMS": str(tmp_path / "none.yaml"),
           "CI_HEALTH_GERRIT_METRICS_PORT": str(port), "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "health_api.cli", "gerrit", "listen"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=preexec)
    try:
        deadline, seen = time.monotonic() + 30, {}
        while time.monotonic() < deadline and seen.get("ci_health_gerrit_events_total") != 2:
            time.sleep(0.2)
            assert proc.poll() is None, proc.stderr.read()
            try:
                seen = _scrape(port)
            except OSError:
                continue
        assert seen.get("ci_health_gerrit_events_total") == 2, seen
        proc.send_signal(signum)
        start = time.monotonic()
        out, err = proc.communicate(timeout=10)
        stopped_in = time.monotonic() - start
    except BaseException:
        proc.send_signal(signal.SIGABRT)  # every thread's stack on stderr
        out, err = proc.communicate(timeout=30)
        raise AssertionError(err.decode(errors="replace")[-8000:]) from None
    assert proc.returncode == 0, err.decode()
    assert stopped_in < 5  # the read loop looks at the stop flag every 0.3 s
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["connects"] == 1
    assert summary["lines"] == 2
    assert summary["job_results"] == 2
    assert "Traceback" not in err.decode()
