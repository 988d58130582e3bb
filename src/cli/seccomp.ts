/**
 * `sdocker seccomp check|stats|record`. libseccomp (koffi) loads only here, on demand.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readBoundedText } from '../fs/read-bounded.js';
import { fileURLToPath } from 'node:url';
import { PolicyError, UsageError } from '../errors.js';
import type { GlobalOptions } from './globals.js';
import type { ProcessIO } from '../io/process-io.js';

const HELP = `Usage:  sdocker seccomp COMMAND

Seccomp profiles: check them, compare them, record one for a workload.

Commands:
  check [--output json] FILE
        Validate a profile: unknown names for its architectures, duplicates, rules that never
        match, a default action that allows everything. Exit status 1 when a finding is an error.
  stats [--output json] [FILE...]
        Allowed names per architecture and BPF instruction counts, beside the engine's default
        profile (Docker 20.10's allow list). Without FILE: sdocker's shipped default.
  record [-o FILE] [--merge FILE]... [--no-base] [--no-margin] [run flags] IMAGE [CMD...]
        Run the workload under the same policy as sdocker run with those flags, with a logging
        profile in place of the seccomp profile; collect the syscalls its processes make and
        write a minimal whitelist (ENOSYS for the rest) to FILE or stdout. Needs root.
        The container and its anonymous volumes are removed afterwards. A margin of calls that
        short trials rarely reach (reaping children, socket introspection, what a shell started
        by docker exec needs) is added and listed; --no-margin leaves it out.
`;

export const SHIPPED_DEFAULT = fileURLToPath(new URL('../../profiles/seccomp/default.json', import.meta.url));

/** `globals`: docker's top-level options (-H, --context, TLS...): the engine `record` talks to. */
export async function seccompCommand(argv: string[], io: ProcessIO, globals: GlobalOptions = {}): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'check':
      return check(rest, io);
    case 'stats':
      return stats(rest, io);
    case 'record':
      return record(rest, io, globals);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(HELP);
      return sub === undefined ? 1 : 0;
    default:
      throw new UsageError(`sdocker seccomp: unknown command "${sub}"\n\n${HELP}`);
  }
}

function takeOutput(args: string[]): { json: boolean; rest: string[] } {
  const rest: string[] = [];
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let v: string | undefined;
    if (a === '--output' || a === '--format') v = args[++i];
    else if (a.startsWith('--output=') || a.startsWith('--format=')) v = a.slice(a.indexOf('=') + 1);
    else {
      rest.push(a);
      continue;
    }
    if (v !== 'json' && v !== 'text') throw new UsageError(`--output: expected "text" or "json", got "${v ?? ''}"`);
    json = v === 'json';
  }
  return { json, rest };
}

async function check(args: string[], io: ProcessIO): Promise<number> {
  const { json, rest } = takeOutput(args);
  if (rest.length !== 1 || rest[0]!.startsWith('-')) throw new UsageError('usage: sdocker seccomp check [--output json] FILE');
  const file = rest[0]!;
  const { readProfile } = await import('../seccomp/profile.js');
  const { checkProfile, hasErrors, isWhitelist } = await import('../seccomp/validate.js');
  const loaded = await readProfile(resolve(io.cwd, file));
  const findings = checkProfile(loaded.profile, { locate: loaded.locate });
  const errors = hasErrors(findings);
  if (json) {
    io.stdout.write(JSON.stringify({ file, whitelist: isWhitelist(loaded.profile), ok: !errors, findings }, null, 2) + '\n');
  } else {
    for (const f of findings) {
      const at = f.line ? `${file}:${f.line}:${f.column}` : file;
      io.stdout.write(`${at}: ${f.severity}: ${f.message} [${f.code}]\n`);
    }
    const count = (s: string) => findings.filter((f) => f.severity === s).length;
    io.stdout.write(`${file}: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} note(s)` +
      `${isWhitelist(loaded.profile) ? '' : '; not a whitelist'}\n`);
  }
  return errors ? 1 : 0;
}

