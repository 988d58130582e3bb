/**
 * An in-memory Engine (EngineApi) for unit tests of the pipelines: no socket, no root, no daemon.
 *
 * A model of the parts of the engine the pipeline's decisions depend on, with the engine's own
 * rules where they matter: images by reference (name[:tag], defaulting to latest), by id and by id
 * prefix, pulled from a "registry" of known images; containers with ids, unique names, labels,
 * state transitions (created → running → exited; removed with --rm after exit), mounts as the
 * engine lists them (binds, named volumes created on first use, anonymous volumes for the image's
 * VOLUMEs, removed with the container); an archive API reading the image's files (symbolic links
 * stat'ed, not followed, as the engine's HEAD does); attach streams framed like the engine's
 * (8-byte headers without a TTY); waits for next-exit, not-running and removed.
 *
 * Every call is logged (`calls`) so a test can assert what the pipeline asked, in which order.
 */
import { randomBytes } from 'node:crypto';
import { Duplex, Readable } from 'node:stream';
import type {
  Archive, Attached, ContainerJson, ContainerSummary, CreateAnswer, EngineApi, InspectMount, PathStat, PullQuery, RegisteredWait,
  VolumeCreateBody, VolumeJson, WaitCondition, WaitResult,
} from '../../src/engine/api.js';
import type { CreateBody, EngineInfo, ImageInspect } from '../../src/api/types.js';
import { EngineError } from '../../src/errors.js';

/** A file of an image: its text, or a symbolic link. */
export type FakeFile = string | { link: string } | { dir: true };

/** What the image's command does when a container of it starts. */
export interface FakeProgram {
  stdout?: string;
  stderr?: string;
  exitCode: number;
  /** Keep running until killed or stopped (a server). */
  runs?: boolean;
}

export interface FakeImageSpec {
  /** name:tag references (`busybox` means `busybox:latest`). */
  tags: string[];
  config?: NonNullable<ImageInspect['Config']>;
  files?: Record<string, FakeFile>;
  program?: FakeProgram;
}

interface FakeImage {
  inspect: ImageInspect;
  tags: Set<string>;
  files: Record<string, FakeFile>;
  program: FakeProgram;
}

interface Waiter {
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
}

interface FakeContainer {
  id: string;
  name: string;
  image: FakeImage;
  body: CreateBody;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  pid: number;
  anonymous: string[];
  mounts: InspectMount[];
  attached: Duplex[];
  logs: Buffer[];
  waiters: Waiter[];
}

const hex = (n: number) => randomBytes(n).toString('hex');

