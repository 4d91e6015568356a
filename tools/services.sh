#!/usr/bin/env bash
# Make sure the PostgreSQL and MariaDB servers the tests use are up.
set -euo pipefail
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
if ! mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
up=""
for _ in $(seq 1 30); do
  if pg_isready -h 127.0.0.1 -p 5432 -q && mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 1
done
if [ -z "$up" ]; then
  echo "services.sh: PostgreSQL or MariaDB did not come up on 127.0.0.1" >&2
  exit 1
fi
# the streaming replica of 5432 on 5433, for the read-replica tests
bash "$(dirname "$0")/standby.sh"
