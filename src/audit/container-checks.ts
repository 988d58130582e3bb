/**
 * The findings on one container, from its inspect (and, when running, its process list). The
 * policy's own knowledge is reused: docker's default capabilities (src/api/capabilities.ts) and the
 * sensitive host paths (src/policy/paths.ts). Pure.
 */
import { capName as normalizeCap, DOCKER_DEFAULT_CAPS } from '../api/capabilities.js';
import { normalizeHostPath, sensitiveKind } from '../policy/paths.js';
import type { EngineFacts } from '../policy/types.js';
import { finding } from './catalog.js';
import type { ContainerFacts, DaemonContext, Finding } from './types.js';

export function containerSubject(c: ContainerFacts): string {
  return `${c.Name.replace(/^\//, '')} (${c.Id.slice(0, 12)})`;
}

/** `--security-opt` entries as key/value (docker accepts `key=value` and the old `key:value`). */
function securityOpts(hc: ContainerFacts['HostConfig']): Array<[string, string]> {
  return (hc.SecurityOpt ?? []).map((o) => {
    const m = /^([a-z-]+)[=:](.*)$/s.exec(o);
    return m ? [m[1]!, m[2]!] : [o, ''];
  });
}

function isRootUser(user: string | undefined): boolean {
  const u = (user ?? '').split(':')[0]!.trim();
  return u === '' || u === 'root' || /^0+$/.test(u);
}

function nnpSet(opts: Array<[string, string]>, daemonDefault: boolean): boolean {
  const nnp = opts.filter(([k]) => k === 'no-new-privileges');
  if (nnp.length === 0) return daemonDefault;
  const v = nnp[nnp.length - 1]![1];
  return v === '' || v === 'true';
}

