// The CommonJS bundles of the CLI (build.sh runs this; bin/sdocker.cjs loads them). main.cjs holds
// what `sdocker run` and `create` need (and the guarded pass-through commands, help); each group
// of sdocker's own commands below is a bundle of its own, loaded only when one of its commands
// runs: every `sdocker run` reads and deserialises main.cjs and its code cache, so what it does
// not need stays out of it. CommonJS has no code splitting: the split is made here.
// - A module listed below is replaced, in every other bundle, by a stub that asks the loader for
//   its bundle (globalThis.sdockerBundle, set by bin/sdocker.cjs) and takes the module's exports
//   from it. Only a dynamic import() may reach it: a static one fails the build.
// - Each bundle has its own copy of the modules it shares with main.cjs (errors.ts, the policy,
//   the engine client...): what crosses from one to the other is a command's exported function,
//   the plain arguments main.ts hands it, and what it returns or throws. instanceof does not hold
//   across copies: main.ts reads a thrown error by its brand (src/errors.ts, sdockerErrorOf).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWarmEngine, WARM_IMAGE } from './warm-engine.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'bundle');

/**
 * Bundle name → the modules it holds (each imported lazily by main.ts), grouped by what they
 * share, and the sdocker command line whose run writes the bundle's code cache.
 */
const BUNDLES = {
  // The door: `sdocker serve`, and the private door of the guarded pass-through commands (cli/through-door.ts).
  door: { modules: ['src/cli/serve.ts', 'src/door/private.ts'], warm: ['serve', '--help'] },
  audit: { modules: ['src/cli/audit.ts', 'src/cli/scan.ts', 'src/cli/image-harden.ts'], warm: ['audit', '--help'] },
  seccomp: { modules: ['src/cli/seccomp.ts', 'src/cli/learn.ts'], warm: ['seccomp', '--help'] },
  daemon: { modules: ['src/cli/daemon-config.ts'], warm: ['daemon-config', '--help'] },
  records: { modules: ['src/cli/logs-export.ts', 'src/cli/audit-log.ts'], warm: ['logs', 'export', '--help'] },
  init: { modules: ['src/cli/init.ts'], warm: ['init', '--help'] },
};

/**
 * main.cjs's cache comes from a dry run at the default level against a stand-in engine
 * (scripts/warm-engine.mjs): the functions of a run, compiled. Should that fail, from a dry run at
 * level privileged, which needs no engine at all.
 */
const MAIN_WARM = ['run', '--rm', '--dry-run', '--output', 'json', '-e', 'A=1', '-p', '127.0.0.1:8080:80', WARM_IMAGE, 'true'];
const MAIN_WARM_NO_ENGINE = ['run', '--rm', '--policy', 'privileged', '--dry-run', '--output', 'json', '-e', 'A=1', '-p', '127.0.0.1:8080:80', '-v', '/tmp:/t', 'busybox', 'true'];

const bundleOf = new Map(Object.entries(BUNDLES).flatMap(([name, b]) => b.modules.map((f) => [resolve(ROOT, f), name])));

/** In bundle `self`, a dynamic import of a module of another bundle becomes a call to the loader. */
function splitPlugin(self) {
  return {
    name: 'sdocker-split',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const file = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
        const other = bundleOf.get(file);
        if (other === undefined || other === self) return undefined;
        if (args.kind !== 'dynamic-import') {
          return { errors: [{ text: `${relative(ROOT, file)} is bundled apart (${other}.cjs): import it with import(), not statically (${args.kind})` }] };
        }
        return { path: `${other}:${relative(ROOT, file)}`, namespace: 'sdocker-bundle' };
      });
      b.onLoad({ filter: /.*/, namespace: 'sdocker-bundle' }, (args) => {
        const [name, file] = args.path.split(':');
        return { contents: `module.exports = globalThis.sdockerBundle(${JSON.stringify(name)}).modules[${JSON.stringify(file)}];`, loader: 'js' };
      });
      // A bundle's entry: the namespaces of its modules, by path (what the stubs above read).
      b.onResolve({ filter: /^sdocker-entry:/ }, (args) => ({ path: args.path.slice('sdocker-entry:'.length), namespace: 'sdocker-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'sdocker-entry' }, (args) => {
        const files = BUNDLES[args.path].modules;
        const imports = files.map((f, i) => `import * as m${i} from ${JSON.stringify(resolve(ROOT, f))};`).join('\n');
        const table = files.map((f, i) => `${JSON.stringify(f)}: m${i}`).join(', ');
        return { contents: `${imports}\nexport const modules = { ${table} };\n`, loader: 'js', resolveDir: ROOT };
      });
    },
  };
}

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  minifyWhitespace: true,
  minifySyntax: true,
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: [join(ROOT, 'scripts', 'import-meta-url.cjs')],
  logLevel: 'warning',
  absWorkingDir: ROOT,
};

