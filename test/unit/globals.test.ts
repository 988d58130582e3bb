import { describe, expect, it } from 'vitest';
import { dispatch } from '../../src/cli/dispatch.js';
import { splitGlobals } from '../../src/cli/globals.js';
import { UsageError } from '../../src/errors.js';
import { parsePflag } from '../../src/flags/pflag.js';

const words = (s: string): string[] => (s === '' ? [] : s.split(' '));

/** What dispatch made of a line: `run:ARGS`, `guard:exec:ARGS`, `pass`, `help`, or `refused: MESSAGE`. */
function routeOf(line: string | string[]): string {
  try {
    const { route } = dispatch(typeof line === 'string' ? words(line) : line);
    if (route.kind === 'run') return `${route.command}:${route.args.join(' ')}`;
    if (route.kind === 'guard' || route.kind === 'sdocker') return `${route.kind}:${route.command}:${route.args.join(' ')}`;
    return route.kind;
  } catch (err) {
    if (err instanceof UsageError) return `refused: ${err.message}`;
    throw err;
  }
}

describe('docker global options, as pflag reads them', () => {
  // Each line was checked against docker CLI 28.2.2 (see the differential test in test/engine/globals-docker.test.ts).
  const table: [string, string][] = [
    ['run IMG', 'run:IMG'],
    ['create IMG', 'create:IMG'],
    ['-- run --rm -u 0 -v /:/host --pid host IMG', 'run:--rm -u 0 -v /:/host --pid host IMG'],
    ['-D=true run IMG', 'run:IMG'],
    ['-D=1 run IMG', 'run:IMG'],
    ['-D=F run IMG', 'run:IMG'],
    ['--debug=False run IMG', 'run:IMG'],
    ['--tls=false run IMG', 'run:IMG'],
    ['-D -D run IMG', 'run:IMG'],
    ['-DD run IMG', 'run:IMG'],
    ['-Dl info run IMG', 'run:IMG'],
    ['-Dc default create IMG', 'create:IMG'],
    ['-DH unix:///x run IMG', 'run:IMG'],
    ['-DHunix:///x run IMG', 'run:IMG'],
    ['-DH=unix:///x run IMG', 'run:IMG'],
    ['-H=unix:///x run IMG', 'run:IMG'],
    ['--host=unix:///x run IMG', 'run:IMG'],
    ['--host unix:///x container run IMG', 'run:IMG'],
    ['-c ctx -l debug --config /c container create IMG', 'create:IMG'],
    ['-lD run IMG', 'refused: Unable to parse logging level: D'],
    ['-l WARN run IMG', 'run:IMG'],
    ['-v run IMG', 'run:IMG'],
    ['--version run IMG', 'run:IMG'],
    ['-Dv run IMG', 'run:IMG'],
    ['-h run IMG', 'run:IMG'],
    ['--help run IMG', 'run:IMG'],
    ['--help=false run IMG', 'run:IMG'],
    ['-test.x run IMG', 'run:IMG'],
    ['-Dtest.v run IMG', 'run:IMG'],
    ['--allow-insecure-tcp run IMG', 'run:IMG'],
    ['container run IMG', 'run:IMG'],
    ['container --help run IMG', 'run:IMG'],
    ['container -h -h create IMG', 'create:IMG'],
    ['container -hh run IMG', 'run:IMG'],
    ['container --help=true run -u 0 IMG', 'run:-u 0 IMG'],
    ['-D container run IMG', 'run:IMG'],
    // refused: docker would refuse too, or read it with cobra's look-ahead instead of pflag's rules
    ['-D=x run IMG', 'refused: invalid argument "x" for "-D, --debug" flag: strconv.ParseBool: parsing "x": invalid syntax'],
    ['--tls=yes run IMG', 'refused: invalid argument "yes" for "--tls" flag: strconv.ParseBool: parsing "yes": invalid syntax'],
    ['--debug= run IMG', 'refused: invalid argument "" for "-D, --debug" flag: strconv.ParseBool: parsing "": invalid syntax'],
    ['-D= run IMG', "refused: unknown shorthand flag: '=' in -="],
    ['---debug run IMG', 'refused: bad flag syntax: ---debug'],
    ['--=x run IMG', 'refused: bad flag syntax: --=x'],
    ['--frob run IMG', 'refused: unknown flag: --frob'],
    ['-x run IMG', "refused: unknown shorthand flag: 'x' in -x"],
    ['-H', "refused: flag needs an argument: 'H' in -H"],
    ['--host', 'refused: flag needs an argument: --host'],
    ['-H a -H b run IMG', 'refused: specify only one -H'],
    ['-- -D run IMG', 'refused: sdocker cannot tell which command this is: "-D" follows "--"; put docker\'s global options before the command, without "--"'],
    ['container -- run IMG', 'refused: sdocker cannot tell which command this is: "--" after "container"; remove it'],
    ['container -D run IMG', "refused: unknown shorthand flag: 'D' in -D"],
    ['container --debug run IMG', 'refused: unknown flag: --debug'],
    // docker's command names are exact
    ['RUN IMG', 'pass'],
    ['container RUN IMG', 'pass'],
    ['Run IMG', 'pass'],
    // judged, then handed on
    ['exec -u 0 C id', 'guard:exec:-u 0 C id'],
    ['container exec C id', 'guard:exec:C id'],
    ['update --pids-limit -1 C', 'guard:update:--pids-limit -1 C'],
    ['container update C', 'guard:update:C'],
    ['build .', 'guard:build:.'],
    ['image build .', 'guard:build:.'],
    ['builder build .', 'guard:build:.'],
    ['-D -- build .', 'guard:build:.'],
    ['buildx build .', 'guard:build:.'],
    ['buildx b --network host .', 'guard:build:--network host .'],
    ['buildx --builder x -D build .', 'guard:build:.'],
    ['buildx ls', 'pass'],
    ['builder b .', 'guard:build:.'],
    ['builder --builder x build .', 'guard:build:.'],
    ['buildx -- build .', 'refused: sdocker cannot tell which command this is: "--" after "buildx"; remove it'],
    // everything else goes to docker unchanged
    ['ps -a', 'pass'],
    ['-v', 'pass'],
    ['--version', 'pass'],
    ['--help', 'pass'],
    ['-D', 'pass'],
    ['container ls', 'pass'],
    ['container', 'pass'],
    ['container --help', 'pass'],
    ['image ls', 'pass'],
    ['builder prune', 'pass'],
    ['volume ls', 'pass'],
    ['volume create x', 'guard:volume-create:x'],
    ['start c', 'guard:start:c'],
    ['container start c', 'guard:start:c'],
    ['restart -t 0 c', 'guard:restart:-t 0 c'],
    ['container restart c', 'guard:restart:c'],
    ['-', 'pass'],
    ['- run IMG', 'pass'],
    ['run', 'run:'],
    ['help', 'help'],
    ['help run', 'help'],
    ['', 'help'],
    ['seccomp record', 'sdocker:seccomp:record'],
    ['init', 'sdocker:init:'],
    ['audit-log', 'sdocker:audit-log:'],
  ];
  it.each(table)('%s → %s', (line, want) => {
    expect(routeOf(line)).toBe(want);
  });

  it('keeps the globals for the endpoint and hands docker the line without sdocker\'s own option', () => {
    const d = dispatch(['-DH', 'unix:///s', '--allow-insecure-tcp', '--tlsverify=0', '-c=ctx', '--config', '/cfg', 'ps', '--allow-insecure-tcp']);
    expect(d.globals).toMatchObject({ debug: true, host: 'unix:///s', allowInsecureTcp: true, tlsVerify: false, context: 'ctx', configDir: '/cfg' });
    expect(d.passArgv).toEqual(['-DH', 'unix:///s', '--tlsverify=0', '-c=ctx', '--config', '/cfg', 'ps', '--allow-insecure-tcp']);
    expect(d.route).toEqual({ kind: 'pass' });
  });

  it('reads values as pflag does: a value-taking shorthand takes the rest of the bundle', () => {
    expect(splitGlobals(['-Hunix:///a', 'x']).globals.host).toBe('unix:///a');
    expect(splitGlobals(['-c=', 'x']).globals.context).toBe('=');
    expect(splitGlobals(['-cD', 'x']).globals).toEqual({ context: 'D' });
    expect(splitGlobals(['-l', '-D', 'x']).globals).toEqual({ logLevel: '-D' });
    expect(splitGlobals(['--tls', '--tls=0', 'x']).globals.tls).toBe(false);
    expect(splitGlobals(['--', 'ps']).dashed).toBe(true);
  });

  it('parses interspersed flags for commands whose flags may follow their arguments', () => {
    const r = parsePflag(['C', '--pids-limit', '-1', 'D', '--', '--x'], [{ name: 'pids-limit', kind: 'value' }], { interspersed: true });
    expect(r.args).toEqual(['C', 'D', '--x']);
    expect(r.hits.map((h) => h.value)).toEqual(['-1']);
  });
});
