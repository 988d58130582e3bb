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
  // Atoi works on 64-bit ints; beyond that it fails with a range error (exact, hence BigInt).
  const big = BigInt(s);
  if (big > INT64_MAX || big < -INT64_MAX - 1n) return undefined;
  const n = Number(big);
  return n === 0 ? 0 : n; // -0 is 0
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A numeric field of /etc/passwd or /etc/group as runc's parseParts reads it: strconv.Atoi with
 * the error ignored. A syntax error is 0 (`abc`, ``, `+`); a range error is Go's clamped value,
 * which is out of any id range. `text` is Go's strconv.Itoa of the result (runc compares it with
 * `--group-add` entries).
 */
export function atoiField(s: string): { n: number; text: string } {
  if (!/^[+-]?[0-9]+$/.test(s)) return { n: 0, text: '0' };
  let big = BigInt(s);
  if (big > INT64_MAX) big = INT64_MAX;
  if (big < -INT64_MAX - 1n) big = -INT64_MAX - 1n;
  const n = Number(big);
  return { n: n === 0 ? 0 : n, text: big.toString() };
}

/** Whether an id is one runc and the kernel take as it is (0..2^31-1); others wrap or fail. */
export function inIdRange(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_ID;
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
