/**
 * The Engine API as sdocker uses it: one typed method per request, grouped by object. Types only
 * (no I/O, nothing loaded at run time). The implementation on node:http is http-api.ts; the unit
 * tests use an in-memory one (test/helpers/fake-engine.ts).
 *
 * Conventions: a reference to an object that does not exist answers `undefined` (inspect, archive)
 * or `false` (remove), never a 404 error; every other failure is an EngineError carrying the
 * engine's own message and HTTP status.
 */
import type { Duplex, Readable } from 'node:stream';
import type { ContainerConfig, ContainerInspect, CreateBody, EngineInfo, ImageInspect, InspectMount } from '../api/types.js';

export type { InspectMount };


export interface ContainerState {
  Status?: string;
  Running?: boolean;
  Restarting?: boolean;
  Pid?: number;
  ExitCode?: number;
  OOMKilled?: boolean;
}

/** GET /containers/{id}/json: the parts sdocker reads. */
export interface ContainerJson extends ContainerInspect {
  Config: ContainerConfig & { Image?: string };
  State?: ContainerState;
}

/** GET /volumes/{name}. */
export interface VolumeJson {
  Name?: string;
  Driver: string;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  Mountpoint?: string;
}

export interface VolumeCreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface CreateAnswer {
  Id: string;
  Warnings?: string[] | null;
}

export interface ContainerSummary {
  Id: string;
  Names?: string[];
  Labels?: Record<string, string> | null;
  State?: string;
}

/** X-Docker-Container-Path-Stat of the archive API. */
export interface PathStat {
  name?: string;
  size?: number;
  mode?: number;
  linkTarget?: string;
}

export interface Archive {
  /** The path's stat (a final symbolic link not followed). */
  stat: PathStat | undefined;
  /** The tar stream (empty for a HEAD). */
  body: Readable;
}

export type WaitCondition = 'next-exit' | 'removed' | 'not-running';

export interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

export interface RegisteredWait {
  /** Resolves with the exit status when the container exits (or is removed). */
  result: Promise<WaitResult>;
  /** Give up waiting (closes the connection). */
  abort(): void;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

export interface Attached {
  /** Output one way (framed without a TTY), stdin the other; ending the write side gives the container EOF. */
  socket: Duplex;
  contentType: string | undefined;
}

export interface PullQuery {
  /** The repository, as parseImageRef names it. */
  fromImage: string;
  /** A tag or a digest. */
  tag: string;
  platform?: string | undefined;
  /** X-Registry-Auth, already encoded. */
  auth?: string | undefined;
}

export interface LogsOptions {
  tail: number;
  stdout: boolean;
  stderr: boolean;
}

export interface EngineApi {
  /** The endpoint this talks to (`unix:///var/run/docker.sock`): remembered facts are kept per host. */
  readonly host: string;
  info(): Promise<EngineInfo>;
  containers: {
    create(body: CreateBody, opts?: { name?: string | undefined; platform?: string | undefined }): Promise<CreateAnswer>;
    inspect(ref: string): Promise<ContainerJson | undefined>;
    list(opts: { all: boolean; labels?: string[] }): Promise<ContainerSummary[]>;
    start(id: string): Promise<void>;
    stop(id: string, seconds?: number): Promise<void>;
    kill(id: string, signal: string): Promise<void>;
    /** With its anonymous volumes (`v=1`) and by force: false when there was no such container. */
    remove(id: string): Promise<boolean>;
    resize(id: string, h: number, w: number): Promise<void>;
    /** Resolves once the engine registered the waiter. */
    wait(id: string, condition: WaitCondition): Promise<RegisteredWait>;
    /** Hijacked: resolves with the raw connection once the engine upgraded it. */
    attach(id: string, opts: AttachOptions): Promise<Attached>;
    /** GET /containers/{id}/archive: undefined when the container or the path does not exist. */
    archive(id: string, path: string): Promise<Archive | undefined>;
    /** HEAD of the same: the stat only. */
    archiveStat(id: string, path: string): Promise<PathStat | undefined>;
    logs(id: string, opts: LogsOptions): Promise<Readable>;
  };
  images: {
    inspect(ref: string): Promise<ImageInspect | undefined>;
    /** POST /images/create: the engine's progress stream (JSON lines); errors inside it are the reader's. */
    pull(query: PullQuery): Promise<Readable>;
  };
  volumes: {
    inspect(name: string): Promise<VolumeJson | undefined>;
    create(body: VolumeCreateBody): Promise<VolumeJson>;
    /** By force: false when there was no such volume. */
    remove(name: string): Promise<boolean>;
  };
  /** Close idle connections. */
  close(): void;
}
