/**
 * `sdocker audit-log verify [PATH]`: check the run record's hash chain.
 * `sdocker audit-log path`: print where the record is written.
 * Exit 0 when intact, 1 when tampering is found, 125 on usage errors.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { auditLogPath, verifyAuditLog } from '../record/run-record.js';
import { UsageError } from '../errors.js';
import type { ProcessIO } from '../io/process-io.js';

const HELP = `Usage:  sdocker audit-log verify [PATH]
        sdocker audit-log path

Check the hash chain of the run record (default: $SDOCKER_STATE_DIR/audit.jsonl, else
$XDG_STATE_HOME/sdocker/audit.jsonl, else ~/.local/state/sdocker/audit.jsonl).
Reports every edited, deleted or reordered line with its line number.
`;

export async function auditLogCommand(argv: string[], io: ProcessIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(HELP);
    return sub === undefined ? 125 : 0;
  }
  if (sub === 'path') {
    io.stdout.write(`${auditLogPath(io.env)}\n`);
    return 0;
  }
  if (sub !== 'verify') throw new UsageError(`audit-log: unknown command "${sub}" (expected verify or path)`);
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  if (args.length > 1) throw new UsageError('audit-log verify takes at most one PATH');
  const path = args[0] !== undefined ? resolve(io.cwd, args[0]) : auditLogPath(io.env);
  if (!existsSync(path)) throw new UsageError(`audit-log verify: ${path}: no such file`);
  const r = verifyAuditLog(path);
  if (json) {
    io.stdout.write(`${JSON.stringify({ path, ...r })}\n`);
  } else if (r.ok) {
    io.stdout.write(`${path}: ${r.lines} record${r.lines === 1 ? '' : 's'}, chain intact\n`);
  } else {
    for (const p of r.problems) io.stdout.write(`${path}:${p.line}: ${p.message}\n`);
    io.stdout.write(`${path}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} in ${r.lines} records: the log was tampered with\n`);
  }
  return r.ok ? 0 : 1;
}
