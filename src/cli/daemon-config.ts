/**
 * `sdocker daemon-config [--file PATH] [--output text|json]`: a hardened daemon.json merged with
 * the existing one (default /etc/docker/daemon.json; a missing default file is an empty one), on
 * stdout; each key explained on stderr, or all of it as one JSON object with `--output json`.
 * It writes no file and restarts no daemon. A bad existing file: exit 125 naming it (and the
 * line and column of a JSON error).
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { FileReadError, readBounded } from '../fs/read-bounded.js';
import { mergeHardened, parseDaemonJson } from '../daemon/merge.js';
import { renderExplanation, renderJson } from '../daemon/render.js';
import type { ProcessIO } from '../io/process-io.js';

export const DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json';

const HELP = `Usage:  sdocker daemon-config [--file PATH] [--output text|json]

Print a hardened daemon.json, merged with the existing one (default ${DEFAULT_DAEMON_JSON}):
the merged JSON on stdout, each key explained on stderr (--output json: one object with both).
Nothing is written and no daemon is restarted: review it, then install it yourself.
`;

interface Args {
  file?: string;
  output: 'text' | 'json';
}

function parseArgs(argv: string[]): Args | 'help' {
  const out: Args = { output: 'text' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`daemon-config: ${name} needs a value`);
      return v;
    };
    if (name === '-h' || name === '--help') return 'help';
    else if (name === '--file' || name === '-f') out.file = value();
    else if (name === '--output' || name === '-o') {
      const v = value();
      if (v !== 'text' && v !== 'json') throw new UsageError(`daemon-config: --output ${v}: expected text or json`);
      out.output = v;
    } else throw new UsageError(`daemon-config: unknown argument "${a}"`);
  }
  return out;
}

export function daemonConfigCommand(argv: string[], io: ProcessIO): number {
  const args = parseArgs(argv);
  if (args === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const path = args.file !== undefined ? resolve(io.cwd, args.file) : DEFAULT_DAEMON_JSON;
  let text = '';
  let source = path;
  try {
    text = readBounded(path, 'docker-config').toString('utf8');
  } catch (err) {
    // Only the default file may be missing (a daemon without one); a named file must be there.
    if (!(err instanceof FileReadError) || args.file !== undefined || err.code !== 'ENOENT') throw err;
    source = `${path} (not there: the hardened keys alone)`;
  }
  const merged = mergeHardened(parseDaemonJson(text, path));
  if (args.output === 'json') {
    io.stdout.write(renderJson(merged, source));
  } else {
    io.stdout.write(`${JSON.stringify(merged.config, null, 2)}\n`);
    io.stderr.write(renderExplanation(merged, source));
  }
  return 0;
}
