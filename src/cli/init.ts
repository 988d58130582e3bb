/**
 * `sdocker init [IMAGE] [--level LEVEL] [--file PATH]`: write a starter sdocker.yaml, reading the
 * image's USER, EXPOSE and VOLUME when one is named. Never overwrites an existing file; the
 * write is atomic (temporary file, then link(2), which fails if the name exists).
 */
import { linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { ImageInspect } from '../api/types.js';
import type { ProcessIO } from '../io/process-io.js';

const HELP = `Usage:  sdocker init [OPTIONS] [IMAGE]

Write a starter sdocker.yaml in the current directory (reading IMAGE's USER, EXPOSE and VOLUME).

Options:
      --level LEVEL   restricted (default) or baseline
      --file PATH     write PATH instead of ./sdocker.yaml
`;

const q = (s: string) => JSON.stringify(s);

/** The starter profile text (pure). */
export function starterProfile(opts: { image?: string; config?: ImageInspect['Config']; level?: string; schema?: string }): string {
  const c = opts.config;
  const L: string[] = [];
  if (opts.schema) L.push(`# yaml-language-server: $schema=${opts.schema}`);
  L.push(`# sdocker profile${opts.image ? ` for ${opts.image}` : ''}, written by \`sdocker init\`.`);
  L.push('# Format and rule ids: docs/policy.md. Every allowance needs a reason; it goes into the run record.');
  L.push(`extends: ${opts.level ?? 'restricted'}`);
  L.push('defaults:');
  const user = c?.User ?? '';
  const [u, g] = user.split(':');
  if (c === undefined) {
    L.push('  # user when the image runs as root (sdocker never runs untrusted code as root)');
    L.push('  user: "65534:65534"');
  } else if (!user || u === '0' || u === 'root') {
    L.push(`  # ${opts.image} runs as root: sdocker runs it as this user instead`);
    L.push('  user: "65534:65534"');
  } else {
    L.push(`  # ${opts.image} runs as ${user}${g === undefined && /^\d+$/.test(u ?? '') ? ` (sdocker adds the group: ${u}:${u})` : ''}; this user only applies to root images`);
    L.push('  user: "65534:65534"');
  }
  L.push('  tmpfs:', '    - path: /tmp', '      size: 64m');
  const vols = Object.keys(c?.Volumes ?? {});
  for (const v of vols) L.push(`    # VOLUME ${v}: docker gives it an anonymous volume, writable on the read-only root filesystem`);
  L.push('  memory: 1g', '  cpus: 2', '  pids: 512');
  L.push('# allow:');
  const ports = Object.keys(c?.ExposedPorts ?? {});
  const low = ports.filter((p) => Number(p.split('/')[0]) < 1024);
  if (ports.length) L.push(`#   # the image exposes ${ports.join(', ')}: \`-p PORT:${ports[0]!.split('/')[0]}\` publishes on 127.0.0.1`);
  // Docker (20.10 and later) sets net.ipv4.ip_unprivileged_port_start=0 in the container: no capability needed.
  if (low.length) L.push('#   # ports below 1024: any user may bind them in the container (docker sets ip_unprivileged_port_start=0)');
  L.push('#   portAddresses:', `#     - address: 0.0.0.0`, `#       reason: ${q('reachable from the network because ...')}`);
  L.push('#   writablePaths:', '#     - path: ./data', `#       reason: ${q('the service writes its state here')}`);
  // Capabilities reach only a root process: the user above gets none of them (execve clears them
  // for a non-root user), so CHOWN, SETUID ... cannot help a root-then-drop entrypoint here.
  L.push('#   # capabilities reach only a root process (allow.root): a root-then-drop entrypoint runs as its service user instead (defaults.user)');
  return `${L.join('\n')}\n`;
}

export async function initCommand(argv: string[], io: ProcessIO): Promise<number> {
  let image: string | undefined;
  let level = 'restricted';
  let file = 'sdocker.yaml';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`init: ${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') {
      io.stdout.write(HELP);
      return 0;
    } else if (a === '--level' || a.startsWith('--level=')) level = val();
    else if (a === '--file' || a.startsWith('--file=')) file = val();
    else if (a.startsWith('-')) throw new UsageError(`init: unknown flag: ${a}`);
    else if (image === undefined) image = a;
    else throw new UsageError('init takes at most one IMAGE');
  }
  if (level !== 'restricted' && level !== 'baseline') throw new UsageError(`init: --level must be restricted or baseline, not ${level}`);
  const target = resolve(io.cwd, file);
  let config: ImageInspect['Config'] | undefined;
  if (image) {
    const [{ EngineClient }, { httpApi }, { resolveEndpoint }] = await Promise.all([
      import('../engine/client.js'), import('../engine/http-api.js'), import('../engine/endpoint.js'),
    ]);
    const api = httpApi(new EngineClient(resolveEndpoint({}, io.env)));
    try {
      const found = await api.images.inspect(image);
      if (!found) throw new UsageError(`init: no such image: ${image} (pull it first)`);
      config = found.Config ?? {};
    } finally {
      api.close();
    }
  }
  const schemaAbs = fileURLToPath(new URL('../../profiles/sdocker.schema.json', import.meta.url));
  const text = starterProfile({ ...(image ? { image } : {}), ...(config ? { config } : {}), level, schema: relative(dirname(target), schemaAbs) });
  const tmp = resolve(dirname(target), `.sdocker.yaml.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
  try {
    linkSync(tmp, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`init: ${target} already exists; not overwriting it`);
    throw err;
  } finally {
    unlinkSync(tmp);
  }
  io.stdout.write(`wrote ${target}\n`);
  return 0;
}