function normalise(ref: string): string {
  const lastSlash = ref.lastIndexOf('/');
  return ref.includes('@') || ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

/** One tar entry as the archive API sends it (a regular file, or a link), ustar format. */
export function tarEntry(name: string, file: FakeFile): Buffer {
  const data = typeof file === 'string' ? Buffer.from(file) : Buffer.alloc(0);
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'latin1');
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, '0');
  put(name, 0, 100);
  put(oct(typeof file === 'object' && 'dir' in file ? 0o755 : 0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(data.length, 12), 124, 12);
  put(oct(0, 12), 136, 12);
  h.fill(0x20, 148, 156);
  h[156] = (typeof file === 'object' ? ('link' in file ? '2' : '5') : '0').charCodeAt(0);
  if (typeof file === 'object' && 'link' in file) put(file.link, 157, 100);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

/** A frame of the engine's multiplexed stream (no TTY): stream 1 stdout, 2 stderr. */
function frame(stream: 1 | 2, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

export class FakeEngine implements EngineApi {
  readonly host: string;
  /** Every call, as `group.method arg`: what the pipeline asked, in order. */
  readonly calls: string[] = [];
  engineInfo: EngineInfo;
  private readonly imageMap = new Map<string, FakeImage>();
  /** What a pull can fetch: reference → image. */
  private readonly registry = new Map<string, FakeImageSpec>();
  private readonly containerMap = new Map<string, FakeContainer>();
  private readonly volumeMap = new Map<string, VolumeJson>();
  private nextPid = 1000;

  constructor(opts: { host?: string; info?: EngineInfo } = {}) {
    this.host = opts.host ?? 'unix:///fake/docker.sock';
    this.engineInfo = opts.info ?? {
      ServerVersion: '20.10.24', OSType: 'linux', KernelVersion: '6.1.0', CgroupVersion: '2', CgroupDriver: 'systemd',
      DefaultRuntime: 'runc', Runtimes: { runc: { path: 'runc' } }, SecurityOptions: ['name=seccomp,profile=default', 'name=cgroupns'],
      DockerRootDir: '/var/lib/docker', NCPU: 2, LoggingDriver: 'json-file',
    };
  }

  // -- set-up ----------------------------------------------------------------------------------

  /** An image the engine has; returns its id. */
  addImage(spec: FakeImageSpec): string {
    const id = `sha256:${hex(32)}`;
    const image: FakeImage = {
      inspect: { Id: id, RepoDigests: [], Config: { User: '', Env: ['PATH=/bin'], Cmd: ['sh'], ...(spec.config ?? {}) } },
      tags: new Set(spec.tags.map(normalise)),
      files: spec.files ?? { '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n', '/etc/group': 'root:x:0:\n' },
      program: spec.program ?? { exitCode: 0 },
    };
    // A tag names one image: the newest takes it.
    for (const other of this.imageMap.values()) for (const t of image.tags) other.tags.delete(t);
    this.imageMap.set(id, image);
    return id;
  }

  /** An image a pull of `ref` fetches. */
  addToRegistry(ref: string, spec: Omit<FakeImageSpec, 'tags'>): void {
    this.registry.set(normalise(ref), { ...spec, tags: [ref] });
  }

  /** Remove an image (its containers keep the id). */
  removeImage(ref: string): void {
    const img = this.findImage(ref);
    if (img) this.imageMap.delete(img.inspect.Id);
  }

  containerIds(): string[] {
    return [...this.containerMap.keys()];
  }

  volumeNames(): string[] {
    return [...this.volumeMap.keys()];
  }

  stateOf(ref: string): FakeContainer['state'] | undefined {
    return this.findContainer(ref)?.state;
  }

  // -- lookups ---------------------------------------------------------------------------------

  private findImage(ref: string): FakeImage | undefined {
    const byId = this.imageMap.get(ref) ?? this.imageMap.get(`sha256:${ref}`);
    if (byId) return byId;
    const n = normalise(ref);
    for (const img of this.imageMap.values()) if (img.tags.has(n)) return img;
    if (/^(sha256:)?[0-9a-f]{12,}$/.test(ref)) {
      const found = [...this.imageMap.values()].filter((i) => i.inspect.Id.startsWith(ref.startsWith('sha256:') ? ref : `sha256:${ref}`));
      if (found.length === 1) return found[0];
    }
    return undefined;
  }

  private findContainer(ref: string): FakeContainer | undefined {
    const exact = this.containerMap.get(ref);
    if (exact) return exact;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    for (const c of this.containerMap.values()) if (c.name === name) return c;
    const byPrefix = [...this.containerMap.values()].filter((c) => c.id.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  private container(ref: string): FakeContainer {
    const c = this.findContainer(ref);
    if (!c) throw new EngineError(`No such container: ${ref}`, 404);
    return c;
  }

  private volumeFor(name: string, labels?: Record<string, string>): VolumeJson {
    let v = this.volumeMap.get(name);
    if (!v) {
      v = { Name: name, Driver: 'local', Options: null, Labels: labels ?? null, Mountpoint: `/var/lib/docker/volumes/${name}/_data` };
      this.volumeMap.set(name, v);
    }
    return v;
  }

  // -- the engine's life cycle ------------------------------------------------------------------

  private mountsOf(body: CreateBody, image: FakeImage, anonymous: string[]): InspectMount[] {
    const out: InspectMount[] = [];
    const hc = body.HostConfig;
    for (const b of hc.Binds ?? []) {
      const [src = '', dst = '', opts = ''] = b.split(':');
      const rw = !opts.split(',').includes('ro');
      if (src.startsWith('/')) out.push({ Type: 'bind', Source: src, Destination: dst, RW: rw });
      else {
        const v = this.volumeFor(src);
        out.push({ Type: 'volume', Name: src, Source: v.Mountpoint ?? '', Destination: dst, Driver: v.Driver, RW: rw });
      }
    }
    for (const m of hc.Mounts ?? []) {
      if (m.Type === 'bind') out.push({ Type: 'bind', Source: m.Source ?? '', Destination: m.Target, RW: !m.ReadOnly });
      else if (m.Type === 'volume') {
        const name = m.Source || hex(32);
        if (!m.Source) anonymous.push(name);
        const v = this.volumeFor(name, m.VolumeOptions?.Labels);
        if (m.VolumeOptions?.DriverConfig?.Options && !v.Options) v.Options = m.VolumeOptions.DriverConfig.Options;
        out.push({ Type: 'volume', Name: name, Source: v.Mountpoint ?? '', Destination: m.Target, Driver: v.Driver, RW: !m.ReadOnly });
      } else if (m.Type === 'tmpfs') out.push({ Type: 'tmpfs', Source: '', Destination: m.Target, RW: !m.ReadOnly });
    }
    const taken = new Set([...out.map((m) => m.Destination), ...Object.keys(hc.Tmpfs ?? {})]);
    for (const dest of Object.keys(image.inspect.Config?.Volumes ?? {})) {
      if (taken.has(dest)) continue;
      const name = hex(32);
      anonymous.push(name);
      const v = this.volumeFor(name);
      out.push({ Type: 'volume', Name: name, Source: v.Mountpoint ?? '', Destination: dest, Driver: 'local', RW: true });
    }
    return out;
  }

  private exit(c: FakeContainer, code: number): void {
    if (c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = code;
    for (const s of c.attached) s.push(null);
    c.attached = [];
    for (const w of c.waiters.filter((x) => x.condition !== 'removed')) w.resolve({ StatusCode: code });
    c.waiters = c.waiters.filter((x) => x.condition === 'removed');
    if (c.body.HostConfig.AutoRemove) this.drop(c);
  }

  private drop(c: FakeContainer): void {
    this.containerMap.delete(c.id);
    for (const v of c.anonymous) this.volumeMap.delete(v);
    for (const w of c.waiters) w.resolve({ StatusCode: c.exitCode });
    c.waiters = [];
  }

  private output(c: FakeContainer, stream: 1 | 2, text: string | undefined): void {
    if (!text) return;
    const data = Buffer.from(text);
    const chunk = c.body.Tty ? data : frame(stream, data);
    c.logs.push(frame(stream, data));
    for (const s of c.attached) s.push(chunk);
  }

  async info() {
    this.calls.push('info');
    return structuredClone(this.engineInfo);
  }

  close(): void {
    // nothing to close
  }

  readonly containers: EngineApi['containers'] = {
    create: async (body, opts = {}): Promise<CreateAnswer> => {
      this.calls.push(`containers.create ${body.Image ?? ''}`);
      const image = this.findImage(body.Image ?? '');
      if (!image) throw new EngineError(`No such image: ${body.Image ?? ''}`, 404);
      if (opts.name) {
        if (!/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(opts.name)) throw new EngineError(`Invalid container name (${opts.name})`, 400);
        const taken = this.findContainer(opts.name.replace(/^\//, ''));
        if (taken && taken.name === opts.name.replace(/^\//, '')) {
          throw new EngineError(`Conflict. The container name "/${taken.name}" is already in use by container "${taken.id}".`, 409);
        }
      }
      const id = hex(32);
      const anonymous: string[] = [];
      const copy = structuredClone(body);
      const c: FakeContainer = {
        id, name: (opts.name ?? `fake_${id.slice(0, 8)}`).replace(/^\//, ''), image, body: copy, state: 'created', exitCode: 0, pid: 0,
        anonymous, mounts: [], attached: [], logs: [], waiters: [],
      };
      c.mounts = this.mountsOf(copy, image, anonymous);
      this.containerMap.set(id, c);
      return { Id: id, Warnings: [] };
    },
    inspect: async (ref) => {
      this.calls.push(`containers.inspect ${ref}`);
      const c = this.findContainer(ref);
      if (!c) return undefined;
      const { HostConfig, NetworkingConfig: _n, ...config } = structuredClone(c.body);
      const json: ContainerJson = {
        Id: c.id, Name: `/${c.name}`, Image: c.image.inspect.Id,
        Config: { ...config, Labels: config.Labels ?? {} }, HostConfig, Mounts: structuredClone(c.mounts),
        State: { Status: c.state, Running: c.state === 'running', Pid: c.state === 'running' ? c.pid : 0, ExitCode: c.exitCode, OOMKilled: false },
      };
      return json;
    },
    list: async (opts): Promise<ContainerSummary[]> => {
      this.calls.push('containers.list');
      return [...this.containerMap.values()]
        .filter((c) => opts.all || c.state === 'running')
        .filter((c) => (opts.labels ?? []).every((l) => {
          const [k = '', v] = l.split('=');
          const labels = c.body.Labels ?? {};
          return k in labels && (v === undefined || labels[k] === v);
        }))
        .map((c) => ({ Id: c.id, Names: [`/${c.name}`], Labels: c.body.Labels ?? {}, State: c.state }));
    },
    start: async (id) => {
      this.calls.push(`containers.start ${id}`);
      const c = this.container(id);
      if (c.state === 'running') return;
      c.state = 'running';
      c.pid = this.nextPid++;
      const p = c.image.program;
      // The process runs after start answers, as the engine's does.
      setImmediate(() => {
        this.output(c, 1, p.stdout);
        this.output(c, 2, p.stderr);
        if (!p.runs) this.exit(c, p.exitCode);
      });
    },
    stop: async (id) => {
      this.calls.push(`containers.stop ${id}`);
      this.exit(this.container(id), 143);
    },
    kill: async (id, signal) => {
      this.calls.push(`containers.kill ${id} ${signal}`);
      const c = this.container(id);
      if (c.state !== 'running') throw new EngineError(`Container ${id} is not running`, 409);
      if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') this.exit(c, 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 2));
    },
    remove: async (id) => {
      this.calls.push(`containers.remove ${id}`);
      const c = this.findContainer(id);
      if (!c) return false;
      if (c.state === 'running') {
        c.state = 'exited';
        c.exitCode = 137;
        for (const s of c.attached) s.push(null);
      }
      this.drop(c);
      return true;
    },
    resize: async (id) => {
      this.calls.push(`containers.resize ${id}`);
      this.container(id);
    },
    wait: async (id, condition): Promise<RegisteredWait> => {
      this.calls.push(`containers.wait ${id} ${condition}`);
      const c = this.container(id);
      let resolve!: (r: WaitResult) => void;
      const result = new Promise<WaitResult>((r) => (resolve = r));
      if (condition === 'not-running' && c.state !== 'running') resolve({ StatusCode: c.exitCode });
      else c.waiters.push({ condition, resolve });
      return { result, abort: () => (c.waiters = c.waiters.filter((w) => w.resolve !== resolve)) };
    },
    attach: async (id, opts): Promise<Attached> => {
      this.calls.push(`containers.attach ${id}`);
      const c = this.container(id);
      const stdin: Buffer[] = [];
      const socket = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          if (opts.stdin) stdin.push(chunk);
          cb();
        },
      });
      if (c.state === 'exited') socket.push(null);
      else c.attached.push(socket);
      return { socket, contentType: c.body.Tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' };
    },
    archive: async (id, path): Promise<Archive | undefined> => {
      this.calls.push(`containers.archive ${id} ${path}`);
      const c = this.findContainer(id);
      const file = c?.image.files[path];
      if (!c || file === undefined) return undefined;
      return { stat: this.statOf(path, file), body: Readable.from([tarEntry(path.split('/').pop() ?? path, file)]) };
    },
    archiveStat: async (id, path) => {
      this.calls.push(`containers.archiveStat ${id} ${path}`);
      const c = this.findContainer(id);
      const file = c?.image.files[path];
      return c && file !== undefined ? this.statOf(path, file) : undefined;
    },
    logs: async (id) => {
      this.calls.push(`containers.logs ${id}`);
      return Readable.from(this.container(id).logs.slice());
    },
  };

  private statOf(path: string, file: FakeFile): PathStat {
    const name = path.split('/').pop() ?? path;
    if (typeof file === 'string') return { name, size: Buffer.byteLength(file), mode: 0o644 };
    if ('link' in file) return { name, size: file.link.length, mode: MODE_SYMLINK + 0o777, linkTarget: file.link };
    return { name, size: 4096, mode: MODE_DIR + 0o755 };
  }

  readonly images: EngineApi['images'] = {
    inspect: async (ref) => {
      this.calls.push(`images.inspect ${ref}`);
      const img = this.findImage(ref);
      return img && { ...structuredClone(img.inspect), RepoTags: [...img.tags] } as ImageInspect;
    },
    pull: async (q: PullQuery): Promise<Readable> => {
      const ref = `${q.fromImage.replace(/^docker\.io\/(library\/)?/, '')}:${q.tag}`;
      this.calls.push(`images.pull ${ref}`);
      const spec = this.registry.get(normalise(ref));
      const lines = spec
        ? [{ status: `Pulling from ${q.fromImage}`, id: q.tag }, { status: `Digest: sha256:${hex(32)}` }, { status: `Status: Downloaded newer image for ${ref}` }]
        : [{ errorDetail: { message: `pull access denied for ${q.fromImage}, repository does not exist` }, error: `pull access denied for ${q.fromImage}` }];
      if (spec) this.addImage({ ...spec, tags: [ref] });
      return Readable.from(lines.map((l) => `${JSON.stringify(l)}\r\n`));
    },
  };

  readonly volumes: EngineApi['volumes'] = {
    inspect: async (name) => {
      this.calls.push(`volumes.inspect ${name}`);
      const v = this.volumeMap.get(name);
      return v && structuredClone(v);
    },
    create: async (body: VolumeCreateBody) => {
      this.calls.push(`volumes.create ${body.Name ?? ''}`);
      const name = body.Name || hex(32);
      if (this.volumeMap.has(name)) return structuredClone(this.volumeMap.get(name)!);
      const v: VolumeJson = {
        Name: name, Driver: body.Driver ?? 'local', Options: body.DriverOpts ?? null, Labels: body.Labels ?? null, Mountpoint: `/var/lib/docker/volumes/${name}/_data`,
      };
      this.volumeMap.set(name, v);
      return structuredClone(v);
    },
    remove: async (name) => {
      this.calls.push(`volumes.remove ${name}`);
      const inUse = [...this.containerMap.values()].some((c) => c.mounts.some((m) => m.Name === name));
      if (inUse) throw new EngineError(`remove ${name}: volume is in use`, 409);
      return this.volumeMap.delete(name);
    },
  };
}
