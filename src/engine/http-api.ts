/**
 * EngineApi on node:http (through EngineClient, which keeps the transport, the API version and the
 * engine's error messages). Every API path sdocker sends is built here, and only here is a 404
 * turned into "absent".
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { EngineError, SdockerError } from '../errors.js';
import type {
  Archive, Attached, ContainerJson, ContainerSummary, CreateAnswer, EngineApi, PathStat, RegisteredWait, VolumeJson, WaitResult,
} from './api.js';
import { readBody, type EngineClient } from './client.js';
import type { EngineInfo, ImageInspect } from '../api/types.js';

/** The one place where "the engine answered 404" means "no such object". */
async function orAbsent<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return undefined;
    throw err;
  }
}

const enc = encodeURIComponent;

function statOf(header: string | string[] | undefined): PathStat | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
  } catch {
    return undefined;
  }
}

/** The wait's answer comes at exit: its body, or the engine's error in it. */
function waitOn(res: IncomingMessage, id: string): RegisteredWait {
  const result = readBody(res).then((body): WaitResult => {
    let parsed: WaitResult;
    try {
      parsed = JSON.parse(body.toString('utf8')) as WaitResult;
    } catch {
      throw new SdockerError(`unexpected answer of the wait for ${id}: ${body.toString('utf8').slice(0, 200)}`);
    }
    if (parsed.Error?.Message) throw new EngineError(parsed.Error.Message, res.statusCode ?? 200);
    return parsed;
  });
  // Nobody may read the result (detach): no unhandled rejection.
  result.catch(() => undefined);
  return { result, abort: () => res.destroy() };
}

export class HttpEngineApi implements EngineApi {
  readonly client: EngineClient;

  constructor(client: EngineClient) {
    this.client = client;
  }

  get host(): string {
    return this.client.endpoint.host;
  }

  info(): Promise<EngineInfo> {
    return this.client.json('GET', '/info');
  }

  close(): void {
    this.client.close();
  }

  readonly containers: EngineApi['containers'] = {
    create: (body, opts = {}) =>
      this.client.json<CreateAnswer>('POST', '/containers/create', { query: { name: opts.name || undefined, platform: opts.platform || undefined }, body }),
    inspect: (ref) => orAbsent(this.client.json<ContainerJson>('GET', `/containers/${enc(ref)}/json`)),
    list: async (opts) => {
      const filters = opts.labels?.length ? JSON.stringify({ label: opts.labels }) : undefined;
      return (await this.client.json<ContainerSummary[] | undefined>('GET', '/containers/json', { query: { all: opts.all ? 1 : undefined, filters } })) ?? [];
    },
    start: (id) => this.client.call('POST', `/containers/${enc(id)}/start`),
    stop: (id, seconds) => this.client.call('POST', `/containers/${enc(id)}/stop`, { query: { t: seconds } }),
    kill: (id, signal) => this.client.call('POST', `/containers/${enc(id)}/kill`, { query: { signal } }),
    remove: async (id) => (await orAbsent(this.client.call('DELETE', `/containers/${enc(id)}`, { query: { v: 1, force: 1 } }).then(() => true))) ?? false,
    resize: (id, h, w) => this.client.call('POST', `/containers/${enc(id)}/resize`, { query: { h, w } }),
    wait: async (id, condition) => waitOn(await this.client.request('POST', `/containers/${enc(id)}/wait`, { query: { condition } }), id),
    attach: async (id, opts): Promise<Attached> => {
      const { socket, contentType } = await this.client.hijack('POST', `/containers/${enc(id)}/attach`, {
        query: {
          stream: 1, stdin: opts.stdin ? 1 : 0, stdout: opts.stdout ? 1 : 0, stderr: opts.stderr ? 1 : 0, detachKeys: opts.detachKeys || undefined,
        },
      });
      return { socket, contentType };
    },
    archive: async (id, path): Promise<Archive | undefined> => {
      const res = await orAbsent(this.client.request('GET', `/containers/${enc(id)}/archive`, { query: { path } }));
      return res && { stat: statOf(res.headers['x-docker-container-path-stat']), body: res };
    },
    archiveStat: async (id, path) => {
      const res = await orAbsent(this.client.request('HEAD', `/containers/${enc(id)}/archive`, { query: { path } }));
      res?.resume();
      return res && statOf(res.headers['x-docker-container-path-stat']);
    },
    logs: (id, opts): Promise<Readable> =>
      this.client.request('GET', `/containers/${enc(id)}/logs`, { query: { tail: opts.tail, stdout: opts.stdout ? 1 : 0, stderr: opts.stderr ? 1 : 0 } }),
  };

  readonly images: EngineApi['images'] = {
    inspect: (ref) => orAbsent(this.client.json<ImageInspect>('GET', `/images/${enc(ref)}/json`)),
    pull: (q): Promise<Readable> =>
      this.client.request('POST', '/images/create', {
        query: { fromImage: q.fromImage, tag: q.tag, platform: q.platform },
        headers: q.auth ? { 'X-Registry-Auth': q.auth } : {},
      }),
  };

  readonly volumes: EngineApi['volumes'] = {
    inspect: (name) => orAbsent(this.client.json<VolumeJson>('GET', `/volumes/${enc(name)}`)),
    create: (body) => this.client.json<VolumeJson>('POST', '/volumes/create', { body }),
    remove: async (name) => (await orAbsent(this.client.call('DELETE', `/volumes/${enc(name)}`, { query: { force: 1 } }).then(() => true))) ?? false,
  };
}

/** The API of an endpoint's client. */
export function httpApi(client: EngineClient): HttpEngineApi {
  return new HttpEngineApi(client);
}
