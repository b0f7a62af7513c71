#!/usr/bin/env bash
# Embedded Redis for development and tests: a private redis-server on a loopback
# port with its data, pid file and log under .data/redis (Debian's package,
# installed with apt-get when missing and we are root).
#
#   scripts/redis.sh start    # install if needed, start, write .data/redis.env (REDIS_URL)
#   scripts/redis.sh stop
#   scripts/redis.sh status
#
# With REDIS_URL set, `start` starts nothing: the given server is used as is.
# REDIS_PORT (default 6380) picks the port; REDIS_DATA_DIR the data folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REDIS_PORT="${REDIS_PORT:-6380}"
DATA="${REDIS_DATA_DIR:-$ROOT/.data/redis}"
ENV_FILE="${REDIS_ENV_FILE:-$ROOT/.data/redis.env}"
PIDFILE="$DATA/redis.pid"
LOGFILE="$DATA/redis.log"

log() { echo "[redis] $*" >&2; }

ensure_binaries() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    log "redis-server not found. Install it (Debian: apt-get install redis-server) or set REDIS_URL."
    exit 1
  fi
  log "installing redis-server with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package's own service is not wanted: this script runs a private server.
  apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    systemctl stop redis-server || true
  fi
}

cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

is_running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && cli ping >/dev/null 2>&1
}

start() {
  if [ -n "${REDIS_URL:-}" ]; then
    log "REDIS_URL is set; not starting the embedded server"
    return 0
  fi
  ensure_binaries
  mkdir -p "$DATA"
  if is_running; then
    log "already running on 127.0.0.1:$REDIS_PORT"
  else
    log "starting on 127.0.0.1:$REDIS_PORT (log: $LOGFILE)"
    # Append-only file: jobs queued before a restart are still there after it.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
      --dir "$DATA" --daemonize yes --pidfile "$PIDFILE" --logfile "$LOGFILE" \
      --appendonly yes --appendfsync everysec --save "" --databases 16
    local i
    for i in $(seq 1 100); do
      cli ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    is_running || { log "redis-server did not start; see $LOGFILE"; tail -n 20 "$LOGFILE" >&2 || true; exit 1; }
  fi
  mkdir -p "$(dirname "$ENV_FILE")"
  cat > "$ENV_FILE" <<ENV
# Written by scripts/redis.sh for the embedded Redis. Real environment variables win.
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
ENV
}

stop() {
  if ! command -v redis-cli >/dev/null 2>&1; then log "redis-cli not installed; nothing to stop"; return 0; fi
  if is_running; then
    log "stopping"
    cli shutdown >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 100); do
      [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null || return 0
      sleep 0.1
    done
    log "redis-server did not stop within 10 s"
    return 1
  else
    log "not running"
  fi
}

status() {
  command -v redis-server >/dev/null 2>&1 || { echo "not installed"; return 1; }
  if is_running; then echo "running on 127.0.0.1:$REDIS_PORT ($DATA)"; else echo "stopped"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
