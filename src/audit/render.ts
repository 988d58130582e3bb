/**
 * The audit's report: text grouped by severity (with colour on a terminal), JSON, or SARIF 2.1.0
 * through the one writer (src/report/sarif.ts). Pure: strings in, strings out.
 */
import { toSarif } from '../report/sarif.js';
import { rank, SEVERITIES, type Severity } from '../report/severity.js';
import { CATALOG } from './catalog.js';
import type { Finding } from './types.js';

export interface AuditReport {
  endpoint: string;
  /** How many containers were audited. */
  containers: number;
  findings: Finding[];
}

const SCOPE_ORDER: Record<string, number> = { daemon: 0, host: 1 };

export function sortFindings(fs: readonly Finding[]): Finding[] {
  const scope = (f: Finding) => SCOPE_ORDER[f.subject] ?? 2;
  return [...fs].sort((a, b) => rank(b.severity) - rank(a.severity) || scope(a) - scope(b) || a.subject.localeCompare(b.subject) || a.id.localeCompare(b.id));
}

export function counts(fs: readonly Finding[]): Record<Severity, number> {
  const c = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of fs) c[f.severity]++;
  return c;
}

const COLOURS: Record<Severity, string> = { critical: '\x1b[1;31m', high: '\x1b[31m', medium: '\x1b[33m', low: '\x1b[36m', info: '\x1b[2m' };
const RESET = '\x1b[0m';

/**
 * What a container controls (its process names, the paths its command line chose) reaches the
 * auditor's terminal only as visible text: control characters (escape sequences) are shown as \xNN.
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function refs(f: Finding): string {
  return `guideline ${f.guideline}${f.cis ? `, CIS ${f.cis}` : ''}`;
}

export function renderText(r: AuditReport, tty: boolean): string {
  const lines: string[] = [`sdocker audit of ${printable(r.endpoint)}: ${r.containers} container${r.containers === 1 ? '' : 's'}`];
  const sorted = sortFindings(r.findings);
  for (const sev of SEVERITIES) {
    const group = sorted.filter((f) => f.severity === sev);
    if (group.length === 0) continue;
    const head = `${sev.toUpperCase()} (${group.length})`;
    lines.push('', tty ? `${COLOURS[sev]}${head}${RESET}` : head);
    for (const f of group) {
      const title = CATALOG.get(f.id)?.title ?? '';
      lines.push(`  ${f.id}  ${printable(f.subject)}: ${title}`);
      lines.push(`      ${printable(f.message)} (${refs(f)})`);
      lines.push(`      fix: ${f.fix.join(' | ')}`);
    }
  }
  const c = counts(r.findings);
  lines.push('', `${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}: ${SEVERITIES.map((s) => `${c[s]} ${s}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(r: AuditReport): string {
  return `${JSON.stringify({ endpoint: r.endpoint, containers: r.containers, summary: counts(r.findings), findings: sortFindings(r.findings) }, null, 2)}\n`;
}

export function renderSarif(r: AuditReport, version: string): string {
  const rules = [...CATALOG.values()].map((d) => ({
    id: d.id,
    title: d.title,
    description: d.why,
    help: d.fix.join('\n'),
    severity: d.severity,
    tags: [`guideline-${d.guideline}`, ...(d.cis ? [`cis-${d.cis}`] : []), d.scope],
  }));
  const findings = sortFindings(r.findings).map((f) => ({
    ruleId: f.id,
    severity: f.severity,
    message: `${f.subject}: ${f.message}`,
    // The daemon's and host's findings point at the endpoint (unix:///..., tcp://...), a container's at its name.
    uri: f.subject === 'daemon' || f.subject === 'host' ? r.endpoint : `container/${encodeURIComponent(f.subject.split(' ')[0] ?? '')}`,
    properties: { subject: f.subject, guideline: f.guideline, ...(f.cis ? { cis: f.cis } : {}) },
  }));
  return `${JSON.stringify(toSarif({ name: 'sdocker-audit', version }, rules, findings), null, 2)}\n`;
}
