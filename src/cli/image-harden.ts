/**
 * `sdocker image harden IMAGE -t NEW [--drop-caps]`: load NEW, IMAGE plus one layer that removes
 * the setuid/setgid bits (and, with --drop-caps, the file capabilities) of every such file
 * (src/scan/harden.ts). Prints what changed and NEW's id; exit 0, 125 on errors.
 */
import { EngineClient } from '../engine/client.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { UsageError } from '../errors.js';
import { hardenImage } from '../scan/harden.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

const HELP = `Usage:  sdocker image harden [OPTIONS] IMAGE

Write a new image: IMAGE plus one layer that removes the setuid and setgid bits of every such file
(history and config kept, one history entry added). 'sdocker scan NEW' then finds none.

Options:
  -t, --tag NAME[:TAG]   the new image's name (required)
      --drop-caps        also remove file capabilities (security.capability)
`;

export function parseHardenArgs(argv: readonly string[]): { image: string; tag: string; dropCaps: boolean } | 'help' {
  let tag: string | undefined;
  let dropCaps = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return 'help';
    const m = /^(?:-t|--tag)(?:=(.*))?$/.exec(a);
    if (m) {
      tag = m[1] ?? argv[++i];
      if (tag === undefined) throw new UsageError(`image harden: ${a} needs a value`);
    } else if (a.startsWith('-t') && a.length > 2) tag = a.slice(2);
    else if (a === '--drop-caps') dropCaps = true;
    else if (a.startsWith('-') && a.length > 1) throw new UsageError(`image harden: unknown flag ${a}`);
    else rest.push(a);
  }
  if (rest.length !== 1) throw new UsageError(`image harden: expected one IMAGE, got ${rest.length}`);
  if (!tag) throw new UsageError('image harden: -t NEW is required (the hardened copy never replaces IMAGE silently)');
  return { image: rest[0]!, tag, dropCaps };
}

export async function imageHardenCommand(argv: string[], io: ProcessIO, globals: GlobalOptions = {}): Promise<number> {
  const args = parseHardenArgs(argv);
  if (args === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const client = new EngineClient(resolveEndpoint(globals, io.env));
  try {
    const r = await hardenImage(client, args.image, args.tag, { dropCaps: args.dropCaps });
    for (const c of r.changed) io.stderr.write(`  ${c.path}: ${c.from} -> ${c.to}${c.capsDropped ? ', capabilities removed' : ''}\n`);
    io.stderr.write(`${r.changed.length} files changed in one new layer (${r.diffId.slice(0, 19)}); loaded as ${r.tag}\n`);
    io.stdout.write(`${r.id}\n`);
    return 0;
  } finally {
    client.close();
  }
}
