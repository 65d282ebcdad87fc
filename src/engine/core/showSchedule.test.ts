import { describe, expect, it } from 'vitest';
import { parseShowText, type ShowFile } from './showSchema.ts';
import { localTime, MAIN_PLAYLIST, MIN_THRESHOLD_PLAY_MS, seasonOf, ShowSchedule, type PlaylistCursor } from './showSchedule.ts';

function show(text: string): ShowFile {
  const r = parseShowText(text, 'show.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`).join('\n'));
  return r.show;
}

const MIN = 60_000;
const utc = (iso: string) => Date.parse(iso);

/**
 * Berlin leaves summer time on Sunday 2026-10-25 (03:00 CEST → 02:00 CET): that
 * day has 25 hours, and 08:00 local is 06:00 UTC before it and 07:00 UTC after.
 */
const WEEK_SHOW = `
timezone: Europe/Berlin
maxLevel: -6
playlist:
  - { patch: morning, for: 30m }
  - { patch: lunch, until: "13:00" }
  - { patch: afternoon, for: 1h }
playlists:
  weekend:
    - { patch: weekend, for: 2h }
schedule:
  on: "08:00"
  off: "0 22 * * *"
  quiet:
    - { from: "12:00", to: "14:00", maxLevel: -20 }
    - { from: "21:30", to: "00:30", maxLevel: -30, days: [fri] }
  rules:
    - { playlist: weekend, days: [sat, sun] }
`;

/** Plays a show minute by minute like the supervisor does, keeping the cursor. */
function simulate(s: ShowSchedule, from: number, to: number) {
  const minutes: Array<{ t: number; patch?: string; cap: number; on: boolean }> = [];
  let cursor: PlaylistCursor | undefined;
  for (let t = from; t < to; t += MIN) {
    const now = s.at(t, cursor);
    cursor = now.cursor;
    minutes.push({ t, patch: now.entry?.patch, cap: now.levelCap, on: now.on });
  }
  return minutes;
}

describe('show schedule over a simulated week with a daylight-saving change (Europe/Berlin)', () => {
  const s = new ShowSchedule(show(WEEK_SHOW));
  // Monday 2026-10-19 00:00 CEST to Monday 2026-10-26 00:00 CET: 7 days and one hour.
  const from = utc('2026-10-18T22:00:00Z');
  const to = utc('2026-10-25T23:00:00Z');
  const week = simulate(s, from, to);
  const at = (iso: string) => week.find((m) => m.t === utc(iso))!;

  it('covers 7 × 24 h + 1 h of minutes, on 14 local hours every day (also the 25-hour day)', () => {
    expect(week).toHaveLength(7 * 1440 + 60);
    expect(week.filter((m) => m.on)).toHaveLength(7 * 14 * 60);
    const sunday = week.filter((m) => m.t >= utc('2026-10-24T22:00:00Z') && m.t < utc('2026-10-25T23:00:00Z'));
    expect(sunday).toHaveLength(25 * 60);
    expect(sunday.filter((m) => m.on)).toHaveLength(14 * 60);
  });

  it('switches on at 08:00 local: 06:00 UTC in summer time, 07:00 UTC after the change', () => {
    expect(at('2026-10-24T05:59:00Z').on).toBe(false);
    expect(at('2026-10-24T06:00:00Z').on).toBe(true);
    expect(at('2026-10-25T06:30:00Z').on).toBe(false); // 07:30 CET
    expect(at('2026-10-25T06:59:00Z').on).toBe(false);
    expect(at('2026-10-25T07:00:00Z').on).toBe(true);
    expect(at('2026-10-25T20:59:00Z').on).toBe(true); // 21:59 CET
    expect(at('2026-10-25T21:00:00Z').on).toBe(false);
  });

  it('plays the right patch at each minute of a weekday, and the weekend playlist on Saturday and Sunday', () => {
    // Wednesday 2026-10-21, CEST (UTC+2).
    const wed = (hhmm: string) => at(new Date(utc(`2026-10-21T${hhmm}:00+02:00`)).toISOString()).patch;
    expect([wed('07:59'), wed('08:00'), wed('08:29'), wed('08:30'), wed('12:59'), wed('13:00'), wed('13:59'), wed('14:00'), wed('14:30')]).toStrictEqual([
      undefined,
      'morning',
      'morning',
      'lunch',
      'lunch',
      'afternoon',
      'afternoon',
      'morning',
      'lunch',
    ]);
    // lunch started at 14:30 plays until the next 13:00, but the show is off from 22:00: the next day starts over.
    expect(wed('21:59')).toBe('lunch');
    expect(at('2026-10-22T06:00:00Z').patch).toBe('morning');
    const weekendPatches = new Set(week.filter((m) => m.on && m.t >= utc('2026-10-23T22:00:00Z')).map((m) => m.patch));
    expect([...weekendPatches]).toStrictEqual(['weekend']);
    const weekdayPatches = new Set(week.filter((m) => m.on && m.t < utc('2026-10-23T22:00:00Z')).map((m) => m.patch));
    expect([...weekdayPatches].sort()).toStrictEqual(['afternoon', 'lunch', 'morning']);
  });

  it('caps the level in quiet hours: -20 at lunch every day, -30 on Friday late (past midnight), else -6', () => {
    const capsOn = week.filter((m) => m.on);
    expect(capsOn.filter((m) => m.cap === -20)).toHaveLength(7 * 120);
    // Friday 21:30–22:00 while on (the window runs on to 00:30 with the show off).
    expect(capsOn.filter((m) => m.cap === -30)).toHaveLength(30);
    expect(at('2026-10-23T19:29:00Z').cap).toBe(-6); // Fri 21:29
    expect(at('2026-10-23T19:30:00Z').cap).toBe(-30); // Fri 21:30
    expect(at('2026-10-23T20:00:00Z')).toMatchObject({ on: false, cap: -30 }); // Fri 22:00: off, still in the window
    expect(at('2026-10-23T22:15:00Z').cap).toBe(-30); // Sat 00:15, in Friday's window
    expect(at('2026-10-24T19:45:00Z').cap).toBe(-6); // Sat 21:45: not Friday
    expect(capsOn.filter((m) => m.cap === -6)).toHaveLength(7 * 14 * 60 - 7 * 120 - 30);
    // Sunday lunch after the change: 12:00 CET is 11:00 UTC.
    expect(at('2026-10-25T10:59:00Z').cap).toBe(-6);
    expect(at('2026-10-25T11:00:00Z').cap).toBe(-20);
  });
});

describe('show schedule: playlists', () => {
  it('an until time of day falls on the local clock across the change: 09:00 CET is 08:00 UTC', () => {
    const s = new ShowSchedule(show('timezone: Europe/Berlin\nplaylist:\n  - { patch: a, until: "09:00" }\n  - { patch: b, for: 1h }\n'));
    const started = utc('2026-10-24T08:00:00Z'); // Saturday 10:00 CEST
    expect(s.entryEnd(s.show.playlist[0]!, started)).toBe(utc('2026-10-25T08:00:00Z'));
    const cursor: PlaylistCursor = { playlist: MAIN_PLAYLIST, index: 0, startedAt: started };
    expect(s.at(utc('2026-10-25T07:59:00Z'), cursor).entry?.patch).toBe('a');
    const after = s.at(utc('2026-10-25T08:00:00Z'), cursor);
    expect(after.entry?.patch).toBe('b');
    expect(after.cursor).toStrictEqual({ playlist: MAIN_PLAYLIST, index: 1, startedAt: utc('2026-10-25T08:00:00Z') });
  });

  it('a threshold entry moves on once its stream is past the value, after playing a minute at least', () => {
    const s = new ShowSchedule(show('playlist:\n  - { patch: a, until: { stream: co2, above: 420 } }\n  - { patch: b, for: 10m }\n'));
    const t0 = utc('2026-06-01T12:00:00Z');
    const c0 = s.at(t0, undefined).cursor;
    expect(c0).toStrictEqual({ playlist: MAIN_PLAYLIST, index: 0, startedAt: t0 });
    const co2 = (v: number) => (name: string) => (name === 'co2' ? v : undefined);
    expect(s.at(t0 + 30_000, c0, co2(500)).entry?.patch).toBe('a'); // too early
    expect(s.at(t0 + 5 * MIN, c0, co2(410)).entry?.patch).toBe('a');
    expect(s.at(t0 + 5 * MIN, c0).entry?.patch).toBe('a'); // no value yet
    const moved = s.at(t0 + 5 * MIN, c0, co2(421));
    expect(moved.entry?.patch).toBe('b');
    expect(moved.cursor!.startedAt).toBe(t0 + 5 * MIN);
    expect(MIN_THRESHOLD_PLAY_MS).toBe(MIN);
    // b plays 10 minutes, then a again.
    expect(s.at(t0 + 15 * MIN, moved.cursor, co2(421)).entry?.patch).toBe('a');
  });

  it('a cursor from long ago catches up on schedule (whole cycles skipped); a cursor of another playlist starts over', () => {
    const s = new ShowSchedule(show('playlist:\n  - { patch: a, for: 10m }\n  - { patch: b, for: 20m }\n'));
    const t0 = utc('2026-06-01T00:00:00Z');
    const old: PlaylistCursor = { playlist: MAIN_PLAYLIST, index: 0, startedAt: t0 };
    // 3 days + 15 minutes later: 144 whole cycles, then 15 minutes into the cycle → b, started at minute 10.
    const now = s.at(t0 + 3 * 1440 * MIN + 15 * MIN, old);
    expect(now.entry?.patch).toBe('b');
    expect(now.cursor!.startedAt).toBe(t0 + 3 * 1440 * MIN + 10 * MIN);
    const other = s.at(t0 + MIN, { playlist: 'gone', index: 3, startedAt: t0 });
    expect(other.cursor).toStrictEqual({ playlist: MAIN_PLAYLIST, index: 0, startedAt: t0 + MIN });
  });

  it('rules by month, season (hemisphere) and cron pick playlists; the first match wins', () => {
    const text = `
timezone: UTC
hemisphere: south
playlist: [{ patch: main }]
playlists:
  lunch: [{ patch: lunch }]
  july: [{ patch: july }]
  summer: [{ patch: summer }]
schedule:
  rules:
    - { playlist: lunch, cron: "* 12-13 * * 1-5" }
    - { playlist: july, months: [jul] }
    - { playlist: summer, season: [summer] }
`;
    const s = new ShowSchedule(show(text));
    expect(s.at(utc('2026-07-06T12:30:45Z'), undefined).entry?.patch).toBe('lunch'); // Monday, seconds ignored
    expect(s.at(utc('2026-07-04T12:30:00Z'), undefined).entry?.patch).toBe('july'); // Saturday
    expect(s.at(utc('2026-01-10T09:00:00Z'), undefined).entry?.patch).toBe('summer'); // southern summer
    expect(s.at(utc('2026-04-10T09:00:00Z'), undefined).entry?.patch).toBe('main');
    expect([0, 2, 5, 8, 11].map((m) => seasonOf(m, 'north'))).toStrictEqual(['winter', 'spring', 'summer', 'autumn', 'winter']);
  });

  it('localTime reads the site clock: 2026-03-29 02:30 does not exist in Berlin, 01:59 UTC is 03:59 CEST', () => {
    expect(localTime(utc('2026-03-29T00:59:00Z'), 'Europe/Berlin')).toMatchObject({ day: 29, minute: 1 * 60 + 59, weekday: 0 });
    expect(localTime(utc('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toMatchObject({ minute: 3 * 60 });
    expect(localTime(utc('2026-03-29T01:00:00Z'), 'America/New_York')).toMatchObject({ day: 28, minute: 21 * 60 });
  });
});
