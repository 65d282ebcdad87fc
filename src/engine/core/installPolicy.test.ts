import { describe, expect, it } from 'vitest';
import { INSTALL_TIMINGS, InstallPolicy, installPolicy, LevelCapFollower, SilenceWatch } from './installPolicy.ts';
import { parseShowText } from './showSchema.ts';
import { ShowSchedule } from './showSchedule.ts';

const LIST = ['a', 'b', 'c'];

describe('install policy', () => {
  it('a crash loop skips the patch for a while: the next entry plays, and after skipFor the patch gets another chance', () => {
    const p = new InstallPolicy({ restart: { initial: 0.25, crashLoop: { count: 3, within: 60 } }, skipFor: 600 });
    expect(p.failed(0, 'a', 'crash', LIST)).toMatchObject({ patch: 'a', skipped: false, delay: 0.25 });
    expect(p.failed(10, 'a', 'crash', LIST)).toMatchObject({ patch: 'a', skipped: false, delay: 0.5 });
    expect(p.failed(20, 'a', 'crash', LIST)).toMatchObject({ patch: 'b', skipped: true, fallback: false, delay: 1, failures: 3 });
    expect(p.isSkipped(599, 'a')).toBe(true);
    expect(p.choose(599, LIST).patch).toBe('b');
    expect(p.choose(620, LIST).patch).toBe('a');
  });

  it('every entry skipped: the fallback; no fallback: the first entry again (never nothing)', () => {
    const p = new InstallPolicy({ restart: { crashLoop: { count: 1, within: 60 } } });
    p.failed(0, 'a', 'crash', LIST, 'safe');
    p.failed(1, 'b', 'crash', LIST, 'safe');
    expect(p.failed(2, 'c', 'crash', LIST, 'safe')).toMatchObject({ patch: 'safe', fallback: true });
    // The fallback crash-looping too is tried again, with backoff, never skipped.
    expect(p.failed(3, 'safe', 'crash', LIST, 'safe')).toMatchObject({ patch: 'safe', fallback: true, skipped: false });
    const q = new InstallPolicy({ restart: { crashLoop: { count: 1, within: 60 } } });
    for (const x of LIST) q.failed(0, x, 'crash', LIST);
    expect(q.choose(1, LIST)).toStrictEqual({ patch: 'a', fallback: false });
  });

  it('a missing device is retried soon and capped (the restart policy\'s deviceMax), is never blamed on the patch, and starts over once healthy', () => {
    const p = installPolicy();
    const delays = [0, 1, 2, 3, 4, 5].map((i) => p.failed(i, 'a', 'device', LIST));
    expect(delays.map((d) => d.delay)).toStrictEqual([0, 0.25, 0.5, 1, 1, 1]);
    expect(delays.every((d) => d.patch === 'a' && !d.skipped && d.failures === 0)).toBe(true);
    expect(p.isSkipped(6, 'a')).toBe(false);
    p.started(7);
    expect(p.failed(7 + INSTALL_TIMINGS.restart.healthyAfter, 'a', 'device', LIST).delay).toBe(0);
    expect(p.counts.device).toBe(7);
  });

  it('a failure that is no crash loop restarts the patch that failed, even when it is not the first candidate', () => {
    const p = new InstallPolicy({ restart: { crashLoop: { count: 3, within: 60 } } });
    expect(p.failed(0, 'b', 'crash', LIST)).toMatchObject({ patch: 'b', skipped: false, fallback: false });
    expect(p.failed(1, 'x', 'hang', LIST, 'safe')).toMatchObject({ patch: 'x', skipped: false });
    // Default candidates: the failing patch alone; in a crash loop with a fallback, the fallback.
    const q = new InstallPolicy({ restart: { crashLoop: { count: 1, within: 60 } } });
    expect(q.failed(0, 'x', 'crash', undefined, 'safe')).toMatchObject({ patch: 'safe', skipped: true, fallback: true });
  });
});

describe('silence watch', () => {
  it('silence past what the entry allows: re-arm, then restart if still silent after the grace', () => {
    const w = new SilenceWatch(-60, 0.5);
    const verdicts: string[] = [];
    for (let t = 0; t <= 12; t += 0.25) verdicts.push(`${t}:${w.sample(t, -90, true, 10)}`);
    expect(verdicts.filter((v) => !v.endsWith(':ok'))).toStrictEqual(['10:rearm', '10.5:restart']);
    // Counted from the end of the allowed 10 s to the restart; the new session's silence starts a new count.
    expect(w.unplannedSeconds).toBeCloseTo(0.5, 6);
  });

  it('sound back after a re-arm, or silence while the show should not sound: nothing to do', () => {
    const w = new SilenceWatch(-60, 0.5);
    expect(w.sample(0, -90, true, 1)).toBe('ok');
    expect(w.sample(1, -90, true, 1)).toBe('rearm');
    expect(w.sample(1.25, -20, true, 1)).toBe('ok');
    expect(w.sample(2, -90, true, 1)).toBe('ok');
    for (let t = 2; t < 100; t++) expect(w.sample(t, -120, false, 1)).toBe('ok');
    expect([w.rearms, w.restarts]).toStrictEqual([1, 0]);
  });
});

describe('level cap follower (quiet hours reach the session)', () => {
  // Berlin leaves summer time on Sunday 2026-10-25: 12:00 local is 10:00 UTC before, 11:00 UTC after.
  const parsed = parseShowText(
    'timezone: Europe/Berlin\nmaxLevel: -6\nplaylist:\n  - { patch: a, for: 30m }\nschedule:\n  quiet:\n    - { from: "12:00", to: "14:00", maxLevel: -20 }\n    - { from: "23:00", to: "01:00", maxLevel: -1 }\n',
    'show.yaml',
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  const schedule = new ShowSchedule(parsed.show);

  it('over three days with a fake clock: a command when quiet hours begin and end, at the right minutes, never above maxLevel', () => {
    const caps = new LevelCapFollower(parsed.show.maxLevel);
    const sentAt: Array<[string, number]> = [];
    let sessionCap = Infinity;
    const from = Date.parse('2026-10-23T22:00:00Z');
    for (let t = from; t < from + 3 * 24 * 60 * 60_000; t += 60_000) {
      const want = caps.want(schedule.plan(t).levelCap);
      if (want !== undefined) {
        caps.sent(want);
        sessionCap = want;
        sentAt.push([new Date(t).toISOString().slice(0, 16), want]);
      }
      // The session's cap is the schedule's at every minute, and never above the show's maxLevel.
      expect(sessionCap).toBe(Math.min(-6, schedule.plan(t).levelCap));
      expect(sessionCap).toBeLessThanOrEqual(-6);
    }
    expect(sentAt).toStrictEqual([
      ['2026-10-23T22:00', -6],
      ['2026-10-24T10:00', -20], // Sat 12:00 CEST
      ['2026-10-24T12:00', -6],
      ['2026-10-25T11:00', -20], // Sun 12:00 CET, after the change
      ['2026-10-25T13:00', -6],
      ['2026-10-26T11:00', -20],
      ['2026-10-26T13:00', -6],
    ]);
  });

  it('a send that failed is asked again; the same cap twice is sent once', () => {
    const caps = new LevelCapFollower(-6);
    expect(caps.want(-20)).toBe(-20);
    expect(caps.want(-20)).toBe(-20); // not taken yet
    caps.sent(-20);
    expect(caps.want(-20)).toBeUndefined();
    expect(caps.want(0)).toBe(-6);
    expect(caps.cap).toBe(-20);
  });
});
