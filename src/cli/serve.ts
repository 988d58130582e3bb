/**
 * `sdocker serve`: the door. Listens on a unix socket (0660, the given group; its directory
 * checked: src/door/listen.ts) — or on TCP with TLS and client certificates only, or on the
 * socket systemd hands over (socket activation) — and forwards the Engine API requests it
 * lets through to the engine the CLI would use (-H, DOCKER_HOST, the context...). What each
 * request may do is the judge's (src/door/judge.ts), under the machine floor plus the socket's
 * profile; one line per decision on stdout (text or JSON), diagnostics on stderr.
 * Runs until SIGTERM or SIGINT; then stops accepting, lets requests in flight end (10 s at most)
 * and removes its socket.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { resolve } from 'node:path';
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { SdockerError, UsageError } from '../errors.js';
import { parsePflag, type PflagSpec } from '../flags/pflag.js';
import { loadDoorProfile } from '../door/core.js';
import { gidOfGroup } from '../door/groups.js';
import { loadProjectProfiles } from '../door/project-profile.js';
import { createJudge, unknownEndpoint } from '../door/judge.js';
import { listenActivated, listenTcp, listenUnix, sameFile, type UnixListener } from '../door/listen.js';
import { formatDecision, type LogFormat } from '../door/log.js';
import { peerCredentialsError } from '../door/peercred.js';
import { attachDoor, createUnixDoorServer, Door, httpServerOptions, type ServerTimeouts } from '../door/server.js';
import { upstreamFor } from '../door/upstream.js';
import { loadModule } from '../load-module.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

export const SERVE_HELP = `Usage:  sdocker serve --socket PATH [--group NAME] [--profile FILE] [--log-format text|json]
        sdocker serve --tcp HOST:PORT --tls-cert FILE --tls-key FILE --tls-ca FILE [...]

Listen for Engine API clients (the docker CLI, compose, SDKs) and forward what the policy allows
to the engine (found as sdocker run finds it: -H, DOCKER_HOST, the context). Container creates
are hardened as by 'sdocker run'; every other request is judged; unknown endpoints are refused.

Options:
      --socket PATH         The unix socket to listen on (created 0660; its directory must be
                            changeable only by root or this user)
      --group NAME          The socket's group: its members may use the door (default: this
                            process's group)
      --profile FILE        The socket's profile (default: the restricted level), under the floor;
                            its door.projectProfiles lets requests name their project's profile
      --log-format FORMAT   One line per decision on stdout: text (default) or json
      --tcp HOST:PORT       Listen on TCP instead, with TLS and client certificates (all three
                            of --tls-cert, --tls-key, --tls-ca); plain TCP is refused
      --headers-timeout S   Drop a client whose request headers take longer (default 10 s)
Under systemd socket activation (LISTEN_FDS=1), the socket systemd passes is used.
See docs/serve.md.
`;

const FLAGS: readonly PflagSpec[] = [
  { name: 'help', short: 'h', kind: 'bool' },
  { name: 'socket', kind: 'value' },
  { name: 'group', kind: 'value' },
  { name: 'profile', kind: 'value' },
  { name: 'log-format', kind: 'value' },
  { name: 'tcp', kind: 'value' },
  { name: 'tls-cert', kind: 'value' },
  { name: 'tls-key', kind: 'value' },
  { name: 'tls-ca', kind: 'value' },
  { name: 'headers-timeout', kind: 'value' },
];

export interface ServeOptions {
  socket?: string;
  group?: string;
  profile?: string;
  logFormat: LogFormat;
  tcp?: { host: string; port: number };
  tls?: { cert: string; key: string; ca: string };
  headersTimeoutMs: number;
  help?: boolean;
}

function parseHostPort(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--tcp ${JSON.stringify(v)}: expected HOST:PORT (e.g. 0.0.0.0:2376, [::1]:2376)`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Parse serve's flags (pure). */
export function parseServeArgs(argv: readonly string[]): ServeOptions {
  const r = parsePflag(argv, FLAGS, { interspersed: true });
  if (r.args.length > 0) throw new UsageError(`serve takes no arguments (got ${JSON.stringify(r.args[0])})`);
  const v = new Map(r.hits.map((h) => [h.spec.name, h.value]));
  const out: ServeOptions = { logFormat: 'text', headersTimeoutMs: 10_000 };
  if (v.get('help') === 'true') out.help = true;
  const fmt = v.get('log-format');
  if (fmt !== undefined) {
    if (fmt !== 'text' && fmt !== 'json') throw new UsageError(`--log-format ${JSON.stringify(fmt)}: expected text or json`);
    out.logFormat = fmt;
  }
  const ht = v.get('headers-timeout');
  if (ht !== undefined) {
    const m = /^(\d{1,4})(s?)$/.exec(ht);
    if (!m || Number(m[1]) < 1) throw new UsageError(`--headers-timeout ${JSON.stringify(ht)}: expected seconds (e.g. 10 or 10s)`);
    out.headersTimeoutMs = Number(m[1]) * 1000;
  }
  for (const k of ['socket', 'group', 'profile'] as const) {
    const x = v.get(k);
    if (x !== undefined) out[k] = x;
  }
  const tcp = v.get('tcp');
  const tls = { cert: v.get('tls-cert'), key: v.get('tls-key'), ca: v.get('tls-ca') };
  if (tcp !== undefined) {
    if (out.socket !== undefined) throw new UsageError('--tcp and --socket: choose one listener');
    if (tls.cert === undefined || tls.key === undefined || tls.ca === undefined) {
      throw new UsageError(
        '--tcp without --tls-cert, --tls-key and --tls-ca is refused: whoever reaches a plain TCP door drives the engine; ' +
          'the door listens on TCP only with TLS and client certificates signed by --tls-ca',
      );
    }
    out.tcp = parseHostPort(tcp);
    out.tls = { cert: tls.cert, key: tls.key, ca: tls.ca };
  } else if (tls.cert !== undefined || tls.key !== undefined || tls.ca !== undefined) {
    throw new UsageError('--tls-cert, --tls-key and --tls-ca go with --tcp');
  }
  if (out.group !== undefined && out.tcp) throw new UsageError('--group is for the unix socket, not --tcp');
  return out;
}

