#!/usr/bin/env bash
# PgBouncer in transaction mode in front of the embedded PostgreSQL cluster, on loopback,
# with a deliberately small pool (2 server connections per database by default).
# Run as the `postgres` system user when invoked as root (PgBouncer refuses to run as root).
#
#   scripts/pgbouncer.sh start    # install Debian's pgbouncer if needed, write config, start (idempotent)
#   scripts/pgbouncer.sh stop
#   scripts/pgbouncer.sh status
#
# Environment:
#   PGBOUNCER_PORT       listen port on 127.0.0.1 (default 54339)
#   PGBOUNCER_DIR        config, auth file, pid and log (default .data/pgbouncer)
#   PGBOUNCER_POOL_SIZE  server connections per database, also the per-database cap (default 2)
#   PG_PORT              the cluster every database name is forwarded to (default 54329)
#   PGBOUNCER_ROUTES     extra "dbname=port" entries, space-separated, for databases on another
#                        loopback cluster (e.g. the stats cluster of `scripts/pg.sh start-stats`)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGB_PORT="${PGBOUNCER_PORT:-54339}"
PGB_DIR="${PGBOUNCER_DIR:-$ROOT/.data/pgbouncer}"
POOL_SIZE="${PGBOUNCER_POOL_SIZE:-2}"
PG_PORT="${PG_PORT:-54329}"
ROUTES="${PGBOUNCER_ROUTES:-}"
PWFILE="$ROOT/.data/postgres.password"
BIN=/usr/sbin/pgbouncer

log() { echo "[pgbouncer] $*" >&2; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pick_dir() {
  mkdir -p "$PGB_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PGB_DIR"
    if ! runuser -u postgres -- test -w "$PGB_DIR"; then
      # A private parent directory (e.g. /root): keep the runtime files where postgres can write.
      PGB_DIR="/var/tmp/saas-pgbouncer-$(echo "$PGB_DIR" | md5sum | cut -c1-10)"
      mkdir -p "$PGB_DIR"; chown postgres: "$PGB_DIR"
    fi
  fi
  CONF="$PGB_DIR/pgbouncer.ini"
  USERLIST="$PGB_DIR/userlist.txt"
  PIDFILE="$PGB_DIR/pgbouncer.pid"
  LOGFILE="$PGB_DIR/pgbouncer.log"
}

is_running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

write_config() {
  if [ ! -f "$PWFILE" ]; then
    log "no $PWFILE: start the embedded cluster first (scripts/pg.sh start)"
    exit 1
  fi
  local tmp_conf routes_block="" route
  for route in $ROUTES; do
    if ! [[ "$route" =~ ^[A-Za-z0-9_]+=[0-9]+$ ]]; then
      log "bad PGBOUNCER_ROUTES entry '$route' (want dbname=port)"; exit 2
    fi
    routes_block+="${route%%=*} = host=127.0.0.1 port=${route#*=}"$'\n'
  done
  # The auth file holds the cluster's own passwords (already on disk in .data: postgres and
  # the roles of scripts/pg.sh), readable by the pgbouncer process only; clients and servers
  # both authenticate with SCRAM.
  local role_file role_name
  (
    umask 077
    printf '"postgres" "%s"\n' "$(cat "$PWFILE")"
    for role_file in "$ROOT"/.data/*_app.password "$ROOT"/.data/*_owner.password; do
      [ -f "$role_file" ] || continue
      role_name="$(basename "$role_file" .password)"
      printf '"%s" "%s"\n' "$role_name" "$(cat "$role_file")"
    done
  ) > "$USERLIST.tmp"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$USERLIST.tmp"
  mv "$USERLIST.tmp" "$USERLIST"
  tmp_conf="$(mktemp)"
  cat > "$tmp_conf" <<CONF
; Written by scripts/pgbouncer.sh; edits are overwritten.
[databases]
${routes_block}* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $USERLIST
admin_users = postgres
; The app role may read the console's SHOW lists (the tests count pools and transactions).
stats_users = $(cd "$ROOT/.data" && ls *_app.password 2>/dev/null | sed 's/\.password$//' | paste -sd, -)
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_db_connections = $POOL_SIZE
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
query_wait_timeout = 30
ignore_startup_parameters = extra_float_digits
logfile = $LOGFILE
pidfile = $PIDFILE
log_connections = 0
log_disconnections = 0
CONF
  if [ -f "$CONF" ] && cmp -s "$tmp_conf" "$CONF"; then
    rm -f "$tmp_conf"; CONFIG_CHANGED=0
  else
    mv "$tmp_conf" "$CONF"; chmod 644 "$CONF"; CONFIG_CHANGED=1
  fi
}

wait_port() {
  local i
  for i in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PGB_PORT") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "did not start listening on 127.0.0.1:$PGB_PORT; see $LOGFILE"
  tail -n 20 "$LOGFILE" >&2 || true
  exit 1
}

start() {
  "$ROOT/scripts/system_deps.sh" pgbouncer
  pick_dir
  write_config
  if is_running; then
    if [ "$CONFIG_CHANGED" = 0 ]; then
      log "already running on 127.0.0.1:$PGB_PORT"
      return 0
    fi
    log "configuration changed; restarting"
    stop_running
  fi
  log "starting on 127.0.0.1:$PGB_PORT (transaction pooling, $POOL_SIZE server connections per database)"
  as_owner touch "$LOGFILE"
  as_owner "$BIN" -d -q "$CONF"
  wait_port
}

stop_running() {
  local pid i
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
    sleep 0.1
  done
  log "pid $pid did not exit after 5 s"
  exit 1
}

stop() {
  pick_dir
  if is_running; then log "stopping"; stop_running; else log "not running"; fi
}

status() {
  pick_dir
  if is_running; then echo "running on 127.0.0.1:$PGB_PORT ($CONF)"; else echo "stopped"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
