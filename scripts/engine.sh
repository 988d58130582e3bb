#!/usr/bin/env bash
# Make sure a Docker Engine answers, for tests and CI. Installs what is missing from
# Debian's packages (docker.io, busybox-static, docker-registry, apache2-utils ...) and starts dockerd
# only when no engine answers already. Idempotent: a second call is a no-op.
set -euo pipefail

log() { printf 'engine.sh: %s\n' "$*" >&2; }

need=()
# redis-tools: a real server binary (redis-server) the seccomp tests pack into a test image.
# apache2-utils: htpasswd, for the bcrypt line of the image trust tests' registry with authentication.
# iproute2: the audit tests give a private dockerd its own bridge interface (ip link).
# time: GNU time, which measures the peak RSS of `sdocker logs export` in its test.
# docker-compose: Debian's 1.29 (docker-py inside), the compose client the door (sdocker serve) is tested with.
# gcc, libc6-dev: a static unix-socket listener, the whole rootfs of the door's test plugins.
# acl: setfacl, for the door's refusal of a project profile whose file or directory has an ACL.
for pkg in docker.io busybox-static docker-registry curl redis-tools apache2-utils iproute2 docker-compose time gcc libc6-dev acl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "missing ${need[*]} and not root: install them by hand"; exit 1; fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

ping_engine() {
  local sock="${DOCKER_HOST:-unix:///var/run/docker.sock}"
  sock="${sock#unix://}"
  [ -S "$sock" ] || return 1
  curl -fsS --max-time 2 --unix-socket "$sock" http://engine/_ping >/dev/null 2>&1
}

if ping_engine; then exit 0; fi
if [ "$(id -u)" != 0 ]; then log "no engine answers and not root: start dockerd by hand"; exit 1; fi

log "starting dockerd"
logfile=/var/log/sdocker-dockerd.log
# setsid: the daemon outlives this script and is not in the test runner's process group.
setsid dockerd >"$logfile" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  if ping_engine; then log "engine answers"; exit 0; fi
  sleep 0.5
done
log "dockerd did not answer within 60s; its log:"
tail -n 40 "$logfile" >&2 || true
exit 1
