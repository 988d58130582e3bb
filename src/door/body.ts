/**
 * Reading the JSON bodies the judge asks for: bounded in size (413 beyond, without reading on
 * when Content-Length already says so) and in time (408: a client trickling a body a byte at a
 * time does not hold a judgement open), and parsed strictly (400: nothing is forwarded).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export type BodyResult = { ok: true; bytes: Buffer } | { ok: false; status: 400 | 408 | 413; message: string };

export const MAX_JSON_BODY = 1024 * 1024;

interface Refused {
  ok: false;
  status: 400 | 408 | 413;
  message: string;
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
export function readRequestBody(req: IncomingMessage, max: number, timeoutMs: number): Promise<BodyResult> {
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
      resolve(r);
    };
    const timer = setTimeout(() => settle(timedOut(timeoutMs)), timeoutMs);
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) settle(tooLarge(max));
      else chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => settle({ ok: true, bytes: Buffer.concat(chunks, size) }));
    req.on('error', () => settle({ ok: false, status: 400, message: 'sdocker serve: the request body was cut off' }));
    req.on('close', () => settle({ ok: false, status: 400, message: 'sdocker serve: the request body was cut off' }));
  });
}

export type UpgradeBodyResult = { ok: true; bytes: Buffer; leftover: Buffer } | { ok: false; status: 400 | 408 | 413; message: string };

/**
 * Read the body of a hijack request from the raw socket (node's parser has let go of it): exactly
 * Content-Length bytes from `head` and then the socket; what follows is the client's stream.
 * A chunked body on such a request is refused (no client sends one).
 */
export function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer, max: number, timeoutMs: number): Promise<UpgradeBodyResult> {
  if (req.headers['transfer-encoding'] !== undefined) {
    return Promise.resolve({ ok: false, status: 400, message: 'sdocker serve: a chunked body on a hijacked (Upgrade) request' });
  }
  const len = declaredLength(req.headers['content-length']) ?? 0;
  if (Number.isNaN(len)) return Promise.resolve({ ok: false, status: 400, message: 'sdocker serve: a malformed Content-Length' });
  if (len > max) return Promise.resolve(tooLarge(max));
  if (head.length >= len) return Promise.resolve({ ok: true, bytes: head.subarray(0, len), leftover: head.subarray(len) });
  return new Promise((resolve) => {
    let buf = head;
    let settled = false;
    const settle = (r: UpgradeBodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      resolve(r);
    };
    const timer = setTimeout(() => settle(timedOut(timeoutMs)), timeoutMs);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= len) settle({ ok: true, bytes: buf.subarray(0, len), leftover: buf.subarray(len) });
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
