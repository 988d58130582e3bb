/** `sdocker daemon-config`: the merge with an existing daemon.json, the explanations, bad files (pure, and the CLI on files). */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { HARDENED_KEYS } from '../../src/daemon/hardened.js';
import { mergeHardened, parseDaemonJson } from '../../src/daemon/merge.js';
import { JsonSyntaxError, parseJsonLocated } from '../../src/text/json-located.js';
import { daemonConfigCommand } from '../../src/cli/daemon-config.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { memoryIO } from '../helpers/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'sdocker-daemon-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const status = (m: ReturnType<typeof mergeHardened>, key: string) => m.keys.find((k) => k.key === key)?.status;

describe('the merge', () => {
  test('an empty file: every hardened key added, with its CIS number and why', () => {
    const m = mergeHardened({});
    expect(Object.keys(m.config).sort()).toEqual(HARDENED_KEYS.map((k) => k.key).sort());
    expect(m.config).toMatchObject({ icc: false, 'userns-remap': 'default', 'no-new-privileges': true, 'live-restore': true, 'userland-proxy': false, 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } });
    for (const k of m.keys) {
      expect(k.status).toBe('added');
      expect(k.cis).toMatch(/^2\.\d+$/);
      expect(k.why.length).toBeGreaterThan(20);
    }
  });
  test('the user\'s keys are kept; a conflicting value is changed and reported with both values', () => {
    const m = mergeHardened({ 'data-root': '/srv/docker', icc: true, 'live-restore': true, 'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }] });
    expect(m.config['data-root']).toBe('/srv/docker');
    expect(m.config['default-address-pools']).toEqual([{ base: '10.10.0.0/16', size: 24 }]);
    expect(m.keys.find((k) => k.key === 'icc')).toMatchObject({ status: 'changed', previous: true, value: false });
    expect(m.config.icc).toBe(false);
    expect(status(m, 'live-restore')).toBe('unchanged');
  });
  test('a value at least as strict stays: another remap user, a remote log driver, a smaller rotation', () => {
    const m = mergeHardened({ 'userns-remap': 'builder', 'log-driver': 'journald' });
    expect(m.config['userns-remap']).toBe('builder');
    expect(status(m, 'userns-remap')).toBe('kept');
    expect(m.config['log-driver']).toBe('journald');
    // journald takes no max-size: dockerd would refuse to start with it
    expect(m.config['log-opts']).toBeUndefined();
    expect(m.notes.join('\n')).toContain('journald driver takes no max-size');
    const r = mergeHardened({ 'log-opts': { 'max-size': '5m', 'max-file': '10', labels: 'app' } });
    expect(r.config['log-opts']).toEqual({ 'max-size': '5m', 'max-file': '3', labels: 'app' });
    expect(status(r, 'log-opts')).toBe('changed');
  });
  test('log-driver none is replaced (it keeps nothing)', () => {
    const m = mergeHardened({ 'log-driver': 'none' });
    expect(m.config['log-driver']).toBe('json-file');
    expect(status(m, 'log-driver')).toBe('changed');
  });
  test('TCP without TLS and insecure registries are reported, not changed', () => {
    const m = mergeHardened({ hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2375'], 'insecure-registries': ['reg.local:5000'] });
    expect(m.config.hosts).toEqual(['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2375']);
    expect(m.notes.join('\n')).toMatch(/tcp:\/\/0\.0\.0\.0:2375 listen on TCP without "tlsverify"/);
    expect(m.notes.join('\n')).toContain('reg.local:5000');
    expect(mergeHardened({ hosts: ['tcp://0.0.0.0:2376'], tlsverify: true }).notes.join('\n')).not.toContain('tlsverify');
  });
});

describe('the existing file as dockerd reads it', () => {
  test('a JSON error names the file, line and column', () => {
    expect(() => parseDaemonJson('{\n  "icc": true,\n}\n', '/etc/docker/daemon.json')).toThrow(/^\/etc\/docker\/daemon\.json:3:1: not valid JSON/);
    expect(() => parseDaemonJson('{"a": tru}', 'f.json')).toThrow(/^f\.json:1:\d+: not valid JSON/);
  });
  test('not an object: refused; empty: an empty configuration', () => {
    expect(() => parseDaemonJson('[]', 'f.json')).toThrow('must hold a JSON object');
    expect(() => parseDaemonJson('"x"', 'f.json')).toThrow('must hold a JSON object');
    expect(parseDaemonJson('  \n', 'f.json')).toEqual({});
  });
});

describe('the command', () => {
  test('JSON on stdout (what dockerd reads back), explanations on stderr', () => {
    const f = join(dir, 'ok.json');
    writeFileSync(f, JSON.stringify({ icc: true, 'data-root': '/srv' }));
    const io = memoryIO({ keepStdout: true });
    expect(daemonConfigCommand(['--file', f], io)).toBe(0);
    const cfg = JSON.parse(io.stdoutText()) as Record<string, unknown>;
    expect(cfg).toMatchObject({ icc: false, 'data-root': '/srv' });
    expect(io.stderrText()).toMatch(/icc: false +\[CHANGED \(was true\)\] CIS 2\.1/);
    expect(io.stderrText()).toContain('1 key conflicts with the existing file: icc');
  });
  test('--output json: config, keys and notes in one object', () => {
    const f = join(dir, 'ok2.json');
    writeFileSync(f, '{}');
    const io = memoryIO({ keepStdout: true });
    expect(daemonConfigCommand(['--output=json', '-f', f], io)).toBe(0);
    const o = JSON.parse(io.stdoutText()) as { config: object; keys: { key: string; status: string }[]; notes: string[] };
    expect(o.keys.map((k) => k.key)).toContain('no-new-privileges');
    expect(io.stderrText()).toBe('');
  });
  test('a bad file, a missing named file, a symlink to a device: 125 naming the file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"icc": false,,}');
    expect(() => daemonConfigCommand(['--file', bad], memoryIO())).toThrow(new RegExp(`^${bad}:1:15: not valid JSON`));
    expect(() => daemonConfigCommand(['--file', join(dir, 'none.json')], memoryIO())).toThrow('no such file');
    const link = join(dir, 'link.json');
    symlinkSync('/dev/zero', link);
    expect(() => daemonConfigCommand(['--file', link], memoryIO())).toThrow('not a regular file');
    expect(() => daemonConfigCommand(['--output', 'yaml'], memoryIO())).toThrow('expected text or json');
  });
  test('routing: daemon-config and logs export are sdocker\'s; every other logs line is docker\'s', () => {
    expect(dispatch(['daemon-config']).route).toEqual({ kind: 'sdocker', command: 'daemon-config', args: [] });
    expect(dispatch(['logs', 'export', 'c1', '-o', 'x.tar.gz']).route).toEqual({ kind: 'sdocker', command: 'logs-export', args: ['c1', '-o', 'x.tar.gz'] });
    expect(dispatch(['logs', '-f', 'export']).route).toEqual({ kind: 'pass' });
    expect(dispatch(['logs', 'c1']).route).toEqual({ kind: 'pass' });
    expect(dispatch(['container', 'logs', 'export']).route).toEqual({ kind: 'pass' });
    expect(dispatch(['-H', 'unix:///x.sock', 'logs', 'export', 'c']).route.kind).toBe('sdocker');
  });
});

describe('the located JSON reader daemon-config uses agrees with JSON.parse on what is JSON', () => {
  test.each(['{}', '{"a":[1,2.5e3,-0,true,false,null,"x\\u00e9\\n"]}', ' [ ] ', '{"a":{"b":{}}}', '{,}', '{"a":1,}', '[1,]', '{"a" 1}', 'tru', '01', '"\\x"', '{"a":1}x', '', '"a\tb"', '[-]', '1.', '{"a":"\\ud800"}'])('%j', (t) => {
    let ok = true;
    try {
      JSON.parse(t);
    } catch {
      ok = false;
    }
    let located = true;
    try {
      parseJsonLocated(t);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      located = false;
    }
    expect(located).toBe(ok);
  });
});
