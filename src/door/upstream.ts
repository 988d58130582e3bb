/**
 * The door's way to the engine: the endpoint the CLI would use (src/engine/endpoint.ts), with one
 * keep-alive agent so that requests reuse connections (a unix socket, TLS over TCP, or ssh).
 */
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Endpoint } from '../engine/endpoint.js';
import { loadModule } from '../load-module.js';

export interface Upstream {
  /** `unix:///var/run/docker.sock`, for messages. */
  readonly host: string;
  /** The engine's socket path, when it is a unix socket (to check that the door does not forward to itself). */
  readonly socketPath?: string;
  request(options: { method: string; path: string; headers: http.OutgoingHttpHeaders }): http.ClientRequest;
  /** Close the idle connections. */
  close(): void;
}

export async function upstreamFor(ep: Endpoint): Promise<Upstream> {
  const make = (request: typeof http.request, base: http.RequestOptions & { servername?: string }, agent: http.Agent, socketPath?: string): Upstream => ({
    host: ep.host,
    ...(socketPath !== undefined ? { socketPath } : {}),
    request: (o) => request({ ...base, agent, method: o.method, path: o.path, headers: o.headers }),
    close: () => agent.destroy(),
  });
  // lifo: the most recently used connection is the one most likely still open on the engine's side.
  const agentOptions: http.AgentOptions = { keepAlive: true, scheduling: 'lifo' };
  switch (ep.kind) {
    case 'unix':
      return make(http.request, { socketPath: ep.socketPath, servername: '' }, new http.Agent(agentOptions), ep.socketPath);
    case 'tcp': {
      if (!ep.tls) return make(http.request, { host: ep.hostname, port: ep.port, servername: '' }, new http.Agent(agentOptions));
      const https = await loadModule<typeof import('node:https')>('node:https');
      let ca: Buffer | Array<string | Buffer> | undefined = ep.tls.ca;
      if (!ca && ep.tls.extraCaFile) {
        const { rootCertificates } = await loadModule<typeof import('node:tls')>('node:tls');
        const { readFileSync } = await loadModule<typeof import('node:fs')>('node:fs');
        ca = [...rootCertificates, readFileSync(ep.tls.extraCaFile)];
      }
      const verify = ep.tls.verify;
      const agent = new https.Agent({
        ...agentOptions,
        ...(ca ? { ca } : {}),
        ...(ep.tls.cert ? { cert: ep.tls.cert } : {}),
        ...(ep.tls.key ? { key: ep.tls.key } : {}),
        rejectUnauthorized: verify,
        ...(verify ? {} : { checkServerIdentity: () => undefined }),
      });
      const servername = /^[\d.]+$/.test(ep.hostname) || ep.hostname.includes(':') ? '' : ep.hostname;
      return make(https.request as unknown as typeof http.request, { host: ep.hostname, port: ep.port, servername }, agent);
    }
    case 'ssh': {
      const { sshConnection } = await import('../engine/ssh.js');
      const agent = new http.Agent(agentOptions);
      const args = ep.sshArgs;
      (agent as unknown as { createConnection: () => Duplex }).createConnection = () => sshConnection(args);
      return make(http.request, { host: 'docker.example.com', servername: '' }, agent);
    }
  }
}
