/**
 * A door for tests of the server's mechanics: the real server (src/door/server.ts) in front of a
 * real engine, with a small judge written here (read-only and container-life routes pass, a
 * privileged create or exec is refused, a label asks for a replaced body) — the judge's own
 * routes (src/door/judge.ts) are tested with it elsewhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEndpoint, type Endpoint } from '../../src/engine/endpoint.js';
import type { DecisionLine } from '../../src/door/log.js';
import { listenUnix } from '../../src/door/listen.js';
import { createUnixDoorServer, Door, type RouteTable } from '../../src/door/server.js';
import type { Route, Verdict } from '../../src/door/types.js';
import { upstreamFor } from '../../src/door/upstream.js';

const PASS = async (): Promise<Verdict> => ({ action: 'pass' });

function route(method: string, pattern: RegExp, name: string, judge: Route['judge'] = PASS, body: Route['body'] = 'stream'): Route {
  return { method, pattern, name, body, judge };
}

function privileged(body: unknown): boolean {
  const b = body as { Privileged?: unknown; HostConfig?: { Privileged?: unknown } } | undefined;
  return b?.Privileged === true || b?.HostConfig?.Privileged === true;
}

const ID = '[^/]+';
export const TEST_ROUTES: Route[] = [
  route('GET', /^\/_ping$/, 'ping'),
  route('HEAD', /^\/_ping$/, 'ping'),
  route('GET', /^\/(version|info|events)$/, 'system'),
  route('GET', /^\/containers\/json$/, 'container.list'),
  route('GET', /^\/images\/json$/, 'image.list'),
  route('GET', /^\/images\/.+\/json$/, 'image.inspect'),
  route('DELETE', /^\/images\/.+$/, 'image.delete'),
  route('POST', /^\/build$/, 'build'),
  route('GET', new RegExp(`^/containers/${ID}/(json|logs|top|stats|archive|changes)$`), 'container.read'),
  route('HEAD', new RegExp(`^/containers/${ID}/archive$`), 'container.archive'),
  route('PUT', new RegExp(`^/containers/${ID}/archive$`), 'container.archive'),
  route('POST', new RegExp(`^/containers/${ID}/(start|stop|kill|wait|resize|attach|restart)$`), 'container.life'),
  route('DELETE', new RegExp(`^/containers/${ID}$`), 'container.delete'),
  route(
    'POST',
    /^\/containers\/create$/,
    'container.create',
    async (req): Promise<Verdict> => {
      if (privileged(req.body)) return { action: 'refuse', status: 403, message: 'test judge: privileged refused (TEST-PRIV)', rules: ['TEST-PRIV'] };
      const labels = (req.body as { Labels?: Record<string, string> } | undefined)?.Labels;
      if (labels?.['door.test.forward'] !== undefined) {
        return { action: 'forward', body: { ...(req.body as object), Labels: { ...labels, 'door.test.forwarded': 'yes' } } };
      }
      return { action: 'pass' };
    },
    'json',
  ),
  route(
    'POST',
    new RegExp(`^/containers/${ID}/exec$`),
    'exec.create',
    async (req): Promise<Verdict> => (privileged(req.body) ? { action: 'refuse', status: 403, message: 'test judge: privileged exec refused', rules: ['TEST-PRIV'] } : { action: 'pass' }),
    'json',
  ),
  route('POST', new RegExp(`^/exec/${ID}/start$`), 'exec.start', PASS, 'json'),
  route('POST', new RegExp(`^/exec/${ID}/resize$`), 'exec.resize'),
  route('GET', new RegExp(`^/exec/${ID}/json$`), 'exec.inspect'),
  route('GET', /^\/door-test\/throw$/, 'throws', async () => {
    throw new Error('test judge failed on purpose');
  }),
  route('POST', /^\/door-test\/refuse$/, 'refuses', async (): Promise<Verdict> => ({ action: 'refuse', status: 403, message: 'test judge: refused unread' })),
  route('GET', /^\/door-test\/respond$/, 'responds', async (): Promise<Verdict> => ({ action: 'respond', status: 201, body: { Id: 'door-test-id', Warnings: [] } })),
];

export const testRouteTable: RouteTable = {
  routeFor(method, path) {
    for (const r of TEST_ROUTES) {
      if (r.method !== method) continue;
      const match = r.pattern.exec(path);
      if (match) return { route: r, match };
    }
    return undefined;
  },
};

export interface TestDoor {
  socket: string;
  /** DOCKER_HOST for clients of the door. */
  host: string;
  door: Door;
  server: Server;
  lines: DecisionLine[];
  warnings: string[];
  stop(): Promise<void>;
}

/** `routes`: another judge than the small one here (the real one: src/door/judge.ts createJudge). */
export async function startTestDoor(opts: { endpoint?: Endpoint; headersTimeoutMs?: number; maxJsonBytes?: number; maxJsonBytesHeld?: number; routes?: RouteTable } = {}): Promise<TestDoor> {
  const dir = mkdtempSync(join(tmpdir(), 'sdocker-door-'));
  const upstream = await upstreamFor(opts.endpoint ?? resolveEndpoint({}, process.env));
  const lines: DecisionLine[] = [];
  const warnings: string[] = [];
  const door = new Door({
    routes: opts.routes ?? testRouteTable,
    upstream,
    log: (l) => lines.push(l),
    warn: (w) => warnings.push(w),
    peerCredentials: true,
    ...(opts.maxJsonBytes !== undefined ? { maxJsonBytes: opts.maxJsonBytes } : {}),
    ...(opts.maxJsonBytesHeld !== undefined ? { maxJsonBytesHeld: opts.maxJsonBytesHeld } : {}),
  });
  const server = createUnixDoorServer(door, { headersTimeoutMs: opts.headersTimeoutMs ?? 10_000, checkIntervalMs: 500 });
  const listener = await listenUnix(server, join(dir, 'door.sock'), undefined, 0);
  return {
    socket: listener.path,
    host: `unix://${listener.path}`,
    door,
    server,
    lines,
    warnings,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      upstream.close();
      listener.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `GET /_ping` on a unix socket (an engine's or a door's): its status, 0 when the connection fails,
 * -1 when no answer comes within `timeoutMs`.
 */
export function pingStatus(socketPath: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(-1);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}
