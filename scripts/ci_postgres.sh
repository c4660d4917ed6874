#!/usr/bin/env bash
# Install (Debian package) and start a private, loopback-only PostgreSQL server for the test suite.
#
#   eval "$(scripts/ci_postgres.sh)"      # exports ORECHAIN_TEST_PG_URL=postgresql+psycopg://...
#   scripts/ci_postgres.sh stop           # stop the server (the data folder stays for the next start)
#   scripts/ci_postgres.sh purge          # stop it and delete its data folder
#
# It is idempotent: a server already running from an earlier call is reused. Everything it says goes to
# stderr; stdout carries only the export line. As root it installs the `postgresql` package when no server
# binaries are present (apt-get update; apt-get install -y postgresql) and runs the server as the `postgres`
# user; as another user it needs the binaries installed and runs the server as that user.
#
# Settings (environment): ORECHAIN_PG_PORT (default 54329), ORECHAIN_PG_DIR (default /var/tmp/orechain-pg).
# The server listens on 127.0.0.1 only; the role `orechain` (password in $ORECHAIN_PG_DIR/password, made
# once at random) may create databases, which the tests do (one throwaway database per test).
set -euo pipefail

PORT=${ORECHAIN_PG_PORT:-54329}
BASE=${ORECHAIN_PG_DIR:-/var/tmp/orechain-pg}
DATA=$BASE/data
ROLE=orechain
DBNAME=orechain_test

log() { echo "ci_postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

BIN=$(find_bin || true)
if [ -z "$BIN" ] || [ ! -x "$BIN/pg_ctl" ]; then
  [ "$(id -u)" = 0 ] || die "PostgreSQL server binaries are missing; install the Debian package postgresql (as root)"
  log "installing the Debian package postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  BIN=$(find_bin)
  [ -x "$BIN/pg_ctl" ] || die "apt-get installed postgresql but no pg_ctl was found under /usr/lib/postgresql"
fi

if [ "$(id -u)" = 0 ]; then
  RUN_AS=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  RUN_AS=$(id -un)
  as_owner() { "$@"; }
fi

case "${1:-start}" in
  stop)
    if [ -f "$DATA/PG_VERSION" ]; then as_owner "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true; fi
    exit 0 ;;
  purge)
    if [ -f "$DATA/PG_VERSION" ]; then as_owner "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true; fi
    rm -rf "$BASE"
    exit 0 ;;
  start) ;;
  *) die "unknown action ${1}; use start, stop or purge" ;;
esac

mkdir -p "$BASE"
chmod 755 "$BASE"
if [ ! -s "$BASE/password" ]; then
  (umask 077; head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$BASE/password")
fi
PASSWORD=$(cat "$BASE/password")

if [ ! -f "$DATA/PG_VERSION" ]; then
  log "initdb in $DATA ($($BIN/postgres --version))"
  mkdir -p "$DATA"
  chown "$RUN_AS" "$DATA"
  chmod 700 "$DATA"
  as_owner "$BIN/initdb" -D "$DATA" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    -U postgres >&2
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PORT"
    echo "unix_socket_directories = '$DATA'"
    echo "max_connections = 200"
  } >> "$DATA/postgresql.conf"
fi

if as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "server already running on 127.0.0.1:$PORT"
else
  log "starting the server on 127.0.0.1:$PORT"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >&2 \
    || { tail -n 20 "$DATA/server.log" >&2 || true; die "the server did not start (log above)"; }
fi

psql_admin() { as_owner "$BIN/psql" -h "$DATA" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
else
  psql_admin -c "ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE $DBNAME OWNER $ROLE" >&2
fi

URL="postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DBNAME"
echo "$URL" > "$BASE/url"
log "ready: ORECHAIN_TEST_PG_URL=postgresql+psycopg://$ROLE:***@127.0.0.1:$PORT/$DBNAME"
printf 'export ORECHAIN_TEST_PG_URL=%q\n' "$URL"
