import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { appendRecord, auditLogPath, stateDir, verifyAuditLog, type RunRecord } from '../../src/record/run-record.js';
import { auditLogCommand } from '../../src/cli/audit-log.js';
import type { ProcessIO } from '../../src/io/process-io.js';

function rec(i: number): RunRecord {
  return {
    time: `2024-01-01T00:00:0${i}Z`, event: 'run', user: 'u', uid: 1000, host: 'h', cwd: '/w', profiles: [], level: 'restricted',
    mode: 'enforce', image: 'busybox', argv: ['busybox', 'echo', String(i)], changes: [], violations: [], allowances: [], containerId: `c${i}`, exitStatus: 0,
  };
}

function log(n = 5): string {
  const p = join(mkdtempSync(join(tmpdir(), 'sdocker-audit-')), 'state', 'audit.jsonl');
  for (let i = 1; i <= n; i++) appendRecord(p, rec(i));
  return p;
}

const lines = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean);
const write = (p: string, ls: string[]) => writeFileSync(p, `${ls.join('\n')}\n`);

function io(env: Record<string, string> = {}): ProcessIO & { out: () => string } {
  const stdout = new PassThrough();
  let buf = '';
  stdout.on('data', (d) => (buf += String(d)));
  return {
    stdin: new PassThrough(), stdout, stderr: new PassThrough(), env, cwd: '/',
    onSignal: () => () => {}, onResize: () => () => {}, out: () => buf,
  };
}

describe('run record', () => {
  test('state dir and path', () => {
    expect(stateDir({ SDOCKER_STATE_DIR: '/s' })).toBe('/s');
    expect(stateDir({ XDG_STATE_HOME: '/x' })).toBe('/x/sdocker');
    expect(stateDir({ HOME: '/home/u' })).toBe('/home/u/.local/state/sdocker');
    expect(auditLogPath({ SDOCKER_STATE_DIR: '/s' })).toBe('/s/audit.jsonl');
    expect(auditLogPath({}, '/var/log/x.jsonl')).toBe('/var/log/x.jsonl');
  });
  test('an intact chain verifies', () => {
    const p = log();
    expect(verifyAuditLog(p)).toEqual({ ok: true, lines: 5, problems: [] });
    const first = JSON.parse(lines(p)[0]!);
    expect(first.prev).toBe('0'.repeat(64));
    expect(first.seq).toBe(1);
  });
  test('an edited line is found (middle and last)', () => {
    const p = log();
    const ls = lines(p);
    ls[2] = ls[2]!.replace('"exitStatus":0', '"exitStatus":1');
    write(p, ls);
    const r = verifyAuditLog(p);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatchObject({ line: 4 });
    expect(r.problems[0]!.message).toContain('line 3 was edited');
    const q = log();
    const qs = lines(q);
    qs[4] = qs[4]!.replace('busybox', 'evil');
    write(q, qs);
    expect(verifyAuditLog(q).problems).toEqual([{ line: 5, message: 'the last line does not match the head: it was edited' }]);
  });
  test('a deleted line is found (middle, first, last)', () => {
    const p = log();
    const ls = lines(p);
    ls.splice(2, 1);
    write(p, ls);
    const r = verifyAuditLog(p);
    expect(r.problems.map((x) => x.line)).toContain(3);
    expect(r.problems.some((x) => /deleted/.test(x.message))).toBe(true);
    const f = log();
    write(f, lines(f).slice(1));
    expect(verifyAuditLog(f).problems[0]).toMatchObject({ line: 1 });
    const l = log();
    write(l, lines(l).slice(0, -1));
    expect(verifyAuditLog(l).problems.some((x) => /deleted from the end/.test(x.message))).toBe(true);
  });
  test('reordered lines are found', () => {
    const p = log();
    const ls = lines(p);
    [ls[1], ls[2]] = [ls[2]!, ls[1]!];
    write(p, ls);
    const r = verifyAuditLog(p);
    expect(r.ok).toBe(false);
    expect(r.problems.map((x) => x.line)).toEqual(expect.arrayContaining([2, 3]));
  });
  test('sdocker audit-log verify: exit 0 intact, 1 tampered, with line numbers', async () => {
    const p = log(3);
    const a = io();
    expect(await auditLogCommand(['verify', p], a)).toBe(0);
    expect(a.out()).toContain('3 records, chain intact');
    const ls = lines(p);
    ls[0] = ls[0]!.replace('echo', 'rm');
    write(p, ls);
    const b = io();
    expect(await auditLogCommand(['verify', p], b)).toBe(1);
    expect(b.out()).toContain(`${p}:2: prev does not match the hash of line 1`);
    const c = io({ SDOCKER_STATE_DIR: join(p, '..') });
    expect(await auditLogCommand(['verify'], c)).toBe(1);
  });
});
