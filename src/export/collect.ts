/**
 * What one container contributes to an export, each part spooled to a file (bounded memory):
 * its logs with timestamps (stdout and stderr apart, demultiplexed; a TTY container has one
 * stream), its inspect JSON, the engine's events for it between since and until (until is always
 * set, so the events request ends), and the sdocker run records that name it. The engine keeps
 * only its latest events in memory (256 in dockerd 20.10, for all containers): older ones are gone.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { EngineClient } from '../engine/client.js';
import { copyRaw, demux } from '../api/demux.js';
import { Spool, spoolText, type Spooled } from './spool.js';

export interface ContainerInfo {
  Id: string;
  Name: string;
  Created?: string;
  Config?: { Tty?: boolean };
}

export interface Collected {
  info: ContainerInfo;
  parts: { name: string; spooled: Spooled }[];
  records: number;
  events: number;
}

export interface Window {
  since?: string;
  until: string;
}

async function finish(s: Spool): Promise<Spooled> {
  if (!s.writableFinished) await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.end((err?: Error | null) => (err ? reject(err) : resolve()));
  });
  return s.done();
}

export async function collectContainer(client: EngineClient, ref: string, dir: string, w: Window, recordsPath: string | undefined): Promise<Collected> {
  const inspectRes = await client.request('GET', `/containers/${encodeURIComponent(ref)}/json`);
  const chunks: Buffer[] = [];
  for await (const c of inspectRes) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const info = JSON.parse(raw.toString('utf8')) as ContainerInfo;
  const id = info.Id;
  const parts: Collected['parts'] = [];
  parts.push({ name: 'inspect.json', spooled: await spoolText(join(dir, 'inspect.json'), raw) });

  const query = { stdout: 1, stderr: 1, timestamps: 1, until: w.until, ...(w.since ? { since: w.since } : {}) };
  const logs = await client.request('GET', `/containers/${id}/logs`, { query });
  if (info.Config?.Tty) {
    const out = new Spool(join(dir, 'output.log'));
    await copyRaw(logs, out);
    parts.push({ name: 'output.log', spooled: await finish(out) });
  } else {
    const out = new Spool(join(dir, 'stdout.log'));
    const err = new Spool(join(dir, 'stderr.log'));
    await demux(logs, { stdout: out, stderr: err });
    parts.push({ name: 'stdout.log', spooled: await finish(out) }, { name: 'stderr.log', spooled: await finish(err) });
  }

  // Events: since the container's creation unless --since says otherwise; until bounds the stream.
  const created = info.Created ? Math.floor(Date.parse(info.Created) / 1000) : 0;
  const evSince = w.since ?? String(Math.max(0, created - 1));
  const ev = new Spool(join(dir, 'events.jsonl'));
  // A window that ends before the container existed has no events (the engine refuses since > until).
  if (Number(evSince) <= Number(w.until)) {
    const events = await client.request('GET', '/events', {
      query: { since: evSince, until: w.until, filters: JSON.stringify({ container: [id] }) },
    });
    await copyRaw(events, ev);
  }
  const evDone = await finish(ev);
  parts.push({ name: 'events.jsonl', spooled: evDone });

  const rec = new Spool(join(dir, 'records.jsonl'));
  const records = recordsPath ? await recordsFor(recordsPath, id, rec) : 0;
  parts.push({ name: 'records.jsonl', spooled: await finish(rec) });
  return { info, parts, records, events: evDone.lines };
}

/**
 * The run records naming the container (containerId: the full id, or a prefix of at least 12),
 * read line by line from the record (which may be large), each copied as it is.
 */
async function recordsFor(path: string, id: string, out: Spool): Promise<number> {
  let n = 0;
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes(id.slice(0, 12))) continue;
    let rec: { containerId?: unknown };
    try {
      rec = JSON.parse(line) as { containerId?: unknown };
    } catch {
      continue;
    }
    const c = rec.containerId;
    if (typeof c === 'string' && c.length >= 12 && id.startsWith(c)) {
      n++;
      if (!out.write(`${line}\n`)) await new Promise((r) => out.once('drain', r));
    }
  }
  return n;
}
