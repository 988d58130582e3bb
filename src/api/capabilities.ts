/**
 * Capabilities as the engine reads them in HostConfig.CapAdd/CapDrop: case does not matter and
 * `CAP_` is optional (moby's NormalizeLegacyCapabilities). One spelling for sdocker: upper case,
 * without `CAP_` ('cap_sys_admin' → 'SYS_ADMIN', 'all' → 'ALL'). Surrounding blanks are dropped:
 * the engine refuses them, so the judgement of such a name can only be stricter than the engine.
 */
export function capName(c: string): string {
  const u = c.trim().toUpperCase();
  return u.startsWith('CAP_') ? u.slice(4) : u;
}

/** Docker 20.10's default capability set, what a container gets without --cap-add/--cap-drop (CapEff 00000000a80425fb). */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];
