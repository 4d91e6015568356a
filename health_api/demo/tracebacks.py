"""Planted tracebacks of the demo history: one exception line per failure cause.

Variable parts ({uuid}, {ip}, {n}, {hex}) change with every failure, as real
ones do; a signature normaliser must mask them to find one cluster per cause.
They come from a hash of the failure, not from the generator's random stream,
so the planted history is the same as without tracebacks.
"""
from __future__ import annotations

import datetime as dt
import hashlib

FLAKY_ERRORS = (
    "tempest.lib.exceptions.TimeoutException: Request timed out: server {uuid} failed to "
    "reach ACTIVE status within {n} s, current status BUILD",
    "testtools.matchers._impl.MismatchError: 'in-use' != 'available': volume {uuid} stuck "
    "after {n} polls",
    "tempest.lib.exceptions.SSHTimeout: Connection to the {ip} via SSH timed out. "
    "User: cirros, Password: None",
    "tempest.lib.exceptions.NotFound: Object not found Details: {{'code': 404, 'message': "
    "'Port {uuid} could not be found.'}}",
    "AssertionError: floating IP {ip} still associated after {n} retries",
    "oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply to message "
    "ID {hex}",
)
BROKEN_ERRORS = (
    "tempest.lib.exceptions.BadRequest: Bad request Details: {{'code': 400, 'message': "
    "\"Invalid input for field/attribute flavorRef. Value: {n}\"}}",
    "KeyError: 'os-extended-volumes:volumes_attached'",
    "AssertionError: 'shelved_offloaded' != 'active' in /opt/stack/nova/nova/compute/"
    "manager.py line {n}",
)
INFRA_ERROR = (
    "requests.exceptions.ConnectionError: HTTPConnectionPool(host='{ip}', port=8774): Max "
    "retries exceeded with url: /compute/v2.1/servers/{uuid} (Caused by NewConnectionError("
    "'<urllib3.connection.HTTPConnection object at 0x{hex12}>: Failed to establish a new "
    "connection: [Errno 111] Connection refused'))")
NOISE_ERROR = "testtools.matchers._impl.MismatchError: 'ACTIVE' != 'ERROR'"


def record_causes(truth) -> None:
    """Every planted failure cause and its exception line, into the truth."""
    for n, flaky in enumerate(truth.flaky_tests):
        truth.failure_causes.append({"kind": "flaky", "tests": [flaky["test_id"]],
                                     "error": FLAKY_ERRORS[n % len(FLAKY_ERRORS)]})
    for n, broken in enumerate(truth.broken_tests):
        truth.failure_causes.append({"kind": "broken", "tests": [broken["test_id"]],
                                     "error": BROKEN_ERRORS[n % len(BROKEN_ERRORS)]})
    truth.failure_causes.append({"kind": "infra", "tests": [], "error": INFRA_ERROR,
                                 "node_provider": truth.bad_provider.get("node_provider")})
    truth.failure_causes.append({"kind": "noise", "tests": [], "error": NOISE_ERROR})


def cause_templates(truth) -> dict[tuple[str, str], str]:
    """(kind, test id or "") -> exception line template."""
    out = {("noise", ""): NOISE_ERROR, ("infra", ""): INFRA_ERROR}
    for cause in truth.failure_causes:
        for test_id in cause["tests"]:
            out[(cause["kind"], test_id)] = cause["error"]
    return out


def traceback_text(template: str, test_id: str, index: int, at: dt.datetime) -> bytes:
    digest = hashlib.blake2b(f"{test_id}|{at.isoformat()}".encode(), digest_size=24).hexdigest()
    values = {"uuid": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-"
                      f"{digest[20:32]}",
              "hex": digest[:32], "hex12": digest[32:44],
              "ip": f"10.{int(digest[0:2], 16)}.{int(digest[2:4], 16)}.{int(digest[4:6], 16)}",
              "n": str(int(digest[6:10], 16) % 600 + 1)}
    module, _, method = test_id.rpartition(".")
    return (f"Traceback (most recent call last):\n  File \"{module}\", line {40 + index % 300}, "
            f"in {method}\n    self.assertEqual(expected, observed)\n"
            f"{template.format(**values)}\n").encode()
