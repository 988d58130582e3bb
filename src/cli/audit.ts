/**
 * `sdocker audit [OPTIONS] [CONTAINER...]`: the daemon's, the host's and the containers' security
 * findings (src/audit). Exit 0, or 1 when a finding reaches --fail-on; 125 on a usage or engine error.
 */
import { checkContainer } from '../audit/container-checks.js';
import { collectContainers, collectDaemon, hostReader } from '../audit/collect.js';
import { checkDaemon, daemonContext } from '../audit/daemon-checks.js';
import { type AuditReport, renderJson, renderSarif, renderText } from '../audit/render.js';
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { UsageError } from '../errors.js';
import { parsePflag, type PflagSpec } from '../flags/pflag.js';
import { failsOn, parseFailOn } from '../report/severity.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

export const AUDIT_HELP = `Usage:  sdocker audit [OPTIONS] [CONTAINER...]

Check the daemon (GET /info and /version; where local, its command line and daemon.json), the
host (kernel version, members of the socket's group) and containers (the running ones; every one
with --all; only the named ones when given) against the 17 guidelines and the CIS Docker
Benchmark 1.6.0. Every finding has a stable id (docs/audit.md), a severity and its fix.

Options:
  -a, --all               Audit stopped containers too
      --no-containers     Audit only the daemon and the host
  -o, --output FORMAT     text (default; grouped by severity), json, or sarif
      --fail-on SEVERITY  Exit 1 when a finding is at or above SEVERITY
                          (critical, high, medium, low, info; none: never; default none)

Exit status: 0, or 1 when a finding reaches --fail-on; 125 on a usage or engine error.
`;

const FLAGS: readonly PflagSpec[] = [
  { name: 'all', short: 'a', kind: 'bool' },
  { name: 'no-containers', kind: 'bool' },
  { name: 'output', short: 'o', kind: 'value' },
  { name: 'fail-on', kind: 'value' },
  { name: 'help', short: 'h', kind: 'bool' },
];

/** sdocker's own version, for SARIF's tool.driver.version. */
const VERSION = '0.1.0';

export async function auditCommand(argv: string[], io: ProcessIO, globals: GlobalOptions): Promise<number> {
  const parsed = parsePflag(argv, FLAGS, { interspersed: true });
  const last = (name: string) => parsed.hits.filter((h) => h.spec.name === name).at(-1)?.value;
  if (last('help') === 'true') {
    io.stdout.write(AUDIT_HELP);
    return 0;
  }
  const output = last('output') ?? 'text';
  if (!['text', 'json', 'sarif'].includes(output)) throw new UsageError(`--output: expected text, json or sarif, got "${output}"`);
  const failOn = parseFailOn(last('fail-on') ?? 'none');
  const noContainers = last('no-containers') === 'true';
  if (noContainers && parsed.args.length > 0) throw new UsageError('--no-containers: no CONTAINER may be named with it');

  const endpoint = resolveEndpoint(globals, io.env);
  const client = new EngineClient(endpoint);
  try {
    const facts = await collectDaemon(client, endpoint);
    const findings = checkDaemon(facts);
    const containers = noContainers ? [] : await collectContainers(client, parsed.args, last('all') === 'true', facts.local ? hostReader : undefined);
    const ctx = daemonContext(facts);
    for (const c of containers) findings.push(...checkContainer(c, ctx));
    const report: AuditReport = { endpoint: endpoint.host, containers: containers.length, findings };
    io.stdout.write(output === 'json' ? renderJson(report) : output === 'sarif' ? renderSarif(report, VERSION) : renderText(report, io.stdout.isTTY === true));
    return failsOn(findings.map((f) => f.severity), failOn) ? 1 : 0;
  } finally {
    client.close();
  }
}
