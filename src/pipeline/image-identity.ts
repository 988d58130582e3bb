/**
 * The image's own /etc/passwd and /etc/group, for the policy to resolve users and groups as the
 * engine will (src/policy/identity.ts). I/O; the decision stays pure.
 *
 * Why this cannot be shadowed: the files are read through a short-lived helper container created
 * from the image *id* with no binds, no mounts, no volumes-from, no tmpfs and no network: its
 * filesystem is the image's layers (and fresh anonymous volumes for the image's own VOLUMEs,
 * which the engine fills from the image). The request's `-v DIR:/etc` never reaches it, as it
 * never reaches the daemon's own resolution (which reads the container's rootfs without
 * volumes). Symbolic links are followed inside the image, as the daemon follows them
 * (FollowSymlinkInScope: the archive API's stat gives a link's fully resolved target). The helper
 * is never started, carries the label sdocker.helper=identity, and is removed with its volumes
 * (v=1) whatever happens.
 *
 * An image id names its content (the config digest covers the layers), so the files are
 * remembered per image id in the state directory: the helper is made once per image.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { stateDir } from '../record/run-record.js';
import type { EngineApi, PathStat } from '../engine/api.js';
import { readBody } from '../engine/client.js';
import { PolicyError } from '../errors.js';
import { singleFileFromTar, type IdentityFiles } from '../policy/user-names.js';

export const HELPER_LABEL = 'sdocker.helper';

/** Larger files are refused (the engine would read them; a hostile image could make them huge). */
const MAX_FILE = 4 * 1024 * 1024;
const KEPT = 32;
const CACHED_MAX = 256 * 1024;

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

const isLink = (s: PathStat | undefined) => !!s?.mode && Math.floor(s.mode / MODE_SYMLINK) % 2 === 1;
const isDir = (s: PathStat | undefined) => !!s?.mode && s.mode >= MODE_DIR;

/** One file of a container, following symbolic links in its scope; null when absent. `paths`: the way. */
export async function readFile(api: EngineApi, id: string, path: string, paths: string[]): Promise<string | null> {
  for (let hop = 0; hop < 40; hop++) {
    paths.push(path);
    const res = await api.containers.archive(id, path);
    if (!res) return null;
    const st = res.stat;
    if (isLink(st) && st?.linkTarget) {
      res.body.resume();
      path = st.linkTarget;
      continue;
    }
    if (isDir(st) || (st?.size ?? 0) > MAX_FILE) {
      res.body.resume();
      throw new PolicyError(`the image's ${path} is ${isDir(st) ? 'a directory' : 'larger than 4 MiB'}: users and groups cannot be resolved`);
    }
    const f = singleFileFromTar(await readBody(res.body));
    return f && 'text' in f ? f.text : null;
  }
  throw new PolicyError(`the image's ${path}: too many symbolic links`);
}

/** Read the files through a helper container made from the image id (see the comment above). */
export async function readImageIdentity(api: EngineApi, imageId: string): Promise<IdentityFiles> {
  const created = await api.containers.create({
    Image: imageId,
    Entrypoint: ['/sdocker-identity-helper-never-started'],
    Cmd: [],
    Labels: { [HELPER_LABEL]: 'identity' },
    NetworkDisabled: true,
    HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
  });
  const id = created.Id;
  try {
    const passwdPaths: string[] = [];
    const groupPaths: string[] = [];
    const [etc, passwd, group] = await Promise.all([
      api.containers.archiveStat(id, '/etc'),
      readFile(api, id, '/etc/passwd', passwdPaths),
      readFile(api, id, '/etc/group', groupPaths),
    ]);
    // /etc itself a link (to /private/etc, say): a mount there replaces the file as well.
    if (isLink(etc) && etc?.linkTarget) groupPaths.push(posix.join(etc.linkTarget, 'group'));
    return { passwd, group, groupPaths: [...new Set(groupPaths)] };
  } finally {
    await api.containers.remove(id).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Remembered per image id

function cacheFile(env: Record<string, string | undefined>): string {
  return join(stateDir(env), 'image-identity.json');
}

function valid(x: unknown): x is IdentityFiles {
  if (typeof x !== 'object' || x === null) return false;
  const f = x as Record<string, unknown>;
  const text = (v: unknown) => v === null || typeof v === 'string';
  return text(f.passwd) && text(f.group) && (f.groupPaths === undefined || (Array.isArray(f.groupPaths) && f.groupPaths.every((p) => typeof p === 'string')));
}

/** The remembered map; anything odd (not a regular file, too large, not JSON, wrong shape) is none. */
function readCache(env: Record<string, string | undefined>): Record<string, IdentityFiles> {
  const path = cacheFile(env);
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size > 16 * 1024 * 1024) return {};
    const all = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof all !== 'object' || all === null || Array.isArray(all)) return {};
    const out: Record<string, IdentityFiles> = {};
    for (const [k, v] of Object.entries(all)) if (/^sha256:[0-9a-f]{64}$/.test(k) && valid(v)) out[k] = v;
    return out;
  } catch {
    return {};
  }
}

function remember(env: Record<string, string | undefined>, imageId: string, files: IdentityFiles): void {
  if ((files.passwd?.length ?? 0) > CACHED_MAX || (files.group?.length ?? 0) > CACHED_MAX || !/^sha256:[0-9a-f]{64}$/.test(imageId)) return;
  const all = readCache(env);
  delete all[imageId];
  all[imageId] = files;
  const keys = Object.keys(all);
  for (const k of keys.slice(0, Math.max(0, keys.length - KEPT))) delete all[k];
  try {
    mkdirSync(stateDir(env), { recursive: true, mode: 0o700 });
    const tmp = `${cacheFile(env)}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
    renameSync(tmp, cacheFile(env));
  } catch {
    // a read-only state directory costs time, not safety
  }
}

/** The image's files: remembered for this image id, else read (and remembered). */
export async function imageIdentity(api: EngineApi, env: Record<string, string | undefined>, imageId: string): Promise<IdentityFiles> {
  const known = readCache(env)[imageId];
  if (known) return known;
  const files = await readImageIdentity(api, imageId);
  remember(env, imageId, files);
  return files;
}
