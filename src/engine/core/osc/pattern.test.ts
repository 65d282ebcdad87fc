import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compilePattern,
  hasWildcards,
  matchAddress,
  matchCompiled,
  MAX_PATTERN_LENGTH,
  methodAddressProblem,
  OscAddressError,
  OscAddressSpace,
  tryCompilePattern,
} from './pattern.ts';
import type { OscMessage } from './codec.ts';

describe('matchAddress: OSC 1.0 pattern table', () => {
  const table: [pattern: string, address: string, expected: boolean][] = [
    // literal
    ['/a/b', '/a/b', true],
    ['/a/b', '/a/c', false],
    ['/a/b', '/a/b/c', false],
    ['/a/b/c', '/a/b', false],
    ['/a', '/A', false],
    ['/', '/', true],
    // ?
    ['/a?c', '/abc', true],
    ['/a?c', '/ac', false],
    ['/a?c', '/abbc', false],
    ['/???', '/xyz', true],
    ['/a?', '/a/', false], // '?' never matches '/'
    // *
    ['/*', '/anything', true],
    ['/*', '/', true], // '*' may match the empty part
    ['/*', '/a/b', false], // '*' never crosses '/'
    ['/*/b', '/a/b', true],
    ['/a/*', '/a/b/c', false],
    ['/*/*', '/a/b', true],
    ['/a*', '/a', true],
    ['/a*z', '/abcz', true],
    ['/a*z', '/abczq', false],
    ['/*a*b*', '/xaybz', true],
    ['/*a*b*', '/xbyaz', false],
    ['/**', '/abc', true],
    ['/*?', '/', false],
    ['/*?', '/x', true],
    // [ ]
    ['/[abc]', '/b', true],
    ['/[abc]', '/d', false],
    ['/[a-c]', '/b', true],
    ['/[a-c]', '/d', false],
    ['/[a-cx-z]', '/y', true],
    ['/[!a]', '/b', true],
    ['/[!a]', '/a', false],
    ['/[!a-c]', '/d', true],
    ['/[!a-c]', '/c', false],
    ['/[-a]', '/-', true], // '-' first is literal
    ['/[a-]', '/-', true], // '-' last is literal
    ['/[a-]', '/b', false],
    ['/[0-9][0-9]', '/42', true],
    ['/[0-9][0-9]', '/4a', false],
    ['/[abc]', '/ab', false], // a class is one character
    ['/x[*]', '/x*', true], // inside brackets '*' is literal
    // { }
    ['/{foo,bar}', '/foo', true],
    ['/{foo,bar}', '/bar', true],
    ['/{foo,bar}', '/baz', false],
    ['/{foo,bar}', '/foobar', false],
    ['/{a,ab}c', '/abc', true], // the longer alternative must be tried too
    ['/{ab,a}bc', '/abc', true],
    ['/x{,y}', '/x', true], // empty alternative
    ['/x{,y}', '/xy', true],
    ['/{a,b}/{c,d}', '/b/c', true],
    // combined
    ['/synth/[1-3]/{freq,gain}', '/synth/2/gain', true],
    ['/synth/[1-3]/{freq,gain}', '/synth/4/gain', false],
    ['/mixer/*/fader?', '/mixer/ch1/fader2', true],
    ['/mixer/*/fader?', '/mixer/ch1/fader', false],
    ['/*/[!0-9]*', '/a/x12', true],
    ['/*/[!0-9]*', '/a/1x', false],
    ['/é?', '/éè', true], // '?' is one character, not one UTF-16 unit or byte
    ['/?', '/😀', true],
    // malformed patterns never match
    ['/[', '/[', false],
    ['/{a', '/a', false],
    ['/a]', '/a]', false],
    ['/[z-a]', '/m', false],
    ['/{a,{b}}', '/b', false],
    ['a/b', 'a/b', false],
  ];

  it('has at least 40 rows', () => {
    expect(table.length).toBeGreaterThanOrEqual(40);
  });

  for (const [pattern, address, expected] of table) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${address}`, () => {
      expect(matchAddress(pattern, address)).toBe(expected);
    });
  }
});

describe('malformed patterns are rejected with a reason', () => {
  const malformed: [string, RegExp][] = [
    ['/[', /'\[' at 1 is not closed|not closed by '\]'/],
    ['/a[bc', /not closed by '\]'/],
    ['/{a', /not closed by '}'/],
    ['/{a,b', /not closed by '}'/],
    ['/a}', /'}' without its opening/],
    ['/a]', /'\]' without its opening/],
    ['/[]', /matches nothing/],
    ['/[!]', /matches nothing/],
    ['/[z-a]', /runs backwards/],
    ['/{a,{b}}', /inside '\{…\}'/],
    ['/{a*}', /inside '\{…\}'/],
    ['/[a/b]', /not closed by '\]'/], // brackets never span '/'
    ['/{a/b}', /not closed by '}'/],
    ['no-slash', /does not start with '\/'/],
    ['', /does not start with '\/'/],
    ['/a\u0001', /control character/],
  ];
  for (const [pattern, reason] of malformed) {
    it(JSON.stringify(pattern), () => {
      const r = tryCompilePattern(pattern);
      expect(r).toBeInstanceOf(OscAddressError);
      expect((r as OscAddressError).reason).toMatch(reason);
      expect(() => compilePattern(pattern)).toThrow(OscAddressError);
      expect(matchAddress(pattern, '/a')).toBe(false);
    });
  }

  it('patterns over the length bound are refused; addresses over it never match', () => {
    const long = `/${'a'.repeat(MAX_PATTERN_LENGTH)}`;
    expect(tryCompilePattern(long)).toBeInstanceOf(OscAddressError);
    expect(matchAddress('/*', long)).toBe(false);
    expect(matchAddress(`/${'a'.repeat(MAX_PATTERN_LENGTH - 1)}`, `/${'a'.repeat(MAX_PATTERN_LENGTH - 1)}`)).toBe(true);
  });
});

describe('pathological patterns are fast (polynomial, no RegExp)', () => {
  function timed(fn: () => boolean): { result: boolean; ms: number } {
    const t0 = performance.now();
    const result = fn();
    return { result, ms: performance.now() - t0 };
  }

  const cases: [name: string, pattern: string, address: string][] = [
    ['1000 stars then x, against 1000 a', `/${'*'.repeat(1000)}x`, `/${'a'.repeat(1000)}`],
    ['500 "*a" against 1000 a then b', `/${'*a'.repeat(500)}c`, `/${'a'.repeat(1000)}b`],
    ['*? repeated 400 times', `/${'*?'.repeat(400)}z`, `/${'a'.repeat(1000)}`],
    ['alternations that overlap', `/${'{a,aa,aaa}'.repeat(90)}b`, `/${'a'.repeat(1000)}`],
    ['classes and stars', `/${'[!b]*'.repeat(200)}b`, `/${'a'.repeat(1000)}`],
  ];

  for (const [name, pattern, address] of cases) {
    it(`${name}: false in under 100 ms`, () => {
      expect(pattern.length).toBeLessThanOrEqual(MAX_PATTERN_LENGTH);
      const { result, ms } = timed(() => matchAddress(pattern, address));
      expect(result).toBe(false);
      expect(ms).toBeLessThan(100);
    });
  }

  it('1000 stars before a matching x is still found (true) quickly', () => {
    const { result, ms } = timed(() => matchAddress(`/${'*'.repeat(1000)}x`, `/${'a'.repeat(1000)}x`.slice(0, 1024)));
    expect(result).toBe(true);
    expect(ms).toBeLessThan(100);
  });

  it('malformed patterns are refused quickly too ("/[" and an unclosed "{" after 1000 characters)', () => {
    const { ms } = timed(() => matchAddress(`/${'a,'.repeat(500)}{`, '/a') || matchAddress('/[', '/['));
    expect(ms).toBeLessThan(20);
  });
});

/**
 * A reference matcher written differently (backtracking over the raw pattern
 * string, no tokenising, no splitting on '/'): exponential in the worst case,
 * fine for the short inputs below, and independent of the code under test.
 */
function reference(p: string, a: string): boolean {
  if (p === '') return a === '';
  const c = p[0]!;
  if (c === '*') {
    for (let k = 0; k <= a.length; k++) {
      if (reference(p.slice(1), a.slice(k))) return true;
      if (a[k] === '/' || k === a.length) return false;
    }
    return false;
  }
  if (c === '?') return a.length > 0 && a[0] !== '/' && reference(p.slice(1), a.slice(1));
  if (c === '[') {
    const close = p.indexOf(']', 2);
    let body = p.slice(1, close);
    const negated = body.startsWith('!');
    if (negated) body = body.slice(1);
    if (a.length === 0 || a[0] === '/') return false;
    let hit = false;
    for (let i = 0; i < body.length; ) {
      if (body[i + 1] === '-' && i + 2 < body.length) {
        if (a[0]! >= body[i]! && a[0]! <= body[i + 2]!) hit = true;
        i += 3;
      } else {
        if (a[0] === body[i]) hit = true;
        i++;
      }
    }
    return hit !== negated && reference(p.slice(close + 1), a.slice(1));
  }
  if (c === '{') {
    const close = p.indexOf('}');
    return p
      .slice(1, close)
      .split(',')
      .some((alt) => a.startsWith(alt) && reference(p.slice(close + 1), a.slice(alt.length)));
  }
  return a[0] === c && reference(p.slice(1), a.slice(1));
}

const patternPart = fc
  .array(fc.constantFrom('a', 'b', '?', '*', '[ab]', '[!a]', '[a-b]', '[!a-b]', '[-a]', '[b-]', '{a,ab}', '{,b}', '{ba,b,a}'), {
    maxLength: 5,
  })
  .map((tokens) => tokens.join(''));
/** A pattern and an address with the same number of parts (else they trivially differ). */
const pairArb = fc.array(patternPart, { minLength: 1, maxLength: 3 }).chain((parts) =>
  fc.tuple(
    fc.constant(`/${parts.join('/')}`),
    fc.array(fc.stringMatching(/^[ab-]{0,5}$/), { minLength: parts.length, maxLength: parts.length }).map((a) => `/${a.join('/')}`),
  ),
);

describe('agrees with a reference matcher (property)', () => {
  it('on random well-formed patterns and addresses over a small alphabet', () => {
    let matches = 0;
    fc.assert(
      fc.property(pairArb, ([pattern, address]) => {
        const expected = reference(pattern, address);
        if (expected) matches++;
        expect(matchAddress(pattern, address)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(matches).toBeGreaterThan(100); // the property exercised both outcomes
  });

  it('every concrete address matches itself, and with any one part replaced by * or ?-runs', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9_.-]{1,6}$/), { minLength: 1, maxLength: 4 }), fc.nat(), (parts, k) => {
        const address = `/${parts.join('/')}`;
        expect(matchAddress(address, address)).toBe(true);
        const i = k % parts.length;
        const star = [...parts];
        star[i] = '*';
        expect(matchAddress(`/${star.join('/')}`, address)).toBe(true);
        const q = [...parts];
        q[i] = '?'.repeat(parts[i]!.length);
        expect(matchAddress(`/${q.join('/')}`, address)).toBe(true);
        q[i] = '?'.repeat(parts[i]!.length + 1);
        expect(matchAddress(`/${q.join('/')}`, address)).toBe(false);
      }),
    );
  });
});

describe('helpers', () => {
  it('hasWildcards', () => {
    expect(hasWildcards('/a/b')).toBe(false);
    for (const p of ['/a?', '/*', '/[a]', '/{a}', '/a]', '/a}']) expect(hasWildcards(p)).toBe(true);
  });

  it('methodAddressProblem names what is wrong with an address that cannot be registered', () => {
    expect(methodAddressProblem('/mixer/1/gain')).toBeUndefined();
    expect(methodAddressProblem('mixer')).toMatch(/start with/);
    expect(methodAddressProblem('/a//b')).toMatch(/empty part/);
    expect(methodAddressProblem('/a/')).toMatch(/empty part/);
    expect(methodAddressProblem('/a b')).toMatch(/' '/);
    expect(methodAddressProblem('/a/*')).toMatch(/'\*'/);
    expect(methodAddressProblem('/a#')).toMatch(/'#'/);
    expect(methodAddressProblem('/a,b')).toMatch(/','/);
    expect(methodAddressProblem('/a\tb')).toMatch(/control/);
    expect(methodAddressProblem(`/${'a'.repeat(MAX_PATTERN_LENGTH)}`)).toMatch(/longer/);
  });

  it('matching stops, with no match, when its work budget is spent', () => {
    const p = compilePattern('/a*b*c');
    expect(matchCompiled(p, '/aXbXc')).toBe(true);
    expect(matchCompiled(p, '/aXbXc', { cells: 1_000 })).toBe(true);
    expect(matchCompiled(p, '/aXbXc', { cells: 10 })).toBe(false);
  });

  it('length bounds reject at once: a part shorter than the pattern needs, or longer than it allows', () => {
    const budget = { cells: 1_000_000 };
    expect(matchCompiled(compilePattern(`/${'?'.repeat(500)}`), '/abc', budget)).toBe(false);
    expect(matchCompiled(compilePattern('/{ab,abc}[x-z]'), `/${'a'.repeat(900)}`, budget)).toBe(false);
    expect(budget.cells).toBe(1_000_000); // no position-set work done
  });

  it('a compiled pattern is reusable', () => {
    const p = compilePattern('/ch/[1-8]/mute');
    expect(['/ch/1/mute', '/ch/8/mute', '/ch/9/mute', '/ch/1/solo'].map((a) => matchCompiled(p, a))).toStrictEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('OscAddressSpace', () => {
  const msg = (address: string): OscMessage => ({ address, args: [{ type: 'i', value: 1 }] });

  function space(addresses: string[], onError?: (e: unknown, address: string) => void) {
    const calls: string[] = [];
    const s = new OscAddressSpace<string>(onError ? { onError } : {});
    for (const a of addresses) s.add(a, (_m, ctx) => calls.push(`${a}<-${ctx}`));
    return { s, calls };
  }

  it('dispatches a concrete address to its methods, passing the message and context', () => {
    const s = new OscAddressSpace<{ from: string }>();
    const seen: unknown[] = [];
    s.add('/a/b', (m, ctx) => seen.push([m.address, m.args, ctx.from]));
    expect(s.dispatch(msg('/a/b'), { from: 'peer' })).toBe(1);
    expect(seen).toStrictEqual([['/a/b', [{ type: 'i', value: 1 }], 'peer']]);
    expect(s.dispatch(msg('/a/c'), { from: 'peer' })).toBe(0);
  });

  it('an incoming pattern reaches every registered address it matches, and only those', () => {
    const { s, calls } = space(['/synth/1/freq', '/synth/2/freq', '/synth/3/freq', '/synth/1/gain', '/fx/1/freq']);
    expect(s.dispatch(msg('/synth/[1-2]/freq'), 'x')).toBe(2);
    expect(calls).toStrictEqual(['/synth/1/freq<-x', '/synth/2/freq<-x']);
    expect(s.match('/*/1/*')).toStrictEqual(['/synth/1/freq', '/synth/1/gain', '/fx/1/freq']);
    expect(s.match('/synth/{1,3}/freq')).toStrictEqual(['/synth/1/freq', '/synth/3/freq']);
  });

  it('malformed and pathological incoming patterns dispatch to nothing, quickly', () => {
    const { s, calls } = space(Array.from({ length: 200 }, (_, k) => `/voice/${k}/note`));
    const t0 = performance.now();
    for (const p of ['/[', '/{a', '/voice/]', `/${'*'.repeat(1000)}x`, `/voice/${'*'.repeat(1000)}/notes`, `/${'?'.repeat(5000)}`]) {
      s.dispatch(msg(p), 'x');
    }
    expect(performance.now() - t0).toBeLessThan(500);
    expect(calls).toStrictEqual([]);
    expect(s.dispatch(msg('/voice/*/note'), 'x')).toBe(200);
  });

  it('a hostile pattern costs bounded work however many addresses are registered; an ordinary one still matches them all', () => {
    const addresses = Array.from({ length: 1000 }, (_, k) => `/x${k}/${'a'.repeat(30)}`);
    const { s } = space(addresses);
    const hostile = `/*/${'{,a}'.repeat(200)}`; // 200 tokens of two options each, against every address
    const t0 = performance.now();
    expect(s.match(hostile)).toStrictEqual([]); // would match all 1000 but needs ~12 M cells: over the 1 M budget
    expect(performance.now() - t0).toBeLessThan(200);
    expect(s.match('/*/a*a')).toHaveLength(1000);
    expect(s.match(`/x1?/${'{,a}'.repeat(30)}`)).toStrictEqual(addresses.slice(10, 20)); // 10 parts pass, ~19 k cells
    const generous = new OscAddressSpace({ matchCells: 50_000_000 });
    for (const a of addresses) generous.add(a, () => {});
    expect(generous.match(hostile)).toHaveLength(1000);
  });

  it('a throwing method goes to onError and the other methods still run', () => {
    const errors: [unknown, string][] = [];
    const s = new OscAddressSpace<void>({ onError: (e, address) => errors.push([e, address]) });
    const ran: string[] = [];
    const boom = new Error('boom');
    s.add('/a/1', () => {
      throw boom;
    });
    s.add('/a/2', () => ran.push('2'));
    s.add('/a/2', () => ran.push('2b'));
    expect(s.dispatch(msg('/a/*'), undefined)).toBe(3);
    expect(ran).toStrictEqual(['2', '2b']);
    expect(errors).toStrictEqual([[boom, '/a/1']]);
  });

  it('without onError, exceptions are rethrown after every method ran (AggregateError for several)', () => {
    const s = new OscAddressSpace<void>();
    const ran: string[] = [];
    s.add('/a/1', () => {
      throw new Error('one');
    });
    s.add('/a/2', () => ran.push('2'));
    expect(() => s.dispatch(msg('/a/*'), undefined)).toThrow('one');
    expect(ran).toStrictEqual(['2']);
    s.add('/a/3', () => {
      throw new Error('three');
    });
    expect(() => s.dispatch(msg('/a/*'), undefined)).toThrow(AggregateError);
  });

  it('an onError that throws does not stop the other methods', () => {
    const s = new OscAddressSpace<void>({
      onError: () => {
        throw new Error('reporter down');
      },
    });
    const ran: string[] = [];
    s.add('/a/1', () => {
      throw new Error('x');
    });
    s.add('/a/2', () => ran.push('2'));
    expect(s.dispatch(msg('/a/*'), undefined)).toBe(2);
    expect(ran).toStrictEqual(['2']);
  });

  it('remove and the returned unregister function; the pattern cache follows registrations', () => {
    const { s, calls } = space(['/a/1']);
    expect(s.dispatch(msg('/a/*'), 'first')).toBe(1); // '/a/*' now cached as ['/a/1']
    const off = s.add('/a/2', (_m, ctx) => calls.push(`/a/2<-${ctx}`));
    expect(s.dispatch(msg('/a/*'), 'second')).toBe(2);
    off();
    expect(s.dispatch(msg('/a/*'), 'third')).toBe(1);
    expect(s.remove('/a/1')).toBe(true);
    expect(s.remove('/a/1')).toBe(false);
    expect(s.dispatch(msg('/a/*'), 'fourth')).toBe(0);
    expect(calls).toStrictEqual(['/a/1<-first', '/a/1<-second', '/a/2<-second', '/a/1<-third']);
    expect(s.addresses).toStrictEqual([]);
  });

  it('many distinct patterns keep working (the cache is bounded, answers stay right)', () => {
    const { s } = space(['/x/a', '/x/b']);
    for (let k = 0; k < 2000; k++) expect(s.match(`/x/{a,q${k}}`)).toStrictEqual(['/x/a']);
    expect(s.match('/x/{a,q5}')).toStrictEqual(['/x/a']);
  });

  it('refuses to register patterns or malformed addresses', () => {
    const s = new OscAddressSpace();
    for (const bad of ['/a/*', '/a/[b]', 'a', '/a//b', '/a b', '']) {
      expect(() => s.add(bad, () => {})).toThrow(OscAddressError);
    }
  });
});
