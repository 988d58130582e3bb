/**
 * The image scan's rule ids (`sdocker scan`): what each finds and why it matters. The same table is
 * in README ("Image scan"). Severities are per finding (src/scan/findings.ts); `severity` here is
 * the highest a finding of the rule can have (SARIF's default level).
 */
import type { SarifRuleInput } from '../report/sarif.js';

export const SCAN_RULES = {
  'SD-SCAN-001': {
    id: 'SD-SCAN-001', title: 'setuid file', severity: 'high', tags: ['guideline-7'],
    description: 'A setuid program runs with its owner\'s uid whoever starts it: a bug in it (or in the libraries it loads) turns into that user\'s privileges, root for a setuid-root file.',
    help: 'Remove the bit (`sdocker image harden IMAGE -t NEW`, or `chmod u-s` in the Dockerfile); run with no-new-privileges (sdocker always sets it under restricted).',
  },
  'SD-SCAN-002': {
    id: 'SD-SCAN-002', title: 'setgid file', severity: 'medium', tags: ['guideline-7'],
    description: 'A setgid program runs with its group whoever starts it (shadow, tty, mail ...).',
    help: 'Remove the bit (`sdocker image harden IMAGE -t NEW`, or `chmod g-s`); run with no-new-privileges.',
  },
  'SD-SCAN-003': {
    id: 'SD-SCAN-003', title: 'file capabilities', severity: 'high', tags: ['guideline-7', 'guideline-14'],
    description: 'A file with capabilities (security.capability) raises them at exec, like a small setuid-root.',
    help: 'Remove them (`sdocker image harden IMAGE -t NEW --drop-caps`, or `setcap -r`); run with no-new-privileges and --cap-drop ALL.',
  },
  'SD-SCAN-004': {
    id: 'SD-SCAN-004', title: 'world-writable directory without the sticky bit', severity: 'medium', tags: ['guideline-7'],
    description: 'Any user may delete or rename any file in it, including files of other users and of root.',
    help: 'chmod o-w, or chmod +t as /tmp has.',
  },
  'SD-SCAN-005': {
    id: 'SD-SCAN-005', title: 'image runs as root', severity: 'medium', tags: ['guideline-9'],
    description: 'The image sets no USER, or one that resolves to uid 0: docker runs it as root.',
    help: 'USER <non-root> in the Dockerfile; sdocker runs root images as an unprivileged user under restricted.',
  },
  'SD-SCAN-006': {
    id: 'SD-SCAN-006', title: 'service that should not run in a container', severity: 'high', tags: ['guideline-9'],
    description: 'An SSH server, an init system or a host service manager as the entrypoint: a container runs one service, is reached with docker exec and logs.',
    help: 'Run the service itself as the entrypoint; use docker exec instead of ssh.',
  },
} as const satisfies Record<string, SarifRuleInput>;

export type ScanRuleId = keyof typeof SCAN_RULES;