async function stats(args: string[], io: ProcessIO): Promise<number> {
  const { json, rest } = takeOutput(args);
  const files = rest.length ? rest : [SHIPPED_DEFAULT];
  const { readProfile } = await import('../seccomp/profile.js');
  const { libseccomp } = await import('../seccomp/libseccomp.js');
  const { profileStats, nameListStats, dockerDefaultNames } = await import('../seccomp/stats.js');
  const lib = libseccomp();
  const all = [];
  for (const f of files) {
    const loaded = await readProfile(resolve(io.cwd, f));
    all.push(profileStats(f === SHIPPED_DEFAULT ? 'sdocker default' : f, loaded.profile, lib));
  }
  const docker = dockerDefaultNames();
  all.push(nameListStats(`engine default (Docker ${docker.version})`, docker, lib));
  if (json) {
    io.stdout.write(JSON.stringify({ libseccomp: lib.version, profiles: all }, null, 2) + '\n');
    return 0;
  }
  const short = (a: string) => a.slice('SCMP_ARCH_'.length).toLowerCase();
  const rows: string[][] = [['PROFILE', 'HOST', 'ARCH', 'ALLOWED', 'CONDITIONAL', 'BPF']];
  for (const s of all) {
    for (const n of s.natives) {
      n.arches.forEach((a, k) => {
        rows.push([k === 0 ? s.label : '', k === 0 ? short(n.native) : '', short(a.arch), String(a.allowed), String(a.conditional),
          k === 0 ? `${s.note ? '~' : ''}${n.instructions}` : '']);
      });
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) io.stdout.write(r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd() + '\n');
  for (const s of all) if (s.note) io.stdout.write(`~ ${s.label}: ${s.note}\n`);
  io.stdout.write(`libseccomp ${lib.version}; ALLOWED counts names that exist on the arch; BPF: instructions of libseccomp's program for that host\n`);
  return 0;
}

interface RecordArgs {
  output?: string;
  merge: string[];
  base: boolean;
  margin: boolean;
  runArgs: string[];
}

/** Take sdocker's own record flags from before the image; the rest goes to the docker run parser. */
export async function splitRecordArgs(argv: string[]): Promise<RecordArgs> {
  const { flagByLong, flagByShort } = await import('../flags/table.js');
  const out: RecordArgs = { merge: [], base: true, margin: true, runArgs: [] };
  let i = 0;
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`flag needs an argument: ${flag}`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-o' || a === '--output-file') out.output = value(a);
    else if (a.startsWith('--output-file=')) out.output = a.slice(14);
    else if (a === '--merge') out.merge.push(value(a));
    else if (a.startsWith('--merge=')) out.merge.push(a.slice(8));
    else if (a === '--no-base') out.base = false;
    else if (a === '--no-margin') out.margin = false;
    else if (a === '--' || !a.startsWith('-') || a === '-') break;
    else {
      out.runArgs.push(a);
      if (a.startsWith('--')) {
        const spec = flagByLong(a.slice(2));
        if (spec && spec.kind !== 'bool' && !a.includes('=')) out.runArgs.push(value(a));
      } else {
        const letters = a.slice(1);
        for (let k = 0; k < letters.length; k++) {
          const spec = flagByShort(letters[k]!);
          if (!spec || spec.kind === 'bool') continue;
          if (k === letters.length - 1) out.runArgs.push(value(a));
          break;
        }
      }
    }
  }
  out.runArgs.push(...argv.slice(i));
  return out;
}

/**
 * The workload runs under the same policy as `sdocker run` with the same flags (capabilities,
 * no-new-privileges, user, read-only root, bind volumes, limits...): loadProfile and decide of
 * run-policy.ts, refusals included. Only the seccomp profile differs: the recording's logging
 * profile takes the place of the policy's, so the recorded profile fits the hardened container.
 */
