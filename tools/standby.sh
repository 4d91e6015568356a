#!/usr/bin/env bash
# A PostgreSQL streaming replica of the 127.0.0.1:5432 server, on port 5433,
# for the read-replica tests ([database] read_url). Idempotent: does nothing
# when the standby answers already. `standby.sh remove` takes it away.
#
# pg_basebackup copies the primary into a second cluster (a sibling of the
# primary's data directory, owned by the postgres user) and writes its
# standby.signal and primary_conninfo (-R); the physical replication slot
# "ci_health_standby" keeps the WAL it has not replayed yet, and
# max_slot_wal_keep_size caps what a stopped standby may hold back.
set -euo pipefail
PORT="${CI_HEALTH_STANDBY_PORT:-5433}"
SLOT=ci_health_standby
psql_primary() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc "$1"; }

if [ "${1:-}" != remove ] && pg_isready -h 127.0.0.1 -p "$PORT" -q 2>/dev/null; then
  exit 0
fi
PRIMARY_DATA="$(psql_primary 'SHOW data_directory')"
HBA="$(psql_primary 'SHOW hba_file')"
STANDBY_DATA="${CI_HEALTH_STANDBY_DIR:-$(dirname "$PRIMARY_DATA")/ci-health-standby}"
# the primary's own server binaries (same major version: a standby must match)
BIN="$(dirname "$(readlink -f "/proc/$(head -n 1 "$PRIMARY_DATA/postmaster.pid")/exe")")"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# "remove": stop the standby, drop its slot and its copy (before benchmarks on
# big stores: it replays every write on the same cores and copies every
# database at its base backup); tools/services.sh makes it again
if [ "${1:-}" = "remove" ]; then
  if [ -f "$STANDBY_DATA/postmaster.pid" ]; then
    as_postgres "$BIN/pg_ctl" -D "$STANDBY_DATA" -w -t 120 stop -m fast >/dev/null
  fi
  psql_primary "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                WHERE slot_name = '$SLOT'" >/dev/null
  rm -rf "$STANDBY_DATA"
  exit 0
fi

# replication connections from 127.0.0.1 (the "all" database entry does not cover them)
if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$HBA"; then
  echo "host replication all 127.0.0.1/32 trust" >> "$HBA"
  psql_primary "SELECT pg_reload_conf()" >/dev/null
fi
if [ "$(psql_primary 'SHOW max_slot_wal_keep_size')" = "-1" ]; then
  psql_primary "ALTER SYSTEM SET max_slot_wal_keep_size = '4GB'" >/dev/null
  psql_primary "SELECT pg_reload_conf()" >/dev/null
fi
if [ -z "$(psql_primary "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$SLOT'")" ]; then
  psql_primary "SELECT pg_create_physical_replication_slot('$SLOT')" >/dev/null
fi
if [ ! -f "$STANDBY_DATA/standby.signal" ]; then
  rm -rf "$STANDBY_DATA"
  mkdir -p "$STANDBY_DATA"
  chown postgres:postgres "$STANDBY_DATA" 2>/dev/null || true
  chmod 700 "$STANDBY_DATA"
  as_postgres pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D "$STANDBY_DATA" \
    -R -S "$SLOT" -X stream --checkpoint=fast
fi
# The primary's postgresql.conf and pg_hba.conf live outside its data
# directory (Debian), so the copy has neither: the standby's own.
if [ ! -f "$STANDBY_DATA/postgresql.conf" ]; then
  cat > "$STANDBY_DATA/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/tmp'
hot_standby = on
# queries on the standby hold back cleanup on the primary rather than being
# cancelled by it
hot_standby_feedback = on
max_connections = 100
shared_buffers = 64MB
CONF
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$STANDBY_DATA/pg_hba.conf"
  chown postgres:postgres "$STANDBY_DATA/postgresql.conf" "$STANDBY_DATA/pg_hba.conf" 2>/dev/null || true
fi
as_postgres "$BIN/pg_ctl" -D "$STANDBY_DATA" -l "$STANDBY_DATA/standby.log" -w -t 120 start >/dev/null
pg_isready -h 127.0.0.1 -p "$PORT" -q -t 60
