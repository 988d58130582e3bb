#!/usr/bin/env bash
# npm run build: the CLI as CommonJS bundles with V8's code cache for each (scripts/bundle.mjs:
# main.cjs for run/create, one bundle per group of sdocker's own commands; bin/sdocker.cjs loads
# them). CommonJS bundles, not ES module chunks: one file through the CommonJS loader starts
# ~10 ms sooner, and only a script compiled by vm.Script takes a code cache on Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist/bundle
node scripts/bundle.mjs
