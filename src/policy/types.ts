/**
 * Types of the policy core. Pure: no I/O anywhere under src/policy except resolve-paths.ts
 * and load-profile.ts, which the shell (src/cli) calls to gather facts before applyPolicy.
 */
import type { IdentityFiles } from './user-names.js';
import type { CreateBody } from '../api/types.js';
import type { ImagesSpec, ImageTrust } from '../trust/profile-images.js';

export type LevelName = 'restricted' | 'baseline' | 'privileged';
export const LEVELS: readonly LevelName[] = ['restricted', 'baseline', 'privileged'];

/**
 * enforce: hardened defaults applied, any violation refuses the run (exit 125).
 * warn: hardened defaults applied; violating requests are let through as typed and reported.
 * audit: the body is left exactly as requested; would-be changes and violations are only recorded.
 */
export type PolicyMode = 'enforce' | 'warn' | 'audit';
export const MODES: readonly PolicyMode[] = ['enforce', 'warn', 'audit'];
/** Strength order: a floor's mode is the weakest one a run may use. */
export const MODE_STRENGTH: Record<PolicyMode, number> = { audit: 0, warn: 1, enforce: 2 };

// ---------------------------------------------------------------------------------------------
// Profile format (one file, as written in YAML; see profiles/sdocker.schema.json)

/** Every allowance carries a reason (it goes into the run record) and, once loaded, its file. */
export interface Reasoned {
  reason: string;
  /** The profile file (or `level:<name>`) the allowance came from; filled in by the loader. */
  source?: string;
}

export interface AllowSpec {
  privileged?: Reasoned;
  /** Run as root (uid 0 or gid 0). Needs userns-remap in the engine unless withoutUsernsRemap. */
  root?: Reasoned & { withoutUsernsRemap?: boolean };
  /** Capabilities that may be added (with --cap-add); names without CAP_, upper case. */
  capabilities?: (Reasoned & { name: string })[];
  /** Keep docker's default capability set instead of dropping ALL. */
  defaultCapabilities?: Reasoned;
  hostNamespaces?: (Reasoned & { name: HostNamespace })[];
  /** Sensitive host paths (socket, /etc, ...) that may be mounted; writable only if `writable`. */
  hostPaths?: (Reasoned & { path: string; writable?: boolean })[];
  /** Ordinary host paths whose binds stay writable (binds are read-only otherwise). */
  writablePaths?: (Reasoned & { path: string })[];
  /** Binds keep the mode they were typed with (rw unless :ro). */
  writableBinds?: Reasoned;
  writableRootfs?: Reasoned;
  devices?: (Reasoned & { path: string })[];
  deviceCgroupRules?: (Reasoned & { rule: string })[];
  /** --gpus and other device requests. */
  deviceRequests?: Reasoned;
  /** Names; a trailing `*` matches a prefix (`net.*`). */
  sysctls?: (Reasoned & { name: string })[];
  seccompUnconfined?: Reasoned;
  apparmorUnconfined?: Reasoned;
  labelDisable?: Reasoned;
  systemPathsUnconfined?: Reasoned;
  newPrivileges?: Reasoned;
  unlimited?: (Reasoned & { resource: UnlimitedResource })[];
  cgroupParent?: Reasoned;
  /** Host addresses ports may be published on besides 127.0.0.1 (`0.0.0.0`, `::`, or one address). */
  portAddresses?: (Reasoned & { address: string })[];
  volumesFrom?: Reasoned;
  /** A restart policy on a container with host binds (re-resolved at every start, without sdocker). */
  restartWithBinds?: Reasoned;
  /** `--restart always|unless-stopped`, or on-failure above 5 retries, kept as typed (SD-RESTART-001). */
  unboundedRestart?: Reasoned;
  /**
   * Calls a user seccomp profile may let through although sdocker's shipped default denies them
   * for safety (unshare, mount, keyctl, bpf, ptrace, clone without its namespace filter ...).
   */
  syscalls?: (Reasoned & { name: string })[];
  /**
   * Containers whose namespaces or volumes may be joined although sdocker did not create them
   * under a level at least as strict for this user (`*`: any); by name as the engine knows it.
   */
  joinContainers?: (Reasoned & { name: string })[];
  /** Volume drivers other than `local` (--volume-driver, --mount volume-driver=, volume create -d). */
  volumeDrivers?: (Reasoned & { name: string })[];
  /** `local` volumes with driver options, by filesystem `type` (nfs, tmpfs ...); binds and kernel filesystems are judged as host paths instead. */
  volumeOptions?: (Reasoned & { type: string })[];
}

