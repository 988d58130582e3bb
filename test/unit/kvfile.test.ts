/**
 * --env-file and --label-file read by docker 28's rules (pkg/kvfile), through the bounded reader,
 * as `sdocker run` does. Expected values were taken from docker 28.2.2's create body.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { buildRunRequest } from '../../src/flags/request.js';
import { readBoundedText } from '../../src/fs/read-bounded.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdt-kv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function build(args: string[], env: Record<string, string> = {}) {
  return buildRunRequest([...args, 'img'], 'create', { cwd: dir, env, readFile: (p, kind) => readBoundedText(resolve(dir, p), kind) }).body;
}

function error(args: string[]): string {
  try {
    build(args);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('env files', () => {
  it('strips a BOM at the start only, skips comments and blank lines, trims leading space (Go unicode.IsSpace), keeps values as written', () => {
    const p = file(
      'a.env',
      '\uFEFFA="quoted"\n\uFEFFB=bom-on-line-2\n# comment\n   # indented comment\n\n  C=  spaced  \n\u000bD=vt\n\u00a0E=nbsp\nF=crlf\r\nG=\nH=x=y\n',
    );
    expect(build(['--env-file', p]).Env).toEqual(['A="quoted"', '\uFEFFB=bom-on-line-2', 'C=  spaced  ', 'D=vt', 'E=nbsp', 'F=crlf', 'G=', 'H=x=y']);
  });

  it('takes a bare NAME from the environment, and leaves it out when the environment lacks it', () => {
    const p = file('b.env', 'FROM_CALLER\nMISSING\nEMPTY\n');
    expect(build(['--env-file', p], { FROM_CALLER: 'v', EMPTY: '' }).Env).toEqual(['FROM_CALLER=v', 'EMPTY=']);
  });

  it('refuses an empty name and a name with spaces, in docker\'s words, naming the line and not quoting it', () => {
    const p = file('c.env', 'A=1\n=secret-value\n');
    expect(error(['--env-file', p])).toBe(`--env-file: invalid env file (${p}): no variable name on line 2`);
    const q = file('d.env', 'A=1\nB=2\nBAD secret=3\n');
    const m = error(['--env-file', q]);
    expect(m).toBe(`--env-file: invalid env file (${q}): variable on line 3 contains whitespaces`);
    expect(m).not.toContain('secret');
    const t = file('e.env', 'A\tB=1\n');
    expect(error(['--env-file', t])).toContain('variable on line 1 contains whitespaces');
  });

  it('refuses invalid UTF-8 with docker\'s text, without the bytes docker prints', () => {
    const p = file('f.env', Buffer.concat([Buffer.from('A=1\nB='), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]));
    expect(error(['--env-file', p])).toBe(`--env-file: invalid env file (${p}): invalid utf8 bytes at line 2`);
  });

  it('refuses a line of 64 KiB or more as docker does (bufio.Scanner: token too long)', () => {
    const ok = file('g.env', `A=${'x'.repeat(65535 - 2)}\n`);
    expect(build(['--env-file', ok]).Env![0]!.length).toBe(65535);
    const long = file('h.env', `A=${'x'.repeat(65536 - 2)}\n`);
    expect(error(['--env-file', long])).toBe(`--env-file: invalid env file (${long}): bufio.Scanner: token too long`);
  });

  it('says "no such file or directory" for a missing file, as docker does', () => {
    expect(error(['--env-file', join(dir, 'missing.env')])).toBe(`--env-file: open ${join(dir, 'missing.env')}: no such file or directory`);
  });
});

describe('label files', () => {
  it('reads labels by the same rules; a bare name is left out', () => {
    const p = file('l', '\uFEFF# labels\nteam=core\nflag\ntier=x \n');
    expect(build(['--label-file', p]).Labels).toEqual({ team: 'core', tier: 'x ' });
  });

  it('refuses a bad name and invalid UTF-8 with the env-file text docker uses for both', () => {
    const p = file('m', 'a b=1\n');
    expect(error(['--label-file', p])).toBe(`--label-file: invalid env file (${p}): variable on line 1 contains whitespaces`);
    const q = file('n', Buffer.from([0x61, 0x3d, 0xc3]));
    expect(error(['--label-file', q])).toBe(`--label-file: invalid env file (${q}): invalid utf8 bytes at line 1`);
  });
});
