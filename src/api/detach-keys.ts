/**
 * --detach-keys as docker reads them (moby/term ToBytes): comma-separated keys, each a single
 * character or ctrl-<a-z, @, [, \, ], ^, _> (case-insensitive), nothing trimmed. The one parser:
 * the flag is checked with it and the session's detach matcher uses its bytes. It sits in the leaf (src/api) so the flags and the session both
 * read it.
 */
import { UsageError } from '../errors.js';

/**
 * Tracks whether the detach key sequence passed through stdin (the daemon ends the attach stream on
 * it and leaves the container running). Keys in docker's syntax: "ctrl-p,ctrl-q", "a", "ctrl-@".
 */
export class DetachKeyMatcher {
  private readonly seq: number[];
  private pos = 0;
  matched = false;

  constructor(keys: string | undefined) {
    this.seq = parseDetachKeys(keys || 'ctrl-p,ctrl-q');
  }

  feed(chunk: Buffer): void {
    if (this.matched || this.seq.length === 0) return;
    for (const b of chunk) {
      if (b === this.seq[this.pos]) {
        if (++this.pos === this.seq.length) {
          this.matched = true;
          return;
        }
      } else {
        this.pos = b === this.seq[0] ? 1 : 0;
      }
    }
  }
}

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
