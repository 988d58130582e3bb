#!/usr/bin/env bash
# docker-bench-security (CIS Docker Benchmark 1.6.0) sections 4 and 5 on containers made by
# plain `docker run`, by `sdocker run` with its defaults, and by `sdocker run` with a project
# profile that sets defaults.healthcheck. Counts PASS / WARN / INFO / NOTE per case.
#
#   bash bench/cis/run.sh DIR   # DIR: a checkout of github.com/docker/docker-bench-security
#
# docker-bench-security is not part of sdocker (not committed); it is run from DIR. Each case
# gets its own image tag and container name, so -i selects only that case's objects; everything
# made here is removed on exit. Run from the repository root after `npm run build`.
set -euo pipefail
dbs=${1:?usage: bench/cis/run.sh DOCKER_BENCH_SECURITY_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
sd="${SDOCKER_BIN:-$root/bin/sdocker}"
base=sdocker-test/busybox:root
id=cisbench$$
work=$(mktemp -d)
made=()
cleanup() {
  for c in "${made[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  for c in plain sdocker sdockerhc; do docker rmi "$id-$c/busybox:root" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

printf 'extends: restricted\ndefaults:\n  healthcheck:\n    cmd: "kill -0 1"\n    interval: 30s\n' > "$work/sdocker.yaml"

start() { # case, command...
  local c=$1; shift
  docker tag "$base" "$id-$c/busybox:root"
  made+=("$id-$c")
  "$@" -d --label sdocker.test=1 --name "$id-$c" "$id-$c/busybox:root" sleep 600 >/dev/null
}
start plain docker run
start sdocker env SDOCKER_STATE_DIR="$work/state" "$sd" run
cases=(plain sdocker)
made+=("$id-sdockerhc") # started in a subshell (its own directory, for the profile): remembered here
if (cd "$work" && start sdockerhc env SDOCKER_STATE_DIR="$work/state" "$sd" run); then cases+=(sdockerhc)
else echo "sdockerhc: refused by this sdocker (no defaults.healthcheck)"; fi

for c in "${cases[@]}"; do
  log="$work/$c.log"
  (cd "$dbs" && bash ./docker-bench-security.sh -b -l "$log" -c container_images,container_runtime -i "$id-$c" >/dev/null 2>&1) || true
  # Only the checks' result lines (not the section headers)
  res=$(grep -E '^\[(PASS|WARN|INFO|NOTE)\] [45]\.[0-9]+ ' "$log" || true)
  n() { grep -cE "^\\[$1\\] $2\\." <<<"$res" || true; }
  printf '%-10s section 4: %2d PASS %2d WARN %2d INFO   section 5: %2d PASS %2d WARN %2d INFO\n' "$c" \
    "$(n PASS 4)" "$(n WARN 4)" "$(n INFO 4)" "$(n PASS 5)" "$(n WARN 5)" "$(n INFO 5)"
  grep -E '^\[(WARN|INFO)\] [45]\.' <<<"$res" | sed "s/^/    $c: /" || true
done
