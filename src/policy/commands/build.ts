/**
 * `docker build` / `docker image build` / `docker builder build` judged before docker runs it
 * (pure). The flags are docker CLI 28.2's legacy builder (cli/command/image/build.go) and those of
 * buildx, which `docker build` becomes when it is installed (interspersed: flags may follow the
 * context path). Refused under a confined level:
 * - a network other than the default, `bridge`, `none` or a user-defined network's name: `host`
 *   (and `container:X`) put the RUN steps in the host's (or another container's) network
 *   (SD-BUILD-001), as does buildx's `--allow network.host`;
 * - `--security-opt` and every other buildx entitlement (`--allow security.insecure`, devices):
 *   RUN steps unconfined or privileged (SD-BUILD-002); `--cgroup-parent` (SD-RES-004).
 * `--add-host`, build arguments, secrets, tags, outputs pass. A buildx flag whose value may be
 * optional (`--sbom`, `--provenance`) is accepted only as `--flag=value`, so the next word is
 * never taken for its value by one reader and for a flag by the other.
 */
import { UsageError } from '../../errors.js';
import { parsePflag, type PflagSpec } from '../../flags/pflag.js';
import { all, Judge, type Judgement, last } from './common.js';

const v = (name: string, short?: string): PflagSpec => (short ? { name, short, kind: 'value' } : { name, kind: 'value' });
const b = (name: string, short?: string): PflagSpec => (short ? { name, short, kind: 'bool' } : { name, kind: 'bool' });

export const BUILD_FLAGS: readonly PflagSpec[] = [
  // docker CLI 28.2 (legacy builder)
  v('add-host'), v('build-arg'), v('cache-from'), v('cgroup-parent'), b('compress'), v('cpu-period'), v('cpu-quota'),
  v('cpu-shares', 'c'), v('cpuset-cpus'), v('cpuset-mems'), b('disable-content-trust'), v('file', 'f'), b('force-rm'),
  v('iidfile'), v('isolation'), v('label'), v('memory', 'm'), v('memory-swap'), v('network'), b('no-cache'), v('platform'),
  b('pull'), b('quiet', 'q'), b('rm'), v('security-opt'), v('shm-size'), b('squash'), v('tag', 't'), v('target'), v('ulimit'),
  b('help', 'h'),
  // buildx build
  v('allow'), v('annotation'), v('attest'), v('build-context'), v('builder'), v('cache-to'), v('call'), b('check'),
  b('load'), b('push'), v('metadata-file'), v('no-cache-filter'), v('output', 'o'), v('progress'), v('secret'), v('ssh'),
  b('debug', 'D'), v('sbom'), v('provenance'),
];
const EQUALS_ONLY = new Set(['sbom', 'provenance']);

/** Network modes a build may use: docker's default, the default bridge, none, or a user network's name. */
export function buildNetworkAllowed(mode: string): boolean {
  if (['', 'default', 'bridge', 'none'].includes(mode)) return true;
  return mode !== 'host' && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(mode);
}

export function judgeBuild(args: readonly string[], profile: import('../types.js').EffectiveProfile): Judgement {
  const parsed = parsePflag(args, BUILD_FLAGS, { interspersed: true });
  for (const h of parsed.hits) {
    if (EQUALS_ONLY.has(h.spec.name) && h.tokens.length > 1) {
      throw new UsageError(`sdocker reads --${h.spec.name} only as --${h.spec.name}=VALUE (buildx may take the next word as a flag)`);
    }
  }
  const judge = new Judge(profile);
  const hostNet = (profile.allow.hostNamespaces ?? []).find((n) => n.name === 'network');
  const network = last(parsed.hits, 'network');
  if (network && !buildNetworkAllowed(network.value)) {
    judge.check('SD-BUILD-001', network.value === 'host' ? hostNet : undefined, {
      flag: '--network', subject: network.value, field: 'NetworkMode', allowSubject: 'network', denialKey: 'hostNamespaces', denialValue: 'network',
      ...(network.value === 'host' ? {} : { allowWith: [], why: 'only default, bridge, none or a user-defined network' }),
    });
  }
  for (const h of all(parsed.hits, 'security-opt')) {
    // a StringSlice: comma-separated values, each a security option
    judge.check('SD-BUILD-002', profile.allow.privileged, {
      flag: '--security-opt', subject: h.value, field: 'SecurityOpt', denialKey: 'privileged',
    });
  }
  for (const h of all(parsed.hits, 'allow')) {
    for (const ent of h.value.split(',')) {
      if (ent === 'network.host') {
        judge.check('SD-BUILD-001', hostNet, {
          flag: '--allow', subject: ent, field: 'Entitlements', allowSubject: 'network', denialKey: 'hostNamespaces', denialValue: 'network',
        });
      } else {
        judge.check('SD-BUILD-002', profile.allow.privileged, { flag: '--allow', subject: ent, field: 'Entitlements', denialKey: 'privileged' });
      }
    }
  }
  const parent = last(parsed.hits, 'cgroup-parent');
  if (parent && parent.value !== '') {
    judge.check('SD-RES-004', profile.allow.cgroupParent, { flag: '--cgroup-parent', subject: parent.value, field: 'CgroupParent', denialKey: 'cgroupParent' });
  }
  return judge.result(parsed.hits);
}
