/**
 * `sdocker scan [--output table|json|sarif] [--fail-on SEVERITY] IMAGE`: what privileged files and
 * settings an image carries (src/scan). Exit 0, or 1 when a finding reaches --fail-on (CI), 125 on
 * errors (no such image, an archive sdocker cannot read).
 */
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { UsageError } from '../errors.js';
import { failsOn, parseFailOn, type Severity } from '../report/severity.js';
import { renderJson, renderSarif, renderTable } from '../scan/render.js';
import { scanImage, type ScanVia } from '../scan/scan.js';
import { writeScanCache } from '../scan/cache.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

export const SCAN_VERSION = '0.1.0';

const HELP = `Usage:  sdocker scan [OPTIONS] IMAGE

Stream IMAGE out of the engine and report its setuid and setgid files, files with capabilities,
world-writable directories without the sticky bit, a root or unset USER, and services that should
not run in a container (sshd, init systems). Whiteouts and opaque directories are honoured: only
what a container of the image sees is reported.

Options:
  -o, --output FORMAT    table (default), json, or sarif (SARIF 2.1.0, for code scanning)
      --fail-on SEVERITY exit 1 when a finding is at least SEVERITY (critical, high, medium, low,
                         info; none: never, the default)
      --via PATH         how the layers are read: local (the engine's overlay2 directories in
                         place: a local engine, read as root), save (streamed out of the engine as
                         docker save does), auto (default: local when possible, else save)
`;

export interface ScanArgs {
  image: string;
  output: 'table' | 'json' | 'sarif';
  failOn: Severity | 'none';
  via: ScanVia;
}

export function parseScanArgs(argv: readonly string[]): ScanArgs | 'help' {
  let output: ScanArgs['output'] = 'table';
  let failOn: ScanArgs['failOn'] = 'none';
  let via: ScanVia = 'auto';
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^(--output|-o|--fail-on|--via)(?:=(.*))?$/.exec(a);
    if (a === '-h' || a === '--help') return 'help';
    if (m) {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new UsageError(`scan: ${m[1]} needs a value`);
      if (m[1] === '--fail-on') failOn = parseFailOn(v);
      else if (m[1] === '--via') {
        if (v !== 'auto' && v !== 'local' && v !== 'save') throw new UsageError(`scan: --via: expected auto, local or save, got ${JSON.stringify(v)}`);
        via = v;
      }      else if (v === 'table' || v === 'json' || v === 'sarif') output = v;
      else throw new UsageError(`scan: ${m[1]}: expected table, json or sarif, got ${JSON.stringify(v)}`);
    } else if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a.length > 1) throw new UsageError(`scan: unknown flag ${a}`);
    else rest.push(a);
  }
  if (rest.length !== 1) throw new UsageError(`scan: expected one IMAGE, got ${rest.length}`);
  return { image: rest[0]!, output, failOn, via };
}

export async function scanCommand(argv: string[], io: ProcessIO, globals: GlobalOptions = {}): Promise<number> {
  const args = parseScanArgs(argv);
  if (args === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const client = new EngineClient(resolveEndpoint(globals, io.env));
  try {
    const report = await scanImage(client, args.image, Date.now, args.via);
    // The run-time policy reads the same result (cached by image id): a scan now saves one later.
    writeScanCache(io.env, report);
    io.stdout.write(args.output === 'json' ? renderJson(report) : args.output === 'sarif' ? renderSarif(report, SCAN_VERSION) : renderTable(report));
    return failsOn(report.findings.map((f) => f.severity), args.failOn) ? 1 : 0;
  } finally {
    client.close();
  }
}
