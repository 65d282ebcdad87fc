/**
 * OSC 1.0 address pattern matching and a small dispatcher. Pure.
 *
 * In OSC the incoming address is the pattern and the receiver's registered
 * (concrete) addresses are what it is matched against. Syntax (OSC 1.0 spec,
 * "OSC Message Dispatching and Pattern Matching"):
 *   ?        any single character
 *   *        any run of characters, possibly empty
 *   [abc]    one of a, b, c; [a-c] a range; [!a-c] none of them; '-' first or last is literal
 *   {ab,cd}  one of the strings ab, cd (literal strings, possibly empty)
 * No construct crosses '/': pattern and address are split on '/' first and their
 * parts matched pairwise, so they must have the same number of parts.
 *
 * No RegExp is ever built from input. Each part is matched by a position-set
 * walk over its tokens: O(pattern length × address part length) steps, so a run
 * of 1000 '*' against a long address costs microseconds, not exponential time.
 * Malformed patterns ('/[', '/{a', '/a]', '/[z-a]', nested '{') are rejected by
 * {@link compilePattern} with an {@link OscAddressError}; {@link matchAddress}
 * returns false for them. Patterns and addresses longer than
 * {@link MAX_PATTERN_LENGTH} characters are rejected / never match.
 */
import type { OscMessage } from './codec.ts';

/** Longest pattern compiled, and longest address matched, in UTF-16 units. */
export const MAX_PATTERN_LENGTH = 1024;

/** A malformed pattern or an address that cannot be registered. */
export class OscAddressError extends Error {
  /** e.g. "'[' at 3 is not closed by ']'". */
  readonly reason: string;
  constructor(readonly address: string, reason: string) {
    super(`OSC address ${JSON.stringify(address.length > 80 ? `${address.slice(0, 80)}…` : address)}: ${reason}`);
    this.name = 'OscAddressError';
    this.reason = reason;
  }
}

type Token =
  | { kind: 'char'; cp: number }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; ranges: number[] } // [lo0, hi0, lo1, hi1, …] inclusive code points
  | { kind: 'alt'; options: number[][] };

/** A compiled pattern, reusable against many addresses. */
export interface OscPattern {
  readonly source: string;
  /** True when the pattern has no wildcard: it matches exactly the equal address. */
  readonly literal: boolean;
  /** @internal tokens and length bounds (in characters) per '/'-separated part */
  readonly parts: readonly CompiledPart[];
}

interface CompiledPart {
  readonly tokens: readonly Token[];
  readonly minLength: number;
  readonly maxLength: number; // Infinity with a '*'
}

/**
 * A work allowance for matching, in position-set cells (one token against one
 * address position is one cell; ≈ 10 ns each). Matching stops, with no match,
 * once it is spent.
 */
export interface MatchBudget {
  cells: number;
}

function partBounds(tokens: Token[]): CompiledPart {
  let minLength = 0;
  let maxLength = 0;
  for (const t of tokens) {
    if (t.kind === 'star') maxLength = Infinity;
    else if (t.kind === 'alt') {
      minLength += Math.min(...t.options.map((o) => o.length));
      maxLength += Math.max(...t.options.map((o) => o.length));
    } else {
      minLength++;
      maxLength++;
    }
  }
  return { tokens, minLength, maxLength };
}

const WILDCARDS = new Set(['?', '*', '[', ']', '{', '}']);
/** Characters OSC 1.0 forbids in a method name (a part of a registered address). */
const NOT_IN_METHOD_NAME = new Set([' ', '#', '*', ',', '/', '?', '[', ']', '{', '}']);

/** True when the string contains a pattern character (? * [ ] { }). */
export function hasWildcards(address: string): boolean {
  for (const ch of address) if (WILDCARDS.has(ch)) return true;
  return false;
}

function isControl(cp: number): boolean {
  return cp < 0x20 || cp === 0x7f;
}