export type HostNamespace = 'pid' | 'ipc' | 'uts' | 'network' | 'userns' | 'cgroupns';
export const HOST_NAMESPACES: readonly HostNamespace[] = ['pid', 'ipc', 'uts', 'network', 'userns', 'cgroupns'];
export type UnlimitedResource = 'memory' | 'pids' | 'oom-kill-disable' | 'cpu';
export const UNLIMITED_RESOURCES: readonly UnlimitedResource[] = ['memory', 'pids', 'oom-kill-disable', 'cpu'];

/**
 * Maxima (`limits:` in a profile): what a request may ask for at most. A project's replace the
 * level's; a floor's are a ceiling (the lower wins; log drivers: the intersection).
 */
export interface ProfileLimits {
  /** e.g. `16g`: --memory, --memory-reservation, (--memory-swap up to twice it). */
  memory?: string;
  /** CPUs as the engine applies them (--cpus, or --cpu-quota / --cpu-period). */
  cpus?: number;
  pids?: number;
  /** json-file and local `max-size` (e.g. `100m`). */
  logMaxSize?: string;
  logMaxFile?: number;
  /** Logging drivers a container may use (e.g. json-file, local, journald). */
  logDrivers?: string[];
}
export const LIMIT_KEYS = ['memory', 'cpus', 'pids', 'logMaxSize', 'logMaxFile', 'logDrivers'] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** The maxima in bytes and counts. */
export interface ResolvedLimits {
  memory: number;
  cpus: number;
  pids: number;
  logMaxSize: number;
  logMaxFile: number;
  logDrivers: string[];
  /** The floor whose maximum is the one in force, per key (for messages: a project cannot raise it). */
  floor?: Partial<Record<LimitKey, string>>;
}

export interface TmpfsDefault {
  path: string;
  /** e.g. `64m`. */
  size?: string;
  /** Extra mount options; `exec` replaces the default `noexec`. */
  options?: string;
}

export interface ProfileDefaults {
  /** User when neither the command line nor the image names a non-root one. */
  user?: string;
  tmpfs?: TmpfsDefault[];
  /** Capabilities added on every run; each must also be under allow.capabilities (with its reason). */
  capabilities?: string[];
  /** e.g. `1g`. */
  memory?: string;
  cpus?: number;
  pids?: number;
  log?: { maxSize?: string; maxFile?: number };
  /** `default` (profiles/seccomp/default.json, else the engine's), `engine`, or a file path. */
  seccomp?: string;
  /** A sandboxed runtime (runsc, kata-runtime) used when the engine has it. */
  runtime?: string;
  /** Address published ports are bound to when none is typed. */
  portAddress?: string;
  /** A health check for containers whose image and command line define none (SD-HEALTH-001). */
  healthcheck?: HealthcheckDefault;
  /** `--ulimit` values (`nofile=8192:8192`) set when the command line does not name them (SD-RES-008). */
  ulimits?: string[];
}

/** `defaults.healthcheck`: `cmd` as a string runs with /bin/sh -c (CMD-SHELL), as a list directly (CMD). */
export interface HealthcheckDefault {
  cmd: string | string[];
  /** Go durations (`30s`, `1m30s`). */
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
}

export interface ProfileFile {
  /** File path, or `level:<name>` for a built-in level. */
  path: string;
  sha256?: string;
  /** Only in the built-in level files. */
  level?: LevelName;
  extends?: string;
  mode?: PolicyMode;
  defaults?: ProfileDefaults;
  allow?: AllowSpec;
  limits?: ProfileLimits;
  audit?: { log?: string };
  /** Which images may run and how they are pinned (src/trust). */
  images?: ImagesSpec;
  /** sdocker serve's settings (the socket's profile only: profile-door.ts). */
  door?: import('./profile-door.js').DoorSpec;
}

export interface ProfileSource {
  path: string;
  sha256?: string;
  role: 'level' | 'project' | 'extends' | 'floor';
}

/** An allowance a project asked for that the machine floor does not grant. */
export interface FloorDenial {
  key: keyof AllowSpec;
  /** The entry's distinguishing value (capability name, path, ...), or the key itself. */
  value: string;
  source?: string;
  floor: string;
}

export interface ResolvedDefaults {
  user: string;
  tmpfs: TmpfsDefault[];
  /** defaults.capabilities (normalised: upper case, no CAP_). */
  capabilities?: string[];
  memory: number;
  nanoCpus: number;
  pids: number;
  log: { maxSize: string; maxFile: number };
  seccomp: string;
  runtime?: string;
  portAddress: string;
  healthcheck?: HealthcheckDefault;
  ulimits: string[];
}

