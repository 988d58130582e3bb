/**
 * A diagnosis for people (stderr text, with the sdocker.yaml lines indented as they go in the
 * file) or for scripts (one JSON object, the YAML beside the structured fix).
 */
import { RULES } from '../policy/rules.js';
import type { TmpfsDefault } from '../policy/types.js';
import type { Diagnosis, ProfileFix } from './types.js';

function q(s: string): string {
  return /^[\w./@:-]+$/.test(s) && !/^\d+:\d+$/.test(s) ? s : JSON.stringify(s);
}

function tmpfsLine(t: TmpfsDefault): string {
  const parts = [`path: ${q(t.path)}`];
  if (t.size) parts.push(`size: ${q(t.size)}`);
  if (t.options) parts.push(`options: ${q(t.options)}`);
  return `{ ${parts.join(', ')} }`;
}

/** The fix as sdocker.yaml text (top-level keys at column 0). */
export function fixYaml(fix: ProfileFix): string {
  const out: string[] = [];
  const d = fix.defaults;
  if (d) {
    out.push('defaults:');
    if (d.user !== undefined) out.push(`  user: ${q(d.user)}`);
    if (d.tmpfs) {
      out.push('  tmpfs:');
      for (const t of d.tmpfs) out.push(`    - ${tmpfsLine(t)}`);
    }
    if (d.capabilities) out.push(`  capabilities: [${d.capabilities.join(', ')}]`);
    if (d.memory !== undefined) out.push(`  memory: ${q(d.memory)}`);
    if (d.pids !== undefined) out.push(`  pids: ${d.pids}`);
    if (d.seccomp !== undefined) out.push(`  seccomp: ${q(d.seccomp)}`);
  }
  if (fix.allow?.capabilities?.length) {
    out.push('allow:', '  capabilities:');
    for (const c of fix.allow.capabilities) out.push(`    - { name: ${c.name}, reason: ${JSON.stringify(c.reason)} }`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

export interface DiagnosisContext {
  /** 'exited' (foreground) or 'died' (within the watch after -d). */
  when: 'exited' | 'died';
  watchMs?: number;
  /** How long after start sdocker saw it stop (at most watchMs). */
  diedAfterMs?: number;
  containerId: string;
}

/**
 * A line the container wrote, safe for the user's terminal: the image is not trusted, and its
 * output must not move the cursor, retitle the window or write to the clipboard (escape sequences).
 */
export function printable(line: string): string {
  return line.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function renderText(d: Diagnosis, ctx: DiagnosisContext): string {
  const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;
  const within = ctx.when === 'died' ? ` ${secs(ctx.diedAfterMs ?? ctx.watchMs ?? 0)} after its start` : '';
  const out: string[] = [];
  const who = d.user.name ? `${d.user.name} (uid ${d.user.uid}, gid ${d.user.gid})` : `uid ${d.user.uid}, gid ${d.user.gid}`;
  out.push(`sdocker: container ${ctx.containerId.slice(0, 12)} exited with status ${d.exitCode}${within}, running as ${who}`);
  if (d.findings.length === 0) {
    if (d.logTail.length === 0) {
      out.push('  it wrote nothing, or was removed (--rm) before its logs could be read');
    } else {
      out.push('  no known hardening signature in its last lines:');
      for (const l of d.logTail) out.push(`    | ${printable(l)}`);
    }
    out.push('  `sdocker run --dry-run ...` shows every change sdocker made; `--policy baseline` relaxes most of them.');
    return `${out.join('\n')}\n`;
  }
  out.push('');
  for (const f of d.findings) {
    const r = RULES[f.rule];
    out.push(`  ${printable(f.summary)}`);
    out.push(`    caused by ${f.rule} (guideline ${r.guideline}: ${r.title})`);
    if (f.evidence) out.push(`    | ${printable(f.evidence)}`);
    if (f.note) out.push(`    note: ${printable(f.note)}`);
    if (f.flags.length) out.push(`    for one run: ${printable(f.flags.join(' '))}`);
    out.push('');
  }
  const yaml = fixYaml(d.fix);
  if (yaml) {
    out.push('  to fix it, add to the profile (sdocker.yaml):');
    for (const l of yaml.trimEnd().split('\n')) out.push(`    ${printable(l)}`);
  }
  return `${out.join('\n')}\n`;
}

export function renderJson(d: Diagnosis, ctx: DiagnosisContext): string {
  const findings = d.findings.map((f) => ({ ...f, guideline: RULES[f.rule].guideline, title: RULES[f.rule].title }));
  return `${JSON.stringify({ diagnosis: { containerId: ctx.containerId, when: ctx.when, ...d, findings, yaml: fixYaml(d.fix) } })}\n`;
}
