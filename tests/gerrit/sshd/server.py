"""A real OpenSSH server on 127.0.0.1 for the listener tests.

Runs as the current user on a free port, with its own host key,
authorized_keys and sshd_config in a temporary directory; every login runs
``play_events.py`` (ForceCommand), which plays recorded events. Install
sshd with ``tools/sshd-deps.sh``.
"""
from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

PLAYER = Path(__file__).resolve().parent / "play_events.py"


def find_sshd() -> str:
    sshd = shutil.which("sshd") or shutil.which("sshd", path="/usr/sbin:/usr/local/sbin")
    if sshd is None:
        raise RuntimeError("OpenSSH server (sshd) is not installed: run tools/sshd-deps.sh")
    return sshd


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)],
                   check=True)
    return path.with_suffix(".pub").read_text().strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SshServer:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.control = root / "control"
        self.control.mkdir()
        self.host_public = keygen(root / "host_key")
        self.client_key = root / "client_key"
        client_public = keygen(self.client_key)
        (root / "authorized_keys").write_text(client_public + "\n")
        os.chmod(root / "authorized_keys", 0o600)
        self.port = free_port()
        self.user = getpass.getuser()
        self.log = root / "sshd.log"
        force = f"{sys.executable} {PLAYER} {self.control}"
        (root / "sshd_config").write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {root / 'host_key'}",
            f"PidFile {root / 'sshd.pid'}", f"AuthorizedKeysFile {root / 'authorized_keys'}",
            "StrictModes no", "UsePAM no", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password", f"AllowUsers {self.user}",
            "AllowTcpForwarding no", "X11Forwarding no", "PrintMotd no", "MaxStartups 100",
            "LogLevel VERBOSE", f"ForceCommand {force}", ""]))
        self.process: subprocess.Popen | None = None

    def start(self) -> "SshServer":
        sshd = find_sshd()
        config = str(self.root / "sshd_config")
        check = subprocess.run([sshd, "-t", "-f", config], capture_output=True, text=True)
        missing = re.search(r"Missing privilege separation directory: (\S+)", check.stderr)
        if missing and os.geteuid() == 0:
            # what the distribution's service unit does before starting sshd as root
            os.makedirs(missing.group(1), mode=0o755, exist_ok=True)
            check = subprocess.run([sshd, "-t", "-f", config], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"sshd rejects the test config: {check.stderr.strip()}")
        self.process = subprocess.Popen([sshd, "-D", "-e", "-f", config],
                                        stdout=subprocess.DEVNULL,
                                        stderr=open(self.log, "wb"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def known_hosts(self, path: Path, public_key: str | None = None) -> Path:
        key = " ".join((public_key or self.host_public).split()[:2])
        path.write_text(f"[127.0.0.1]:{self.port} {key}\n")
        return path

    def play(self, lines: list[str | bytes], sessions: list[dict]) -> None:
        data = b"".join((l.encode() if isinstance(l, str) else l) + b"\n" for l in lines)
        (self.control / "events.jsonl").write_bytes(data)
        (self.control / "plan.json").write_text(json.dumps({"sessions": sessions}))

    def sessions(self) -> list[str]:
        return sorted(p.read_text() for p in self.control.glob("session-*"))
