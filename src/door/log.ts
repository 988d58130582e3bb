/**
 * One line per decision of the door (pure formatting): `text` for people and journald, `json`
 * (one object a line) for collectors. The peer is who SO_PEERCRED says is on the other end of the
 * unix socket; `peer=unknown` when it could not be read (or over TLS, where `client` names the
 * certificate's subject instead).
 */
import type { Decision } from './types.js';

export type LogFormat = 'text' | 'json';

/** A decision as logged: the contract's Decision, plus what the server knows of the client. */
export interface DecisionLine extends Decision {
  /** The TLS client certificate's subject, on a TCP listener. */
  client?: string;
  /** Its sha256 fingerprint (hex): subjects can repeat, certificates do not. */
  clientSha256?: string;
  /** Why the server (not the judge) refused: a malformed target or body, a body too large... */
  reason?: string;
}

/** A value for `key=value` text: quoted when it holds spaces, quotes or `=`. */
function textValue(v: string): string {
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

export function formatDecision(d: DecisionLine, format: LogFormat): string {
  if (format === 'json') return `${JSON.stringify(d)}\n`;
  const parts = [d.time, d.action, d.route, d.method, textValue(d.path)];
  if (d.status !== undefined) parts.push(`status=${d.status}`);
  parts.push(d.peer ? `peer=uid:${d.peer.uid},gid:${d.peer.gid},pid:${d.peer.pid}` : 'peer=unknown');
  if (d.client !== undefined) parts.push(`client=${textValue(d.client)}`);
  if (d.clientSha256 !== undefined) parts.push(`client_sha256=${d.clientSha256}`);
  if (d.rules && d.rules.length > 0) parts.push(`rules=${d.rules.join(',')}`);
  if (d.id !== undefined) parts.push(`id=${textValue(d.id)}`);
  if (d.reason !== undefined) parts.push(`reason=${textValue(d.reason)}`);
  return `${parts.join(' ')}\n`;
}
