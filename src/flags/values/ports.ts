import type { PortBinding } from '../../api/types.js';
import { canonicalIp } from './kv.js';

/** nat.SplitProtoPort: `80/udp` → ['udp', '80']; no protocol means tcp. */
function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || (parts[0] ?? '') === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if ((parts[1] ?? '') === '') return ['tcp', parts[0] as string];
  return [parts[1] as string, parts[0] as string];
}

function parseUint16(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw new Error(`invalid port: ${s}`);
  return Number(s);
}

/** nat.ParsePortRange: `80` or `8000-8010`. */
export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = parseUint16(ports);
    return [p, p];
  }
  const parts = ports.split('-');
  const start = parseUint16(parts[0] ?? '');
  const end = parseUint16(parts[1] ?? '');
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** The long `--publish published=8080,target=80,protocol=udp` form, as docker rewrites it. */
function toStandardNotation(publish: string): string {
  if (!publish.includes('=')) return publish;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of publish.split(',')) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
    params[param.slice(0, eq)] = param.slice(eq + 1);
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
}

export interface PublishResult {
  exposed: string[];
  bindings: Record<string, PortBinding[]>;
}

/** nat.ParsePortSpecs over every `-p` value: `[ip:][hostPort:]containerPort[/proto]`, ranges included. */
export function parsePublish(values: readonly string[]): PublishResult {
  const exposed: string[] = [];
  const bindings: Record<string, PortBinding[]> = {};
  for (const value of values) {
    const raw = toStandardNotation(value);
    const parts = raw.split(':');
    const n = parts.length;
    const containerPart = parts[n - 1] as string;
    let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
    let hostPort = n >= 2 ? (parts[n - 2] as string) : '';
    const [proto, containerPort] = splitProtoPort(containerPart);
    if (ip.startsWith('[')) {
      const close = ip.indexOf(']');
      if (close < 0 || close !== ip.length - 1) throw new Error(`invalid IP address ${ip}: address ${ip}: missing ']' in address`);
      ip = ip.slice(1, close);
    }
    if (ip !== '' && canonicalIp(ip) === undefined) throw new Error(`invalid IP address: ${ip}`);
    if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(containerPort);
    } catch {
      throw new Error(`invalid containerPort: ${containerPort}`);
    }
    let hostStart = 0;
    let hostEnd = 0;
    if (hostPort !== '') {
      try {
        [hostStart, hostEnd] = parsePortRange(hostPort);
      } catch {
        throw new Error(`invalid hostPort: ${hostPort}`);
      }
    }
    if (hostPort !== '' && end - start !== hostEnd - hostStart && end !== start) {
      throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
    const lproto = proto.toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(lproto)) throw new Error(`invalid proto: ${proto}`);
    for (let i = 0; i <= end - start; i++) {
      const port = `${start + i}/${lproto}`;
      if (hostPort !== '') hostPort = String(hostStart + i);
      if (start === end && hostStart !== hostEnd) hostPort = `${hostPort}-${hostEnd}`;
      if (!exposed.includes(port)) exposed.push(port);
      (bindings[port] ??= []).push({ HostIp: ip, HostPort: hostPort });
    }
  }
  return { exposed, bindings };
}

/** `--expose 80`, `--expose 7000-7010/udp`. */
export function parseExpose(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of values) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  }
  return out;
}