function compilePart(part: string, offset: number, source: string): Token[] {
  const cps = Array.from(part, (ch) => ch.codePointAt(0)!);
  const tokens: Token[] = [];
  const fail = (at: number, reason: string): never => {
    throw new OscAddressError(source, `${reason} (at character ${offset + at})`);
  };
  let i = 0;
  while (i < cps.length) {
    const cp = cps[i]!;
    const ch = String.fromCodePoint(cp);
    if (isControl(cp)) fail(i, 'control character');
    if (ch === '?') {
      tokens.push({ kind: 'any' });
      i++;
    } else if (ch === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' }); // '**' = '*'
      i++;
    } else if (ch === '[') {
      const open = i;
      i++;
      let negated = false;
      if (cps[i] === 0x21 /* ! */) {
        negated = true;
        i++;
      }
      const ranges: number[] = [];
      const first = i;
      while (i < cps.length && cps[i] !== 0x5d /* ] */) {
        const lo = cps[i]!;
        if (isControl(lo)) fail(i, 'control character');
        // 'a-c' is a range unless '-' is the last character before ']'.
        if (cps[i + 1] === 0x2d /* - */ && i + 2 < cps.length && cps[i + 2] !== 0x5d) {
          const hi = cps[i + 2]!;
          if (isControl(hi)) fail(i + 2, 'control character');
          if (hi < lo) fail(i, `range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)} runs backwards`);
          ranges.push(lo, hi);
          i += 3;
        } else {
          ranges.push(lo, lo);
          i++;
        }
      }
      if (i >= cps.length) fail(open, "'[' is not closed by ']'");
      if (i === first) fail(open, "'[]' matches nothing");
      tokens.push({ kind: 'class', negated, ranges });
      i++; // past ']'
    } else if (ch === '{') {
      const open = i;
      i++;
      const options: number[][] = [[]];
      while (i < cps.length && cps[i] !== 0x7d /* } */) {
        const c = cps[i]!;
        if (c === 0x2c /* , */) options.push([]);
        else if (isControl(c)) fail(i, 'control character');
        else if (WILDCARDS.has(String.fromCodePoint(c))) fail(i, `'${String.fromCodePoint(c)}' inside '{…}' (only literal strings may be listed)`);
        else options[options.length - 1]!.push(c);
        i++;
      }
      if (i >= cps.length) fail(open, "'{' is not closed by '}'");
      tokens.push({ kind: 'alt', options });
      i++; // past '}'
    } else if (ch === ']' || ch === '}') {
      fail(i, `'${ch}' without its opening bracket`);
    } else {
      tokens.push({ kind: 'char', cp });
      i++;
    }
  }
  return tokens;
}

/**
 * Compiles an address pattern. Throws {@link OscAddressError} for a malformed
 * pattern, one not starting with '/', or one longer than {@link MAX_PATTERN_LENGTH}.
 */
export function compilePattern(pattern: string): OscPattern {
  if (typeof pattern !== 'string') throw new OscAddressError(String(pattern), 'not a string');
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new OscAddressError(pattern, `longer than ${MAX_PATTERN_LENGTH} characters (${pattern.length})`);
  }
  if (!pattern.startsWith('/')) throw new OscAddressError(pattern, "does not start with '/'");
  const parts: CompiledPart[] = [];
  let offset = 1;
  for (const part of pattern.slice(1).split('/')) {
    parts.push(partBounds(compilePart(part, offset, pattern)));
    offset += part.length + 1;
  }
  return { source: pattern, literal: !hasWildcards(pattern), parts };
}

/** {@link compilePattern}, or the error as a value. Never throws. */
export function tryCompilePattern(pattern: string): OscPattern | OscAddressError {
  try {
    return compilePattern(pattern);
  } catch (e) {
    return e instanceof OscAddressError ? e : new OscAddressError(String(pattern), String(e));
  }
}

function inClass(tok: { negated: boolean; ranges: number[] }, cp: number): boolean {
  let hit = false;
  for (let k = 0; k < tok.ranges.length; k += 2) {
    if (cp >= tok.ranges[k]! && cp <= tok.ranges[k + 1]!) {
      hit = true;
      break;
    }
  }
  return hit !== tok.negated;
}

/**
 * Matches one part. `reach[p]` = 1 when the tokens so far can consume exactly
 * the first p code points; each token maps one reach set to the next.
 */
