#!/usr/bin/env bash
# A local Citus cluster for development and tests: a coordinator and two workers on loopback,
# data under .data/citus/, run as the `postgres` system user when invoked as root.
#
#   scripts/citus.sh install  # build and install Citus when citus.so is missing (as root)
#   scripts/citus.sh start    # install if needed, init once, start 3 nodes, register workers,
#                             # create the tenant and stats databases, write .data/citus.env
#   scripts/citus.sh stop
#   scripts/citus.sh status
#   scripts/citus.sh available  # exit 0 when Citus is installed or can be built here, else say why
#   scripts/citus.sh testdb NAME  # drop and re-create test databases NAME and NAME_stats on every node
#
# Environment:
#   CITUS_PORT          coordinator port on 127.0.0.1 (default 54350)
#   CITUS_WORKER_PORTS  the two workers' ports (default "CITUS_PORT+1 CITUS_PORT+2")
#   CITUS_SRC           Citus source tarball or directory (default ../shared/citus/citus-*.tar.gz
#                       beside the project root)
#   CITUS_DB            tenant database name (default saas; the stats one is <CITUS_DB>_stats)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_ROOT="${CITUS_DATA_ROOT:-$ROOT/.data/citus}"
CITUS_PORT="${CITUS_PORT:-54350}"
read -r -a WORKER_PORTS <<< "${CITUS_WORKER_PORTS:-$((CITUS_PORT + 1)) $((CITUS_PORT + 2))}"
CITUS_DB="${CITUS_DB:-saas}"
STATS_DB="${CITUS_DB}_stats"
PWFILE="$ROOT/.data/postgres.password"
ENV_FILE="$ROOT/.data/citus.env"
SHARED_DIR="$(cd "$ROOT/.." && pwd)/shared/citus"

log() { echo "[citus] $*" >&2; }

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  done
  return 1
}

pg_major() { basename "$(dirname "$BINDIR")"; }
citus_installed() { [ -f "/usr/lib/postgresql/$(pg_major)/lib/citus.so" ] && \
  [ -f "/usr/share/postgresql/$(pg_major)/extension/citus.control" ]; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_src() {
  if [ -n "${CITUS_SRC:-}" ]; then
    [ -e "$CITUS_SRC" ] || { log "CITUS_SRC=$CITUS_SRC does not exist"; return 1; }
    echo "$CITUS_SRC"; return 0
  fi
  local t
  t="$(ls "$SHARED_DIR"/citus-*.tar.gz 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$t" ] || return 1
  echo "$t"
}

