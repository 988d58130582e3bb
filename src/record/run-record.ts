/**
 * The run record (guideline 3): one JSON line per run, create, dry-run or refusal, appended to
 * `<state dir>/audit.jsonl`. Each line carries `seq` and `prev` (the sha256 of the previous line's
 * text; 64 zeros for the first), and a side file `audit.jsonl.head` holds the count and the hash of
 * the last line, so an edited, deleted, reordered or truncated line is found by verifyAuditLog.
 *
 * A hash chain kept on the same disk detects tampering by anyone who does not rewrite the whole
 * chain and its head; it is not a signature. Export the log (`logs export`) or ship it elsewhere
 * for stronger guarantees.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { readBounded, readBoundedText } from '../fs/read-bounded.js';
import type { Allowance, Change, PolicyMode, ProfileSource, Violation } from '../policy/types.js';

export const GENESIS = '0'.repeat(64);

export interface RunRecord {
  time: string;
  event: 'run' | 'create' | 'refused' | 'dry-run' | 'error';
  user: string;
  uid: number;
  host: string;
  cwd: string;
  profiles: ProfileSource[];
  level: string;
  mode: PolicyMode;
  image: string;
  imageDigest?: string;
  /** The request as typed (argv after `run`/`create`). */
  argv: string[];
  changes: Change[];
  violations: Pick<Violation, 'rule' | 'guideline' | 'field' | 'value' | 'flag' | 'subject'>[];
  allowances: Allowance[];
  /** What the policy reported without changing or refusing (SD-HEALTH-001). */
  notes?: { rule: string; why: string }[];
  containerId?: string;
  exitStatus?: number;
  error?: string;
  /**
   * The image's setuid-root files found by the scan (issue 10), 'unknown' when it could not be
   * scanned, 'not-scanned' when the run did not need it (no-new-privileges set) and no cheap scan was possible.
   */
  setuidFiles?: string[] | 'unknown' | 'not-scanned';
  /** With 'not-scanned': how to fill the scan cache. */
  setuidNote?: string;
  /** The client of `sdocker serve` that asked (SO_PEERCRED on the door's unix socket), when the request came through the door. */
  peer?: { uid: number; gid: number; pid: number };
  /** The client certificate of a TLS door's client (no uid there): its subject and sha256. */
  client?: { subject: string; sha256: string };
}

export interface ChainedRecord extends RunRecord {
  seq: number;
  prev: string;
}

/** `$SDOCKER_STATE_DIR`, else `$XDG_STATE_HOME/sdocker`, else `~/.local/state/sdocker`. */
export function stateDir(env: Record<string, string | undefined>): string {
  if (env.SDOCKER_STATE_DIR) return env.SDOCKER_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'sdocker');
  return join(env.HOME || homedir(), '.local', 'state', 'sdocker');
}

