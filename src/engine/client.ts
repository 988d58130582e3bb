/**
 * A small Engine API client on node:http (node:https and the ssh helper are loaded only when the
 * endpoint needs them). Kept dependency-free: this is on the start-up path of every `sdocker run`.
 */
import * as http from 'node:http';
import type { IncomingMessage, RequestOptions as HttpRequestOptions } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { EngineError, SdockerError } from '../errors.js';
import type { Endpoint } from './endpoint.js';
import { loadModule } from '../load-module.js';

/** The newest API version sdocker speaks; lowered once if the daemon says it is too new. */
export const API_VERSION = '1.41';

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body (serialised here). */
  body?: unknown;
  /** A raw body (stream or buffer), sent as it is. */
  raw?: Buffer | NodeJS.ReadableStream;
  headers?: Record<string, string>;
}

export interface Hijacked {
  /** The raw connection, after the 101 answer. Output from the container is read from it; stdin written to it. */
  socket: Duplex;
  /** The answer's Content-Type (raw-stream, or multiplexed-stream on newer APIs). Bytes that came with the 101 are already put back into `socket`. */
  contentType: string | undefined;
}

interface Transport {
  request: typeof http.request;
  base: HttpRequestOptions & { servername?: string };
  agent?: http.Agent;
  /** The Host header (docker sends api.moby.localhost over a socket). */
  hostHeader: string;
}

/**
 * Every request option set carries `servername`: without it node's http.Agent works one out and
 * calls net.isIP on it, whose first use compiles a large IPv6 regular expression (5-17 ms of
 * start-up measured here). Only TLS uses a server name, and never for an IP address.
 */
function sniName(hostname: string): string {
  return /^[\d.]+$/.test(hostname) || hostname.includes(':') ? '' : hostname;
}

