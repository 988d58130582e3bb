import type { EndpointSettings } from '../../api/types.js';
import { readCsvRecord } from './csv.js';
import { canonicalIp } from './kv.js';

export interface NetworkAttachment {
  target: string;
  aliases: string[];
  driverOpts?: Record<string, string>;
  links: string[];
  ipv4?: string;
  ipv6?: string;
  linkLocalIps: string[];
  macAddress?: string;
  gwPriority?: number;
}

/** `--network NAME` or the long form `name=NET,alias=A,ip=...,driver-opt=k=v`. */
export function parseNetworkOpt(value: string): NetworkAttachment {
  const att: NetworkAttachment = { target: '', aliases: [], links: [], linkLocalIps: [] };
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) {
    att.target = value;
    return att;
  }
  const addr = (v: string) => {
    if (canonicalIp(v) === undefined) throw new Error(`ParseAddr(${JSON.stringify(v)}): unable to parse IP`);
    return v;
  };
  for (const field of readCsvRecord(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        att.target = val;
        break;
      case 'alias':
        att.aliases.push(val);
        break;
      case 'ip':
        att.ipv4 = addr(val);
        break;
      case 'ip6':
        att.ipv6 = addr(val);
        break;
      case 'mac-address':
        att.macAddress = val;
        break;
      case 'link-local-ip':
        att.linkLocalIps.push(addr(val));
        break;
      case 'driver-opt': {
        const i = val.indexOf('=');
        if (i <= 0) throw new Error('invalid key value pair format in driver options');
        (att.driverOpts ??= {})[val.slice(0, i).trim()] = val.slice(i + 1).trim();
        break;
      }
      case 'gw-priority':
        throw new Error('network option gw-priority needs Engine API 1.48; this engine speaks 1.41');
      default:
        throw new Error(`invalid field key ${key}`);
    }
  }
  if (att.target === '') throw new Error('network name/id is not specified');
  return att;
}

/** NetworkMode.IsUserDefined: not default, bridge, host, none or container:<id>. */
export function isUserDefinedNetwork(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

export function isValidMac(mac: string): boolean {
  const m = mac.trim();
  return /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(m) || /^([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$/.test(m) || /^([0-9a-fA-F]{2}[:-]){19}[0-9a-fA-F]{2}$/.test(m) || /^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(m);
}

export interface LegacyNetworkFlags {
  aliases: string[];
  links: string[];
  ipv4?: string;
  ipv6?: string;
  macAddress?: string;
  linkLocalIps: string[];
}

function endpointFor(att: NetworkAttachment): EndpointSettings {
  if (att.target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefinedNetwork(att.target)) {
    if (att.aliases.length > 0) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (att.links.length > 0) throw new Error('links are only supported for user-defined networks');
  }
  const ep: EndpointSettings = {};
  if (att.aliases.length > 0) ep.Aliases = [...att.aliases];
  if (att.driverOpts) ep.DriverOpts = att.driverOpts;
  if (att.links.length > 0) ep.Links = att.links;
  if (att.ipv4 || att.ipv6 || att.linkLocalIps.length > 0) {
    ep.IPAMConfig = {};
    if (att.ipv4) ep.IPAMConfig.IPv4Address = att.ipv4;
    if (att.ipv6) ep.IPAMConfig.IPv6Address = att.ipv6;
    if (att.linkLocalIps.length > 0) ep.IPAMConfig.LinkLocalIPs = att.linkLocalIps;
  }
  if (att.macAddress) {
    if (!isValidMac(att.macAddress)) throw new Error(`${att.macAddress} is not a valid mac address`);
    ep.MacAddress = att.macAddress;
  }
  return ep;
}

function applyLegacy(att: NetworkAttachment, legacy: LegacyNetworkFlags): void {
  const conflict = (what: string) => new Error(`conflicting options: cannot specify both ${what}`);
  if (att.aliases.length > 0 && legacy.aliases.length > 0) throw conflict('--network-alias and per-network alias');
  if (att.links.length > 0 && legacy.links.length > 0) throw conflict('--link and per-network links');
  if (att.ipv4 && legacy.ipv4) throw conflict('--ip and per-network IPv4 address');
  if (att.ipv6 && legacy.ipv6) throw conflict('--ip6 and per-network IPv6 address');
  if (att.macAddress && legacy.macAddress) throw conflict('--mac-address and per-network MAC address');
  if (att.linkLocalIps.length > 0 && legacy.linkLocalIps.length > 0) throw conflict('--link-local-ip and per-network link-local IP addresses');
  if (legacy.aliases.length > 0) att.aliases = [...legacy.aliases];
  if (isUserDefinedNetwork(att.target) && legacy.links.length > 0) att.links = [...legacy.links];
  if (legacy.ipv4) att.ipv4 = legacy.ipv4;
  if (legacy.ipv6) att.ipv6 = legacy.ipv6;
  if (legacy.macAddress) att.macAddress = legacy.macAddress;
  if (legacy.linkLocalIps.length > 0) att.linkLocalIps = [...legacy.linkLocalIps];
}

/** parseNetworkOpts of docker CLI 28: the endpoints of NetworkingConfig. */
export function networkEndpoints(attachments: NetworkAttachment[], legacy: LegacyNetworkFlags): Record<string, EndpointSettings> {
  const endpoints: Record<string, EndpointSettings> = {};
  if (attachments.length === 0) {
    const att: NetworkAttachment = { target: 'default', aliases: [], links: [], linkLocalIps: [] };
    applyLegacy(att, legacy);
    endpoints.default = endpointFor(att);
    return endpoints;
  }
  let userDefined = false;
  let nonUserDefined = false;
  attachments.forEach((att, i) => {
    if (isUserDefinedNetwork(att.target)) userDefined = true;
    else nonUserDefined = true;
    if (i === 0) applyLegacy(att, legacy);
    const ep = endpointFor(att);
    if (endpoints[att.target]) throw new Error(`network ${JSON.stringify(att.target)} is specified multiple times`);
    if (i === 0 && attachments.length === 1 && Object.keys(ep).length === 0) return;
    endpoints[att.target] = ep;
  });
  if (userDefined && nonUserDefined) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return endpoints;
}