/** The profile's `audit.log` (a floor's wins over a project's), else `<state dir>/audit.jsonl`. */
export function auditLogPath(env: Record<string, string | undefined>, profileLog?: string): string {
  return profileLog ?? join(stateDir(env), 'audit.jsonl');
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Who and where, for a record (I/O: the OS user). */
export function recordContext(cwd: string): Pick<RunRecord, 'user' | 'uid' | 'host' | 'cwd' | 'time'> {
  let user = 'unknown';
  let uid = -1;
  try {
    const u = userInfo();
    user = u.username;
    uid = u.uid;
  } catch {
    /* no passwd entry */
  }
  return { time: new Date().toISOString(), user, uid, host: hostname(), cwd };
}

interface Head {
  lines: number;
  last: string;
  /** The log's size in bytes when the head was written: a cheap check that the head is current. */
  bytes?: number;
}

const headPath = (path: string) => `${path}.head`;

function readHead(path: string): Head | undefined {
  try {
    const h = JSON.parse(readBoundedText(headPath(path), 'state')) as Head;
    return typeof h.lines === 'number' && typeof h.last === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function withLock<T>(path: string, fn: () => T): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { force: true }); // stale
      } catch {
        /* gone already */
      }
      if (Date.now() > deadline) throw new Error(`audit log ${path} is locked (${lock})`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function lastLine(path: string): { text?: string; count: number } {
  if (!existsSync(path)) return { count: 0 };
  const lines = readBounded(path, 'audit-log').toString('utf8').split('\n').filter((l) => l !== '');
  return { text: lines.at(-1), count: lines.length };
}

/**
 * Where the chain stands: from the head file when it matches the log's size (one small read on
 * every run), else from the log itself (the first run, or a head from an older sdocker).
 */
function chainTip(path: string): { prev: string; count: number; bytes: number } {
  let bytes = 0;
  try {
    bytes = statSync(path).size;
  } catch {
    return { prev: GENESIS, count: 0, bytes: 0 };
  }
  const head = readHead(path);
  if (head && head.bytes === bytes) return { prev: head.last, count: head.lines, bytes };
  const { text, count } = lastLine(path);
  return { prev: text === undefined ? GENESIS : sha256(text), count, bytes };
}

/** Append one record; returns the line written. */
export function appendRecord(path: string, record: RunRecord): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return withLock(path, () => {
    const fd = openLogForAppend(path);
    try {
      const { prev, count, bytes } = chainTip(path);
      const chained: ChainedRecord = { seq: count + 1, prev, ...record };
      const line = JSON.stringify(chained);
      writeSync(fd, `${line}\n`);
      const tmp = `${headPath(path)}.${randomBytes(6).toString('hex')}.tmp`;
      const head: Head = { lines: count + 1, last: sha256(line), bytes: bytes + Buffer.byteLength(line) + 1 };
      writeFileSync(tmp, JSON.stringify(head), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, headPath(path));
      return line;
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * Open the run record for appending without following a symbolic link (O_NOFOLLOW) and without
 * blocking on a FIFO (O_NONBLOCK); it must then be a regular file owned by the user (a new one is
 * created 0600). Anything else is refused: whoever placed a link or a file there could otherwise
 * make sdocker append text it chooses (the argv) to a file of the user's, a shell start-up file.
 */
export function openLogForAppend(path: string): number {
  const flags = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;
  let fd: number;
  try {
    fd = openSync(path, flags, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new Error(`${path} is a symbolic link: the run record is not written through it`);
    if (code === 'ENXIO') throw new Error(`${path} is not a regular file (a FIFO or socket): the run record is not written to it`);
    throw err;
  }
  const st = fstatSync(fd);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const why = !st.isFile() ? 'is not a regular file' : uid !== undefined && st.uid !== uid ? `belongs to uid ${st.uid}, not to you (uid ${uid})` : undefined;
  if (why) {
    closeSync(fd);
    throw new Error(`${path} ${why}: the run record is not written to it`);
  }
  return fd;
}

export interface VerifyProblem {
  line: number;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  lines: number;
  problems: VerifyProblem[];
}

/** Check the chain: every line's prev and seq, and the head file against the last line. */
export function verifyAuditLog(path: string): VerifyResult {
  // Not UTF-8 is not refused here: the hashes then fail, and the line is reported as tampered.
  const text = readBounded(path, 'audit-log').toString('utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const problems: VerifyProblem[] = [];
  let prevText: string | undefined;
  lines.forEach((l, i) => {
    const n = i + 1;
    let rec: Partial<ChainedRecord>;
    try {
      rec = JSON.parse(l) as Partial<ChainedRecord>;
    } catch {
      problems.push({ line: n, message: 'not a JSON record (edited?)' });
      prevText = l;
      return;
    }
    const expected = prevText === undefined ? GENESIS : sha256(prevText);
    if (rec.prev !== expected) {
      problems.push({
        line: n,
        message: n === 1
          ? 'the first line does not start the chain (lines were deleted from the start)'
          : `prev does not match the hash of line ${n - 1}: line ${n - 1} was edited, or lines were deleted or reordered between ${n - 1} and ${n}`,
      });
    }
    if (rec.seq !== n) {
      problems.push({ line: n, message: `seq is ${String(rec.seq)}, expected ${n}: ${typeof rec.seq === 'number' && rec.seq > n ? 'lines were deleted before it' : 'lines were reordered or duplicated'}` });
    }
    prevText = l;
  });
  const head = readHead(path);
  if (!head) {
    if (lines.length > 0) problems.push({ line: lines.length, message: `the head file ${headPath(path)} is missing or unreadable: the last line cannot be checked` });
  } else {
    if (head.lines !== lines.length) {
      problems.push({ line: lines.length, message: `the head records ${head.lines} lines but the log has ${lines.length}: lines were ${head.lines > lines.length ? 'deleted from the end' : 'appended without sdocker'}` });
    } else if (prevText !== undefined && sha256(prevText) !== head.last) {
      problems.push({ line: lines.length, message: 'the last line does not match the head: it was edited' });
    }
  }
  return { ok: problems.length === 0, lines: lines.length, problems };
}

/** The violation fields worth keeping in the record (not the long texts). */
export function recordViolations(v: Violation[]): RunRecord['violations'] {
  return v.map(({ rule, guideline, field, value, flag, subject }) => ({ rule, guideline, field, value, flag, subject }));
}