function matchPart(part: CompiledPart, s: readonly number[], budget: MatchBudget): boolean {
  const n = s.length;
  if (n < part.minLength || n > part.maxLength) return false;
  const { tokens } = part;
  let reach = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  reach[0] = 1;
  for (const tok of tokens) {
    budget.cells -= tok.kind === 'alt' ? (n + 1) * tok.options.length : n + 1;
    if (budget.cells < 0) return false;
    next.fill(0);
    let alive = false;
    switch (tok.kind) {
      case 'star': {
        let on = false;
        for (let p = 0; p <= n; p++) {
          if (reach[p]) on = true;
          if (on) next[p] = 1;
        }
        alive = on;
        break;
      }
      case 'char':
      case 'any':
      case 'class':
        for (let p = 0; p < n; p++) {
          if (!reach[p]) continue;
          const cp = s[p]!;
          if (tok.kind === 'any' || (tok.kind === 'char' ? cp === tok.cp : inClass(tok, cp))) {
            next[p + 1] = 1;
            alive = true;
          }
        }
        break;
      case 'alt':
        for (let p = 0; p <= n; p++) {
          if (!reach[p]) continue;
          for (const opt of tok.options) {
            if (p + opt.length > n || next[p + opt.length]) continue;
            let k = 0;
            while (k < opt.length && s[p + k] === opt[k]) k++;
            if (k === opt.length) {
              next[p + k] = 1;
              alive = true;
            }
          }
        }
        break;
    }
    if (!alive) return false;
    [reach, next] = [next, reach];
  }
  return reach[n] === 1;
}

/** An address split into parts of code points, ready for matching many patterns. */
type SplitAddress = readonly (readonly number[])[];

function splitAddress(address: string): SplitAddress {
  return address
    .slice(1)
    .split('/')
    .map((part) => Array.from(part, (ch) => ch.codePointAt(0)!));
}

function matchSplit(pattern: OscPattern, parts: SplitAddress, budget: MatchBudget): boolean {
  if (parts.length !== pattern.parts.length) return false;
  for (let k = 0; k < parts.length; k++) {
    if (!matchPart(pattern.parts[k]!, parts[k]!, budget)) return false;
  }
  return true;
}

/** Default work allowance of one match call, cells (a few ms at worst). */
export const DEFAULT_MATCH_CELLS = 1_000_000;

/**
 * Whether a compiled pattern matches a concrete address. Addresses over
 * {@link MAX_PATTERN_LENGTH} never match. Cost is bounded by `budget`
 * (default {@link DEFAULT_MATCH_CELLS}); a match that would cost more is false.
 */
export function matchCompiled(pattern: OscPattern, address: string, budget: MatchBudget = { cells: DEFAULT_MATCH_CELLS }): boolean {
  if (typeof address !== 'string' || address.length > MAX_PATTERN_LENGTH || !address.startsWith('/')) return false;
  if (pattern.literal) return pattern.source === address;
  return matchSplit(pattern, splitAddress(address), budget);
}

/**
 * Whether an OSC address pattern matches a concrete address; false for a
 * malformed or over-long pattern. Never throws.
 *
 * @example matchAddress('/synth/[1-3]/{freq,gain}', '/synth/2/gain') // true
 */
export function matchAddress(pattern: string, address: string): boolean {
  const compiled = tryCompilePattern(pattern);
  return compiled instanceof OscAddressError ? false : matchCompiled(compiled, address);
}

/**
 * Why a string cannot be registered as a method address, or undefined when it
 * can: it must start with '/', have non-empty parts, no control characters and
 * none of ` #*,?[]{}` (OSC 1.0), and be at most {@link MAX_PATTERN_LENGTH} long.
 */
