"""The SSH listener against a real OpenSSH server (tests/gerrit/sshd/) on every engine."""
from __future__ import annotations

import json
import threading
import time

import pytest

from health_api.gerrit.listener import (ConnectError, HostKeyError, Listener,
                                        ListenerSettings)
from health_api.gerrit.rest import RestClient
from health_api.gerrit.store import GerritStore
from sshd.gerrit_http import FakeGerritRest
from sshd.helpers import (T0, comment_event, count, created_event, line, rest_change,
                          zuul_report)
from sshd.server import SshServer, keygen


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = SshServer(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


@pytest.fixture
def server(sshd, tmp_path):
    for old in sshd.control.glob("session-*"):
        old.unlink()
    return sshd


def settings_for(server: SshServer, tmp_path, **overrides) -> ListenerSettings:
    if "known_hosts" not in overrides:
        overrides["known_hosts"] = str(server.known_hosts(tmp_path / "known_hosts"))
    values = dict(host="127.0.0.1", port=server.port, user=server.user,
                  key_file=str(server.client_key),
                  journal=str(tmp_path / "journal.jsonl"), keepalive=5, connect_timeout=5,
                  backoff_initial=0.1, backoff_max=2.0, backfill_margin=60)
    values.update(overrides)
    return ListenerSettings(**values)


def run_until(listener: Listener, done, timeout: float = 20.0) -> None:
    """Run the listener in a thread until done(listener) or timeout, then stop it."""
    errors = []

    def target():
        try:
            listener.run()
        except Exception as exc:  # surfaced below
            errors.append(exc)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done(listener) and thread.is_alive():
        time.sleep(0.05)
    listener.stop.set()
    thread.join(10)
    assert not thread.is_alive(), "the listener did not stop"
    if errors:
        raise errors[0]
    assert done(listener), f"timed out: {listener.stats}, errors {listener.errors}"


def report(n: int, result: str = "SUCCESS") -> str:
    return zuul_report([(f"job-{n}", result), ("common", result)])


def test_a_normal_stream(server, tmp_path, engine):
    events = [created_event(1)] + [comment_event(1, 1, report(i), T0 + i) for i in range(1, 6)]
    lines = [line(e) for e in events]
    server.play(lines, [{"then": "hold"}])
    listener = Listener(settings_for(server, tmp_path), GerritStore(engine))
    run_until(listener, lambda li: li.stats.lines == len(lines))
    assert listener.stats.connects == 1 and listener.stats.store.comments == 5
    assert count(engine, "ci_comments") == 5 and count(engine, "ci_job_results") == 10
    journal = (tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert journal == lines
    assert server.sessions() == ["gerrit stream-events"]


def test_bad_lines_do_not_stop_the_listener(server, tmp_path, engine):
    huge = report(1) + "\n" + "Ω" * 1_048_576
    lines = [
        line(created_event(2)),
        line(comment_event(2, 1, report(1), T0 + 1)),
        "{this is not json",
        '{"type": "comment-added", "change": {"project": "openstack/nova", "numb',
        json.dumps({"type": "comment-added", "comment": "Build succeeded.", "eventCreatedOn": T0}),
        json.dumps({"type": "patchset-created", "change": {"number": 3}}),
        line(comment_event(2, 1, "Patch Set 1: Verified+1\n\nビルド成功 (check pipeline).\n\n"
                                 "- テスト https://l/1 : SUCCESS", T0 + 2)),
        line(comment_event(2, 1, "Patch Set 1:\n\nСборка упала, смотрите логи 💥", T0 + 3)),
        line(comment_event(2, 1, huge, T0 + 4)),
        "\x00\x01 binary junk \xff",
        line(comment_event(2, 1, report(9), T0 + 9)),
    ]
    server.play(lines, [{"then": "hold", "partial": '{"type": "comment-added", "cha'}])
    listener = Listener(settings_for(server, tmp_path), GerritStore(engine))
    run_until(listener, lambda li: li.stats.lines == len(lines))
    store = listener.stats.store
    assert store.malformed == 3 and store.skipped_missing == 2 and store.failed == 0
    assert store.comments == 5 and store.unparsed_comments == 1
    assert count(engine, "ci_comments") == 5
    with engine.connect() as conn:
        longest = conn.exec_driver_sql("SELECT MAX(LENGTH(raw_text)) FROM ci_comments").scalar()
        jobs = set(conn.exec_driver_sql("SELECT job FROM ci_job_results").scalars())
    assert longest >= 1_048_576 and {"テスト", "job-9"} <= jobs
    assert listener.stats.connects == 1


def test_dropped_connection_reconnects_and_backfills_the_gap(server, tmp_path, engine):
    comments = [(i, report(i, "FAILURE" if i == 3 else "SUCCESS"), T0 + 60 * i)
                for i in range(1, 7)]
    events = [created_event(5)] + [comment_event(5, 1, text, at) for _, text, at in comments]
    lines = [line(e) for e in events]
    # session 1: created + comments 1-2, then half of comment 3 and the connection drops;
    # session 2 starts at comment 5: comments 3 and 4 only reach us through REST.
    server.play(lines, [{"start": 0, "stop": 3, "partial": lines[3][:40], "then": "drop"},
                        {"start": 5, "then": "hold"}])
    rest_changes = [rest_change(5, [(f"msg-{i}", "zuul", 22348, at, 1, text)
                                    for i, text, at in comments]),
                    rest_change(6, [("msg-x", "zuul", 22348, T0 + 100, 1, report(0))],
                                project="openstack/neutron")]
    with FakeGerritRest(rest_changes) as rest:
        listener = Listener(settings_for(server, tmp_path), GerritStore(engine),
                            rest=RestClient(rest.url, page_size=1))
        run_until(listener, lambda li: li.stats.connects == 2 and li.stats.lines == 5)
    assert listener.stats.truncated == 1 and listener.stats.backfills == 1
    assert len(listener.delays) == 1 and listener.delays[0] < 1.0
    assert "closed the stream" in listener.errors[0]
    # every comment exactly once; the REST copy of a streamed comment adds its message id
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.message_id, c.posted_at FROM ci_comments c JOIN patch_sets p "
            "ON p.id = c.patch_set_id JOIN changes ch ON ch.id = p.change_id "
            "WHERE ch.number = 5 ORDER BY c.posted_at").all()
    assert len(rows) == 6
    assert [r[0] for r in rows] == [f"msg-{i}" for i in range(1, 7)]
    assert count(engine, "ci_comments") == 7  # + the other change REST returned
    assert count(engine, "ci_job_results") == 14
    assert len(rest.requests) == 2  # two pages (page size 1)
    assert "since:" in rest.requests[0]["query"]["q"][0]
    assert rest.requests[0]["query"]["o"] == ["MESSAGES", "DETAILED_ACCOUNTS", "ALL_REVISIONS"]


def test_a_stalled_peer_is_noticed_reconnected_and_backfilled(server, tmp_path, engine):
    """Issue 16 defect 9: a connection that stays open but carries nothing any
    more (half-open TCP) was not noticed for 60 s with keepalive 2."""
    from health_api.gerrit.listener import STALL_INTERVALS
    from sshd.proxy import StallingProxy
    comments = [(i, report(i), T0 + 60 * i) for i in range(1, 6)]
    events = [created_event(7)] + [comment_event(7, 1, text, at) for _, text, at in comments]
    lines = [line(e) for e in events]
    # session 1 streams created + comments 1-2 and holds; it is stalled, comment 3
    # happens meanwhile (REST only); session 2 streams comments 4-5
    server.play(lines, [{"start": 0, "stop": 3, "then": "hold", "hold": 120},
                        {"start": 4, "then": "hold"}])
    proxy = StallingProxy(server.port)
    keepalive = 1.0
    stalled_at = []

    def stall_once(li):
        if li.stats.lines == 3 and not stalled_at:
            assert proxy.stall() == 1
            stalled_at.append(time.monotonic())
    rest_changes = [rest_change(7, [(f"msg-{i}", "zuul", 22348, at, 1, text)
                                    for i, text, at in comments])]
    try:
        with FakeGerritRest(rest_changes) as rest:
            # known_hosts names the proxy's port, which the listener connects to
            known = server.known_hosts(tmp_path / "known_hosts")
            known.write_text(known.read_text().replace(f":{server.port} ", f":{proxy.port} "))
            listener = Listener(settings_for(server, tmp_path, port=proxy.port,
                                             known_hosts=str(known), keepalive=keepalive),
                                GerritStore(engine), rest=RestClient(rest.url),
                                on_batch=stall_once)
            run_until(listener, lambda li: li.stats.connects == 2 and li.stats.lines == 5,
                      timeout=30)
            noticed = time.monotonic() - stalled_at[0]
    finally:
        proxy.close()
    assert "stalled" in listener.errors[0], listener.errors
    # noticed within a few keepalive intervals (+ backoff, reconnect and slack)
    assert noticed < (1 + STALL_INTERVALS) * keepalive + 8, noticed
    assert listener.stats.backfills == 1  # after the reconnect: comment 3
    assert count(engine, "ci_comments") == 5 and count(engine, "ci_job_results") == 10


def test_dropped_output_triggers_a_backfill(server, tmp_path, databases):
    from health_api.db.migrate import upgrade
    from health_api.db.session import make_engine
    engine = make_engine(databases.new_url("sqlite"))
    upgrade(engine)
    lines = [line(created_event(8)), line(comment_event(8, 1, report(1), T0 + 10)),
             json.dumps({"type": "dropped-output", "eventCreatedOn": T0 + 20}),
             line(comment_event(8, 1, report(3), T0 + 30))]
    server.play(lines, [{"then": "hold"}])
    missed = rest_change(8, [("m2", "zuul", 1, T0 + 20, 1, report(2))])
    with FakeGerritRest([missed]) as rest:
        listener = Listener(settings_for(server, tmp_path), GerritStore(engine),
                            rest=RestClient(rest.url))
        run_until(listener, lambda li: li.stats.lines == 4)
    assert listener.stats.backfills == 1 and listener.stats.store.dropped_output == 1
    assert count(engine, "ci_comments") == 3
    engine.dispose()


def _run_expecting(listener: Listener, error_type):
    started = time.monotonic()
    with pytest.raises(error_type) as info:
        listener.run()
    return str(info.value), time.monotonic() - started


def test_a_changed_host_key_is_refused(server, tmp_path, engine):
    other = keygen(tmp_path / "other_host_key")
    known = server.known_hosts(tmp_path / "known_hosts", other)
    settings = settings_for(server, tmp_path, known_hosts=str(known))
    message, elapsed = _run_expecting(Listener(settings, GerritStore(engine)), HostKeyError)
    assert "changed" in message and "refusing to connect" in message and "\n" not in message
    assert elapsed < 5  # not retried
    assert server.sessions() == []


def test_an_unknown_host_key_is_refused_unless_configured(server, tmp_path, engine):
    known = tmp_path / "known_hosts"
    known.write_text("")
    settings = settings_for(server, tmp_path, known_hosts=str(known))
    message, _ = _run_expecting(Listener(settings, GerritStore(engine)), HostKeyError)
    assert "is not in" in message and "accept_unknown_host_key" in message
    missing = settings_for(server, tmp_path, known_hosts=str(tmp_path / "nope"))
    message, _ = _run_expecting(Listener(missing, GerritStore(engine)), HostKeyError)
    assert "does not exist" in message
    # trust on first use when explicitly configured: the key is then recorded
    server.play([line(created_event(4))], [{"then": "hold"}])
    trusting = settings_for(server, tmp_path, known_hosts=str(known),
                            accept_unknown_host_key=True)
    listener = Listener(trusting, GerritStore(engine))
    run_until(listener, lambda li: li.stats.lines == 1)
    assert server.host_public.split()[1] in known.read_text()


@pytest.mark.parametrize("problem", ["unauthorized key", "garbage key file"])
def test_auth_failures_back_off(server, tmp_path, engine, problem):
    if problem == "unauthorized key":
        key = tmp_path / "stranger"
        keygen(key)
    else:
        key = tmp_path / "garbage"
        key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n"
                       "-----END OPENSSH PRIVATE KEY-----\n")
    settings = settings_for(server, tmp_path, key_file=str(key), max_attempts=5,
                            backoff_initial=0.1)
    listener = Listener(settings, GerritStore(engine))
    message, elapsed = _run_expecting(listener, ConnectError)
    expected = "authentication" if problem == "unauthorized key" else "cannot read private key"
    assert expected in message and "\n" not in message
    assert len(listener.delays) == 4
    assert all(b > a for a, b in zip(listener.delays, listener.delays[1:])), listener.delays
    assert listener.delays[0] >= 0.1 and listener.delays[-1] >= 0.8
    assert elapsed >= sum(listener.delays)  # it really waited: no crash loop at full speed
    assert all(expected in e for e in listener.errors)
