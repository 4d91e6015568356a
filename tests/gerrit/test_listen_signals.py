"""``ci-health gerrit listen`` stops cleanly on SIGTERM (systemd, ``docker stop``)
and on SIGINT, also where SIGINT was ignored when it started (a shell starts its
background jobs so): the batch in hand is stored, the summary printed, exit 0.
Against the real OpenSSH server of tests/gerrit/sshd/."""
from __future__ import annotations

import json
import signal
import time

import pytest

from sshd.helpers import T0, comment_event, created_event, line
from test_listener import report, server, sshd  # noqa: F401
from test_listener_metrics import stack_dump, start_listen, wait_for_events


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
    proc, port = start_listen(server, tmp_path, migrated_urls("sqlite"), preexec)
    try:
        wait_for_events(proc, port, 2)
        proc.send_signal(signum)
        start = time.monotonic()
        out, err = proc.communicate(timeout=10)
        stopped_in = time.monotonic() - start
    except BaseException:
        raise AssertionError(stack_dump(proc)) from None
    assert proc.returncode == 0, err.decode()
    assert stopped_in < 5  # the read loop looks at the stop flag every 0.3 s
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["connects"] == 1
    assert summary["lines"] == 2
    assert summary["job_results"] == 2
    assert "Traceback" not in err.decode()
