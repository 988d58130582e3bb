#!/usr/bin/env bash
# Build test images from Debian's packages, in the shape of the popular official images, without a
# registry: `mmdebstrap --variant=apt --include=PKGS bookworm - | docker import --change ... - TAG`.
#
#   scripts/real-images.sh [nginx|postgres|redis ...]    (default: all three)
#
# Prints one line per image on stdout: NAME TAG. The tag carries the sha256 of the recipe (this
# script's recipe text and the suite), so an unchanged recipe is built once per engine and reused;
# changing a recipe makes a new tag. Installs mmdebstrap when missing (needs root, as engine.sh).
# The Debian mirror is the one apt is configured with (deb.debian.org unless SDOCKER_DEBIAN_MIRROR).
set -euo pipefail

log() { printf 'real-images.sh: %s\n' "$*" >&2; }

SUITE=bookworm
MIRROR="${SDOCKER_DEBIAN_MIRROR:-}"
if [ -z "$MIRROR" ]; then
  # The first deb.debian.org-like URI of apt's configured sources (deb822 or one-line format).
  MIRROR="$(grep -hoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 | tr -d ' ' || true)"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

if ! command -v mmdebstrap >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then log "mmdebstrap is missing and not root: apt-get install mmdebstrap"; exit 1; fi
  log "installing mmdebstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq mmdebstrap >/dev/null
fi

# ---- recipes: PACKAGES, a customize script run in the new root (chroot), docker import changes ----

nginx_packages="nginx-light"
# As the official image: logs to the container's stdout/stderr, the master as root, workers as
# www-data (Debian's nginx.conf says `user www-data;`), pid in /run/nginx.pid, listening on 80.
nginx_customize='
ln -sf /dev/stdout /var/log/nginx/access.log
ln -sf /dev/stderr /var/log/nginx/error.log
echo "hello from nginx" > /var/www/html/index.html
'
nginx_changes=(
  "EXPOSE 80"
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  'CMD ["nginx", "-g", "daemon off;"]'
)

postgres_packages="postgresql"
# As the official image: PGDATA a VOLUME, a root entrypoint that chowns the data directory and
# drops to postgres (setpriv from util-linux, where the official image uses gosu), initdb when the
# directory is empty, then postgres listening on 5432 (trust auth: a test image, no password).
postgres_customize='
cat > /usr/local/bin/docker-entrypoint.sh <<"EOF"
#!/bin/sh
set -e
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --username=postgres --auth=trust --no-sync -D "$PGDATA"
  printf "listen_addresses = '"'"'*'"'"'\n" >> "$PGDATA/postgresql.conf"
  echo "host all all all trust" >> "$PGDATA/pg_hba.conf"
fi
exec "$@"
EOF
chmod 0755 /usr/local/bin/docker-entrypoint.sh
mkdir -p /var/lib/postgresql/data /var/run/postgresql
chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql
chmod 1777 /var/lib/postgresql/data
chmod 3777 /var/run/postgresql
find /run -mindepth 1 -maxdepth 1 ! -name lock ! -name postgresql -exec rm -rf {} +
'
# /run/postgresql must be in the image (a non-root start cannot make it): keep /run, which
# mmdebstrap empties by default, but nothing else in it.
postgres_mmopts="--skip=cleanup/run"
postgres_changes=(
  "EXPOSE 5432"
  "VOLUME /var/lib/postgresql/data"
  "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  "ENV PGDATA=/var/lib/postgresql/data"
  'ENTRYPOINT ["docker-entrypoint.sh"]'
  'CMD ["postgres"]'
)

redis_packages="redis-server,redis-tools"
# The server as Debian's redis user in its home, listening on every address of the container.
redis_customize='
mkdir -p /data && chown redis:redis /data
'
redis_changes=(
  "EXPOSE 6379"
  "USER redis"
  "WORKDIR /data"
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  'CMD ["redis-server", "--protected-mode", "no"]'
)

# ---- build ----

recipe_text() {
  local name="$1" p="${1}_packages" c="${1}_customize" ch="${1}_changes[@]" o="${1}_mmopts"
  printf 'v1\n%s\n%s\n%s\n' "$SUITE" "${!p}" "${!c}"
  printf '%s\n' "${!ch}"
  if [ -n "${!o:-}" ]; then printf 'mmdebstrap %s\n' "${!o}"; fi
}

tag_of() {
  local hash
  hash="$(recipe_text "$1" | sha256sum | cut -c1-12)"
  printf 'sdocker-test/real-%s:%s' "$1" "$hash"
}

build() {
  local name="$1" tag p="${1}_packages" c="${1}_customize" ch="${1}_changes[@]" o="${1}_mmopts" start hook
  tag="$(tag_of "$name")"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    printf '%s %s\n' "$name" "$tag"
    return
  fi
  start=$(date +%s)
  log "building $tag from $MIRROR ($SUITE: ${!p})"
  local args=()
  local change
  for change in "${!ch}"; do args+=(--change "$change"); done
  args+=(--change "LABEL sdocker.test.recipe=$name")
  hook="$(mktemp)"
  printf '%s' "${!c}" > "$hook"
  # Docs, man pages and locales are not needed by any test: keep the images small.
  local opts=()
  read -r -a opts <<< "${!o:-}"
  mmdebstrap ${SDOCKER_MMDEBSTRAP_VERBOSE:+--verbose} --variant=apt --include="${!p}" "${opts[@]}" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="chroot \"\$1\" sh -e < '$hook'" \
    "$SUITE" - "$MIRROR" \
    | docker import "${args[@]}" - "$tag" >/dev/null
  rm -f "$hook"
  log "built $tag in $(( $(date +%s) - start ))s"
  printf '%s %s\n' "$name" "$tag"
}

# One build at a time on this machine (test files, a developer and CI may ask together): the
# second caller waits, then finds the tag.
exec 9>"${TMPDIR:-/tmp}/sdocker-real-images.lock"
flock 9

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(nginx postgres redis)
for n in "${names[@]}"; do
  case "$n" in
    nginx|postgres|redis) build "$n" ;;
    *) log "unknown image $n (nginx, postgres, redis)"; exit 2 ;;
  esac
done
