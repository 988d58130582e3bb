/**
 * The door's judge: which Engine API requests may pass, which are judged (and how), and that every
 * other request is refused (fail closed). The server (src/door/server.ts) asks `routeFor` for each
 * request, reads the body as the route says (`Route.body`), calls `route.judge`, and carries out
 * the verdict. Paths are those of DoorRequest.path: without the version prefix and the query.
 *
 * Three kinds of routes:
 * - PASS: endpoints that cannot weaken a container or the host (reads, streams of a container
 *   already judged, stop/kill/remove, image pulls and tags...): forwarded untouched, body streamed;
 * - JUDGED: create, exec, update, build, volume create, start/restart, network create, plugins,
 *   swarm services (src/door/routes/*.ts): the same policy as the CLI's;
 * - anything else: refused (403) with a message naming the method and path.
 */
import type { EngineClient } from '../engine/client.js';
import type { EffectiveProfile } from '../policy/types.js';
import type { DoorRequest, Peer, Route, Verdict } from './types.js';
import type { ProjectProfiles } from './project-profile.js';
import { PASS_ROUTES } from './routes/pass.js';
import { judgedRoutes } from './routes/judged.js';

/** What the judged routes need from the door that runs them. */
export interface JudgeOptions {
  /** The engine the door forwards to (create, inspect after create, facts). */
  client: EngineClient;
  /**
   * The policy in force: the machine floor plus the socket's profile (src/door/core.ts
   * loadDoorProfile loads it as `sdocker serve --profile FILE` names it).
   */
  profile: EffectiveProfile;
  /** The door's environment (state dir of the run record, DOCKER_HOST...). */
  env: Record<string, string | undefined>;
  /** Relative paths of a create body (none in the API, but the policy resolves against it): the door's cwd. */
  cwd: string;
  /**
   * Unix sockets that reach the engine without the policy: the engine's and the door's own. A
   * container may not mount any of them (SD-MNT rules), nor their directories.
   */
  sockets?: string[];
  /** Warnings the policy writes (warn mode, verification in warn mode): the door's log. */
  warn?: (text: string) => void;
  /**
   * Where a refusal tells the user to put the allowing YAML. Default: the door's own profile
   * (`sdocker serve --profile FILE`), since the door does not read a project's sdocker.yaml; the
   * CLI's private door reads the project's, and says so.
   */
  fixIn?: string;
  /** The socket profile's `door.projectProfiles`, read (project-profile.ts); absent: project profiles are not read. */
  projects?: ProjectProfiles;
  /**
   * The client is the host's own user (the CLI's private door: the user who runs sdocker, who
   * has the engine anyway): other users' host paths, volumes and networks are not compared
   * (SD-DOOR-006, routes/owners.ts). `sdocker serve` leaves it unset: its clients are tenants.
   */
  hostUser?: boolean;
}

const FIX_IN_PROJECT = 'add to the profile (sdocker.yaml):';

/** A refusal's "where to allow it" line, for this door. */
function reworded(v: Verdict, fixIn: string): Verdict {
  return v.action === 'refuse' ? { ...v, message: v.message.split(FIX_IN_PROJECT).join(`add to ${fixIn}:`) } : v;
}

export interface RouteMatch {
  route: Route;
  match: RegExpMatchArray;
}

export interface DoorJudge {
  readonly routes: readonly Route[];
  /** The route for a request, or undefined: the server then answers `unknownEndpoint(method, path)`. */
  routeFor(method: string, path: string): RouteMatch | undefined;
}

/** HEAD is answered as the GET of the same path (`HEAD /_ping`, `HEAD /containers/x/archive`). */
function methodMatches(route: Route, method: string): boolean {
  return route.method === method || (method === 'HEAD' && route.method === 'GET');
}

/** The first route of `routes` for this method and path (the routes' order decides). */
export function findRoute(routes: readonly Route[], method: string, path: string): RouteMatch | undefined {
  const m = method.toUpperCase();
  for (const route of routes) {
    if (!methodMatches(route, m)) continue;
    const match = path.match(route.pattern);
    if (match) return { route, match };
  }
  return undefined;
}

/** Every route the door knows: the judged ones first (a judged path is never taken for a pass one). */
export function createJudge(opts: JudgeOptions): DoorJudge {
  const fixIn = opts.fixIn ?? "the door's profile (sdocker serve --profile FILE)";
  const judged = judgedRoutes(opts).map((r): Route => ({ ...r, judge: async (req, m) => reworded(await r.judge(req, m), fixIn) }));
  const routes: readonly Route[] = [...judged, ...PASS_ROUTES];
  return { routes, routeFor: (method, path) => findRoute(routes, method, path) };
}

/** The refusal of an endpoint the door does not know (fail closed). */
export function unknownEndpoint(method: string, path: string): Verdict {
  return {
    action: 'refuse',
    status: 403,
    message: `sdocker: ${method} ${path} is not an endpoint the door knows; it was not forwarded (the door refuses what it cannot judge)`,
    rules: ['SD-DOOR-001'],
  };
}

export type { DoorRequest, Peer, Route, Verdict };
