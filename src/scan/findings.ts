/**
 * From the merged layers and the image config to findings, each with a rule id and a severity
 * (src/report/severity.ts). Pure.
 */
import type { Severity } from '../report/severity.js';
import { execUser, failed, parseGroup, parsePasswd } from '../policy/user-names.js';
import { decodeFileCaps, type FileCaps } from './caps.js';
import type { LayerSummary } from './layer.js';
import { mergedFile, survivors, type Surviving } from './merge.js';
import type { ImageConfigJson } from './save-stream.js';
import { SCAN_RULES, type ScanRuleId } from './rules.js';

export interface Finding {
  rule: ScanRuleId;
  severity: Severity;
  message: string;
  /** The file in the image, for file findings. */
  path?: string;
  /** Octal, 4 digits (`4755`). */
  mode?: string;
  uid?: number;
  gid?: number;
  layer?: { index: number; diffId: string };
  caps?: FileCaps | { error: string };
}

/** Capabilities inside docker's default set: a file raising one of them gains less than root. */
const DEFAULT_CAPS = new Set(['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE']);

/** Programs that make a container a machine to log in to or a whole init system (guideline 9). */
const SERVICES: Array<{ re: RegExp; what: string; severity: Severity }> = [
  { re: /^(sshd|dropbear|telnetd|in\.telnetd|rshd|in\.rshd|rlogind)$/, what: 'a remote login server', severity: 'high' },
  { re: /^(systemd|init|upstart|openrc-init|runit|runsvdir|s6-svscan)$/, what: 'an init system', severity: 'medium' },
  { re: /^(cron|crond|anacron|inetd|xinetd|supervisord|vsftpd|proftpd|pure-ftpd|ftpd)$/, what: 'a service manager or network daemon that belongs on the host', severity: 'medium' },
];

const SHELLS = /^(sh|bash|dash|ash|zsh|ksh)$/;

export const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

function base(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/** Program names the entrypoint and command run: argv[0], and the words of a `sh -c` script. */
export function programsRun(config: ImageConfigJson['config']): string[] {
  const argv = [...(config?.Entrypoint ?? []), ...(config?.Cmd ?? [])].filter((s): s is string => typeof s === 'string');
  if (argv.length === 0) return [];
  const out = [base(argv[0]!)];
  if (SHELLS.test(base(argv[0]!))) {
    const script = argv.slice(1).filter((a) => !a.startsWith('-')).join(' ');
    for (const w of script.split(/[\s;&|()`$"']+/)) if (w) out.push(base(w));
  }
  return out;
}

function fileFinding(s: Surviving, diffIds: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const layer = { index: s.layer, diffId: diffIds[s.layer] ?? '' };
  const common = { path: s.path, mode: octal(s.mode), uid: s.uid, gid: s.gid, layer };
  const isFile = s.type === 'file' || s.type === 'link';
  const kind = isFile ? '' : s.type === 'directory' ? 'directory ' : 'special file ';
  if ((s.mode & 0o4000) !== 0) {
    const root = s.uid === 0;
    // Only a regular file runs with its owner's uid; the bit on a directory or a device does nothing.
    const severity: Severity = !isFile ? 'info' : root ? 'high' : 'medium';
    out.push({ rule: 'SD-SCAN-001', severity, message: `${kind}${s.path} is setuid ${root ? 'root' : `uid ${s.uid}`} (mode ${octal(s.mode)})`, ...common });
  }
  if ((s.mode & 0o2000) !== 0) {
    // A setgid directory gives new files in it its group: no privilege, listed as find lists it.
    const severity: Severity = isFile ? 'medium' : 'info';
    out.push({ rule: 'SD-SCAN-002', severity, message: `${kind}${s.path} is setgid gid ${s.gid} (mode ${octal(s.mode)})${s.type === 'directory' ? ': files created in it get its group' : ''}`, ...common });
  }
  if (s.caps) {
    const caps = decodeFileCaps(s.caps);
    if (failed(caps)) {
      out.push({ rule: 'SD-SCAN-003', severity: 'high', message: `${s.path} carries a security.capability attribute sdocker cannot read (${caps.error})`, ...common, caps });
    } else {
      const all = [...caps.permitted, ...caps.inheritable];
      const beyond = all.filter((c) => !DEFAULT_CAPS.has(c));
      out.push({
        rule: 'SD-SCAN-003',
        severity: beyond.length > 0 ? 'high' : 'medium',
        message: `${s.path} has file capabilities ${all.map((c) => `CAP_${c}`).join(', ') || '(none set)'}${caps.effective ? ' (effective at exec)' : ''}`,
        ...common,
        caps,
      });
    }
  }
  if (s.type === 'directory' && (s.mode & 0o002) !== 0 && (s.mode & 0o1000) === 0) {
    out.push({ rule: 'SD-SCAN-004', severity: 'medium', message: `${s.path} is a world-writable directory without the sticky bit (mode ${octal(s.mode)}): any user may delete or replace others' files in it`, ...common });
  }
  return out;
}

/** USER as the engine resolves it, on the image's own /etc/passwd and /etc/group. */
function userFinding(config: ImageConfigJson['config'], layers: readonly LayerSummary[]): Finding | undefined {
  const user = (config?.User ?? '').trim();
  if (user === '') return { rule: 'SD-SCAN-005', severity: 'medium', message: 'the image sets no USER: its processes run as root' };
  const passwdText = mergedFile(layers, '/etc/passwd');
  const groupText = mergedFile(layers, '/etc/group');
  const passwd = typeof passwdText === 'string' ? parsePasswd(passwdText) : null;
  const groups = typeof groupText === 'string' ? parseGroup(groupText) : null;
  const resolved = execUser(user, passwd && !failed(passwd) ? passwd : null, groups);
  if (failed(resolved)) {
    return { rule: 'SD-SCAN-005', severity: 'medium', message: `the image's USER ${JSON.stringify(user)} cannot be resolved on its own files (${resolved.error}): the engine refuses to start it` };
  }
  if (resolved.uid === 0) {
    const spelled = user.split(':')[0] === 'root' || user.split(':')[0] === '0' ? '' : ` (resolves to uid 0)`;
    return { rule: 'SD-SCAN-005', severity: 'medium', message: `the image's USER is ${JSON.stringify(user)}${spelled}: its processes run as root` };
  }
  return undefined;
}

function serviceFindings(config: ImageConfigJson['config']): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const p of programsRun(config)) {
    const s = SERVICES.find((x) => x.re.test(p));
    if (s && !seen.has(p)) {
      seen.add(p);
      out.push({ rule: 'SD-SCAN-006', severity: s.severity, message: `the image's entrypoint/command runs ${p}, ${s.what}: one service per container, reached through docker exec/logs, not a login` });
    }
  }
  return out;
}

export function findingsOf(img: { config: ImageConfigJson; layers: readonly LayerSummary[]; diffIds: readonly string[] }): Finding[] {
  const out: Finding[] = [];
  for (const s of survivors(img.layers)) out.push(...fileFinding(s, img.diffIds));
  const user = userFinding(img.config.config, img.layers);
  if (user) out.push(user);
  out.push(...serviceFindings(img.config.config));
  return out;
}

export { SCAN_RULES };
