/**
 * What `sdocker audit` judges and what it reports. The collector (collect.ts, the only I/O) fills
 * these facts; every check is a pure function of them.
 */
import type { Severity } from '../report/severity.js';
import type { ContainerConfig, HostConfig } from '../api/types.js';

export type Scope = 'daemon' | 'host' | 'container';

/** One kind of finding: a stable id, its severity and where it comes from. */
export interface FindingDef {
  id: string;
  scope: Scope;
  severity: Severity;
  /** The guideline (of the 17) it serves. */
  guideline: number;
  /** The CIS Docker Benchmark 1.6.0 recommendation, when there is one. */
  cis?: string;
  title: string;
  why: string;
  /** The fix: sdocker/docker flags for a container, daemon.json lines for the daemon. */
  fix: string[];
}

export interface Finding {
  id: string;
  severity: Severity;
  /** `daemon`, `host`, or the container's name. */
  subject: string;
  /** One line: what was found, with the value seen. */
  message: string;
  guideline: number;
  cis?: string;
  fix: string[];
}

/** The parts of GET /info the daemon checks read. */
export interface AuditInfo {
  ServerVersion?: string;
  KernelVersion?: string;
  SecurityOptions?: string[] | null;
  LoggingDriver?: string;
  LiveRestoreEnabled?: boolean;
  Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }> | null;
  DefaultRuntime?: string;
  Plugins?: { Authorization?: string[] | null };
  RegistryConfig?: {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name?: string; Secure?: boolean; Mirrors?: string[] | null }> | null;
    Mirrors?: string[] | null;
  } | null;
  Debug?: boolean;
  ExperimentalBuild?: boolean;
  Driver?: string;
  DockerRootDir?: string;
  Swarm?: { LocalNodeState?: string };
}

/** GET /version: the engine and its components (containerd, runc, docker-init). */
export interface AuditVersion {
  Version?: string;
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }> | null;
}

/** What only a local daemon shows: its command line and its configuration file. */
export interface LocalDaemonFacts {
  pid: number;
  /** argv of dockerd, argv[0] included. */
  cmdline: string[];
  configPath: string;
  /** daemon.json as parsed; undefined when the file does not exist. */
  config?: Record<string, unknown>;
  /** Why daemon.json could not be read or parsed (the daemon would not start with a bad one). */
  configError?: string;
}

export interface DaemonFacts {
  /** The endpoint sdocker talked to (unix://..., tcp://...). */
  endpoint: string;
  /** The endpoint is tcp:// without TLS (sdocker reached it with --allow-insecure-tcp). */
  endpointPlainTcp?: boolean;
  info: AuditInfo;
  version: AuditVersion;
  /** The default bridge network's enable_icc option; undefined when there is no `bridge` network. */
  bridgeIcc?: boolean;
  /** undefined: the daemon is not on this machine, or its process was not found. */
  local?: LocalDaemonFacts;
  /** Why `local` is missing. */
  localMissing?: string;
  /** Members of the daemon's socket group (from /etc/group and primary groups in /etc/passwd); undefined when not local. */
  socketGroup?: { name: string; members: string[] };
}

/** The parts of GET /containers/{id}/json the container checks read. */
export interface ContainerFacts {
  Id: string;
  Name: string;
  State?: { Running?: boolean; Status?: string };
  Config: ContainerConfig & { Healthcheck?: { Test?: string[] } };
  HostConfig: HostConfig;
  Mounts?: Array<{
    Type?: string;
    Source?: string;
    Destination?: string;
    RW?: boolean;
    Propagation?: string;
    Name?: string;
    /** The host path (a bind's source, a bind volume's device) with symlinks resolved on this host (collect.ts, local daemons only): judged as well. */
    RealSource?: string;
    Driver?: string;
    /** A local volume whose options bind a host path (`o=bind,device=PATH`): that path (collect.ts). */
    BindDevice?: string;
  }>;
  AppArmorProfile?: string;
  /** Processes from GET /containers/{id}/top (running containers only): the command line and the uid on the host. */
  processes?: Array<{ command: string; uid?: number }>;
}

/** What the container checks need to know of the daemon. */
export interface DaemonContext {
  /** The daemon sets no-new-privileges by default (flag or daemon.json). */
  noNewPrivileges: boolean;
  /** The daemon remaps users (userns-remap). */
  usernsRemap: boolean;
  /** The host supports AppArmor (SecurityOptions name=apparmor). */
  apparmor: boolean;
  /** The daemon labels containers for SELinux (SecurityOptions name=selinux). */
  selinux: boolean;
  /** Engine socket paths known for this daemon (its -H unix:// hosts). */
  socketPaths: string[];
  dockerRootDir?: string;
}
