#!/usr/bin/env bash
# `make run`: gunicorn, one Celery worker and Celery beat under honcho (Procfile), after
# make has started the embedded PostgreSQL, Redis and mail sink (scripts/pg.sh, redis.sh, mail.sh).
# Ctrl-C or SIGTERM stops them all: honcho stops its three (SIGTERM, SIGKILL after 5 s;
# a job cut short is delivered again, jobs are idempotent), then this script stops Redis
# and PostgreSQL. An external DATABASE_URL or REDIS_URL server is left alone.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-8000}"
export WEB_PORT="$PORT"

pg_log="$(ls -d .data/postgres.log /var/tmp/saas-pg-*/postgres.log 2>/dev/null | head -n 1)"
cat <<INFO
Taskhive on http://localhost:$PORT (demo tenants: http://acme.localhost:$PORT, http://globex.localhost:$PORT)
Logs:
  web (gunicorn), worker (celery), beat (celery beat): this terminal, each line prefixed by its name
  PostgreSQL: ${DATABASE_URL:+external server (DATABASE_URL)}${DATABASE_URL:-${pg_log:-.data/postgres.log}}
  Redis:      ${REDIS_URL:+external server (REDIS_URL)}${REDIS_URL:-${REDIS_DATA_DIR:-.data/redis}/redis.log}
Mail (password resets, invitations, verification): ${EMAIL_URL:+sent to EMAIL_URL}${EMAIL_URL:-each message an .eml file in ${MAIL_DIR:-.data/mail}/}
Ctrl-C stops everything.
INFO

services_stop() {
  scripts/mail.sh stop || true
  scripts/redis.sh stop || true
  scripts/pg.sh stop || true
}

# -p: honcho gives the first process (web) this PORT; the Procfile reads WEB_PORT anyway.
"$ROOT/.venv/bin/honcho" start -f Procfile -p "$PORT" &
honcho_pid=$!
stopped_by_signal=0
trap 'stopped_by_signal=1; kill -TERM "$honcho_pid" 2>/dev/null' INT TERM
rc=0
while kill -0 "$honcho_pid" 2>/dev/null; do
  wait "$honcho_pid"
  rc=$?
done
trap - INT TERM
services_stop
# Stopped on request (Ctrl-C, SIGTERM): a clean exit, not an error of `make run`.
[ "$stopped_by_signal" = 1 ] && exit 0
exit "$rc"
