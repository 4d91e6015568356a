#!/usr/bin/env bash
# Install OpenSSH's server for the Gerrit listener tests (tests/gerrit/test_listener.py
# run their own sshd as the current user on a free 127.0.0.1 port; no system
# service is started or configured).
set -euo pipefail
if [ -x /usr/sbin/sshd ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends openssh-server
# The package's postinst may start a system sshd on port 22; the tests do not need it.
