/**
 * Which headers a proxy passes on (pure). Hop-by-hop headers (RFC 9110 7.6.1: Connection,
 * Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, and every header the
 * Connection header names) belong to one connection and are never copied: node frames each side
 * itself. Everything else is copied as received, in order, with its case.
 */
import type { OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function connectionTokens(raw: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'connection') continue;
    for (const t of (raw[i + 1] as string).split(',')) {
      const token = t.trim().toLowerCase();
      if (token) out.add(token);
    }
  }
  return out;
}

/** `rawHeaders` (name, value, name, value...) without the hop-by-hop ones and without `drop`. */
export function endToEnd(raw: readonly string[], drop: readonly string[] = []): string[] {
  const named = connectionTokens(raw);
  const dropped = new Set(drop.map((d) => d.toLowerCase()));
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower) || dropped.has(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}

/** A raw list as the object http.request takes (repeated names become arrays, case kept). */
export function toObject(raw: readonly string[]): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  const nameOf = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    const first = nameOf.get(lower);
    if (first === undefined) {
      nameOf.set(lower, name);
      out[name] = value;
    } else {
      const prev = out[first] as string | string[];
      out[first] = Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
  }
  return out;
}

/** The head of an HTTP/1.1 response, for a connection the server no longer frames (hijacked). */
export function responseHead(status: number, statusMessage: string, raw: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${statusMessage.replace(/[\r\n]/g, '')}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${(raw[i + 1] as string).replace(/[\r\n]/g, '')}\r\n`;
  return `${head}\r\n`;
}
