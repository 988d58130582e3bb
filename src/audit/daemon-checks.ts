/**
 * The daemon's and the host's findings, from GET /info and /version, the default bridge, and,
 * when the daemon is local, its command line and daemon.json. Pure.
 */
import { finding } from './catalog.js';
import { CVES } from './cves.js';
import { daemonSettings, type DaemonSettings, parseDockerdArgs, tcpHosts, unixSockets } from './dockerd-args.js';
import type { DaemonContext, DaemonFacts, Finding } from './types.js';
import { type CveEntry, inAffectedRange, isDistributionBuild } from './versions.js';

const DAEMON = 'daemon';
const HOST = 'host';

/** The merged settings of a local daemon; undefined when its command line was not read. */
export function settingsOf(facts: DaemonFacts): DaemonSettings | undefined {
  if (!facts.local) return undefined;
  return daemonSettings(parseDockerdArgs(facts.local.cmdline), facts.local.config);
}

function securityOption(facts: DaemonFacts, name: string): string | undefined {
  return (facts.info.SecurityOptions ?? []).find((o) => o.split(',').includes(`name=${name}`));
}

/** What the container checks need to know of this daemon. */
export function daemonContext(facts: DaemonFacts): DaemonContext {
  const s = settingsOf(facts);
  return {
    noNewPrivileges: s?.noNewPrivileges ?? false,
    usernsRemap: securityOption(facts, 'userns') !== undefined,
    apparmor: securityOption(facts, 'apparmor') !== undefined,
    selinux: securityOption(facts, 'selinux') !== undefined,
    socketPaths: s ? unixSockets(s.hosts) : [],
    ...(facts.info.DockerRootDir ? { dockerRootDir: facts.info.DockerRootDir } : {}),
  };
}

