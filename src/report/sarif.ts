/**
 * SARIF 2.1.0 for code-scanning tools (GitHub code scanning, and others that read the OASIS format).
 * One writer for every sdocker report: the caller gives its rules and its findings; this builds the
 * log object. Pure: no I/O, no clock.
 */
import { type Severity, sarifLevel, securitySeverity } from './severity.js';

export interface SarifRuleInput {
  id: string;
  /** One line: what the rule finds. */
  title: string;
  /** Longer text: why it matters. */
  description?: string;
  /** How to fix, in words or flags / config lines. */
  help?: string;
  helpUri?: string;
  severity: Severity;
  /** Free-form tags, e.g. `guideline-7`, `cis-5.4`. */
  tags?: string[];
}

export interface SarifFindingInput {
  ruleId: string;
  severity: Severity;
  message: string;
  /** A location in an artifact: a file path inside an image, a container name, `daemon.json`… */
  uri?: string;
  /** Extra machine-readable facts carried in the result's property bag. */
  properties?: Record<string, unknown>;
}

export interface SarifToolInput {
  name: string;
  version: string;
  informationUri?: string;
}

export function toSarif(tool: SarifToolInput, rules: readonly SarifRuleInput[], findings: readonly SarifFindingInput[]): object {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  for (const f of findings) {
    if (!index.has(f.ruleId)) throw new Error(`SARIF: finding names rule ${f.ruleId}, which is not in the rule list`);
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            ...(tool.informationUri ? { informationUri: tool.informationUri } : {}),
            rules: rules.map((r) => ({
              id: r.id,
              name: r.id,
              shortDescription: { text: r.title },
              ...(r.description ? { fullDescription: { text: r.description } } : {}),
              ...(r.help ? { help: { text: r.help } } : {}),
              ...(r.helpUri ? { helpUri: r.helpUri } : {}),
              defaultConfiguration: { level: sarifLevel(r.severity) },
              properties: { 'security-severity': securitySeverity(r.severity), tags: ['security', ...(r.tags ?? [])] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: index.get(f.ruleId),
          level: sarifLevel(f.severity),
          message: { text: f.message },
          ...(f.uri ? { locations: [{ physicalLocation: { artifactLocation: { uri: f.uri } } }] } : {}),
          ...(f.properties ? { properties: f.properties } : {}),
        })),
      },
    ],
  };
}
