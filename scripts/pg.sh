#!/usr/bin/env bash
# Embedded PostgreSQL for development and tests: a private cluster under
# .data/postgres on a loopback port, run as the `postgres` system user when
# invoked as root (PostgreSQL refuses to run as root).
#
#   scripts/pg.sh start   # install if needed, init once, start, create roles and DBs, write .data/db.env
#   scripts/pg.sh stop
#   scripts/pg.sh status
#   scripts/pg.sh start-stats|stop-stats|status-stats
#                         # a second cluster just for the stats database (.data/postgres-stats,
#                         # port PG_STATS_PORT=54330), URL in .data/db-stats.env
#
# With DATABASE_URL set, `start` starts nothing: the given server is used as is.
#
# Roles (docs/operations.md#database-roles): the superuser `postgres` is used by this script
# only. It creates PG_ROLE_PREFIX (default taskhive) _owner, which owns the databases and
# runs migrations and provisioning; _app, the non-superuser role the web app, the workers
# and the tests log in as; and _stats_writer / _stats_reader for the usage-stats flusher
# and dashboards. Passwords are kept in .data/<role>.password (mode 600).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_ROOT="${PG_DATA_ROOT:-$ROOT/.data}"
PG_PORT="${PG_PORT:-54329}"
PG_DB="${PG_DB:-saas}"
ENV_FILE="$ROOT/.data/db.env"
PG_ROLE_PREFIX="${PG_ROLE_PREFIX:-taskhive}"
OWNER_ROLE="${PG_ROLE_PREFIX}_owner"
APP_ROLE="${PG_ROLE_PREFIX}_app"
STATS_WRITER_ROLE="${PG_ROLE_PREFIX}_stats_writer"
STATS_READER_ROLE="${PG_ROLE_PREFIX}_stats_reader"
# Which cluster this run manages: the main one, or the stats one (`*-stats` commands).
PG_CLUSTER=postgres

log() { echo "[pg] $*" >&2; }

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  done
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return 0
  fi
  return 1
}

ensure_binaries() {
  if BINDIR="$(find_bindir)"; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL server binaries not found. Install them (Debian: apt-get install postgresql) or set DATABASE_URL."
    exit 1
  fi
  log "installing PostgreSQL with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  BINDIR="$(find_bindir)"
}

# Run a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_owner() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id postgres >/dev/null 2>&1; then
    log "creating system user postgres"
    useradd --system --create-home --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
}

pick_data_dir() {
  mkdir -p "$DATA_ROOT"
  DATA="$DATA_ROOT/$PG_CLUSTER"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DATA_ROOT" 2>/dev/null || true
    # The postgres user must be able to reach the project folder; if a parent
    # directory is private (e.g. /root), keep the cluster in /var/tmp instead.
    if ! runuser -u postgres -- test -w "$DATA_ROOT"; then
      local alt="/var/tmp/saas-pg-$(echo "$ROOT" | md5sum | cut -c1-10)"
      log "postgres cannot reach $DATA_ROOT; using $alt"
      mkdir -p "$alt"; chown postgres: "$alt"
      DATA="$alt/$PG_CLUSTER"
    fi
  fi
  SOCKDIR="$(dirname "$DATA")/run"
  mkdir -p "$SOCKDIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$SOCKDIR" || true
  PWFILE="$ROOT/.data/postgres.password"
  LOGFILE="$(dirname "$DATA")/$PG_CLUSTER.log"
}