no_citus_message() {
  cat >&2 <<MSG
[citus] Citus is not installed and there is no source to build it from.
[citus]   Either put the Citus source tarball in $SHARED_DIR (or point CITUS_SRC at one),
[citus]   or install Citus from its packages (https://docs.citusdata.com/en/stable/installation/):
[citus]     curl https://install.citusdata.com/community/deb.sh | sudo bash
[citus]     sudo apt-get install -y postgresql-$(pg_major)-citus-13.2
MSG
}

# Why Citus cannot be had here, or nothing (exit 0) when it is installed or buildable.
available() {
  BINDIR="$(find_bindir)" || { echo "PostgreSQL server binaries are not installed"; return 1; }
  citus_installed && return 0
  find_src >/dev/null || { echo "Citus is not installed and no source tarball (CITUS_SRC, $SHARED_DIR)"; return 1; }
  [ "$(id -u)" -eq 0 ] || { echo "Citus is not installed and building it needs root (apt-get, make install)"; return 1; }
  return 0
}

# The server headers must match the installed server exactly: installing a newer
# postgresql-server-dev upgrades postgresql-<major> under running clusters, whose new
# backends then fail to load plpgsql.so. Pin the headers to the installed server version
# when apt still has it; otherwise accept the upgrade and restart our own clusters.
install_build_deps() {
  local major server_version dev_pkg deps
  major="$(pg_major)"
  server_version="$(dpkg-query -W -f='${Version}' "postgresql-$major" 2>/dev/null || true)"
  export DEBIAN_FRONTEND=noninteractive
  deps=(libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev build-essential autoconf flex bison)
  if [ -f "/usr/include/postgresql/$major/server/postgres.h" ]; then
    dev_pkg=""
  elif [ -n "$server_version" ] && apt-cache madison "postgresql-server-dev-$major" 2>/dev/null \
      | grep -qF "| $server_version |"; then
    dev_pkg="postgresql-server-dev-$major=$server_version"
  else
    apt-get update -qq
    if [ -n "$server_version" ] && apt-cache madison "postgresql-server-dev-$major" \
        | grep -qF "| $server_version |"; then
      dev_pkg="postgresql-server-dev-$major=$server_version"
    else
      dev_pkg="postgresql-server-dev-$major"
      log "postgresql-server-dev-$major $server_version is not in apt; installing the newest one, which upgrades the server package"
    fi
  fi
  log "installing build dependencies with apt-get (${dev_pkg:-headers present} ${deps[*]})"
  if ! apt-get install -y -qq --no-install-recommends ${dev_pkg:+"$dev_pkg"} "${deps[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ${dev_pkg:+"$dev_pkg"} "${deps[@]}" >/dev/null
  fi
  local after
  after="$(dpkg-query -W -f='${Version}' "postgresql-$major" 2>/dev/null || true)"
  if [ -n "$server_version" ] && [ "$after" != "$server_version" ]; then
    log "postgresql-$major was upgraded $server_version -> $after: clusters started before now must be restarted"
    restart_after_upgrade
  fi
}

# After a server package upgrade: restart this project's own clusters; name the others.
restart_after_upgrade() {
  local pid datadir
  for pid in $(pgrep -x postgres 2>/dev/null || true); do
    datadir="$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | sed -n '/^-D$/{n;p}' | head -1)"
    [ -n "$datadir" ] || continue
    case "$datadir" in
      "$ROOT"/.data/*)
        log "restarting $datadir"
        as_owner "$BINDIR/pg_ctl" -D "$datadir" -m fast -w restart >/dev/null || true ;;
      *) log "  running cluster $datadir (not ours) still has the old binaries: restart it (pg_ctl -D $datadir restart)" ;;
    esac
  done
}

install() {
  BINDIR="$(find_bindir)" || { log "PostgreSQL server binaries not found (scripts/pg.sh start installs them)"; exit 1; }
  if citus_installed; then log "Citus is installed"; return 0; fi
  local src
  if ! src="$(find_src)"; then no_citus_message; exit 1; fi
  if [ "$(id -u)" -ne 0 ]; then
    log "Citus is not installed; building and installing it needs root: sudo $0 install"; exit 1
  fi
  install_build_deps
  local build="$ROOT/.data/citus-build"
  rm -rf "$build"; mkdir -p "$build"
  log "building Citus from $src (about 15 s configure, 70 s make on 2 cores)"
  if [ -d "$src" ]; then cp -a "$src/." "$build/"; else tar xzf "$src" -C "$build" --strip-components=1; fi
  local header="/usr/include/postgresql/$(pg_major)/server/commands/dbcommands.h"
  local patch_file="$SHARED_DIR/pg15-have_createdb_privilege.patch"
  # PostgreSQL 15.20 exports have_createdb_privilege(), which Citus 13.2.2 defines itself for 15.
  if grep -q have_createdb_privilege "$header" 2>/dev/null && [ -f "$patch_file" ] \
      && (cd "$build" && patch -p1 -s --forward --dry-run < "$patch_file" >/dev/null 2>&1); then
    log "applying $(basename "$patch_file")"
    (cd "$build" && patch -p1 -s --forward < "$patch_file")
  fi
  (cd "$build" && ./configure --without-libcurl >"$build/configure.log" 2>&1) \
    || { log "configure failed: $build/configure.log"; exit 1; }
  (cd "$build" && make -j"$(nproc)" >"$build/make.log" 2>&1 && make install >>"$build/make.log" 2>&1) \
    || { tail -20 "$build/make.log" >&2; log "build failed: $build/make.log"; exit 1; }
  citus_installed || { log "make install did not install citus.so"; exit 1; }
  log "Citus installed ($(pg_major))"
}

psql_node() {  # port, db, sql...
  local port="$1" db="$2"; shift 2
  PGPASSWORD="$(cat "$PWFILE")" psql -v ON_ERROR_STOP=1 -qAt -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

node_names() { echo coordinator worker1 worker2; }
node_port() {
  case "$1" in coordinator) echo "$CITUS_PORT" ;; worker1) echo "${WORKER_PORTS[0]}" ;; worker2) echo "${WORKER_PORTS[1]}" ;; esac
}

prepare_dirs() {
  mkdir -p "$DATA_ROOT"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres: "$DATA_ROOT"
    if ! runuser -u postgres -- test -w "$DATA_ROOT"; then
      DATA_ROOT="/var/tmp/saas-citus-$(echo "$ROOT" | md5sum | cut -c1-10)"
      log "postgres cannot reach the project folder; using $DATA_ROOT"
      mkdir -p "$DATA_ROOT"; chown postgres: "$DATA_ROOT"
    fi
  fi
  mkdir -p "$DATA_ROOT/run"; [ "$(id -u)" -eq 0 ] && chown postgres: "$DATA_ROOT/run" || true
}

# The nodes reach each other over loopback TCP as the connecting role with SCRAM; the
# server processes read the superuser's password from this pgpass file (PGPASSFILE).
write_pgpass() {
  (umask 077; printf '127.0.0.1:*:*:postgres:%s\nlocalhost:*:*:postgres:%s\n' \
    "$(cat "$PWFILE")" "$(cat "$PWFILE")" > "$DATA_ROOT/pgpass")
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DATA_ROOT/pgpass" || true
}

init_node() {
  local name="$1" data="$DATA_ROOT/$1"
  [ -f "$data/PG_VERSION" ] && return 0
  log "initialising $name in $data"
  local tmp_pw; tmp_pw="$(mktemp)"; cp "$PWFILE" "$tmp_pw"; chmod 644 "$tmp_pw"
  mkdir -p "$data"; [ "$(id -u)" -eq 0 ] && chown postgres: "$data"; chmod 700 "$data"
  as_owner "$BINDIR/initdb" -D "$data" -U postgres --pwfile="$tmp_pw" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$tmp_pw"
  cat >> "$data/postgresql.conf" <<CONF
# --- local Citus node for development and tests (scripts/citus.sh) ---
shared_preload_libraries = 'citus'
listen_addresses = '127.0.0.1'
max_connections = 300
shared_buffers = 128MB
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_worker_processes = 32
citus.max_background_task_executors_per_node = 2
citus.local_hostname = '127.0.0.1'
# Keep connections to the workers between statements: each COPY batch of the stats collector
# otherwise opens a connection per shard again (2,500 -> 8,700 events/s measured here).
citus.max_cached_conns_per_worker = 16
CONF
}

node_running() { [ -f "$DATA_ROOT/$1/PG_VERSION" ] && as_owner "$BINDIR/pg_ctl" -D "$DATA_ROOT/$1" status >/dev/null 2>&1; }

start_node() {
  local name="$1" port; port="$(node_port "$1")"
  if node_running "$name"; then return 0; fi
  log "starting $name on 127.0.0.1:$port"
  as_owner env PGPASSFILE="$DATA_ROOT/pgpass" "$BINDIR/pg_ctl" -D "$DATA_ROOT/$name" \
    -l "$DATA_ROOT/$name.log" -w -t 60 -o "-p $port -k $DATA_ROOT/run" start >/dev/null
}

ensure_db() {  # port db
  if [ "$(psql_node "$1" postgres -c "SELECT 1 FROM pg_database WHERE datname = '$2'")" != "1" ]; then
    psql_node "$1" postgres -c "CREATE DATABASE \"$2\""
  fi
  psql_node "$1" "$2" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS citus"
}

register_nodes() {  # db
  local db="$1" port
  psql_node "$CITUS_PORT" "$db" -c "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_PORT)" >/dev/null
  for port in "${WORKER_PORTS[@]}"; do
    if [ "$(psql_node "$CITUS_PORT" "$db" -c "SELECT count(*) FROM pg_dist_node WHERE nodeport = $port")" = "0" ]; then
      psql_node "$CITUS_PORT" "$db" -c "SELECT citus_add_node('127.0.0.1', $port)" >/dev/null
    fi
  done
}

start() {
  BINDIR="$(find_bindir)" || { log "PostgreSQL server binaries not found (scripts/pg.sh start installs them)"; exit 1; }
  citus_installed || install
  if [ ! -f "$PWFILE" ]; then
    mkdir -p "$(dirname "$PWFILE")"
    (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PWFILE")
  fi
  prepare_dirs
  write_pgpass
  local name
  for name in $(node_names); do init_node "$name"; start_node "$name"; done
  local db port
  for db in "$CITUS_DB" "$STATS_DB"; do
    for port in "${WORKER_PORTS[@]}" "$CITUS_PORT"; do ensure_db "$port" "$db"; done
    register_nodes "$db"
  done
  # Each tenant schema created in the tenant database becomes a distributed schema; the
  # template schema is created with the setting off (tenants.template), public stays local.
  psql_node "$CITUS_PORT" postgres -c "ALTER DATABASE \"$CITUS_DB\" SET citus.enable_schema_based_sharding = on"
  local pw; pw="$(cat "$PWFILE")"
  cat > "$ENV_FILE" <<ENV
# Written by scripts/citus.sh start: the local Citus coordinator. Real environment variables win.
DATABASE_URL=postgres://postgres:$pw@127.0.0.1:$CITUS_PORT/$CITUS_DB
STATS_DATABASE_URL=postgres://postgres:$pw@127.0.0.1:$CITUS_PORT/$STATS_DB
CITUS_WORKERS="127.0.0.1:${WORKER_PORTS[0]} 127.0.0.1:${WORKER_PORTS[1]}"
ENV
  log "coordinator 127.0.0.1:$CITUS_PORT, workers ${WORKER_PORTS[*]}; URLs in $ENV_FILE"
}

# A fresh pair of test databases (tenant and stats) on every node, Citus set up in both;
# pytest then runs with TEST_DB_NAME=<name> --reuse-db so it neither creates nor drops them.
testdb() {
  local name="${1:?usage: $0 testdb NAME}" db port
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "bad database name '$name'"; exit 2; }
  BINDIR="$(find_bindir)" || { log "PostgreSQL server binaries not found"; exit 1; }
  prepare_dirs
  for db in "$name" "${name}_stats"; do
    for port in "$CITUS_PORT" "${WORKER_PORTS[@]}"; do
      PGOPTIONS="-c client_min_messages=warning" psql_node "$port" postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    done
    for port in "${WORKER_PORTS[@]}" "$CITUS_PORT"; do ensure_db "$port" "$db"; done
    register_nodes "$db"
  done
  psql_node "$CITUS_PORT" postgres -c "ALTER DATABASE \"$name\" SET citus.enable_schema_based_sharding = on"
  log "fresh test databases $name and ${name}_stats on every node"
}

stop() {
  BINDIR="$(find_bindir)" || { log "no PostgreSQL binaries; nothing to stop"; return 0; }
  prepare_dirs
  local name
  for name in $(node_names); do
    if node_running "$name"; then
      log "stopping $name"
      as_owner "$BINDIR/pg_ctl" -D "$DATA_ROOT/$name" -m fast -w stop >/dev/null
    fi
  done
}

status() {
  BINDIR="$(find_bindir)" || { echo "PostgreSQL not installed"; return 1; }
  prepare_dirs
  local name rc=0
  for name in $(node_names); do
    if node_running "$name"; then echo "$name running on 127.0.0.1:$(node_port "$name")"
    else echo "$name stopped"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  install) BINDIR="$(find_bindir)" || { log "PostgreSQL server binaries not found"; exit 1; }; install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  available) available ;;
  testdb) testdb "${2:-}" ;;
  *) echo "usage: $0 install|start|stop|status|available|testdb NAME" >&2; exit 2 ;;
esac
