/**
 * Pull progress as docker draws it (moby jsonmessage.DisplayJSONMessagesStream): in place on a
 * terminal, plain lines without progress bars otherwise; and the X-Registry-Auth encoding.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { humanSize, progressString, TtyProgressRenderer, type JsonMessage } from '../../src/engine/pull-progress.js';
import { ProgressRenderer } from '../../src/engine/pull.js';
import { encodeAuth } from '../../src/engine/auth.js';

const D = `sha256:${'d'.repeat(64)}`;
const STREAM: JsonMessage[] = [
  { status: 'Pulling from sdt/x', id: 'v1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 500, total: 1000 }, progress: '[==>  ] 500B/1kB', id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'bbb' },
  { status: `Digest: ${D}` },
  { status: 'Status: Downloaded newer image for x:v1' },
];

function collect(render: (out: PassThrough) => { message(m: JsonMessage): void }): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const r = render(out);
  for (const m of STREAM) r.message(m);
  return text;
}

describe('on a terminal', () => {
  test('each layer has its line, redrawn in place: cursor up, erase, write, cursor down', () => {
    const text = collect((out) => new TtyProgressRenderer(out, () => 120));
    const bar = `[${'='.repeat(25)}>${' '.repeat(25)}] `;
    expect(text).toBe(
      'v1: Pulling from sdt/x\n'
      + '\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B'
      + '\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B'
      + `\x1b[2A\x1b[2K\raaa: Downloading ${bar}    500B/1kB\r\x1b[2B`
      + '\x1b[2A\x1b[2K\raaa: Download complete \r\x1b[2B'
      + '\x1b[1A\x1b[2K\rbbb: Pull complete \r\x1b[1B'
      + `Digest: ${D}\n`
      + 'Status: Downloaded newer image for x:v1\n',
    );
  });
  test('a line without progress forgets the block: the next layer starts a new one', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const r = new TtyProgressRenderer(out, () => 80);
    r.message({ status: 'Waiting', progressDetail: {}, id: 'aaa' });
    r.message({ status: 'x' });
    r.message({ status: 'Waiting', progressDetail: {}, id: 'ccc' });
    expect(text).toBe('\n\x1b[1A\x1b[2K\raaa: Waiting \r\x1b[1Bx\n\n\x1b[1A\x1b[2K\rccc: Waiting \r\x1b[1B');
  });
  test('an error in the stream is thrown', () => {
    const r = new TtyProgressRenderer(new PassThrough(), () => 80);
    expect(() => r.message({ error: 'manifest unknown', errorDetail: { message: 'manifest unknown' } })).toThrow(/manifest unknown/);
  });
  test('progress as JSONProgress.String: no bar at 110 columns or less, sizes as go-units', () => {
    expect(progressString({ current: 1_234_567, total: 9_000_000 }, 110, 0)).toBe(' 1.235MB/9MB');
    expect(progressString({ current: 10, total: 0 }, 200, 0)).toBe('     10B');
    expect(progressString({ current: 0, total: 0 }, 200, 0)).toBe('');
    expect(progressString({ current: 20, total: 10 }, 80, 0)).toBe('     20B');
    expect(progressString({ current: 100, total: 1000, start: 90 }, 80, 100)).toBe('    100B/1kB 1m30s');
    expect([humanSize(0), humanSize(999), humanSize(1000), humanSize(123_456), humanSize(2.5e9)]).toEqual(['0B', '999B', '1kB', '123.5kB', '2.5GB']);
  });
});

describe('not on a terminal', () => {
  test('one line per layer and status, no progress bars (docker leaves them out)', () => {
    const text = collect((out) => new ProgressRenderer(out));
    expect(text).toBe(['v1: Pulling from sdt/x', 'aaa: Pulling fs layer', 'bbb: Pulling fs layer', 'aaa: Download complete', 'bbb: Pull complete', `Digest: ${D}`, 'Status: Downloaded newer image for x:v1', ''].join('\n'));
    expect(text).not.toContain('\x1b');
  });
});

describe('X-Registry-Auth', () => {
  test('is docker\'s base64.URLEncoding of the JSON: URL alphabet, with padding', () => {
    const auth = { username: 'u>?', password: 'p~~', serveraddress: '127.0.0.1:5000' };
    const enc = encodeAuth(auth);
    expect(enc).toMatch(/^[A-Za-z0-9_-]+=*$/);
    expect(enc.length % 4).toBe(0);
    expect(JSON.parse(Buffer.from(enc, 'base64url').toString('utf8'))).toEqual(auth);
    expect(encodeAuth({ serveraddress: 'a' })).toBe('eyJzZXJ2ZXJhZGRyZXNzIjoiYSJ9');
    expect(encodeAuth({ serveraddress: 'ab' })).toMatch(/=$/);
  });
});
