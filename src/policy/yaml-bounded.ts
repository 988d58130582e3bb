/**
 * A profile's YAML, parsed with bounds: an alias bomb ("billion laughs"), nesting deep enough to
 * overflow the stack, or anything else the parser chokes on is a UsageError naming the file and
 * line, never a stack trace or a hang. (The file's size is bounded by the reader.)
 *
 * Messages come from a fixed table keyed by the parser's error code, not from the parser's text:
 * some of its messages quote the source ("Unresolved tag: !…", "Invalid escape sequence …"), and
 * the file may be any file the user can read.
 */
import { UsageError } from '../errors.js';

type Yaml = typeof import('yaml');
type Doc = ReturnType<Yaml['parseDocument']>;
type LineCounter = InstanceType<Yaml['LineCounter']>;

/** Alias expansions allowed while converting to plain values (the yaml package's default too). */
export const MAX_ALIAS_COUNT = 100;
/** Collections nested deeper than this are refused (a profile nests four or five levels). */
export const MAX_YAML_DEPTH = 64;
/**
 * The parser recurses into flow collections without a limit of its own: some 3,000 nested `[`
 * abort node (out of memory), not an exception. Their depth cannot be told without parsing
 * (quotes could hide brackets), so the text may hold at most this many `[` and `{` at all,
 * quoted or not: parsing that deep takes half a second, and the depth check then refuses it.
 */
export const MAX_FLOW_OPENINGS = 1000;

const YAML_ERRORS: Record<string, string> = {
  ALIAS_PROPS: 'an alias cannot have a tag or an anchor',
  BAD_ALIAS: 'invalid alias',
  BAD_COLLECTION_TYPE: 'a tag used on the wrong kind of collection',
  BAD_DIRECTIVE: 'invalid directive',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchor or tag in the wrong place',
  BAD_SCALAR_START: 'a plain value cannot start with this character',
  BLOCK_AS_IMPLICIT_KEY: 'a nested mapping or list cannot be an implicit key',
  BLOCK_IN_FLOW: 'a block mapping or list cannot be inside a flow collection',
  DUPLICATE_KEY: 'map keys must be unique',
  KEY_OVER_1024_CHARS: 'an implicit key is longer than 1024 characters',
  MISSING_CHAR: 'a character is missing (a comma, colon, quote or closing bracket)',
  MULTILINE_IMPLICIT_KEY: 'implicit keys need to be on a single line',
  MULTIPLE_ANCHORS: 'a node has more than one anchor',
  MULTIPLE_DOCS: 'a profile is a single YAML document',
  MULTIPLE_TAGS: 'a node has more than one tag',
  NON_STRING_KEY: 'map keys must be strings',
  RESOURCE_EXHAUSTION: `nested too deeply or too large`,
  TAB_AS_INDENT: 'tabs are not allowed as indentation',
  TAG_RESOLVE_FAILED: 'unknown or invalid tag',
  UNEXPECTED_TOKEN: 'unexpected token',
};

export interface BoundedYaml {
  doc: Doc;
  lc: LineCounter;
  value: unknown;
}

export function parseYamlBounded(yaml: Yaml, text: string, path: string): BoundedYaml {
  const lc = new yaml.LineCounter();
  const at = (offset: number | undefined) => {
    if (offset === undefined) return '';
    const p = lc.linePos(offset);
    return `:${p.line}:${p.col}`;
  };
  const refuse = (offset: number | undefined, msg: string): never => {
    throw new UsageError(`${path}${at(offset)}: invalid YAML: ${msg}`);
  };
  let openings = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 0x5b || c === 0x7b) && ++openings > MAX_FLOW_OPENINGS) {
      const line = text.slice(0, i).split('\n').length;
      throw new UsageError(`${path}:${line}: more than ${MAX_FLOW_OPENINGS} '[' and '{' in one profile (flow collections could nest too deeply to parse); write long lists as block lists`);
    }
  }
  let doc: Doc;
  try {
    doc = yaml.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    if (err instanceof RangeError) return refuse(undefined, `nested deeper than ${MAX_YAML_DEPTH} levels`);
    throw err;
  }
  const err = doc.errors[0];
  if (err) refuse(err.pos[0], YAML_ERRORS[err.code] ?? `syntax error (${err.code})`);
  checkDepth(yaml, doc, (offset) => refuse(offset, `nested deeper than ${MAX_YAML_DEPTH} levels`));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const alias = firstAlias(yaml, doc);
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      return refuse(alias, `aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} expansions: an alias bomb?)`);
    }
    if (e instanceof RangeError) return refuse(alias, 'aliases nest too deeply');
    return refuse(alias, 'cannot resolve the aliases');
  }
  return { doc, lc, value };
}

/** Offset of the first alias node, for the message. */
function firstAlias(yaml: Yaml, doc: Doc): number | undefined {
  let offset: number | undefined;
  yaml.visit(doc, {
    Alias(_k, node) {
      offset = node.range?.[0];
      return yaml.visit.BREAK;
    },
  });
  return offset;
}

/** Iterative (no recursion of our own): the depth of collections, aliases not followed. */
function checkDepth(yaml: Yaml, doc: Doc, tooDeep: (offset: number | undefined) => never): void {
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (yaml.isMap(node) || yaml.isSeq(node)) {
      if (depth >= MAX_YAML_DEPTH) tooDeep(node.range?.[0]);
      for (const item of node.items) {
        if (yaml.isPair(item)) {
          stack.push({ node: item.key, depth: depth + 1 }, { node: item.value, depth: depth + 1 });
        } else stack.push({ node: item, depth: depth + 1 });
      }
    }
  }
}