export function checkDaemon(facts: DaemonFacts): Finding[] {
  const out: Finding[] = [];
  const add = (id: string, message: string, subject = DAEMON) => out.push(finding(id, subject, message));
  const info = facts.info;
  const s = settingsOf(facts);

  // Listening on TCP (guideline 2).
  const tcp = s ? tcpHosts(s.hosts) : [];
  if (tcp.length > 0 && s && !s.tls) add('SDA-DMN-TCP-NOTLS', `listens on ${tcp.join(', ')} without TLS`);
  else if (tcp.length > 0 && s && !s.tlsVerify) add('SDA-DMN-TCP-NOVERIFY', `listens on ${tcp.join(', ')} with --tls but without --tlsverify`);
  else if (!s && facts.endpointPlainTcp) add('SDA-DMN-TCP-NOTLS', `answered on ${facts.endpoint} without TLS`);

  const rootless = securityOption(facts, 'rootless') !== undefined;
  if (!securityOption(facts, 'userns') && !rootless) add('SDA-DMN-USERNS', 'no userns-remap: uid 0 in a container is uid 0 on the host');
  if (!rootless) add('SDA-DMN-ROOTFUL', 'the daemon runs as root (not rootless)');
  if (facts.bridgeIcc === true) add('SDA-DMN-ICC', 'the default bridge has com.docker.network.bridge.enable_icc=true');
  if (s && !s.iptables) add('SDA-DMN-IPTABLES', 'iptables=false: icc=false and port bindings to one address are not enforced');
  if (s && !s.noNewPrivileges) add('SDA-DMN-NNP', 'no-new-privileges is not set in daemon.json or on the command line');
  if (info.LiveRestoreEnabled === false) add('SDA-DMN-LIVE-RESTORE', 'LiveRestoreEnabled is false');
  if (s && s.userlandProxy) add('SDA-DMN-USERLAND-PROXY', 'userland-proxy is on (the default)');

  // Logs (guideline 3).
  const driver = info.LoggingDriver ?? s?.logDriver;
  if (driver === 'none') add('SDA-DMN-LOG-NONE', 'log-driver is none');
  if (driver === 'json-file' && s && !s.logOpts['max-size']) add('SDA-DMN-LOG-ROTATION', 'json-file without max-size');
  if (driver === 'json-file' || driver === 'local') add('SDA-DMN-LOG-LOCAL', `log-driver is ${driver}`);
  if (info.Debug === true || (s?.logLevel !== undefined && ['debug', 'trace'].includes(s.logLevel.toLowerCase()))) {
    add('SDA-DMN-LOG-LEVEL', `debug logging is on${s?.logLevel ? ` (log-level ${s.logLevel})` : ''}`);
  }

  // Confinement (guidelines 4, 13).
  if (!securityOption(facts, 'apparmor') && !securityOption(facts, 'selinux')) add('SDA-DMN-LSM', `SecurityOptions: ${(info.SecurityOptions ?? []).join(' ') || '(none)'}`);
  const seccomp = securityOption(facts, 'seccomp');
  if (!seccomp) add('SDA-DMN-SECCOMP', 'the engine reports no seccomp support');
  else if (seccomp.split(',').includes('profile=unconfined')) add('SDA-DMN-SECCOMP', 'the default seccomp profile is unconfined');

  if ((info.Plugins?.Authorization ?? []).length === 0) add('SDA-DMN-AUTHZ', 'no authorization plugin is configured');

  // Registries (guideline 1).
  const insecure = insecureRegistries(facts);
  if (insecure.length > 0) add('SDA-DMN-INSECURE-REGISTRY', `insecure registries: ${insecure.join(', ')}`);
  for (const m of info.RegistryConfig?.Mirrors ?? []) {
    if (/^http:\/\//i.test(m)) add('SDA-DMN-MIRROR-HTTP', `registry mirror ${m}`);
    else add('SDA-DMN-MIRROR', `registry mirror ${m}`);
  }

  if (!hasSandbox(facts)) add('SDA-DMN-SANDBOX', `runtimes: ${Object.keys(info.Runtimes ?? {}).join(', ') || '(none)'}`);
  if (info.ExperimentalBuild === true) add('SDA-DMN-EXPERIMENTAL', 'experimental features are enabled');
  if (info.Driver === 'aufs') add('SDA-DMN-AUFS', 'storage driver aufs');
  if (s && !s.defaultUlimits) add('SDA-DMN-ULIMIT', 'no default-ulimits');
  if (info.Swarm?.LocalNodeState === 'active') add('SDA-DMN-SWARM', 'swarm mode is active');
  if (!s) add('SDA-DMN-UNCHECKED', facts.localMissing ?? 'the daemon is not local');

  out.push(...checkVersions(facts));
  if (facts.socketGroup && facts.socketGroup.members.length > 0) {
    add('SDA-HOST-DOCKER-GROUP', `group ${facts.socketGroup.name}: ${facts.socketGroup.members.join(', ')}`, HOST);
  }
  return out;
}

/** Registries the daemon trusts without verified TLS, other than loopback (which docker always trusts). */
export function insecureRegistries(facts: DaemonFacts): string[] {
  const rc = facts.info.RegistryConfig;
  const loopback = new Set(['127.0.0.0/8', '::1/128']);
  const out = (rc?.InsecureRegistryCIDRs ?? []).filter((c) => !loopback.has(c));
  for (const [name, ic] of Object.entries(rc?.IndexConfigs ?? {})) if (ic.Secure === false) out.push(ic.Name ?? name);
  return out;
}

const SANDBOXES = /runsc|gvisor|kata/i;

function hasSandbox(facts: DaemonFacts): boolean {
  return Object.entries(facts.info.Runtimes ?? {}).some(([name, r]) => SANDBOXES.test(name) || SANDBOXES.test(r.path ?? ''));
}

interface ComponentVersion {
  version: string;
  /** The distribution's package version when docker reports it (GitCommit of Debian's builds). */
  build?: string;
}

export function componentVersions(facts: DaemonFacts): Partial<Record<CveEntry['component'], ComponentVersion>> {
  const out: Partial<Record<CveEntry['component'], ComponentVersion>> = {};
  for (const c of facts.version.Components ?? []) {
    const key = c.Name === 'Engine' ? 'engine' : c.Name === 'containerd' ? 'containerd' : c.Name === 'runc' ? 'runc' : undefined;
    if (!key) continue;
    const build = c.Details?.GitCommit;
    out[key] = { version: c.Version, ...(build ? { build } : {}) };
  }
  const engine = facts.info.ServerVersion ?? facts.version.Version;
  if (!out.engine && engine) out.engine = { version: engine };
  if (facts.info.KernelVersion) out.kernel = { version: facts.info.KernelVersion };
  return out;
}

export function checkVersions(facts: DaemonFacts, table: readonly CveEntry[] = CVES): Finding[] {
  const versions = componentVersions(facts);
  const out: Finding[] = [];
  for (const e of table) {
    const v = versions[e.component];
    if (!v || !inAffectedRange(v.version, e)) continue;
    if (e.vendorFixed?.some((f) => f === v.build || f === v.version)) continue;
    const distro = isDistributionBuild(v.version) || (v.build !== undefined && isDistributionBuild(v.build));
    const msg = `${e.id} (${e.component} ${v.version}${v.build && v.build !== v.version ? `, build ${v.build}` : ''}): ${e.summary}` +
      `${distro ? '; a distribution build: the upstream version was compared, the vendor may have backported the fix' : ''}` +
      `${e.note ? `; ${e.note}` : ''} [${e.source}]`;
    out.push(finding(e.component === 'kernel' ? 'SDA-HOST-KERNEL-CVE' : 'SDA-DMN-ENGINE-CVE', e.component === 'kernel' ? HOST : DAEMON, msg, e.severity));
  }
  return out;
}
