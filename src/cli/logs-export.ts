/**
 * `sdocker logs export CONTAINER... -o FILE.tar.gz [--since T] [--until T] [--records PATH]`:
 * one gzip'd tar with, per container, its logs (stdout.log and stderr.log, or output.log for a
 * TTY; with timestamps), inspect.json, events.jsonl and records.jsonl (the sdocker run records
 * naming it), and a manifest.json with the size and sha256 of every entry.
 *
 * Bounded memory: every part is spooled to a file while its sha256 and size are taken, then
 * streamed through tar and gzip. Written in a work directory beside the output and renamed into
 * place: an interrupted export leaves no archive and no work directory (SIGINT/SIGTERM/SIGHUP remove it;
 * after a SIGKILL the next export into the same directory does). An output that is a symlink is
 * refused (and rename never follows one).
 */
import { lstatSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { auditLogPath } from '../record/run-record.js';
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { SdockerError, UsageError } from '../errors.js';
import { writeArchive, type ArchiveEntry } from '../export/archive.js';
import { collectContainer } from '../export/collect.js';
import { folderOf, type Manifest } from '../export/manifest.js';
import { makeWorkDir, removeStale } from '../export/temp.js';
import { apiTime } from '../export/times.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

const HELP = `Usage:  sdocker logs export CONTAINER [CONTAINER...] -o FILE.tar.gz [--since T] [--until T] [--records PATH]

Export each container's logs (stdout and stderr apart, with timestamps), its inspect JSON, the
engine's events for it and sdocker's run records naming it, in one gzip'd tar with a manifest of
sha256 sums. T: a Unix timestamp, an RFC 3339 date, or a duration before now (10m); --until
defaults to now. --records: the run record to search (default: sdocker's own).
Every other "logs" command line is docker's (a container named "export": sdocker container logs export).
`;

interface Args {
  refs: string[];
  out: string;
  since?: string;
  until?: string;
  records?: string;
}

function parseArgs(argv: string[]): Args | 'help' {
  const refs: string[] = [];
  const a: Partial<Args> = {};
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    const eq = t.startsWith('--') ? t.indexOf('=') : -1;
    const name = eq > 0 ? t.slice(0, eq) : t;
    const value = (): string => {
      const v = eq > 0 ? t.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`logs export: ${name} needs a value`);
      return v;
    };
    if (name === '-h' || name === '--help') return 'help';
    if (name === '-o' || name === '--output') a.out = value();
    else if (name === '--since') a.since = value();
    else if (name === '--until') a.until = value();
    else if (name === '--records') a.records = value();
    else if (t.startsWith('-')) throw new UsageError(`logs export: unknown flag ${t}`);
    else refs.push(t);
  }
  if (refs.length === 0) throw new UsageError('logs export: name at least one container');
  if (!a.out) throw new UsageError('logs export: -o FILE.tar.gz is required');
  return { refs, out: a.out, ...(a.since ? { since: a.since } : {}), ...(a.until ? { until: a.until } : {}), ...(a.records ? { records: a.records } : {}) };
}

/** The output may be a new name or a regular file; never a symlink (refused, not followed), nor a directory. */
function checkOutput(out: string): void {
  let st;
  try {
    st = lstatSync(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UsageError(`logs export: -o ${out}: ${(err as Error).message}`);
  }
  if (st.isSymbolicLink()) throw new UsageError(`logs export: -o ${out} is a symbolic link: refused (sdocker does not write through one)`);
  if (!st.isFile()) throw new UsageError(`logs export: -o ${out} exists and is not a regular file`);
}

export async function logsExportCommand(argv: string[], io: ProcessIO, globals: GlobalOptions = {}): Promise<number> {
  const args = parseArgs(argv);
  if (args === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const now = Date.now();
  const until = args.until !== undefined ? apiTime(args.until, '--until', now) : { api: (now / 1000).toFixed(3), ms: now };
  const since = args.since !== undefined ? apiTime(args.since, '--since', now) : undefined;
  if (since && since.ms > until.ms) throw new UsageError('logs export: --since is after --until');
  const out = resolve(io.cwd, args.out);
  checkOutput(out);
  const dir = dirname(out);
  removeStale(dir);
  const recordsPath = args.records !== undefined ? resolve(io.cwd, args.records) : auditLogPath(io.env);
  let recordsNote = recordsPath;
  try {
    if (!lstatSync(recordsPath).isFile()) recordsNote = `${recordsPath} (not a regular file: not read)`;
  } catch {
    recordsNote = `${recordsPath} (not there: no records)`;
  }
  const readRecords = recordsNote === recordsPath ? recordsPath : undefined;

  // Signals are ours before the work directory exists: no moment where one would leave it behind.
  const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  let onSignal!: (s: NodeJS.Signals) => void;
  const stopped = new Promise<never>((_, reject) => {
    onSignal = (s) => reject(new SdockerError(`logs export: interrupted by ${s}: no archive written`, CODES[s] ?? 130));
  });
  stopped.catch(() => undefined);
  const unsubs = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => io.onSignal(s, () => onSignal(s)));
  let work: string;
  try {
    work = makeWorkDir(dir);
  } catch (err) {
    for (const u of unsubs) u();
    throw new UsageError(`logs export: cannot write in ${dir}: ${(err as Error).message}`);
  }
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  const client = new EngineClient(resolveEndpoint(globals, io.env));
  try {
    const entries: ArchiveEntry[] = [];
    const manifest: Manifest = {
      format: 'sdocker-logs-export/1', createdAt: new Date(now).toISOString(), ...(args.since ? { since: args.since } : {}),
      until: new Date(until.ms).toISOString(), records: recordsNote, containers: [], entries: [],
    };
    const exportAll = async (): Promise<void> => {
      const seen = new Set<string>();
      for (const [i, ref] of args.refs.entries()) {
        const sub = join(work, String(i));
        mkdirSync(sub, { mode: 0o700 });
        const c = await collectContainer(client, ref, sub, { until: until.api, ...(since ? { since: since.api } : {}) }, readRecords);
        if (seen.has(c.info.Id)) continue;
        seen.add(c.info.Id);
        const folder = folderOf(c.info.Id, c.info.Name);
        manifest.containers.push({ id: c.info.Id, name: c.info.Name.replace(/^\//, ''), tty: !!c.info.Config?.Tty, records: c.records, events: c.events });
        for (const p of c.parts) {
          const name = `${folder}/${p.name}`;
          entries.push({ name, path: p.spooled.path, size: p.spooled.size });
          manifest.entries.push({ name, size: p.spooled.size, sha256: p.spooled.sha256, ...(p.name.endsWith('.log') ? { lines: p.spooled.lines } : {}) });
        }
      }
      entries.push({ name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) });
      const tmp = join(work, 'archive.tar.gz');
      await writeArchive(tmp, entries, new Date(now));
      checkOutput(out);
      renameSync(tmp, out);
    };
    // A failure of the disk (ENOSPC ...) or of the engine's stream: said plainly, no archive left.
    const job = exportAll().catch((err: unknown) => {
      if (err instanceof SdockerError) throw err;
      throw new SdockerError(`logs export: ${(err as Error).message}: no archive written`);
    });
    // Interrupted: the work goes on a moment in the background, into a directory removed under it.
    job.catch(() => undefined);
    await Promise.race([job, stopped]);
    io.stderr.write(`sdocker: exported ${manifest.containers.length} container${manifest.containers.length === 1 ? '' : 's'} to ${basename(out)} (${manifest.entries.length} entries)\n`);
    return 0;
  } finally {
    for (const u of unsubs) u();
    client.close();
    cleanup();
  }
}
