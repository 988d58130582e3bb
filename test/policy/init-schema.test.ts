import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { initCommand, starterProfile } from '../../src/cli/init.js';
import type { ProcessIO } from '../../src/io/process-io.js';
import { validateProfile } from '../../src/policy/profile.js';
import { RULES } from '../../src/policy/rules.js';

function io(cwd: string): ProcessIO {
  return { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd, onSignal: () => () => {}, onResize: () => () => {} };
}

describe('sdocker init', () => {
  test('the starter profile reads USER, EXPOSE, VOLUME and is a valid profile', () => {
    const text = starterProfile({ image: 'web', config: { User: '1000', ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} } } });
    expect(text).toContain('runs as 1000 (sdocker adds the group: 1000:1000)');
    expect(text).toContain('VOLUME /data');
    expect(text).toContain('80/tcp');
    expect(() => validateProfile(parse(text), 'sdocker.yaml')).not.toThrow();
    expect(() => validateProfile(parse(starterProfile({ image: 'r', config: { User: '' } })), 'x')).not.toThrow();
  });
  test('writes ./sdocker.yaml and refuses to overwrite it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'sdocker-init-'));
    expect(await initCommand([], io(d))).toBe(0);
    const first = readFileSync(join(d, 'sdocker.yaml'), 'utf8');
    expect(first).toContain('extends: restricted');
    writeFileSync(join(d, 'sdocker.yaml'), 'mine\n');
    await expect(initCommand(['--level', 'baseline'], io(d))).rejects.toThrow(/already exists/);
    expect(readFileSync(join(d, 'sdocker.yaml'), 'utf8')).toBe('mine\n');
  });
});

describe('schema and docs', () => {
  const schema = JSON.parse(readFileSync('profiles/sdocker.schema.json', 'utf8'));
  test('the schema knows every allowance the validator knows, and nothing else', () => {
    for (const k of Object.keys(schema.properties.allow.properties)) {
      const list = schema.properties.allow.properties[k].type === 'array';
      const field = list ? schema.properties.allow.properties[k].items.required[0] : undefined;
      const entry = field ? [{ [field]: k === 'hostNamespaces' ? 'pid' : k === 'unlimited' ? 'memory' : k === 'portAddresses' ? '0.0.0.0' : k === 'devices' ? '/dev/x' : k === 'sysctls' ? 'net.x' : k === 'syscalls' ? 'unshare' : 'X', reason: 'r' }] : { reason: 'r' };
      expect(() => validateProfile({ allow: { [k]: entry } }, 'x')).not.toThrow();
    }
    expect(() => validateProfile({ allow: { notInSchema: { reason: 'r' } } }, 'x')).toThrow(/unknown allowance/);
  });
  test('docs/policy.md lists every rule id with its guideline', () => {
    const doc = readFileSync('docs/policy.md', 'utf8');
    for (const r of Object.values(RULES)) expect(doc).toContain(`| ${r.id} | ${r.guideline} |`);
  });
});
