/**
 * Generators of docker global-option spellings for the generative tests (fast-check): every
 * spelling pflag accepts (long, `=value`, glued shorthands, bundles, strconv.ParseBool values),
 * values that look like commands, sdocker's own option, and malformed ones docker refuses. Each
 * piece says what it sets, so a test knows which lines docker accepts and with which globals.
 */
import fc from 'fast-check';
import type { GlobalOptions } from '../../src/cli/globals.js';

export interface Piece {
  tokens: string[];
  /** Fields this option sets (the last one wins), or undefined when docker refuses it. */
  set?: Partial<GlobalOptions>;
  bad?: boolean;
}

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
const BOOL_NAMES: [string, string | undefined, keyof GlobalOptions][] = [
  ['debug', 'D', 'debug'], ['tls', undefined, 'tls'], ['tlsverify', undefined, 'tlsVerify'], ['version', 'v', 'version'], ['help', 'h', 'help'],
];
const VALUE_NAMES: [string, string | undefined, keyof GlobalOptions][] = [
  ['host', 'H', 'host'], ['context', 'c', 'context'], ['log-level', 'l', 'logLevel'], ['config', undefined, 'configDir'],
  ['tlscacert', undefined, 'tlsCaCert'], ['tlscert', undefined, 'tlsCert'], ['tlskey', undefined, 'tlsKey'],
];
const LEVELS = ['debug', 'info', 'warn', 'WARNING', 'Error', 'fatal', 'panic', 'trace'];
/** Log levels logrus refuses: docker exits before running anything, sdocker refuses. */
export const BAD_LEVELS = ['D', 'run', '-D', 'verbose'];
/** Values that look like commands or flags: they must be read as values, not as the command. */
const TRICKY = ['run', 'create', 'container', 'ps', '--', '-D', '--rm', 'unix:///tmp/x.sock', '=', 'a=b', '-'];

const boolValue = fc.oneof(fc.constantFrom(...TRUE).map((v) => ({ v, b: true })), fc.constantFrom(...FALSE).map((v) => ({ v, b: false })));

const boolOpt: fc.Arbitrary<Piece> = fc.tuple(fc.constantFrom(...BOOL_NAMES), fc.integer({ min: 0, max: 3 }), boolValue).map(([[name, short, key], how, { v, b }]) => {
  if (how === 0) return { tokens: [`--${name}`], set: { [key]: true } };
  if (how === 1) return { tokens: [`--${name}=${v}`], set: { [key]: b } };
  if (short && how === 2) return { tokens: [`-${short}`], set: { [key]: true } };
  if (short) return { tokens: [`-${short}=${v}`], set: { [key]: b } };
  return { tokens: [`--${name}=${v}`], set: { [key]: b } };
});

const valueFor = (key: keyof GlobalOptions): fc.Arbitrary<string> => (key === 'logLevel' ? fc.constantFrom(...LEVELS, ...BAD_LEVELS) : fc.constantFrom(...TRICKY, 'ctx', '/tmp/cfg'));

const valueOpt: fc.Arbitrary<Piece> = fc.constantFrom(...VALUE_NAMES).chain(([name, short, key]) =>
  fc.tuple(valueFor(key), fc.integer({ min: 0, max: 3 })).map(([v, how]): Piece => {
    const set = { [key]: v } as Partial<GlobalOptions>;
    if (how === 0 || !short) return how % 2 === 0 ? { tokens: [`--${name}`, v], set } : { tokens: [`--${name}=${v}`], set };
    if (how === 1) return { tokens: [`-${short}`, v], set };
    if (how === 2) return v.length > 1 && v[0] === '=' ? { tokens: [`-${short}`, v], set } : { tokens: [`-${short}${v}`], set };
    return v.length >= 1 ? { tokens: [`-${short}=${v}`], set } : { tokens: [`-${short}`, v], set };
  }),
);

/** `-DvH value`, `-hDcctx`, `-vl=info`: booleans, then maybe one value-taking shorthand. */
const bundle: fc.Arbitrary<Piece> = fc
  .tuple(fc.array(fc.constantFrom(['D', 'debug'], ['v', 'version'], ['h', 'help']), { minLength: 1, maxLength: 4 }), fc.option(fc.constantFrom(...VALUE_NAMES.filter((n) => n[1]))), fc.integer({ min: 0, max: 2 }))
  .chain(([bools, valued, how]) => {
    const head = `-${bools.map((b) => b[0]).join('')}`;
    const set: Partial<GlobalOptions> = Object.fromEntries(bools.map((b) => [b[1], true]));
    if (!valued) return fc.constant<Piece>({ tokens: [head], set });
    const [, short, key] = valued;
    return valueFor(key).map((v): Piece => {
      const all = { ...set, [key]: v };
      if (how === 0) return { tokens: [`${head}${short}`, v], set: all };
      if (how === 1 || v === '' || v[0] === '=') return { tokens: [`${head}${short}`, v], set: all };
      return { tokens: [`${head}${short}${v}`], set: all };
    });
  });

const own: fc.Arbitrary<Piece> = fc.constantFrom<Piece>({ tokens: ['--allow-insecure-tcp'], set: { allowInsecureTcp: true } }, { tokens: ['-test.v'], set: {} }, { tokens: ['-Dtest.run=x'], set: { debug: true } });

const malformed: fc.Arbitrary<Piece> = fc.constantFrom<Piece>(
  { tokens: ['-D=x'], bad: true }, { tokens: ['--tls=yes'], bad: true }, { tokens: ['--debug='], bad: true }, { tokens: ['-D='], bad: true },
  { tokens: ['--frob'], bad: true }, { tokens: ['-x'], bad: true }, { tokens: ['---debug'], bad: true }, { tokens: ['--=1'], bad: true },
  { tokens: ['-Dx'], bad: true }, { tokens: ['--help=2'], bad: true }, { tokens: ['-hD='], bad: true },
);

export const RUN_SPELLINGS: { tokens: string[]; command: 'run' | 'create'; bad?: boolean }[] = [
  { tokens: ['run'], command: 'run' },
  { tokens: ['create'], command: 'create' },
  { tokens: ['container', 'run'], command: 'run' },
  { tokens: ['container', 'create'], command: 'create' },
  { tokens: ['container', '--help', 'run'], command: 'run' },
  { tokens: ['container', '-h', 'create'], command: 'create' },
  { tokens: ['container', '-hh', '--help=false', 'run'], command: 'run' },
  { tokens: ['container', '--', 'run'], command: 'run', bad: true },
  { tokens: ['container', '-D', 'run'], command: 'run', bad: true },
];

export const runArgs = fc.array(fc.constantFrom('--rm', '-u', '0', '-v', '/:/host', '--pid', 'host', '--privileged', '-D', '--', 'IMG', 'sh', '-c', 'id', 'run'), { maxLength: 8 });

export const globalPiece: fc.Arbitrary<Piece> = fc.oneof({ weight: 4, arbitrary: boolOpt }, { weight: 4, arbitrary: valueOpt }, { weight: 3, arbitrary: bundle }, { weight: 1, arbitrary: own }, { weight: 1, arbitrary: malformed });

