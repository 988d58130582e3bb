/**
 * A small JSON parser that remembers where every value starts, so errors about a profile can
 * name the file, line and column of the offending value. Accepts exactly RFC 8259 JSON, nested
 * at most MAX_DEPTH deep. Messages say what was expected, never what was found: the text may be
 * any file the user can read (a mistyped or hostile path), and its bytes must not reach a log.
 */

/** Deeper nesting is refused (no seccomp profile nests more than a handful of levels). */
export const MAX_DEPTH = 256;

export type JsonPath = (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export interface LocatedJson {
  value: unknown;
  /** Where the value at this path starts (1-based line and column), or undefined. */
  locate(path: JsonPath): Position | undefined;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: Position,
  ) {
    super(message);
  }
}

export function positionOf(text: string, offset: number): Position {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}

export function pathKey(path: JsonPath): string {
  return path.map((p) => String(p)).join('\u0000');
}

export function parseJsonLocated(text: string): LocatedJson {
  const offsets = new Map<string, number>();
  let i = 0;
  const fail = (msg: string, at = i): never => {
    throw new JsonSyntaxError(msg, positionOf(text, at));
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  // Only JSON's own punctuation is named: any other character could be a secret's first byte.
  const describe = (at: number) => (at >= text.length ? 'end of input' : '{}[]:,"'.includes(text[at]!) ? `'${text[at]}'` : 'other text');
  const value = (path: JsonPath): unknown => {
    ws();
    if (path.length > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    offsets.set(pathKey(path), i);
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name, found ${describe(i)}`);
        const key = string();
        ws();
        if (text[i] !== ':') fail(`expected ':' after property name, found ${describe(i)}`);
        i++;
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail('duplicate property name');
        obj[key] = value([...path, key]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail(`expected ',' or '}', found ${describe(i)}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value([...path, arr.length]));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail(`expected ',' or ']', found ${describe(i)}`);
      }
    }
    if (c === '"') return string();
    if (c === 't' && text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (c === 'f' && text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (c === 'n' && text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail(`expected a JSON value, found ${describe(i)}`);
  };
  const string = (): string => {
    const start = i;
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail('bad escape in string');
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail('control character in string');
      out += c;
      i++;
    }
  };
  const v = value([]);
  ws();
  if (i < text.length) fail(`expected the end after the JSON value, found ${describe(i)}`);
  return {
    value: v,
    locate(path) {
      const off = offsets.get(pathKey(path));
      return off === undefined ? undefined : positionOf(text, off);
    },
  };
}