export function methodAddressProblem(address: string): string | undefined {
  if (typeof address !== 'string') return 'not a string';
  if (address.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  if (!address.startsWith('/')) return "does not start with '/'";
  for (const part of address.slice(1).split('/')) {
    if (part.length === 0) return 'has an empty part';
    for (const ch of part) {
      if (NOT_IN_METHOD_NAME.has(ch)) return `contains '${ch}', which OSC 1.0 forbids in a method name`;
      if (isControl(ch.codePointAt(0)!)) return 'contains a control character';
    }
  }
  return undefined;
}

/** A method called for each matching message; `context` is what the dispatcher was given (e.g. the sender). */
export type OscMethod<C = void> = (message: OscMessage, context: C) => void;

export interface OscAddressSpaceOptions {
  /**
   * Receives every exception a method throws (the other methods still run).
   * Without it, dispatch rethrows after all methods ran (an AggregateError when several threw).
   */
  onError?: (error: unknown, address: string, message: OscMessage) => void;
  /** How many distinct incoming patterns' match lists are remembered. Default 256. */
  cacheSize?: number;
  /**
   * Work allowed to match one incoming pattern against all registered addresses,
   * cells (see {@link MatchBudget}). A pattern needing more matches nothing, so a
   * hostile pattern costs a few ms at most whatever is registered. Default 1,000,000.
   */
  matchCells?: number;
}

/**
 * Registered concrete addresses → methods; incoming messages are dispatched by
 * matching their address (a pattern) against every registered address.
 * Match lists of recent patterns are cached (bounded, cleared when the
 * registrations change), so a repeated wildcard costs one Map lookup.
 *
 * @example
 * const space = new OscAddressSpace<Sender>();
 * space.add('/mixer/1/gain', (m) => setGain(1, m.args));
 * space.dispatch({ address: '/mixer/[1-4]/gain', args }, sender); // 1 method called
 */
export class OscAddressSpace<C = void> {
  private readonly methods = new Map<string, OscMethod<C>[]>();
  private readonly split = new Map<string, SplitAddress>();
  private readonly matchCells: number;
  private readonly cache = new Map<string, readonly string[]>();
  private readonly cacheSize: number;
  private readonly onError: OscAddressSpaceOptions['onError'];

  constructor(options: OscAddressSpaceOptions = {}) {
    this.onError = options.onError;
    this.cacheSize = Math.max(0, options.cacheSize ?? 256);
    this.matchCells = options.matchCells ?? DEFAULT_MATCH_CELLS;
  }

  /** Registers a method at a concrete address; returns a function that unregisters it. Throws {@link OscAddressError}. */
  add(address: string, method: OscMethod<C>): () => void {
    const problem = methodAddressProblem(address);
    if (problem) throw new OscAddressError(String(address), problem);
    const list = this.methods.get(address);
    if (list) list.push(method);
    else {
      this.methods.set(address, [method]);
      this.split.set(address, splitAddress(address));
      this.cache.clear();
    }
    return () => {
      this.remove(address, method);
    };
  }

  /** Removes one method (or, without `method`, all methods) at an address. True if something was removed. */
  remove(address: string, method?: OscMethod<C>): boolean {
    const list = this.methods.get(address);
    if (!list) return false;
    const kept = method ? list.filter((m) => m !== method) : [];
    if (kept.length === list.length) return false;
    if (kept.length > 0) this.methods.set(address, kept);
    else {
      this.methods.delete(address);
      this.split.delete(address);
      this.cache.clear();
    }
    return true;
  }

  /** How many addresses have methods. */
  get size(): number {
    return this.methods.size;
  }

  /** Registered addresses, in registration order. */
  get addresses(): string[] {
    return [...this.methods.keys()];
  }

  /** Registered addresses an incoming pattern matches ([] for a malformed pattern). */
  match(pattern: string): readonly string[] {
    if (typeof pattern !== 'string' || pattern.length > MAX_PATTERN_LENGTH) return [];
    if (!hasWildcards(pattern)) return this.methods.has(pattern) ? [pattern] : [];
    const cached = this.cache.get(pattern);
    if (cached) return cached;
    const compiled = tryCompilePattern(pattern);
    let hits: string[] = [];
    if (!(compiled instanceof OscAddressError)) {
      const budget: MatchBudget = { cells: this.matchCells };
      for (const [address, parts] of this.split) {
        if (matchSplit(compiled, parts, budget)) hits.push(address);
        if (budget.cells < 0) {
          hits = []; // over budget: all or nothing, so the answer never depends on registration order
          break;
        }
      }
    }
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(pattern, hits);
    }
    return hits;
  }

  /**
   * Calls every method whose address the message's address matches, each with
   * its exceptions caught (see {@link OscAddressSpaceOptions.onError}).
   * Returns how many methods were called.
   */
  dispatch(message: OscMessage, context: C): number {
    let called = 0;
    const errors: unknown[] = [];
    for (const address of this.match(message.address)) {
      for (const method of [...(this.methods.get(address) ?? [])]) {
        called++;
        try {
          method(message, context);
        } catch (e) {
          if (!this.onError) errors.push(e);
          else {
            try {
              this.onError(e, address, message);
            } catch {
              // An error reporter that throws must not stop the other methods.
            }
          }
        }
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} OSC methods threw for ${message.address}`);
    return called;
  }
}
