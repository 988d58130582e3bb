#!/usr/bin/env bash
# npm run build: the CLI as one CommonJS bundle (one file through the CommonJS loader starts
# ~10 ms sooner than ES module chunks), then V8's code cache for it, from a dry run that needs
# no engine (bin/sdocker.cjs loads both).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist/bundle
npx esbuild src/cli/main.ts --bundle --format=cjs --platform=node --target=node20 --packages=external \
  --minify-whitespace --minify-syntax \
  --define:import.meta.url=importMetaUrl --inject:scripts/import-meta-url.cjs \
  --outfile=dist/bundle/main.cjs --log-level=warning
SDOCKER_WRITE_CODE_CACHE="$PWD/dist/bundle/main.cache" SDOCKER_STATE_DIR="$(mktemp -d)" \
  node bin/sdocker.cjs run --rm --policy privileged --dry-run --output json -e A=1 -p 127.0.0.1:8080:80 -v /tmp:/t busybox true >/dev/null || true
test -s dist/bundle/main.cache || echo "build.sh: no code cache written (sdocker still works, starting a little slower)" >&2
