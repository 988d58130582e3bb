/**
 * The entry point: the only module that touches `process`. It splits docker's global options,
 * sends run/create to sdocker's pipeline, sdocker's own commands to theirs, and everything else
 * to the real docker CLI. Modules load lazily so `run` pays only for what it uses.
 */
import { fileURLToPath } from 'node:url';
import { EngineError, SdockerError } from '../errors.js';
import { splitGlobals } from './globals.js';
import type { ProcessIO } from './io.js';

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

async function dispatch(argv: string[], io: ProcessIO): Promise<number> {
  const { globals, dockerGlobals, rest } = splitGlobals(argv);
  let [cmd, ...args] = rest;
  if (cmd === 'container' && (args[0] === 'run' || args[0] === 'create')) {
    cmd = args[0];
    args = args.slice(1);
  }
  switch (cmd) {
    case 'run':
    case 'create': {
      const { runCommand } = await import('./run.js');
      return runCommand(args, cmd, globals, io);
    }
    case 'seccomp': {
      const { seccompCommand } = await import('./seccomp.js');
      return seccompCommand(args, io, globals);
    }
    case 'init': {
      const { initCommand } = await import('./init.js');
      return initCommand(args, io);
    }
    case 'audit-log': {
      const { auditLogCommand } = await import('./audit-log.js');
      return auditLogCommand(args, io);
    }
    case undefined:
    case 'help':
      if (cmd === undefined && argv.length > 0) break;
      {
        const { MAIN_HELP } = await import('./help.js');
        io.stdout.write(MAIN_HELP);
      }
      return 0;
    default:
      // volume create, start, container start: judged, then passed through (a refusal throws).
      if (cmd) await (await import('./guarded.js')).guardPassThrough(cmd, args, globals, io);
      break;
  }
  const { findDocker, passThrough } = await import('./passthrough.js');
  const self = fileURLToPath(new URL('../../bin/sdocker', import.meta.url));
  return passThrough(findDocker(io.env, self), [...dockerGlobals, ...rest], io);
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
dispatch(process.argv.slice(2), io).then(finish, (err: unknown) => {
  if (err instanceof SdockerError) {
    // The daemon's refusals read as docker prints them, for scripts that look for the phrase.
    const from = err instanceof EngineError ? 'Error response from daemon: ' : '';
    if (err.message) io.stderr.write(`sdocker: ${from}${err.message}\n`);
    finish(err.exitCode);
  } else {
    io.stderr.write(`sdocker: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    finish(125);
  }
});