export interface ServeProcess {
  pid: number;
  euid: number;
  egid: number;
}

function readFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as Error).message}`);
  }
}

export async function serveCommand(argv: string[], io: ProcessIO, globals: GlobalOptions, proc: ServeProcess): Promise<number> {
  const o = parseServeArgs(argv);
  if (o.help) {
    io.stdout.write(SERVE_HELP);
    return 0;
  }
  const activated = io.env.LISTEN_PID === String(proc.pid) && io.env.LISTEN_FDS !== undefined;
  if (activated && io.env.LISTEN_FDS !== '1') throw new UsageError(`socket activation: LISTEN_FDS=${io.env.LISTEN_FDS}; the door takes exactly one socket`);
  if (!activated && o.socket === undefined && !o.tcp) throw new UsageError('serve needs --socket PATH (or --tcp HOST:PORT with TLS, or systemd socket activation)');
  const socketPath = o.socket !== undefined ? resolve(io.cwd, o.socket) : undefined;
  let gid: number | undefined;
  if (o.group !== undefined) {
    gid = gidOfGroup(readFile('--group', '/etc/group').toString('utf8'), o.group);
    if (gid === undefined) throw new UsageError(`--group ${JSON.stringify(o.group)}: no such group in /etc/group`);
  }

  const endpoint = resolveEndpoint(globals, io.env);
  const upstream = await upstreamFor(endpoint);
  const client = new EngineClient(endpoint);
  const env = { ...io.env };
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  const profile = await loadDoorProfile({ ...(o.profile !== undefined ? { profile: resolve(io.cwd, o.profile) } : {}), env, cwd: io.cwd });
  const sockets = [upstream.socketPath, socketPath].filter((s): s is string => s !== undefined);
  const warn = (text: string) => io.stderr.write(`sdocker serve: ${text.replace(/\n+$/, '')}\n`);
  const socketProfile = o.profile !== undefined ? resolve(io.cwd, o.profile) : undefined;
  const projects = await loadProjectProfiles({ ...(socketProfile ? { socketProfile } : {}), socket: profile, env, cwd: io.cwd });
  const judge = createJudge({ client, profile, env, cwd: io.cwd, sockets, warn, ...(projects ? { projects } : {}) });

  let peerWarned = false;
  const door = new Door({
    routes: { routeFor: (m, p) => judge.routeFor(m, p), unknownEndpoint },
    upstream,
    peerCredentials: !o.tcp,
    warn,
    log: (line) => {
      if (!line.peer && !o.tcp && !peerWarned && peerCredentialsError()) {
        peerWarned = true;
        warn(`clients' uid and pid are unknown: ${peerCredentialsError()}`);
      }
      io.stdout.write(formatDecision(line, o.logFormat));
    },
  });
  const t: ServerTimeouts = { headersTimeoutMs: o.headersTimeoutMs, checkIntervalMs: Math.min(1000, o.headersTimeoutMs) };

  let server: http.Server;
  let listener: UnixListener | undefined;
  let where: string;
  if (o.tcp && o.tls) {
    const https = await loadModule<typeof import('node:https')>('node:https');
    server = https.createServer({
      ...httpServerOptions(t),
      cert: readFile('--tls-cert', o.tls.cert),
      key: readFile('--tls-key', o.tls.key),
      ca: readFile('--tls-ca', o.tls.ca),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    }) as unknown as http.Server;
    attachDoor(server, door, t);
    server.on('tlsClientError', () => undefined);
    await listenTcp(server, o.tcp.host, o.tcp.port);
    where = `tcp://${o.tcp.host.includes(':') ? `[${o.tcp.host}]` : o.tcp.host}:${o.tcp.port} (TLS, client certificates from ${o.tls.ca})`;
  } else {
    server = createUnixDoorServer(door, t);
    if (activated) {
      await listenActivated(server);
      where = 'the socket systemd passed (fd 3)';
    } else {
      listener = await listenUnix(server, socketPath as string, gid, proc.euid);
      where = `unix://${listener.path} (mode 0660, group ${o.group ?? proc.egid})`;
    }
  }
  server.on('error', (err) => warn(`server error: ${err.message}`));
  if (upstream.socketPath !== undefined && listener && sameFile(upstream.socketPath, listener.path)) {
    server.close();
    listener.remove();
    throw new SdockerError(`serve: the engine endpoint ${upstream.host} is the door's own socket; the door would forward to itself`);
  }
  warn(`listening on ${where}; forwarding to ${upstream.host}; profile ${o.profile ?? '(restricted level)'}; `
    + `${projects ? `project profiles under ${projects.roots.join(', ')}` : 'no project profiles'}; log ${o.logFormat}`);

  await new Promise<void>((done) => {
    const stop = () => {
      offTerm();
      offInt();
      warn('stopping: no new connections; requests in flight get 10 s');
      server.close(() => done());
      server.closeIdleConnections();
      setTimeout(() => {
        server.closeAllConnections();
        done();
      }, 10_000).unref();
    };
    const offTerm = io.onSignal('SIGTERM', stop);
    const offInt = io.onSignal('SIGINT', stop);
  });
  listener?.remove();
  upstream.close();
  client.close();
  return 0;
}
