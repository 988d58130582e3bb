/**
 * A private door for one CLI command (issue 12, part 5): with `alias docker=sdocker`, a
 * pass-through command that can weaken a container (exec, update, build, volume, compose...) runs
 * the real docker CLI against this door instead of the engine, so the CLI's coverage is the
 * door's. The door listens on a unix socket (0600) in a fresh 0700 directory of the user's own,
 * judges with the policy the CLI would apply here (the floor, the project's sdocker.yaml, the
 * level), forwards to the engine the CLI would have used, and is closed when the command ends.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../engine/client.js';
import type { Endpoint } from '../engine/endpoint.js';
import type { EffectiveProfile } from '../policy/types.js';
import { createJudge } from './judge.js';
import { createUnixDoorServer, Door } from './server.js';
import { upstreamFor } from './upstream.js';

export interface PrivateDoor {
  /** DOCKER_HOST for the command: `unix:///tmp/sdocker-door-XXXX/docker.sock`. */
  host: string;
  stop(): Promise<void>;
}

export interface PrivateDoorOptions {
  endpoint: Endpoint;
  profile: EffectiveProfile;
  env: Record<string, string | undefined>;
  cwd: string;
  /** What the door would log as diagnostics (a judge that failed, a warn-mode explanation). */
  warn: (text: string) => void;
  /** The parent of the door's private directory (default: the system's temporary directory). */
  tmp?: string;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startPrivateDoor(o: PrivateDoorOptions): Promise<PrivateDoor> {
  // mkdtemp makes the directory 0700: nobody else can reach the socket, whatever its mode.
  const dir = mkdtempSync(join(o.tmp ?? tmpdir(), 'sdocker-door-'));
  const socket = join(dir, 'docker.sock');
  const client = new EngineClient(o.endpoint);
  const upstream = await upstreamFor(o.endpoint);
  const judge = createJudge({ client, profile: o.profile, env: o.env, cwd: o.cwd, sockets: [socket], warn: o.warn, fixIn: 'the profile (sdocker.yaml)', hostUser: true });
  const door = new Door({ routes: judge, upstream, log: () => undefined, warn: o.warn, peerCredentials: true });
  const server = createUnixDoorServer(door, { headersTimeoutMs: 60_000, checkIntervalMs: 5_000 });
  try {
    await listen(server, socket);
    chmodSync(socket, 0o600);
  } catch (err) {
    server.close();
    upstream.close();
    client.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: `unix://${socket}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      upstream.close();
      client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
