/**
 * Reading the JSON bodies the judge asks for: bounded in size (413 beyond, without reading on
 * when Content-Length already says so) and in time (408: a client trickling a body a byte at a
 * time does not hold a judgement open), and parsed strictly (400: nothing is forwarded). All the
 * bodies being read at once share one budget (BodyBudget): beyond it a client is answered 503 at
 * once, so many clients each holding a body just short of its end cannot grow the door's memory.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

type RefusedStatus = 400 | 408 | 413 | 503;

export type BodyResult = { ok: true; bytes: Buffer } | { ok: false; status: RefusedStatus; message: string };

export const MAX_JSON_BODY = 1024 * 1024;

/** How many bytes of judged bodies the door holds at once, all clients together (by default). */
export const MAX_JSON_BYTES_HELD = 64 * 1024 * 1024;

interface Refused {
  ok: false;
  status: RefusedStatus;
  message: string;
}

/** The bytes of judged bodies held at once, shared by every request of one door. */
export class BodyBudget {
  private held = 0;
  constructor(readonly limit: number) {}
  /** Take `n` bytes; false (nothing taken) when that would pass the limit. */
  take(n: number): boolean {
    if (this.held + n > this.limit) return false;
    this.held += n;
    return true;
  }
  give(n: number): void {
    this.held = Math.max(0, this.held - n);
  }
  get inUse(): number {
    return this.held;
  }
}

function busy(): Refused {
  return { ok: false, status: 503, message: 'sdocker serve: the door is reading too many request bodies at once; try again' };
}

function tooLarge(max: number): Refused {
  return { ok: false, status: 413, message: `sdocker serve: the request body is larger than ${max} bytes, the most the door reads to judge it` };
}

function timedOut(ms: number): Refused {
  return { ok: false, status: 408, message: `sdocker serve: the request body did not arrive within ${ms / 1000} s` };
}

/** The declared length: a number, undefined (none), or NaN (malformed). */
function declaredLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
}

/** Read an ordinary request's whole body (node has framed it: Content-Length or chunked). */
export function readRequestBody(req: IncomingMessage, max: number, timeoutMs: number, budget: BodyBudget): Promise<BodyResult> {
  const len = declaredLength(req.headers['content-length']);
  if (len !== undefined && Number.isNaN(len)) return Promise.resolve({ ok: false, status: 400, message: 'sdocker serve: a malformed Content-Length' });
  if (len !== undefined && len > max) return Promise.resolve(tooLarge(max));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      // The bytes are the caller's now (or dropped): the budget is for bodies still arriving.
      budget.give(size);
      resolve(r);
    };
    const timer = setTimeout(() => settle(timedOut(timeoutMs)), timeoutMs);
    const onData = (c: Buffer) => {
      if (size + c.length > max) return settle(tooLarge(max));
      if (!budget.take(c.length)) return settle(busy());
      size += c.length;
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => settle({ ok: true, bytes: Buffer.concat(chunks, size) }));
    req.on('error', () => settle({ ok: false, status: 400, message: 'sdocker serve: the request body was cut off' }));
    req.on('close', () => settle({ ok: false, status: 400, message: 'sdocker serve: the request body was cut off' }));
  });
}

export type UpgradeBodyResult = { ok: true; bytes: Buffer; leftover: Buffer } | { ok: false; status: RefusedStatus; message: string };

/**
 * Read the body of a hijack request from the raw socket (node's parser has let go of it): exactly
 * Content-Length bytes from `head` and then the socket; what follows is the client's stream.
 * A chunked body on such a request is refused (no client sends one).
 */
export function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer, max: number, timeoutMs: number, budget: BodyBudget): Promise<UpgradeBodyResult> {
  if (req.headers['transfer-encoding'] !== undefined) {
    return Promise.resolve({ ok: false, status: 400, message: 'sdocker serve: a chunked body on a hijacked (Upgrade) request' });
  }
  const len = declaredLength(req.headers['content-length']) ?? 0;
  if (Number.isNaN(len)) return Promise.resolve({ ok: false, status: 400, message: 'sdocker serve: a malformed Content-Length' });
  if (len > max) return Promise.resolve(tooLarge(max));
  if (head.length >= len) return Promise.resolve({ ok: true, bytes: head.subarray(0, len), leftover: head.subarray(len) });
  // The declared length is taken from the budget whole (it is known, and at most `max`).
  if (!budget.take(len)) return Promise.resolve(busy());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [head];
    let size = head.length;
    let settled = false;
    const settle = (r: UpgradeBodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      budget.give(len);
      resolve(r);
    };
    const timer = setTimeout(() => settle(timedOut(timeoutMs)), timeoutMs);
    const onData = (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size < len) return;
      const buf = Buffer.concat(chunks, size);
      settle({ ok: true, bytes: buf.subarray(0, len), leftover: buf.subarray(len) });
    };
    const onEnd = () => settle({ ok: false, status: 400, message: 'sdocker serve: the request body was cut off' });
    socket.on('data', onData);
    socket.on('end', onEnd);
  });
}

export type JsonResult = { ok: true; value: unknown } | { ok: false; message: string };

/** Parse a body the judge will read; an empty body is `undefined` (the judge decides). */
export function parseJsonBody(bytes: Buffer): JsonResult {
  if (bytes.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, message: `sdocker serve: the request body is not valid JSON (${(err as Error).message}); nothing was sent to the engine` };
  }
}
