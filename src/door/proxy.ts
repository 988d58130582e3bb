/**
 * Forwarding, once the judge has let a request through: streamed both ways, nothing buffered but
 * the JSON bodies the judge read.
 *
 * - `forward`: an ordinary request. The client's body is piped to the engine (build contexts,
 *   archive uploads) unless the judge read it (then its re-serialised or replaced JSON is sent);
 *   the answer is piped back as it comes, with its headers sent at once when it is a stream
 *   (no Content-Length: logs -f, events, stats, pull progress), so the client sees it start.
 *   A streamed body is always framed for the engine (its Content-Length, or chunked), whatever
 *   the method: an unframed body would be read by the engine as further requests.
 *   A GET or HEAD that fails on a reused keep-alive connection (the engine restarted) is retried
 *   once on a new one; otherwise an engine that cannot be reached is a 502 with a message.
 * - `forwardUpgrade`: a hijacked request (attach, exec start: `Connection: Upgrade`,
 *   `Upgrade: tcp`). After the engine's 101 both sockets are piped raw; a client's shutdown of
 *   its write side (stdin EOF) is passed on as a shutdown of the door's write side to the engine.
 *   When the engine answers anything but 101, that answer is relayed and the connection closed:
 *   the raw pipe is opened only for a connection the engine really hijacked, so no further
 *   request on it can pass unjudged.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { endToEnd, responseHead, toObject } from './headers.js';
import type { Upstream } from './upstream.js';

export interface ForwardOptions {
  /** The body to send instead of the client's (the judge read it); undefined: stream the client's. */
  body?: Buffer;
  /** Set on a replaced body: the judge's JSON. */
  contentType?: string;
  /** Added to the request (the door's loop marker). */
  extraHeaders?: string[];
}

function jsonError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`${JSON.stringify({ message })}\n`);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

export function unreachable(up: Upstream, err: Error): string {
  return `sdocker serve: cannot reach the engine at ${up.host}: ${err.message}`;
}

function requestHeaders(req: IncomingMessage, opts: ForwardOptions, extra: string[]): string[] {
  const replaced = opts.body !== undefined;
  const raw = endToEnd(req.rawHeaders, replaced ? ['content-length', ...(opts.contentType ? ['content-type'] : [])] : []);
  if (replaced) {
    raw.push('Content-Length', String(opts.body!.length));
    if (opts.contentType) raw.push('Content-Type', opts.contentType);
  }
  raw.push(...extra, ...(opts.extraHeaders ?? []));
  return raw;
}

export function forward(up: Upstream, req: IncomingMessage, res: ServerResponse, opts: ForwardOptions = {}): void {
  const method = req.method ?? 'GET';
  const headers = toObject(requestHeaders(req, opts, []));
  const cl = req.headers['content-length'];
  const clientBody = opts.body === undefined && ((cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined);
  // A streamed body is framed by the door itself: its Content-Length, or chunked. node's client
  // chunks a body by default only for POST, PUT and the like; for GET, HEAD, DELETE or OPTIONS
  // without a length it writes the bytes raw, and the engine reads them as the next request on
  // the connection, unjudged (request smuggling). The length is set again even when the client's
  // Connection header named it hop-by-hop (`Connection: Content-Length` dropped it above).
  if (clientBody) {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-length') delete headers[k];
    if (cl !== undefined) headers['Content-Length'] = cl;
    else headers['Transfer-Encoding'] = 'chunked';
  }
  const retryable = opts.body === undefined && !clientBody && (method === 'GET' || method === 'HEAD');
  let upReq: ClientRequest | undefined;
  let finished = false;

  res.on('close', () => {
    finished = true;
    // The client went away (or the answer is complete): stop the engine's side too (logs -f).
    if (!res.writableFinished) upReq?.destroy();
  });

  const attempt = (mayRetry: boolean) => {
    const r = up.request({ method, path: req.url ?? '/', headers });
    upReq = r;
    let answered = false;
    r.on('response', (upRes: IncomingMessage) => {
      answered = true;
      if (finished) {
        upRes.destroy();
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', endToEnd(upRes.rawHeaders));
      if (upRes.headers['content-length'] === undefined) res.flushHeaders();
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
      upRes.pipe(res);
    });
    r.on('error', (err: Error) => {
      if (answered || finished) {
        res.destroy();
        return;
      }
      if (mayRetry && r.reusedSocket) {
        attempt(false);
        return;
      }
      req.resume();
      jsonError(res, 502, unreachable(up, err));
    });
    if (opts.body !== undefined) r.end(opts.body);
    else if (!clientBody) {
      req.resume();
      r.end();
    } else {
      req.on('error', () => r.destroy());
      req.pipe(r);
    }
  };
  attempt(retryable);
}

export interface UpgradeOptions {
  /** The request's body, read whole (hijacked requests carry a small JSON body, or none). */
  body: Buffer;
  contentType?: string;
  /** Bytes the client sent after the body (already stdin): written to the engine after its 101. */
  leftover: Buffer;
  extraHeaders?: string[];
}

/** Write a whole answer on a connection the server no longer frames, then close it. */
export function rawAnswer(socket: Duplex, status: number, statusMessage: string, message: string): void {
  const body = Buffer.from(`${JSON.stringify({ message })}\n`);
  const head = responseHead(status, statusMessage, ['Content-Type', 'application/json', 'Content-Length', String(body.length), 'Connection', 'close']);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

export function forwardUpgrade(up: Upstream, req: IncomingMessage, client: Duplex, opts: UpgradeOptions): void {
  const upgrade = req.headers.upgrade ?? 'tcp';
  const raw = requestHeaders(req, { body: opts.body, ...(opts.contentType ? { contentType: opts.contentType } : {}) }, ['Connection', 'Upgrade', 'Upgrade', upgrade]);
  const upReq = up.request({ method: req.method ?? 'POST', path: req.url ?? '/', headers: toObject([...raw, ...(opts.extraHeaders ?? [])]) });
  let done = false;
  const onClientGone = () => {
    if (!done) upReq.destroy();
  };
  client.on('error', onClientGone);
  client.on('close', onClientGone);

  upReq.on('upgrade', (upRes: IncomingMessage, engine: Duplex, head: Buffer) => {
    done = true;
    client.off('close', onClientGone);
    if (client.destroyed) {
      engine.destroy();
      return;
    }
    client.write(responseHead(upRes.statusCode ?? 101, upRes.statusMessage ?? 'UPGRADED', upRes.rawHeaders), 'latin1');
    if (head.length > 0) client.write(head);
    if (opts.leftover.length > 0) engine.write(opts.leftover);
    const both = () => {
      client.destroy();
      engine.destroy();
    };
    engine.on('error', both);
    client.on('error', both);
    // Either side closing for good ends the other; a half-close (end) is passed on by pipe.
    engine.on('close', () => client.destroy());
    client.on('close', () => engine.destroy());
    engine.pipe(client);
    client.pipe(engine);
  });
  upReq.on('response', (upRes: IncomingMessage) => {
    done = true;
    if (client.destroyed) {
      upRes.destroy();
      return;
    }
    // Not hijacked: relay the answer, body delimited by the close, and close.
    client.write(responseHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', [...endToEnd(upRes.rawHeaders, ['content-length']), 'Connection', 'close']), 'latin1');
    upRes.on('error', () => client.destroy());
    upRes.on('aborted', () => client.destroy());
    upRes.pipe(client);
  });
  upReq.on('error', (err: Error) => {
    if (done) {
      client.destroy();
      return;
    }
    done = true;
    rawAnswer(client, 502, 'Bad Gateway', unreachable(up, err));
  });
  upReq.end(opts.body);
}
