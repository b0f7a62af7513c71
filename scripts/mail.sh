#!/usr/bin/env bash
# Local SMTP mail sink for development (scripts/mail_sink.py, aiosmtpd): every message
# sent by `make run` is kept as an .eml file under .data/mail/ and goes nowhere else.
#
#   scripts/mail.sh start    # start on 127.0.0.1:$SMTP_PORT, write .data/mail.env (EMAIL_URL)
#   scripts/mail.sh stop
#   scripts/mail.sh status
#
# With EMAIL_URL set, `start` starts nothing: that server is used as is.
# SMTP_PORT (default 2525) picks the port; MAIL_DIR the folder (default .data/mail).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SMTP_PORT="${SMTP_PORT:-2525}"
MAIL_DIR="${MAIL_DIR:-$ROOT/.data/mail}"
ENV_FILE="${MAIL_ENV_FILE:-$ROOT/.data/mail.env}"
PIDFILE="$ROOT/.data/mail-sink.pid"
LOGFILE="$ROOT/.data/mail-sink.log"
PY="$ROOT/.venv/bin/python"

log() { echo "[mail] $*" >&2; }

is_running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

listening() { "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $SMTP_PORT)))"; }

start() {
  if [ -n "${EMAIL_URL:-}" ]; then
    log "EMAIL_URL is set; not starting the mail sink"
    return 0
  fi
  mkdir -p "$MAIL_DIR" "$(dirname "$ENV_FILE")"
  if is_running; then
    log "already running on 127.0.0.1:$SMTP_PORT"
  else
    log "starting on 127.0.0.1:$SMTP_PORT (messages: $MAIL_DIR, log: $LOGFILE)"
    nohup "$PY" "$ROOT/scripts/mail_sink.py" --port "$SMTP_PORT" --dir "$MAIL_DIR" >>"$LOGFILE" 2>&1 &
    echo $! > "$PIDFILE"
    local i
    for i in $(seq 1 100); do
      listening && break
      is_running || break
      sleep 0.1
    done
    listening || { log "the mail sink did not start; see $LOGFILE"; tail -n 20 "$LOGFILE" >&2 || true; exit 1; }
  fi
  cat > "$ENV_FILE" <<ENV
# Written by scripts/mail.sh for the local mail sink (messages in $MAIL_DIR). Real environment variables win.
EMAIL_URL=smtp://127.0.0.1:$SMTP_PORT
ENV
}

stop() {
  if is_running; then
    log "stopping"
    kill -TERM "$(cat "$PIDFILE")" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do
      is_running || { rm -f "$PIDFILE"; return 0; }
      sleep 0.1
    done
    log "the mail sink did not stop within 5 s"
    return 1
  else
    log "not running"
    rm -f "$PIDFILE"
  fi
}

status() {
  if is_running; then echo "running on 127.0.0.1:$SMTP_PORT ($MAIL_DIR)"; else echo "stopped"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
