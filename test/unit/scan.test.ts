/**
 * The scanner's pure parts: the tar header reader (against tar-stream's and our own writer, binary
 * PAX values, split chunks), capability decoding, the layer merge (whiteouts, opaque directories,
 * replacement), findings from the config (USER on the image's own passwd, services), the save
 * archive read in any order, the cache's validation, and the command lines.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { capsText, decodeFileCaps, encodeFileCaps } from '../../src/scan/caps.js';
import { emptySummary, layerCollector, type LayerSummary } from '../../src/scan/layer.js';
import { hiddenAbove, mergedFile, survivors } from '../../src/scan/merge.js';
import { findingsOf, programsRun } from '../../src/scan/findings.js';
import { orderImage, readSaveStream } from '../../src/scan/save-stream.js';
import { layerPath, TarFormatError, TarReader, type TarHeader } from '../../src/scan/tar-reader.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from '../../src/scan/tar-writer.js';
import { parseCachedScan } from '../../src/scan/cache.js';
import { parseScanArgs } from '../../src/cli/scan.js';
import { parseHardenArgs } from '../../src/cli/image-harden.js';
import { hardenedEntry, hardenTargets, normaliseTag } from '../../src/scan/harden.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { packToBuffer } from '../helpers/images.js';
import { layerTar, type Entry } from '../helpers/scan-images.js';

function readAll(buf: Buffer, chunk = buf.length): TarHeader[] {
  const out: TarHeader[] = [];
  const r = new TarReader((h) => {
    out.push(h);
    return undefined;
  });
  for (let i = 0; i < buf.length; i += chunk) r.write(buf.subarray(i, i + chunk));
  r.end();
  return out;
}

function summaryOf(entries: Entry[]): LayerSummary {
  const { reader, summary } = layerCollector(emptySummary());
  reader.write(layerTar(entries));
  reader.end();
  return summary;
}

describe('tar reader', () => {
  it('reads tar-stream archives (ustar prefix, PAX long names, links) in any chunking', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(130)}`;
    const buf = await packToBuffer((p) => {
      p.entry({ name: 'bin/', type: 'directory', mode: 0o755 });
      p.entry({ name: 'bin/su', mode: 0o4755, uid: 0, gid: 0 }, 'x'.repeat(1000));
      p.entry({ name: long, mode: 0o2755, uid: 7, gid: 42 }, 'y');
      p.entry({ name: 'bin/sh', type: 'symlink', linkname: 'busybox' });
      p.entry({ name: 'bin/su2', type: 'link', linkname: 'bin/su', mode: 0o4755 });
    });
    for (const chunk of [buf.length, 512, 511, 7, 1]) {
      const hs = readAll(buf, chunk);
      expect(hs.map((h) => [h.name, h.type, h.mode.toString(8), h.uid, h.gid])).toEqual([
        ['bin/', 'directory', '755', 0, 0],
        ['bin/su', 'file', '4755', 0, 0],
        [long, 'file', '2755', 7, 42],
        ['bin/sh', 'symlink', '644', 0, 0],
        ['bin/su2', 'link', '4755', 0, 0],
      ]);
      expect(hs[4]!.linkname).toBe('bin/su');
    }
  });

  it('keeps a binary PAX value byte for byte (tar-stream would turn 0x80 into U+FFFD)', () => {
    const caps = encodeFileCaps(['SETUID', 'NET_RAW', 'SYS_ADMIN']); // SETUID is bit 7: a 0x80 byte
    expect(caps.includes(0x80)).toBe(true);
    const buf = Buffer.concat([encodeHeader({ name: 'a'.repeat(150), type: 'file', mode: 0o755, uid: 0, gid: 0, size: 3, mtime: 1, pax: new Map([['SCHILY.xattr.security.capability', caps]]) }), Buffer.from('abc'), padding(3), END_OF_ARCHIVE]);
    const [h] = readAll(buf, 100);
    expect(h!.name).toBe('a'.repeat(150));
    expect(h!.pax.get('SCHILY.xattr.security.capability')).toEqual(caps);
  });

  it('refuses a bad checksum, a truncated entry, a path climbing out of the root', () => {
    const good = layerTar([{ path: '/x', body: 'hello' }]);
    const bad = Buffer.from(good);
    bad[0] = 0x79;
    expect(() => readAll(bad)).toThrow(TarFormatError);
    expect(() => readAll(good.subarray(0, 700))).toThrow(/truncated/);
    expect(() => layerPath('../etc/passwd')).toThrow(/climbs/);
    expect(layerPath('./bin//su/')).toBe('/bin/su');
  });

  it('reads base-256 numbers (uids beyond octal)', () => {
    const h = encodeHeader({ name: 'x', type: 'file', mode: 0o4755, uid: 3_000_000, gid: 5, size: 0, mtime: 0 });
    expect(readAll(Buffer.concat([h, END_OF_ARCHIVE]))[0]!.uid).toBe(3_000_000);
  });
});

describe('file capabilities', () => {
  it('decodes v2 and v3 vfs_cap_data to names, and refuses what it cannot read', () => {
    const v2 = decodeFileCaps(encodeFileCaps(['NET_RAW', 'NET_BIND_SERVICE']));
    expect(v2).toEqual({ version: 2, effective: true, permitted: ['NET_BIND_SERVICE', 'NET_RAW'], inheritable: [] });
    const v3 = decodeFileCaps(encodeFileCaps(['CHECKPOINT_RESTORE'], { rootid: 1000, effective: false }));
    expect(v3).toMatchObject({ version: 3, effective: false, permitted: ['CHECKPOINT_RESTORE'], rootid: 1000 });
    // setcap cap_net_raw+ep as written by libcap: 01 00 00 02, then 0x2000.
    const raw = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const d = decodeFileCaps(raw);
    expect(d).toMatchObject({ permitted: ['NET_RAW'], effective: true });
    expect(capsText(d as Exclude<typeof d, { error: string }>)).toBe('cap_net_raw+ep');
    expect(decodeFileCaps(Buffer.from('0100000400200000', 'hex'))).toHaveProperty('error');
    expect(decodeFileCaps(raw.subarray(0, 16))).toHaveProperty('error');
    expect(decodeFileCaps(Buffer.from('0300000200200000000000000000000000000000', 'hex'))).toHaveProperty('error');
  });

  it('round-trips every set of capabilities', () => {
    fc.assert(
      fc.property(fc.subarray([...Array(41).keys()]), (bits) => {
        const names = bits.map((b) => decodeNames(b));
        const d = decodeFileCaps(encodeFileCaps(names));
        expect(d).toMatchObject({ permitted: names });
      }),
    );
  });
});

function decodeNames(bit: number): string {
  const lo = bit < 32 ? (1 << bit) >>> 0 : 0;
  const hi = bit >= 32 ? (1 << (bit - 32)) >>> 0 : 0;
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000000, 0);
  b.writeUInt32LE(lo, 4);
  b.writeUInt32LE(hi, 12);
  return (decodeFileCaps(b) as { permitted: string[] }).permitted[0]!;
}

describe('layer merge', () => {
  const base = summaryOf([
    { path: '/bin', dir: true },
    { path: '/bin/su', mode: 0o4755 },
    { path: '/bin/mount', mode: 0o4755 },
    { path: '/opt', dir: true },
    { path: '/opt/o', dir: true },
    { path: '/opt/o/a', mode: 0o4755 },
    { path: '/opt/keep', mode: 0o2755 },
    { path: '/tmp', dir: true, mode: 0o1777 },
    { path: '/ww', dir: true, mode: 0o777 },
  ]);

  it('a whiteout deletes, an opaque directory hides, a rewrite replaces, a later copy is reported from its layer', () => {
    const upper = summaryOf([
      { path: '/bin/.wh.su' },
      { path: '/opt/o/.wh..wh..opq' },
      { path: '/opt/o/b', mode: 0o4700 },
      { path: '/bin/mount', mode: 0o755 },
      { path: '/ww', dir: true, mode: 0o1777 },
    ]);
    const again = summaryOf([{ path: '/bin/su', mode: 0o4711 }]);
    expect(survivors([base, upper]).map((s) => `${s.layer} ${s.path}`)).toEqual(['0 /opt/keep', '1 /opt/o/b']);
    expect(survivors([base, upper, again]).map((s) => `${s.layer} ${s.path} ${s.mode.toString(8)}`)).toEqual(['0 /opt/keep 2755', '1 /opt/o/b 4700', '2 /bin/su 4711']);
    // Order matters: the same layers stacked the other way round keep base's entries.
    expect(survivors([upper, base]).map((s) => s.path)).toEqual(['/opt/o/b', '/bin/mount', '/bin/su', '/opt/keep', '/opt/o/a', '/ww']);
  });

  it('a whiteout of an ancestor, an opaque root, a file over a directory hide everything under them', () => {
    expect(hiddenAbove([base, summaryOf([{ path: '/.wh.opt' }])], 0, '/opt/o/a')).toBe(true);
    expect(hiddenAbove([base, summaryOf([{ path: '/.wh..wh..opq' }])], 0, '/bin/su')).toBe(true);
    expect(hiddenAbove([base, summaryOf([{ path: '/opt', body: 'file' }])], 0, '/opt/keep')).toBe(true);
    expect(hiddenAbove([base, summaryOf([{ path: '/opt/other', body: 'x' }])], 0, '/opt/keep')).toBe(false);
    // aufs bookkeeping names are not whiteouts of files.
    expect(summaryOf([{ path: '/.wh..wh.plnk', dir: true }]).whiteouts.size).toBe(0);
  });

  it('equals a model filesystem built by applying the layers one by one (generated layers)', () => {
    const names = ['/a', '/a/b', '/a/b/c', '/d', '/d/e'];
    const op = fc.record({ path: fc.constantFrom(...names), kind: fc.constantFrom('suid', 'plain', 'dir', 'whiteout', 'opaque') });
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(op, { minLength: 1, maxLength: 4, selector: (o) => o.path }), { minLength: 1, maxLength: 4 }), (layers) => {
        // A layer cannot hold a file (or a whiteout) and something under it: no tar the engine writes does.
        for (const ops of layers) {
          for (const o of ops) if (o.kind !== 'dir' && o.kind !== 'opaque') fc.pre(!ops.some((x) => x.path.startsWith(`${o.path}/`)));
        }
        // The model, as the engine applies a layer on overlayfs: path -> what is there and from which layer.
        const fs = new Map<string, { dir: boolean; suid: boolean; layer: number }>();
        const dropUnder = (p: string) => {
          for (const k of [...fs.keys()]) if (k.startsWith(`${p}/`)) fs.delete(k);
        };
        const parents = (p: string) => {
          const out: string[] = [];
          for (let d = p.slice(0, p.lastIndexOf('/')); d; d = d.slice(0, d.lastIndexOf('/'))) out.push(d);
          return out;
        };
        const mkdir = (d: string, layer: number) => {
          if (fs.get(d)?.dir === false) dropUnder(d);
          fs.set(d, { dir: true, suid: false, layer });
        };
        const entriesOf: Entry[][] = layers.map((ops, i) => {
          const entries: Entry[] = [];
          // Deletions first (they concern the layers below), then what this layer writes.
          for (const o of ops) {
            const parent = o.path.slice(0, o.path.lastIndexOf('/'));
            if (o.kind === 'whiteout') {
              entries.push({ path: `${parent}/.wh.${o.path.slice(parent.length + 1)}` });
              fs.delete(o.path);
              dropUnder(o.path);
            } else if (o.kind === 'opaque') {
              entries.push({ path: `${o.path}/.wh..wh..opq` });
              dropUnder(o.path);
            }
          }
          for (const o of ops) {
            if (o.kind === 'whiteout') {
              for (const d of parents(o.path)) mkdir(d, i);
            } else if (o.kind === 'opaque') {
              for (const d of [o.path, ...parents(o.path)]) mkdir(d, i);
            } else {
              const dir = o.kind === 'dir';
              entries.push({ path: o.path, dir, mode: o.kind === 'suid' ? 0o4755 : 0o755 });
              for (const d of parents(o.path)) mkdir(d, i);
              if (!dir) dropUnder(o.path);
              fs.set(o.path, { dir, suid: o.kind === 'suid', layer: i });
            }
          }
          return entries;
        });
        const model = [...fs].filter(([, v]) => v.suid).map(([k, v]) => `${v.layer} ${k}`).sort();
        const got = survivors(entriesOf.map(summaryOf)).map((s) => `${s.layer} ${s.path}`).sort();
        expect(got).toEqual(model);
      }),
      { numRuns: 500 },
    );
  });

  it('reads /etc/passwd from the layer that wrote it last, unless deleted', () => {
    const l0 = summaryOf([{ path: '/etc', dir: true }, { path: '/etc/passwd', body: 'root:x:0:0::/:/bin/sh\n' }]);
    const l1 = summaryOf([{ path: '/etc/passwd', body: 'app:x:0:0::/:/bin/sh\n' }]);
    expect(mergedFile([l0, l1], '/etc/passwd')).toContain('app:');
    expect(mergedFile([l0, l1, summaryOf([{ path: '/etc/.wh.passwd' }])], '/etc/passwd')).toBeNull();
  });
});

describe('findings from the config', () => {
  const passwdLayer = summaryOf([{ path: '/etc/passwd', body: 'root:x:0:0::/:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n' }]);
  const of = (config: Record<string, unknown>) => findingsOf({ config: { config }, layers: [passwdLayer], diffIds: ['sha256:a'] });

  it('USER unset, root, 0, or a name with uid 0 in the image\'s own passwd is root; app is not', () => {
    expect(of({}).map((f) => f.rule)).toEqual(['SD-SCAN-005']);
    expect(of({ User: '0:0' })).toHaveLength(1);
    expect(of({ User: 'toor' })[0]!.message).toContain('resolves to uid 0');
    expect(of({ User: '00' })).toHaveLength(1);
    expect(of({ User: 'app' })).toHaveLength(0);
    expect(of({ User: 'ghost' })[0]!.message).toContain('cannot be resolved');
  });

  it('an sshd or an init system as the entrypoint, also behind sh -c', () => {
    expect(programsRun({ Entrypoint: ['/bin/sh', '-c', 'mkdir -p /run/sshd && exec /usr/sbin/sshd -D'] })).toContain('sshd');
    expect(of({ User: 'app', Cmd: ['/usr/sbin/sshd', '-D'] })).toMatchObject([{ rule: 'SD-SCAN-006', severity: 'high' }]);
    expect(of({ User: 'app', Entrypoint: ['/sbin/init'] })).toMatchObject([{ rule: 'SD-SCAN-006', severity: 'medium' }]);
    expect(of({ User: 'app', Cmd: ['nginx', '-g', 'daemon off;'] })).toEqual([]);
  });
});

describe('the save archive', () => {
  it('orders layers by manifest.json whatever the archive order; follows a linked duplicate layer; checks diff_ids', async () => {
    const l0 = layerTar([{ path: '/bin', dir: true }, { path: '/bin/su', mode: 0o4755 }]);
    const l1 = layerTar([{ path: '/bin/.wh.su' }]);
    const config = JSON.stringify({ config: { User: '1' }, rootfs: { type: 'layers', diff_ids: ['sha256:0', 'sha256:1', 'sha256:2'] } });
    const archive = await packToBuffer((p) => {
      p.entry({ name: 'bbb/layer.tar' }, l1);
      p.entry({ name: 'ccc/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' });
      p.entry({ name: 'aaa/layer.tar' }, l0);
      p.entry({ name: 'cfg.json' }, config);
      p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'cfg.json', Layers: ['aaa/layer.tar', 'bbb/layer.tar', 'ccc/layer.tar'] }]));
    });
    const img = orderImage(await readSaveStream(Readable.from([archive])));
    // su deleted in layer 1, and written again by layer 2 (the same bytes as layer 0, linked).
    expect(survivors(img.layers).map((s) => `${s.layer} ${s.path}`)).toEqual(['2 /bin/su']);
    const bad = await packToBuffer((p) => {
      p.entry({ name: 'aaa/layer.tar' }, l0);
      p.entry({ name: 'cfg.json' }, config);
      p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'cfg.json', Layers: ['aaa/layer.tar'] }]));
    });
    const contents = await readSaveStream(Readable.from([bad]));
    expect(() => orderImage(contents)).toThrow(/3 layers .* 1/);
  });
});

describe('OCI-style archives', () => {
  it('reads a gzip-compressed layer blob and a JSON config blob', async () => {
    const { gzipSync } = await import('node:zlib');
    const l0 = gzipSync(layerTar([{ path: '/bin', dir: true }, { path: '/bin/su', mode: 0o4755 }]));
    const config = JSON.stringify({ config: {}, rootfs: { type: 'layers', diff_ids: ['sha256:0'] } });
    const archive = await packToBuffer((p) => {
      p.entry({ name: 'blobs/sha256/aaa' }, l0);
      p.entry({ name: 'blobs/sha256/ccc' }, config);
      p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'blobs/sha256/ccc', Layers: ['blobs/sha256/aaa'] }]));
    });
    const img = orderImage(await readSaveStream(Readable.from([archive])));
    expect(survivors(img.layers).map((s) => s.path)).toEqual(['/bin/su']);
  });
});

describe('cache validation', () => {
  const id = `sha256:${'a'.repeat(64)}`;
  it('accepts its own shape only, for the id asked', () => {
    const good = { version: 1, id, diffIds: ['sha256:x'], findings: [{ rule: 'SD-SCAN-001', severity: 'high', message: 'm', path: '/bin/su', mode: '4755', uid: 0, gid: 0 }] };
    expect(parseCachedScan(JSON.stringify(good), id)).toBeDefined();
    expect(parseCachedScan(JSON.stringify(good), `sha256:${'b'.repeat(64)}`)).toBeUndefined();
    expect(parseCachedScan(JSON.stringify({ ...good, findings: [{ ...good.findings[0], rule: 'SD-X' }] }), id)).toBeUndefined();
    expect(parseCachedScan(JSON.stringify({ ...good, findings: [{ ...good.findings[0], path: 'relative' }] }), id)).toBeUndefined();
    expect(parseCachedScan('{', id)).toBeUndefined();
  });
});

describe('command lines', () => {
  it('scan and image harden parse their flags; image harden routes to sdocker, other image commands to docker', () => {
    expect(parseScanArgs(['-o', 'sarif', '--fail-on=high', 'img'])).toEqual({ image: 'img', output: 'sarif', failOn: 'high', via: 'auto' });
    expect(parseScanArgs(['--via=local', 'img'])).toMatchObject({ via: 'local' });
    expect(() => parseScanArgs(['--via', 'tar', 'img'])).toThrow(/auto, local or save/);
    expect(() => parseScanArgs(['--output', 'xml', 'img'])).toThrow(/table, json or sarif/);
    expect(() => parseScanArgs([])).toThrow(/one IMAGE/);
    expect(parseHardenArgs(['img', '-t', 'new:1', '--drop-caps'])).toEqual({ image: 'img', tag: 'new:1', dropCaps: true });
    expect(() => parseHardenArgs(['img'])).toThrow(/-t NEW is required/);
    expect(dispatch(['image', 'harden', 'x', '-t', 'y']).route).toEqual({ kind: 'sdocker', command: 'image-harden', args: ['x', '-t', 'y'] });
    expect(dispatch(['image', 'ls']).route).toEqual({ kind: 'pass' });
    expect(dispatch(['image', 'build', '.']).route.kind).toBe('guard');
    expect(dispatch(['scan', 'x']).route).toEqual({ kind: 'sdocker', command: 'scan', args: ['x'] });
    expect(normaliseTag('repo/name')).toBe('repo/name:latest');
    expect(normaliseTag('localhost:5000/name:v1')).toBe('localhost:5000/name:v1');
    expect(() => normaliseTag('Bad Name')).toThrow();
  });

  it('harden drops exactly the bits asked for', () => {
    const caps = encodeFileCaps(['NET_RAW']);
    const pax = new Map([['SCHILY.xattr.security.capability', caps], ['SCHILY.xattr.user.x', Buffer.from('1')], ['path', Buffer.from('p')]]);
    expect(hardenedEntry({ mode: 0o6755 }, pax, false)).toEqual({ mode: 0o755, pax: new Map([['SCHILY.xattr.security.capability', caps], ['SCHILY.xattr.user.x', Buffer.from('1')]]) });
    expect(hardenedEntry({ mode: 0o1777 }, pax, true).pax.has('SCHILY.xattr.security.capability')).toBe(false);
    const s = (path: string, mode: number, withCaps = false) => ({ path, type: 'file' as const, mode, uid: 0, gid: 0, layer: 0, ...(withCaps ? { caps } : {}) });
    expect(hardenTargets([s('/a', 0o4755), s('/b', 0o755, true)], false).map((t) => t.path)).toEqual(['/a']);
    expect(hardenTargets([s('/a', 0o4755), s('/b', 0o755, true)], true).map((t) => t.path)).toEqual(['/a', '/b']);
  });
});

