/**
 * Generative test over docker's global-option spellings (issue 7, point 1): for thousands of
 * command lines made of global options in every spelling pflag accepts (long, `=value`, glued
 * shorthands, bundles, strconv.ParseBool values, `--`), some malformed, then run/create in each
 * spelling docker accepts, the dispatcher refuses (UsageError, exit 125) or routes to sdocker's
 * policy pipeline with exactly the run arguments — run/create is never handed to docker. A model
 * of what each generated option means says which lines must be accepted and with which globals.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../src/cli/dispatch.js';
import type { GlobalOptions } from '../../src/cli/globals.js';
import { UsageError } from '../../src/errors.js';
import { BAD_LEVELS, globalPiece, RUN_SPELLINGS, runArgs } from '../helpers/global-spellings.js';

const line = fc.record({
  globals: fc.array(globalPiece, { maxLength: 6 }),
  dash: fc.boolean(),
  spelling: fc.constantFrom(...RUN_SPELLINGS),
  args: runArgs,
});

describe('dispatch over generated global-option spellings', () => {
  it('never hands run/create to docker: refused, or routed to the policy with exactly the run arguments', () => {
    fc.assert(
      fc.property(line, ({ globals, dash, spelling, args }) => {
        const argv = [...globals.flatMap((g) => g.tokens), ...(dash ? ['--'] : []), ...spelling.tokens, ...args];
        const hosts = globals.filter((g) => g.set && 'host' in g.set).length;
        const level = globals.reduce<string | undefined>((l, g) => (g.set && 'logLevel' in g.set ? g.set.logLevel : l), undefined);
        const mustRefuse = globals.some((g) => g.bad) || spelling.bad || hosts > 1 || (level !== undefined && BAD_LEVELS.includes(level));
        let d: ReturnType<typeof dispatch>;
        try {
          d = dispatch(argv);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect(mustRefuse, `refused a line docker accepts: ${JSON.stringify(argv)}: ${(err as Error).message}`).toBe(true);
          return;
        }
        expect(mustRefuse, `accepted a line docker refuses: ${JSON.stringify(argv)}`).toBe(false);
        expect(d.route).toEqual({ kind: 'run', command: spelling.command, args });
        // the globals as docker would set them (the last occurrence wins)
        const want: Partial<GlobalOptions> = {};
        for (const g of globals) Object.assign(want, g.set);
        if (hosts > 0) want.hostCount = hosts;
        expect(d.globals).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads any token soup before run/create without crashing: a UsageError, or a route with the run arguments intact', () => {
    const anyToken = fc.oneof(fc.constantFrom('-D', '--', '-H', '-c', '-l', 'info', '-v', '-h', '--help', 'container', '-D=1', '--tls=0', '-Dl', '-x', '='), fc.string({ maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(anyToken, { maxLength: 6 }), fc.constantFrom('run', 'create'), runArgs, (pre, cmd, args) => {
        const argv = [...pre, cmd, ...args];
        let d: ReturnType<typeof dispatch>;
        try {
          d = dispatch(argv);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          return;
        }
        expect(d.passArgv.filter((t) => t !== '--allow-insecure-tcp')).toEqual(argv.filter((t, i) => t !== '--allow-insecure-tcp' || i > argv.indexOf(cmd)));
        if (d.route.kind === 'run') expect(argv.slice(argv.length - d.route.args.length)).toEqual(d.route.args);
      }),
      { numRuns: 2000 },
    );
  });
});
