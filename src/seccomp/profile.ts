/**
 * The OCI / Docker seccomp profile JSON: model, reading (with file:line:column on errors) and
 * writing. Shape errors (a string where a list belongs) are thrown here; semantic findings
 * (unknown names, weak defaults, dead rules) come from validate.ts.
 */
import { UsageError } from '../errors.js';
import { FileReadError, readBoundedText } from '../fs/read-bounded.js';
import { parseJsonLocated, JsonSyntaxError, type JsonPath, type Position } from '../text/json-located.js';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface RuleFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SyscallRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: RuleFilter;
  excludes?: RuleFilter;
}

export interface ArchMapEntry {
  architecture: string;
  subArchitectures: string[];
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: ArchMapEntry[];
  listenerPath?: string;
  listenerMetadata?: string;
  flags?: string[];
  syscalls: SyscallRule[];
}

export interface LoadedProfile {
  profile: SeccompProfile;
  /** Where the file was read from (for messages). */
  source: string;
  locate(path: JsonPath): Position | undefined;
}

/** "file:3:7" for a path of the profile, or the file alone. */
export function where(loaded: Pick<LoadedProfile, 'source' | 'locate'>, path: JsonPath): string {
  const p = loaded.locate(path);
  return p ? `${loaded.source}:${p.line}:${p.column}` : loaded.source;
}

export async function readProfile(file: string): Promise<LoadedProfile> {
  let text: string;
  try {
    text = readBoundedText(file, 'seccomp');
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new UsageError(`seccomp profile ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.reason}`);
  }
  return parseProfile(text, file);
}

export function parseProfile(text: string, source = '<profile>'): LoadedProfile {
  let parsed;
  try {
    parsed = parseJsonLocated(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new UsageError(`${source}:${err.position.line}:${err.position.column}: invalid JSON: ${err.message}`);
    }
    throw err;
  }
  const loc = { source, locate: parsed.locate };
  const bad = (path: JsonPath, msg: string): never => {
    throw new UsageError(`${where(loc, path)}: ${path.length ? path.join('.') + ': ' : ''}${msg}`);
  };
  const root = parsed.value;
  if (!isObject(root)) return bad([], 'a seccomp profile is a JSON object');
  const str = (v: unknown, path: JsonPath): string => (typeof v === 'string' ? v : bad(path, 'expected a string'));
  const strList = (v: unknown, path: JsonPath): string[] => {
    if (!Array.isArray(v)) return bad(path, 'expected a list of strings');
    return v.map((x, k) => str(x, [...path, k]));
  };
  const uint = (v: unknown, path: JsonPath): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return bad(path, 'expected a non-negative integer');
    if (!Number.isSafeInteger(v)) return bad(path, 'value above 2^53 cannot be represented exactly in JSON numbers');
    return v;
  };
  const filter = (v: unknown, path: JsonPath): RuleFilter => {
    if (!isObject(v)) return bad(path, 'expected an object');
    const f: RuleFilter = {};
    if (v.caps != null) f.caps = strList(v.caps, [...path, 'caps']);
    if (v.arches != null) f.arches = strList(v.arches, [...path, 'arches']);
    if (v.minKernel != null && v.minKernel !== '') f.minKernel = str(v.minKernel, [...path, 'minKernel']);
    return f;
  };

  const profile: SeccompProfile = {
    defaultAction: root.defaultAction === undefined ? bad([], 'defaultAction is required') : str(root.defaultAction, ['defaultAction']),
    syscalls: [],
  };
  if (root.defaultErrnoRet != null) profile.defaultErrnoRet = uint(root.defaultErrnoRet, ['defaultErrnoRet']);
  if (root.architectures != null) profile.architectures = strList(root.architectures, ['architectures']);
  if (root.archMap != null) {
    if (!Array.isArray(root.archMap)) bad(['archMap'], 'expected a list');
    profile.archMap = (root.archMap as unknown[]).map((e, k) => {
      const path = ['archMap', k];
      if (!isObject(e)) return bad(path, 'expected an object');
      return {
        architecture: str(e.architecture, [...path, 'architecture']),
        subArchitectures: e.subArchitectures == null ? [] : strList(e.subArchitectures, [...path, 'subArchitectures']),
      };
    });
  }
  if (root.listenerPath != null) profile.listenerPath = str(root.listenerPath, ['listenerPath']);
  if (root.listenerMetadata != null) profile.listenerMetadata = str(root.listenerMetadata, ['listenerMetadata']);
  if (root.flags != null) profile.flags = strList(root.flags, ['flags']);
  if (root.syscalls != null) {
    if (!Array.isArray(root.syscalls)) bad(['syscalls'], 'expected a list');
    profile.syscalls = (root.syscalls as unknown[]).map((r, k): SyscallRule => {
      const path: JsonPath = ['syscalls', k];
      if (!isObject(r)) return bad(path, 'expected an object');
      let names: string[];
      if (r.names != null) names = strList(r.names, [...path, 'names']);
      else if (r.name != null) names = [str(r.name, [...path, 'name'])];
      else return bad(path, 'a rule needs "names"');
      if (r.action === undefined) bad(path, 'a rule needs "action"');
      const rule: SyscallRule = { names, action: str(r.action, [...path, 'action']) };
      if (r.errnoRet != null) rule.errnoRet = uint(r.errnoRet, [...path, 'errnoRet']);
      if (r.args != null) {
        if (!Array.isArray(r.args)) bad([...path, 'args'], 'expected a list');
        rule.args = (r.args as unknown[]).map((a, j) => {
          const ap: JsonPath = [...path, 'args', j];
          if (!isObject(a)) return bad(ap, 'expected an object');
          const arg: SeccompArg = {
            index: uint(a.index ?? 0, [...ap, 'index']),
            value: uint(a.value ?? 0, [...ap, 'value']),
            op: a.op === undefined ? bad(ap, 'an argument needs "op"') : str(a.op, [...ap, 'op']),
          };
          if (a.valueTwo != null) arg.valueTwo = uint(a.valueTwo, [...ap, 'valueTwo']);
          return arg;
        });
      }
      if (r.comment != null) rule.comment = str(r.comment, [...path, 'comment']);
      if (r.includes != null) rule.includes = filter(r.includes, [...path, 'includes']);
      if (r.excludes != null) rule.excludes = filter(r.excludes, [...path, 'excludes']);
      return rule;
    });
  }
  return { profile, source, locate: parsed.locate };
}

/** The profile as JSON text, in the key order Docker writes (stable, for diffs). */
export function formatProfile(profile: SeccompProfile): string {
  const out: Record<string, unknown> = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.architectures?.length) out.architectures = profile.architectures;
  if (profile.archMap?.length) out.archMap = profile.archMap;
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  if (profile.flags?.length) out.flags = profile.flags;
  out.syscalls = profile.syscalls.map((r) => {
    const o: Record<string, unknown> = { names: r.names, action: r.action };
    if (r.errnoRet !== undefined) o.errnoRet = r.errnoRet;
    if (r.args?.length) o.args = r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
    if (r.comment) o.comment = r.comment;
    if (r.includes && Object.keys(r.includes).length) o.includes = r.includes;
    if (r.excludes && Object.keys(r.excludes).length) o.excludes = r.excludes;
    return o;
  });
  return JSON.stringify(out, null, 2) + '\n';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