export function checkContainer(c: ContainerFacts, ctx: DaemonContext): Finding[] {
  const out: Finding[] = [];
  const subject = containerSubject(c);
  const add = (id: string, message: string) => out.push(finding(id, subject, message));
  const hc = c.HostConfig;

  if (hc.Privileged) add('SDA-CTR-PRIVILEGED', '--privileged');

  // Mounts: the engine's resolved view (Binds, --mount and volumes alike).
  const engine: EngineFacts = { usernsRemap: ctx.usernsRemap, apparmor: ctx.apparmor, selinux: ctx.selinux, runtimes: [], socketPaths: ctx.socketPaths, ...(ctx.dockerRootDir ? { dockerRootDir: ctx.dockerRootDir } : {}) };
  for (const m of c.Mounts ?? []) {
    const hostPath = m.Type === 'bind' ? m.Source : m.Type === 'volume' ? m.BindDevice : undefined;
    if (hostPath?.startsWith('/')) {
      const src = normalizeHostPath(hostPath);
      // Both spellings, as the policy judges them: a symlink to /etc is /etc.
      const real = m.RealSource ? normalizeHostPath(m.RealSource) : src;
      const shown = real !== src ? `${src} (-> ${real})` : src;
      const where = `${m.Type === 'volume' ? `volume ${m.Name ?? '?'} binding ` : ''}${shown} at ${m.Destination ?? '?'}${m.RW ? ' (writable)' : ' (read-only)'}`;
      const kind = sensitiveKind(src, engine) ?? sensitiveKind(real, engine);
      if (kind?.kind === 'socket') add('SDA-CTR-SOCKET', where);
      else if (kind) add(m.RW ? 'SDA-CTR-MOUNT-SENSITIVE-RW' : 'SDA-CTR-MOUNT-SENSITIVE', `${where}: ${kind.matched} is sensitive`);
      else if (m.RW) add('SDA-CTR-MOUNT-RW', where);
    }
    if (m.Propagation === 'shared' || m.Propagation === 'rshared') add('SDA-CTR-MOUNT-SHARED', `${m.Source ?? m.Name ?? '?'} at ${m.Destination ?? '?'} propagation ${m.Propagation}`);
  }

  // Capabilities (guideline 14).
  const added = (hc.CapAdd ?? []).map(normalizeCap);
  const beyond = added.filter((x) => x === 'ALL' || !DOCKER_DEFAULT_CAPS.includes(x));
  if (beyond.length > 0) add('SDA-CTR-CAP-ADD', `--cap-add ${beyond.join(',')}`);
  const dropped = (hc.CapDrop ?? []).map(normalizeCap);
  if (!hc.Privileged && !dropped.includes('ALL')) {
    const kept = DOCKER_DEFAULT_CAPS.filter((x) => !dropped.includes(x));
    if (kept.length > 0) add('SDA-CTR-CAP-DEFAULT', `keeps ${kept.join(',')}`);
  }

  // Namespaces (guidelines 12, 15).
  if (hc.NetworkMode === 'host') add('SDA-CTR-HOST-NET', '--network host');
  if (hc.PidMode === 'host') add('SDA-CTR-HOST-PID', '--pid host');
  if (hc.IpcMode === 'host') add('SDA-CTR-HOST-IPC', '--ipc host');
  if (hc.UTSMode === 'host') add('SDA-CTR-HOST-UTS', '--uts host');
  if (hc.UsernsMode === 'host' && ctx.usernsRemap) add('SDA-CTR-HOST-USERNS', '--userns host');
  if (hc.NetworkMode === 'default' || hc.NetworkMode === 'bridge') add('SDA-CTR-DEFAULT-BRIDGE', `network ${hc.NetworkMode}`);

  // Root as configured, or as the host sees the running processes (a name the image maps to uid 0).
  const hostRoot = (c.processes ?? []).find((p) => p.uid === 0);
  if (isRootUser(c.Config.User) || hostRoot) {
    const seen = hostRoot ? `; uid 0 on the host: ${hostRoot.command}` : ctx.usernsRemap ? ' (remapped by the daemon)' : '';
    out.push(finding('SDA-CTR-ROOT', subject, `user "${c.Config.User ?? ''}"${seen}`, !hostRoot && ctx.usernsRemap && (c.processes?.length ?? 0) > 0 ? 'low' : undefined));
  }

  // Limits (guideline 6).
  if (!hc.Memory) add('SDA-CTR-MEMORY', 'Memory 0');
  if (hc.PidsLimit === undefined || hc.PidsLimit === null || hc.PidsLimit <= 0) add('SDA-CTR-PIDS', `PidsLimit ${hc.PidsLimit ?? 'unset'}`);
  const shares = hc.CpuShares ?? 0;
  if ((shares === 0 || shares === 1024) && !hc.NanoCpus && !(hc.CpuQuota && hc.CpuQuota > 0) && !hc.CpusetCpus) add('SDA-CTR-CPU', 'no --cpus, --cpu-quota, --cpuset-cpus or --cpu-shares');
  if (!hc.Ulimits || hc.Ulimits.length === 0) add('SDA-CTR-ULIMIT', 'no --ulimit');
  if (hc.CgroupParent) add('SDA-CTR-CGROUP-PARENT', `--cgroup-parent ${hc.CgroupParent}`);

  // Confinement (guidelines 4, 7, 13).
  const opts = securityOpts(hc);
  if (!hc.Privileged && opts.some(([k, v]) => k === 'seccomp' && v === 'unconfined')) add('SDA-CTR-SECCOMP-UNCONFINED', '--security-opt seccomp=unconfined');
  if (ctx.apparmor && !hc.Privileged && (opts.some(([k, v]) => k === 'apparmor' && v === 'unconfined') || c.AppArmorProfile === 'unconfined')) {
    add('SDA-CTR-APPARMOR-UNCONFINED', 'AppArmor profile unconfined');
  }
  // docker itself adds label=disable for --pid host, --ipc host and --privileged: it counts only where SELinux labels containers.
  if (ctx.selinux && opts.some(([k, v]) => k === 'label' && v === 'disable')) add('SDA-CTR-SELINUX-DISABLED', '--security-opt label=disable');
  if (!nnpSet(opts, ctx.noNewPrivileges)) add('SDA-CTR-NNP', 'no --security-opt no-new-privileges');
  if (!hc.ReadonlyRootfs) add('SDA-CTR-ROOTFS-RW', 'no --read-only');

  // Ports (guideline 15).
  const all: string[] = [];
  const low: string[] = [];
  for (const [port, bindings] of Object.entries(hc.PortBindings ?? {})) {
    for (const b of bindings ?? []) {
      const ip = b.HostIp ?? '';
      if (ip === '' || ip === '0.0.0.0' || ip === '::' || ip === '[::]') all.push(`${ip || '*'}:${b.HostPort || '(any)'}->${port}`);
      const hp = Number(b.HostPort);
      if (Number.isInteger(hp) && hp > 0 && hp < 1024) low.push(`${b.HostPort}->${port}`);
    }
  }
  if (hc.PublishAllPorts) all.push('--publish-all');
  if (all.length > 0) add('SDA-CTR-PORT-ALL', all.join(', '));
  if (low.length > 0) add('SDA-CTR-PORT-PRIVILEGED', low.join(', '));

  const rp = hc.RestartPolicy;
  if (rp && (rp.Name === 'always' || rp.Name === 'unless-stopped' || (rp.Name === 'on-failure' && !(rp.MaximumRetryCount > 0)))) {
    add('SDA-CTR-RESTART', `--restart ${rp.Name}${rp.Name === 'on-failure' ? ' (no maximum)' : ''}`);
  }

  const devices = [
    ...(hc.Devices ?? []).map((d) => `--device ${d.PathOnHost}`),
    ...(hc.DeviceCgroupRules ?? []).map((r) => `--device-cgroup-rule ${r}`),
    ...(hc.DeviceRequests ?? []).map((r) => `--gpus/device request ${r.Driver ?? ''}`.trim()),
  ];
  if (devices.length > 0) add('SDA-CTR-DEVICES', devices.join(', '));

  const test = c.Config.Healthcheck?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') add('SDA-CTR-HEALTH', test[0] === 'NONE' ? 'health check disabled (--no-healthcheck)' : 'no HEALTHCHECK and no --health-cmd');

  // The program (first word, its base name; sshd retitles itself "sshd: ..."), not a word in an argument.
  const sshd = (c.processes ?? []).find((p) => (p.command.trim().split(/\s+/)[0] ?? '').split('/').pop()!.replace(/:$/, '') === 'sshd');
  if (sshd) add('SDA-CTR-SSHD', `process: ${sshd.command}`);
  return out;
}
