import { describe, expect, it } from 'vitest';
import { capName, DOCKER_DEFAULT_CAPS } from '../../src/api/capabilities.js';
import { DOCKER_DEFAULT_CAPS as PREFIXED } from '../../src/seccomp/compile.js';
import { normalizeCapabilities } from '../../src/flags/body.js';

describe('one capability spelling', () => {
  it('reads a name as the engine does: any case, CAP_ optional', () => {
    for (const s of ['SYS_ADMIN', 'sys_admin', 'CAP_SYS_ADMIN', 'cap_sys_admin', 'Cap_Sys_Admin', ' sys_admin ']) expect(capName(s)).toBe('SYS_ADMIN');
    for (const s of ['ALL', 'all', 'All']) expect(capName(s)).toBe('ALL');
  });
  it('agrees with the create body the client sends (CAP_ prefixed) and with the seccomp list', () => {
    expect(normalizeCapabilities(['net_admin', 'CAP_chown'])?.map(capName)).toEqual(['CHOWN', 'NET_ADMIN']);
    expect([...PREFIXED].map(capName).sort()).toEqual([...DOCKER_DEFAULT_CAPS].sort());
    expect(DOCKER_DEFAULT_CAPS).toHaveLength(14);
  });
});
