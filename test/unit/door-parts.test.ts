/**
 * The door's pure parts: the request target read as the engine's router reads it, hop-by-hop
 * headers, the decision line, /etc/group, and which directories may hold the door's socket.
 */
import { describe, expect, it } from 'vitest';
import { gidOfGroup } from '../../src/door/groups.js';
import { endToEnd, responseHead, toObject } from '../../src/door/headers.js';
import { unsafeDirectory } from '../../src/door/listen.js';
import { formatDecision } from '../../src/door/log.js';
import { parseTarget } from '../../src/door/target.js';
import { parseJsonBody } from '../../src/door/body.js';

describe('parseTarget', () => {
  it('splits the version prefix and the query, and decodes the path as the router does', () => {
    const t = parseTarget('/v1.41/containers/create?name=a%20b&x=1');
    expect(t.ok && t.target.path).toBe('/containers/create');
    expect(t.ok && t.target.apiVersion).toBe('1.41');
    expect(t.ok && t.target.query.get('name')).toBe('a b');
    const u = parseTarget('/containers/json');
    expect(u.ok && u.target.apiVersion).toBeUndefined();
    expect(u.ok && u.target.path).toBe('/containers/json');
    // %2F is a slash to gorilla/mux on url.Path: the judge sees the route the engine will run
    const e = parseTarget('/v1.41/containers%2Fcreate');
    expect(e.ok && e.target.path).toBe('/containers/create');
    const img = parseTarget('/v1.41/images/library/busybox:latest/json');
    expect(img.ok && img.target.path).toBe('/images/library/busybox:latest/json');
  });

  it('refuses what it cannot read exactly as the engine does', () => {
    for (const bad of [
      'http://x/v1.41/containers/json',
      '*',
      '/v1.41/containers/../containers/create',
      '/v1.41/containers/%2e%2e/containers/create',
      '/v1.41/containers/a%2F..%2F..%2Fcontainers/create',
      '//containers/json',
      '/v1.41/./containers/json',
      '/v1.41/containers/x%zz',
      '/v1.41/containers/%ff/json',
      '/v1.41/containers/a%00/json',
      '/v1.41/containers/json#x',
      '/v1.41/containers/json?a=1;b=2',
      '/v1.41/containers/json?a=%zz',
      '/v.../containers/create',
      '/v1/containers/create',
    ]) {
      expect(parseTarget(bad).ok, bad).toBe(false);
    }
  });

  it('keeps a trailing slash (mux keeps it: a different, unknown route) and the bare version', () => {
    const t = parseTarget('/v1.41/containers/json/');
    expect(t.ok && t.target.path).toBe('/containers/json/');
    const v = parseTarget('/v1.41');
    expect(v.ok && v.target.path).toBe('/');
  });
});

describe('headers', () => {
  it('drops hop-by-hop headers and those the Connection header names', () => {
    const raw = ['Host', 'x', 'Connection', 'keep-alive, X-Private', 'X-Private', '1', 'Transfer-Encoding', 'chunked', 'Upgrade', 'tcp', 'X-Registry-Auth', 'abc', 'Content-Length', '3'];
    expect(endToEnd(raw)).toEqual(['Host', 'x', 'X-Registry-Auth', 'abc', 'Content-Length', '3']);
    expect(endToEnd(raw, ['content-length'])).toEqual(['Host', 'x', 'X-Registry-Auth', 'abc']);
  });

  it('keeps repeated headers, in order', () => {
    expect(toObject(['A', '1', 'a', '2', 'B', '3'])).toEqual({ A: ['1', '2'], B: '3' });
  });

  it('writes a response head without CR/LF injection', () => {
    expect(responseHead(101, 'UPGRADED', ['Upgrade', 'tcp\r\nX: y'])).toBe('HTTP/1.1 101 UPGRADED\r\nUpgrade: tcpX: y\r\n\r\n');
  });
});

describe('decision lines', () => {
  const d = { time: '2026-01-01T00:00:00.000Z', route: 'container.create', method: 'POST', path: '/containers/create', action: 'refuse' as const, status: 403, rules: ['SD-CAP-001', 'SD-PRIV-001'] };
  it('text: one line, the peer or "unknown"', () => {
    expect(formatDecision({ ...d, peer: { uid: 1000, gid: 1000, pid: 42 } }, 'text')).toBe(
      '2026-01-01T00:00:00.000Z refuse container.create POST /containers/create status=403 peer=uid:1000,gid:1000,pid:42 rules=SD-CAP-001,SD-PRIV-001\n',
    );
    expect(formatDecision({ ...d, path: '/a b' }, 'text')).toContain(' "/a b" status=403 peer=unknown ');
  });
  it('json: one object a line', () => {
    const line = formatDecision({ ...d, peer: { uid: 0, gid: 0, pid: 1 } }, 'json');
    expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ ...d, peer: { uid: 0, gid: 0, pid: 1 } });
  });
});

describe('groups and socket directories', () => {
  const text = '#comment:x:1:\nroot:x:0:\ndocker:x:998:alice\nsdocker:x:1234:bob,carol\n';
  it('finds a group by name, or takes a number', () => {
    expect(gidOfGroup(text, 'sdocker')).toBe(1234);
    expect(gidOfGroup(text, 'root')).toBe(0);
    expect(gidOfGroup(text, '4321')).toBe(4321);
    expect(gidOfGroup(text, 'nope')).toBeUndefined();
    expect(gidOfGroup(text, '#comment')).toBeUndefined();
  });

  it('refuses a directory others, a non-root group or another user could change', () => {
    expect(unsafeDirectory('/run/sdocker', { uid: 0, gid: 0, mode: 0o40755 }, 0, true)).toBeUndefined();
    expect(unsafeDirectory('/run/sdocker', { uid: 0, gid: 0, mode: 0o40775 }, 0, true)).toBeUndefined();
    expect(unsafeDirectory('/run/sdocker', { uid: 0, gid: 1234, mode: 0o40775 }, 0, true)).toMatch(/writable by group 1234/);
    expect(unsafeDirectory('/tmp', { uid: 0, gid: 0, mode: 0o41777 }, 0, true)).toMatch(/writable by every user/);
    // above the socket's own directory, a root-owned sticky directory is fine
    expect(unsafeDirectory('/tmp', { uid: 0, gid: 0, mode: 0o41777 }, 0, false)).toBeUndefined();
    expect(unsafeDirectory('/home/eve', { uid: 1001, gid: 1001, mode: 0o40755 }, 0, false)).toMatch(/belongs to uid 1001/);
    expect(unsafeDirectory('/home/me', { uid: 1000, gid: 1000, mode: 0o40700 }, 1000, true)).toBeUndefined();
  });
});

describe('judged bodies', () => {
  it('parses JSON strictly; empty is undefined', () => {
    expect(parseJsonBody(Buffer.from(''))).toEqual({ ok: true, value: undefined });
    expect(parseJsonBody(Buffer.from('{"a":1}'))).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonBody(Buffer.from('{"a":1} {"b":2}')).ok).toBe(false);
    expect(parseJsonBody(Buffer.from('\ufeff{"a":1}')).ok).toBe(false);
  });
});
