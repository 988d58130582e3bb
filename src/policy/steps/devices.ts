/**
 * --device, --device-cgroup-rule and --gpus (SD-DEV-*).
 * A step of applyPolicy (src/policy/apply.ts); pure.
 */
import { canonicalCgroupRule, cgroupRuleBeyondLevel, describeDevice, harmlessDevice } from '../devices.js';
import { fact, normalizeHostPath } from '../paths.js';
import type { Ctx } from '../context.js';

export function devices(c: Ctx): void {
  const hc = c.hc;
  const level = c.profile.level;
  if (hc.Devices?.length) {
    const kept = hc.Devices.filter((d) => {
      // The node the engine will hand over: the real path's, whatever path or symlink named it.
      const f = fact(d.PathOnHost, c.input.hostPaths);
      const real = normalizeHostPath(f?.realPath ?? d.PathOnHost);
      if (f?.device && !f.isDirectory && harmlessDevice(level, f.device)) return true;
      const allowance = (c.allow.devices ?? []).find((a) => normalizeHostPath(a.path) === real);
      const via = real !== normalizeHostPath(d.PathOnHost) ? `${d.PathOnHost} resolves to ${real}: ` : '';
      const why = !f?.exists ? `${via}${real} does not exist on this host`
        : f.isDirectory ? `${via}a directory hands over every device in it`
          : f.device ? `${via}${describeDevice(f.device)} is not on the ${level} level's list` : `${via}${real} is not a device node`;
      return c.check('SD-DEV-001', 'HostConfig.Devices', d.PathOnHost, d.PathOnHost, allowance, { why, denialKey: 'devices', denialValue: real, allowSubject: real });
    });
    if (kept.length !== hc.Devices.length) {
      c.change('HostConfig.Devices', hc.Devices.map((d) => d.PathOnHost), kept.map((d) => d.PathOnHost), 'SD-DEV-001');
      hc.Devices = kept;
    }
  }
  if (hc.DeviceCgroupRules?.length) {
    const rules = hc.DeviceCgroupRules;
    const kept = rules.filter((r) => {
      const why = cgroupRuleBeyondLevel(level, r);
      if (!why) return true;
      const allowance = (c.allow.deviceCgroupRules ?? []).find((a) => canonicalCgroupRule(a.rule) === canonicalCgroupRule(r));
      return c.check('SD-DEV-002', 'HostConfig.DeviceCgroupRules', r, r, allowance, { why, denialKey: 'deviceCgroupRules', denialValue: r });
    });
    if (kept.length !== rules.length) {
      c.change('HostConfig.DeviceCgroupRules', rules, kept, 'SD-DEV-002');
      hc.DeviceCgroupRules = kept;
    }
  }
  if (hc.DeviceRequests?.length) {
    const what = hc.DeviceRequests.map((d) => d.Driver || (d.Count === -1 ? 'all' : String(d.Count ?? ''))).join(',');
    if (!c.check('SD-DEV-003', 'HostConfig.DeviceRequests', hc.DeviceRequests, what || 'gpus', c.allow.deviceRequests, { denialKey: 'deviceRequests' })) {
      c.change('HostConfig.DeviceRequests', hc.DeviceRequests, [], 'SD-DEV-003');
      hc.DeviceRequests = [];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resources
