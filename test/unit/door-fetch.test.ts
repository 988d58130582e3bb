/**
 * What the engine would fetch for a request, read as the engine reads the query (r.FormValue: the
 * first value of a parameter, names case-sensitive), and who may ask for it (SD-DOOR-008).
 */
import { describe, expect, it } from 'vitest';
import { engineFetchOf, judgeEngineFetch } from '../../src/door/routes/fetch.js';
import { loadDoorProfile } from '../../src/door/core.js';
import type { EngineClient } from '../../src/engine/client.js';
import type { DoorRequest } from '../../src/door/types.js';

const q = (s: string) => new URLSearchParams(s);

describe('engineFetchOf', () => {
  it('a build context in the body or over the session is nothing fetched; any other remote is', () => {
    expect(engineFetchOf('build', q(''))).toBeUndefined();
    expect(engineFetchOf('build', q('remote='))).toBeUndefined();
    expect(engineFetchOf('build', q('remote=client-session'))).toBeUndefined();
    expect(engineFetchOf('build', q('remote=http://127.0.0.1:9/x'))).toBe('http://127.0.0.1:9/x');
    expect(engineFetchOf('build', q('remote=git@host:repo.git'))).toBe('git@host:repo.git');
    // Not a URL the door recognises, but not one of the two it knows to be safe: fetched (refused).
    expect(engineFetchOf('build', q('remote=Client-Session'))).toBe('Client-Session');
    expect(engineFetchOf('build', q('remote=%20client-session'))).toBe(' client-session');
  });

  it('a repeated parameter is read as the engine reads it: its first value', () => {
    expect(engineFetchOf('build', q('remote=http://a/x&remote='))).toBe('http://a/x');
    expect(engineFetchOf('build', q('remote=&remote=http://a/x'))).toBeUndefined();
    expect(engineFetchOf('import', q('fromSrc=http://a/x.tar&fromSrc=-'))).toBe('http://a/x.tar');
  });

  it('an import from the body (fromSrc=-) or from no source is nothing fetched', () => {
    expect(engineFetchOf('import', q('fromSrc=-&repo=x'))).toBeUndefined();
    expect(engineFetchOf('import', q('fromImage=busybox&tag=1'))).toBeUndefined();
    // The engine reads fromSrc by its exact name: another spelling is a parameter it ignores.
    expect(engineFetchOf('import', q('fromsrc=http://a/x'))).toBeUndefined();
  });
});

describe('judgeEngineFetch', () => {
  const req = (query: string, peer?: DoorRequest['peer']): DoorRequest => ({
    method: 'POST', path: '/build', apiVersion: '1.41', query: q(query), headers: {}, body: undefined, ...(peer ? { peer } : {}),
  });
  const optsFor = async () => ({ client: {} as EngineClient, profile: await loadDoorProfile({ env: {}, cwd: '/' }), env: {}, cwd: '/' });

  it('refuses a tenant, a TLS client (no uid) too; root on the socket and the CLI private door may fetch', async () => {
    const opts = await optsFor();
    const url = 'remote=http://169.254.169.254/latest/meta-data';
    expect(judgeEngineFetch('build', req(url, { uid: 1000, gid: 1000, pid: 1 }), opts)).toMatchObject({ action: 'refuse', status: 403, rules: ['SD-DOOR-008'] });
    expect(judgeEngineFetch('build', req(url), opts)).toMatchObject({ action: 'refuse', rules: ['SD-DOOR-008'] });
    expect(judgeEngineFetch('build', req(url, { uid: 0, gid: 0, pid: 1 }), opts)).toBeUndefined();
    expect(judgeEngineFetch('build', req(url, { uid: 1000, gid: 1000, pid: 1 }), { ...opts, hostUser: true })).toBeUndefined();
    expect(judgeEngineFetch('build', req('remote=client-session', { uid: 1000, gid: 1000, pid: 1 }), opts)).toBeUndefined();
  });
});
