/**
 * Parses and validates patch text (YAML or JSON) into a {@link Patch}, with errors
 * that name the file, the line, the path (`mappings[2].to`), what was expected and
 * what came. Pure: the caller reads the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { PatchSchema, patchJsonSchema, type Patch } from './patchSchema.ts';

/** One problem in a patch. */
export interface PatchError {
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** 1-based column on that line, when known (editors put the mark there). */
  column?: number;
  /** Path into the patch, e.g. `mappings[2].to`; empty for the whole document. */
  path: string;
  message: string;
}

/** A valid patch comes with `lineOf`: the line of a path in it, for errors found later (a sample file that is missing). */
export type PatchResult =
  | { ok: true; patch: Patch; lineOf?: (path: readonly PropertyKey[]) => number | undefined; posOf?: (path: readonly PropertyKey[]) => { line: number; col: number } | undefined }
  | { ok: false; errors: PatchError[] };

/** `file:line: path: message`, the one-line form the CLI prints. */
export function formatPatchError(e: PatchError): string {
  const where = e.line ? `${e.file}:${e.line}` : e.file;
  return e.path ? `${where}: ${e.path}: ${e.message}` : `${where}: ${e.message}`;
}

/** Formats a path array as `voices.pad.filter.frequency` / `mappings[2].to`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** Largest patch file: patches are hand-written; anything bigger is a mistake or an attack. */
export const MAX_PATCH_BYTES = 4 * 1024 * 1024;
/** Most map keys in one patch (a large installation patch has a few thousand). */
export const MAX_PATCH_KEYS = 100_000;
/** Most aliases (`*name`) expanded in one patch: a few are handy, many are a "billion laughs". */
export const MAX_PATCH_ALIASES = 100;
/** Most problems listed for one patch: the first ones tell what is wrong. */
const MAX_ERRORS = 50;

/** Options of {@link parsePatchText}: the limits (tests lower them). */
export interface PatchLimits {
  maxBytes?: number;
  maxKeys?: number;
  maxAliases?: number;
}

/**
 * Walks the document once: counts keys (against the limit) and finds duplicate
 * keys with a Set per map, so checking is linear in the patch's size (yaml's own
 * `uniqueKeys` compares each key with every earlier one: 41 s for 30,000 keys).
 */
function checkKeys(doc: ReturnType<typeof parseDocument>, lineCounter: LineCounter, file: string, maxKeys: number, what: string): { errors: PatchError[]; firstAlias?: number } {
  const errors: PatchError[] = [];
  const lineAt = (n: YamlNode | null | undefined) => (n?.range ? lineCounter.linePos(n.range[0]).line : undefined);
  const colAt = (n: YamlNode | null | undefined) => (n?.range ? lineCounter.linePos(n.range[0]).col : undefined);
  let keys = 0;
  let firstAlias: number | undefined;
  const stack: unknown[] = [doc.contents];
  while (stack.length && errors.length < MAX_ERRORS) {
    const node = stack.pop();
    // The walk goes last key first: the alias with the lowest line is the first in the file.
    if (isAlias(node)) firstAlias = Math.min(firstAlias ?? Infinity, lineAt(node) ?? Infinity);
    else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (++keys > maxKeys) return { errors: [{ file, line: lineAt(pair.key as YamlNode), column: colAt(pair.key as YamlNode), path: '', message: `more than ${maxKeys} keys, over the limit for a ${what}` }] };
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined) {
          if (seen.has(key)) errors.push({ file, line: lineAt(pair.key as YamlNode), column: colAt(pair.key as YamlNode), path: '', message: `syntax error: Map keys must be unique ("${key}" is repeated)` });
          seen.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) for (const item of node.items) stack.push(item);
  }
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { errors, firstAlias: Number.isFinite(firstAlias) ? firstAlias : undefined };
}

