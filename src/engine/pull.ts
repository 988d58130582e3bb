/**
 * Image pull: POST /images/create?fromImage=..&tag=.. (the tag may be a digest) with progress on
 * stderr: redrawn in place on a terminal (pull-progress.ts), else one line per layer and status
 * change, as docker prints it when stderr is not a terminal; registry credentials from the docker
 * config (auth.ts) as X-Registry-Auth.
 * Loaded lazily: only runs that pull need it.
 */
import type { Writable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { EngineApi } from './api.js';
import { registryAuth } from './auth.js';
import { defaultConfigDir } from './endpoint.js';
import { type JsonMessage, TtyProgressRenderer } from './pull-progress.js';

export { registryAuth };

export interface ImageRef {
  /** Registry host, e.g. docker.io or 127.0.0.1:5000. */
  domain: string;
  /** Fully qualified repository, e.g. docker.io/library/busybox. */
  name: string;
  tag?: string;
  digest?: string;
}

/** docker's ParseNormalizedNamed, the parts pull needs. */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let domain: string;
  let path: string;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
  } else {
    domain = 'docker.io';
    path = rest;
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  const ref: ImageRef = { domain, name: `${domain}/${path}` };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** How docker names the image in messages: without docker.io/library/, with the tag. */
export function familiarString(image: string): string {
  const ref = parseImageRef(image);
  let name = ref.name;
  if (name.startsWith('docker.io/library/')) name = name.slice('docker.io/library/'.length);
  else if (name.startsWith('docker.io/')) name = name.slice('docker.io/'.length);
  if (ref.digest) return `${name}${ref.tag ? `:${ref.tag}` : ''}@${ref.digest}`;
  return `${name}:${ref.tag ?? 'latest'}`;
}


/**
 * Renders the JSON message stream as lines: "<id>: <status>" once per layer and status,
 * and the id-less lines ("latest: Pulling from ...", "Digest: ...", "Status: ...") as they come.
 */
export class ProgressRenderer {
  private readonly last = new Map<string, string>();
  constructor(private readonly out: Writable | null) {}

  message(m: JsonMessage): void {
    if (m.errorDetail?.message || m.error) {
      throw new EngineError(m.errorDetail?.message ?? m.error ?? 'pull failed', 500);
    }
    if (!this.out || !m.status) return;
    // docker leaves the progress bars out when stderr is not a terminal.
    if ((m.progressDetail?.current ?? 0) > 0 || (m.progressDetail?.total ?? 0) > 0) return;
    if (m.id) {
      if (this.last.get(m.id) === m.status) return;
      this.last.set(m.id, m.status);
      this.out.write(`${m.id}: ${m.status}\n`);
    } else {
      this.out.write(`${m.status}\n`);
    }
  }
}

export interface PullOptions {
  platform?: string;
  /** Where progress goes; null for -q. */
  progress: Writable | null;
  env: Record<string, string | undefined>;
  configDir?: string;
}

/** Pull `image`; resolves when the daemon reports the pull complete, throws EngineError on failure. */
export async function pullImage(api: EngineApi, image: string, opts: PullOptions): Promise<void> {
  const ref = parseImageRef(image);
  const auth = await registryAuth(ref.domain, opts.configDir ?? defaultConfigDir(opts.env));
  const res = await api.images.pull({ fromImage: ref.name, tag: ref.digest ?? ref.tag ?? 'latest', platform: opts.platform, auth });
  const out = opts.progress as (Writable & { isTTY?: boolean; columns?: number }) | null;
  const renderer = out?.isTTY ? new TtyProgressRenderer(out, () => out.columns || 200) : new ProgressRenderer(out);
  let buffered = '';
  const handleLine = (line: string) => {
    const t = line.trim();
    if (!t) return;
    let m: JsonMessage;
    try {
      m = JSON.parse(t) as JsonMessage;
    } catch {
      return;
    }
    renderer.message(m);
  };
  await new Promise<void>((resolve, reject) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      try {
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          handleLine(line);
        }
      } catch (err) {
        res.destroy();
        reject(err);
      }
    });
    res.on('end', () => {
      try {
        handleLine(buffered);
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    res.on('error', reject);
  });
}

/** What `docker run` does for an image it does not have: say so (unless -q), then pull it. */
export async function pullMissing(api: EngineApi, image: string, opts: PullOptions & { quiet: boolean }): Promise<void> {
  if (!opts.quiet) opts.progress?.write(`Unable to find image '${familiarString(image)}' locally\n`);
  await pullImage(api, image, opts);
}
