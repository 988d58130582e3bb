import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Every engine test needs a real engine: start one (installing it if need be) before any test runs. */
export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/engine.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });
}
