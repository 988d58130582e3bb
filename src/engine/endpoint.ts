/**
 * Which daemon to talk to, resolved the way the docker CLI does it:
 *   --context > -H/--host > DOCKER_HOST > DOCKER_CONTEXT > config.json currentContext > default.
 * The "default" context uses -H/DOCKER_HOST and the TLS flags/env; a named context reads the
 * context store (contexts/meta/<sha256(name)>/meta.json, contexts/tls/<sha256(name)>/docker/*.pem).
 *
 * Unlike docker, a plain tcp:// endpoint without TLS is refused: an unauthenticated TCP daemon
 * hands root on its host to anyone who can reach the port.
 */
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { SdockerError } from '../errors.js';
import { readBounded } from '../fs/read-bounded.js';

export interface EndpointOptions {
  host?: string;
  context?: string;
  configDir?: string;
  tls?: boolean;
  tlsVerify?: boolean;
  tlsCaCert?: string;
  tlsCert?: string;
  tlsKey?: string;
  allowInsecureTcp?: boolean;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** false: --tls without --tlsverify, or a context with SkipTLSVerify. */
  verify: boolean;
  /**
   * NODE_EXTRA_CA_CERTS as the caller had it: bin/sdocker moves it aside (node would parse the
   * whole file at every start-up, ~30 ms) and it is trusted here, where TLS is actually used.
   */
  extraCaFile?: string;
}

export type Endpoint =
  | { kind: 'unix'; host: string; socketPath: string; contextName: string }
  | {
      kind: 'tcp';
      host: string;
      hostname: string;
      port: number;
      tls?: TlsMaterial;
      contextName: string;
    }
  | {
      kind: 'ssh';
      host: string;
      /** The ssh command line (without the program name): [-l user] [-p port] -o ConnectTimeout=30 -T host -- docker ... system dial-stdio */
      sshArgs: string[];
      contextName: string;
    };

export type ReadFile = (path: string) => Buffer;

const DEFAULT_UNIX = '/var/run/docker.sock';

export function defaultConfigDir(env: Record<string, string | undefined>): string {
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  return join(env.HOME || '/root', '.docker');
}

function fail(message: string): never {
  throw new SdockerError(message, 125);
}

/**
 * A read or parse error's text without the file's bytes (node's JSON.parse quotes them): the
 * reader's reason, "not valid JSON", or the system's message.
 */
