// The detach key sequence of an attach (docker's term.ToBytes and the daemon's matching): pure,
// so the flags (validation of --detach-keys) and the session (stdin) share one parser.

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

/** docker's term.ToBytes: comma-separated keys, each a single character or ctrl-<char>. */
export function parseDetachKeys(keys: string): number[] {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    const k = key.trim();
    if (k.length > 1 && k.toLowerCase().startsWith('ctrl-')) {
      const c = k.slice(5).toLowerCase();
      if (c.length !== 1) throw new Error(`invalid detach keys (${keys}): unknown character: '${k}'`);
      const code = c.charCodeAt(0);
      if (code >= 97 && code <= 122) out.push(code - 97 + 1);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new Error(`invalid detach keys (${keys}): unknown character: '${k}'`);
    } else if (k.length === 1) {
      out.push(k.charCodeAt(0));
    } else {
      throw new Error(`invalid detach keys (${keys}): unknown character: '${k}'`);
    }
  }
  return out;
}
