/**
 * Severities shared by every report sdocker prints (scan, audit): one order, one parser for
 * `--fail-on`, one mapping onto SARIF's levels. Pure.
 */
import { UsageError } from '../errors.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Larger is worse: critical 4 … info 0. */
export function rank(s: Severity): number {
  return SEVERITIES.length - 1 - SEVERITIES.indexOf(s);
}

export function atLeast(s: Severity, threshold: Severity): boolean {
  return rank(s) >= rank(threshold);
}

/** `--fail-on VALUE`: a severity, or `none` (never fail on findings). `flag` names the option in the message. */
export function parseFailOn(value: string | undefined, flag = '--fail-on'): Severity | 'none' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'none') return 'none';
  if ((SEVERITIES as readonly string[]).includes(v)) return v as Severity;
  throw new UsageError(`${flag}: expected one of ${[...SEVERITIES, 'none'].join(', ')}, got "${value ?? ''}"`);
}

/** Whether any finding reaches the threshold (the exit code for CI follows this). */
export function failsOn(found: readonly Severity[], threshold: Severity | 'none'): boolean {
  return threshold !== 'none' && found.some((s) => atLeast(s, threshold));
}

/** SARIF 2.1.0 result levels. */
export function sarifLevel(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'critical' || s === 'high' ? 'error' : s === 'medium' ? 'warning' : 'note';
}

/** GitHub code scanning reads `security-severity` (0.0–10.0) from a rule's properties. */
export function securitySeverity(s: Severity): string {
  return { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' }[s];
}
