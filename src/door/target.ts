/**
 * The request-target of a client's request, read as the engine's router reads it (pure).
 *
 * Docker 20.10 routes with gorilla/mux on the DECODED path (url.URL.Path: `%2F` is a `/`), and
 * answers a path that path.Clean would change (`//`, `/./`, `/../`) with a redirect to the clean
 * one; every route exists twice, under `/v{version:[0-9.]+}` and unversioned. So the door judges
 * the decoded path, and refuses (400) what it cannot read exactly as the router does instead of
 * guessing: an absolute-form or `*` target, a bad percent escape, control characters, a `#`,
 * a path the router would clean, a version prefix other than `/vMAJOR.MINOR`, and a query with
 * a `;` (Go drops such pairs, URLSearchParams keeps them) or a bad escape (Go drops the pair too).
 */

export interface Target {
  /** Decoded, without the version prefix: `/containers/create`. */
  path: string;
  apiVersion?: string;
  query: URLSearchParams;
}

export type TargetResult = { ok: true; target: Target } | { ok: false; message: string };

const VERSIONED = /^\/v([0-9.]+)(\/.*)?$/;
const API_VERSION = /^[0-9]{1,4}\.[0-9]{1,4}$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const CONTROL = /[\u0000-\u001f\u007f]/;

function bad(message: string): TargetResult {
  return { ok: false, message };
}

/** True when every segment between slashes is a name (a final empty one, a trailing slash, is kept by mux's cleanPath). */
function isClean(path: string): boolean {
  const segs = path.split('/').slice(1);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s === '.' || s === '..') return false;
    if (s === '' && i !== segs.length - 1) return false;
  }
  return true;
}

export function parseTarget(url: string): TargetResult {
  if (!url.startsWith('/')) return bad('the request target must be a path starting with "/"');
  if (url.includes('#')) return bad('a "#" in the request target');
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  if (BAD_ESCAPE.test(rawPath)) return bad('a malformed percent escape in the path');
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return bad('the path does not decode to UTF-8');
  }
  if (CONTROL.test(decoded)) return bad('a control character in the path');
  if (!isClean(decoded)) return bad('a path with an empty, "." or ".." segment (the engine would redirect it elsewhere)');
  if (rawQuery.includes(';')) return bad('a ";" in the query (the engine drops such parameters)');
  if (BAD_ESCAPE.test(rawQuery)) return bad('a malformed percent escape in the query');
  const query = new URLSearchParams(rawQuery);
  const m = VERSIONED.exec(decoded);
  if (m) {
    const version = m[1] as string;
    if (!API_VERSION.test(version)) return bad(`"v${version}" is not an API version`);
    return { ok: true, target: { path: m[2] ?? '/', apiVersion: version, query } };
  }
  return { ok: true, target: { path: decoded, query } };
}