/** What {@link parseSchemaText} needs to know of the format it reads. */
export interface SchemaTextOptions extends PatchLimits {
  /** What the document is, in messages ("patch", "show file"). */
  what?: string;
  /** The message when the document is not a map ("expected a patch object (name, streams, voices, ...)"). */
  expected?: string;
  /** Keys the format knows, for "did you mean" hints (default: the patch format's). */
  knownKeys?: () => string[];
}

/** A parsed document, or every problem in it with file, line and path. */
export type SchemaTextResult<T> = { ok: true; value: T; lineOf: (path: readonly PropertyKey[]) => number | undefined; posOf: (path: readonly PropertyKey[]) => { line: number; col: number } | undefined } | { ok: false; errors: PatchError[] };

/**
 * Parses YAML or JSON text and validates it against a zod schema, with the error
 * quality of patches: syntax errors and duplicate keys with their line, size, key
 * and alias limits, and schema issues as `file:line: path: message` (unknown keys
 * with a "did you mean"). Patches and show files both read through it.
 */
export function parseSchemaText<S extends z.ZodType>(text: string, file: string, schema: S, options: SchemaTextOptions = {}): SchemaTextResult<z.output<S>> {
  const what = options.what ?? 'patch';
  const maxBytes = options.maxBytes ?? MAX_PATCH_BYTES;
  // Length in UTF-16 units is at most the byte length: a quick bound before encoding.
  if (text.length > maxBytes || Buffer.byteLength(text) > maxBytes)
    return { ok: false, errors: [{ file, path: '', message: `${Buffer.byteLength(text)} bytes, over the ${maxBytes}-byte limit for a ${what}` }] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.slice(0, MAX_ERRORS).map((e) => ({
        file,
        line: lineCounter.linePos(e.pos[0]).line,
        column: lineCounter.linePos(e.pos[0]).col,
        path: '',
        message: `syntax error: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  const checked = checkKeys(doc, lineCounter, file, options.maxKeys ?? MAX_PATCH_KEYS, what);
  if (checked.errors.length > 0) return { ok: false, errors: checked.errors };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: options.maxAliases ?? MAX_PATCH_ALIASES });
  } catch (e) {
    return { ok: false, errors: [{ file, line: checked.firstAlias, path: '', message: `too many alias expansions, over the limit of ${options.maxAliases ?? MAX_PATCH_ALIASES} (yaml: ${(e as Error).message})` }] };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, errors: [{ file, line: 1, path: '', message: options.expected ?? `expected a ${what} object` }] };
  }
  const result = schema.safeParse(data, { reportInput: true });
  // The line of the deepest node on the path that exists; for a map entry, the
  // line of its key (a block value starts on the line after its key).
  const posOf = (path: readonly PropertyKey[]): { line: number; col: number } | undefined => {
    for (let n = path.length; n > 0; n--) {
      const parent = doc.getIn(path.slice(0, n - 1) as unknown[], true) as YamlNode | undefined;
      const last = path[n - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
        const key = pair?.key as YamlNode | undefined;
        if (key?.range) return lineCounter.linePos(key.range[0]);
      } else if (isSeq(parent) && typeof last === 'number') {
        const item = parent.items[last] as YamlNode | undefined;
        if (item?.range) return lineCounter.linePos(item.range[0]);
      }
    }
    return doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]) : undefined;
  };
  const lineOf = (path: readonly PropertyKey[]): number | undefined => posOf(path)?.line;
  if (result.success) return { ok: true, value: result.data as z.output<S>, lineOf, posOf };
  const keys = options.knownKeys ?? patchKeys;
  return { ok: false, errors: flattenIssues(result.error.issues).slice(0, MAX_ERRORS).map((i) => toPatchError(i, file, posOf, keys)) };
}

/** Parses and validates patch text. `file` is used in messages only. */
export function parsePatchText(text: string, file: string, limits: PatchLimits = {}): PatchResult {
  const r = parseSchemaText(text, file, PatchSchema, { ...limits, what: 'patch', expected: 'expected a patch object (name, streams, voices, ...)' });
  return r.ok ? { ok: true, patch: r.value, lineOf: r.lineOf, posOf: r.posOf } : r;
}

/** Validates an already parsed object (e.g. from IPC or a test). */
export function validatePatchObject(data: unknown, file = '<patch>'): PatchResult {
  const result = PatchSchema.safeParse(data, { reportInput: true });
  if (result.success) return { ok: true, patch: result.data };
  return { ok: false, errors: flattenIssues(result.error.issues).map((i) => toPatchError(i, file, () => undefined, patchKeys)) };
}

/** Parses and validates, throwing one Error listing every problem. */
export function parsePatchOrThrow(text: string, file: string): Patch {
  const r = parsePatchText(text, file);
  if (!r.ok) throw new PatchValidationError(r.errors);
  return r.patch;
}

/** Thrown by {@link parsePatchOrThrow}; `errors` holds each problem. */
export class PatchValidationError extends Error {
  constructor(readonly errors: PatchError[]) {
    super(errors.map(formatPatchError).join('\n'));
    this.name = 'PatchValidationError';
  }
}

type Issue = z.core.$ZodIssue;

/** A union error becomes the issues of its closest branch (the one that got furthest). */
function flattenIssues(issues: readonly Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
      const inner = flattenIssues(best).map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
      if (depth(best) > 0 && inner.length > 0) {
        out.push(...inner);
        continue;
      }
      out.push({ ...issue, message: unionMessage(issue) } as Issue);
      continue;
    }
    out.push(issue);
  }
  return out;
}

function depth(issues: readonly Issue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

function unionMessage(issue: Issue & { code: 'invalid_union' }): string {
  const alts = issue.errors.map((branch) => branch[0]?.message.replace(/^Invalid input: /, '') ?? '?');
  return `none of the allowed forms matched: ${[...new Set(alts)].join('; or ')}`;
}

function received(issue: Issue): string {
  const input = (issue as { input?: unknown }).input;
  if (input === undefined || typeof input === 'object') return '';
  // JSON would print NaN and Infinity (YAML .nan, .inf) as null.
  const text = typeof input === 'number' && !Number.isFinite(input) ? String(input) : JSON.stringify(input);
  return ` (got ${text.length > 40 ? text.slice(0, 37) + '...' : text})`;
}

function toPatchError(issue: Issue, file: string, posOf: (p: readonly PropertyKey[]) => { line: number; col: number } | undefined, keys: () => string[]): PatchError {
  const at = (p: readonly PropertyKey[]) => {
    const pos = posOf(p);
    return pos ? { line: pos.line, column: pos.col } : {};
  };
  if (issue.code === 'unrecognized_keys') {
    const msgs = issue.keys.map((k) => {
      const hint = suggest(k, keys());
      return `unknown key "${k}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
    });
    return { file, ...at([...issue.path, issue.keys[0]!]), path: formatPath(issue.path), message: msgs.join('; ') };
  }
  const message = issue.message.replace(/^Invalid input: /, '') + received(issue);
  return { file, ...at(issue.path), path: formatPath(issue.path), message };
}

let knownPatchKeys: string[] | undefined;
/** Every key of the patch format (for typo hints). */
function patchKeys(): string[] {
  return (knownPatchKeys ??= collectKeys(patchJsonSchema()));
}

/** The closest known key (edit distance ≤ 2), for typo hints. */
function suggest(key: string, knownKeys: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const k of knownKeys) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return best;
}

/** Every property name in a JSON Schema (for typo hints). */
export function collectKeys(schema: unknown, out = new Set<string>()): string[] {
  if (schema && typeof schema === 'object') {
    const props = (schema as { properties?: Record<string, unknown> }).properties;
    if (props) for (const k of Object.keys(props)) out.add(k);
    for (const v of Object.values(schema)) collectKeys(v, out);
  }
  return [...out];
}

/** Levenshtein distance (Wagner–Fischer, one row). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
