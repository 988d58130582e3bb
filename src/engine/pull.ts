/**
 * Image pull: POST /images/create?fromImage=..&tag=.. with progress rendered on stderr (one line
 * per layer and status change, as docker prints it when stderr is not a terminal) and registry
 * credentials from the docker config (auths, credHelpers, credsStore) as X-Registry-Auth.
 * Loaded lazily: only runs that pull need it.
 */
import { readBounded } from '../fs/read-bounded.js';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { EngineApi } from './api.js';
import { defaultConfigDir } from './endpoint.js';
import { loadModule } from '../load-module.js';

export interface ImageRef {
  /** Registry host, e.g. docker.io or 127.0.0.1:5000. */
  domain: string;
  /** Fully qualified repository, e.g. docker.io/library/busybox. */
  name: string;
  tag?: string;
  digest?: string;
}

/** docker's ParseNormalizedNamed, the parts pull needs. */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let domain: string;
  let path: string;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
  } else {
    domain = 'docker.io';
    path = rest;
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  const ref: ImageRef = { domain, name: `${domain}/${path}` };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** How docker names the image in messages: without docker.io/library/, with the tag. */
export function familiarString(image: string): string {
  const ref = parseImageRef(image);
  let name = ref.name;
  if (name.startsWith('docker.io/library/')) name = name.slice('docker.io/library/'.length);
  else if (name.startsWith('docker.io/')) name = name.slice('docker.io/'.length);
  if (ref.digest) return `${name}${ref.tag ? `:${ref.tag}` : ''}@${ref.digest}`;
  return `${name}:${ref.tag ?? 'latest'}`;
}

interface AuthConfig {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

function normaliseRegistryKey(key: string): string {
  return key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

/** The X-Registry-Auth header value for `domain`, or undefined when the config has nothing for it. */
export async function registryAuth(
  domain: string,
  configDir: string,
  readFile: (p: string) => Buffer = (p) => readBounded(p, 'docker-config'),
): Promise<string | undefined> {
  let cfg: DockerConfigFile;
  try {
    cfg = JSON.parse(readFile(join(configDir, 'config.json')).toString('utf8')) as DockerConfigFile;
  } catch {
    return undefined;
  }
  const server = domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
  const helper = cfg.credHelpers?.[domain] ?? cfg.credHelpers?.[server] ?? cfg.credsStore;
  let auth: AuthConfig | undefined;
  if (helper) auth = await fromHelper(helper, server);
  if (!auth && cfg.auths) {
    const wanted = normaliseRegistryKey(server);
    const entry =
      cfg.auths[server] ??
      Object.entries(cfg.auths).find(([k]) => normaliseRegistryKey(k) === wanted || (domain === 'docker.io' && normaliseRegistryKey(k) === 'docker.io'))?.[1];
    if (entry) {
      auth = { serveraddress: server };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i > 0) {
          auth.username = decoded.slice(0, i);
          auth.password = decoded.slice(i + 1);
        }
      }
      if (entry.username) auth.username = entry.username;
      if (entry.password) auth.password = entry.password;
      if (entry.identitytoken) auth.identitytoken = entry.identitytoken;
    }
  }
  if (!auth) return undefined;
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}

async function fromHelper(helper: string, server: string): Promise<AuthConfig | undefined> {
  const { spawn } = await loadModule<typeof import('node:child_process')>('node:child_process');
  return new Promise((resolve) => {
    let out = '';
    let child;
    try {
      child = spawn(`docker-credential-${helper}`, ['get'], { stdio: ['pipe', 'pipe', 'ignore'] });
    } catch {
      resolve(undefined);
      return;
    }
    child.on('error', () => resolve(undefined));
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('close', (code) => {
      if (code !== 0) return resolve(undefined);
      try {
        const r = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!r.Secret) return resolve(undefined);
        resolve(
          r.Username === '<token>'
            ? { identitytoken: r.Secret, serveraddress: server }
            : { username: r.Username ?? '', password: r.Secret, serveraddress: server },
        );
      } catch {
        resolve(undefined);
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(server);
  });
}

interface JsonMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/**
 * Renders the JSON message stream as lines: "<id>: <status> <progress>" once per layer and status,
 * and the id-less lines ("latest: Pulling from ...", "Digest: ...", "Status: ...") as they come.
 */
export class ProgressRenderer {
  private readonly last = new Map<string, string>();
  constructor(private readonly out: Writable | null) {}

  message(m: JsonMessage): void {
    if (m.errorDetail?.message || m.error) {
      throw new EngineError(m.errorDetail?.message ?? m.error ?? 'pull failed', 500);
    }
    if (!this.out || !m.status) return;
    if (m.id) {
      if (this.last.get(m.id) === m.status) return;
      this.last.set(m.id, m.status);
      this.out.write(`${m.id}: ${m.status}${m.progress ? ` ${m.progress}` : ''}\n`);
    } else {
      this.out.write(`${m.status}\n`);
    }
  }
}

export interface PullOptions {
  platform?: string;
  /** Where progress goes; null for -q. */
  progress: Writable | null;
  env: Record<string, string | undefined>;
  configDir?: string;
}

/** Pull `image`; resolves when the daemon reports the pull complete, throws EngineError on failure. */
export async function pullImage(api: EngineApi, image: string, opts: PullOptions): Promise<void> {
  const ref = parseImageRef(image);
  const auth = await registryAuth(ref.domain, opts.configDir ?? defaultConfigDir(opts.env));
  const res = await api.images.pull({ fromImage: ref.name, tag: ref.digest ?? ref.tag ?? 'latest', platform: opts.platform, auth });
  const renderer = new ProgressRenderer(opts.progress);
  let buffered = '';
  const handleLine = (line: string) => {
    const t = line.trim();
    if (!t) return;
    let m: JsonMessage;
    try {
      m = JSON.parse(t) as JsonMessage;
    } catch {
      return;
    }
    renderer.message(m);
  };
  await new Promise<void>((resolve, reject) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      try {
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          handleLine(line);
        }
      } catch (err) {
        res.destroy();
        reject(err);
      }
    });
    res.on('end', () => {
      try {
        handleLine(buffered);
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    res.on('error', reject);
  });
}

/** What `docker run` does for an image it does not have: say so (unless -q), then pull it. */
export async function pullMissing(api: EngineApi, image: string, opts: PullOptions & { quiet: boolean }): Promise<void> {
  if (!opts.quiet) opts.progress?.write(`Unable to find image '${familiarString(image)}' locally\n`);
  await pullImage(api, image, opts);
}
