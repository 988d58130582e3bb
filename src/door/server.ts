/**
 * The door's server: every Engine API request a client sends is read as the engine would read it
 * (target.ts), judged (the judge's routes: src/door/judge.ts), logged (one line per decision,
 * with the peer from SO_PEERCRED), then answered by the door or forwarded (proxy.ts).
 *
 * Fail closed: an endpoint no route knows is refused (403); a JSON body the route must judge is
 * read bounded (413), in time (408) and parsed strictly (400) before anything reaches the engine;
 * a body the engine would read as a form (its fields taken as the query) is a 400; a judge that
 * throws is a 500 and nothing is forwarded; a request that carries this door's own
 * loop marker (the door forwarding to itself, perhaps through another door) is a 508.
 * The server never crashes on a client: every socket has an error handler, every promise a catch.
 */
import * as http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { BodyBudget, MAX_JSON_BODY, MAX_JSON_BYTES_HELD, parseJsonBody, readRequestBody, readUpgradeBody } from './body.js';
import { formBodyProblem } from './form-body.js';
import type { DecisionLine } from './log.js';
import { peerOf } from './peercred.js';
import { forward, forwardUpgrade, rawAnswer } from './proxy.js';
import { parseTarget } from './target.js';
import type { DoorRequest, Peer, Route, TlsClient, Verdict } from './types.js';
import type { Upstream } from './upstream.js';

/** What the server needs of the judge: the route of a request (undefined: an endpoint it does not know). */
export interface RouteTable {
  routeFor(method: string, path: string): { route: Route; match: RegExpMatchArray } | undefined;
  /** The refusal of an endpoint no route knows (default: a 403 naming it). */
  unknownEndpoint?(method: string, path: string): Verdict;
}

export interface DoorOptions {
  routes: RouteTable;
  upstream: Upstream;
  /** One call per decision. */
  log: (line: DecisionLine) => void;
  /** Diagnostics that are not decisions (a judge that threw). */
  warn: (message: string) => void;
  /** Read peers with SO_PEERCRED (unix sockets). */
  peerCredentials: boolean;
  maxJsonBytes?: number;
  /** How many bytes of judged bodies may be held at once, all clients together (default 64 MiB): beyond, 503. */
  maxJsonBytesHeld?: number;
  /** How long a judged body may take to arrive (default 30 s). */
  bodyTimeoutMs?: number;
  /** How long a client may take to send its request's headers (default 10 s). */
  headersTimeoutMs?: number;
}

export const LOOP_HEADER = 'X-Sdocker-Door';

/** What the door does with one request, once decided. */
type Outcome =
  | { kind: 'answer'; status: number; body: unknown; headers?: Record<string, string>; close?: boolean }
  | { kind: 'forward'; body?: Buffer; contentType?: string };

/** Reads the body when (and only when) the route asks for it. */
type BodyReader = () => Promise<{ ok: true; bytes: Buffer } | { ok: false; status: number; message: string }>;

/** The reason phrase of a status the door answers itself on a hijacked socket: the standard one, as the engine (Go's net/http) writes it. */
const STATUS_TEXT = http.STATUS_CODES;

function idOf(body: unknown): string | undefined {
  const id = (body as { Id?: unknown } | null | undefined)?.Id;
  return typeof id === 'string' ? id : undefined;
}

/** The TLS client's certificate: its subject and sha256 (the listener verified it against --tls-ca). */
export function tlsClientOf(socket: Socket): TlsClient | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[]>;
  return {
    subject: Object.entries(subject).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(','),
    sha256: createHash('sha256').update(cert.raw).digest('hex'),
  };
}

export class Door {
  private readonly opts: DoorOptions;
  private readonly peers = new WeakMap<Socket, Peer | undefined>();
  /** This door's loop marker: a request carrying it has already been through this door. */
  readonly id = randomBytes(8).toString('hex');
  private readonly marker: string[];
  private readonly budget: BodyBudget;

  constructor(opts: DoorOptions) {
    this.opts = opts;
    this.marker = [LOOP_HEADER, this.id];
    this.budget = new BodyBudget(opts.maxJsonBytesHeld ?? MAX_JSON_BYTES_HELD);
  }

  private peer(socket: Socket): Peer | undefined {
    if (!this.opts.peerCredentials) return undefined;
    if (!this.peers.has(socket)) this.peers.set(socket, peerOf(socket));
    return this.peers.get(socket);
  }

  private line(req: IncomingMessage, path: string, fields: Partial<DecisionLine> & Pick<DecisionLine, 'route' | 'action'>): void {
    const socket = req.socket;
    const peer = this.peer(socket);
    const client = tlsClientOf(socket);
    this.opts.log({
      time: new Date().toISOString(),
      method: req.method ?? '',
      path,
      ...(peer ? { peer } : {}),
      ...(client !== undefined ? { client: client.subject, clientSha256: client.sha256 } : {}),
      ...fields,
    });
  }

