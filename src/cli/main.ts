/**
 * The entry point: the only module that touches `process`. dispatch.ts decides (pure) which
 * command the line is, as docker would: run/create go to sdocker's pipeline, exec/update/build are
 * judged then handed to docker, sdocker's own commands to theirs, everything else to docker. Modules load lazily so `run` pays only for what it uses;
 * sdocker's own commands come from bundles of their own (scripts/bundle.mjs), so an error they throw is read by its brand (sdockerErrorOf).
 */
import { fileURLToPath } from 'node:url';
import { sdockerErrorOf } from '../errors.js';
import { dispatch } from './dispatch.js';
import type { ProcessIO } from '../io/process-io.js';
import { splitGlobals } from './globals.js';

function processIO(): ProcessIO {
  return {
    // A getter: node builds process.stdin on first use (~1.5 ms), and most runs never read it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    ...(process.getuid ? { uid: process.getuid() } : {}),
    onSignal(signal, handler) {
      process.on(signal, handler);
      return () => {
        process.off(signal, handler);
      };
    },
    onResize(handler) {
      process.stdout.on('resize', handler);
      process.on('SIGWINCH', handler);
      return () => {
        process.stdout.off('resize', handler);
        process.off('SIGWINCH', handler);
      };
    },
  };
}

async function main(argv: string[], io: ProcessIO): Promise<number> {
  const { route, globals, passArgv } = dispatch(argv);
  switch (route.kind) {
    case 'run': {
      const { runCommand } = await import('./run.js');
      return runCommand(route.args, route.command, globals, io);
    }
    case 'guard': {
      // Judged first; refused with the policy's message, else handed to docker unchanged.
      const { guardCommand } = await import('./guard.js');
      await guardCommand(route.command, route.args, globals, io);
      break;
    }
    case 'sdocker':
      if (route.command === 'seccomp') {
        const { seccompCommand } = await import('./seccomp.js');
        return seccompCommand(route.args, io, globals);
      }
      if (route.command === 'learn') {
        const { learnCommand } = await import('./learn.js');
        return learnCommand(route.args, io, globals);
      }
      if (route.command === 'scan') return (await import('./scan.js')).scanCommand(route.args, io, globals);
      if (route.command === 'image-harden') return (await import('./image-harden.js')).imageHardenCommand(route.args, io, globals);
      if (route.command === 'audit') {
        const { auditCommand } = await import('./audit.js');
        return auditCommand(route.args, io, globals);
      }
      if (route.command === 'serve') {
        const { serveCommand } = await import('./serve.js');
        return serveCommand(route.args, io, globals, { pid: process.pid, euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0 });
      }
      if (route.command === 'daemon-config') {
        const { daemonConfigCommand } = await import('./daemon-config.js');
        return daemonConfigCommand(route.args, io);
      }
      if (route.command === 'logs-export') {
        const { logsExportCommand } = await import('./logs-export.js');
        return logsExportCommand(route.args, io, globals);
      }
      if (route.command === 'init') {
        const { initCommand } = await import('./init.js');
        return initCommand(route.args, io);
      }
      {
        const { auditLogCommand } = await import('./audit-log.js');
        return auditLogCommand(route.args, io);
      }
    case 'help': {
      const { MAIN_HELP } = await import('./help.js');
      io.stdout.write(MAIN_HELP);
      return 0;
    }
    case 'pass':
      break;
  }
  const { findDocker, passThrough, refuseConfigPlugins } = await import('./passthrough.js');
  if (globals.configDir !== undefined) refuseConfigPlugins(globals.configDir, io.cwd);
  const self = fileURLToPath(new URL('../../bin/sdocker', import.meta.url));
  const docker = findDocker(io.env, self);
  // Commands that can weaken a container reach the engine through a door (src/cli/through-door.ts).
  const { rest } = splitGlobals(argv);
  const through = await import('./through-door.js');
  if (through.goesThroughDoor(rest)) return through.passThroughDoor(docker, rest, globals, io);
  return passThrough(docker, passArgv, io);
}

function finish(code: number): void {
  // Let piped output drain before exiting: process.exit() alone can cut it off.
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

const io = processIO();
main(process.argv.slice(2), io).then(finish, (thrown: unknown) => {
  // By its brand, not instanceof: sdocker's own commands throw from bundles of their own (scripts/bundle.mjs).
  const err = sdockerErrorOf(thrown);
  if (err) {
    // The daemon's refusals read as docker prints them, for scripts that look for the phrase.
    const from = err.fromDaemon ? 'Error response from daemon: ' : '';
    if (err.message) io.stderr.write(`sdocker: ${from}${err.message}\n`);
    finish(err.exitCode);
  } else {
    io.stderr.write(`sdocker: internal error: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}\n`);
    finish(125);
  }
});