async function record(argv: string[], io: ProcessIO, globals: GlobalOptions): Promise<number> {
  const opts = await splitRecordArgs(argv);
  const { buildRunRequest } = await import('../flags/request.js');
  const req = buildRunRequest(opts.runArgs, 'run', { cwd: io.cwd, env: io.env, readFile: (p, kind) => readBoundedText(resolve(io.cwd, p), kind) });
  for (const n of req.notices) io.stderr.write(`${n}\n`);
  if (req.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (req.detach) throw new UsageError('sdocker seccomp record: -d is not supported; the recording ends when the workload exits');
  if (req.sdocker.dryRun) throw new UsageError('sdocker seccomp record: --dry-run is not supported; use sdocker run --dry-run to see the container');
  const { readProfile, formatProfile } = await import('../seccomp/profile.js');
  const merged = [];
  for (const m of opts.merge) merged.push((await readProfile(resolve(io.cwd, m))).profile);

  const { checkRecordPrivileges, recordWorkload, generateProfile, recordedNames } = await import('../seccomp/record.js');
  checkRecordPrivileges();
  const given = req.body.HostConfig.SecurityOpt ?? [];
  const others = given.filter((o) => !/^seccomp[=:]/.test(o));
  if (others.length !== given.length) {
    io.stderr.write('sdocker seccomp record: the --security-opt seccomp=... given is replaced by the recording profile\n');
  }
  const recReq = { ...req, body: { ...req.body, HostConfig: { ...req.body.HostConfig, SecurityOpt: given.length ? others : null } } };
  const { EngineClient } = await import('../engine/client.js');
  const { httpApi } = await import('../engine/http-api.js');
  const { resolveEndpoint } = await import('../engine/endpoint.js');
  const { runPipeline } = await import('../pipeline/run.js');
  const policy = await import('../pipeline/run-policy.js');
  const api = httpApi(new EngineClient(resolveEndpoint(globals, io.env)));
  // The profile goes to stdout unless -o: the workload's stdout then goes to stderr.
  const workloadIO: ProcessIO = opts.output ? io : { ...io, stdout: io.stderr };
  try {
    // The policy's own seccomp profile is not read: it may be the very file being recorded.
    const policyProfile = await policy.loadProfile(recReq, io, { seccomp: false });
    let rec: Awaited<ReturnType<typeof recordWorkload>> | undefined;
    // The run pipeline as for sdocker run, but the session runs under the recorder, attached and in
    // the foreground whatever the flags said (the recorder waits for the exit), and is removed
    // afterwards with its anonymous volumes, --rm or not: the recording is the product. The
    // created container differs from the decision on purpose (its seccomp profile), so it is not
    // judged against it; no diagnosis: the recording is the report.
    const result = await runPipeline(api, recReq, policyProfile, {
      io: workloadIO,
      policy,
      configDir: globals.configDir,
      verifyCreated: false,
      diagnose: false,
      recordChanges: [{
        field: 'HostConfig.SecurityOpt', from: 'the policy\'s seccomp profile', to: 'seccomp=<recording profile: SCMP_ACT_LOG>', rule: 'SD-SECCOMP-002',
        why: 'sdocker seccomp record: the workload runs once under a profile that logs every system call',
      }],
      session: async (session, run) => {
        rec = await recordWorkload(async (seccompOpt) => {
          const hc = session.body.HostConfig;
          const SecurityOpt = [...(hc.SecurityOpt ?? []).filter((o) => !/^seccomp[=:]/.test(o)), seccompOpt];
          const r = await run({ ...session, detach: false, body: { ...session.body, HostConfig: { ...hc, SecurityOpt, AutoRemove: true } } });
          return { containerId: r.containerId, exitCode: r.exitCode };
        });
        return { containerId: rec.containerId, exitCode: rec.exitCode };
      },
    });
    if (result.refused) throw new PolicyError('');
    if (!rec) throw new Error('sdocker seccomp record: the workload did not run');
    for (const w of rec.warnings) io.stderr.write(`sdocker seccomp record: warning: ${w}\n`);
    const seen = recordedNames(rec);
    const { recordingMargin } = await import('../seccomp/margin.js');
    const margin = opts.margin ? recordingMargin(seen) : [];
    const names = [...new Set([...seen, ...margin.flatMap((m) => m.names)])].sort();
    const profile = generateProfile(names, { base: opts.base, merge: merged });
    const text = formatProfile(profile);
    if (opts.output) writeFileSync(resolve(io.cwd, opts.output), text);
    else io.stdout.write(text);
    const perArch = [...rec.syscalls].map(([a, s]) => `${a.slice(10).toLowerCase()} ${s.size}`).join(', ');
    io.stderr.write(
      `sdocker seccomp record: ${seen.length} syscall names from ${rec.kept} records of ${rec.pids} process(es) (${perArch || 'none'}); ` +
        `profile allows ${profile.syscalls[0]!.names.length + (names.includes('clone') ? 1 : 0) + (names.includes('personality') ? 1 : 0)} names` +
        `${opts.output ? `, written to ${opts.output}` : ''}; workload exit status ${rec.exitCode}\n`,
    );
    for (const m of margin) io.stderr.write(`sdocker seccomp record: margin (${m.group}): ${m.names.join(' ')}: ${m.reason}\n`);
    io.stderr.write(
      'sdocker seccomp record: only what ran was recorded: background work (saves, rotations, reloads) and tools run by docker exec ' +
        'need their own exercise in the recorded command, or the calls only they make will fail with ENOSYS/EPERM\n',
    );
    return rec.exitCode === 0 ? 0 : rec.exitCode;
  } finally {
    api.close();
  }
}
