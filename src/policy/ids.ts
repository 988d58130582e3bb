/**
 * User and group ids as the engine and runc read them (libcontainer/user, measured on Docker
 * 20.10 / runc 1.1). Pure. The rules that matter for the policy:
 * - a user spec is `USER[:GROUP]`; the parts are split at ':' and parts after the second are
 *   ignored (`1000:1000:0` is 1000:1000);
 * - a part is numeric when Go's strconv.Atoi accepts it: an optional sign and decimal digits
 *   (`00`, `+0`, `-0`, `000` are all 0); a numeric part is always an id, never a name;
 * - ids outside 0..2^31-1 are refused by runc (so they never run, but they are not ours to pass).
 */

/** Go's strconv.Atoi on a decimal string: the number, or undefined when Atoi fails. */
export function goAtoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  // Atoi works on 64-bit ints; beyond that it fails with a range error.
  if (!Number.isSafeInteger(n) && Math.abs(n) > 2 ** 63) return undefined;
  return n === 0 ? 0 : n; // -0 is 0
}

/** The largest id runc accepts (user.maxId). */
export const MAX_ID = 2 ** 31 - 1;

/** A part of a user spec as runc reads it: a numeric id (in range or not), or a name. */
export type IdPart = { id: number } | { name: string };

export function idPart(s: string): IdPart {
  const n = goAtoi(s);
  return n === undefined ? { name: s } : { id: n };
}

export interface UserSpec {
  user: IdPart | undefined;
  group: IdPart | undefined;
}

/** Split `USER[:GROUP[:ignored...]]` as runc's parseLine does; empty parts are absent. */
export function parseUserSpec(spec: string): UserSpec {
  const [u = '', g = ''] = spec.split(':');
  return { user: u === '' ? undefined : idPart(u), group: g === '' ? undefined : idPart(g) };
}

/** True when a part is a numeric id that runc reads as 0 (`0`, `00`, `+0`, `-0`). */
export function isZeroId(s: string): boolean {
  return goAtoi(s) === 0;
}

/** The canonical spelling of a numeric part (`+0100` → `100`), or undefined for a name. */
export function canonicalId(s: string): string | undefined {
  const n = goAtoi(s);
  return n === undefined ? undefined : String(n);
}
