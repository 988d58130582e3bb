/**
 * Go's strconv and time parsing as pflag uses them, so a value docker accepts is accepted
 * here with the same result, and a value docker refuses is refused with the same words.
 */

function syntaxError(fn: string, s: string): Error {
  return new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
}
function rangeError(fn: string, s: string): Error {
  return new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: value out of range`);
}

/** strconv.ParseInt / ParseUint with base 0 (0x, 0o, 0b and leading-0 octal prefixes, `_` separators). */
export function parseGoInt(s: string, bits: number, unsigned: boolean): number {
  const fn = unsigned ? 'ParseUint' : 'ParseInt';
  let body = s;
  let negative = false;
  if (!unsigned && (body.startsWith('+') || body.startsWith('-'))) {
    negative = body.startsWith('-');
    body = body.slice(1);
  }
  if (body === '') throw syntaxError(fn, s);
  let base = 10;
  let digits = body;
  const lower = body.toLowerCase();
  if (lower.startsWith('0x')) {
    base = 16;
    digits = body.slice(2);
  } else if (lower.startsWith('0o')) {
    base = 8;
    digits = body.slice(2);
  } else if (lower.startsWith('0b')) {
    base = 2;
    digits = body.slice(2);
  } else if (body.length > 1 && body.startsWith('0')) {
    base = 8;
    digits = body.slice(1);
  }
  if (base !== 10 || body.startsWith('0')) {
    // underscores are allowed only with a base prefix, between digits
    if (digits.startsWith('_') || digits.endsWith('_') || digits.includes('__')) throw syntaxError(fn, s);
    digits = digits.replaceAll('_', '');
  }
  if (digits === '') throw syntaxError(fn, s);
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  let value = 0n;
  for (const ch of digits.toLowerCase()) {
    const d = alphabet.indexOf(ch);
    if (d < 0) throw syntaxError(fn, s);
    value = value * BigInt(base) + BigInt(d);
  }
  if (negative) value = -value;
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
  if (value > max || value < min) throw rangeError(fn, s);
  return Number(value);
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  switch (s) {
    case '1': case 't': case 'T': case 'true': case 'TRUE': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'false': case 'FALSE': case 'False':
      return false;
    default:
      throw syntaxError('ParseBool', s);
  }
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  const re = /^([0-9]*(?:\.[0-9]*)?)([a-z\u00b5\u03bc]*)/; // µ (micro sign) and μ (Greek mu), escaped: the bundles are ASCII (scripts/bundle.mjs)
  while (rest !== '') {
    const m = re.exec(rest);
    if (!m || m[1] === '' || m[1] === '.') throw invalid();
    const num = m[1] as string;
    const unit = m[2] as string;
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    const mult = DURATION_UNITS[unit];
    if (mult === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(s)}`);
    total += Number(num) * mult;
    rest = rest.slice(num.length + unit.length);
  }
  return sign * Math.trunc(total);
}

/** go-units RAMInBytes: binary multipliers, optional `i` and `b`, e.g. 512m, 1.5g, 64MiB. */
export function parseRamBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  // The regexp lets 1.2.3 through; strconv.ParseFloat then refuses it.
  if (!m || !/^\d+(\.\d+)?$/.test(m[1] as string)) throw new Error(`invalid size: '${s}'`);
  const size = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[unit] ?? 1;
  return Math.trunc(size * mult);
}

/** opts.ParseCPUs (big.Rat): a decimal or fraction of CPUs, in nano-CPUs, refusing more precision than 1e-9. */
export function parseNanoCpus(s: string): number {
  const bad = () => new Error(`failed to parse ${s} as a rational number`);
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (frac) {
    num = BigInt(frac[1] as string);
    den = BigInt(frac[2] as string);
    if (den === 0n) throw bad();
  } else {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
    if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) throw bad();
    const intPart = m[2] ?? '';
    const fracPart = m[3] ?? '';
    const exp = Number(m[4] ?? '0');
    num = BigInt((intPart || '0') + fracPart) * (m[1] === '-' ? -1n : 1n);
    const scale = fracPart.length - exp;
    if (scale >= 0) den = 10n ** BigInt(scale);
    else {
      num *= 10n ** BigInt(-scale);
      den = 1n;
    }
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

/**
 * go-units FromHumanSize: decimal multipliers (`1k` = 1000, `1t` = 10^12), optional `i` and `b`,
 * as the json-file and local logging drivers read `max-size`. A malformed number is an error.
 */
export function parseHumanSize(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m || !/^\d+(\.\d+)?$/.test(m[1] as string)) throw new Error(`invalid size: '${s}'`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.trunc(Number(m[1]) * mult);
}
