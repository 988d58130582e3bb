'use strict';
// Loads the CLI bundle (dist/bundle/main.cjs, made by npm run build) with V8's code cache
// (dist/bundle/main.cache, written by the build from a dry run): the functions a run needs come
// compiled, ~8 ms sooner than parsing and compiling them at every start (measured). The cache is
// only ever written by the build; V8 rejects one that does not fit this node and this source.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const dir = path.join(__dirname, '..', 'dist', 'bundle');
const file = path.join(dir, 'main.cjs');
const cacheFile = path.join(dir, 'main.cache');

// Code from the cache cannot call import() (node drops its hook): src/load-module.ts uses this one.
globalThis.sdockerImport = (specifier) => import(specifier);
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {
  filename: file,
  cachedData,
});
if (process.env.SDOCKER_WRITE_CODE_CACHE === cacheFile) {
  process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
}
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(dir);
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dir);
