#!/usr/bin/env bash
# Install the Debian packages a target needs, only when their binary is missing.
#   scripts/system_deps.sh chromium pgbouncer wrk
set -euo pipefail
declare -A BIN=( [chromium]=/usr/bin/chromium [pgbouncer]=/usr/sbin/pgbouncer [wrk]=/usr/bin/wrk )
missing=()
for pkg in "$@"; do
  bin="${BIN[$pkg]:-$pkg}"
  if [ ! -x "$bin" ] && ! command -v "$pkg" >/dev/null 2>&1; then missing+=("$pkg"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "[deps] missing: ${missing[*]}; install them with apt-get (needs root)" >&2
  exit 1
fi
echo "[deps] installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
