/**
 * --detach-keys as docker reads them (moby/term ToBytes): comma-separated keys, each a single
 * character or ctrl-<a-z, @, [, \, ], ^, _> (case-insensitive), nothing trimmed. The one parser:
 * the flag is checked with it and the session's detach matcher uses its bytes.
 */
import { UsageError } from '../../errors.js';

const CTRL: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

export function parseDetachKeys(keys: string): number[] {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const k = key.toLowerCase();
    const c = k.length === 6 && k.startsWith('ctrl-') ? k[5]! : '';
    if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
    else if (c in CTRL) out.push(CTRL[c]!);
    else throw new UsageError(`invalid detach keys (${keys}): Unknown character: '${key}'`);
  }
  return out;
}
