/**
 * The engine side of a diagnosis: watch a detached container for a few seconds, read its state,
 * its last log lines, the image's /etc/passwd and the owners of the paths the logs name, then
 * hand them to the pure diagnose().
 */
import type { EngineApi } from '../engine/api.js';
import { readBody } from '../engine/client.js';
import { EngineError } from '../errors.js';
import { parsePasswd, singleFileFromTar } from '../policy/user-names.js';
import { diagnose, pathsToOwn } from './diagnose.js';
import { OutputTail } from './tail.js';
import type { EffectiveProfile } from '../policy/types.js';
import type { Diagnosis, DiagnosisInput, PathFact } from './types.js';

/**
 * Wait up to `ms` for the container to stop. The exit status when it stopped (also when it had
 * already stopped before the wait was registered), undefined when it is still running.
 */
export async function watchContainer(api: EngineApi, id: string, ms: number): Promise<number | undefined> {
  let wait;
  try {
    wait = await api.containers.wait(id, 'not-running');
  } catch (err) {
    if (err instanceof EngineError && err.statusCode === 404) return undefined; // removed already (--rm)
    throw err;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    const r = await Promise.race([wait.result.then((x) => x.StatusCode, () => undefined), timeout]);
    return r;
  } finally {
    clearTimeout(timer);
    wait.abort();
  }
}

/** The last `tail` lines of the container's logs (stdout and stderr), [] when it is gone. */
export async function readLogTail(api: EngineApi, id: string, tty: boolean, tail = 50): Promise<string[]> {
  try {
    const res = await api.containers.logs(id, { tail, stdout: true, stderr: true });
    const t = new OutputTail(!tty, tail);
    t.feed(await readBody(res));
    return t.get();
  } catch (err) {
    if (err instanceof EngineError) return [];
    throw err;
  }
}

/** A file of the (stopped) container, '' when missing. Follows no links: /etc/passwd is a file. */
async function readFile(api: EngineApi, id: string, path: string): Promise<string> {
  try {
    const res = await api.containers.archive(id, path);
    if (!res) return '';
    const f = singleFileFromTar(await readBody(res.body));
    return f && 'text' in f ? f.text : '';
  } catch (err) {
    if (err instanceof EngineError) return '';
    throw err;
  }
}

/** The owner of a path in the container and whether it is a directory: the first tar header of its archive (uid at 108, gid at 116, type at 156). */
async function ownerOf(api: EngineApi, id: string, path: string): Promise<PathFact | undefined> {
  let res;
  try {
    res = (await api.containers.archive(id, path))?.body;
  } catch (err) {
    if (err instanceof EngineError) return undefined;
    throw err;
  }
  if (!res) return undefined;
  const body = res;
  const header = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const done = () => {
      body.destroy();
      resolve(Buffer.concat(chunks));
    };
    body.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (n >= 512) done();
    });
    body.on('end', done);
    body.on('error', done);
  });
  if (header.length < 512) return undefined;
  const num = (a: number, b: number) => parseInt(header.subarray(a, b).toString('latin1').replace(/\0.*$/s, '').trim() || 'x', 8);
  const uid = num(108, 116);
  const gid = num(116, 124);
  return Number.isFinite(uid) && Number.isFinite(gid) ? { uid, gid, dir: header[156] === 0x35 } : undefined;
}

export interface CollectInput extends Omit<DiagnosisInput, 'exitCode' | 'logLines' | 'passwd' | 'owners'> {
  /** The exit status when known (the wait); else read from the container's state. */
  exitCode?: number;
  /** Lines kept while the output streamed; else read from the logs. */
  logLines?: string[];
}

/** What the effective profile already says, as the diagnosis reads it (a fix lists the whole new value). */
export function profileFacts(profile: EffectiveProfile): DiagnosisInput['profile'] {
  const d = profile.defaults;
  return { tmpfs: d.tmpfs, capabilities: d.capabilities ?? [], memory: d.memory, pids: d.pids, seccomp: d.seccomp };
}

/** Everything the engine still knows about a dead container, diagnosed. */
export async function collectDiagnosis(api: EngineApi, id: string, input: CollectInput): Promise<Diagnosis> {
  const inspected = await api.containers.inspect(id);
  const state = inspected?.State;
  const logLines = input.logLines ?? (inspected ? await readLogTail(api, id, inspected.Config?.Tty === true) : []);
  const full: DiagnosisInput = { ...input, exitCode: input.exitCode ?? state?.ExitCode ?? -1, logLines };
  if (state?.OOMKilled !== undefined) full.oomKilled = state.OOMKilled;
  if (inspected) {
    const passwd = await readFile(api, id, '/etc/passwd');
    const entries = passwd ? parsePasswd(passwd) : undefined;
    // A passwd the engine would refuse (runc's parse error) names no user for the fix: leave it out.
    if (entries && !('error' in entries)) full.passwd = entries;
    const owners: Record<string, PathFact> = {};
    for (const p of pathsToOwn(logLines).slice(0, 8)) {
      const o = await ownerOf(api, id, p);
      if (o) owners[p] = o;
    }
    full.owners = owners;
  }
  return diagnose(full);
}
