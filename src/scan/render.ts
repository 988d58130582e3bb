/** The scan report as a table (people), JSON (scripts) or SARIF 2.1.0 (code scanning). Pure. */
import { toSarif } from '../report/sarif.js';
import { rank, SEVERITIES } from '../report/severity.js';
import { capsText } from './caps.js';
import type { Finding } from './findings.js';
import { SCAN_RULES } from './rules.js';
import type { ScanReport } from './scan.js';

function sorted(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => rank(b.severity) - rank(a.severity) || a.rule.localeCompare(b.rule) || (a.path ?? '').localeCompare(b.path ?? ''));
}

function counts(findings: readonly Finding[]): string {
  const parts = SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  return parts.length ? parts.map(([s, n]) => `${n} ${s}`).join(', ') : 'nothing found';
}

function detail(f: Finding): string {
  if (f.caps) return 'error' in f.caps ? `unreadable: ${f.caps.error}` : capsText(f.caps);
  if (!f.path) return f.message;
  return '';
}

export function renderTable(r: ScanReport): string {
  const rows = sorted(r.findings).map((f) => [
    f.severity.toUpperCase(),
    f.rule,
    f.path ?? '-',
    f.mode ?? '',
    f.uid === undefined ? '' : `${f.uid}:${f.gid}`,
    f.layer ? String(f.layer.index) : '',
    f.path ? detail(f) : f.message,
  ]);
  const head = ['SEVERITY', 'RULE', 'PATH', 'MODE', 'OWNER', 'LAYER', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [`${r.image} (${r.id.slice(0, 19)}): ${r.diffIds.length} layers, ${r.stats.entries} entries (read via ${r.via}): ${counts(r.findings)}`];
  if (rows.length) out.push('', line(head), ...rows.map(line));
  const layers = [...new Set(r.findings.flatMap((f) => (f.layer ? [f.layer.index] : [])))].sort((a, b) => a - b);
  if (layers.length) out.push('', 'layers:', ...layers.map((i) => `  ${i}  ${r.diffIds[i]}`));
  return `${out.join('\n')}\n`;
}

export function renderJson(r: ScanReport): string {
  return `${JSON.stringify({ image: r.image, id: r.id, layers: r.diffIds, summary: Object.fromEntries(SEVERITIES.map((s) => [s, r.findings.filter((f) => f.severity === s).length])), findings: sorted(r.findings), via: r.via, ...(r.fallback ? { fallback: r.fallback } : {}), stats: r.stats }, null, 2)}\n`;
}

export function renderSarif(r: ScanReport, version: string): string {
  const log = toSarif(
    { name: 'sdocker scan', version },
    Object.values(SCAN_RULES),
    sorted(r.findings).map((f) => ({
      ruleId: f.rule,
      severity: f.severity,
      message: `${f.message} [image ${r.image}]`,
      ...(f.path ? { uri: f.path.slice(1) } : {}),
      properties: { image: r.image, imageId: r.id, ...(f.mode ? { mode: f.mode } : {}), ...(f.uid !== undefined ? { uid: f.uid, gid: f.gid } : {}), ...(f.layer ? { layer: f.layer.index, diffId: f.layer.diffId } : {}) },
    })),
  );
  return `${JSON.stringify(log, null, 2)}\n`;
}
