/**
 * Reading a JSON body against an allowlist of its fields (pure): the door judges a body only when
 * it knows every field that is set. A field outside the allowlist at its zero value (what a client
 * library sends for everything it does not use: `""`, `0`, `false`, `null`, `[]`, `{}`) is
 * harmless; set to anything else it is refused (SD-DOOR-001), never forwarded unjudged.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `""`, `0`, `false`, `null`, an empty array or object: what Go's zero value encodes to. */
export function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.values(v).every(isZero);
  return false;
}

/** Keys of `o` set to something other than a zero value and not in `known`, prefixed for messages. */
export function unknownFields(o: JsonObject, known: ReadonlySet<string>, prefix = ''): string[] {
  return Object.keys(o).filter((k) => !known.has(k) && !isZero(o[k])).map((k) => `${prefix}${k}`);
}

/** Go's encoding/json matches field names case-insensitively: two spellings of one field is ambiguous. */
export function caseDuplicates(o: JsonObject, prefix = ''): string[] {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const k of Object.keys(o)) {
    const low = k.toLowerCase();
    const prev = seen.get(low);
    if (prev !== undefined) out.push(`${prefix}${prev}/${k}`);
    else seen.set(low, k);
  }
  return out;
}

/**
 * Fields whose name is known but spelled in another case: Go's decoder takes `privileged` for
 * `Privileged`, so a judge reading the exact key would miss it. Returns the keys to rename.
 */
export function canonicalKeys(o: JsonObject, known: ReadonlySet<string>): JsonObject {
  const byLower = new Map<string, string>();
  for (const k of known) byLower.set(k.toLowerCase(), k);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) out[byLower.get(k.toLowerCase()) ?? k] = v;
  return out;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