/** The level, the project profile and its extends merged under the floor. */
export interface EffectiveProfile {
  level: LevelName;
  /** Level privileged: nothing is changed or checked. */
  unconfined: boolean;
  defaults: ResolvedDefaults;
  limits: ResolvedLimits;
  allow: AllowSpec;
  floorDenied: FloorDenial[];
  sources: ProfileSource[];
  /** The floor file, when one exists. */
  floor?: string;
  /** The weakest mode allowed (from the floor; `audit` when there is no floor). */
  minMode: PolicyMode;
  /** The mode the profile asks for (the flag wins, but never below minMode). */
  mode?: PolicyMode;
  /** JSON text of the seccomp profile to apply when the request names none (read by the shell). */
  seccompProfile?: string;
  /** Where it was read from (for messages and the record). */
  seccompProfilePath?: string;
  /** Verdicts on the seccomp profiles in play (this one, the request's), gathered by the shell. */
  seccompChecks?: SeccompChecks;
  /** Run record path from the profile. */
  auditLog?: string;
  /** The image trust policy (`images:`), when any profile or floor sets one. */
  images?: ImageTrust;
}

// ---------------------------------------------------------------------------------------------
// Facts gathered by the shell

/** One finding of checkProfile (src/seccomp/validate.ts), as the policy reports it. */
export interface SeccompFinding {
  severity: 'error' | 'warning' | 'info';
  /** checkProfile's code: not-whitelist, unknown-syscall, conflict, invalid-json ... */
  code: string;
  message: string;
  line?: number;
  column?: number;
}

/** A call the shipped default denies for safety that a user profile lets through. */
export interface SeccompDangerousCall {
  name: string;
  line?: number;
  column?: number;
  /** The rule applies only when the container holds every one of these capabilities. */
  caps?: string[];
  /** Why a rule with argument conditions still lets too much through. */
  why?: string;
}

/** What the shell found checking one seccomp profile. */
export interface SeccompVerdict {
  /** The file it came from, for messages (`--security-opt seccomp=FILE`, `defaults.seccomp`). */
  source: string;
  /** isWhitelist: the default action neither allows nor only logs. */
  whitelist: boolean;
  findings: SeccompFinding[];
  /**
   * The calls the shipped default denies for safety that this profile lets through
   * (src/seccomp/dangerous.ts); each needs `allow.syscalls` (SD-SECCOMP-004). Missing: none found.
   */
  dangerous?: SeccompDangerousCall[];
  /** sdocker's shipped default: checked by its tests, not on every run. */
  trusted?: boolean;
}

/** Keyed by the profile's JSON text. */
export type SeccompChecks = Record<string, SeccompVerdict>;

export interface ImageFacts {
  User?: string;
  Volumes?: Record<string, unknown> | null;
  ExposedPorts?: Record<string, unknown> | null;
  /** The image's HEALTHCHECK (Test `["NONE"]`: disabled). */
  Healthcheck?: { Test?: string[] } | null;
}

export interface EngineFacts {
  /** SecurityOptions contains `name=userns`. */
  usernsRemap: boolean;
  apparmor: boolean;
  selinux: boolean;
  /** Runtime names the engine has (keys of Runtimes). */
  runtimes: string[];
  cgroupVersion?: string;
  /** NCPU: a CPU limit above it is refused by the engine. */
  ncpu?: number;
  /** The daemon's default log driver (LoggingDriver). */
  loggingDriver?: string;
  /** DockerRootDir, refused as a host path. */
  dockerRootDir?: string;
  /** The engine socket(s) sdocker talks to, refused as host paths. */
  socketPaths?: string[];
}

/** A device node on the host, as stat(2) of its real path reads it. */
export interface HostDevice {
  type: 'c' | 'b';
  major: number;
  minor: number;
}

export interface HostPathFact {
  /** fs.realpath of the path, or of its longest existing ancestor joined with the rest. */
  realPath: string;
  exists: boolean;
  isDirectory?: boolean;
  /** Set when the real path is a character or block device. */
  device?: HostDevice;
  /** A regular file (not a device node, socket or fifo). */
  isFile?: boolean;
  /** A regular file with the setuid or setgid bit. */
  setid?: boolean;
}

/** Keyed by the host path exactly as it appears in the body. */
export type HostPaths = Record<string, HostPathFact>;

