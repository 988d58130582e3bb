/**
 * Writing what learn found into sdocker.yaml (pure, text in, text out): the yaml package's Document
 * API, so the user's comments, key order and other entries stay as they were. Lists are extended,
 * not rewritten (a tmpfs or capability already there keeps its line and comment); each value learn
 * sets carries its reason, as a `reason:` where the schema has one (allow.*), else as a comment.
 */
import { capName } from '../api/capabilities.js';
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { UsageError } from '../errors.js';
import type { ProfileFix } from '../diagnose/types.js';
import type { LearnedEntry } from './step.js';

export function parseProfileText(text: string, file: string): Document {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new UsageError(`${file}: cannot merge into it: ${doc.errors[0]!.message}`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new UsageError(`${file}: cannot merge into it: not a mapping`);
  return doc;
}

function mapAt(doc: Document, key: string): YAMLMap {
  let m = doc.get(key, true) as Node | undefined;
  if (m === undefined || m === null || (isScalar(m) && m.value === null)) {
    m = doc.createNode({}) as YAMLMap;
    doc.set(key, m);
  }
  if (!isMap(m)) throw new UsageError(`sdocker.yaml: ${key} is not a mapping; learn cannot add to it`);
  return m;
}

function seqIn(doc: Document, map: YAMLMap, key: string): YAMLSeq | undefined {
  const s = map.get(key, true) as Node | undefined;
  if (s === undefined) return undefined;
  if (!isSeq(s)) throw new UsageError(`sdocker.yaml: ${key} is not a list; learn cannot add to it`);
  void doc;
  return s;
}

const comment = (reasons: string[]) => reasons.map((r) => ` ${r}`).join('\n');

function reasonsFor(entries: LearnedEntry[], key: string, value?: string): string[] {
  return [...new Set(entries.filter((e) => e.key === key && (value === undefined || e.value === value || e.value.startsWith(`${value} (`))).map((e) => e.reason))];
}

function setScalar(doc: Document, map: YAMLMap, key: string, value: string | number, reasons: string[]): void {
  const node = doc.createNode(value);
  if (reasons.length) node.comment = comment(reasons);
  map.set(key, node);
}

/**
 * Add the step's fix to the document. Returns whether anything changed (the same fix twice is no
 * progress: learn stops then).
 */
export function applyFix(doc: Document, fix: ProfileFix, entries: LearnedEntry[]): boolean {
  const before = doc.toString();
  const d = fix.defaults;
  if (d && Object.keys(d).length) {
    const defaults = mapAt(doc, 'defaults');
    if (d.user !== undefined && defaults.get('user') !== d.user) setScalar(doc, defaults, 'user', d.user, reasonsFor(entries, 'defaults.user'));
    if (d.memory !== undefined) setScalar(doc, defaults, 'memory', d.memory, reasonsFor(entries, 'defaults.memory'));
    if (d.pids !== undefined) setScalar(doc, defaults, 'pids', d.pids, reasonsFor(entries, 'defaults.pids'));
    if (d.seccomp !== undefined) setScalar(doc, defaults, 'seccomp', d.seccomp, reasonsFor(entries, 'defaults.seccomp'));
    if (d.tmpfs) {
      let seq = seqIn(doc, defaults, 'tmpfs');
      if (!seq) {
        seq = doc.createNode([]) as YAMLSeq;
        defaults.set('tmpfs', seq);
      }
      for (const t of d.tmpfs) {
        const at = seq.items.findIndex((it) => isMap(it) && it.get('path') === t.path);
        const existing = at >= 0 ? (seq.items[at] as YAMLMap) : undefined;
        if (existing && existing.get('size') === t.size && existing.get('options') === t.options) continue;
        const item = doc.createNode(t) as YAMLMap;
        item.flow = true;
        const reasons = reasonsFor(entries, 'defaults.tmpfs', t.path);
        if (reasons.length) item.commentBefore = comment(reasons);
        else if (existing?.commentBefore) item.commentBefore = existing.commentBefore;
        if (existing) seq.items[at] = item;
        else seq.items.push(item);
      }
    }
    if (d.capabilities) {
      let seq = seqIn(doc, defaults, 'capabilities');
      if (!seq) {
        seq = doc.createNode([]) as YAMLSeq;
        seq.flow = true;
        defaults.set('capabilities', seq);
      }
      const have = new Set(seq.items.map((it) => capName(String(isScalar(it) ? it.value : it))));
      for (const c of d.capabilities) if (!have.has(c)) seq.items.push(doc.createNode(c));
    }
  }
  const a = fix.allow;
  if (a?.capabilities?.length || a?.root) {
    const allow = mapAt(doc, 'allow');
    if (a.capabilities?.length) {
      let seq = seqIn(doc, allow, 'capabilities');
      if (!seq) {
        seq = doc.createNode([]) as YAMLSeq;
        allow.set('capabilities', seq);
      }
      const have = new Set(seq.items.map((it) => (isMap(it) ? capName(String(it.get('name'))) : '')));
      for (const c of a.capabilities) {
        if (have.has(c.name)) continue;
        const item = doc.createNode({ name: c.name, reason: c.reason }) as YAMLMap;
        item.flow = true;
        seq.items.push(item);
      }
    }
    if (a.root && !allow.has('root')) allow.set('root', doc.createNode({ reason: a.root.reason }));
  }
  return doc.toString() !== before;
}

/** A learned seccomp profile for defaults.seccomp, with its reason. */
export function setSeccomp(doc: Document, path: string, reason: string): void {
  setScalar(doc, mapAt(doc, 'defaults'), 'seccomp', path, [reason]);
}
