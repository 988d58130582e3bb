#!/usr/bin/env bash
# npm run build: the CLI as CommonJS bundles, each with V8's code cache (scripts/bundle.mjs:
# main.cjs for run/create, the guarded commands and help; one bundle per group of sdocker's own
# commands, loaded only when one runs; bin/sdocker.cjs loads them). CommonJS bundles, not ES
# module chunks: on Node 20 only a script compiled by vm.Script takes a code cache, and esbuild's
# ES module splitting measured +67-80 ms of client CPU per run (2026-12-01).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist/bundle
node scripts/bundle.mjs