await Promise.all([
  build({ ...common, entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')], outfile: join(OUT, 'main.cjs'), plugins: [splitPlugin('main')] }),
  ...Object.keys(BUNDLES).map((name) =>
    build({ ...common, entryPoints: [`sdocker-entry:${name}`], outfile: join(OUT, `${name}.cjs`), plugins: [splitPlugin(name)] }),
  ),
]);

// bin/sdocker.cjs reads the bundles as latin1, twice as fast as decoding UTF-8 (~1 ms of every
// start for main.cjs): esbuild writes strings ASCII, but not regular expression literals.
for (const name of ['main', ...Object.keys(BUNDLES)]) {
  const text = readFileSync(join(OUT, `${name}.cjs`), 'latin1');
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) {
    throw new Error(`dist/bundle/${name}.cjs is not ASCII at ${JSON.stringify(readFileSync(join(OUT, `${name}.cjs`), 'utf8').slice(Math.max(0, at - 40), at + 10))}: write the character as \\uXXXX in the source`);
  }
}

// V8's code cache of each bundle, from one run of a command that loads it (bin/sdocker.cjs writes
// the cache SDOCKER_WRITE_CODE_CACHE names when the process exits). Commands the user runs
// compile what the warm-up did not; a missing cache only costs start-up time.
const state = mkdtempSync(join(tmpdir(), 'sdocker-build-'));
const socket = join(state, 'engine.sock');
const stopEngine = await startWarmEngine(socket);
// The warm-up's own environment: the stand-in engine, nothing of the user's engine, state or caches.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DOCKER_|SDOCKER_)/.test(k)));
Object.assign(env, { DOCKER_HOST: `unix://${socket}`, SDOCKER_STATE_DIR: join(state, 'state'), XDG_CACHE_HOME: join(state, 'cache'), XDG_STATE_HOME: join(state, 'state') });

/** Run bin/sdocker.cjs with ARGS, writing `cache` when it exits; resolves to its exit code. */
function warm(cache, args) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'sdocker.cjs'), ...args], { stdio: 'ignore', env: { ...env, SDOCKER_WRITE_CODE_CACHE: cache } });
    child.on('error', () => done(-1));
    child.on('close', (code) => done(code ?? -1));
  });
}

try {
  const mainCache = join(OUT, 'main.cache');
  if ((await warm(mainCache, MAIN_WARM)) !== 0) {
    console.error('bundle.mjs: the warm-up against the stand-in engine failed; main.cache comes from a dry run at level privileged');
    await warm(mainCache, MAIN_WARM_NO_ENGINE);
  }
  for (const [name, b] of Object.entries(BUNDLES)) await warm(join(OUT, `${name}.cache`), b.warm);
} finally {
  await stopEngine();
  rmSync(state, { recursive: true, force: true });
}
for (const name of ['main', ...Object.keys(BUNDLES)]) {
  if (!(statSync(join(OUT, `${name}.cache`), { throwIfNoEntry: false })?.size > 0)) console.error(`bundle.mjs: no code cache for ${name}.cjs (sdocker still works, starting a little slower)`);
}
