const WS = /[ \t]/;

/** opts.ValidateEnv: `NAME` alone takes its value from the caller's environment when set there. */
export function validateEnv(val: string, env: Record<string, string | undefined>): string {
  const eq = val.indexOf('=');
  const key = eq < 0 ? val : val.slice(0, eq);
  if (key === '') throw new Error(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const v = env[key];
  return v !== undefined ? `${key}=${v}` : val;
}

export function validateLabel(val: string): string {
  const eq = val.indexOf('=');
  const key = (eq < 0 ? val : val.slice(0, eq)).replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${val}': empty name`);
  if (WS.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return val;
}

const SAFE_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/** opts.ValidateSysctl: the namespaced sysctls docker accepts at all. */
export function validateSysctl(val: string): string {
  const eq = val.indexOf('=');
  const key = eq < 0 ? '' : val.slice(0, eq);
  if (eq < 0 || key === '') throw new Error(`sysctl '${val}' is not allowed`);
  if (SAFE_SYSCTLS.has(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.')) return val;
  throw new Error(`sysctl '${val}' is not allowed`);
}

/** KEY=VALUE strings to a map; the last one wins, a missing `=` gives an empty value. */
export function kvToMap(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

/** IPv6 text (RFC 4291 forms, an embedded IPv4 tail, no zone). Our own: node's net.isIP compiles a large regex on first use. */
function isIpv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false;
  let head = s;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIpv4(tail)) return false;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const double = head.indexOf('::');
  if (double !== head.lastIndexOf('::')) return false;
  const groups = (double < 0 ? head : head.replace('::', ':x:')).split(':').filter((g, i, a) => !(g === '' && (i === 0 || i === a.length - 1) && double >= 0));
  const valid = groups.every((g) => g === 'x' || /^[0-9a-fA-F]{1,4}$/.test(g));
  const count = groups.filter((g) => g !== 'x').length;
  return valid && (double < 0 ? count === 8 : count < 8);
}

/** Canonical text of an IP address, as Go's net.IP.String prints it; undefined when not an address. */
export function canonicalIp(val: string): string | undefined {
  const s = val.trim();
  const kind = isIpv4(s) ? 4 : isIpv6(s) ? 6 : 0;
  if (kind === 4) return s.split('.').map((p) => String(Number(p))).join('.');
  if (kind === 6) {
    const v4mapped = /^(?:0{0,4}:){5}ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
    if (v4mapped) return v4mapped[1];
    return compressIpv6(s);
  }
  return undefined;
}

function compressIpv6(s: string): string {
  let head = s;
  let tailV4: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    tailV4 = (v4[1] as string).split('.').map(Number);
    head = s.slice(0, s.length - (v4[1] as string).length) + `${((tailV4[0]! << 8) | tailV4[1]!).toString(16)}:${((tailV4[2]! << 8) | tailV4[3]!).toString(16)}`;
  }
  const [l, r] = head.includes('::') ? head.split('::') : [head, undefined];
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r !== '' ? r.split(':') : [];
  const groups = r === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const nums = groups.map((g) => parseInt(g, 16));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (nums[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && nums[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = nums.map((n) => n.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function validateIpAddress(val: string): string {
  const ip = canonicalIp(val);
  if (ip === undefined) throw new Error(`IP address is not correctly formatted: ${val}`);
  return ip;
}

export function validateDnsSearch(val: string): string {
  const v = val.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/.exec(v);
  if (!/[a-zA-Z]/.test(v) || !m || (m[1] as string).length >= 255) throw new Error(`${v} is not a valid domain`);
  return m[1] as string;
}

/** opts.ValidateExtraHost: `host:ip` or `host=ip`, sent to the engine as `host:ip`. */
export function validateExtraHost(val: string): string {
  let sep = val.indexOf('=');
  if (sep < 0) sep = val.indexOf(':');
  const k = sep < 0 ? '' : val.slice(0, sep);
  let v = sep < 0 ? '' : val.slice(sep + 1);
  if (sep < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    if (canonicalIp(v) === undefined) throw new Error(`invalid IP address in add-host: ${JSON.stringify(v)}`);
  }
  return `${k}:${v}`;
}

export function validateLink(val: string): string {
  if (val === '') throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error(`bad format for links: ${val}`);
  return val;
}

/** Go's unicode.IsSpace: what docker trims from the start of a line (not U+FEFF, unlike JS's \s). */
const GO_LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** bufio.Scanner's limit: a line of this many bytes or more (its newline aside) fails. */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * docker's kvfile.Parse (docker 28) for --env-file and --label-file, on text already checked to be
 * UTF-8 (docker: "invalid utf8 bytes at line N", which the reader reports): a UTF-8 BOM at the very
 * start is dropped; lines split at `\n` with one trailing `\r` dropped; leading white space
 * (Go's unicode.IsSpace) trimmed; empty lines and `#` lines skipped; the name is everything before
 * the first `=` and must be non-empty and hold no space or tab; the value is kept as written. A
 * line with no `=` takes the caller's value through `lookup` (env files) when the caller has the
 * name, else it is left out (always for label files).
 * Errors use docker's words but name the line instead of quoting it: a file's content is never
 * echoed (`--env-file /root/secret` must not print the secret).
 */
export function parseKvFile(
  text: string,
  file: string,
  lookup?: (name: string) => string | undefined,
): string[] {
  const out: string[] = [];
  const bad = (msg: string): never => {
    throw new Error(`invalid env file (${file}): ${msg}`);
  };
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, idx) => {
    if (raw.length >= MAX_LINE_BYTES / 4 && Buffer.byteLength(raw) >= MAX_LINE_BYTES) bad('bufio.Scanner: token too long');
    const line = raw.replace(/\r$/, '').replace(GO_LEADING_SPACE, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const variable = eq < 0 ? line : line.slice(0, eq);
    if (variable === '') bad(`no variable name on line ${idx + 1}`);
    if (WS.test(variable)) bad(`variable on line ${idx + 1} contains whitespaces`);
    if (eq >= 0) out.push(`${variable}=${line.slice(eq + 1)}`);
    else if (lookup) {
      const v = lookup(variable);
      if (v !== undefined) out.push(`${variable}=${v}`);
    }
  });
  return out;
}