function readError(err: unknown): string {
  if (err instanceof SyntaxError) return 'not valid JSON';
  const e = err as { reason?: unknown; message?: unknown };
  return typeof e.reason === 'string' ? e.reason : String(e.message ?? err);
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Normalise a -H/DOCKER_HOST value as docker's ParseHost does. */
export function parseHost(value: string, defaultToTls: boolean): string {
  const v = value.trim();
  if (v === '') return defaultToTls ? 'tcp://localhost:2376' : `unix://${DEFAULT_UNIX}`;
  let proto: string;
  let rest: string;
  const i = v.indexOf('://');
  if (i < 0) {
    proto = 'tcp';
    rest = v;
  } else {
    proto = v.slice(0, i);
    rest = v.slice(i + 3);
  }
  switch (proto) {
    case 'tcp': {
      const defPort = defaultToTls ? '2376' : '2375';
      if (rest === '') return `tcp://localhost:${defPort}`;
      if (rest.includes('://')) fail(`invalid proto, expected tcp: ${value}`);
      let u: URL;
      try {
        u = new URL(`tcp://${rest.endsWith(']:') ? rest + defPort : rest}`);
      } catch {
        fail(`invalid bind address format: ${value}`);
      }
      const hostname = u.hostname || 'localhost';
      const port = u.port || defPort;
      const path = u.pathname && u.pathname !== '/' ? u.pathname : '';
      return `tcp://${hostname}:${port}${path}`;
    }
    case 'unix': {
      if (rest.includes('://')) fail(`invalid proto, expected unix: ${value}`);
      return `unix://${rest || DEFAULT_UNIX}`;
    }
    case 'ssh':
      return v;
    case 'npipe':
    case 'fd':
      fail(`${proto}:// endpoints are not supported by sdocker: ${value}`);
    // falls through (fail never returns)
    default:
      fail(`invalid bind address format: ${value}`);
  }
}

/** POSIX-quote one word for the remote shell ssh runs the command in. */
function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sshArgsFor(host: string): string[] {
  let u: URL;
  try {
    u = new URL(host);
  } catch {
    fail(`invalid SSH URL: ${host}`);
  }
  if (u.password) fail(`invalid SSH URL: plain-text password is not supported: ${host}`);
  if (u.search || u.hash) fail(`invalid SSH URL: extra parts are not supported: ${host}`);
  if (!u.hostname) fail(`invalid SSH URL: no host specified: ${host}`);
  const args: string[] = [];
  if (u.username) args.push('-l', decodeURIComponent(u.username));
  if (u.port) args.push('-p', u.port);
  args.push('-o', 'ConnectTimeout=30', '-T', '--', u.hostname);
  const path = decodeURIComponent(u.pathname || '');
  const remote = path.replace(/\//g, '') !== ''
    ? ['docker', `--host=unix://${path}`, 'system', 'dial-stdio']
    : ['docker', 'system', 'dial-stdio'];
  args.push(remote.map(shQuote).join(' '));
  return args;
}

const INSECURE_TCP_MESSAGE = (host: string) =>
  `refusing to connect to ${host} without TLS: an unauthenticated TCP daemon gives root on its host to ` +
  `anyone who can reach the port, and everything sent (including credentials) travels in clear text.\n` +
  `Use TLS (--tlsverify --tlscacert ca.pem --tlscert cert.pem --tlskey key.pem, or DOCKER_TLS_VERIFY=1 ` +
  `and DOCKER_CERT_PATH), or ssh (-H ssh://user@host), or a unix socket. ` +
  `To connect anyway, pass --allow-insecure-tcp.`;

function withExtraCa(ep: Endpoint, env: Record<string, string | undefined>): Endpoint {
  const extra = env.SDOCKER_EXTRA_CA_CERTS ?? env.NODE_EXTRA_CA_CERTS;
  if (ep.kind === 'tcp' && ep.tls && !ep.tls.ca && extra) ep.tls.extraCaFile = extra;
  return ep;
}

function buildEndpoint(
  host: string,
  tls: TlsMaterial | undefined,
  contextName: string,
  allowInsecureTcp: boolean,
): Endpoint {
  if (host.startsWith('unix://')) {
    return { kind: 'unix', host, socketPath: host.slice('unix://'.length), contextName };
  }
  if (host.startsWith('ssh://')) {
    return { kind: 'ssh', host, sshArgs: sshArgsFor(host), contextName };
  }
  if (host.startsWith('tcp://') || host.startsWith('http://') || host.startsWith('https://')) {
    const u = new URL(host.replace(/^tcp:/, tls ? 'https:' : 'http:'));
    if (host.startsWith('https://') && !tls) tls = { verify: true };
    if (!tls && !allowInsecureTcp) fail(INSECURE_TCP_MESSAGE(host));
    const port = Number(u.port || (tls ? 2376 : 2375));
    const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
    return tls
      ? { kind: 'tcp', host, hostname, port, tls, contextName }
      : { kind: 'tcp', host, hostname, port, contextName };
  }
  fail(`unsupported daemon address: ${host}`);
}

function contextDirName(name: string): string {
  // node:crypto costs a few ms to load: only named contexts need it.
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(name).digest('hex');
}

interface ContextMeta {
  Name?: string;
  Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
}

/**
 * Resolve the endpoint. `env` is the process environment (handed in; never read from `process`).
 * `readFile` is injectable for tests (default: the bounded reader, src/fs/read-bounded.ts); it throws ENOENT for missing files.
 */
export function resolveEndpoint(
  opts: EndpointOptions,
  env: Record<string, string | undefined>,
  readFile: ReadFile = (p) => readBounded(p, 'docker-config'),
): Endpoint {
  if (opts.context && opts.host) {
    fail('conflicting options: cannot specify both --host and --context');
  }
  const configDir = opts.configDir || defaultConfigDir(env);
  const allowInsecure = opts.allowInsecureTcp === true;

  let contextName: string;
  if (opts.context) contextName = opts.context;
  else if (opts.host) contextName = 'default';
  else if (env.DOCKER_HOST) contextName = 'default';
  else if (env.DOCKER_CONTEXT) contextName = env.DOCKER_CONTEXT;
  else contextName = currentContextFromConfig(configDir, readFile) ?? 'default';

  if (contextName === 'default') {
    const tlsVerify = opts.tlsVerify ?? (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '');
    const tlsFlag = opts.tls ?? (env.DOCKER_TLS !== undefined && env.DOCKER_TLS !== '');
    // docker: any explicit --tlsverify (even =false) turns TLS on; so do DOCKER_TLS_VERIFY and --tls.
    const useTls = tlsVerify || tlsFlag || opts.tlsVerify !== undefined;
    const host = parseHost(opts.host ?? env.DOCKER_HOST ?? '', useTls);
    let tls: TlsMaterial | undefined;
    if (useTls) {
      const certPath = env.DOCKER_CERT_PATH || configDir;
      tls = {
        verify: tlsVerify,
        ...optionalFile('ca', opts.tlsCaCert, join(certPath, 'ca.pem'), readFile),
        ...optionalFile('cert', opts.tlsCert, join(certPath, 'cert.pem'), readFile),
        ...optionalFile('key', opts.tlsKey, join(certPath, 'key.pem'), readFile),
      };
    }
    return withExtraCa(buildEndpoint(host, tls, 'default', allowInsecure), env);
  }

  // A named context from the store.
  const dir = contextDirName(contextName);
  let meta: ContextMeta;
  try {
    meta = JSON.parse(readFile(join(configDir, 'contexts', 'meta', dir, 'meta.json')).toString('utf8')) as ContextMeta;
  } catch (err) {
    if (isMissing(err)) fail(`context "${contextName}": context not found: ${join(configDir, 'contexts', 'meta', dir)}`);
    fail(`context "${contextName}": cannot read its metadata: ${readError(err)}`);
  }
  const ep = meta.Endpoints?.docker;
  if (!ep || !ep.Host) fail(`context "${contextName}": cannot find docker endpoint in context`);
  const tlsDir = join(configDir, 'contexts', 'tls', dir, 'docker');
  const material: Partial<TlsMaterial> = {};
  for (const [k, f] of [['ca', 'ca.pem'], ['cert', 'cert.pem'], ['key', 'key.pem']] as const) {
    try {
      material[k] = readFile(join(tlsDir, f));
    } catch (err) {
      if (!isMissing(err)) fail(`context "${contextName}": cannot read ${f}: ${readError(err)}`);
    }
  }
  const hasMaterial = material.ca !== undefined || material.cert !== undefined || material.key !== undefined;
  const tls = hasMaterial || ep.SkipTLSVerify ? { ...material, verify: !ep.SkipTLSVerify } : undefined;
  return withExtraCa(buildEndpoint(ep.Host, tls, contextName, allowInsecure), env);
}

function currentContextFromConfig(configDir: string, readFile: ReadFile): string | undefined {
  let text: string;
  try {
    text = readFile(join(configDir, 'config.json')).toString('utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    fail(`cannot read ${join(configDir, 'config.json')}: ${readError(err)}`);
  }
  try {
    const cfg = JSON.parse(text) as { currentContext?: unknown };
    return typeof cfg.currentContext === 'string' && cfg.currentContext !== '' ? cfg.currentContext : undefined;
  } catch (err) {
    fail(`cannot parse ${join(configDir, 'config.json')}: ${readError(err)}`);
  }
}

/** An explicit path must exist; a default path is used only when it exists (as docker does). */
function optionalFile(
  key: 'ca' | 'cert' | 'key',
  explicit: string | undefined,
  fallback: string,
  readFile: ReadFile,
): Partial<TlsMaterial> {
  const path = explicit ?? fallback;
  try {
    return { [key]: readFile(path) };
  } catch (err) {
    if (explicit === undefined && isMissing(err)) return {};
    fail(`cannot read TLS file ${path}: ${readError(err)}`);
  }
}