/** Named volumes used by the request, from GET /volumes/{name} (a bind can hide in one). */
export type NamedVolumes = Record<string, { Driver: string; Options?: Record<string, string> | null }>;

/**
 * A container another one joins (`--pid`, `--ipc`, `--network`, `--uts` `container:<ref>`), from
 * GET /containers/{ref}/json: its own modes, so a chain of joins can be followed to the host's.
 */
export interface JoinedContainer {
  /** Its name as the engine reports it (`/name`) or its id, for messages. */
  Name: string;
  Privileged: boolean;
  PidMode?: string;
  IpcMode?: string;
  NetworkMode?: string;
  UTSMode?: string;
  /** Its labels (io.sdocker.level, .mode, .owner when sdocker made it). */
  Labels?: Record<string, string> | null;
  /** Config.User as the engine holds it. */
  User?: string;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  /** Its image carries io.sdocker.* labels (which every container of the image inherits). */
  ImageSdockerLabels?: boolean;
}

/** Keyed by the reference exactly as it appears after `container:` in a body (the request's or a joined container's). */
export type JoinedContainers = Record<string, JoinedContainer>;

/** A flag's long name without dashes (`memory`) → argv tokens as typed (the parser's RunRequest.typed). */
export type Provenance = ReadonlyMap<string, readonly string[]>;

export interface PolicyInput {
  body: CreateBody;
  /** Undefined when the image is not known (not pulled yet). */
  image?: ImageFacts;
  engine: EngineFacts;
  profile: EffectiveProfile;
  mode: PolicyMode;
  hostPaths?: HostPaths;
  namedVolumes?: NamedVolumes;
  /** Per flag name (`--memory`), the argv tokens that set it; tells an explicit `-m 0` from none. */
  provenance?: Provenance;
  /**
   * Verdicts on seccomp profiles (checkProfile, run by the shell: libseccomp stays out of the core),
   * keyed by the profile's JSON text as it appears in `seccomp=<json>` or in the profile's
   * seccompProfile. A profile without a verdict is refused (SD-SECCOMP-003): nothing unchecked goes through.
   */
  seccompChecks?: SeccompChecks;
  /**
   * The containers named by `container:<ref>` namespace modes, and those they join in turn
   * (gathered by the shell, chains to a depth limit). A join of a container in a host namespace
   * is judged as that host namespace. A reference missing here is left to the engine.
   */
  containers?: JoinedContainers;
  /** uid of the user running sdocker: the owner label of the container, and whose containers may be joined. */
  owner?: number;
  /**
   * The image's own /etc/passwd and /etc/group (read by the shell from the image, never through a
   * container carrying the request's mounts). Undefined when not read: names cannot be resolved.
   */
  identityFiles?: IdentityFiles;
}

// ---------------------------------------------------------------------------------------------
// Outcome

export interface Change {
  /** Dotted body path, e.g. `HostConfig.CapDrop`. */
  field: string;
  from: unknown;
  to: unknown;
  rule: string;
  why: string;
}

export interface Violation {
  rule: string;
  guideline: number;
  field: string;
  value: unknown;
  /** The docker flag that sets this field, e.g. `--cap-add`. */
  flag: string;
  /** What was requested, in the flag's own words (e.g. `SYS_ADMIN`). */
  subject: string;
  why: string;
  /** Profile YAML that would allow it (empty when nothing may). */
  allowWith: string[];
  /** Set when a project profile allows it but the machine floor does not. */
  floorBlocked?: string;
  /** Findings behind the refusal, e.g. `app.json:2:18: defaultAction ... [not-whitelist]`. */
  details?: string[];
}

export interface Allowance {
  rule: string;
  /** What was allowed (capability, path, ...). */
  subject: string;
  reason: string;
  source: string;
}

export interface PolicyOutcome {
  /** What to send: hardened in enforce and warn mode, the request unchanged in audit mode. */
  body: CreateBody;
  /** Changes made (or, in audit mode, that would have been made). */
  changes: Change[];
  violations: Violation[];
  allowances: Allowance[];
  /**
   * Host directories a `-v` bind names that do not exist yet: docker's `-v` would create them, and
   * the bind volume cannot; the shell creates them before the container.
   */
  createDirs: string[];
  mode: PolicyMode;
  /** True when the run must be refused (enforce mode with violations). */
  refused: boolean;
  /** False in audit mode and at level privileged: the body is the request. */
  applied: boolean;
  /** What the policy neither changes nor refuses but reports (SD-HEALTH-001: no health check). */
  notes?: { rule: string; why: string }[];
}
