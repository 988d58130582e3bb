#!/usr/bin/env node
// Derive profiles/seccomp/docker-default-names.json: the NAMES ONLY of the syscalls Docker's
// default seccomp profile allows, for the comparison in `sdocker seccomp stats`.
//
// Input: moby's profiles/seccomp/default.json at the engine's version, e.g.
//   git -C <moby checkout> show v20.10.24:profiles/seccomp/default.json > /tmp/default.json
//   node scripts/docker-default-names.mjs /tmp/default.json "v20.10.24 (5d6db84)" > profiles/seccomp/docker-default-names.json
// A name counts as allowed when an SCMP_ACT_ALLOW rule lists it (with or without argument
// conditions) and the rule applies to an amd64 container with Docker's default capabilities on a
// kernel newer than every minKernel in the file. No rule, argument or comment of the profile is kept.
import { readFileSync } from 'node:fs';

const [file, version = 'unknown'] = process.argv.slice(2);
if (!file) {
  console.error('usage: docker-default-names.mjs DEFAULT_JSON [VERSION]');
  process.exit(2);
}
const caps = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const arch = 'amd64';
const profile = JSON.parse(readFileSync(file, 'utf8'));
const names = new Set();
for (const rule of profile.syscalls ?? []) {
  if (rule.action !== 'SCMP_ACT_ALLOW') continue;
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (inc.arches?.length && !inc.arches.includes(arch)) continue;
  if (exc.arches?.includes(arch)) continue;
  if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) continue;
  if (exc.caps?.some((c) => caps.includes(c))) continue;
  for (const n of rule.names ?? [rule.name]) names.add(n);
}
const out = {
  source: 'github.com/moby/moby profiles/seccomp/default.json',
  version,
  note: `Names only, derived by scripts/docker-default-names.mjs: syscalls Docker ${version}'s default profile allows an ${arch} container with Docker's default capabilities (argument-filtered ones included). Used for comparison in sdocker seccomp stats.`,
  arch,
  caps,
  names: [...names].sort(),
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
