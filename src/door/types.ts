/**
 * The contract between the door's server (listening, proxying, streams: src/door/server*.ts,
 * proxy*.ts) and its judge (what each Engine API request may do: src/door/judge.ts, routes/).
 * The server knows nothing of policy; the judge knows nothing of sockets. Types only.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Who is on the other end of a unix socket (SO_PEERCRED), when known. */
export interface Peer {
  uid: number;
  gid: number;
  pid: number;
}

/** Who is on the other end of a TLS listener: the client certificate (verified against --tls-ca). */
export interface TlsClient {
  /** The certificate's subject, `CN=alice,O=team`. */
  subject: string;
  /** sha256 of the certificate (DER), lower-case hex without colons: what tells two clients apart. */
  sha256: string;
}

/** One client request, as the judge sees it. */
export interface DoorRequest {
  method: string;
  /** The path without the version prefix and without the query: `/containers/create`. */
  path: string;
  /** `1.41` from `/v1.41/containers/create`; undefined for an unversioned path. */
  apiVersion?: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, present only when the route asked for it (`Route.body === 'json'`). */
  body?: unknown;
  peer?: Peer;
  /** On a TLS listener: the client certificate (there is no uid there). */
  client?: TlsClient;
}

/** What the judge decides; the server carries it out. */
export type Verdict =
  /**
   * Forward unchanged (the body, if any, streamed through as received). `path`: the unversioned
   * path to send instead of the client's (the version prefix is kept, and the query unless the
   * path carries its own after a `?`): the judge
   * pins a container it checked to its full id, so that the engine acts on the one judged.
   */
  | { action: 'pass'; path?: string }
  /** Forward with this JSON body instead of the client's (a hardened create, say). */
  | { action: 'forward'; body: unknown; path?: string }
  /** Answer as the engine answers errors: HTTP status and `{"message": ...}`. */
  | { action: 'refuse'; status: number; message: string; rules?: string[] }
  /** The judge did the work itself (create, verify after create, record): send this answer. */
  | { action: 'respond'; status: number; body: unknown; headers?: Record<string, string> };

/** How the server must read a request's body before judging it. */
export type BodyNeed =
  /** Stream it through untouched (build contexts, archives, attach). */
  | 'stream'
  /** Read it whole as JSON, bounded in size; a body that does not parse is refused (400). */
  | 'json';

export interface Route {
  method: string;
  /** Matches DoorRequest.path. */
  pattern: RegExp;
  /** A short name for logs: `container.create`. */
  name: string;
  body: BodyNeed;
  judge(req: DoorRequest, match: RegExpMatchArray): Promise<Verdict>;
}

/** One log line per decision (`--log-format json` prints these as JSON). */
export interface Decision {
  time: string;
  route: string;
  method: string;
  path: string;
  peer?: Peer;
  action: Verdict['action'];
  status?: number;
  rules?: string[];
  /** The container id a create made, when there is one. */
  id?: string;
}
