/**
 * The logging driver and its rotation (SD-LOG-*).
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { RULES } from '../rules.js';
import { judgeLogConfig } from '../limits.js';
import type { Ctx } from '../context.js';

export function logging(c: Ctx): void {
  const hc = c.hc;
  const typedType = hc.LogConfig?.Type ?? '';
  const type = typedType || c.input.engine.loggingDriver || 'json-file';
  const l = c.profile.limits;
  for (const p of judgeLogConfig(type, hc.LogConfig?.Config ?? {}, l, typedType !== '').problems) {
    const driver = p.key === 'logDrivers';
    const field = driver ? 'HostConfig.LogConfig.Type' : 'HostConfig.LogConfig.Config';
    if (c.check('SD-LOG-002', field, p.subject, p.subject, undefined, { flag: driver ? '--log-driver' : '--log-opt', why: p.why, allowSubject: p.allow, floor: l.floor?.[p.key] })) continue;
    if (driver) {
      const to = l.logDrivers.includes('json-file') ? 'json-file' : l.logDrivers[0] ?? 'json-file';
      c.change(field, typedType, to, 'SD-LOG-002');
      hc.LogConfig = { Type: to, Config: {} };
    } else {
      const key = p.key === 'logMaxSize' ? 'max-size' : 'max-file';
      const cfg = { ...(hc.LogConfig?.Config ?? {}) };
      c.change(`${field}["${key}"]`, cfg[key], null, 'SD-LOG-002');
      delete cfg[key];
      hc.LogConfig = { Type: typedType, Config: cfg };
    }
  }
  const now = hc.LogConfig?.Type || type;
  if (now !== 'json-file' && now !== 'local') return;
  const cfg = { ...(hc.LogConfig?.Config ?? {}) };
  const d = c.profile.defaults.log;
  const add: string[] = [];
  if (!cfg['max-size']) {
    cfg['max-size'] = d.maxSize;
    add.push(`max-size=${d.maxSize}`);
  }
  if (!cfg['max-file']) {
    cfg['max-file'] = String(d.maxFile);
    add.push(`max-file=${d.maxFile}`);
  }
  if (add.length) {
    c.change('HostConfig.LogConfig.Config', hc.LogConfig?.Config ?? {}, cfg, 'SD-LOG-001', `${RULES['SD-LOG-001'].why}: ${add.join(', ')}`);
    hc.LogConfig = { Type: hc.LogConfig?.Type ?? '', Config: cfg };
  }
}
