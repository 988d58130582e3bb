/**
 * Real server images built from Debian's packages by scripts/real-images.sh (mmdebstrap | docker
 * import), cached by a tag that carries the recipe's hash: the first run on an engine builds them
 * (1-7 minutes each, measured in README), later runs find them. Only the engine tests that need
 * them call this, in their beforeAll: unit tests never pay for it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './engine.js';

export type RealImage = 'nginx' | 'postgres' | 'redis';

/** Long enough for a cold build of all three on a slow, shared machine. */
export const REAL_IMAGE_BUILD_MS = 20 * 60_000;

/** Build (or find) the images; their tags by name. */
export function realImages(names: RealImage[]): Promise<Record<RealImage, string>> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(REPO_ROOT, 'scripts', 'real-images.sh'), ...names], { timeout: REAL_IMAGE_BUILD_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`scripts/real-images.sh failed: ${err.message}\n${stderr.slice(-4000)}`));
      if (stderr.trim()) process.stderr.write(stderr.split('\n').filter((l) => l.startsWith('real-images.sh:')).map((l) => `${l}\n`).join(''));
      const tags = {} as Record<RealImage, string>;
      for (const line of stdout.trim().split('\n')) {
        const [name, tag] = line.split(' ');
        if (name && tag) tags[name as RealImage] = tag;
      }
      for (const n of names) if (!tags[n]) return reject(new Error(`scripts/real-images.sh printed no tag for ${n}: ${stdout}`));
      resolve(tags);
    });
  });
}
