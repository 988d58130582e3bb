/**
 * no-new-privileges in every spelling the engine accepts. The engine parses the value with Go's
 * strconv.ParseBool, so `=0`, `=f`, `=F`, `=FALSE`, `=False` (and `:` as separator) all turn it
 * off: measured on Docker 20.10, `--security-opt no-new-privileges=0` gave NoNewPrivs 0 inside a
 * restricted container before this was checked.
 */
import { describe, expect, test } from 'vitest';
import { rules, run } from './helpers.js';

const GO_FALSE = ['0', 'f', 'F', 'false', 'FALSE', 'False'];
const GO_TRUE = ['1', 't', 'T', 'true', 'TRUE', 'True'];

describe('no-new-privileges=<false> in every ParseBool spelling', () => {
  test.each(GO_FALSE.flatMap((v) => [`no-new-privileges=${v}`, `no-new-privileges:${v}`]))('%s is refused (SD-NNP-001)', (opt) => {
    const o = run(['--security-opt', opt]);
    expect(rules(o)).toEqual(['SD-NNP-001']);
    expect(o.refused).toBe(true);
  });

  test.each(GO_FALSE.map((v) => `no-new-privileges=${v}`))('%s in warn mode is kept as typed and reported', (opt) => {
    const o = run(['--security-opt', opt], { mode: 'warn' });
    expect(rules(o)).toEqual(['SD-NNP-001']);
    expect(o.body.HostConfig.SecurityOpt).toContain(opt);
    expect(o.body.HostConfig.SecurityOpt).not.toContain('no-new-privileges');
  });

  test.each(GO_TRUE.map((v) => `no-new-privileges=${v}`))('%s is kept, not duplicated', (opt) => {
    const o = run(['--security-opt', opt]);
    expect(rules(o)).toEqual([]);
    expect(o.body.HostConfig.SecurityOpt?.filter((s) => s.startsWith('no-new-privileges'))).toEqual([opt]);
  });
});
