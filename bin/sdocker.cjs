'use strict';
// Loads the CLI's CommonJS bundles (dist/bundle/*.cjs, made by npm run build: scripts/bundle.mjs)
// with V8's code cache (dist/bundle/NAME.cache, written by the build): the functions a run needs
// come compiled, ~8 ms sooner than parsing and compiling them at every start (measured). main.cjs
// first; the bundle of one of sdocker's own commands when main.ts imports that command
// (globalThis.sdockerBundle). A cache is only ever written by the build, when
// SDOCKER_WRITE_CODE_CACHE names that very file; V8 rejects one that does not fit this node and
// this source.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const dir = path.join(__dirname, '..', 'dist', 'bundle');

function load(name) {
  const file = path.join(dir, `${name}.cjs`);
  const cacheFile = path.join(dir, `${name}.cache`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // latin1: the build checks that the bundles are ASCII, and this is twice as fast as UTF-8.
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'latin1')), { filename: file, cachedData });
  if (process.env.SDOCKER_WRITE_CODE_CACHE === cacheFile) {
    process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
  }
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dir);
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dir);
  return mod.exports;
}

// Code from the cache cannot call import() (node drops its hook): src/load-module.ts uses this one.
globalThis.sdockerImport = (specifier) => import(specifier);
const loaded = new Map();
globalThis.sdockerBundle = (name) => {
  if (!loaded.has(name)) loaded.set(name, load(name));
  return loaded.get(name);
};
load('main');
