/**
 * Devices by allowlist (SD-DEV-001, SD-DEV-002). Pure: the shell resolves each `--device` path on
 * the host (resolve-paths.ts: real path, char or block, major:minor) and this judges the node the
 * engine will really hand over, whatever path or symlink named it.
 *
 * A level's list holds only nodes that are harmless to share:
 * - restricted: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty. Every
 *   container already has each of them (runc's default device set), so naming one changes nothing;
 *   /dev/tty is the caller's own controlling terminal (the container's pty), not a host console.
 * - baseline adds /dev/fuse: FUSE is made for unprivileged users, the node does nothing until a
 *   FUSE filesystem is mounted, and mounting needs CAP_SYS_ADMIN or a user namespace, which
 *   baseline does not give (no SYS_ADMIN; seccomp refuses mount and unshare) without allowances
 *   of their own; a FUSE mount is nosuid,nodev for whoever is not root on the host.
 * Never on a list: block devices (raw disks), /dev/mem, /dev/kmem, /dev/port, /dev/kmsg, serial
 * lines (/dev/ttyS*), virtual consoles and their screen memory (/dev/tty0-63, /dev/vcs*: the host's
 * console text and keystrokes), /dev/userfaultfd (a kernel exploitation primitive), /dev/kvm,
 * GPUs, input devices, watchdogs ...: any other node needs `allow.devices` naming its real path.
 */
import type { HostDevice, LevelName } from './types.js';

export interface HarmlessDevice extends HostDevice {
  path: string;
}

const c = (path: string, major: number, minor: number): HarmlessDevice => ({ path, type: 'c', major, minor });

const RESTRICTED: readonly HarmlessDevice[] = [
  c('/dev/null', 1, 3), c('/dev/zero', 1, 5), c('/dev/full', 1, 7), c('/dev/random', 1, 8), c('/dev/urandom', 1, 9), c('/dev/tty', 5, 0),
];

export const LEVEL_DEVICES: Record<LevelName, readonly HarmlessDevice[]> = {
  restricted: RESTRICTED,
  baseline: [...RESTRICTED, c('/dev/fuse', 10, 229)],
  privileged: [],
};

/** The list entry a device number is, if any. */
export function harmlessDevice(level: LevelName, dev: HostDevice | undefined): HarmlessDevice | undefined {
  if (!dev) return undefined;
  return LEVEL_DEVICES[level].find((d) => d.type === dev.type && d.major === dev.major && d.minor === dev.minor);
}

export function describeDevice(dev: HostDevice): string {
  return `${dev.type === 'c' ? 'character' : 'block'} device ${dev.major}:${dev.minor}`;
}

export interface CgroupRule {
  type: 'a' | 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  perms: string;
}

/**
 * A `--device-cgroup-rule` as the engine parses it (`TYPE MAJOR:MINOR PERMS`; the daemon's regexp
 * allows single spaces only, so anything else is refused by it anyway). Undefined: not a rule.
 */
export function parseCgroupRule(rule: string): CgroupRule | undefined {
  const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]{1,3})$/.exec(rule);
  if (!m) return undefined;
  const num = (s: string) => (s === '*' ? '*' : Number(s));
  return { type: m[1] as CgroupRule['type'], major: num(m[2]!), minor: num(m[3]!), perms: m[4]! };
}

/** The rule text with runs of white space made one, for matching allowances. */
export function canonicalCgroupRule(rule: string): string {
  return rule.trim().split(/\s+/).join(' ');
}

/**
 * Why a cgroup rule reaches beyond the level's list, or undefined when every device it grants is on
 * it. Restricted refuses every rule: the devices it needs are there already, and a rule plus a node
 * baked into the image reads what the rule opens (`c 7:* r` and an image's c 7:0 node read the host console).
 */
export function cgroupRuleBeyondLevel(level: LevelName, rule: string): string | undefined {
  if (level === 'restricted') return 'level restricted allows no device cgroup rule: a device node baked into the image opens whatever the rule grants';
  const r = parseCgroupRule(canonicalCgroupRule(rule));
  if (!r) return 'not a rule the engine reads (TYPE MAJOR:MINOR PERMS)';
  if (r.type !== 'c' || r.major === '*' || r.minor === '*') return 'it grants devices by wildcard or every block device: with a node in the image, any of them';
  if (!harmlessDevice(level, { type: 'c', major: r.major, minor: r.minor })) return `character device ${r.major}:${r.minor} is not on the ${level} level's list`;
  return undefined;
}
