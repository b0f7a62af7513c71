#!/usr/bin/env bash
# Create .venv and install pinned requirements; re-runs only when they change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV=.venv
STAMP="$VENV/.requirements.sha"

pick_python() {
  local c
  for c in python3.11 python3 python; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
      echo "$c"; return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(pick_python)" || {
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      echo "[bootstrap] installing python3 with apt-get" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
      PY="$(pick_python)"
    else
      echo "[bootstrap] Python 3.11+ is required" >&2; exit 1
    fi
  }
  echo "[bootstrap] creating $VENV with $PY" >&2
  "$PY" -m venv "$VENV"
fi

want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] installing requirements" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$STAMP"
fi
