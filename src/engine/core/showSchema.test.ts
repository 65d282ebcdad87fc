import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { formatPatchError } from './patchLoader.ts';
import { parseShowText, showJsonSchema } from './showSchema.ts';

const ROOT = join(import.meta.dirname, '../../..');
const EXAMPLE = readFileSync(join(ROOT, 'examples/park.show.yaml'), 'utf8');

function errorsOf(text: string): string[] {
  const r = parseShowText(text, 'show.yaml');
  if (r.ok) throw new Error('expected errors');
  return r.errors.map(formatPatchError);
}

describe('show file', () => {
  it('the smallest show file is a playlist of one, with defaults', () => {
    const r = parseShowText('playlist:\n  - { patch: carbon-pulse, for: 30m }\n', 'show.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.show.playlist).toStrictEqual([{ patch: 'carbon-pulse', for: 1800, crossfade: 5, data: {}, silenceAllowed: 10 }]);
    expect(r.show.maxLevel).toBe(-1);
    expect(r.show.fadeIn).toBe(3);
    expect(r.show.schedule).toBeUndefined();
  });

  it('the example show parses, with thresholds, times of day and rules', () => {
    const r = parseShowText(EXAMPLE, 'park.show.yaml');
    if (!r.ok) throw new Error(r.errors.map(formatPatchError).join('\n'));
    expect(r.show.maxLevel).toBe(-6);
    expect(r.show.playlist[1]!.until).toBe('13:00');
    expect(r.show.playlist[2]!.until).toStrictEqual({ stream: 'temperature', above: 25 });
    expect(r.show.schedule!.rules[0]).toStrictEqual({ playlist: 'weekend', days: ['sat', 'sun'] });
    expect(r.show.schedule!.quiet[0]!.maxLevel).toBe(-20);
  });

  it('errors name the file, the line and the path, with typo hints', () => {
    const text = ['playlist:', '  - { patch: carbon-pulse, for: 30m }', '  - { patch: seattle-drift, fr: 1h }', 'schedule:', '  on: "25:00"', '  off: "21:00"', 'maxLevel: 3', ''].join('\n');
    const errs = errorsOf(text);
    expect(errs).toContain('show.yaml:3: playlist[1]: unknown key "fr" (did you mean "for"?)');
    expect(errs.some((e) => e.startsWith('show.yaml:5: schedule.on: expected "HH:MM" or a cron expression') && e.includes('(got "25:00")'))).toBe(true);
    expect(errs.some((e) => /^show\.yaml:7: maxLevel: .*-0\.1/.test(e))).toBe(true);
  });

  it('checks cross-references: rules name playlists, time zones exist, for or until in a playlist of several', () => {
    const text = [
      'timezone: Mars/Olympus',
      'playlist:',
      '  - { patch: a, for: 1m }',
      '  - { patch: b }',
      'schedule:',
      '  rules: [{ playlist: nightly, days: [mon] }]',
      '',
    ].join('\n');
    const errs = errorsOf(text);
    expect(errs).toContain('show.yaml:1: timezone: unknown time zone "Mars/Olympus": expected an IANA name like "Europe/Berlin" or "UTC"');
    expect(errs).toContain('show.yaml:4: playlist[1]: an entry of a playlist of several needs for or until');
    expect(errs).toContain('show.yaml:6: schedule.rules[0].playlist: unknown playlist "nightly" (playlists: none)');
  });

  it('on without off, a bad cron, a threshold with both bounds, an empty playlist: each refused', () => {
    expect(errorsOf('playlist: [{ patch: a }]\nschedule: { on: "08:00" }\n')).toStrictEqual(['show.yaml:2: schedule: give both on and off, or neither (always on)']);
    expect(errorsOf('playlist: [{ patch: a }]\nschedule: { on: "0 99 * * *", off: "22:00" }\n')[0]).toMatch(/^show\.yaml:2: schedule\.on: expected "HH:MM" or a cron/);
    expect(errorsOf('playlist: [{ patch: a, until: { stream: t, above: 1, below: 0 } }]\n')[0]).toMatch(/playlist\[0\]\.until: .*give one of above or below|none of the allowed forms/);
    expect(errorsOf('playlist: []\n')).toStrictEqual(['show.yaml:1: playlist: a playlist needs at least one entry']);
    expect(errorsOf('- a\n')).toStrictEqual(['show.yaml:1: expected a show object (playlist, schedule, ...)']);
  });

  it('the committed schema/show.schema.json is the generated one, and the example validates against it (ajv)', () => {
    const committed = readFileSync(join(ROOT, 'schema/show.schema.json'), 'utf8');
    expect(committed).toBe(JSON.stringify(showJsonSchema(), null, 2) + '\n');
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(showJsonSchema());
    const ok = validate(parseYaml(EXAMPLE));
    expect(validate.errors ?? []).toStrictEqual([]);
    expect(ok).toBe(true);
    expect(validate({ playlist: [{ patch: 'a', colour: 1 }] })).toBe(false);
  });
});