is_running() {
  [ -f "$DATA/PG_VERSION" ] && as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

cluster_databases() {
  if [ "$PG_CLUSTER" = postgres ]; then echo "$PG_DB ${PG_DB}_stats"; else echo "${PG_DB}_stats"; fi
}

psql_super() {
  PGPASSWORD="$(cat "$PWFILE")" psql -v ON_ERROR_STOP=1 -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

role_password() {
  local file="$ROOT/.data/$1.password"
  [ -f "$file" ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file")
  cat "$file"
}

# The roles, created or brought up to date (passwords from .data). The SQL is the same an
# operator runs on a managed PostgreSQL (docs/operations.md#database-roles).
ensure_roles() {
  local owner_pw app_pw
  owner_pw="$(role_password "$OWNER_ROLE")"
  app_pw="$(role_password "$APP_ROLE")"
  psql_super -d postgres <<SQL
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I', r) FROM unnest(ARRAY['$OWNER_ROLE', '$APP_ROLE', '$STATS_WRITER_ROLE', '$STATS_READER_ROLE']) AS r
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE "$OWNER_ROLE" LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD '$owner_pw';
ALTER ROLE "$APP_ROLE" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '$app_pw';
ALTER ROLE "$STATS_WRITER_ROLE" NOLOGIN;
ALTER ROLE "$STATS_READER_ROLE" NOLOGIN;
GRANT "$OWNER_ROLE", "$STATS_WRITER_ROLE", "$STATS_READER_ROLE" TO "$APP_ROLE";
GRANT pg_signal_backend, pg_read_all_stats TO "$OWNER_ROLE";
SQL
}

# A database created before the roles existed belongs to postgres: hand it and every object
# in it to the owner role (once; a no-op when the owner already owns it).
ensure_database_owner() {
  local db="$1"
  if [ "$(psql_super -d postgres -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$db'")" = "$OWNER_ROLE" ]; then
    return 0
  fi
  log "handing database $db to $OWNER_ROLE"
  psql_super -d postgres -c "ALTER DATABASE \"$db\" OWNER TO \"$OWNER_ROLE\""
  psql_super -d "$db" <<SQL
SELECT format('ALTER SCHEMA %I OWNER TO %I', nspname, '$OWNER_ROLE') FROM pg_namespace
WHERE nspowner = 'postgres'::regrole AND nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' \gexec
SELECT format('ALTER TABLE %s OWNER TO %I', c.oid::regclass, '$OWNER_ROLE') FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relowner = 'postgres'::regrole AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
                  AND d.classid = 'pg_class'::regclass AND d.refobjsubid > 0) \gexec
SQL
}

start() {
  if [ "$PG_CLUSTER" = postgres ] && [ -n "${DATABASE_URL:-}" ]; then
    log "DATABASE_URL is set; not starting the embedded cluster"
    return 0
  fi
  ensure_binaries
  ensure_owner
  pick_data_dir
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initialising cluster in $DATA"
    [ -f "$PWFILE" ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PWFILE")
    local tmp_pw
    tmp_pw="$(mktemp)"; cp "$PWFILE" "$tmp_pw"; chmod 644 "$tmp_pw"
    mkdir -p "$DATA"; [ "$(id -u)" -eq 0 ] && chown postgres: "$DATA"; chmod 700 "$DATA"
    as_owner "$BINDIR/initdb" -D "$DATA" -U postgres --pwfile="$tmp_pw" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$tmp_pw"
    cat >> "$DATA/postgresql.conf" <<CONF
# --- embedded cluster for development and tests (scripts/pg.sh) ---
listen_addresses = '127.0.0.1'
max_connections = 300
shared_buffers = 256MB
CONF
  fi
  if is_running; then
    log "already running on 127.0.0.1:$PG_PORT"
  else
    log "starting on 127.0.0.1:$PG_PORT"
    as_owner touch "$LOGFILE" 2>/dev/null || true
    as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
      -o "-p $PG_PORT -k $SOCKDIR" start >/dev/null
  fi
  ensure_roles
  local db
  for db in $(cluster_databases); do
    if [ "$(psql_super -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
      log "creating database $db"
      psql_super -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$OWNER_ROLE\""
    fi
    ensure_database_owner "$db"
  done
  local app_pw owner_pw
  app_pw="$(role_password "$APP_ROLE")"
  owner_pw="$(role_password "$OWNER_ROLE")"
  if [ "$PG_CLUSTER" != postgres ]; then
    cat > "$ROOT/.data/db-stats.env" <<ENV
# Written by scripts/pg.sh start-stats: the stats database on its own cluster.
STATS_DATABASE_URL=postgres://$APP_ROLE:$app_pw@127.0.0.1:$PG_PORT/${PG_DB}_stats
STATS_DATABASE_OWNER_URL=postgres://$OWNER_ROLE:$owner_pw@127.0.0.1:$PG_PORT/${PG_DB}_stats
ENV
    return 0
  fi
  cat > "$ENV_FILE" <<ENV
# Written by scripts/pg.sh for the embedded cluster. Real environment variables win.
# The app (web, workers, tests) logs in as $APP_ROLE, which is no superuser and owns nothing;
# it switches to $OWNER_ROLE (SET LOCAL ROLE) for migrations and provisioning only.
DATABASE_URL=postgres://$APP_ROLE:$app_pw@127.0.0.1:$PG_PORT/$PG_DB
STATS_DATABASE_URL=postgres://$APP_ROLE:$app_pw@127.0.0.1:$PG_PORT/${PG_DB}_stats
DB_OWNER_ROLE=$OWNER_ROLE
DB_STATS_WRITER_ROLE=$STATS_WRITER_ROLE
DB_STATS_READER_ROLE=$STATS_READER_ROLE
# For people and scripts (psql, pg_dump, test helpers); the app never reads it.
DATABASE_OWNER_URL=postgres://$OWNER_ROLE:$owner_pw@127.0.0.1:$PG_PORT/$PG_DB
ENV
}

stop() {
  BINDIR="$(find_bindir)" || { log "no PostgreSQL binaries; nothing to stop"; return 0; }
  pick_data_dir
  if is_running; then
    log "stopping"
    as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  else
    log "not running"
  fi
}

status() {
  BINDIR="$(find_bindir)" || { echo "not installed"; return 1; }
  pick_data_dir
  if is_running; then echo "running on 127.0.0.1:$PG_PORT ($DATA)"; else echo "stopped"; return 1; fi
}

case "${1:-}" in
  *-stats) PG_CLUSTER=postgres-stats; PG_PORT="${PG_STATS_PORT:-54330}" ;;
esac
case "${1:-}" in
  start|start-stats) start ;;
  stop|stop-stats) stop ;;
  status|status-stats) status ;;
  *) echo "usage: $0 start|stop|status|start-stats|stop-stats|status-stats" >&2; exit 2 ;;
esac
