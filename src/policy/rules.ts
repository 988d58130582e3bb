/**
 * The rule table: the single source of rule ids, the guideline each serves, the messages and the
 * profile lines that allow a refused request. docs/policy.md lists the same table (a test checks).
 */

export interface Rule {
  id: string;
  guideline: number;
  title: string;
  /** The docker flag that usually sets the field (a violation may name a more precise one). */
  flag: string;
  /** Why the request is dangerous (refusals) or why the default is applied (changes). */
  why: string;
  /** Profile YAML lines that allow `subject`; empty when no profile can (changes only). */
  allow: (subject: string) => string[];
}

const REASON = 'reason: "<why this container needs it>"';
const single = (key: string) => (): string[] => ['allow:', `  ${key}:`, `    ${REASON}`];
const listOf = (key: string, field: string) => (subject: string): string[] => [
  'allow:',
  `  ${key}:`,
  `    - ${field}: ${yamlScalar(subject)}`,
  `      ${REASON}`,
];
const none = (): string[] => [];

export function yamlScalar(s: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(s) && !/^[-:]/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s)
    ? s
    : JSON.stringify(s);
}

export const RULES = {
  'SD-PRIV-001': {
    id: 'SD-PRIV-001', guideline: 5, title: 'privileged container', flag: '--privileged',
    why: 'a privileged container gets every capability and every host device, no seccomp, no AppArmor: root in it is root on the host',
    allow: single('privileged'),
  },
  'SD-CAP-001': {
    id: 'SD-CAP-001', guideline: 14, title: 'capabilities: drop ALL, add only whitelisted ones', flag: '--cap-add',
    why: 'each capability is a piece of root (CAP_SYS_ADMIN alone allows mounts and most container escapes); only whitelisted ones may be added back',
    allow: listOf('capabilities', 'name'),
  },
  'SD-NS-001': {
    id: 'SD-NS-001', guideline: 15, title: 'host PID namespace', flag: '--pid',
    why: 'the host PID namespace shows every host process and lets the container signal and ptrace them',
    allow: listOf('hostNamespaces', 'name'),
  },
  'SD-NS-002': {
    id: 'SD-NS-002', guideline: 15, title: 'host IPC namespace', flag: '--ipc',
    why: 'the host IPC namespace shares shared memory and semaphores with every host process',
    allow: listOf('hostNamespaces', 'name'),
  },
  'SD-NS-003': {
    id: 'SD-NS-003', guideline: 15, title: 'host UTS namespace', flag: '--uts',
    why: 'the host UTS namespace lets the container change the host name of the machine',
    allow: listOf('hostNamespaces', 'name'),
  },
  'SD-NS-004': {
    id: 'SD-NS-004', guideline: 15, title: 'host network namespace', flag: '--network',
    why: 'the host network namespace exposes every host interface and local service (the engine API, metadata services) and bypasses icc=false',
    allow: listOf('hostNamespaces', 'name'),
  },
  'SD-NS-005': {
    id: 'SD-NS-005', guideline: 12, title: 'host user namespace', flag: '--userns',
    why: '--userns=host turns the engine\'s user remapping off: root in the container is root on the host',
    allow: listOf('hostNamespaces', 'name'),
  },
  'SD-NS-006': {
    id: 'SD-NS-006', guideline: 6, title: 'private cgroup namespace', flag: '--cgroupns',
    why: 'the host cgroup namespace shows the host\'s cgroup tree (on cgroup v1 it is the engine\'s default, so sdocker asks for private)',
    allow: listOf('hostNamespaces', 'name'),
  },
  'SD-NS-007': {
    id: 'SD-NS-007', guideline: 15, title: 'joining a container sdocker did not harden for this user', flag: '--pid',
    why: 'a process sharing another container\'s namespaces reads its environment and root filesystem through /proc/1/environ and /proc/1/root, and reaches its sockets; only containers sdocker created for this user under a level at least as strict may be joined',
    allow: listOf('joinContainers', 'name'),
  },
  'SD-LINK-001': {
    id: 'SD-LINK-001', guideline: 15, title: 'a legacy link to a container sdocker did not harden for this user', flag: '--link',
    why: 'a --link copies the linked container\'s whole environment (its secrets) into this one as ALIAS_ENV_* variables and opens a path to it; only containers sdocker created for this user under a level at least as strict may be linked',
    allow: listOf('joinContainers', 'name'),
  },
  'SD-LABEL-001': {
    id: 'SD-LABEL-001', guideline: 15, title: 'sdocker\'s own labels', flag: '--label',
    why: 'io.sdocker.* labels tell sdocker which containers it hardened for which user; a request may not set them',
    allow: none,
  },
  'SD-SECCOMP-001': {
    id: 'SD-SECCOMP-001', guideline: 13, title: 'seccomp confinement', flag: '--security-opt',
    why: 'seccomp=unconfined opens every system call (keyctl, bpf, unshare, mount ...) to kernel exploits',
    allow: single('seccompUnconfined'),
  },
  'SD-SECCOMP-002': {
    id: 'SD-SECCOMP-002', guideline: 13, title: 'seccomp profile must be a whitelist', flag: '--security-opt',
    why: 'a seccomp profile whose default action allows (or logs) every call not listed is a blacklist: any system call left out stays open',
    allow: single('seccompUnconfined'),
  },
  'SD-SECCOMP-003': {
    id: 'SD-SECCOMP-003', guideline: 13, title: 'seccomp profile must be valid', flag: '--security-opt',
    why: 'a seccomp profile with errors (unknown syscall names or actions, rules that contradict each other, invalid JSON) does not filter what its author meant',
    allow: single('seccompUnconfined'),
  },
  'SD-SECCOMP-004': {
    id: 'SD-SECCOMP-004', guideline: 13, title: 'seccomp profile must deny what the shipped default denies for safety', flag: '--security-opt',
    why: 'the profile lets through a system call sdocker\'s default denies for safety: namespace creation (unshare, clone without its flag filter, clone3) gives a user namespace with every capability, and mount, keyctl, bpf, ptrace, io_uring, userfaultfd ... are the kernel surfaces container escapes use',
    allow: listOf('syscalls', 'name'),
  },
  'SD-MAC-001': {
    id: 'SD-MAC-001', guideline: 4, title: 'AppArmor confinement', flag: '--security-opt',
    why: 'apparmor=unconfined removes the mandatory access control profile that blocks writes to /proc and /sys and mounts',
    allow: single('apparmorUnconfined'),
  },
  'SD-MAC-002': {
    id: 'SD-MAC-002', guideline: 4, title: 'SELinux labelling', flag: '--security-opt',
    why: 'label=disable (or a super-privileged type such as spc_t) removes SELinux confinement of the container',
    allow: single('labelDisable'),
  },
  'SD-PATHS-001': {
    id: 'SD-PATHS-001', guideline: 10, title: 'masked and read-only kernel paths', flag: '--security-opt',
    why: 'systempaths=unconfined unmasks /proc/kcore, /proc/sysrq-trigger, /sys/firmware ... and makes /proc/sys writable',
    allow: single('systemPathsUnconfined'),
  },
  'SD-NNP-001': {
    id: 'SD-NNP-001', guideline: 7, title: 'no-new-privileges', flag: '--security-opt',
    why: 'without no-new-privileges a setuid or setcap binary in the image turns a bug into privilege',
    allow: single('newPrivileges'),
  },
  'SD-NNP-002': {
    id: 'SD-NNP-002', guideline: 7, title: 'no-new-privileges for images with setuid-root files', flag: '--security-opt',
    why: 'the image carries setuid-root files (sdocker scan): without no-new-privileges any of them gives root back to the container\'s user; under restricted no profile lifts it for such an image (remove the bits with `sdocker image harden`, or use --policy baseline)',
    allow: none,
  },
  'SD-USER-001': {
    id: 'SD-USER-001', guideline: 9, title: 'non-root user', flag: '--user',
    why: 'untrusted code must not run as root; root in a container is root on the host unless the engine remaps users (userns-remap)',
    allow: () => ['allow:', '  root:', `    ${REASON}`, '    # and the engine must run with --userns-remap (or: withoutUsernsRemap: true)'],
  },
  'SD-USER-002': {
    id: 'SD-USER-002', guideline: 9, title: 'no root group', flag: '--group-add',
    why: 'group 0 owns many host-mounted and image files writable by root\'s group',
    allow: () => ['allow:', '  root:', `    ${REASON}`],
  },
  'SD-ROOTFS-001': {
    id: 'SD-ROOTFS-001', guideline: 7, title: 'read-only root filesystem', flag: '--read-only',
    why: 'a read-only root filesystem keeps an intruder from replacing binaries or planting setuid files; /tmp and image volumes stay writable',
    allow: single('writableRootfs'),
  },
  'SD-TMPFS-001': {
    id: 'SD-TMPFS-001', guideline: 7, title: 'tmpfs nosuid, nodev, size', flag: '--tmpfs',
    why: 'a tmpfs without nosuid/nodev can hold setuid binaries and device nodes; without a size it can fill the host\'s memory',
    allow: none,
  },
  'SD-MNT-001': {
    id: 'SD-MNT-001', guideline: 2, title: 'engine socket', flag: '--volume',
    why: 'the engine socket gives whoever reaches it root on the host (it can start a privileged container)',
    allow: listOf('hostPaths', 'path'),
  },
  'SD-MNT-002': {
    id: 'SD-MNT-002', guideline: 10, title: 'sensitive host path', flag: '--volume',
    why: 'system paths (/, /etc, /proc, /sys, /dev, /boot, /root, /var/lib/docker ...) expose host secrets or let the container change the host',
    allow: listOf('hostPaths', 'path'),
  },
  'SD-MNT-003': {
    id: 'SD-MNT-003', guideline: 10, title: 'binds read-only, nosuid, nodev', flag: '--volume',
    why: 'a plain bind is writable and honours setuid bits and device nodes; sdocker mounts it through a local volume with o=bind,nosuid,nodev,ro',
    allow: listOf('writablePaths', 'path'),
  },
  'SD-MNT-004': {
    id: 'SD-MNT-004', guideline: 10, title: 'volumes from another container', flag: '--volumes-from',
    why: '--volumes-from copies another container\'s mounts, including writable binds of host paths sdocker cannot check',
    allow: single('volumesFrom'),
  },
  'SD-MNT-008': {
    id: 'SD-MNT-008', guideline: 10, title: 'a restart policy with host binds', flag: '--restart',
    why: 'a bind is resolved again every time the container starts: a container the engine restarts by itself (a restart policy, the daemon\'s own restart) mounts whatever the path is then, a symlink swapped in included, with no recheck by sdocker',
    allow: single('restartWithBinds'),
  },
  'SD-MNT-005': {
    id: 'SD-MNT-005', guideline: 7, title: 'tmpfs with suid or dev', flag: '--tmpfs',
    why: 'a tmpfs mounted suid or dev can hold setuid binaries and device nodes',
    allow: none,
  },
  'SD-MNT-006': {
    id: 'SD-MNT-006', guideline: 10, title: 'volume drivers and driver options', flag: '--mount',
    why: 'the volume driver mounts with the engine\'s own privileges in the host\'s namespaces: a driver option can mount a disk, a network share or a filesystem nobody checked; a relative device resolves against the engine\'s working directory',
    allow: (subject: string) => subject.startsWith('driver ') ? listOf('volumeDrivers', 'name')(subject.slice(7)) : listOf('volumeOptions', 'type')(subject.replace(/^type /, '')),
  },
  'SD-MNT-007': {
    id: 'SD-MNT-007', guideline: 10, title: 'bind source is what was judged', flag: '--volume',
    why: 'a bind is resolved when the container starts: its source must be a directory or a regular file, and still the real path sdocker judged (a path swapped for a symlink would mount its target)',
    allow: none,
  },
  'SD-DEV-001': {
    id: 'SD-DEV-001', guideline: 8, title: 'device not on the level\'s list', flag: '--device',
    why: 'only nodes every container already has (/dev/null, zero, full, random, urandom, tty; baseline adds /dev/fuse) are harmless to name: raw disks, memory, the kernel log, consoles and their screen memory, serial lines, /dev/kvm, /dev/userfaultfd give direct access to the host or the kernel',
    allow: listOf('devices', 'path'),
  },
  'SD-DEV-002': {
    id: 'SD-DEV-002', guideline: 8, title: 'device cgroup rule', flag: '--device-cgroup-rule',
    why: 'a cgroup rule opens a device number to any node of it the container has, such as one baked into the image (c 7:* reads the host\'s console): none under restricted, only the level\'s own devices under baseline',
    allow: listOf('deviceCgroupRules', 'rule'),
  },
  'SD-DEV-003': {
    id: 'SD-DEV-003', guideline: 8, title: 'device requests (GPUs)', flag: '--gpus',
    why: 'device requests hand host devices and their driver libraries to the container',
    allow: single('deviceRequests'),
  },
  'SD-RES-001': {
    id: 'SD-RES-001', guideline: 6, title: 'memory limit', flag: '--memory',
    why: 'a container without a memory limit can drive the host out of memory',
    allow: () => listOf('unlimited', 'resource')('memory'),
  },
  'SD-RES-002': {
    id: 'SD-RES-002', guideline: 6, title: 'pids limit', flag: '--pids-limit',
    why: 'a container without a pids limit can fork-bomb the host',
    allow: () => listOf('unlimited', 'resource')('pids'),
  },
  'SD-RES-003': {
    id: 'SD-RES-003', guideline: 6, title: 'OOM killer', flag: '--oom-kill-disable',
    why: 'with the OOM killer disabled a container at its limit hangs instead of dying, and without a limit the host kills other processes',
    allow: () => listOf('unlimited', 'resource')('oom-kill-disable'),
  },
  'SD-RES-004': {
    id: 'SD-RES-004', guideline: 6, title: 'cgroup parent', flag: '--cgroup-parent',
    why: 'a custom cgroup parent places the container outside the engine\'s cgroup and its limits',
    allow: single('cgroupParent'),
  },
  'SD-RES-005': {
    id: 'SD-RES-005', guideline: 6, title: 'CPU limit', flag: '--cpus',
    why: 'a container without a CPU limit can starve the host',
    allow: none,
  },
  'SD-RES-006': {
    id: 'SD-RES-006', guideline: 6, title: 'CPU quota disabled', flag: '--cpu-quota',
    why: 'a CPU quota of 0 or below (--cpu-quota -1, or a --cpus so small the engine rounds it to 0) is no CPU limit, and one under 1ms is refused by the kernel',
    allow: () => listOf('unlimited', 'resource')('cpu'),
  },
  'SD-RES-007': {
    id: 'SD-RES-007', guideline: 6, title: 'limit above the maximum', flag: '--memory',
    why: 'a limit above the profile\'s maximum (limits:) is as good as none on this machine',
    allow: (subject: string) => ['limits:', `  ${subject}`],
  },
  'SD-RES-008': {
    id: 'SD-RES-008', guideline: 6, title: 'ulimits', flag: '--ulimit',
    why: 'without a ulimit of its own a container gets the engine\'s (nofile 1048576): CIS 5.19 asks for per-container limits',
    allow: none,
  },
  'SD-RESTART-001': {
    id: 'SD-RESTART-001', guideline: 6, title: 'bounded restart policy', flag: '--restart',
    why: 'a container that keeps failing is restarted without bound (always, unless-stopped, on-failure without a count), a denial of service on the host: the policy becomes on-failure:5 (CIS 5.15)',
    allow: single('unboundedRestart'),
  },
  'SD-HEALTH-001': {
    id: 'SD-HEALTH-001', guideline: 17, title: 'health check', flag: '--health-cmd',
    why: 'without a health check the engine reports a hung service as running (CIS 5.27); a profile\'s defaults.healthcheck sets one when neither the image nor the command line does',
    allow: none,
  },
  'SD-SYSCTL-001': {
    id: 'SD-SYSCTL-001', guideline: 11, title: 'unsafe sysctl', flag: '--sysctl',
    why: 'only namespaced sysctls known to be safe may be set; others change the kernel for every container or weaken isolation',
    allow: listOf('sysctls', 'name'),
  },
  'SD-PORT-001': {
    id: 'SD-PORT-001', guideline: 15, title: 'ports on 127.0.0.1', flag: '--publish',
    why: 'a port published on all addresses is reachable from the network (and docker\'s iptables rules bypass the host firewall)',
    allow: listOf('portAddresses', 'address'),
  },
  'SD-LOG-001': {
    id: 'SD-LOG-001', guideline: 3, title: 'log rotation', flag: '--log-opt',
    why: 'json-file and local logs grow without bound unless rotated',
    allow: none,
  },
  'SD-LOG-002': {
    id: 'SD-LOG-002', guideline: 3, title: 'logging disabled or unbounded', flag: '--log-driver',
    why: 'a logging driver outside the allowlist (none discards every line) or a rotation above the maximum leaves no record, or one without bound',
    allow: (subject: string) => ['limits:', `  ${subject}`],
  },
  'SD-RUNTIME-001': {
    id: 'SD-RUNTIME-001', guideline: 16, title: 'sandboxed runtime', flag: '--runtime',
    why: 'a sandboxed runtime (gVisor, Kata) stops a kernel exploit at its boundary',
    allow: none,
  },
  // Commands that change a container after creation, or build an image (src/policy/commands/).
  'SD-EXEC-001': {
    id: 'SD-EXEC-001', guideline: 5, title: 'privileged exec', flag: '--privileged',
    why: 'exec --privileged gives the new process every capability and lifts seccomp and AppArmor in a container sdocker hardened',
    allow: single('privileged'),
  },
  'SD-EXEC-002': {
    id: 'SD-EXEC-002', guideline: 9, title: 'exec as root or as a name', flag: '--user',
    why: 'exec -u 0 (00, +0, root, 1000:0 ...) runs the new process as uid or gid 0 in a container sdocker made non-root; a name is resolved from the container\'s own /etc/passwd, which its image controls',
    allow: () => ['allow:', '  root:', `    ${REASON}`, '    # and the engine must run with --userns-remap (or: withoutUsernsRemap: true)'],
  },
  'SD-UPDATE-001': {
    id: 'SD-UPDATE-001', guideline: 6, title: 'update must not lift a limit', flag: '--pids-limit',
    why: 'docker update can remove a container\'s memory, pids or CPU limit, or raise it above the profile\'s, after the policy set it',
    allow: (subject: string) => listOf('unlimited', 'resource')(subject),
  },
  'SD-BUILD-001': {
    id: 'SD-BUILD-001', guideline: 15, title: 'build on the host network', flag: '--network',
    why: 'RUN steps on the host network (or in another container\'s) reach every host interface and local service, the engine API and metadata services included',
    allow: listOf('hostNamespaces', 'name'),
  },
  'SD-BUILD-002': {
    id: 'SD-BUILD-002', guideline: 5, title: 'build with privileges', flag: '--security-opt',
    why: 'security options and entitlements (security.insecure, devices) run the RUN steps unconfined or privileged: root in them is root on the host',
    allow: single('privileged'),
  },
  'SD-IMG-001': {
    id: 'SD-IMG-001', guideline: 1, title: 'image from a repository outside the allowlist', flag: 'IMAGE',
    why: 'an image runs code chosen by whoever controls its repository: only repositories the profile names (images.allow, patterns on the normalised name) may run; refused before any pull',
    allow: (subject: string): string[] => ['images:', '  allow:', `    - ${yamlScalar(subject)}`],
  },
  'SD-IMG-002': {
    id: 'SD-IMG-002', guideline: 1, title: 'image reference without a digest', flag: 'IMAGE',
    why: 'a tag is a pointer the registry can move to other content at any time; images.requireDigest asks for NAME@sha256:<digest> (or an image id), which names the content itself',
    allow: (): string[] => ['images:', '  requireDigest: false'],
  },
  'SD-IMG-003': {
    id: 'SD-IMG-003', guideline: 1, title: 'image differs from the one pinned in sdocker.lock', flag: 'IMAGE',
    why: 'the tag now names other content than the digest sdocker.lock pinned when it was first used (a moved tag, a rebuilt or replaced image); run with --update-lock to accept the new image',
    allow: none,
  },
  'SD-IMG-004': {
    id: 'SD-IMG-004', guideline: 1, title: 'Docker Content Trust cannot be verified', flag: 'DOCKER_CONTENT_TRUST',
    why: 'with DOCKER_CONTENT_TRUST set (or --disable-content-trust=false) docker runs a tag only after verifying its signature with a notary server; sdocker does not verify notary signatures, so it refuses as docker does when it cannot verify (run by digest, or pass --disable-content-trust)',
    allow: none,
  },
  // The door (sdocker serve, src/door/): Engine API requests judged by the same policy.
  'SD-DOOR-001': {
    id: 'SD-DOOR-001', guideline: 2, title: 'request the door cannot judge', flag: 'the API request',
    why: 'an endpoint, a body field or a query option the door does not know may weaken a container or the host; the door forwards only what it can judge',
    allow: none,
  },
  'SD-DOOR-002': {
    id: 'SD-DOOR-002', guideline: 5, title: 'engine plugins', flag: 'POST /plugins',
    why: 'a plugin runs as root on the host with the privileges it declares: every device (allow-all-devices), a privilege or network type the door does not know, a plugin run as a swarm service, are allowed only with privileged',
    allow: single('privileged'),
  },
  'SD-DOOR-003': {
    id: 'SD-DOOR-003', guideline: 5, title: 'swarm membership', flag: 'POST /swarm',
    why: 'swarm init, join, update and unlock, and node updates, change the daemon itself (its cluster, its certificates, which managers may schedule containers on it): nothing in them is a container the policy could harden',
    allow: single('privileged'),
  },
  'SD-DOOR-004': {
    id: 'SD-DOOR-004', guideline: 15, title: 'a container the policy did not make', flag: 'POST /containers/{id}/exec',
    why: 'exec, attach, docker cp, export, start, restart and update act inside an existing container: one the policy did not make for this user (a privileged agent, another user\'s, one made before the door) would give what the policy refuses; a start with a HostConfig body (API < 1.24) replaces the judged one',
    allow: listOf('joinContainers', 'name'),
  },
  'SD-DOOR-005': {
    id: 'SD-DOOR-005', guideline: 15, title: 'network drivers', flag: 'POST /networks/create',
    why: 'macvlan, ipvlan and plugin network drivers put containers on the host\'s own networks, outside the engine\'s bridge and its rules',
    allow: single('privileged'),
  },
  'SD-DOOR-006': {
    id: 'SD-DOOR-006', guideline: 15, title: 'host paths, volumes and networks of other users', flag: 'HostConfig.Binds',
    why: 'the engine mounts a bind source with root\'s rights: through the door a client would read files behind directories closed to it, or act on them as another host uid or group; a host path must exist and be readable by the client\'s own uid, and the container using it run as the client\'s uid or 65534; a named volume or a network (and a container connected to one) must have been made through the door for the same client',
    allow: single('privileged'),
  },
  'SD-DOOR-008': {
    id: 'SD-DOOR-008', guideline: 15, title: 'a URL the engine would fetch for a client', flag: 'POST /build?remote=, POST /images/create?fromSrc=',
    why: 'the engine fetches a remote build context, a git repository or an import URL itself, as root from the host\'s network namespace with root\'s git and ssh configuration: a client of the door would reach services on the host\'s loopback or a metadata address and read their answers back',
    allow: single('privileged'),
  },
  'SD-PLUGIN-001': {
    id: 'SD-PLUGIN-001', guideline: 5, title: 'plugin privileges', flag: 'plugin privilege',
    why: 'a plugin runs as root on the host, with docker\'s default capabilities, no seccomp and no user namespace; each privilege it declares (host network or namespaces, a host path mounted read-write, a device, a capability) is granted to that root process',
    allow: none,
  },
  'SD-SVC-001': {
    id: 'SD-SVC-001', guideline: 5, title: 'a service setting the API cannot express', flag: 'POST /services',
    why: 'the engine makes a service\'s containers itself from the service spec: a hardening the policy requires that the spec of this API version cannot carry would be silently lost',
    allow: none,
  },
  'SD-DOOR-007': {
    id: 'SD-DOOR-007', guideline: 15, title: 'a project profile the door may not use', flag: 'label io.sdocker.project, com.docker.compose.project.working_dir',
    why: 'the door reads a project\'s sdocker.yaml for the client only where the socket\'s profile allows it (door.projectProfiles.roots), through real directories owned by the client or root and writable by no one else, from a regular file the client can read: anything else could make the door, running as root, apply or reveal a file the client could not have written or read',
    allow: none,
  },
} satisfies Record<string, Rule>;

export type RuleId = keyof typeof RULES;

export function rule(id: RuleId): Rule {
  return RULES[id];
}

/** The 17 guidelines by number (titles as in /work/shared/guidelines.md). */
export const GUIDELINES: Record<number, string> = {
  1: 'Image trust', 2: 'Daemon access', 3: 'Log and audit', 4: 'Mandatory access control', 5: 'No privileged containers',
  6: 'Resource limits', 7: 'setuid/setgid binaries', 8: 'Devices', 9: 'Services and users', 10: 'Mount points',
  11: 'Kernel', 12: 'User namespaces', 13: 'seccomp', 14: 'Capabilities', 15: 'Multi-tenant isolation',
  16: 'Full virtualization', 17: 'Regular audits',
};
