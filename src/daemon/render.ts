/** The explanation of a merged daemon.json, for people (stderr) or scripts (`--output json`). Pure. */
import type { MergeOutcome } from './merge.js';

const show = (v: unknown): string => JSON.stringify(v);

export function renderExplanation(m: MergeOutcome, source: string): string {
  const out: string[] = [`sdocker daemon-config: hardened keys for ${source}`];
  for (const k of m.keys) {
    const head = `  ${k.key}: ${show(k.value)}`;
    const status = k.status === 'changed'
      ? `CHANGED (was ${show(k.previous)})`
      : k.status === 'kept' ? `kept: ${k.keptBecause ?? ''}` : k.status;
    out.push(`${head}  [${status}] CIS ${k.cis}`);
    out.push(`      ${k.why}`);
    if (k.cost && k.status !== 'unchanged') out.push(`      cost: ${k.cost}`);
  }
  const conflicts = m.keys.filter((k) => k.status === 'changed');
  if (conflicts.length) out.push('', `${conflicts.length} key${conflicts.length === 1 ? '' : 's'} conflict${conflicts.length === 1 ? 's' : ''} with the existing file: ${conflicts.map((k) => k.key).join(', ')}`);
  if (m.notes.length) {
    out.push('', 'not changed, to review:');
    for (const n of m.notes) out.push(`  ${n}`);
  }
  out.push('', 'Review, then install it yourself (sdocker never restarts a daemon):',
    '  sdocker daemon-config > daemon.json; sudo install -m 0644 daemon.json /etc/docker/daemon.json',
    '  sudo systemctl restart docker   # live-restore applies from the next restart on');
  return `${out.join('\n')}\n`;
}

export function renderJson(m: MergeOutcome, source: string): string {
  return `${JSON.stringify({
    source,
    config: m.config,
    keys: m.keys.map((k) => ({
      key: k.key, value: k.value, status: k.status, cis: k.cis, guideline: k.guideline, why: k.why,
      ...(k.cost ? { cost: k.cost } : {}), ...(k.previous !== undefined ? { previous: k.previous } : {}), ...(k.keptBecause ? { keptBecause: k.keptBecause } : {}),
    })),
    notes: m.notes,
  }, null, 2)}\n`;
}