  private refuse(req: IncomingMessage, path: string, route: string, status: number, message: string, reason: string, close = false): Outcome {
    this.line(req, path, { route, action: 'refuse', status, reason });
    return { kind: 'answer', status, body: { message }, ...(close ? { close } : {}) };
  }

  /** Judge one request: read its target, find its route, read its body if asked, ask the judge. */
  private async decide(req: IncomingMessage, readBody: BodyReader): Promise<Outcome> {
    const method = req.method ?? '';
    const url = req.url ?? '';
    const loop = req.headers[LOOP_HEADER.toLowerCase()];
    if ((Array.isArray(loop) ? loop.join(',') : (loop ?? '')).includes(this.id)) {
      return this.refuse(req, url, '-', 508, 'sdocker serve: this request has already been through this door: it forwards to itself', 'loop');
    }
    const parsed = parseTarget(url);
    if (!parsed.ok) return this.refuse(req, url, '-', 400, `sdocker serve: refused ${method} ${JSON.stringify(url)}: ${parsed.message}`, 'target');
    const { path, apiVersion, query } = parsed.target;
    // The engine would read a form body's fields as the query: the door could not judge them.
    const form = formBodyProblem(req.rawHeaders);
    if (form) return this.refuse(req, path, '-', 400, `sdocker serve: refused ${method} ${path}: ${form}`, 'form body');
    const found = this.opts.routes.routeFor(method, path);
    if (!found) {
      const v = this.opts.routes.unknownEndpoint?.(method, path);
      if (v?.action === 'refuse') {
        this.line(req, path, { route: 'unknown', action: 'refuse', status: v.status, ...(v.rules ? { rules: v.rules } : {}), reason: 'unknown endpoint' });
        return { kind: 'answer', status: v.status, body: { message: v.message } };
      }
      // Whatever else the hook says, an endpoint without a route is never forwarded.
      return this.refuse(req, path, 'unknown', 403, `sdocker serve: ${method} ${path} is not an endpoint the door knows; refused rather than forwarded unjudged`, 'unknown endpoint');
    }
    const { route, match } = found;
    const door: DoorRequest = { method, path, query, headers: req.headers, ...(apiVersion !== undefined ? { apiVersion } : {}) };
    const peer = this.peer(req.socket);
    if (peer) door.peer = peer;
    const client = tlsClientOf(req.socket);
    if (client) door.client = client;
    if (route.body === 'json') {
      const read = await readBody();
      if (!read.ok) return this.refuse(req, path, route.name, read.status, read.message, 'body', true);
      const json = parseJsonBody(read.bytes);
      if (!json.ok) return this.refuse(req, path, route.name, 400, json.message, 'body');
      door.body = json.value;
    }
    let verdict: Verdict;
    try {
      verdict = await route.judge(door, match);
    } catch (err) {
      this.opts.warn(`judge ${route.name} failed on ${method} ${path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return this.refuse(req, path, route.name, 500, `sdocker serve: the door could not judge ${method} ${path} (${(err as Error).message ?? err}); nothing was sent to the engine`, 'judge failed');
    }
    if ((verdict.action === 'pass' || verdict.action === 'forward') && verdict.path !== undefined) req.url = pinnedUrl(req.url ?? '', apiVersion, verdict.path);
    switch (verdict.action) {
      case 'pass':
        this.line(req, path, { route: route.name, action: 'pass' });
        // A judged body goes on as the judge read it: re-serialised, so the engine cannot read other bytes than the judge did.
        return route.body === 'json'
          ? { kind: 'forward', body: door.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(door.body)) }
          : { kind: 'forward' };
      case 'forward':
        this.line(req, path, { route: route.name, action: 'forward' });
        return { kind: 'forward', body: Buffer.from(JSON.stringify(verdict.body)), contentType: 'application/json' };
      case 'refuse':
        this.line(req, path, { route: route.name, action: 'refuse', status: verdict.status, ...(verdict.rules ? { rules: verdict.rules } : {}) });
        return { kind: 'answer', status: verdict.status, body: { message: verdict.message } };
      case 'respond': {
        const id = idOf(verdict.body);
        this.line(req, path, { route: route.name, action: 'respond', status: verdict.status, ...(id !== undefined ? { id } : {}) });
        return { kind: 'answer', status: verdict.status, body: verdict.body, ...(verdict.headers ? { headers: verdict.headers } : {}) };
      }
    }
  }

  /** node's 'request' event. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const max = this.opts.maxJsonBytes ?? MAX_JSON_BODY;
    const timeout = this.opts.bodyTimeoutMs ?? 30_000;
    this.decide(req, () => readRequestBody(req, max, timeout, this.budget))
      .then((o) => {
        if (o.kind === 'forward') {
          forward(this.opts.upstream, req, res, { ...(o.body ? { body: o.body } : {}), ...(o.contentType ? { contentType: o.contentType } : {}), extraHeaders: this.marker });
          return;
        }
        const body = o.body === undefined ? Buffer.alloc(0) : Buffer.from(`${JSON.stringify(o.body)}\n`);
        const headers: Record<string, string | number> = { 'Content-Type': 'application/json', ...(o.headers ?? {}), 'Content-Length': body.length };
        // A body left unread (too large, too slow, or refused before it was read: a build context)
        // is not drained for nothing, nor parsed as the next request: the connection is closed.
        const close = o.close === true || !req.complete;
        if (close) headers.Connection = 'close';
        res.writeHead(o.status, headers);
        res.end(body);
        if (close) lingerOnClose(req.socket);
        else req.resume();
      })
      .catch((err: unknown) => {
        this.opts.warn(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'application/json', Connection: 'close' });
          res.end(`${JSON.stringify({ message: 'sdocker serve: internal error; nothing was sent to the engine' })}\n`);
        } else res.destroy();
      });
  }

  /** node's 'upgrade' event: a hijack request (attach, exec start). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const max = this.opts.maxJsonBytes ?? MAX_JSON_BODY;
    const timeout = this.opts.bodyTimeoutMs ?? 30_000;
    let leftover: Buffer = Buffer.alloc(0);
    let bytes: Buffer | undefined;
    const readBody: BodyReader = async () => {
      const r = await readUpgradeBody(req, socket, head, max, timeout, this.budget);
      if (r.ok) {
        bytes = r.bytes;
        leftover = r.leftover;
      }
      return r;
    };
    this.decide(req, readBody)
      .then(async (o) => {
        if (o.kind === 'answer') {
          rawAnswer(socket, o.status, STATUS_TEXT[o.status] ?? 'Error', (o.body as { message?: string }).message ?? JSON.stringify(o.body));
          return;
        }
        if (bytes === undefined) {
          const r = await readBody();
          if (!r.ok) {
            rawAnswer(socket, r.status, STATUS_TEXT[r.status] ?? 'Error', r.message);
            return;
          }
        }
        forwardUpgrade(this.opts.upstream, req, socket, {
          body: o.body ?? bytes ?? Buffer.alloc(0),
          ...(o.contentType ? { contentType: o.contentType } : {}),
          leftover,
          extraHeaders: this.marker,
        });
      })
      .catch((err: unknown) => {
        this.opts.warn(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        rawAnswer(socket, 500, 'Internal Server Error', 'sdocker serve: internal error; nothing was sent to the engine');
      });
  }
}

/** The client's target with the judge's path instead of its own: the version prefix kept, and the raw query unless the judge's path has its own. */
export function pinnedUrl(url: string, apiVersion: string | undefined, path: string): string {
  const q = url.indexOf('?');
  return `${apiVersion !== undefined ? `/v${apiVersion}` : ''}${path}${q >= 0 && !path.includes('?') ? url.slice(q) : ''}`;
}

/**
 * Close a connection whose request body was not read, as Go's server does (closeWriteAndWait):
 * node closes a `Connection: close` answer's socket with destroySoon; here that becomes a FIN,
 * then what the client still sends is read and dropped for up to 2 s, then the close. Closing at
 * once would make the kernel reset the connection, and a client still writing its body could
 * lose the answer (it sees EPIPE instead of the 413).
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingering(this: Socket) {
    if (this.destroyed) return;
    this.end();
    this.resume();
    const timer = setTimeout(() => this.destroy(), 2000);
    this.once('close', () => clearTimeout(timer));
  };
}

/** node's answers to requests it could not parse (the server then closes the connection). */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  if (err.code !== 'ECONNRESET' && socket.writable && !(socket as unknown as { _httpMessage?: unknown })._httpMessage) {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

export interface ServerTimeouts {
  headersTimeoutMs: number;
  /** How often node looks for clients past the headers timeout. */
  checkIntervalMs: number;
}

/** Wire a Door to a node server (http, or https for TLS listeners) with its timeouts. */
export function attachDoor(server: http.Server, door: Door, t: ServerTimeouts): void {
  server.headersTimeout = t.headersTimeoutMs;
  // The whole request is not timed: build contexts and archive uploads may take long. Judged bodies have their own limit.
  server.requestTimeout = 0;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => door.handleRequest(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => door.handleUpgrade(req, socket, head));
  server.on('clientError', onClientError);
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined);
  });
}

export function httpServerOptions(t: ServerTimeouts): http.ServerOptions {
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: 0,
    connectionsCheckingInterval: t.checkIntervalMs,
    keepAliveTimeout: 5_000,
    maxHeaderSize: 64 * 1024,
    noDelay: true,
  };
}

/** A plain-HTTP server for a unix socket listener, with the door attached. */
export function createUnixDoorServer(door: Door, t: ServerTimeouts): http.Server {
  const server = http.createServer(httpServerOptions(t));
  attachDoor(server, door, t);
  return server;
}
