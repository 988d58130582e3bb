/**
 * Whether a port binding's HostIp keeps the port on this machine, as the engine reads it: the
 * daemon takes HostIp with Go's net.ParseIP (no trimming, no names, no leading zeros) and binds
 * a value it cannot parse on EVERY address, as if HostIp were empty. So `localhost`,
 * `127.0.0.01` or ' 127.0.0.1' are not loopback: through the Engine API they publish the port on
 * every interface (the docker client refuses them in -p: "invalid IP address"). Loopback is
 * net.IP.IsLoopback: 127.0.0.0/8, its IPv4-mapped form, and ::1 in any spelling.
 */
import { canonicalIp } from '../flags/values/kv.js';

export function isLoopbackHostIp(hostIp: string): boolean {
  if (hostIp !== hostIp.trim()) return false;
  const ip = canonicalIp(hostIp);
  if (ip === undefined) return false;
  return ip.includes(':') ? ip === '::1' : ip.startsWith('127.');
}
