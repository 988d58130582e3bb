/**
 * Published ports (SD-PORT-001): on loopback or an allowed address, as the engine binds them.
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { isLoopbackHostIp } from '../loopback.js';
import { RULES } from '../rules.js';
import type { Ctx } from '../context.js';

export function ports(c: Ctx): void {
  const hc = c.hc;
  const allowed = c.allow.portAddresses ?? [];
  const anyOk = allowed.find((a) => a.address === '0.0.0.0') && allowed.find((a) => a.address === '::');
  const def = c.profile.defaults.portAddress;
  for (const [port, list] of Object.entries(hc.PortBindings ?? {})) {
    for (const b of list ?? []) {
      const ip = b.HostIp ?? '';
      if (ip === '') {
        if (anyOk) continue;
        c.change(`HostConfig.PortBindings["${port}"].HostIp`, '', def, 'SD-PORT-001');
        b.HostIp = def;
      } else if (!isLoopbackHostIp(ip) && ip !== def) {
        const a = allowed.find((x) => x.address === ip);
        if (!c.check('SD-PORT-001', 'HostConfig.PortBindings', `${ip}:${b.HostPort}->${port}`, ip, a, { flag: '--publish', denialKey: 'portAddresses', denialValue: ip })) {
          c.change(`HostConfig.PortBindings["${port}"].HostIp`, ip, def, 'SD-PORT-001');
          b.HostIp = def;
        }
      }
    }
  }
  if (hc.PublishAllPorts && !anyOk) {
    const exposed = new Set([...Object.keys(c.body.ExposedPorts ?? {}), ...Object.keys(c.input.image?.ExposedPorts ?? {})]);
    const pb = { ...(hc.PortBindings ?? {}) };
    for (const p of exposed) if (!pb[p]) pb[p] = [{ HostIp: def, HostPort: '' }];
    c.change('HostConfig.PublishAllPorts', true, false, 'SD-PORT-001',
      `${RULES['SD-PORT-001'].why}: each exposed port is published on ${def} instead${c.input.image ? '' : ' (the image is not known: only the ports of --expose)'}`);
    hc.PublishAllPorts = false;
    hc.PortBindings = pb;
  }
}
