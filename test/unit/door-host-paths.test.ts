/** The door's host-path judgement (src/door/routes/host-paths.ts), on a file system described here. */
import { describe, expect, it } from 'vitest';
import { foreignUser, hostPathsOf, hostSourcesOf, permits, unreachable } from '../../src/door/routes/host-paths.js';
import { namedVolumesIn, networksIn, ownerPeer, withOwner } from '../../src/door/routes/owners.js';

const DIR = 0o040000;
const FILE = 0o100000;
const fs: Record<string, { mode: number; uid: number; gid: number }> = {
  '/': { mode: DIR | 0o755, uid: 0, gid: 0 },
  '/srv': { mode: DIR | 0o755, uid: 0, gid: 0 },
  '/srv/closed': { mode: DIR | 0o700, uid: 0, gid: 0 },
  '/srv/closed/pub': { mode: FILE | 0o644, uid: 0, gid: 0 },
  '/srv/group': { mode: DIR | 0o750, uid: 0, gid: 1000 },
  '/srv/group/f': { mode: FILE | 0o640, uid: 0, gid: 1000 },
  '/srv/mine': { mode: DIR | 0o700, uid: 1000, gid: 1000 },
  '/srv/ownerless': { mode: FILE | 0o044, uid: 1000, gid: 1000 },
};
const stat = (p: string) => {
  const s = fs[p];
  if (!s) throw new Error(`ENOENT ${p}`);
  return s;
};
const real = (p: string) => (p === '/srv/link' ? '/srv/closed/pub' : stat(p) && p);
const peer = { uid: 1000, gid: 1000 };

describe('permits', () => {
  it('reads the owner bits for the owner, the group bits for the group, the other bits for the rest', () => {
    expect(permits({ mode: 0o604, uid: 1000, gid: 0 }, peer, 4)).toBe(true);
    expect(permits({ mode: 0o064, uid: 1000, gid: 1000 }, peer, 4)).toBe(false);
    expect(permits({ mode: 0o040, uid: 0, gid: 1000 }, peer, 4)).toBe(true);
    expect(permits({ mode: 0o004, uid: 0, gid: 0 }, peer, 4)).toBe(true);
    expect(permits({ mode: 0o750, uid: 0, gid: 0 }, peer, 1)).toBe(false);
  });
});

describe('unreachable', () => {
  it('refuses a readable file behind a closed directory, and a symlink to it', () => {
    expect(unreachable('/srv/closed/pub', peer, stat, real)).toMatch(/cannot pass \/srv\/closed/);
    expect(unreachable('/srv/link', peer, stat, real)).toMatch(/\(\/srv\/closed\/pub\).*cannot pass/);
  });
  it('accepts what the client reaches by owner or group bits; a directory needs read and search', () => {
    expect(unreachable('/srv/group/f', peer, stat, real)).toBeUndefined();
    expect(unreachable('/srv/mine', peer, stat, real)).toBeUndefined();
    expect(unreachable('/srv/mine', { uid: 1001, gid: 1001 }, stat, real)).toMatch(/cannot read/);
  });
  it('refuses a missing path (nothing is made on the host)', () => {
    expect(unreachable('/srv/nope/x', peer, stat, real)).toMatch(/does not exist/);
  });
  it('uses the owner bits alone for the owner', () => {
    expect(unreachable('/srv/ownerless', peer, stat, real)).toMatch(/cannot read/);
  });
});

describe('foreignUser', () => {
  it('accepts the client\'s uid:gid and 65534, nothing else', () => {
    expect(foreignUser('1000:1000', [], peer)).toBeUndefined();
    expect(foreignUser('65534:65534', null, peer)).toBeUndefined();
    expect(foreignUser('1001:1001', [], peer)).toMatch(/uid 1001/);
    expect(foreignUser('1000:42', [], peer)).toMatch(/gid 42/);
    expect(foreignUser('1000', [], peer)).toMatch(/not a numeric uid:gid/);
    expect(foreignUser('nobody', [], peer)).toMatch(/not a numeric/);
    expect(foreignUser('1000:1000', ['42'], peer)).toMatch(/adds groups/);
  });
});

describe('host paths named', () => {
  it('by a create body: bind sources, mount sources, a volume\'s device', () => {
    expect(hostSourcesOf({ Image: 'x', HostConfig: {
      Binds: ['/a:/x:ro', 'named:/y', '/a:/z'],
      Mounts: [{ Type: 'bind', Source: '/b', Target: '/b' }, { Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/c' } } } }],
    } })).toEqual(['/a', '/b', '/c']);
  });
  it('by a created container: bind mounts and volumes with a device', () => {
    expect(hostPathsOf([
      { Type: 'bind', Source: '/a', Destination: '/a' }, { Type: 'volume', Name: 'v', Source: '/var/lib/docker/volumes/v/_data', Destination: '/v' },
      { Type: 'volume', Name: 'plain', Source: '/var/lib/docker/volumes/plain/_data', Destination: '/p' }, { Type: 'tmpfs', Source: '', Destination: '/t' },
    ], { v: { type: 'none', o: 'bind', device: '/d' }, plain: null })).toEqual(['/a', '/d']);
  });
});

describe('owners (src/door/routes/owners.ts)', () => {
  it('labels with the client\'s uid, replacing a client-given owner in any case', () => {
    expect(withOwner({ a: '1', 'IO.SDOCKER.OWNER': '0', 'io.sdocker.owner': '0' }, 1000)).toEqual({ a: '1', 'io.sdocker.owner': '1000' });
    expect(withOwner(undefined, 1000)).toEqual({ 'io.sdocker.owner': '1000' });
  });
  it('finds the named volumes and the networks a create names', () => {
    const body = { Image: 'x', HostConfig: {
      Binds: ['/host:/h', 'data:/d', 'data:/e:ro'], NetworkMode: 'backend',
      Mounts: [{ Type: 'volume' as const, Source: 'cache', Target: '/c' }, { Type: 'volume' as const, Target: '/anon' }],
    }, NetworkingConfig: { EndpointsConfig: { backend: {}, other: {} } } };
    expect(namedVolumesIn(body).map((v) => v.name)).toEqual(['data', 'cache']);
    expect(networksIn(body)).toEqual(['backend', 'other']);
    for (const mode of ['', 'default', 'bridge', 'none', 'host', 'container:x']) expect(networksIn({ Image: 'x', HostConfig: { NetworkMode: mode } })).toEqual([]);
  });
});

describe('ownerPeer', () => {
  const restricted = { unconfined: false } as unknown as Parameters<typeof ownerPeer>[0]['profile'];
  const peer = { uid: 1000, gid: 1000, pid: 1 };
  it('compares a non-root client of sdocker serve; not root, not a TLS client, not the CLI\'s own private door, not level privileged', () => {
    expect(ownerPeer({ profile: restricted }, peer)).toBe(peer);
    expect(ownerPeer({ profile: restricted }, { ...peer, uid: 0 })).toBeUndefined();
    expect(ownerPeer({ profile: restricted }, undefined)).toBeUndefined();
    expect(ownerPeer({ profile: restricted, hostUser: true }, peer)).toBeUndefined();
    expect(ownerPeer({ profile: { unconfined: true } as unknown as typeof restricted }, peer)).toBeUndefined();
  });
});