function hostHeaderFor(hostname: string, port: number): string {
  return `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Read a whole response body (or any stream). */
export function readBody(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new SdockerError('the engine closed the connection before the answer was complete')));
  });
}

/** The daemon's error message of a >= 400 answer, as EngineError. */
export async function errorFrom(res: IncomingMessage): Promise<EngineError> {
  const status = res.statusCode ?? 0;
  let message = '';
  try {
    const text = (await readBody(res)).toString('utf8');
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      message = typeof parsed.message === 'string' ? parsed.message : text.trim();
    } catch {
      message = text.trim();
    }
  } catch (err) {
    message = (err as Error).message;
  }
  return new EngineError(message || `engine answered ${status} ${res.statusMessage ?? ''}`.trim(), status);
}

const TOO_NEW = /client version [\d.]+ is too new\. Maximum supported API version is ([\d.]+)/;

export class EngineClient {
  readonly endpoint: Endpoint;
  private version = API_VERSION;
  private transportP: Promise<Transport> | undefined;

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
  }

  /** The API version in use (1.41 unless the daemon is older). */
  get apiVersion(): string {
    return this.version;
  }

  private transport(): Promise<Transport> {
    this.transportP ??= makeTransport(this.endpoint);
    return this.transportP;
  }

  private connectError(err: NodeJS.ErrnoException): SdockerError {
    const where = this.endpoint.host;
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
      return new SdockerError(`Cannot connect to the Docker daemon at ${where}. Is the docker daemon running?`, 125);
    }
    if (err.code === 'EACCES') {
      return new SdockerError(`permission denied while trying to connect to the Docker daemon at ${where}`, 125);
    }
    return new SdockerError(`error during connect to ${where}: ${err.message}`, 125);
  }

  /** Send a request; resolve with the response of any status (the caller reads or drains it). */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const t = await this.transport();
    const headers: Record<string, string> = { Host: t.hostHeader, ...(opts.headers ?? {}) };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    } else if (Buffer.isBuffer(opts.raw)) {
      payload = opts.raw;
      headers['Content-Length'] = String(payload.length);
    }
    const fullPath = `/v${this.version}${path}${encodeQuery(opts.query)}`;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = t.request({ ...t.base, method, path: fullPath, headers }, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectError(err)));
      if (payload) req.end(payload);
      else if (opts.raw && !Buffer.isBuffer(opts.raw)) opts.raw.pipe(req);
      else req.end();
    });
  }

  /** Send a request; throw EngineError on >= 400 (retrying once with an older API version if the daemon asks). */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.raw(method, path, opts);
    if ((res.statusCode ?? 0) < 400) return res;
    const err = await errorFrom(res);
    const m = TOO_NEW.exec(err.message);
    if (m && m[1] && m[1] !== this.version && (opts.raw === undefined || Buffer.isBuffer(opts.raw))) {
      this.version = m[1];
      return this.request(method, path, opts);
    }
    throw err;
  }

  /** A request whose answer is JSON (or empty: then undefined). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const body = await readBody(res);
    if (body.length === 0) return undefined as T;
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch {
      throw new EngineError(`the engine answered ${method} ${path} with something other than JSON`, res.statusCode ?? 0);
    }
  }

  /** A request whose answer body is of no interest. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    res.resume();
    await new Promise<void>((resolve) => {
      if (res.complete) resolve();
      else {
        res.on('end', resolve);
        res.on('close', resolve);
      }
    });
  }

  /**
   * A hijacked request (`Connection: Upgrade`, `Upgrade: tcp`): resolves with the raw connection
   * once the daemon answers 101; a >= 400 answer is thrown as EngineError.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Hijacked> {
    const t = await this.transport();
    const fullPath = `/v${this.version}${path}${encodeQuery(opts.query)}`;
    return new Promise<Hijacked>((resolve, reject) => {
      const req = t.request({
        ...t.base,
        method,
        path: fullPath,
        headers: { Host: t.hostHeader, ...(opts.headers ?? {}), Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'text/plain' },
      });
      req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        resolve({ socket, contentType: res.headers['content-type'] });
      });
      req.on('response', (res: IncomingMessage) => {
        if ((res.statusCode ?? 0) >= 400) {
          errorFrom(res).then(reject, reject);
        } else {
          res.resume();
          reject(new SdockerError(`the engine did not upgrade the connection for ${path} (status ${res.statusCode})`));
        }
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectError(err)));
      req.end();
    });
  }

  /** Close idle keep-alive connections. */
  close(): void {
    this.transportP?.then((t) => t.agent?.destroy(), () => undefined);
  }
}

async function makeTransport(ep: Endpoint): Promise<Transport> {
  switch (ep.kind) {
    case 'unix': {
      const agent = new http.Agent({ keepAlive: true });
      return { request: http.request, base: { socketPath: ep.socketPath, agent, servername: '' }, agent, hostHeader: 'api.moby.localhost' };
    }
    case 'tcp': {
      if (!ep.tls) {
        const agent = new http.Agent({ keepAlive: true });
        return { request: http.request, base: { host: ep.hostname, port: ep.port, agent, servername: '' }, agent, hostHeader: hostHeaderFor(ep.hostname, ep.port) };
      }
      const https = await loadModule<typeof import('node:https')>('node:https');
      const verify = ep.tls.verify;
      let ca: Buffer | Array<string | Buffer> | undefined = ep.tls.ca;
      if (!ca && ep.tls.extraCaFile) {
        const { rootCertificates } = await loadModule<typeof import('node:tls')>('node:tls');
        const { readFileSync } = await loadModule<typeof import('node:fs')>('node:fs');
        ca = [...rootCertificates, readFileSync(ep.tls.extraCaFile)];
      }
      const agent = new https.Agent({
        keepAlive: true,
        ...(ca ? { ca } : {}),
        ...(ep.tls.cert ? { cert: ep.tls.cert } : {}),
        ...(ep.tls.key ? { key: ep.tls.key } : {}),
        rejectUnauthorized: verify,
        ...(verify ? {} : { checkServerIdentity: () => undefined }),
      });
      return {
        request: https.request as unknown as typeof http.request,
        base: { host: ep.hostname, port: ep.port, agent, servername: sniName(ep.hostname) },
        agent,
        hostHeader: hostHeaderFor(ep.hostname, ep.port),
      };
    }
    case 'ssh': {
      const { sshConnection } = await import('./ssh.js');
      const agent = new http.Agent({ keepAlive: true });
      const args = ep.sshArgs;
      (agent as unknown as { createConnection: () => Duplex }).createConnection = () => sshConnection(args);
      return { request: http.request, base: { host: 'docker.example.com', agent, servername: '' }, agent, hostHeader: 'api.moby.localhost' };
    }
  }
}
