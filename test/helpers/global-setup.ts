import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// This run's id: test files label what they make with it (test/helpers/engine.ts), and the
// teardown removes only what carries it, so two test runs on one engine leave each other alone.
const RUN = (process.env.SDOCKER_TEST_RUN ??= randomUUID());
const LABEL = `label=sdocker.test.run=${RUN}`;

function docker(args: string[]): string {
  try {
    return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function ids(kind: 'ps' | 'volume' | 'network' | 'images'): string[] {
  const args = {
    ps: ['ps', '-aq', '--filter', LABEL],
    volume: ['volume', 'ls', '-q', '--filter', LABEL],
    network: ['network', 'ls', '-q', '--filter', LABEL],
    images: ['images', '-q', '--filter', LABEL],
  }[kind];
  return [...new Set(docker(args).split('\n').filter(Boolean))];
}

/**
 * Every engine test needs a real engine: start one (installing it if need be) before any test
 * runs. After the run, remove whatever this run made and labelled (containers, volumes, networks,
 * images), even when tests failed or a test file forgot its own cleanup. Test images cached by
 * tag carry no run label and stay for the next run.
 */
export default function setup(): () => void {
  const script = fileURLToPath(new URL('../../scripts/engine.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });
  return () => {
    const containers = ids('ps');
    if (containers.length) docker(['rm', '-f', '-v', ...containers]);
    const volumes = ids('volume');
    if (volumes.length) docker(['volume', 'rm', '-f', ...volumes]);
    const networks = ids('network');
    if (networks.length) docker(['network', 'rm', ...networks]);
    const images = ids('images');
    if (images.length) docker(['rmi', '-f', ...images]);
  };
}
