#!/usr/bin/env bash
# Test setup for the seccomp engine tests: a real server binary from Debian's packages.
# Installs redis-tools (redis-check-rdb is redis-server under another name; no service is
# installed or started) and prints the files to pack into a test image: the binaries and every
# library `ldd` lists, one path a line. Idempotent.
set -euo pipefail
log() { printf 'seccomp-test-server.sh: %s\n' "$*" >&2; }
if ! dpkg -s redis-tools >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then log "redis-tools missing and not root: apt-get install redis-tools"; exit 1; fi
  log "installing redis-tools"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-tools >/dev/null
fi
bins=(/usr/bin/redis-check-rdb /usr/bin/redis-cli)
{
  for b in "${bins[@]}"; do
    echo "$b"
    ldd "$b" | awk '/=>/ { print $3 } /^\t\/.*ld-linux/ { print $1 }'
  done
} | grep '^/' | sort -u
