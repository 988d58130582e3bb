/** Pure parts of the bind guard: mountinfo, the decided binds, and the argv of start / volume create. */
import { describe, expect, test } from 'vitest';
import { decidedBinds, locate, mountMismatches, parseMountInfo } from '../../src/policy/binds.js';
import { startTargets } from '../../src/cli/start.js';
import { parseVolumeCreate } from '../../src/cli/volume-create.js';

const HOST = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '30 22 0:26 / /tmp rw,nosuid shared:5 - tmpfs tmpfs rw',
  '31 22 254:1 /srv/work /work rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '32 22 254:1 /home/my\\040dir /mnt/sp rw - ext4 /dev/vda1 rw',
].join('\n');

describe('mountinfo', () => {
  test('parses fields, optional fields and octal escapes', () => {
    const m = parseMountInfo(HOST);
    expect(m).toHaveLength(4);
    expect(m[3]).toEqual({ dev: '254:1', root: '/home/my dir', mountPoint: '/mnt/sp', fstype: 'ext4', source: '/dev/vda1' });
  });
  test('locates a host path: its filesystem and its path from that filesystem\'s root', () => {
    const m = parseMountInfo(HOST);
    expect(locate(m, '/tmp/x/data')).toEqual({ dev: '0:26', root: '/x/data' });
    expect(locate(m, '/work/p')).toEqual({ dev: '254:1', root: '/srv/work/p' });
    expect(locate(m, '/etc')).toEqual({ dev: '254:1', root: '/etc' });
  });
  test('a container mount of another path, or none, is a mismatch; the decided one is not', () => {
    const host = parseMountInfo(HOST);
    const binds = [{ target: '/data', source: '/tmp/x/data', via: 'volume' as const }];
    const ok = parseMountInfo('900 800 0:26 /x/data /data ro,nosuid,nodev - tmpfs tmpfs rw');
    const swapped = parseMountInfo('900 800 254:1 /etc /data ro,nosuid,nodev - ext4 /dev/vda1 rw');
    expect(mountMismatches(binds, ok, host)).toEqual([]);
    expect(mountMismatches(binds, swapped, host)[0]).toContain('/data is /etc of device 254:1');
    expect(mountMismatches(binds, [], host)[0]).toContain('nothing is mounted at /data');
  });
  test('decidedBinds: sdocker bind volumes by label, plain binds by source, other volumes not', () => {
    expect(decidedBinds([
      { Type: 'volume', Target: '/a', VolumeOptions: { Labels: { 'io.sdocker.bind': '/s' }, DriverConfig: { Name: 'local', Options: { device: '/s' } } } },
      { Type: 'bind', Target: '/b', Source: '/f' },
      { Type: 'volume', Target: '/c', Source: 'named' },
    ])).toEqual([{ target: '/a', source: '/s', via: 'volume' }, { target: '/b', source: '/f', via: 'bind' }]);
  });
});

describe('argv of the commands judged before they pass through', () => {
  test('start: containers after its options; unknown options refused; --help passes', () => {
    expect(startTargets(['-ai', '--detach-keys', 'ctrl-x', 'a', '--checkpoint=c', 'b'])).toEqual(['a', 'b']);
    expect(startTargets(['--', '-weird'])).toEqual(['-weird']);
    expect(startTargets(['--help'])).toBeUndefined();
    expect(() => startTargets(['--bogus', 'a'])).toThrow(/--bogus/);
    expect(() => startTargets(['-x', 'a'])).toThrow(/-x/);
  });
  test('volume create: driver, options (docker\'s map: k=v, bare k), name by flag or argument', () => {
    expect(parseVolumeCreate(['-d', 'nfs', '-o', 'type=nfs', '--opt=o=addr=1.2.3.4', '-otrail', '--label', 'a=b', 'v1'])).toEqual({
      driver: 'nfs', opts: { type: 'nfs', o: 'addr=1.2.3.4', trail: '' }, help: false, name: 'v1',
    });
    expect(parseVolumeCreate(['--name', 'v2']).name).toBe('v2');
    expect(() => parseVolumeCreate(['a', 'b'])).toThrow(/at most 1/);
    expect(() => parseVolumeCreate(['--scope', 'multi'])).toThrow(/--scope/);
    expect(() => parseVolumeCreate(['-o'])).toThrow(/needs an argument/);
  });
});
