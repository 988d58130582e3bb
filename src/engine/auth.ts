/**
 * Registry credentials for a pull, as the docker CLI finds them in its configuration
 * (`$DOCKER_CONFIG/config.json`, or `--config DIR`): a credential helper (`credHelpers` for the
 * registry, else `credsStore`) run as `docker-credential-<name> get` with the server address on
 * stdin, else the `auths` entry (base64 `user:password` in `auth`, or `username`/`password`,
 * `identitytoken`). Docker Hub's key is `https://index.docker.io/v1/`. Sent as X-Registry-Auth:
 * the JSON AuthConfig in base64url with padding (Go's base64.URLEncoding, as docker encodes it).
 */
import { join } from 'node:path';
import { readBounded } from '../fs/read-bounded.js';
import { loadModule } from '../load-module.js';

export interface AuthConfig {
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
  return encodeAuth(auth);
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

/** Go's base64.URLEncoding (padded) of the JSON, as docker's EncodeAuthConfig. */
export function encodeAuth(auth: AuthConfig): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
