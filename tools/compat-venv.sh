#!/usr/bin/env bash
# Create (idempotently) the isolated virtualenv the compat tests run the real
# subunit2sql from: tests/compat/ drives its executables (subunit2sql,
# subunit2sql-db-manage, sql2subunit) against databases ci-health also uses.
#
# subunit2sql is never a dependency of ci-health itself; it lives only here,
# pinned to a set that installs and works on Python 3.11:
#   subunit2sql 1.10.0 (alembic head 10a2b6d4b06e), oslo.db<12, sqlalchemy<1.4,
#   alembic<1.5, plus the psycopg2 and PyMySQL drivers.
#
# Compatibility is checked on SQLite and PostgreSQL only: on MariaDB 10.11
# subunit2sql's own migration 2822a408bdd0 fails ("Variable 'old_alter_table'
# can't be set"), so `subunit2sql-db-manage upgrade head` cannot build a
# subunit2sql database there.
#
# Usage: tools/compat-venv.sh [DIR]   (default: .compat-venv in the repo root)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${1:-"$REPO/.compat-venv"}
PYTHON=${PYTHON:-python3}
SUBUNIT2SQL_VERSION=1.10.0
PACKAGES=("subunit2sql==$SUBUNIT2SQL_VERSION" "oslo.db<12" "sqlalchemy<1.4" "alembic<1.5"
          psycopg2-binary pymysql)

installed_version() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" - <<'PY' 2>/dev/null
from importlib.metadata import version
print(version("subunit2sql"))
PY
}

if [ "$(installed_version || true)" = "$SUBUNIT2SQL_VERSION" ] \
        && [ -x "$VENV/bin/subunit2sql" ] && [ -x "$VENV/bin/subunit2sql-db-manage" ] \
        && [ -x "$VENV/bin/sql2subunit" ]; then
    echo "subunit2sql $SUBUNIT2SQL_VERSION already installed; not reinstalling" >&2
else
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}"
    got=$(installed_version || true)
    if [ "$got" != "$SUBUNIT2SQL_VERSION" ]; then
        echo "compat-venv: expected subunit2sql $SUBUNIT2SQL_VERSION in $VENV, found '${got:-none}'" >&2
        exit 1
    fi
fi
echo "compat venv: $(cd "$VENV" && pwd)"
